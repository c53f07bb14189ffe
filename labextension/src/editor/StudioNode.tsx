/**
 * One graph node in the editor: typed, coloured ports; a status badge (ok / cached / failed,
 * with the error on hover) and compute time; a preview toggle for shape nodes; and the first
 * params inline, editable in place (click the value).
 */
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo, useContext, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { JSONValue, NodeStatus, ParamSpecJSON, PortSpecJSON } from '../protocol';
import { formatSeconds, formatValue, isExpression, parseTyped, statusTitle } from '../widget/format';
import { useMeshShown, useNodeStatus } from '../widget/hooks';
import { UnitsContext, useEditorActions } from './actions';
import { nodeLabel, portName, refsOf, type StudioFlowNode } from './convert';
import { SHAPE_TYPES, categoryColor, portColor } from './ports';

const INLINE_PARAMS = 4;

function StatusBadge({ status }: { status: NodeStatus | undefined }) {
  const kind = status?.status ?? 'idle';
  const text =
    kind === 'ok' ? 'ok' : kind === 'cached' ? 'cached' : kind === 'failed' ? 'failed' : kind === 'running' ? '…' : kind;
  const title = statusTitle(status);
  return (
    <span className={`bfl-badge bfl-badge--${kind}`} title={title} role="status" aria-label={title}>
      {text}
    </span>
  );
}

function Port({ port, kind, nodeId, owner }: { port: PortSpecJSON; kind: 'in' | 'out'; nodeId: string; owner: string }) {
  const actions = useEditorActions();
  const color = portColor(port.type);
  const type = `${port.type}${port.multiple ? ', many' : ''}`;
  const name = portName(kind, port.name, owner, nodeId, type);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    // Enter or Space on a focused port: pick what to connect it to from a list
    if ((event.key === 'Enter' || event.key === ' ') && !event.repeat) {
      event.preventDefault();
      event.stopPropagation();
      actions.startConnect(nodeId, port.name, kind, event.currentTarget);
    }
  };
  return (
    <div className={`bfl-port bfl-port--${kind}`} title={port.help ? `${name}: ${port.help}` : name}>
      <Handle
        type={kind === 'in' ? 'target' : 'source'}
        position={kind === 'in' ? Position.Left : Position.Right}
        id={port.name}
        className={`bfl-handle${port.multiple ? ' bfl-handle--multiple' : ''}`}
        style={{ background: color, borderColor: color }}
        role="button"
        tabIndex={0}
        aria-label={name}
        aria-haspopup="dialog"
        aria-keyshortcuts="Enter"
        onKeyDown={onKeyDown}
        data-port-type={port.type}
      />
      <span className="bfl-port__name" aria-hidden="true">
        {port.name}
      </span>
      <span className="bfl-port__type" style={{ color }} aria-hidden="true">
        {port.type}
        {port.multiple ? '[]' : ''}
      </span>
    </div>
  );
}

function InlineParam({
  nodeId,
  spec,
  value,
  units
}: {
  nodeId: string;
  spec: ParamSpecJSON;
  value: JSONValue | undefined;
  units: string;
}) {
  const actions = useEditorActions();
  const [editing, setEditing] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (editing) {
      input.current?.focus();
      input.current?.select();
    }
  }, [editing]);
  const shown = formatValue(value, spec);
  const unit = spec.dimension === 'length' ? units : spec.dimension === 'angle' ? '°' : '';
  const editable = spec.kind !== 'vector' && spec.kind !== 'enum' && spec.kind !== 'boolean';
  const commit = (text: string) => {
    setEditing(false);
    const next = parseTyped(text, spec);
    if (JSON.stringify(next) !== JSON.stringify(value ?? spec.default)) {
      actions.setParam(nodeId, spec.name, next);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    event.stopPropagation();
    if (event.key === 'Enter') {
      commit((event.target as HTMLInputElement).value);
    } else if (event.key === 'Escape') {
      setEditing(false);
    }
  };
  const expression = isExpression(value, spec);
  return (
    <div className="bfl-node__param">
      <span className="bfl-node__param-name" title={spec.help}>
        {spec.label || spec.name}
      </span>
      {editing ? (
        <input
          ref={input}
          className="bfl-node__param-input nodrag nowheel"
          defaultValue={value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value)}
          aria-label={`${spec.label || spec.name} of ${nodeId}`}
          onKeyDown={onKeyDown}
          onBlur={event => commit(event.target.value)}
        />
      ) : (
        <button
          type="button"
          className={`bfl-node__param-value nodrag${value === undefined ? ' bfl-node__param-value--default' : ''}${
            expression ? ' bfl-node__param-value--expr' : ''
          }`}
          disabled={!editable}
          title={editable ? `${shown} — click to edit` : shown}
          aria-label={`${spec.label || spec.name} of ${nodeId}: ${shown}${unit ? ` ${unit}` : ''}`}
          onClick={() => editable && setEditing(true)}
        >
          {shown}
          {unit && typeof value !== 'string' && shown !== '—' ? <span className="bfl-unit"> {unit}</span> : null}
        </button>
      )}
    </div>
  );
}

