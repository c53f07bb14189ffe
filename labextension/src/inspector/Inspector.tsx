/**
 * The inspector: the selected node's params (controls generated from its spec in the
 * `catalogue` trait), its status and error in full, and the graph's global parameters
 * (`@name`), which can be added, edited (value and limits) and removed.
 * Every change is a `set_param` / `set_global` / `remove_global` edit op.
 */
import { useState } from 'react';
import type { EditOp, GlobalParamJSON, JSONValue, NodeSpecJSON } from '../protocol';
import { formatSeconds, parseTyped, statusTitle } from '../widget/format';
import { useNodeStatus, useStudio, useTrait } from '../widget/hooks';
import { refsOf } from '../editor/convert';
import { NumberControl, ParamField, TextField } from './fields';

function useCommit() {
  const { studio, ui } = useStudio();
  return async (ops: EditOp[]) => {
    const ack = await studio.edit(ops);
    if (!ack.ok) {
      ui.toast('error', ack.error || 'the kernel refused this change');
    }
  };
}

function NodeInspector({ nodeId }: { nodeId: string }) {
  const graph = useTrait('graph');
  const catalogue = useTrait('catalogue');
  const status = useNodeStatus(nodeId);
  const commit = useCommit();
  const node = graph.nodes.find(n => n.id === nodeId);
  if (!node) {
    return <p className="bfl-empty">Node {nodeId} is no longer in the graph.</p>;
  }
  const spec: NodeSpecJSON | undefined = catalogue.find(s => s.type === node.type);
  const kind = status?.status ?? 'idle';
  const connected = Object.entries(node.inputs ?? {}).flatMap(([input, value]) =>
    refsOf(value).map(ref => `${input} ← ${ref.nodeId}.${ref.socketId}`)
  );
  return (
    <section className="bfl-inspector__node" aria-label={`Parameters of ${nodeId}`}>
      <header className="bfl-inspector__header">
        <div className="bfl-inspector__title">{node.label || spec?.label || node.type}</div>
        <div className="bfl-inspector__type">
          {node.type} · {nodeId}
        </div>
        <div className={`bfl-inspector__status bfl-badge bfl-badge--${kind}`} title={statusTitle(status)}>
          {kind === 'idle' ? 'not run' : kind}
          {status?.seconds !== undefined && kind === 'ok' ? ` · ${formatSeconds(status.seconds)}` : ''}
        </div>
      </header>
      {status?.error ? (
        <div className={`bfl-error-box${kind === 'skipped' ? ' bfl-error-box--muted' : ''}`} role="alert">
          <strong>{status.error.code}</strong>
          <div>{status.error.message}</div>
        </div>
      ) : null}
      {spec?.description ? <p className="bfl-inspector__desc">{spec.description}</p> : null}
      {!spec ? <p className="bfl-error-box">Unknown node type {node.type}: is its node pack installed?</p> : null}
      {connected.length ? <div className="bfl-inspector__links">{connected.join(' · ')}</div> : null}
      {(spec?.params ?? []).map(p => (
        <ParamField
          key={`${nodeId}.${p.name}`}
          owner={nodeId}
          spec={p}
          value={node.params?.[p.name]}
          units={graph.units}
          onCommit={value => void commit([{ op: 'set_param', id: nodeId, name: p.name, value }])}
        />
      ))}
      {spec && spec.params.length === 0 ? <p className="bfl-empty">This node has no parameters.</p> : null}
    </section>
  );
}

