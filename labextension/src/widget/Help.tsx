/** The keyboard help overlay ("?") and the toast stack. */
import { useEffect, useRef } from 'react';
import { useStudio, useToasts } from './hooks';

export const SHORTCUTS: [string, string][] = [
  ['?', 'show or hide this help'],
  ['/ or N', 'search the node palette (Enter adds the first match)'],
  ['Ctrl+Z', 'undo'],
  ['Ctrl+Shift+Z, Ctrl+Y', 'redo'],
  ['Ctrl+S', 'save the graph'],
  ['Ctrl+Enter', 'evaluate now'],
  ['Delete, Backspace', 'delete the selected nodes and links'],
  ['Ctrl+C, Ctrl+X, Ctrl+V', 'copy, cut, paste nodes (with the links between them)'],
  ['Ctrl+D', 'duplicate the selection'],
  ['Ctrl+A', 'select every node'],
  ['Shift+drag, Shift/Ctrl+click', 'select several nodes'],
  ['Tab, Enter', 'focus a node, a port or a link; select the node or link'],
  ['Enter on a port', 'list the ports it can connect to (type to filter, ↑↓ choose, Enter connects, Esc cancels)'],
  ['Delete on a link', 'remove that link'],
  ['Arrow keys', 'move the selected nodes (Shift: faster)'],
  ['F (editor)', 'fit the graph in the editor (at a readable size: the selection or the start when it is too big)'],
  ['Esc', 'clear the selection, close overlays'],
  ['F (viewer)', 'fit the model in the view (the camera otherwise stays where you leave it)'],
  ['0 / 1 / 3 / 7', 'isometric / front / right / top view'],
  ['O, E, G', 'orthographic ↔ perspective, edges, grid'],
  ['click a face or edge', 'pick it and show its selector (copy button)'],
  ['M (viewer)', 'Measure: click a face, edge, vertex (an edge\'s end) or solid; Shift+click a second; Esc clears'],
  ['drag / right-drag / wheel', 'orbit / pan / zoom']
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialog.current?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div className="bfl-help__backdrop" onClick={onClose}>
      <div
        ref={dialog}
        className="bfl-help"
        role="dialog"
        aria-modal="true"
        aria-label="Keyboard shortcuts"
        tabIndex={-1}
        onClick={event => event.stopPropagation()}
        onKeyDown={event => {
          if (event.key === 'Escape' || event.key === '?') {
            event.preventDefault();
            event.stopPropagation();
            onClose();
          }
        }}
      >
        <div className="bfl-help__header">
          <h2>Keyboard shortcuts</h2>
          <button type="button" className="bfl-icon-button" aria-label="Close the help" onClick={onClose}>
            ×
          </button>
        </div>
        <table className="bfl-help__table">
          <tbody>
            {SHORTCUTS.map(([keys, what]) => (
              <tr key={keys}>
                <th scope="row">
                  <kbd>{keys}</kbd>
                </th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="bfl-help__note">
          Shortcuts act only while the Studio has focus, so they never reach the notebook (no cell is deleted by
          mistake).
        </p>
      </div>
    </div>
  );
}

export function Toasts() {
  const toasts = useToasts();
  const { ui } = useStudio();
  if (!toasts.length) {
    return null;
  }
  return (
    <div className="bfl-toasts" aria-live="assertive">
      {toasts.map(t => (
        <div key={t.id} className={`bfl-toast bfl-toast--${t.level}`} role={t.level === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button type="button" className="bfl-icon-button" aria-label="Dismiss" onClick={() => ui.dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
