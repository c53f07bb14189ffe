/**
 * The graph editor on @xyflow/react.
 *
 * The `graph` trait is the truth; the editor shows it and turns user gestures into `edit` ops
 * (drag-stop, connect, delete, param edits, paste). Gestures are applied optimistically and
 * confirmed by the kernel's `ack`; a refused edit (say, incompatible port types that slipped
 * past the client-side check) is rolled back by re-reading the graph, and its hint is shown.
 *
 * Large graphs: nodes are memoised and rebuilt only when what they show changes, statuses
 * are subscribed per node, and React Flow renders only the visible elements.
 */
import {
  Background,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  useStore,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
  type OnSelectionChangeParams,
  type ReactFlowState
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { EditOp, GraphJSON, GraphNodeJSON, JSONValue, NodeSpecJSON, XY } from '../protocol';
import { useStudio, useTrait } from '../widget/hooks';
import { togglePreview } from '../widget/preview';
import { EditorActionsContext, UnitsContext, type EditorActions } from './actions';
import { ConnectMenu, type ConnectCandidate } from './ConnectMenu';
import {
  createsCycle,
  edgeId,
  graphToEdges,
  graphToNodes,
  linkName,
  newNodeId,
  nodeLabel,
  portName,
  refsOf,
  type StudioFlowEdge,
  type StudioFlowNode
} from './convert';
import { readableViewport, readableZoom, titleFontPx } from './fit';
import { DRAG_MIME, Palette } from './Palette';
import { categoryColor, incompatibility, portColor } from './ports';
import { StudioNode } from './StudioNode';

const nodeTypes = { studio: StudioNode };
/** The smallest pane (px) worth fitting into: a hidden editor has a zero-size one. */
const MIN_PANE_PX = 40;

interface ClipboardContent {
  nodes: GraphNodeJSON[];
  links: { source: string; sourceHandle: string; target: string; targetHandle: string }[];
}

/** Shared by every Studio on the page, so nodes can be copied from one graph to another. */
let clipboard: ClipboardContent | null = null;

function isTextTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) {
    return false;
  }
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