function GlobalRow({ name, param }: { name: string; param: GlobalParamJSON }) {
  const commit = useCommit();
  const [limitsOpen, setLimitsOpen] = useState(false);
  const numeric = typeof param.value === 'number';
  const set = (patch: Partial<GlobalParamJSON>) => {
    const next = { ...param, ...patch };
    void commit([
      {
        op: 'set_global',
        name,
        value: next.value,
        min: next.min ?? null,
        max: next.max ?? null,
        step: next.step ?? null,
        unit: next.unit ?? null
      }
    ]);
  };
  const limit = (text: string): number | undefined => {
    const v = parseTyped(text, undefined);
    return typeof v === 'number' ? v : undefined;
  };
  return (
    <div className="bfl-global" data-global={name}>
      <div className="bfl-field__label" title={param.description}>
        <span className="bfl-global__name">@{name}</span>
        {param.description ? <span className="bfl-field__limits">{param.description}</span> : null}
        <button
          type="button"
          className="bfl-icon-button"
          aria-label={`Edit the limits of @${name}`}
          aria-expanded={limitsOpen}
          title="Limits and unit"
          onClick={() => setLimitsOpen(!limitsOpen)}
        >
          ⋯
        </button>
        <button
          type="button"
          className="bfl-icon-button"
          aria-label={`Remove @${name}`}
          title="Remove this parameter"
          onClick={() => void commit([{ op: 'remove_global', name }])}
        >
          ×
        </button>
      </div>
      {numeric ? (
        <NumberControl
          value={param.value as number}
          spec={{ min: param.min, max: param.max, step: param.step }}
          unit={param.unit ?? ''}
          label={`@${name}`}
          onCommit={value => set({ value })}
        />
      ) : (
        <TextField monospace label={`@${name}`} value={JSON.stringify(param.value)} onCommit={text => set({ value: parseTyped(text, undefined) })} />
      )}
      {limitsOpen ? (
        <div className="bfl-global__limits">
          {(['min', 'max', 'step'] as const).map(key => (
            <label key={key}>
              <span>{key}</span>
              <TextField
                className="bfl-input bfl-input--number"
                label={`${key} of @${name}`}
                value={param[key] === undefined ? '' : String(param[key])}
                onCommit={text => set({ [key]: limit(text) })}
              />
            </label>
          ))}
          <label>
            <span>unit</span>
            <TextField className="bfl-input bfl-input--number" label={`unit of @${name}`} value={param.unit ?? ''} onCommit={text => set({ unit: text || undefined })} />
          </label>
        </div>
      ) : null}
    </div>
  );
}

function GlobalsPanel() {
  const graph = useTrait('graph');
  const commit = useCommit();
  const { ui } = useStudio();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const params = Object.entries(graph.parameters ?? {});
  const add = () => {
    const trimmed = name.trim().replace(/^@/, '');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(trimmed)) {
      ui.toast('warning', `parameter name "${name}" must be an identifier (letters, digits, _)`);
      return;
    }
    const parsed: JSONValue = value.trim() === '' ? 0 : parseTyped(value, undefined);
    void commit([{ op: 'set_global', name: trimmed, value: parsed }]);
    setName('');
    setValue('');
  };
  return (
    <section className="bfl-globals" aria-label="Global parameters">
      <h3 className="bfl-inspector__heading">Parameters</h3>
      {params.length === 0 ? <p className="bfl-empty">No global parameters. Use them in params as @name.</p> : null}
      {params.map(([n, p]) => (
        <GlobalRow key={n} name={n} param={p} />
      ))}
      <form
        className="bfl-globals__add"
        onSubmit={event => {
          event.preventDefault();
          add();
        }}
      >
        <input className="bfl-input" aria-label="New parameter name" placeholder="name" value={name} onChange={e => setName(e.target.value)} />
        <input className="bfl-input bfl-input--number" aria-label="New parameter value" placeholder="value" value={value} onChange={e => setValue(e.target.value)} />
        <button type="submit" className="bfl-tool" aria-label="Add a global parameter">
          Add
        </button>
      </form>
    </section>
  );
}

export function Inspector() {
  const selected = useTrait('selected');
  return (
    <aside className="bfl-inspector" aria-label="Inspector">
      {selected.length === 1 ? (
        <NodeInspector nodeId={selected[0]} />
      ) : (
        <p className="bfl-empty">
          {selected.length > 1 ? `${selected.length} nodes selected.` : 'Select a node to edit its parameters.'}
        </p>
      )}
      <GlobalsPanel />
    </aside>
  );
}
