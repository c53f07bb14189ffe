/** Small formatting and parsing helpers shared by the editor and the inspector. */
import type { JSONValue, NodeStatus, ParamSpecJSON } from '../protocol';

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const rounded = Math.round(value * 1e6) / 1e6;
  return String(rounded);
}

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) {
    return '';
  }
  if (seconds < 1) {
    return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  }
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

export function isVector(value: unknown): value is { x?: JSONValue; y?: JSONValue; z?: JSONValue } {
  return !!value && typeof value === 'object' && !Array.isArray(value) && ('x' in value || 'y' in value || 'z' in value);
}

/** True when a param holds text that the kernel resolves: `@name` or an expression. */
export function isExpression(value: unknown, spec: ParamSpecJSON | undefined): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  if (!spec) {
    return value.startsWith('@');
  }
  return spec.kind === 'number' || spec.kind === 'integer' || spec.kind === 'vector' || spec.kind === 'boolean';
}

export function unitOf(spec: ParamSpecJSON | undefined, graphUnits: string): string {
  if (!spec) {
    return '';
  }
  if (spec.dimension === 'length') {
    return graphUnits;
  }
  if (spec.dimension === 'angle') {
    return '°';
  }
  return '';
}

export function formatValue(value: JSONValue | undefined, spec?: ParamSpecJSON): string {
  if (value === undefined) {
    return spec && spec.default !== undefined && spec.default !== null ? formatValue(spec.default) : '—';
  }
  if (value === null) {
    return '—';
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'boolean') {
    return value ? 'yes' : 'no';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (isVector(value)) {
    const part = (v: JSONValue | undefined) => (typeof v === 'number' ? formatNumber(v) : v === undefined ? '0' : String(v));
    return `(${part(value.x)}, ${part(value.y)}, ${part(value.z)})`;
  }
  if (Array.isArray(value)) {
    return `[${value.map(v => formatValue(v)).join(', ')}]`;
  }
  return JSON.stringify(value);
}

/**
 * Text typed by the user → a param value: numbers stay numbers, anything else is kept as
 * text (an `@ref` or an expression such as `@L - 2*@wall`, resolved by the kernel).
 */
export function parseTyped(text: string, spec: ParamSpecJSON | undefined): JSONValue {
  const trimmed = text.trim();
  if (spec?.kind === 'string' || spec?.kind === 'enum') {
    return text;
  }
  if (spec?.kind === 'boolean') {
    if (/^(true|yes|on|1)$/i.test(trimmed)) {
      return true;
    }
    if (/^(false|no|off|0)$/i.test(trimmed)) {
      return false;
    }
    return trimmed;
  }
  if (trimmed === '' && spec?.optional) {
    return null;
  }
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed)) {
    const number = Number(trimmed);
    return spec?.kind === 'integer' && Number.isInteger(number) ? Math.trunc(number) : number;
  }
  return trimmed;
}

export function statusTitle(status: NodeStatus | undefined): string {
  if (!status) {
    return 'not evaluated yet';
  }
  const time = formatSeconds(status.seconds);
  switch (status.status) {
    case 'ok':
      return `ok${time ? `: computed in ${time}` : ''}`;
    case 'cached':
      return 'cached: result reused from the cache';
    case 'failed':
      return status.error ? `failed: ${status.error.code}: ${status.error.message}` : 'failed';
    case 'skipped':
      return status.error ? `skipped: ${status.error.message}` : 'skipped: an input it needs failed';
    case 'cancelled':
      return 'cancelled: superseded by a newer change';
    case 'running':
      return 'running…';
    default:
      return String(status.status);
  }
}
