/**
 * The viewer pane: the three.js canvas, its toolbar (fit, standard views, projection, edges,
 * grid, axes, section plane, transparency), the part tree and the pick panel.
 *
 * A click (not a drag) picks the face or edge under the cursor through the GPU id buffer and
 * sets the `pick` trait; the kernel answers with `pick_info`, whose `selector` is shown with
 * a copy button (usable in Fillet/Chamfer `edges` or Shell `faces`).
 *
 * Measure mode (the Measure button or `M`): a click picks one entity — a face, an edge, the
 * vertex at an edge's end, or with "Solids" on the solid under the cursor — and Shift+click a
 * second; the kernel measures them exactly and answers with the `measurement` trait, shown in
 * the Measure panel with a Copy button. The entity under the cursor is highlighted before the
 * click, and published as `data-hover` (`node:kind:index`) on the canvas with the cursor
 * position it was picked at (`data-hover-at`), like the viewer's other debugging state.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { Measurement, ViewOptions } from '../protocol';
import { useMeshes, useStudio, useTrait, type MeshState } from '../widget/hooks';
import { togglePreview } from '../widget/preview';
import type { MeasureHit } from './measure';
import { StudioScene, type StandardView } from './scene';

function cssVar(el: Element, name: string, fallback: string): string {
  const value = getComputedStyle(el).getPropertyValue(name).trim();
  return value || fallback;
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

function ToolButton({
  label,
  title,
  pressed,
  onClick,
  children
}: {
  label: string;
  title?: string;
  pressed?: boolean;
  onClick: () => void;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      className={`bfl-tool${pressed ? ' bfl-tool--on' : ''}`}
      aria-label={label}
      aria-pressed={pressed === undefined ? undefined : pressed}
      title={title ?? label}
      onClick={onClick}
    >
      {children}
    </button>
  );
}

const AXES: { label: string; normal: [number, number, number] }[] = [
  { label: 'X', normal: [1, 0, 0] },
  { label: 'Y', normal: [0, 1, 0] },
  { label: 'Z', normal: [0, 0, 1] }
];

export function Viewer({ dark }: { dark: boolean }) {
  const { studio, ui, root } = useStudio();
  const view = useTrait('view');
  const pickInfo = useTrait('pick_info');
  const graph = useTrait('graph');
  const meshes = useMeshes();
  const container = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const sceneRef = useRef<StudioScene | null>(null);
  const down = useRef<{ x: number; y: number; button: number } | null>(null);
  const [partsOpen, setPartsOpen] = useState(true);
  const [copied, setCopied] = useState(false);
  const [webglError, setWebglError] = useState<string | null>(null);
  const [clipRange, setClipRange] = useState<[number, number]>([-100, 100]);
  const measurement = useTrait('measurement') as Measurement;
  const [measuring, setMeasuring] = useState(false);
  const [solids, setSolids] = useState(false);
  const [measurePicks, setMeasurePicks] = useState<MeasureHit[]>([]);
  const [measureCopied, setMeasureCopied] = useState(false);
  const measureSeq = useRef(0);
  const measurePicksRef = useRef<MeasureHit[]>([]);
  const hoverAt = useRef<{ x: number; y: number } | null>(null);
  const hoverFrame = useRef(0);

  const sendMeasure = useCallback(
    (picks: MeasureHit[]) => {
      measurePicksRef.current = picks;
      setMeasurePicks(picks);
      setMeasureCopied(false);
      measureSeq.current += 1;
      studio.send({
        type: 'measure',
        seq: measureSeq.current,
        picks: picks.map(p => ({ node: p.node, kind: p.kind, index: p.index, version: p.version, point: p.point }))
      });
    },
    [studio]
  );

  const publishParts = useCallback(() => {
    const scene = sceneRef.current;
    if (!scene) {
      return;
    }
    const map = new Map<string, MeshState>();
    for (const part of scene.parts.values()) {
      map.set(part.id, {
        color: part.color,
        visible: part.group.visible,
        kernelVisible: part.kernelVisible,
        triangles: part.triangles
      });
    }
    ui.setMeshes(map);
  }, [ui]);

  // the scene lives as long as this view
  useEffect(() => {
    let scene: StudioScene;
    try {
      scene = new StudioScene(canvas.current!);
    } catch (error) {
      setWebglError(`3D view unavailable: ${(error as Error).message}`);
      return;
    }
    sceneRef.current = scene;
    scene.setOptions(studio.get('view'));
    scene.onRender = () => {
      const el = canvas.current;
      if (el) {
        // the viewer's state for debugging (and tests): frames drawn, parts shown, camera
        el.dataset.frame = String(scene.frames);
        el.dataset.camera = scene.cameraState();
        el.dataset.parts = Array.from(scene.parts.values())
          .map(p => `${p.id}@${p.version}`)
          .join(',');
      }
    };
    const apply = (message: Parameters<StudioScene['applyMeshes']>[0], buffers: DataView[]) => {
      scene.applyMeshes(message, buffers);
      publishParts();
      // a measured part changed: its face and edge numbers no longer name the same entities
      const picks = measurePicksRef.current;
      if (picks.some(p => scene.parts.get(p.node)?.version !== p.version)) {
        sendMeasure([]);
      }
    };
    for (const early of studio.takeEarlyMeshes()) {
      apply(early.message, early.buffers);
    }
    const offMeshes = studio.onMeshes(apply);
    studio.send({ type: 'ready' });
    const observer = new ResizeObserver(entries => {
      const rect = entries[0].contentRect;
      scene.resize(rect.width, rect.height);
    });
    observer.observe(container.current!);
    const rect = container.current!.getBoundingClientRect();
    scene.resize(rect.width || 400, rect.height || 300);
    return () => {
      offMeshes();
      observer.disconnect();
      scene.dispose();
      sceneRef.current = null;
    };
  }, [studio, publishParts, sendMeasure]);

  useEffect(() => {
    sceneRef.current?.setOptions(view);
    publishParts();
  }, [view, publishParts]);

  useEffect(() => {
    const scene = sceneRef.current;
    if (!scene) {
      return;
    }
    scene.setTheme({
      background: cssVar(root, '--jp-layout-color0', dark ? '#111111' : '#ffffff'),
      grid: cssVar(root, '--jp-border-color2', dark ? '#333333' : '#e0e0e0'),
      gridCenter: cssVar(root, '--jp-border-color1', dark ? '#555555' : '#bdbdbd'),
      edges: dark ? '#0b0f14' : '#1f2937'
    });
  }, [dark, root]);

  const setView = useCallback(
    (patch: Partial<ViewOptions>) => {
      studio.set('view', { ...studio.get('view'), ...patch });
    },
    [studio]
  );

  const standard = useCallback((v: StandardView) => sceneRef.current?.setView(v), []);
  const fit = useCallback(() => sceneRef.current?.fit(), []);

  // the measure marks: the picks, and the closest-points segment once the kernel answered
  const answered = measurement.seq === measureSeq.current && measurePicks.length > 0;
  useEffect(() => {
    const scene = sceneRef.current;
    if (!scene) {
      return;
    }
    const points = answered && measurePicks.length === 2 && measurement.points ? measurement.points : null;
    scene.setMeasure(measuring ? measurePicks : [], measuring ? points : null);
    if (!measuring) {
      scene.hoverMeasure(null);
    }
  }, [measuring, measurePicks, measurement, answered]);

  const toggleMeasure = useCallback(() => setMeasuring(on => !on), []);
  useEffect(() => () => cancelAnimationFrame(hoverFrame.current), []);

  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    if (!measuring || event.buttons !== 0) {
      return;
    }
    const rect = canvas.current!.getBoundingClientRect();
    hoverAt.current = { x: event.clientX - rect.left, y: event.clientY - rect.top };
    if (hoverFrame.current) {
      return;
    }
    // one pick per animation frame, at the latest cursor position
    hoverFrame.current = requestAnimationFrame(() => {
      hoverFrame.current = 0;
      const scene = sceneRef.current;
      const at = hoverAt.current;
      const el = canvas.current;
      if (!scene || !at || !el) {
        return;
      }
      const hit = scene.pickEntity(at.x, at.y, solids);
      scene.hoverMeasure(hit);
      el.dataset.hover = hit ? `${hit.node}:${hit.kind}:${hit.index}` : '';
      el.dataset.hoverAt = `${Math.round(at.x)},${Math.round(at.y)}`;
    });
  };

  const onPointerLeave = () => {
    hoverAt.current = null;
    sceneRef.current?.hoverMeasure(null);
  };

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    down.current = { x: event.clientX, y: event.clientY, button: event.button };
  };

  const onPointerUp = (event: PointerEvent<HTMLCanvasElement>) => {
    const start = down.current;
    down.current = null;
    const scene = sceneRef.current;
    if (!start || !scene || start.button !== 0 || Math.hypot(event.clientX - start.x, event.clientY - start.y) > 4) {
      return;
    }
    const rect = canvas.current!.getBoundingClientRect();
    if (measuring) {
      const entity = scene.pickEntity(event.clientX - rect.left, event.clientY - rect.top, solids);
      const current = measurePicksRef.current;
      if (!entity) {
        if (!event.shiftKey && current.length) {
          sendMeasure([]);
        }
        return;
      }
      // Shift+click adds the second entity (or replaces it); a plain click starts again
      sendMeasure(event.shiftKey && current.length ? [current[0], entity] : [entity]);
      return;
    }
    const hit = scene.pickAt(event.clientX - rect.left, event.clientY - rect.top);
    scene.showHighlight(hit);
    setCopied(false);
    if (hit) {
      studio.set('pick', { node: hit.node, kind: hit.kind, index: hit.index, version: hit.version, point: hit.point });
      studio.set('selected', [hit.node]);
    } else {
      studio.set('pick', {});
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    if (target.tagName === 'INPUT' || target.tagName === 'SELECT' || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const actions: Record<string, () => void> = {
      f: fit,
      '0': () => standard('iso'),
      '1': () => standard('front'),
      '3': () => standard('right'),
      '7': () => standard('top'),
      o: () => setView({ projection: view.projection === 'orthographic' ? 'perspective' : 'orthographic' }),
      e: () => setView({ edges: view.edges === false }),
      g: () => setView({ grid: view.grid === false }),
      m: toggleMeasure
    };
    if (event.key === 'Escape' && measuring) {
      event.preventDefault();
      event.stopPropagation();
      if (measurePicksRef.current.length) {
        sendMeasure([]);
      } else {
        setMeasuring(false);
      }
      return;
    }
    const action = actions[event.key.toLowerCase()];
    if (action) {
      event.preventDefault();
      event.stopPropagation();
      action();
    }
  };

  const clip = view.clip ?? {};
  const clipNormal = (clip.normal ?? [0, 0, 1]) as [number, number, number];
  const toggleClip = () => {
    const scene = sceneRef.current;
    const enabling = !clip.enabled;
    let offset = clip.offset;
    if (enabling && scene) {
      const box = scene.clipBox;
      if (!box.isEmpty()) {
        const n = clipNormal;
        const lo = box.min.x * n[0] + box.min.y * n[1] + box.min.z * n[2];
        const hi = box.max.x * n[0] + box.max.y * n[1] + box.max.z * n[2];
        setClipRange([Math.min(lo, hi), Math.max(lo, hi)]);
        if (typeof offset !== 'number' || offset < Math.min(lo, hi) || offset > Math.max(lo, hi)) {
          offset = (lo + hi) / 2;
        }
      }
    }
    setView({ clip: { enabled: enabling, normal: clipNormal, offset: offset ?? 0 } });
  };
  const setClipAxis = (normal: [number, number, number]) => {
    const scene = sceneRef.current;
    let offset = 0;
    if (scene) {
      const box = scene.clipBox;
      if (!box.isEmpty()) {
        const lo = box.min.x * normal[0] + box.min.y * normal[1] + box.min.z * normal[2];
        const hi = box.max.x * normal[0] + box.max.y * normal[1] + box.max.z * normal[2];
        setClipRange([Math.min(lo, hi), Math.max(lo, hi)]);
        offset = (lo + hi) / 2;
      }
    }
    setView({ clip: { enabled: true, normal, offset } });
  };

  const labels = useMemo(() => new Map(graph.nodes.map(n => [n.id, n.label || n.id])), [graph]);
  // the part list: what the viewer holds, plus what the user hid (so it can be shown again)
  const parts = useMemo(() => {
    const entries = new Map(meshes);
    for (const id of view.hidden ?? []) {
      const state = entries.get(id);
      if (!state) {
        entries.set(id, { color: '#9ca3af', visible: false, kernelVisible: false, triangles: 0 });
      }
    }
    const order = new Map(graph.nodes.map((n, i) => [n.id, i]));
    return Array.from(entries.entries())
      .filter(([id]) => order.has(id))
      .sort((a, b) => (order.get(a[0]) ?? 0) - (order.get(b[0]) ?? 0));
  }, [meshes, graph, view.hidden]);
  const opacity = typeof view.opacity === 'number' ? view.opacity : 1;
  const selector = typeof pickInfo.selector === 'string' ? pickInfo.selector : '';

  return (
    <div className="bfl-viewer" role="region" aria-label="3D viewer" onKeyDown={onKeyDown} tabIndex={-1}>
      <div className="bfl-viewer__toolbar" role="toolbar" aria-label="View controls">
        <ToolButton label="Fit the model in the view" title="Fit (F)" onClick={fit}>
          Fit
        </ToolButton>
        <ToolButton label="Isometric view" title="Isometric (0)" onClick={() => standard('iso')}>
          Iso
        </ToolButton>
        <ToolButton label="Top view" title="Top (7)" onClick={() => standard('top')}>
          Top
        </ToolButton>
        <ToolButton label="Front view" title="Front (1)" onClick={() => standard('front')}>
          Front
        </ToolButton>
        <ToolButton label="Right view" title="Right (3)" onClick={() => standard('right')}>
          Right
        </ToolButton>
        <span className="bfl-sep" />
        <ToolButton
          label="Orthographic projection"
          title="Orthographic / perspective (O)"
          pressed={view.projection === 'orthographic'}
          onClick={() => setView({ projection: view.projection === 'orthographic' ? 'perspective' : 'orthographic' })}
        >
          Ortho
        </ToolButton>
        <ToolButton label="Show edges" title="Edges (E)" pressed={view.edges !== false} onClick={() => setView({ edges: view.edges === false })}>
          Edges
        </ToolButton>
        <ToolButton label="Show grid" title="Grid (G)" pressed={view.grid !== false} onClick={() => setView({ grid: view.grid === false })}>
          Grid
        </ToolButton>
        <ToolButton label="Show axes" pressed={view.axes === true} onClick={() => setView({ axes: !view.axes })}>
          Axes
        </ToolButton>
        <ToolButton label="Section plane" pressed={!!clip.enabled} onClick={toggleClip}>
          Section
        </ToolButton>
        <ToolButton
          label="Measure"
          title="Measure (M): click an entity, Shift+click a second"
          pressed={measuring}
          onClick={toggleMeasure}
        >
          Measure
        </ToolButton>
        <label className="bfl-viewer__opacity" title="Transparency">
          <span className="bfl-visually-hidden">Opacity</span>
          <input
            type="range"
            min={0.1}
            max={1}
            step={0.05}
            value={opacity}
            aria-label="Model opacity"
            onChange={event => setView({ opacity: Number(event.target.value) })}
          />
        </label>
        <select
          className="bfl-viewer__quality"
          aria-label="Mesh quality"
          title="Mesh quality (finer meshes take longer to send and draw)"
          value={view.quality ?? 'preview'}
          onChange={event => setView({ quality: event.target.value as ViewOptions['quality'] })}
        >
          <option value="preview">Preview</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
        <ToolButton label="Part list" pressed={partsOpen} onClick={() => setPartsOpen(!partsOpen)}>
          Parts
        </ToolButton>
      </div>
      {clip.enabled ? (
        <div className="bfl-viewer__clip" role="group" aria-label="Section plane">
          <span>Section</span>
          {AXES.map(axis => {
            const active = axis.normal.every((v, i) => Math.abs(v) === Math.abs(clipNormal[i]));
            return (
              <button
                key={axis.label}
                type="button"
                className={`bfl-tool${active ? ' bfl-tool--on' : ''}`}
                aria-pressed={active}
                aria-label={`Section plane normal to ${axis.label}`}
                onClick={() => setClipAxis(axis.normal)}
              >
                {axis.label}
              </button>
            );
          })}
          <button
            type="button"
            className="bfl-tool"
            aria-label="Flip the section plane"
            onClick={() =>
              setView({ clip: { ...clip, normal: clipNormal.map(v => -v) as [number, number, number], offset: -(clip.offset ?? 0) } })
            }
          >
            Flip
          </button>
          <input
            type="range"
            aria-label="Section plane offset"
            min={clipRange[0]}
            max={clipRange[1]}
            step={(clipRange[1] - clipRange[0]) / 200 || 0.1}
            value={clip.offset ?? 0}
            onChange={event => setView({ clip: { ...clip, offset: Number(event.target.value) } })}
          />
          <span className="bfl-viewer__clip-value">{(clip.offset ?? 0).toFixed(2)}</span>
        </div>
      ) : null}
      <div className="bfl-viewer__body">
        <div className="bfl-viewer__canvas" ref={container}>
          <canvas
            ref={canvas}
            className="bfl-canvas"
            aria-label="3D model. Drag to orbit, right-drag to pan, wheel to zoom, click a face or edge to pick it."
            role="img"
            tabIndex={0}
            onPointerDown={onPointerDown}
            onPointerUp={onPointerUp}
            onPointerMove={onPointerMove}
            onPointerLeave={onPointerLeave}
          />
          {measuring ? (
            <MeasurePanel
              measurement={answered ? measurement : null}
              picks={measurePicks.length}
              solids={solids}
              copied={measureCopied}
              onSolids={() => setSolids(!solids)}
              onCopy={async () => setMeasureCopied(await copyText(measurement.text ?? ''))}
              onClear={() => sendMeasure([])}
            />
          ) : null}
          {webglError ? <div className="bfl-viewer__error">{webglError}</div> : null}
          {parts.length === 0 && !webglError ? (
            <div className="bfl-viewer__empty">Nothing to show yet: results of terminal shape nodes appear here.</div>
          ) : null}
        </div>
        {partsOpen && parts.length ? (
          <div className="bfl-parts" role="list" aria-label="Parts">
            {parts.map(([id, state]) => (
              <div key={id} className={`bfl-parts__item${state.visible ? '' : ' bfl-parts__item--hidden'}`} role="listitem">
                <button
                  type="button"
                  className="bfl-icon-button"
                  aria-pressed={state.visible}
                  aria-label={`${state.visible ? 'Hide' : 'Show'} ${id}`}
                  title={state.visible ? 'Hide' : 'Show'}
                  onClick={() => togglePreview(studio, ui, id)}
                >
                  {state.visible ? '●' : '○'}
                </button>
                <span className="bfl-parts__swatch" style={{ background: state.color }} aria-hidden="true" />
                <button
                  type="button"
                  className="bfl-parts__name"
                  title={`${id}: ${state.triangles.toLocaleString()} triangles — click to select the node`}
                  onClick={() => studio.set('selected', [id])}
                >
                  {labels.get(id) ?? id}
                </button>
              </div>
            ))}
          </div>
        ) : null}
      </div>
      {!measuring && (selector || pickInfo.kind) ? (
        <div className="bfl-pick" role="status" aria-live="polite">
          <span className="bfl-pick__what">
            {pickInfo.kind} {pickInfo.index} of {pickInfo.node}
            {pickInfo.type ? ` · ${String(pickInfo.type)}` : ''}
            {typeof pickInfo.radius === 'number' ? ` · r ${pickInfo.radius.toFixed(3)}` : ''}
          </span>
          {pickInfo.error ? <span className="bfl-pick__error">{String(pickInfo.error)}</span> : null}
          {selector ? (
            <>
              <code
                className="bfl-pick__selector"
                title={`selector for ${pickInfo.param === 'faces' ? 'Shell faces' : 'Fillet/Chamfer edges'}`}
              >
                {selector}
              </code>
              <button
                type="button"
                className="bfl-tool"
                aria-label="Copy the selector"
                onClick={async () => setCopied(await copyText(selector))}
              >
                {copied ? 'Copied' : 'Copy'}
              </button>
              {(pickInfo.alternatives ?? []).slice(0, 3).map(alt => (
                <button
                  key={alt}
                  type="button"
                  className="bfl-pick__alt"
                  title="another selector for the same element — click to copy"
                  aria-label={`Copy the alternative selector ${alt}`}
                  onClick={() => void copyText(alt)}
                >
                  {alt}
                </button>
              ))}
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** The Measure panel: the kernel's rows (made in Python, so Copy and Python agree). */
function MeasurePanel({
  measurement,
  picks,
  solids,
  copied,
  onSolids,
  onCopy,
  onClear
}: {
  measurement: Measurement | null;
  picks: number;
  solids: boolean;
  copied: boolean;
  onSolids: () => void;
  onCopy: () => void;
  onClear: () => void;
}) {
  const rows = measurement?.rows ?? [];
  return (
    <div className="bfl-measure" role="region" aria-label="Measurement">
      <div className="bfl-measure__head">
        <strong>Measure</strong>
        <button
          type="button"
          className={`bfl-tool${solids ? ' bfl-tool--on' : ''}`}
          aria-pressed={solids}
          aria-label="Pick solids"
          title="Pick whole solids (volume, area, centre of mass) instead of faces"
          onClick={onSolids}
        >
          Solids
        </button>
        <button
          type="button"
          className="bfl-tool"
          aria-label="Copy the measurement"
          disabled={!rows.length}
          onClick={onCopy}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="bfl-tool" aria-label="Clear the measurement" disabled={!picks} onClick={onClear}>
          Clear
        </button>
      </div>
      {picks === 0 ? (
        <p className="bfl-measure__hint">Click a face, edge, vertex or solid; Shift+click a second to measure between them.</p>
      ) : measurement === null ? (
        <p className="bfl-measure__hint">Measuring…</p>
      ) : measurement.error ? (
        <p className="bfl-measure__error" role="alert">
          {measurement.error}
        </p>
      ) : (
        <dl className="bfl-measure__rows">
          {rows.map(row => (
            <div key={row.label} className="bfl-measure__row" data-label={row.label}>
              <dt>{row.label}</dt>
              <dd>{row.text}</dd>
            </div>
          ))}
        </dl>
      )}
      {picks === 1 && measurement && !measurement.error ? (
        <p className="bfl-measure__hint">Shift+click a second entity to measure between them.</p>
      ) : null}
    </div>
  );
}
