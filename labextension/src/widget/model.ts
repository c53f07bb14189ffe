/**
 * A typed face over the anywidget model: traits, edits with acknowledgements, custom messages.
 *
 * Edits are optimistic in the editor and confirmed by the kernel: every `edit` carries a
 * sequence number and Python answers with `{"type": "ack", seq, ok, error?}`. An edit that is
 * not answered within `ackTimeoutMs` resolves as failed so the UI never waits forever.
 */
import type {
  AckMessage,
  BrowserMessage,
  EditOp,
  KernelMessage,
  MeshesMessage,
  Traits
} from '../protocol';

/** The part of anywidget's model API the Studio uses. */
export interface AnyModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

export type TraitName = keyof Traits;

export interface Ack {
  ok: boolean;
  error?: string;
}

type MeshListener = (message: MeshesMessage, buffers: DataView[]) => void;

const DEFAULTS: Traits = {
  graph: { version: '0.1.0', units: 'mm', tolerance: 0.001, nodes: [], edges: [] },
  catalogue: [],
  status: {},
  evaluating: false,
  selected: [],
  pick: {},
  pick_info: {},
  measurement: {},
  view: {},
  dirty: false,
  title: 'untitled',
  message: {},
  height: 640,
  panes: 'auto'
};

/** A User Timing mark; entries are capped so a long session does not accumulate them. */
export function mark(name: string): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') {
    return;
  }
  if (performance.getEntriesByName(name, 'mark').length > 200) {
    performance.clearMarks(name);
  }
  performance.mark(name);
}

function asDataView(buffer: unknown): DataView {
  if (buffer instanceof DataView) {
    return buffer;
  }
  if (ArrayBuffer.isView(buffer)) {
    return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  if (buffer instanceof ArrayBuffer) {
    return new DataView(buffer);
  }
  throw new Error('a mesh buffer is neither an ArrayBuffer nor a view of one');
}

export class StudioModel {
  readonly ackTimeoutMs = 15000;
  private _seq = 0;
  private _pending = new Map<number, { resolve: (ack: Ack) => void; timer: number }>();
  private _meshListeners = new Set<MeshListener>();
  private _lastMeshes: { message: MeshesMessage; buffers: DataView[] }[] = [];
  private _disposers: (() => void)[] = [];
  private _snapshots = new Map<TraitName, unknown>();

  constructor(readonly model: AnyModel) {
    const onCustom = (content: KernelMessage, buffers?: unknown[]) => this._onCustom(content, buffers ?? []);
    model.on('msg:custom', onCustom);
    this._disposers.push(() => model.off('msg:custom', onCustom));
    // User Timing marks (cheap) let benchmarks and DevTools split an edit's latency:
    // brepflow:ack → brepflow:graph → brepflow:meshes-received → brepflow:meshes-drawn
    const onGraph = () => mark('brepflow:graph');
    model.on('change:graph', onGraph);
    this._disposers.push(() => model.off('change:graph', onGraph));
  }

  /**
   * A trait's value, with a stable identity until it really changes. The widget manager
   * may re-apply the full state (e.g. when a view reconnects); equal values then arrive as
   * new objects without a change event, and React effects must not mistake them for edits
   * (a re-sent empty `selected` would otherwise drop the user's fresh selection).
   */
  get<K extends TraitName>(name: K): Traits[K] {
    if (!this._snapshots.has(name)) {
      this._snapshots.set(name, this._read(name));
      const refresh = () => this._snapshots.set(name, this._read(name));
      this.model.on(`change:${name}`, refresh);
      this._disposers.push(() => this.model.off(`change:${name}`, refresh));
    }
    return this._snapshots.get(name) as Traits[K];
  }

  private _read<K extends TraitName>(name: K): Traits[K] {
    const value = this.model.get(name) as Traits[K] | undefined | null;
    return value === undefined || value === null ? DEFAULTS[name] : value;
  }

  /** Set a browser-owned trait (selected, pick, view, panes) and sync it to Python. */
  set<K extends TraitName>(name: K, value: Traits[K]): void {
    this.get(name);
    this.model.set(name, value);
    this._snapshots.set(name, this._read(name));
    this.model.save_changes();
  }

  subscribe(name: TraitName, callback: () => void): () => void {
    this.get(name); // the snapshot listener is registered first, so it runs first
    const event = `change:${name}`;
    this.model.on(event, callback);
    return () => this.model.off(event, callback);
  }

  send(message: BrowserMessage): void {
    this.model.send(message);
  }

  /** Send edit ops as one undo step; resolves with the kernel's acknowledgement. */
  edit(ops: EditOp[]): Promise<Ack> {
    if (ops.length === 0) {
      return Promise.resolve({ ok: true });
    }
    const seq = ++this._seq;
    return new Promise<Ack>(resolve => {
      const timer = window.setTimeout(() => {
        this._pending.delete(seq);
        resolve({ ok: false, error: 'the kernel did not answer (is it busy or stopped?)' });
      }, this.ackTimeoutMs);
      this._pending.set(seq, { resolve, timer });
      this.model.send({ type: 'edit', ops, seq });
    });
  }

  onMeshes(listener: MeshListener): () => void {
    this._meshListeners.add(listener);
    return () => this._meshListeners.delete(listener);
  }

  /** Mesh messages that arrived before a viewer subscribed (replayed to the first one). */
  takeEarlyMeshes(): { message: MeshesMessage; buffers: DataView[] }[] {
    const early = this._lastMeshes;
    this._lastMeshes = [];
    return early;
  }

  dispose(): void {
    for (const dispose of this._disposers) {
      dispose();
    }
    for (const pending of this._pending.values()) {
      window.clearTimeout(pending.timer);
      pending.resolve({ ok: false, error: 'the Studio was closed' });
    }
    this._pending.clear();
    this._meshListeners.clear();
  }

  private _onCustom(content: KernelMessage, buffers: unknown[]): void {
    if (!content || typeof content !== 'object') {
      return;
    }
    if (content.type === 'ack') {
      mark('brepflow:ack');
      const ack = content as AckMessage;
      const pending = this._pending.get(ack.seq);
      if (pending) {
        window.clearTimeout(pending.timer);
        this._pending.delete(ack.seq);
        pending.resolve({ ok: !!ack.ok, error: ack.error });
      }
    } else if (content.type === 'meshes') {
      mark('brepflow:meshes-received');
      const message = content as MeshesMessage;
      const views = buffers.map(asDataView);
      if (this._meshListeners.size === 0) {
        this._lastMeshes.push({ message, buffers: views });
      }
      for (const listener of this._meshListeners) {
        listener(message, views);
      }
    }
  }
}
