/**
 * BrepFlow Lab for JupyterLab 4 and Notebook 7.
 *
 * - registers the `.bflow.json` file type and makes the Studio its default viewer: a
 *   double-click opens the graph in a Studio tab backed by a kernel (File → Open With →
 *   Editor still shows the JSON);
 * - "New BrepFlow Graph" (launcher, File → New, command palette) writes an empty graph in
 *   the file browser's folder and opens it;
 * - Studio tabs are restored with the workspace.
 *
 * The Studio itself (editor, viewer, inspector) is the anywidget module the kernel sends,
 * so the document tab and a notebook cell show exactly the same thing.
 *
 * Real-time collaboration: when jupyter-collaboration is installed (its
 * `ICollaborativeContentProvider` is there), graph files open as the shared document type
 * `bflow` (./collab/: the YDocument, the model factory, the relay to the kernel), so every
 * Studio tab on a file shares one live document. Without it the tabs work as before, on the
 * file; the console says which mode is on.
 */
import { ICollaborativeContentProvider } from '@jupyter/collaborative-drive';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { registerRoomLinks } from './collab/link';
import { GraphModelFactory, MODEL_NAME, isGraphModel } from './collab/model';
import { CONTENT_TYPE, YGraphDoc } from './collab/ydoc';
import { StudioDocument, StudioFactory } from './document/factory';
import { CommandIDs, FACTORY, FILE_EXTENSION, FILE_TYPE, PLUGIN_ID, brepflowIcon, emptyGraph } from './tokens';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Open BrepFlow graphs (.bflow.json) in the BrepFlow Lab Studio.',
  autoStart: true,
  requires: [IRenderMimeRegistry, IJupyterWidgetRegistry],
  optional: [ILauncher, IMainMenu, ICommandPalette, ILayoutRestorer, IDefaultFileBrowser, ICollaborativeContentProvider, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    _widgets: unknown,
    launcher: ILauncher | null,
    mainMenu: IMainMenu | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null,
    collaboration: ICollaborativeContentProvider | null,
    notebooks: INotebookTracker | null
  ) => {
    const { commands, docRegistry, serviceManager } = app;

    let collaborative = false;
    if (collaboration && collaboration.sharedModelFactory.collaborative) {
      collaboration.sharedModelFactory.registerDocumentFactory(CONTENT_TYPE, () => new YGraphDoc() as any);
      docRegistry.addModelFactory(new GraphModelFactory());
      collaborative = collaboration.sharedModelFactory.documentFactories.has(CONTENT_TYPE);
      if (!collaborative) {
        console.error('BrepFlow Lab: the shared graph document type could not be registered; Studio tabs edit the file alone');
      } else {
        console.info('BrepFlow Lab: real-time collaboration is on; Studio tabs on one file share one document');
      }
    } else {
      console.info('BrepFlow Lab: real-time collaboration is off (jupyter-collaboration is not installed)');
    }

    docRegistry.addFileType({
      name: FILE_TYPE,
      displayName: 'BrepFlow Graph',
      extensions: [FILE_EXTENSION],
      mimeTypes: ['application/json'],
      contentType: 'file',
      fileFormat: 'text',
      icon: brepflowIcon
    });

    const factory = new StudioFactory(
      {
        name: FACTORY,
        label: 'BrepFlow Studio',
        fileTypes: [FILE_TYPE],
        defaultFor: [FILE_TYPE],
        modelName: collaborative ? MODEL_NAME : 'text',
        preferKernel: true,
        canStartKernel: true,
        shutdownOnClose: true,
        autoStartDefault: true
      },
      rendermime
    );
    if (collaborative) {
      // the document manager asks this content provider (jupyter-collaboration's) for the model
      factory.contentProviderId = 'rtc';
    }
    docRegistry.addWidgetFactory(factory);

    const tracker = new WidgetTracker<StudioDocument>({ namespace: 'brepflow-studio' });
    if (collaborative && collaboration && notebooks) {
      // brepflow_lab.open(path) in a notebook joins the file's live document (collab/link.ts)
      registerRoomLinks(notebooks, collaboration, path => {
        const open = tracker.find(widget => widget.context.path === path);
        return open && isGraphModel(open.context.model) ? open.context.model.sharedModel : undefined;
      });
    }
    factory.widgetCreated.connect((_, widget) => {
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      void tracker.add(widget);
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: 'docmanager:open',
        args: widget => ({ path: widget.context.path, factory: FACTORY }),
        name: widget => widget.context.path
      });
    }

    commands.addCommand(CommandIDs.createNew, {
      label: args => (args.isPalette ? 'New BrepFlow Graph' : args.isLauncher ? 'BrepFlow Graph' : 'BrepFlow Graph'),
      caption: 'Create a new BrepFlow graph (.bflow.json) and open it in the Studio',
      icon: args => (args.isPalette ? undefined : brepflowIcon),
      execute: async args => {
        const cwd = (args.cwd as string | undefined) ?? fileBrowser?.model.path ?? '';
        const created = await serviceManager.contents.newUntitled({ path: cwd, type: 'file', ext: FILE_EXTENSION });
        await serviceManager.contents.save(created.path, { type: 'file', format: 'text', content: emptyGraph() });
        return commands.execute('docmanager:open', { path: created.path, factory: FACTORY });
      }
    });

    commands.addCommand(CommandIDs.reloadStudio, {
      label: 'Reopen the Studio from Its File',
      caption: 'Run the Studio again in this document’s kernel',
      isEnabled: () => tracker.currentWidget !== null,
      execute: () => tracker.currentWidget?.content.reload()
    });

    if (launcher) {
      launcher.add({ command: CommandIDs.createNew, category: 'Other', rank: 10 });
    }
    if (mainMenu) {
      mainMenu.fileMenu.newMenu.addItem({ command: CommandIDs.createNew, rank: 30 });
    }
    if (palette) {
      palette.addItem({ command: CommandIDs.createNew, category: 'BrepFlow Lab', args: { isPalette: true } });
      palette.addItem({ command: CommandIDs.reloadStudio, category: 'BrepFlow Lab' });
    }
  }
};

export default plugin;
