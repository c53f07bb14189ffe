/**
 * Answers a notebook kernel that wants to join a graph file's live document (the Python side
 * is brepflow_lab/collab/link.py; issue 13, item 5). The kernel opens a comm with target
 * `brepflow-lab:room` and the file's path (relative to the notebook's folder); this opens the
 * file's shared document through jupyter-collaboration (the same room the Studio tabs use:
 * reusing an open tab's document in this page, or a new one) and relays Y updates between it
 * and the kernel's replica with {@link YRelay}, after telling the kernel `{"type": "joined"}`.
 */
import { ICollaborativeContentProvider } from '@jupyter/collaborative-drive';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IWidgetModel, YRelay } from './relay';
import { CONTENT_TYPE, YGraphDoc } from './ydoc';

export const ROOM_TARGET = 'brepflow-lab:room';

/** An open Studio tab's shared document for a server path, if this page has one. */
export type FindOpenDocument = (path: string) => YGraphDoc | undefined;

/** A kernel comm seen as the widget-model interface YRelay speaks. */
function asModel(comm: Kernel.IComm): IWidgetModel & { close(): void } {
  const listeners: ((content: any, buffers?: (ArrayBuffer | DataView)[]) => void)[] = [];
  comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
    for (const listener of listeners) {
      listener(msg.content.data, msg.buffers as (ArrayBuffer | DataView)[] | undefined);
    }
  };
  return {
    send: (content: any, _callbacks?: any, buffers?: ArrayBuffer[] | ArrayBufferView[]) =>
      void comm.send(content, undefined, buffers),
    on: (_event: string, callback: (...args: any[]) => void) => void listeners.push(callback),
    off: (_event: string, callback?: (...args: any[]) => void) => {
      const index = callback ? listeners.indexOf(callback) : -1;
      if (index >= 0) {
        listeners.splice(index, 1);
      }
    },
    close: () => void comm.close()
  };
}

export function registerRoomLinks(
  notebooks: INotebookTracker,
  collaboration: ICollaborativeContentProvider,
  findOpen: FindOpenDocument
): void {
  const registered = new WeakSet<Kernel.IKernelConnection>();
  const register = (kernel: Kernel.IKernelConnection | null | undefined, notebookPath: () => string) => {
    if (!kernel || registered.has(kernel)) {
      return;
    }
    registered.add(kernel);
    kernel.registerCommTarget(ROOM_TARGET, async (comm, msg) => {
      const link = asModel(comm);
      const relative = String((msg.content.data as { path?: string }).path ?? '');
      const path = PathExt.normalize(PathExt.join(PathExt.dirname(notebookPath()), relative));
      try {
        let doc = findOpen(path);
        let owned = false;
        if (!doc) {
          const shared = collaboration.sharedModelFactory.createNew({
            path,
            format: 'text',
            contentType: CONTENT_TYPE,
            collaborative: true
          });
          if (!(shared instanceof YGraphDoc)) {
            throw new Error('the collaborative drive gave no graph document');
          }
          doc = shared;
          owned = true;
          const provider = collaboration.providers.get(`text:${CONTENT_TYPE}:${path}`);
          await provider?.ready;
        }
        if (!doc.loaded) {
          throw new Error(`the server did not load ${path} as a shared graph (no \`bflow\` document type?)`);
        }
        link.send({ type: 'joined' });
        const relay = new YRelay(doc, link);
        comm.onClose = () => {
          relay.dispose();
          if (owned) {
            doc?.dispose();
          }
        };
      } catch (error) {
        console.error(`BrepFlow Lab: a notebook could not join the live document of ${path}:`, error);
        link.close();
      }
    });
  };
  notebooks.widgetAdded.connect((_, panel) => {
    const session = panel.sessionContext;
    const hook = () => register(session.session?.kernel, () => panel.context.path);
    session.kernelChanged.connect(hook);
    void session.ready.then(hook);
  });
}
