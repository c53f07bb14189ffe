/**
 * Relays binary Y updates between a room's shared graph (this tab's {@link YGraphDoc},
 * synced by jupyter-collaboration over its websocket) and the replica in the Studio's kernel
 * (brepflow_lab/collab/replica.py), over the Studio widget's comm as custom messages
 * `{"type": "y-update"}` with the update as the one binary buffer.
 *
 * - attach: the room's whole state goes to the kernel (its replica starts empty and takes the
 *   room's state: the kernel never writes a second copy of the file into the room);
 * - room -> kernel: every update of the room doc not made by this relay;
 * - kernel -> room: updates the kernel sends (this person's edits and undos) are applied to
 *   the room doc with this relay as origin, so they are not sent back.
 *
 * The widget model is ipywidgets' (`send(content, callbacks, buffers)`, `msg:custom`).
 */
import * as Y from 'yjs';
import { YGraphDoc } from './ydoc';

export const Y_UPDATE = 'y-update';

export interface IWidgetModel {
  send(content: any, callbacks?: any, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(event: string, callback: (...args: any[]) => void, context?: any): void;
  off(event: string, callback?: (...args: any[]) => void, context?: any): void;
}

function bytes(buffer: ArrayBuffer | DataView | Uint8Array): Uint8Array {
  if (buffer instanceof Uint8Array) {
    return buffer;
  }
  if (buffer instanceof DataView) {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  return new Uint8Array(buffer);
}

export class YRelay {
  constructor(
    private _doc: YGraphDoc,
    private _model: IWidgetModel
  ) {
    this._doc.ydoc.on('update', this._onRoomUpdate);
    this._model.on('msg:custom', this._onKernelMessage);
    this._send(Y.encodeStateAsUpdate(this._doc.ydoc));
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._doc.ydoc.off('update', this._onRoomUpdate);
    this._model.off('msg:custom', this._onKernelMessage);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  private _send(update: Uint8Array): void {
    this._model.send({ type: Y_UPDATE }, undefined, [update]);
  }

  private _onRoomUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== this) {
      this._send(update);
    }
  };

  private _onKernelMessage = (content: any, buffers?: (ArrayBuffer | DataView)[]): void => {
    if (!content || content.type !== Y_UPDATE || !buffers) {
      return;
    }
    for (const buffer of buffers) {
      Y.applyUpdate(this._doc.ydoc, bytes(buffer), this);
    }
  };

  private _disposed = false;
}
