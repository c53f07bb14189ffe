/**
 * Param controls generated from a ParamSpec: sliders with min/max/step/unit for bounded
 * numbers, number fields otherwise, dropdowns for enums, checkboxes, vector fields, and a
 * text field for expressions. A value that is text where a number is expected (`@L`,
 * `@L - 2*@wall`, `10 mm + 0.5 in`) is an expression and shows as text; the ƒx button
 * switches between the two forms.
 *
 * Sliders send while dragging, throttled (the kernel debounces and supersedes running
 * evaluations); incoming values are ignored while the user drags so the thumb never jumps.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { JSONValue, ParamSpecJSON } from '../protocol';
import { formatNumber, isExpression, isVector, parseTyped } from '../widget/format';

const THROTTLE_MS = 60;

export type Commit = (value: JSONValue) => void;

function niceStep(spec: { min?: number; max?: number; step?: number; kind?: string }): number {
  if (spec.step) {
    return spec.step;
  }
  if (spec.kind === 'integer') {
    return 1;
  }
  if (spec.min !== undefined && spec.max !== undefined && spec.max > spec.min) {
    const raw = (spec.max - spec.min) / 200;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    return raw / p >= 5 ? 5 * p : raw / p >= 2 ? 2 * p : p;
  }
  return 0.1;
}

function useThrottled(commit: Commit): [Commit, () => void] {
  const timer = useRef<number | undefined>(undefined);
  const pending = useRef<{ value: JSONValue } | null>(null);
  const last = useRef(0);
  const flush = () => {
    window.clearTimeout(timer.current);
    timer.current = undefined;
    if (pending.current) {
      const { value } = pending.current;
      pending.current = null;
      last.current = performance.now();
      commit(value);
    }
  };
  const throttled: Commit = value => {
    pending.current = { value };
    const wait = THROTTLE_MS - (performance.now() - last.current);
    if (wait <= 0) {
      flush();
    } else if (timer.current === undefined) {
      timer.current = window.setTimeout(flush, wait);
    }
  };
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return [throttled, flush];
}

/** A text field that commits on Enter or blur and resets when the value changes elsewhere. */
export function TextField({
  value,
  onCommit,
  label,
  className,
  placeholder,
  monospace
}: {
  value: string;
  onCommit: (text: string) => void;
  label: string;
  className?: string;
  placeholder?: string;
  monospace?: boolean;
}) {
  const [text, setText] = useState(value);
  // typed by the user and not committed yet: only then may a blur commit, and only then
  // is a value arriving from the kernel kept off the field
  const edited = useRef(false);
  useEffect(() => {
    if (!edited.current) {
      setText(value);
    }
  }, [value]);
  const commit = () => {
    edited.current = false;
    onCommit(text);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      commit();
    } else if (event.key === 'Escape') {
      edited.current = false;
      setText(value);
    }
  };
  return (
    <input
      type="text"
      className={`${className ?? 'bfl-input'}${monospace ? ' bfl-input--mono' : ''}`}
      aria-label={label}
      placeholder={placeholder}
      value={text}
      spellCheck={false}
      onBlur={() => {
        if (edited.current) {
          commit();
        }
      }}
      onChange={event => {
        edited.current = true;
        setText(event.target.value);
      }}
      onKeyDown={onKeyDown}
    />
  );
}

export function NumberControl({
  value,
  spec,
  unit,
  label,
  onCommit
}: {
  value: number | null | undefined;
  spec: { min?: number; max?: number; step?: number; kind?: string; minExclusive?: boolean };
  unit: string;
  label: string;
  onCommit: Commit;
}) {
  const [local, setLocal] = useState<number | null>(value ?? null);
  const dragging = useRef(false);
  const [throttled, flush] = useThrottled(onCommit);
  useEffect(() => {
    if (!dragging.current) {
      setLocal(value ?? null);
    }
  }, [value]);
  const bounded = spec.min !== undefined && spec.max !== undefined;
  const step = niceStep(spec);
  const clampText = (text: string) => {
    const parsed = parseTyped(text, { kind: spec.kind === 'integer' ? 'integer' : 'number' } as ParamSpecJSON);
    return parsed;
  };
  return (
    <div className="bfl-number">
      {bounded ? (
        <input
          type="range"
          className="bfl-slider"
          aria-label={`${label} slider`}
          min={spec.min}
          max={spec.max}
          step={step}
          value={local ?? spec.min}
          onPointerDown={() => (dragging.current = true)}
          onPointerUp={() => {
            dragging.current = false;
            flush();
          }}
          onKeyUp={() => flush()}
          onChange={event => {
            const v = Number(event.target.value);
            setLocal(v);
            throttled(spec.kind === 'integer' ? Math.round(v) : v);
          }}
        />
      ) : null}
      <TextField
        className="bfl-input bfl-input--number"
        label={label}
        value={local === null || local === undefined ? '' : formatNumber(local)}
        onCommit={text => {
          const parsed = clampText(text);
          onCommit(parsed);
        }}
      />
      {unit ? <span className="bfl-unit">{unit}</span> : null}
    </div>
  );
}

