/**
 * The widget factory for `.bflow.json` files: a DocumentWidget whose content is a
 * {@link StudioPanel}. The factory asks the document manager for a kernel (Python,
 * started automatically, shut down when the tab closes), so opening a graph file needs no
 * notebook.
 */
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { brepflowIcon } from '../tokens';
import { StudioPanel } from './panel';

export class StudioDocument extends DocumentWidget<StudioPanel, DocumentRegistry.IModel> {
  constructor(options: DocumentWidget.IOptions<StudioPanel, DocumentRegistry.IModel>) {
    super(options);
    this.addClass('bfl-StudioDocument');
    this.title.icon = brepflowIcon;
  }
}

export class StudioFactory extends ABCWidgetFactory<StudioDocument, DocumentRegistry.IModel> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<StudioDocument>,
    private _rendermime: IRenderMimeRegistry
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): StudioDocument {
    // A Studio needs a Python kernel with brepflow-lab: prefer the Python kernel over
    // whatever default the server has, and start it without asking.
    const preference = context.sessionContext.kernelPreference;
    context.sessionContext.kernelPreference = {
      ...preference,
      language: preference.name ? preference.language : 'python',
      shouldStart: true,
      // its own kernel per tab: two tabs on one file must not share (and close) one Studio
      shouldReuse: false,
      canStart: true,
      autoStartDefault: true,
      shutdownOnDispose: true
    };
    const content = new StudioPanel({ context, rendermime: this._rendermime });
    return new StudioDocument({ content, context });
  }
}
