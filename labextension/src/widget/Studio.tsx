/**
 * The Studio layout: toolbar, graph editor | viewer | inspector, toasts and help.
 *
 * Errors stay local: a failing node shows a red badge and its message on the node and in the
 * inspector; only kernel notices (`message` trait) and refused edits pop up as toasts.
 * Themes follow JupyterLab (all colours are --jp-* variables); React Flow and the 3D view
 * switch to their dark palettes when JupyterLab's theme is dark.
 */
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react';
import type { LayoutChoice } from '../protocol';
import { GraphEditor } from '../editor/GraphEditor';
import { Inspector } from '../inspector/Inspector';
import { Viewer } from '../viewer/Viewer';
import { HelpOverlay, Toasts } from './Help';
import { useStudio, useTrait } from './hooks';

/** Events shared with the JupyterLab document panel (labextension/src/document/panel.ts). */
export const SAVE_EVENT = 'brepflow-lab:save';
export const GRAPH_EVENT = 'brepflow-lab:graph';

/**
 * Inside a JupyterLab Studio document, JupyterLab owns the file (Save, dirty dot, Revert):
 * the Studio fills the tab and mirrors its graph into the document with DOM events.
 * The element is attached to the page after `render`, so look for the panel once it is.
 */
function useDocumentMode(root: HTMLElement): boolean {
  const [documentMode, setDocumentMode] = useState(() => !!root.closest('.bfl-DocumentPanel'));
  useEffect(() => {
    let frame = 0;
    let tries = 0;
    const check = () => {
      if (root.isConnected) {
        setDocumentMode(!!root.closest('.bfl-DocumentPanel'));
      } else if (tries++ < 600) {
        frame = requestAnimationFrame(check);
      }
    };
    check();
    return () => cancelAnimationFrame(frame);
  }, [root]);
  return documentMode;
}

function isDarkTheme(): boolean {
  const flag = document.body.dataset.jpThemeLight;
  if (flag === 'true' || flag === 'false') {
    return flag === 'false';
  }
  return !!window.matchMedia?.('(prefers-color-scheme: dark)').matches;
}

function useDarkTheme(): boolean {
  const [dark, setDark] = useState(isDarkTheme);
  useEffect(() => {
    const observer = new MutationObserver(() => setDark(isDarkTheme()));
    observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light', 'data-jp-theme-name'] });
    return () => observer.disconnect();
  }, []);
  return dark;
}

/**
 * Side by side or stacked, when the layout is "auto". The width measured is the Studio's own
 * (less the inspector, a choice of the user's), which the choice does not change: the Studio
 * has a fixed height, so a change of layout never shows or hides a scrollbar of the notebook,
 * and nothing else moves its width. A band of 80 px (wider than any scrollbar) keeps the
 * choice from flipping on a width that wobbles around one threshold.
 */
export const STACK_BELOW = 680;
export const SIDE_BY_SIDE_ABOVE = 760;
/** The inspector's widest (style/studio.css); the threshold is on the Studio's width less this. */
const INSPECTOR_WIDTH = 280;

export function autoStacked(available: number, stacked: boolean): boolean {
  if (available < STACK_BELOW) {
    return true;
  }
  if (available > SIDE_BY_SIDE_ABOVE) {
    return false;
  }
  return stacked;
}

const LAYOUTS: { value: LayoutChoice; label: string }[] = [
  { value: 'auto', label: 'Auto layout' },
  { value: 'side-by-side', label: 'Side by side' },
  { value: 'stacked', label: 'Stacked' },
  { value: 'editor', label: 'Editor only' },
  { value: 'viewer', label: 'Viewer only' }
];

