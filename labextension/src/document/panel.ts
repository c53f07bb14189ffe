/**
 * A `.bflow.json` file opened as a Studio tab, backed by a kernel.
 *
 * The document's context owns the file and a kernel session (the widget factory asks for a
 * Python kernel; the kernel's working directory is the file's folder). The panel executes
 * `brepflow_lab.widgets.open(FILE, document_mode=True)` in that kernel through an output
 * area whose renderers are bound to an ipywidgets widget manager for the kernel, so the
 * Studio is the very same anywidget a notebook shows.
 *
 * Keeping JupyterLab's document in step (so File → Save, the dirty dot and Revert work):
 * the Studio front-end, when it finds itself inside this panel, dispatches DOM events
 *   - `brepflow-lab:graph` {graph}: the `graph` trait changed → the panel writes it into
 *     the document model (which marks the tab dirty unless it equals the file);
 *   - `brepflow-lab:save` (cancelable): Save was pressed in the Studio → `context.save()`.
 * The kernel never writes the file in document mode (its autosave is off), so there is one
 * writer. When the file changes on disk by other means (Revert, reload), the Studio is
 * reopened from the file. Errors (a kernel without brepflow-lab, an invalid file) show in
 * the panel, with the traceback.
 *
 * With real-time collaboration (jupyter-collaboration installed; the document model is then a
 * shared {@link GraphModel}), the room on the server is the source of truth and saves the file:
 * the panel writes nothing into the model and never reopens on file changes. Instead it opens
 * the Studio with `collaborative=True` and relays Y updates between the room's document and the
 * kernel's replica ({@link YRelay}; the design is in brepflow_lab/collab/replica.py). Each tab
 * has its own kernel (the factory sets `shouldReuse: false`): two tabs on one file used to share
 * the file's kernel session, and the second tab's open call closed the first tab's Studio —
 * the blank tab of issue 13. If the server's room is not a graph (brepflow-lab's `bflow`
 * jupyter_ydoc entry point missing from the server's environment), the tab says so and the
 * Studio does not open.
 */
import { registerWidgetManager } from '@jupyter-widgets/jupyterlab-manager';
import { PathExt } from '@jupyterlab/coreutils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { OutputAreaModel, SimplifiedOutputArea } from '@jupyterlab/outputarea';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Kernel } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { PanelLayout, Widget } from '@lumino/widgets';
import { isGraphModel } from '../collab/model';
import { IWidgetModel, YRelay } from '../collab/relay';
import { openCode } from '../tokens';

export const GRAPH_EVENT = 'brepflow-lab:graph';
export const SAVE_EVENT = 'brepflow-lab:save';

const WIDGET_VIEW_MIMETYPE = 'application/vnd.jupyter.widget-view+json';

function sleep(ms: number): Promise<undefined> {
  return new Promise(resolve => setTimeout(() => resolve(undefined), ms));
}

/** Resolves when the kernel's websocket is connected (at most 30 s). */
function connected(kernel: Kernel.IKernelConnection): Promise<void> {
  if (kernel.connectionStatus === 'connected') {
    return Promise.resolve();
  }
  return new Promise(resolve => {
    const timer = setTimeout(done, 30000);
    function done(): void {
      clearTimeout(timer);
      kernel.connectionStatusChanged.disconnect(onChange);
      resolve();
    }
    function onChange(_: unknown, status: Kernel.ConnectionStatus): void {
      if (status === 'connected') {
        done();
      }
    }
    kernel.connectionStatusChanged.connect(onChange);
  });
}

type JSONish = null | boolean | number | string | JSONish[] | { [key: string]: JSONish };

/** Key-order-insensitive JSON equality (1 == 1.0, as JSON.parse sees them). */
export function sameJSON(a: JSONish, b: JSONish): boolean {
  if (a === b) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  if (Array.isArray(a)) {
    const bb = b as JSONish[];
    return a.length === bb.length && a.every((v, i) => sameJSON(v, bb[i]));
  }
  const ao = a as Record<string, JSONish>;
  const bo = b as Record<string, JSONish>;
  const ak = Object.keys(ao);
  const bk = Object.keys(bo);
  return ak.length === bk.length && ak.every(k => k in bo && sameJSON(ao[k], bo[k]));
}

function parse(text: string): JSONish | undefined {
  try {
    return JSON.parse(text) as JSONish;
  } catch {
    return undefined;
  }
}

export class StudioPanel extends Widget {
  private _context: DocumentRegistry.Context;
  private _rendermime: IRenderMimeRegistry;
  private _outputModel = new OutputAreaModel({ trusted: true });
  private _output: SimplifiedOutputArea;
  private _status = new Widget();
  private _manager: IDisposable | null = null;
  private _lastText: string | null = null;
  private _saving = false;
  private _restarting = false;
  private _opening: Promise<void> | null = null;
  private _kernel: Kernel.IKernelConnection | null = null;
  private _relay: YRelay | null = null;
  private _orphanChecked = false;

