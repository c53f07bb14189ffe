/**
 * Showing and hiding nodes in the viewer.
 *
 * The kernel decides which nodes it tessellates (by default the terminal shape nodes) and
 * marks each mesh `visible`; the browser adds two things: `view.hidden` (parts the user hid,
 * a two-way trait) and `preview` requests (show a node that is not terminal, e.g. the Box
 * under a Shell). The eye toggle on a node and in the part tree use this one function.
 */
import type { StudioModel } from './model';
import type { UiStore } from './hooks';

export function togglePreview(studio: StudioModel, ui: UiStore, id: string): void {
  const mesh = ui.meshes.get(id);
  const view = studio.get('view');
  const hidden = new Set(view.hidden ?? []);
  if (mesh?.visible) {
    if (ui.previewed.has(id)) {
      // shown only because we asked: stop asking (it is not one of the kernel's defaults)
      studio.send({ type: 'preview', node: id, on: false });
      ui.setPreviewed(id, false);
      return;
    }
    hidden.add(id);
    studio.set('view', { ...view, hidden: Array.from(hidden) });
    return;
  }
  if (hidden.delete(id)) {
    // the user hid it: un-hiding is enough (the kernel shows what it showed before)
    studio.set('view', { ...view, hidden: Array.from(hidden) });
    return;
  }
  if (!mesh || !mesh.kernelVisible) {
    studio.send({ type: 'preview', node: id, on: true });
    ui.setPreviewed(id, true);
  }
}