function StatusSummary() {
  const status = useTrait('status');
  const evaluating = useTrait('evaluating');
  let failed = 0;
  let ran = 0;
  let cached = 0;
  let seconds = 0;
  for (const s of Object.values(status)) {
    if (s.status === 'failed') {
      failed++;
    } else if (s.status === 'ok') {
      ran++;
      seconds += s.seconds ?? 0;
    } else if (s.status === 'cached') {
      cached++;
    }
  }
  return (
    <span className="bfl-summary" role="status" aria-live="polite">
      {evaluating ? (
        <span className="bfl-summary__busy">
          <span className="bfl-spinner" aria-hidden="true" /> evaluating…
        </span>
      ) : (
        <>
          {ran ? <span>{ran} ran</span> : null}
          {cached ? <span>{cached} cached</span> : null}
          {failed ? <span className="bfl-summary__failed">{failed} failed</span> : null}
          {ran ? <span>{seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`}</span> : null}
        </>
      )}
    </span>
  );
}

export function Studio() {
  const { studio, ui, root } = useStudio();
  const title = useTrait('title');
  const dirty = useTrait('dirty');
  const message = useTrait('message');
  const height = useTrait('height');
  const layout = useTrait('panes');
  const dark = useDarkTheme();
  const [paletteOpen, setPaletteOpen] = useState(false);
  const [inspectorOpen, setInspectorOpen] = useState(true);
  const [help, setHelp] = useState(false);
  const [split, setSplit] = useState(0.5);
  const [autoStack, setAutoStack] = useState(false);
  const main = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const documentMode = useDocumentMode(root);
  const lastSeq = useRef<number | null>(null);

  useEffect(() => {
    if (message && 'seq' in message && typeof message.seq === 'number' && message.seq !== lastSeq.current) {
      const first = lastSeq.current === null;
      lastSeq.current = message.seq;
      if (!first && message.text) {
        ui.toast(message.level ?? 'info', message.text);
      }
    }
  }, [message, ui]);

  useEffect(() => {
    const el = frame.current;
    if (!el) {
      return;
    }
    const decide = (width: number) => {
      if (width > 0) {
        setAutoStack(stacked => autoStacked(width - (inspectorOpen ? INSPECTOR_WIDTH : 0), stacked));
      }
    };
    decide(el.getBoundingClientRect().width);
    const observer = new ResizeObserver(entries => decide(entries[0].contentRect.width));
    observer.observe(el);
    return () => observer.disconnect();
  }, [inspectorOpen]);

  const choice: LayoutChoice = LAYOUTS.some(l => l.value === layout) ? layout : 'auto';
  const narrow = choice === 'stacked' || (choice === 'auto' && autoStack);
  const panes = choice === 'editor' ? 'editor' : choice === 'viewer' ? 'viewer' : 'both';

  useEffect(() => {
    if (!documentMode) {
      return;
    }
    const emit = () =>
      root.dispatchEvent(new CustomEvent(GRAPH_EVENT, { bubbles: true, detail: { graph: studio.get('graph') } }));
    emit();
    return studio.subscribe('graph', emit);
  }, [documentMode, root, studio]);

  const save = useCallback(() => {
    const event = new CustomEvent(SAVE_EVENT, { bubbles: true, cancelable: true });
    // a document panel saves through JupyterLab (and calls preventDefault); else the kernel saves
    if (root.dispatchEvent(event)) {
      studio.send({ type: 'save' });
    }
  }, [root, studio]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    const typing = target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    let handled = true;
    if (mod && key === 's') {
      save();
    } else if (mod && key === 'enter') {
      studio.send({ type: 'evaluate' });
    } else if (typing) {
      handled = false;
    } else if (mod && key === 'z' && !event.shiftKey) {
      studio.send({ type: 'undo' });
    } else if (mod && ((key === 'z' && event.shiftKey) || key === 'y')) {
      studio.send({ type: 'redo' });
    } else if (event.key === '?') {
      setHelp(!help);
    } else if (key === 'escape' && (help || paletteOpen)) {
      setHelp(false);
      setPaletteOpen(false);
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };

  const onSplitPointerDown = (event: ReactPointerEvent<HTMLDivElement>) => {
    const el = main.current;
    if (!el) {
      return;
    }
    event.preventDefault();
    const rect = el.getBoundingClientRect();
    const handle = event.currentTarget;
    handle.setPointerCapture(event.pointerId);
    const move = (e: PointerEvent) => {
      const fraction = narrow ? (e.clientY - rect.top) / rect.height : (e.clientX - rect.left) / rect.width;
      setSplit(Math.min(0.85, Math.max(0.15, fraction)));
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  };

  const style = documentMode ? { height: '100%' } : { height: `${height || 640}px` };
  // one pane hidden: it stays mounted (the 3D scene and its camera, the editor's viewport
  // live on) in a zero-size track
  const fractions = panes === 'editor' ? '1fr 0 0' : panes === 'viewer' ? '0 0 1fr' : `${split}fr 6px ${1 - split}fr`;
  const template = narrow
    ? { gridTemplateRows: fractions, gridTemplateColumns: '1fr' }
    : { gridTemplateColumns: fractions, gridTemplateRows: '1fr' };

  return (
    <div
      className={`bfl-studio${dark ? ' bfl-studio--dark' : ''}${narrow ? ' bfl-studio--narrow' : ''}`}
      ref={frame}
      style={style}
      data-layout={`${panes === 'both' ? (narrow ? 'stacked' : 'side-by-side') : panes}`}
      onKeyDown={onKeyDown}
      tabIndex={-1}
      data-theme={dark ? 'dark' : 'light'}
    >
      <header className="bfl-toolbar" role="toolbar" aria-label="Studio">
        <span className="bfl-toolbar__title" title={title}>
          {title || 'untitled'}
          {dirty && !documentMode ? (
            <span className="bfl-dirty" title="unsaved changes" aria-label="unsaved changes">
              ●
            </span>
          ) : null}
        </span>
        <button
          type="button"
          className={`bfl-tool${paletteOpen ? ' bfl-tool--on' : ''}`}
          aria-label="Add a node (open the palette)"
          aria-pressed={paletteOpen}
          title="Add a node (/)"
          onClick={() => setPaletteOpen(!paletteOpen)}
        >
          + Node
        </button>
        <button type="button" className="bfl-tool" aria-label="Undo" title="Undo (Ctrl+Z)" onClick={() => studio.send({ type: 'undo' })}>
          Undo
        </button>
        <button type="button" className="bfl-tool" aria-label="Redo" title="Redo (Ctrl+Shift+Z)" onClick={() => studio.send({ type: 'redo' })}>
          Redo
        </button>
        <button
          type="button"
          className="bfl-tool"
          aria-label="Evaluate now"
          title="Evaluate (Ctrl+Enter)"
          onClick={() => studio.send({ type: 'evaluate' })}
        >
          Run
        </button>
        <button type="button" className="bfl-tool" aria-label="Save the graph" title="Save (Ctrl+S)" onClick={save}>
          Save
        </button>
        <StatusSummary />
        <span className="bfl-toolbar__spacer" />
        <select
          className="bfl-layout"
          aria-label="Layout"
          title="Layout: editor and viewer side by side or stacked, or one of them"
          value={choice}
          onChange={event => studio.set('panes', event.target.value as LayoutChoice)}
        >
          {LAYOUTS.map(l => (
            <option key={l.value} value={l.value}>
              {l.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          className={`bfl-tool${inspectorOpen ? ' bfl-tool--on' : ''}`}
          aria-label="Show the inspector"
          aria-pressed={inspectorOpen}
          onClick={() => setInspectorOpen(!inspectorOpen)}
        >
          Inspector
        </button>
        <button type="button" className="bfl-tool" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => setHelp(true)}>
          ?
        </button>
      </header>
      <div className="bfl-studio__body">
        <div className={`bfl-studio__main bfl-studio__main--${panes}`} ref={main} style={template}>
          <GraphEditor dark={dark} paletteOpen={paletteOpen} setPaletteOpen={setPaletteOpen} />
          <div
            className="bfl-splitter"
            role="separator"
            aria-orientation={narrow ? 'horizontal' : 'vertical'}
            aria-label="Resize the editor and the viewer"
            aria-valuenow={Math.round(split * 100)}
            aria-valuemin={15}
            aria-valuemax={85}
            tabIndex={0}
            onPointerDown={onSplitPointerDown}
            onKeyDown={event => {
              if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') {
                setSplit(s => Math.max(0.15, s - 0.05));
                event.preventDefault();
              } else if (event.key === 'ArrowRight' || event.key === 'ArrowDown') {
                setSplit(s => Math.min(0.85, s + 0.05));
                event.preventDefault();
              }
            }}
          />
          <Viewer dark={dark} />
        </div>
        {inspectorOpen ? <Inspector /> : null}
      </div>
      <Toasts />
      {help ? <HelpOverlay onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