function roundPosition(p: XY): XY {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** Is every node inside the editor's view? (Then a minimap adds nothing, and would cover some.) */
function everyNodeOnScreen(s: ReactFlowState): boolean {
  const [tx, ty, zoom] = s.transform;
  const left = -tx / zoom;
  const top = -ty / zoom;
  const right = left + s.width / zoom;
  const bottom = top + s.height / zoom;
  for (const n of s.nodeLookup.values()) {
    const p = n.internals.positionAbsolute;
    const w = n.measured?.width ?? n.width ?? n.initialWidth ?? 0;
    const h = n.measured?.height ?? n.height ?? n.initialHeight ?? 0;
    if (p.x < left || p.y < top || p.x + w > right || p.y + h > bottom) {
      return false;
    }
  }
  return true;
}

/** Below this editor size (px) a minimap would cover the nodes it is meant to help find. */
const MINIMAP_MIN_PANE: [number, number] = [360, 240];

/** The minimap, shown while part of the graph is off screen, sized to the editor. */
function GraphMiniMap() {
  const hidden = useStore(everyNodeOnScreen);
  const width = useStore(s => s.width);
  const height = useStore(s => s.height);
  if (hidden || width < MINIMAP_MIN_PANE[0] || height < MINIMAP_MIN_PANE[1]) {
    return null;
  }
  return (
    <MiniMap
      pannable
      zoomable
      position="bottom-right"
      style={{ width: Math.min(200, Math.round(width * 0.25)), height: Math.min(150, Math.round(height * 0.25)) }}
      ariaLabel="Mini map of the graph"
      nodeColor={n => categoryColor(((n.data as { spec?: NodeSpecJSON }).spec?.category) ?? '')}
      nodeStrokeWidth={2}
    />
  );
}

/** A port the keyboard connect list was opened on. */
interface ConnectStart {
  nodeId: string;
  socket: string;
  kind: 'in' | 'out';
  /** the focused port: focus goes back to it */
  anchor: HTMLElement;
  /** where the list shows, in px inside the editor */
  position: { left: number; top: number };
}

interface LinkCandidate extends ConnectCandidate {
  connection: { source: string; sourceHandle: string; target: string; targetHandle: string };
}

/** React Flow's built-in descriptions and labels, in the Studio's words. */
const ARIA_LABELS = {
  'node.a11yDescription.default':
    'Press Enter or Space to select the node; arrow keys move it, Delete removes it. Tab on to its ports: Enter on a port lists what it can connect to.',
  'node.a11yDescription.keyboardDisabled': 'Tab to a port and press Enter to list what it can connect to.',
  'edge.a11yDescription.default': 'Press Delete to remove this link, Enter or Space to select it.',
  'controls.ariaLabel': 'Zoom controls',
  'controls.zoomIn.ariaLabel': 'Zoom in',
  'controls.zoomOut.ariaLabel': 'Zoom out',
  'minimap.ariaLabel': 'Mini map of the graph'
};

/** The connect list's size (style/studio.css .bfl-connect), to keep it inside the editor. */
const CONNECT_MENU_PX = { width: 300, height: 240 };

function escapeSelector(text: string): string {
  return typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(text) : text.replace(/["\\]/g, '\\$&');
}

export interface GraphEditorProps {
  dark: boolean;
  paletteOpen: boolean;
  setPaletteOpen: (open: boolean) => void;
}

export function GraphEditor(props: GraphEditorProps) {
  return (
    <ReactFlowProvider>
      <EditorInner {...props} />
    </ReactFlowProvider>
  );
}

function EditorInner({ dark, paletteOpen, setPaletteOpen }: GraphEditorProps) {
  const { studio, ui } = useStudio();
  const graph = useTrait('graph');
  const catalogue = useTrait('catalogue');
  const selectedTrait = useTrait('selected');
  const specs = useMemo(() => new Map(catalogue.map(s => [s.type, s] as [string, NodeSpecJSON])), [catalogue]);
  const [nodes, setNodes] = useState<StudioFlowNode[]>(() => graphToNodes(graph, specs, new Map()));
  const [edges, setEdges] = useState<StudioFlowEdge[]>(() => graphToEdges(graph, specs, new Map()));
  const rf = useReactFlow<StudioFlowNode, StudioFlowEdge>();
  const wrapper = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const graphRef = useRef<GraphJSON>(graph);
  graphRef.current = graph;
  const nodesRef = useRef(nodes);
  nodesRef.current = nodes;
  const specsRef = useRef(specs);
  specsRef.current = specs;
  const pendingSelect = useRef<Set<string> | null>(null);
  const refusal = useRef<string | null>(null);
  const selectionTimer = useRef<number | undefined>(undefined);
  const moveTimer = useRef<number | undefined>(undefined);
  const pasteCount = useRef(0);
  const scheduleFitRef = useRef<() => void>(() => undefined);
  const canvasRef = useRef<HTMLDivElement>(null);
  /** Fit again when the size changes, until the user pans or zooms (see fit.ts). */
  const autoFit = useRef(true);
  const fitFrame = useRef(0);
  const [connecting, setConnecting] = useState<ConnectStart | null>(null);
  /** said politely to screen readers: links made and removed by keyboard */
  const [announcement, setAnnouncement] = useState('');

  // -- fitting at a readable zoom ---------------------------------------------------------
  const fit = useCallback(
    (duration = 0) => {
      const el = canvasRef.current;
      const all = rf.getNodes();
      if (!el || !all.length) {
        return false;
      }
      const width = el.clientWidth;
      const height = el.clientHeight;
      if (width < MIN_PANE_PX || height < MIN_PANE_PX) {
        return false;
      }
      const selected = all.filter(n => n.selected);
      const viewport = readableViewport(
        rf.getNodesBounds(all),
        selected.length ? rf.getNodesBounds(selected) : null,
        width,
        height,
        readableZoom(titleFontPx(el))
      );
      void rf.setViewport(viewport, duration ? { duration } : undefined);
      return true;
    },
    [rf]
  );

  const scheduleFit = useCallback(() => {
    if (!autoFit.current || fitFrame.current) {
      return;
    }
    fitFrame.current = requestAnimationFrame(() => {
      fitFrame.current = 0;
      if (autoFit.current) {
        fit();
      }
    });
  }, [fit]);

  scheduleFitRef.current = scheduleFit;

  const fitNow = useCallback(
    (duration = 0) => {
      autoFit.current = true;
      fit(duration);
    },
    [fit]
  );

  useEffect(() => {
    const el = canvasRef.current;
    if (!el) {
      return;
    }
    const observer = new ResizeObserver(() => scheduleFit());
    observer.observe(el);
    return () => {
      observer.disconnect();
      cancelAnimationFrame(fitFrame.current);
      fitFrame.current = 0;
    };
  }, [scheduleFit]);

  const onMoveStart = useCallback((event: MouseEvent | TouchEvent | null) => {
    // a viewport change with an input event is the user's (ours come without one)
    if (event) {
      autoFit.current = false;
    }
  }, []);
  const stopFollowing = useCallback(() => {
    autoFit.current = false;
  }, []);

  // -- graph trait → editor ------------------------------------------------------------
  const nodeIds = useRef('');
  useEffect(() => {
    // nodes added or removed (here or in Python): the fit follows them until the user pans
    const ids = graph.nodes.map(n => n.id).join('\n');
    if (ids !== nodeIds.current) {
      nodeIds.current = ids;
      scheduleFitRef.current();
    }
    setNodes(prev => {
      let next = graphToNodes(graph, specs, new Map(prev.map(n => [n.id, n])));
      const wanted = pendingSelect.current;
      if (wanted && Array.from(wanted).every(id => next.some(n => n.id === id))) {
        pendingSelect.current = null;
        next = next.map(n => (wanted.has(n.id) === !!n.selected ? n : { ...n, selected: wanted.has(n.id) }));
      }
      return next;
    });
    setEdges(prev => graphToEdges(graph, specs, new Map(prev.map(e => [e.id, e]))));
  }, [graph, specs]);

  const resync = useCallback(() => {
    setNodes(prev => graphToNodes(graphRef.current, specsRef.current, new Map(prev.map(n => [n.id, n]))));
    setEdges(() => graphToEdges(graphRef.current, specsRef.current, new Map()));
  }, []);

  // Python-side selection → editor
  useEffect(() => {
    const wanted = new Set(selectedTrait ?? []);
    setNodes(prev => {
      const current = prev.filter(n => n.selected).map(n => n.id);
      if (current.length === wanted.size && current.every(id => wanted.has(id))) {
        return prev;
      }
      return prev.map(n => (wanted.has(n.id) === !!n.selected ? n : { ...n, selected: wanted.has(n.id) }));
    });
  }, [selectedTrait]);

  // -- edits -----------------------------------------------------------------------------
  const commit = useCallback(
    async (ops: EditOp[]) => {
      if (!ops.length) {
        return true;
      }
      const ack = await studio.edit(ops);
      if (!ack.ok) {
        ui.toast('error', ack.error || 'the kernel refused this edit');
        resync();
      }
      return ack.ok;
    },
    [studio, ui, resync]
  );

  const actions: EditorActions = useMemo(
    () => ({
      setParam: (id: string, name: string, value: JSONValue) => {
        void commit([{ op: 'set_param', id, name, value }]);
      },
      isShown: (id: string) => ui.meshes.get(id)?.visible ?? false,
      togglePreview: (id: string) => togglePreview(studio, ui, id),
      startConnect: (nodeId: string, socket: string, kind: 'in' | 'out', anchor: HTMLElement) => {
        const box = wrapper.current?.getBoundingClientRect();
        const at = anchor.getBoundingClientRect();
        let position = { left: 8, top: 8 };
        if (box) {
          const left =
            kind === 'out' ? at.right - box.left + 8 : at.left - box.left - CONNECT_MENU_PX.width - 8;
          position = {
            left: Math.max(4, Math.min(box.width - CONNECT_MENU_PX.width - 4, left)),
            top: Math.max(4, Math.min(box.height - CONNECT_MENU_PX.height - 4, at.top - box.top - 12))
          };
        }
        setConnecting({ nodeId, socket, kind, anchor, position });
      }
    }),
    [commit, studio, ui]
  );

  /** Why a connection is refused, or null when it may be made. */
  const checkConnection = useCallback(
    (c: { source: string | null; sourceHandle?: string | null; target: string | null; targetHandle?: string | null }) => {
      const g = graphRef.current;
      if (!c.source || !c.target || !c.sourceHandle || !c.targetHandle) {
        return 'pick an output and an input';
      }
      const src = g.nodes.find(n => n.id === c.source);
      const dst = g.nodes.find(n => n.id === c.target);
      if (!src || !dst) {
        return 'that node no longer exists';
      }
      if (c.source === c.target) {
        return 'a node cannot feed itself';
      }
      const out = specsRef.current.get(src.type)?.outputs.find(o => o.name === c.sourceHandle);
      const inp = specsRef.current.get(dst.type)?.inputs.find(i => i.name === c.targetHandle);
      const problem = incompatibility(inp?.type ?? 'Any', out?.type ?? 'Any', {
        source: c.source,
        sourceHandle: c.sourceHandle,
        target: c.target,
        targetHandle: c.targetHandle
      });
      if (problem) {
        return problem;
      }
      const existing = refsOf(dst.inputs?.[c.targetHandle]);
      if (existing.some(r => r.nodeId === c.source && r.socketId === c.sourceHandle)) {
        return `${c.source}.${c.sourceHandle} is already connected to ${c.target}.${c.targetHandle}`;
      }
      if (createsCycle(g, c.source, c.target)) {
        return `connecting ${c.source} to ${c.target} would create a cycle (${c.source} already depends on ${c.target})`;
      }
      return null;
    },
    []
  );

  const isValidConnection = useCallback(
    (c: Connection | StudioFlowEdge) => {
      const reason = checkConnection(c);
      refusal.current = reason;
      return reason === null;
    },
    [checkConnection]
  );

  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.toHandle && state.isValid === false && refusal.current) {
        ui.toast('warning', refusal.current);
      }
      refusal.current = null;
    },
    [ui]
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const reason = checkConnection(c);
      if (reason || !c.sourceHandle || !c.targetHandle) {
        ui.toast('warning', reason ?? 'pick an output and an input');
        return;
      }
      const g = graphRef.current;
      const dst = g.nodes.find(n => n.id === c.target)!;
      const src = g.nodes.find(n => n.id === c.source)!;
      const inputSpec = specsRef.current.get(dst.type)?.inputs.find(i => i.name === c.targetHandle);
      const outType = specsRef.current.get(src.type)?.outputs.find(o => o.name === c.sourceHandle)?.type ?? 'Any';
      const ops: EditOp[] = [];
      const replaced = new Set<string>();
      if (!inputSpec?.multiple) {
        for (const ref of refsOf(dst.inputs?.[c.targetHandle])) {
          ops.push({
            op: 'disconnect',
            source: ref.nodeId,
            sourceHandle: ref.socketId,
            target: c.target,
            targetHandle: c.targetHandle
          });
          replaced.add(edgeId(ref.nodeId, ref.socketId, c.target, c.targetHandle));
        }
      }
      ops.push({
        op: 'connect',
        source: c.source,
        sourceHandle: c.sourceHandle,
        target: c.target,
        targetHandle: c.targetHandle
      });
      const id = edgeId(c.source, c.sourceHandle, c.target, c.targetHandle);
      setEdges(prev => [
        ...prev.filter(e => !replaced.has(e.id)),
        {
          id,
          source: c.source,
          sourceHandle: c.sourceHandle,
          target: c.target,
          targetHandle: c.targetHandle,
          data: { type: outType, pending: true },
          style: { stroke: portColor(outType), strokeDasharray: '6 4' },
          ariaLabel: linkName(c.source, c.sourceHandle ?? '', c.target, c.targetHandle ?? '', outType)
        }
      ]);
      void commit(ops);
    },
    [checkConnection, commit, ui]
  );

  // -- connecting by keyboard: the list of ports a focused port may be linked to ------------
  const connectList = useMemo(() => {
    if (!connecting) {
      return null;
    }
    const from = graph.nodes.find(n => n.id === connecting.nodeId);
    if (!from) {
      return null;
    }
    const out = connecting.kind === 'out';
    const fromSpec = specs.get(from.type);
    const fromPort = (out ? fromSpec?.outputs : fromSpec?.inputs)?.find(p => p.name === connecting.socket);
    const fromType = `${fromPort?.type ?? 'Any'}${fromPort?.multiple ? ', many' : ''}`;
    const title = portName(connecting.kind, connecting.socket, nodeLabel(from, fromSpec), from.id, fromType);
    const candidates: LinkCandidate[] = [];
    for (const other of graph.nodes) {
      if (other.id === from.id) {
        continue;
      }
      const spec = specs.get(other.type);
      for (const port of (out ? spec?.inputs : spec?.outputs) ?? []) {
        const connection = out
          ? { source: from.id, sourceHandle: connecting.socket, target: other.id, targetHandle: port.name }
          : { source: other.id, sourceHandle: port.name, target: from.id, targetHandle: connecting.socket };
        // the same check a mouse connection goes through (port types, duplicates, cycles)
        if (checkConnection(connection) !== null) {
          continue;
        }
        const target = out ? other : from;
        const inputSpec = specs.get(target.type)?.inputs.find(i => i.name === connection.targetHandle);
        const replaced = inputSpec?.multiple ? [] : refsOf(target.inputs?.[connection.targetHandle]);
        const label = nodeLabel(other, spec);
        candidates.push({
          key: edgeId(connection.source, connection.sourceHandle, connection.target, connection.targetHandle),
          name: portName(out ? 'in' : 'out', port.name, label, other.id, `${port.type}${port.multiple ? ', many' : ''}`),
          note: replaced.length
            ? `replaces the link from ${replaced.map(r => `${r.nodeId}.${r.socketId}`).join(', ')}`
            : undefined,
          search: `${other.id} ${label} ${other.type} ${port.name} ${port.type}`.toLowerCase(),
          connection
        });
      }
    }
    const empty = `No ${out ? 'input' : 'output'} in this graph takes a link ${out ? 'from' : 'to'} ${title}.`;
    return { title, candidates, empty };
  }, [connecting, graph, specs, checkConnection]);

  const closeConnect = useCallback(
    (restoreFocus: boolean) => {
      const start = connecting;
      setConnecting(null);
      if (restoreFocus && start) {
        const port =
          start.anchor.isConnected
            ? start.anchor
            : wrapper.current?.querySelector<HTMLElement>(
                `.react-flow__node[data-id="${escapeSelector(start.nodeId)}"] .react-flow__handle.${
                  start.kind === 'in' ? 'target' : 'source'
                }[data-handleid="${escapeSelector(start.socket)}"]`
              );
        port?.focus();
      }
    },
    [connecting]
  );

  const pickConnection = useCallback(
    (candidate: LinkCandidate) => {
      const c = candidate.connection;
      onConnect(c);
      setAnnouncement(`Connected ${c.source}.${c.sourceHandle} to ${c.target}.${c.targetHandle}.`);
      closeConnect(true);
    },
    [onConnect, closeConnect]
  );

  /** Delete on a focused link removes it; focus moves to the input it fed. */
  const deleteFocusedLink = useCallback(
    (element: Element) => {
      const id = element.getAttribute('data-id');
      const edge = edges.find(e => e.id === id);
      if (!edge) {
        return false;
      }
      const input = wrapper.current?.querySelector<HTMLElement>(
        `.react-flow__node[data-id="${escapeSelector(edge.target)}"] .react-flow__handle.target[data-handleid="${escapeSelector(
          edge.targetHandle ?? ''
        )}"]`
      );
      (input ?? wrapper.current?.querySelector<HTMLElement>(`.react-flow__node[data-id="${escapeSelector(edge.target)}"]`))?.focus();
      void rf.deleteElements({ edges: [edge] });
      setAnnouncement(`Removed the ${linkName(edge.source, edge.sourceHandle ?? '', edge.target, edge.targetHandle ?? '', edge.data?.type ?? 'Any')}.`);
      return true;
    },
    [edges, rf]
  );

  const onDelete = useCallback(
    ({ nodes: removedNodes, edges: removedEdges }: { nodes: StudioFlowNode[]; edges: StudioFlowEdge[] }) => {
      const gone = new Set(removedNodes.map(n => n.id));
      const ops: EditOp[] = removedNodes.map(n => ({ op: 'remove_node', id: n.id }));
      for (const e of removedEdges) {
        if (gone.has(e.source) || gone.has(e.target) || !e.sourceHandle || !e.targetHandle) {
          continue;
        }
        ops.push({
          op: 'disconnect',
          source: e.source,
          sourceHandle: e.sourceHandle,
          target: e.target,
          targetHandle: e.targetHandle
        });
      }
      void commit(ops);
    },
    [commit]
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<StudioFlowNode>[]) => {
      // nodes measured for the first time: their true size replaces the estimate the fit used
      // (a node that only changes size — a status badge, an edited value — moves nothing)
      const measured = changes.filter(c => c.type === 'dimensions').map(c => c.id);
      if (measured.length) {
        const unmeasured = new Set(nodesRef.current.filter(n => !n.measured).map(n => n.id));
        if (measured.some(id => unmeasured.has(id))) {
          scheduleFit();
        }
      }
      setNodes(nds => applyNodeChanges(changes, nds));
    },
    [scheduleFit]
  );

  const onEdgesChange = useCallback((changes: EdgeChange<StudioFlowEdge>[]) => {
    setEdges(eds => applyEdgeChanges(changes, eds));
  }, []);

  const sendMoves = useCallback(
    (moved: StudioFlowNode[]) => {
      const g = graphRef.current;
      const ops: EditOp[] = [];
      for (const n of moved) {
        const before = g.nodes.find(x => x.id === n.id)?.position;
        const position = roundPosition(n.position);
        if (!before || before.x !== position.x || before.y !== position.y) {
          ops.push({ op: 'move_node', id: n.id, position });
        }
      }
      void commit(ops);
    },
    [commit]
  );

  const onNodeDragStop = useCallback(
    (_event: unknown, _node: StudioFlowNode, dragged: StudioFlowNode[]) => sendMoves(dragged),
    [sendMoves]
  );
  const onSelectionDragStop = useCallback((_event: unknown, dragged: StudioFlowNode[]) => sendMoves(dragged), [sendMoves]);

  const onSelectionChange = useCallback(
    ({ nodes: selected }: OnSelectionChangeParams<StudioFlowNode, StudioFlowEdge>) => {
      const ids = selected.map(n => n.id).sort();
      window.clearTimeout(selectionTimer.current);
      selectionTimer.current = window.setTimeout(() => {
        const current = [...(studio.get('selected') ?? [])].sort();
        if (current.length !== ids.length || current.some((id, i) => id !== ids[i])) {
          studio.set('selected', ids);
        }
      }, 60);
    },
    [studio]
  );

  // -- adding, copying, pasting ----------------------------------------------------------
  const viewCenter = useCallback((): XY => {
    const rect = wrapper.current?.getBoundingClientRect();
    if (!rect) {
      return { x: 0, y: 0 };
    }
    return rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 });
  }, [rf]);

  const addNode = useCallback(
    (type: string, at?: XY) => {
      const taken = new Set(graphRef.current.nodes.map(n => n.id));
      const id = newNodeId(type, taken);
      const center = at ?? viewCenter();
      const position = roundPosition({ x: center.x - 90, y: center.y - 40 });
      pendingSelect.current = new Set([id]);
      void commit([{ op: 'add_node', type, id, position }]);
    },
    [commit, viewCenter]
  );

  const copySelection = useCallback(() => {
    const selected = new Set(nodesRef.current.filter(n => n.selected).map(n => n.id));
    if (!selected.size) {
      return false;
    }
    const g = graphRef.current;
    const copied = g.nodes.filter(n => selected.has(n.id));
    const links: ClipboardContent['links'] = [];
    for (const n of copied) {
      for (const [input, value] of Object.entries(n.inputs ?? {})) {
        for (const ref of refsOf(value)) {
          if (selected.has(ref.nodeId)) {
            links.push({ source: ref.nodeId, sourceHandle: ref.socketId, target: n.id, targetHandle: input });
          }
        }
      }
    }
    clipboard = { nodes: JSON.parse(JSON.stringify(copied)), links };
    pasteCount.current = 0;
    return true;
  }, []);

  const paste = useCallback(() => {
    if (!clipboard || !clipboard.nodes.length) {
      return;
    }
    const g = graphRef.current;
    const taken = new Set(g.nodes.map(n => n.id));
    const ids = new Map<string, string>();
    const offset = 40 * ++pasteCount.current;
    const ops: EditOp[] = [];
    for (const n of clipboard.nodes) {
      const id = newNodeId(n.type, taken);
      ids.set(n.id, id);
      const p = n.position ?? { x: 0, y: 0 };
      ops.push({
        op: 'add_node',
        type: n.type,
        id,
        position: { x: p.x + offset, y: p.y + offset },
        params: { ...(n.params ?? {}) }
      });
    }
    for (const l of clipboard.links) {
      ops.push({
        op: 'connect',
        source: ids.get(l.source)!,
        sourceHandle: l.sourceHandle,
        target: ids.get(l.target)!,
        targetHandle: l.targetHandle
      });
    }
    pendingSelect.current = new Set(ids.values());
    void commit(ops);
  }, [commit]);

  const deleteSelection = useCallback(() => {
    const selectedNodes = nodesRef.current.filter(n => n.selected);
    const selectedEdges = edges.filter(e => e.selected);
    if (selectedNodes.length || selectedEdges.length) {
      void rf.deleteElements({ nodes: selectedNodes, edges: selectedEdges });
    }
  }, [edges, rf]);

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDivElement>) => {
      if (isTextTarget(event.target)) {
        return;
      }
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      let handled = true;
      if (mod && key === 'c') {
        copySelection();
      } else if (mod && key === 'x') {
        if (copySelection()) {
          deleteSelection();
        }
      } else if (mod && key === 'v') {
        paste();
      } else if (mod && key === 'd') {
        if (copySelection()) {
          paste();
        }
      } else if (mod && key === 'a') {
        setNodes(prev => prev.map(n => (n.selected ? n : { ...n, selected: true })));
      } else if (!mod && !event.altKey && key === 'f') {
        fitNow(200);
      } else if (!mod && (key === '/' || (key === 'n' && !event.shiftKey))) {
        setPaletteOpen(true);
        window.setTimeout(() => searchRef.current?.focus(), 0);
      } else if ((key === 'delete' || key === 'backspace') && !mod && (event.target as Element).closest?.('.react-flow__edge')) {
        handled = deleteFocusedLink((event.target as Element).closest('.react-flow__edge')!);
      } else if (key === 'escape') {
        setNodes(prev => prev.map(n => (n.selected ? { ...n, selected: false } : n)));
        setEdges(prev => prev.map(e => (e.selected ? { ...e, selected: false } : e)));
      } else if (key.startsWith('arrow') && !mod) {
        // React Flow moves the selected nodes; send where they ended up once keys rest.
        window.clearTimeout(moveTimer.current);
        moveTimer.current = window.setTimeout(() => sendMoves(nodesRef.current.filter(n => n.selected)), 350);
        handled = false;
      } else {
        handled = false;
      }
      if (handled) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    [copySelection, deleteSelection, deleteFocusedLink, paste, fitNow, sendMoves, setPaletteOpen]
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (event.dataTransfer.types.includes(DRAG_MIME)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!type) {
        return;
      }
      event.preventDefault();
      const p = rf.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(type, { x: p.x + 90, y: p.y + 20 });
    },
    [addNode, rf]
  );

  useEffect(
    () => () => {
      window.clearTimeout(selectionTimer.current);
      window.clearTimeout(moveTimer.current);
    },
    []
  );

  const empty = graph.nodes.length === 0;

  return (
    <EditorActionsContext.Provider value={actions}>
      <UnitsContext.Provider value={graph.units}>
        <div className="bfl-editor" ref={wrapper} onKeyDown={onKeyDown} aria-label="Graph editor" role="region">
          {paletteOpen ? (
            <Palette
              catalogue={catalogue}
              onAdd={type => addNode(type)}
              searchRef={searchRef}
              onClose={() => setPaletteOpen(false)}
            />
          ) : null}
          {connecting && connectList ? (
            <ConnectMenu
              title={connectList.title}
              candidates={connectList.candidates}
              empty={connectList.empty}
              position={connecting.position}
              onPick={pickConnection}
              onClose={closeConnect}
            />
          ) : null}
          <div className="bfl-visually-hidden" role="status" aria-live="polite">
            {announcement}
          </div>
          <div className="bfl-editor__canvas" ref={canvasRef} onDragOver={onDragOver} onDrop={onDrop}>
            <ReactFlow<StudioFlowNode, StudioFlowEdge>
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onDelete={onDelete}
              onNodeDragStop={onNodeDragStop}
              onSelectionDragStop={onSelectionDragStop}
              onSelectionChange={onSelectionChange}
              onMoveStart={onMoveStart}
              colorMode={dark ? 'dark' : 'light'}
              deleteKeyCode={['Delete', 'Backspace']}
              multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
              selectionKeyCode="Shift"
              onlyRenderVisibleElements
              minZoom={0.03}
              maxZoom={2.5}
              connectionRadius={24}
              attributionPosition="top-right"
              zoomOnDoubleClick={false}
              ariaLabelConfig={ARIA_LABELS}
            >
              <Background gap={24} />
              <Controls
                showInteractive={false}
                showFitView={false}
                position="bottom-left"
                onZoomIn={stopFollowing}
                onZoomOut={stopFollowing}
              >
                <ControlButton
                  className="react-flow__controls-fitview"
                  onClick={() => fitNow()}
                  title="Fit the graph in the view (F)"
                  aria-label="Fit the graph in the view"
                >
                  <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
                    <path d="M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4" fill="none" stroke="currentColor" strokeWidth="1.6" />
                  </svg>
                </ControlButton>
              </Controls>
              <GraphMiniMap />
            </ReactFlow>
            {empty ? (
              <div className="bfl-editor__empty">
                The graph is empty. Press <kbd>/</kbd> or use <strong>+ Node</strong> to add one.
              </div>
            ) : null}
          </div>
        </div>
      </UnitsContext.Provider>
    </EditorActionsContext.Provider>
  );
}
