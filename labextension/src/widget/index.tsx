/**
 * The anywidget module of `brepflow_lab.widgets.Studio` (built to
 * brepflow_lab/widgets/static/studio.js + studio.css).
 *
 * One module carries the editor, the viewer and the inspector; `render` mounts them into the
 * output area and returns the cleanup.
 *
 * Keys pressed in the Studio (Delete, D, Ctrl+C, ...) must never reach JupyterLab's
 * notebook shortcuts (D,D deletes the cell). The root carries `data-lm-suppress-shortcuts`
 * and takes focus on pointer-down, but that alone is not enough: Lumino walks up from the
 * focused element and the notebook's command-mode selectors (`... :focus`) match a focused
 * editor node before the attribute is reached. So a capture listener on `window` — which
 * runs before JupyterLab's own (capture, on `document`) — marks keys aimed at the Studio as
 * handled (`preventDefault`), and Lumino skips handled events. Text fields, Tab, F-keys
 * and app-wide chords the Studio does not use (Ctrl+Shift+C, Alt+W, ...) pass through;
 * buttons, sliders and dropdowns get their keyboard action emulated.
 */
import '@xyflow/react/dist/style.css';
import '../../style/studio.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { StatusStore, StudioContext, UiStore } from './hooks';
import { StudioModel, type AnyModel } from './model';
import { Studio } from './Studio';

function isFocusable(el: HTMLElement | null): boolean {
  if (!el) {
    return false;
  }
  return !!el.closest('input, textarea, select, button, a[href], [tabindex]:not([tabindex="-1"]), [contenteditable="true"]');
}

/** Ctrl/Cmd chords the Studio handles itself (the rest stay JupyterLab's). */
const STUDIO_CHORDS = new Set(['z', 'y', 's', 'c', 'v', 'x', 'd', 'a', 'enter']);

function isTextEntry(el: HTMLElement): boolean {
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || el.isContentEditable) {
    return true;
  }
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button', 'submit', 'color'].includes(type);
  }
  return false;
}

function emulateDefault(target: HTMLElement, event: KeyboardEvent): void {
  const key = event.key;
  const tag = target.tagName;
  const type = tag === 'INPUT' ? (target as HTMLInputElement).type : '';
  const pressable =
    tag === 'BUTTON' ||
    tag === 'SUMMARY' ||
    (tag === 'A' && target.hasAttribute('href')) ||
    target.getAttribute('role') === 'button' ||
    ['checkbox', 'radio', 'button', 'submit'].includes(type);
  if (pressable && (key === 'Enter' || key === ' ')) {
    if (!event.repeat) {
      target.click();
    }
    return;
  }
  if (type === 'range') {
    const input = target as HTMLInputElement;
    const before = input.value;
    if (key === 'ArrowRight' || key === 'ArrowUp') {
      input.stepUp();
    } else if (key === 'ArrowLeft' || key === 'ArrowDown') {
      input.stepDown();
    } else if (key === 'PageUp') {
      input.stepUp(10);
    } else if (key === 'PageDown') {
      input.stepDown(10);
    } else if (key === 'Home') {
      input.value = input.min;
    } else if (key === 'End') {
      input.value = input.max;
    }
    if (input.value !== before) {
      // React tracks the value it last saw: set it through the native setter
      const value = input.value;
      input.value = before;
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set?.call(input, value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    return;
  }
  if (tag === 'SELECT' && (key === 'ArrowDown' || key === 'ArrowUp')) {
    const select = target as HTMLSelectElement;
    const index = Math.min(select.options.length - 1, Math.max(0, select.selectedIndex + (key === 'ArrowDown' ? 1 : -1)));
    if (index !== select.selectedIndex) {
      const value = select.options[index].value;
      Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')?.set?.call(select, value);
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }
}

let keyboardGuard = false;

function installKeyboardGuard(): void {
  if (keyboardGuard) {
    return;
  }
  keyboardGuard = true;
  window.addEventListener(
    'keydown',
    event => {
      const target = event.target as HTMLElement | null;
      if (!target || typeof target.closest !== 'function' || !target.closest('.bfl-root')) {
        return;
      }
      if (isTextEntry(target) || event.key === 'Tab' || /^F\d{1,2}$/.test(event.key)) {
        return;
      }
      const chord = event.ctrlKey || event.metaKey || event.altKey;
      if (chord && (event.altKey || !STUDIO_CHORDS.has(event.key.toLowerCase()))) {
        return;
      }
      // A handled event also loses the browser's own action, so do what the control would
      // have done (press a button, step a slider, change a dropdown) ourselves.
      if (!chord) {
        emulateDefault(target, event);
      }
      event.preventDefault();
    },
    true
  );
}

function render({ model, el }: { model: AnyModel; el: HTMLElement }): () => void {
  installKeyboardGuard();
  const studio = new StudioModel(model);
  const statuses = new StatusStore(studio);
  const ui = new UiStore();
  const root = document.createElement('div');
  root.className = 'bfl-root';
  root.setAttribute('data-lm-suppress-shortcuts', 'true');
  root.tabIndex = -1;
  el.classList.add('bfl-host');
  el.appendChild(root);
  // the Studio's element handles the keys (its onKeyDown): focus it, not the bare root
  const focusStudio = () => (root.querySelector<HTMLElement>('.bfl-studio') ?? root).focus({ preventScroll: true });
  const onPointerDown = (event: PointerEvent) => {
    const target = event.target as HTMLElement | null;
    if (!root.contains(document.activeElement) && !isFocusable(target)) {
      focusStudio();
    }
  };
  root.addEventListener('pointerdown', onPointerDown, true);
  // A key or click inside the Studio can remove the focused element (Delete on a node, Enter
  // in an inline field): keep the focus in the Studio, or the next key goes to the notebook.
  const keepFocus = () =>
    window.setTimeout(() => {
      const active = document.activeElement;
      if (root.isConnected && (!active || active === document.body || active === root)) {
        focusStudio();
      }
    }, 0);
  root.addEventListener('keydown', keepFocus);
  root.addEventListener('pointerup', keepFocus);
  const reactRoot = createRoot(root);
  reactRoot.render(
    <StrictMode>
      <StudioContext.Provider value={{ studio, statuses, ui, root }}>
        <Studio />
      </StudioContext.Provider>
    </StrictMode>
  );
  return () => {
    root.removeEventListener('pointerdown', onPointerDown, true);
    root.removeEventListener('keydown', keepFocus);
    root.removeEventListener('pointerup', keepFocus);
    reactRoot.unmount();
    statuses.dispose();
    studio.dispose();
    root.remove();
  };
}

export default { render };