  constructor(options: { context: DocumentRegistry.Context; rendermime: IRenderMimeRegistry }) {
    super();
    this.addClass('bfl-DocumentPanel');
    this._context = options.context;
    // our own copy: the widget manager binds its renderer factory to this registry
    this._rendermime = options.rendermime.clone();
    this._output = new SimplifiedOutputArea({ model: this._outputModel, rendermime: this._rendermime });
    this._output.addClass('bfl-DocumentPanel-output');
    this._status.addClass('bfl-DocumentPanel-status');
    this._status.node.setAttribute('role', 'status');
    this._status.node.setAttribute('aria-live', 'polite');
    const layout = new PanelLayout();
    layout.addWidget(this._status);
    layout.addWidget(this._output);
    this.layout = layout;
    this.node.addEventListener(GRAPH_EVENT, this._onGraph as EventListener);
    this.node.addEventListener(SAVE_EVENT, this._onSaveRequest);
    this._context.saveState.connect(this._onSaveState, this);
    this._context.fileChanged.connect(this._onFileChanged, this);
    this._setStatus('Starting a Python kernel for the Studio…');
    void this._start();
  }

  get context(): DocumentRegistry.Context {
    return this._context;
  }

  /** Execute the open call again (after a kernel restart, a revert, or on request). */
  reload(): Promise<void> {
    return this._open();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.node.removeEventListener(GRAPH_EVENT, this._onGraph as EventListener);
    this.node.removeEventListener(SAVE_EVENT, this._onSaveRequest);
    this._relay?.dispose();
    this._relay = null;
    this._manager?.dispose();
    this._manager = null;
    this._output.dispose();
    this._outputModel.dispose();
    super.dispose();
  }

  private _setStatus(text: string, level: 'info' | 'error' = 'info'): void {
    this._status.node.textContent = text;
    this._status.node.dataset.level = level;
    this._status.setHidden(!text);
  }