export function ParamField({
  spec,
  value,
  units,
  onCommit,
  owner
}: {
  spec: ParamSpecJSON;
  value: JSONValue | undefined;
  units: string;
  onCommit: Commit;
  owner: string;
}) {
  const id = useId();
  const label = spec.label || spec.name;
  const aria = `${label} of ${owner}`;
  const unit = spec.dimension === 'length' ? units : spec.dimension === 'angle' ? '°' : '';
  const effective = value === undefined ? spec.default : value;
  const expression = isExpression(effective, spec);
  const canBeExpression = spec.kind === 'number' || spec.kind === 'integer' || spec.kind === 'vector' || spec.kind === 'boolean';
  const [exprMode, setExprMode] = useState(expression);
  useEffect(() => setExprMode(expression), [expression]);

  let control: React.ReactNode;
  if (exprMode) {
    control = (
      <TextField
        monospace
        label={`${aria} (expression)`}
        placeholder="@name, 2*@L + 5, 10 mm + 0.5 in"
        value={typeof effective === 'string' ? effective : effective === null || effective === undefined ? '' : JSON.stringify(effective)}
        onCommit={text => onCommit(parseTyped(text, spec))}
      />
    );
  } else if (spec.kind === 'number' || spec.kind === 'integer') {
    control = (
      <NumberControl
        value={typeof effective === 'number' ? effective : null}
        spec={spec}
        unit={unit}
        label={aria}
        onCommit={onCommit}
      />
    );
  } else if (spec.kind === 'boolean') {
    control = (
      <input
        type="checkbox"
        aria-label={aria}
        checked={effective === true}
        onChange={event => onCommit(event.target.checked)}
      />
    );
  } else if (spec.kind === 'enum') {
    const choices = spec.choices ?? [];
    control = (
      <select className="bfl-input" aria-label={aria} value={String(effective ?? '')} onChange={event => onCommit(event.target.value)}>
        {choices.includes(String(effective)) ? null : <option value={String(effective ?? '')}>{String(effective ?? '—')}</option>}
        {choices.map(choice => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  } else if (spec.kind === 'vector') {
    const vec = isVector(effective) ? effective : { x: 0, y: 0, z: 0 };
    control = (
      <div className="bfl-vector">
        {(['x', 'y', 'z'] as const).map(axis => (
          <label key={axis} className="bfl-vector__axis">
            <span>{axis}</span>
            <TextField
              className="bfl-input bfl-input--number"
              label={`${aria} ${axis}`}
              value={typeof vec[axis] === 'number' ? formatNumber(vec[axis] as number) : String(vec[axis] ?? 0)}
              onCommit={text => {
                const part = parseTyped(text, { ...spec, kind: 'number' });
                onCommit({ x: vec.x ?? 0, y: vec.y ?? 0, z: vec.z ?? 0, [axis]: part } as JSONValue);
              }}
            />
          </label>
        ))}
        {unit ? <span className="bfl-unit">{unit}</span> : null}
      </div>
    );
  } else {
    control = (
      <TextField
        label={aria}
        value={effective === null || effective === undefined ? '' : String(effective)}
        onCommit={text => onCommit(text)}
      />
    );
  }

  const limits: string[] = [];
  if (spec.min !== undefined) {
    limits.push(`${spec.minExclusive ? '>' : '≥'} ${spec.min}`);
  }
  if (spec.max !== undefined) {
    limits.push(`≤ ${spec.max}`);
  }
  return (
    <div className={`bfl-field${value === undefined ? ' bfl-field--default' : ''}`} data-param={spec.name}>
      <div className="bfl-field__label" id={id} title={spec.help}>
        <span>{label}</span>
        {limits.length ? <span className="bfl-field__limits">{limits.join(' ')}</span> : null}
        {value !== undefined ? (
          <button
            type="button"
            className="bfl-icon-button"
            aria-label={`Reset ${label} to its default`}
            title={`Reset to the default (${spec.default === null || spec.default === undefined ? 'none' : JSON.stringify(spec.default)})`}
            onClick={() => onCommit(null)}
          >
            ↺
          </button>
        ) : null}
        {canBeExpression ? (
          <button
            type="button"
            className={`bfl-icon-button bfl-fx${exprMode ? ' bfl-fx--on' : ''}`}
            aria-pressed={exprMode}
            aria-label={`Edit ${label} as an expression`}
            title="Expression (@name, arithmetic, units)"
            onClick={() => setExprMode(!exprMode)}
          >
            ƒx
          </button>
        ) : null}
      </div>
      <div className="bfl-field__control" role="group" aria-labelledby={id}>
        {control}
      </div>
      {spec.help ? <div className="bfl-field__help">{spec.help}</div> : null}
    </div>
  );
}
