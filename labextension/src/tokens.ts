/**
 * Names shared by the JupyterLab plugins of BrepFlow Lab: file type, widget factory,
 * commands, and the Python call a Studio document runs in its kernel.
 */
import { LabIcon } from '@jupyterlab/ui-components';

export const PLUGIN_ID = 'brepflow-lab:plugin';

/** File type of BrepFlow graphs (`*.bflow.json`; longer extensions win over `.json`). */
export const FILE_TYPE = 'brepflow-graph';
export const FILE_EXTENSION = '.bflow.json';

/** Widget factory that opens a graph file in a Studio tab backed by a kernel. */
export const FACTORY = 'BrepFlow Studio';

export namespace CommandIDs {
  export const createNew = 'brepflow-lab:new-graph';
  export const reloadStudio = 'brepflow-lab:reload-studio';
}

/** A new, empty graph in the .bflow.json format (what "New BrepFlow graph" writes). */
export function emptyGraph(): string {
  const graph = {
    version: '0.1.0',
    units: 'mm',
    tolerance: 0.001,
    metadata: { created: new Date().toISOString(), author: 'BrepFlow Lab' },
    nodes: [],
    edges: []
  };
  return JSON.stringify(graph, null, 2) + '\n';
}

/**
 * The Python a Studio document executes in its kernel (cwd = the file's folder).
 *
 * `document_mode=True`: JupyterLab owns the file (File → Save, dirty indicator, revert), so
 * the kernel-side autosave must be off and the Studio never writes the file itself. Running
 * it again (after a revert) closes the previous Studio first, so no background thread is
 * left behind; `display` (not the cell's value) keeps it out of the Out history. The kernel
 * is this document's own, with one front-end: browser edits need no echo back
 * (`JUPYTER_WIDGETS_ECHO`, read when ipywidgets is first imported).
 */
export function openCode(fileName: string, collaborative = false): string {
  return [
    "__import__('os').environ.setdefault('JUPYTER_WIDGETS_ECHO', '0')",
    'from brepflow_lab.widgets import open as _brepflow_open',
    'from IPython.display import display as _brepflow_display',
    "if '_brepflow_studio' in globals():",
    '    _brepflow_studio.close()',
    `_brepflow_studio = _brepflow_open(${JSON.stringify(fileName)}, document_mode=True${collaborative ? ', collaborative=True' : ''})`,
    '_brepflow_display(_brepflow_studio)'
  ].join('\n');
}

export const brepflowIcon = new LabIcon({
  name: 'brepflow-lab:graph',
  svgstr: `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2 3 7v10l9 5 9-5V7l-9-5zm0 2.3 6.7 3.7L12 11.7 5.3 8 12 4.3zM5 9.7l6 3.3v6.6l-6-3.3V9.7zm8 9.9V13l6-3.3v6.6l-6 3.3z"/>
  </g>
  <g class="jp-icon-accent0" fill="#fff" stroke="#616161" stroke-width="1">
    <circle cx="5" cy="19" r="2.2"/><circle cx="19" cy="19" r="2.2"/>
  </g>
</svg>`
});