  private async _start(): Promise<void> {
    const session = this._context.sessionContext;
    try {
      await this._context.ready;
      await session.ready;
    } catch (error) {
      this._setStatus(`Could not open the file: ${(error as Error).message}`, 'error');
      return;
    }
    if (this.isDisposed) {
      return;
    }
    const model = this._context.model;
    if (isGraphModel(model) && !model.sharedModel.loaded) {
      const text =
        'This file was not loaded as a shared BrepFlow graph: the Jupyter server has no `bflow` document ' +
        'type (brepflow-lab’s jupyter_ydoc entry point is missing from the environment the server runs in). ' +
        'Install brepflow-lab there and restart the server; the Studio stays closed so nothing is lost.';
      console.error(`BrepFlow Lab: ${text}`);
      this._setStatus(text, 'error');
      return;
    }
    this._lastText = this._context.model.toString();
    session.kernelChanged.connect(() => void this._onKernel(), this);
    session.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting') {
        this._restarting = true;
        this._setStatus('The kernel is restarting…');
      } else if (status === 'idle' && this._restarting) {
        this._restarting = false;
        void this._open();
      } else if (status === 'dead') {
        this._setStatus('The kernel died. Restart it (Kernel menu) to reopen the Studio.', 'error');
      }
    }, this);
    await this._onKernel();
  }

  private async _onKernel(): Promise<void> {
    const session = this._context.sessionContext;
    const kernel = session.session?.kernel ?? null;
    if (!kernel) {
      this._setStatus(
        'No kernel. Select a Python kernel where brepflow-lab is installed (Kernel → Change Kernel) to open the Studio.',
        'error'
      );
      return;
    }
    if (kernel === this._kernel) {
      return;
    }
    this._kernel = kernel;
    this._forgetOrphanedSession();
    // the widget manager reloads every widget's state when the kernel connection turns
    // 'connected': let that happen before the Studio exists (see _widgetsRestored)
    await connected(kernel);
    if (!this._manager) {
      // one ipywidgets manager for this document's kernel; the context adapter keeps the
      // manager from reading or writing notebook metadata (a graph file has none)
      const adapter = {
        sessionContext: session,
        saveState: this._context.saveState,
        model: { getMetadata: () => undefined, setMetadata: () => undefined }
      } as unknown as Parameters<typeof registerWidgetManager>[0];
      this._manager = registerWidgetManager(adapter, this._rendermime, [][Symbol.iterator]());
      await this._widgetsRestored();
    }
    await this._open();
  }

  /**
   * Wait until the new widget manager has loaded the kernel's widget states. Its reply
   * re-applies every model's full state; had the Studio been created before it, a user's
   * first edit (say, a selection) could be overwritten by that stale snapshot. The manager
   * is reached through a widget renderer of our rendermime (ipywidgets 8 keeps it in a
   * private promise); if that ever changes we simply do not wait (bounded to 10 s anyway).
   */
  private async _widgetsRestored(): Promise<void> {
    try {
      const renderer = this._rendermime.createRenderer({ mimeType: WIDGET_VIEW_MIMETYPE } as any) as any;
      const manager = await Promise.race([renderer?._manager?.promise, sleep(10000)]);
      renderer?.dispose?.();
      if (!manager || manager.restoredStatus || !manager.restored) {
        return;
      }
      await Promise.race([
        new Promise<void>(resolve => {
          const done = () => {
            manager.restored.disconnect(done);
            resolve();
          };
          manager.restored.connect(done);
        }),
        sleep(10000)
      ]);
    } catch {
      // no manager to wait for: open anyway
    }
  }

  private _open(): Promise<void> {
    if (this._opening) {
      return this._opening;
    }
    const run = async () => {
      const session = this._context.sessionContext;
      if (!session.session?.kernel) {
        return;
      }
      this._setStatus('Opening the Studio…');
      this._outputModel.clear();
      const collaborative = isGraphModel(this._context.model);
      this._relay?.dispose();
      this._relay = null;
      const code = openCode(PathExt.basename(this._context.localPath), collaborative);
      try {
        // like OutputArea.execute, but the Studio is not kept in the kernel's Out history
        const future = session.session.kernel.requestExecute({ code, stop_on_error: true, store_history: false });
        this._output.future = future;
        const reply = await future.done;
        if (this.isDisposed) {
          return;
        }
        if (reply && reply.content.status !== 'ok') {
          this._setStatus('The Studio could not open this file: the error is shown below.', 'error');
          return;
        }
        if (collaborative) {
          await this._attachRelay();
        }
        this._setStatus('');
      } catch (error) {
        this._setStatus(`The Studio could not start: ${(error as Error).message}`, 'error');
      }
    };
    this._opening = run().finally(() => {
      this._opening = null;
    });
    return this._opening;
  }

  /**
   * Each tab has its own kernel session, so a page reload would leave the previous page's
   * session running with nobody attached (the tab's shutdown-on-close never ran). The
   * session id is remembered in this browser tab's sessionStorage; after a reload, the one
   * left behind is shut down. (Only on a reload: a duplicated browser tab copies
   * sessionStorage, and its original is still using that kernel.)
   */
  private _forgetOrphanedSession(): void {
    const session = this._context.sessionContext;
    const id = session.session?.id;
    if (!id) {
      return;
    }
    const key = `brepflow-lab:studio-session:${this._context.path}`;
    try {
      const previous = window.sessionStorage.getItem(key);
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      if (previous && previous !== id && navigation?.type === 'reload' && !this._orphanChecked) {
        void session.sessionManager.shutdown(previous).catch(() => undefined);
      }
      this._orphanChecked = true;
      window.sessionStorage.setItem(key, id);
    } catch {
      // no sessionStorage (privacy mode): nothing to remember
    }
  }

  /** Connect the Studio's kernel replica to the room's shared document. */
  private async _attachRelay(): Promise<void> {
    const model = this._context.model;
    if (!isGraphModel(model)) {
      return;
    }
    let modelId: string | undefined;
    for (let i = 0; i < this._outputModel.length; i++) {
      const view = this._outputModel.get(i).data[WIDGET_VIEW_MIMETYPE] as { model_id?: string } | undefined;
      modelId = view?.model_id ?? modelId;
    }
    const renderer = this._rendermime.createRenderer(WIDGET_VIEW_MIMETYPE) as any;
    const manager = await renderer?._manager?.promise;
    renderer?.dispose?.();
    if (!modelId || !manager) {
      throw new Error('the Studio widget was not found, so it cannot join the shared document');
    }
    const widget = (await manager.get_model(modelId)) as IWidgetModel;
    if (!this.isDisposed) {
      this._relay = new YRelay(model.sharedModel, widget);
    }
  }

  /** The Studio's graph changed: mirror it into the document (dirty unless equal to it). */
  private _onGraph = (event: CustomEvent<{ graph: JSONish }>): void => {
    event.stopPropagation();
    if (isGraphModel(this._context.model)) {
      return; // the shared document follows the kernel's replica (YRelay), not this event
    }
    const graph = event.detail?.graph;
    if (!graph || typeof graph !== 'object') {
      return;
    }
    const model = this._context.model;
    const current = parse(model.toString());
    if (current !== undefined && sameJSON(current, graph)) {
      return;
    }
    const text = JSON.stringify(graph, null, 2) + '\n';
    this._lastText = text;
    model.fromString(text);
    model.dirty = true; // the shared model does not flag programmatic changes itself
  };

  private _onSaveRequest = (event: Event): void => {
    event.preventDefault();
    event.stopPropagation();
    void this._context.save();
  };

  private _onSaveState(_: unknown, state: DocumentRegistry.SaveState): void {
    if (state === 'started') {
      this._saving = true;
    } else if (state === 'completed' || state === 'failed') {
      this._saving = false;
      if (state === 'completed') {
        this._lastText = this._context.model.toString();
      }
    }
  }

  private _onFileChanged(): void {
    if (isGraphModel(this._context.model)) {
      return; // the room merges changes on disk; the relay brings them to the Studio
    }
    if (this._saving || this._lastText === null) {
      return;
    }
    // Revert / reload from disk: the document now holds the file; reopen the Studio on it.
    const text = this._context.model.toString();
    const before = this._lastText === null ? undefined : parse(this._lastText);
    const now = parse(text);
    this._lastText = text;
    if (before === undefined || now === undefined || !sameJSON(before, now)) {
      void this._open();
    }
  }
}
