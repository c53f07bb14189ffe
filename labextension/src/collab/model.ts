/**
 * The document model of a `.bflow.json` file in collaboration: a thin wrapper of the shared
 * {@link YGraphDoc} (`collaborative = true`, content type `bflow`, file format `text`), so the
 * document manager asks the collaborative drive for a room of that type. The server's room
 * loads and saves the file through Python's YGraph; this model never holds file text.
 */
import { DocumentChange } from '@jupyter/ydoc';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { Contents } from '@jupyterlab/services';
import { IChangedArgs } from '@jupyterlab/coreutils';
import { ISignal, Signal } from '@lumino/signaling';
import { CONTENT_TYPE, YGraphDoc } from './ydoc';

export const MODEL_NAME = 'brepflow-graph';

export class GraphModel implements DocumentRegistry.IModel {
  readonly collaborative = true;
  readonly sharedModel: YGraphDoc;
  readonly defaultKernelName = '';
  readonly defaultKernelLanguage = 'python';
  readOnly = false;

  constructor(sharedModel?: YGraphDoc) {
    this.sharedModel = sharedModel ?? new YGraphDoc();
    this.sharedModel.changed.connect(this._onSharedChange, this);
  }

  /** The room's `dirty` state (set on a change, cleared when the server saved) marks the tab. */
  private _onSharedChange(_: unknown, change: DocumentChange): void {
    const dirty = change.stateChange?.find(c => c.name === 'dirty');
    if (dirty !== undefined) {
      this.dirty = !!dirty.newValue;
    }
    if (change.stateChange === undefined || change.stateChange.length === 0 || Object.keys(change).length > 1) {
      this._contentChanged.emit();
    }
  }

  get contentChanged(): ISignal<this, void> {
    return this._contentChanged;
  }

  get stateChanged(): ISignal<this, IChangedArgs<any>> {
    return this._stateChanged;
  }

  get dirty(): boolean {
    return this._dirty;
  }

  set dirty(value: boolean) {
    if (value !== this._dirty) {
      const old = this._dirty;
      this._dirty = value;
      this._stateChanged.emit({ name: 'dirty', oldValue: old, newValue: value });
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Not file text: the projection is Python's. The raw shared state, for debugging. */
  toString(): string {
    return JSON.stringify(this.sharedModel.getSource());
  }

  /** The room loads the file on the server; nothing to do here. */
  fromString(): void {
    // the document manager does not call this for collaborative models
  }

  toJSON(): any {
    return this.sharedModel.getSource();
  }

  fromJSON(): void {
    // see fromString
  }

  initialize(): void {
    // nothing
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.sharedModel.dispose();
    Signal.clearData(this);
  }

  private _dirty = false;
  private _disposed = false;
  private _contentChanged = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, IChangedArgs<any>>(this);
}

export class GraphModelFactory implements DocumentRegistry.IModelFactory<GraphModel> {
  readonly collaborative = true;
  readonly name = MODEL_NAME;
  readonly contentType: Contents.ContentType = CONTENT_TYPE;
  readonly fileFormat: Contents.FileFormat = 'text';

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    this._disposed = true;
  }

  preferredLanguage(): string {
    return 'python';
  }

  createNew(options: DocumentRegistry.IModelOptions<any>): GraphModel {
    const shared = options.sharedModel;
    if (shared !== undefined && !(shared instanceof YGraphDoc)) {
      // the collaborative drive has no factory for our content type: say so, never edit a text copy
      throw new Error(
        'BrepFlow Lab: the collaborative drive gave a shared model that is not a graph document ' +
          '(the `bflow` document factory is not registered)'
      );
    }
    return new GraphModel(shared as YGraphDoc | undefined);
  }

  private _disposed = false;
}

/** Whether a document model is a shared graph (a Studio tab in collaboration). */
export function isGraphModel(model: DocumentRegistry.IModel): model is GraphModel {
  return model instanceof GraphModel;
}