function PreviewToggle({ nodeId }: { nodeId: string }) {
  const actions = useEditorActions();
  const shown = useMeshShown(nodeId);
  return (
    <button
      type="button"
      className={`bfl-icon-button bfl-preview nodrag${shown ? ' bfl-preview--on' : ''}`}
      aria-pressed={shown}
      aria-label={`${shown ? 'hide' : 'show'} ${nodeId} in the viewer`}
      title={shown ? 'shown in the viewer — click to hide' : 'preview this node in the viewer'}
      onClick={event => {
        event.stopPropagation();
        actions.togglePreview(nodeId);
      }}
    >
      <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        <path
          d="M8 3C4.5 3 1.7 5.3 1 8c.7 2.7 3.5 5 7 5s6.3-2.3 7-5c-.7-2.7-3.5-5-7-5zm0 8a3 3 0 110-6 3 3 0 010 6z"
          fill="currentColor"
          opacity={shown ? 1 : 0.35}
        />
      </svg>
    </button>
  );
}

function StudioNodeView({ id, data, selected }: NodeProps<StudioFlowNode>) {
  const status = useNodeStatus(id);
  const units = useContext(UnitsContext);
  const { node, spec } = data;
  const category = spec?.category ?? node.type.split('::')[0];
  const label = nodeLabel(node, spec);
  const inputs: PortSpecJSON[] =
    spec?.inputs ??
    Object.keys(node.inputs ?? {}).map(name => ({ name, type: 'Any', multiple: refsOf(node.inputs?.[name]).length > 1, help: '' }));
  const outputs: PortSpecJSON[] = spec?.outputs ?? [{ name: 'shape', type: 'Any', multiple: false, help: '' }];
  const params = spec?.params ?? [];
  const hasShape = outputs.some(o => SHAPE_TYPES.has(o.type));
  const kind = status?.status ?? 'idle';
  const time = formatSeconds(status?.seconds);
  const failed = kind === 'failed' && status?.error;
  return (
    <div
      className={`bfl-node bfl-node--${kind}${selected ? ' bfl-node--selected' : ''}${spec ? '' : ' bfl-node--unknown'}`}
      style={{ ['--bfl-category' as string]: categoryColor(category) }}
      data-node-id={id}
      data-status={kind}
    >
      <div className="bfl-node__header">
        <span className="bfl-node__title" title={spec?.description || node.type}>
          {label}
        </span>
        {time && kind === 'ok' ? <span className="bfl-node__time">{time}</span> : null}
        <StatusBadge status={status} />
        {hasShape ? <PreviewToggle nodeId={id} /> : null}
      </div>
      <div className="bfl-node__type">
        {node.type} · <span className="bfl-node__id">{id}</span>
        {spec ? null : <span className="bfl-node__warn"> · unknown type</span>}
      </div>
      <div className="bfl-node__ports">
        <div className="bfl-node__inputs">
          {inputs.map(p => (
            <Port key={p.name} port={p} kind="in" nodeId={id} owner={label} />
          ))}
        </div>
        <div className="bfl-node__outputs">
          {outputs.map(p => (
            <Port key={p.name} port={p} kind="out" nodeId={id} owner={label} />
          ))}
        </div>
      </div>
      {params.length ? (
        <div className="bfl-node__params">
          {params.slice(0, INLINE_PARAMS).map(p => (
            <InlineParam key={p.name} nodeId={id} spec={p} value={node.params?.[p.name]} units={units} />
          ))}
          {params.length > INLINE_PARAMS ? (
            <div className="bfl-node__more">+{params.length - INLINE_PARAMS} more in the inspector</div>
          ) : null}
        </div>
      ) : null}
      {failed ? (
        <div className="bfl-node__error" title={`${status!.error!.code}: ${status!.error!.message}`} role="alert">
          <strong>{status!.error!.code}</strong> {status!.error!.message}
        </div>
      ) : null}
    </div>
  );
}

export const StudioNode = memo(StudioNodeView);
