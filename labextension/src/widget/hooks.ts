/**
 * React bindings for the Studio model: `useTrait` re-renders on one trait; `useNodeStatus`
 * re-renders only the node whose status changed, so a status update on a 500-node graph
 * touches the few nodes that ran instead of all of them.
 */
import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { NodeStatus, Traits } from '../protocol';
import type { StudioModel, TraitName } from './model';

export interface Toast {
  level: 'info' | 'warning' | 'error';
  text: string;
  id: number;
}

export interface MeshState {
  color: string;
  /** shown in the viewer (kernel says visible and the user did not hide it) */
  visible: boolean;
  /** the kernel sends it as visible (terminal node or previewed) */
  kernelVisible: boolean;
  triangles: number;
}

/** UI state shared by the panes (not synced to Python). */
export class UiStore {
  private _listeners = new Set<() => void>();
  private _toasts: Toast[] = [];
  private _toastId = 0;
  private _previewed = new Set<string>();
  private _meshes = new Map<string, MeshState>();

  subscribe = (listener: () => void): (() => void) => {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  };

  get toasts(): Toast[] {
    return this._toasts;
  }

  toast(level: Toast['level'], text: string, ms = 6000): void {
    const id = ++this._toastId;
    this._toasts = [...this._toasts.filter(t => t.text !== text), { level, text, id }].slice(-4);
    this._emit();
    window.setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    const next = this._toasts.filter(t => t.id !== id);
    if (next.length !== this._toasts.length) {
      this._toasts = next;
      this._emit();
    }
  }

  /** Nodes the user asked to preview although they are not terminal. */
  get previewed(): Set<string> {
    return this._previewed;
  }

  setPreviewed(id: string, on: boolean): void {
    const next = new Set(this._previewed);
    if (on) {
      next.add(id);
    } else {
      next.delete(id);
    }
    this._previewed = next;
    this._emit();
  }

  /** The viewer's parts: which nodes have a mesh, its colour and whether it is shown. */
  get meshes(): Map<string, MeshState> {
    return this._meshes;
  }

  setMeshes(meshes: Map<string, MeshState>): void {
    this._meshes = meshes;
    this._emit();
  }

  private _emit(): void {
    for (const listener of this._listeners) {
      listener();
    }
  }
}

/** Per-node status with stable identities: a node re-renders only when its own entry changes. */
export class StatusStore {
  private _byId = new Map<string, NodeStatus>();
  private _listeners = new Map<string, Set<() => void>>();
  private _unsubscribe: () => void;

  constructor(private studio: StudioModel) {
    this._refresh();
    this._unsubscribe = studio.subscribe('status', () => this._refresh());
  }

  get(id: string): NodeStatus | undefined {
    return this._byId.get(id);
  }

  all(): Map<string, NodeStatus> {
    return this._byId;
  }

  subscribe(id: string, listener: () => void): () => void {
    let set = this._listeners.get(id);
    if (!set) {
      set = new Set();
      this._listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set!.delete(listener);
    };
  }

  dispose(): void {
    this._unsubscribe();
    this._listeners.clear();
  }

  private _refresh(): void {
    const incoming = this.studio.get('status') || {};
    const changed: string[] = [];
    for (const [id, status] of Object.entries(incoming)) {
      const previous = this._byId.get(id);
      if (!previous || !sameStatus(previous, status)) {
        this._byId.set(id, status);
        changed.push(id);
      }
    }
    for (const id of Array.from(this._byId.keys())) {
      if (!(id in incoming)) {
        this._byId.delete(id);
        changed.push(id);
      }
    }
    for (const id of changed) {
      for (const listener of this._listeners.get(id) ?? []) {
        listener();
      }
    }
  }
}

function sameStatus(a: NodeStatus, b: NodeStatus): boolean {
  return (
    a.status === b.status &&
    a.seconds === b.seconds &&
    (a.error?.code ?? '') === (b.error?.code ?? '') &&
    (a.error?.message ?? '') === (b.error?.message ?? '')
  );
}

export interface StudioContextValue {
  studio: StudioModel;
  statuses: StatusStore;
  ui: UiStore;
  /** The Studio's root element (keyboard focus, theme detection). */
  root: HTMLElement;
}

export const StudioContext = createContext<StudioContextValue | null>(null);

export function useStudio(): StudioContextValue {
  const value = useContext(StudioContext);
  if (!value) {
    throw new Error('Studio components must be rendered inside <StudioContext.Provider>');
  }
  return value;
}

export function useTrait<K extends TraitName>(name: K): Traits[K] {
  const { studio } = useStudio();
  const subscribe = useCallback((callback: () => void) => studio.subscribe(name, callback), [studio, name]);
  return useSyncExternalStore(subscribe, () => studio.get(name));
}

export function useNodeStatus(id: string): NodeStatus | undefined {
  const { statuses } = useStudio();
  const subscribe = useCallback((callback: () => void) => statuses.subscribe(id, callback), [statuses, id]);
  return useSyncExternalStore(subscribe, () => statuses.get(id));
}

export function useToasts(): Toast[] {
  const { ui } = useStudio();
  return useSyncExternalStore(ui.subscribe, () => ui.toasts);
}

export function usePreviewed(): Set<string> {
  const { ui } = useStudio();
  return useSyncExternalStore(ui.subscribe, () => ui.previewed);
}

export function useMeshes(): Map<string, MeshState> {
  const { ui } = useStudio();
  return useSyncExternalStore(ui.subscribe, () => ui.meshes);
}

/** Is this node shown in the viewer? (re-renders only when that answer changes) */
export function useMeshShown(id: string): boolean {
  const { ui } = useStudio();
  return useSyncExternalStore(ui.subscribe, () => ui.meshes.get(id)?.visible ?? false);
}
