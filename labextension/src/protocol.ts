/**
 * The Python ⇄ browser contract of the Studio widget, as TypeScript types.
 *
 * Mirrors brepflow_lab/widgets/PROTOCOL.md (the Python side owns that document). Traits are
 * synced by anywidget; meshes travel as binary buffers in custom messages, never as JSON
 * number lists.
 */

export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export interface XY {
  x: number;
  y: number;
}

export interface SocketRef {
  nodeId: string;
  socketId: string;
}

export interface GraphNodeJSON {
  id: string;
  type: string;
  label?: string;
  position?: XY;
  inputs?: Record<string, SocketRef | SocketRef[]>;
  params?: Record<string, JSONValue>;
  [extra: string]: unknown;
}

export interface GraphEdgeJSON {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

export interface GlobalParamJSON {
  value: JSONValue;
  min?: number;
  max?: number;
  step?: number;
  unit?: string;
  description?: string;
}

export interface GraphJSON {
  version: string;
  units: string;
  tolerance: number;
  metadata?: Record<string, JSONValue>;
  parameters?: Record<string, GlobalParamJSON>;
  nodes: GraphNodeJSON[];
  edges: GraphEdgeJSON[];
  [extra: string]: unknown;
}

export interface PortSpecJSON {
  name: string;
  type: string;
  multiple: boolean;
  optional?: boolean;
  help: string;
}

export type ParamKind = 'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'vector';

export interface ParamSpecJSON {
  name: string;
  kind: ParamKind;
  default: JSONValue;
  dimension: 'length' | 'angle' | 'none';
  help: string;
  label: string;
  min?: number;
  max?: number;
  step?: number;
  minExclusive?: boolean;
  choices?: string[];
  optional?: boolean;
}

export interface NodeSpecJSON {
  type: string;
  version: number;
  category: string;
  label: string;
  description: string;
  inputs: PortSpecJSON[];
  outputs: PortSpecJSON[];
  params: ParamSpecJSON[];
  deterministic: boolean;
  sideEffects: boolean;
  source: string;
}

export type NodeStatusKind = 'ok' | 'cached' | 'failed' | 'skipped' | 'cancelled' | 'running';

export interface NodeStatus {
  status: NodeStatusKind;
  seconds?: number;
  error?: { code: string; message: string };
}

export interface Pick {
  node: string;
  kind: 'face' | 'edge';
  index: number;
  /** mesh version picked (optional; the kernel refuses picks of an outdated mesh) */
  version?: number;
  /** hit point in model coordinates (optional hint for choosing a selector) */
  point?: [number, number, number];
}

export interface PickInfo extends Partial<Pick> {
  selector?: string;
  alternatives?: string[];
  size?: number;
  radius?: number;
  param?: string;
  error?: string;
  center?: [number, number, number];
  type?: string;
  [extra: string]: unknown;
}

/**
 * One entity picked by the viewer's Measure tool. `face` / `edge`: `index` in the mesh's
 * numbering (as for `pick`); `vertex`: the end of edge `index` nearest `point`; `solid`:
 * the solid bounded by face `index`.
 */
export interface MeasurePick {
  node: string;
  kind: 'face' | 'edge' | 'vertex' | 'solid';
  index: number;
  version?: number;
  point?: [number, number, number];
}

/** One line of the Measure panel, made by Python (so the panel, Copy and Python agree). */
export interface MeasurementRow {
  label: string;
  value: JSONValue;
  unit: string;
  text: string;
}

/** The `measurement` trait: exact values from OCCT for one or two picks. */
export interface Measurement {
  seq?: number;
  picks?: MeasurePick[];
  units?: string;
  entities?: Record<string, JSONValue>[];
  distance?: number;
  /** the closest point on each entity (two picks) */
  points?: [[number, number, number], [number, number, number]];
  delta?: [number, number, number];
  angle?: number;
  interior_angle?: number;
  center_distance?: number;
  rows?: MeasurementRow[];
  /** what Copy puts on the clipboard */
  text?: string;
  error?: string;
  [extra: string]: unknown;
}

export interface ClipOptions {
  enabled: boolean;
  normal: [number, number, number];
  offset: number;
}

export interface ViewOptions {
  projection?: 'perspective' | 'orthographic';
  edges?: boolean;
  grid?: boolean;
  axes?: boolean;
  clip?: Partial<ClipOptions>;
  opacity?: number;
  hidden?: string[];
  /** level of detail of the meshes the kernel sends */
  quality?: 'preview' | 'medium' | 'high';
}

export interface Notice {
  level: 'info' | 'warning' | 'error';
  text: string;
  seq: number;
}

/** How the Studio arranges its editor and viewer ("auto": by its width). */
export type LayoutChoice = 'auto' | 'side-by-side' | 'stacked' | 'editor' | 'viewer';

/** Every synced trait with its type. */
export interface Traits {
  graph: GraphJSON;
  catalogue: NodeSpecJSON[];
  status: Record<string, NodeStatus>;
  evaluating: boolean;
  selected: string[];
  pick: Pick | Record<string, never>;
  pick_info: PickInfo;
  measurement: Measurement;
  view: ViewOptions;
  dirty: boolean;
  title: string;
  message: Notice | Record<string, never>;
  height: number;
  panes: LayoutChoice;
}

export type EditOp =
  | { op: 'add_node'; type: string; id?: string; position: XY; params?: Record<string, JSONValue> }
  | { op: 'remove_node'; id: string }
  | { op: 'move_node'; id: string; position: XY }
  | { op: 'connect'; source: string; sourceHandle: string; target: string; targetHandle: string }
  | { op: 'disconnect'; source: string; sourceHandle: string; target: string; targetHandle: string }
  | { op: 'set_param'; id: string; name: string; value: JSONValue }
  | {
      op: 'set_global';
      name: string;
      value: JSONValue;
      min?: number | null;
      max?: number | null;
      step?: number | null;
      unit?: string | null;
    }
  | { op: 'remove_global'; name: string };

export type BrowserMessage =
  | { type: 'ready' }
  | { type: 'edit'; ops: EditOp[]; seq: number }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'evaluate' }
  | { type: 'save' }
  | { type: 'preview'; node: string; on: boolean }
  | { type: 'measure'; seq: number; picks: MeasurePick[] };

export interface MeshBufferIndices {
  positions: number;
  normals?: number;
  indices: number;
  edges?: number;
  face_ranges?: number;
  edge_ranges?: number;
}

export interface MeshEntry {
  id: string;
  version: number;
  color?: string;
  visible?: boolean;
  bbox?: [[number, number, number], [number, number, number]];
  buffers: MeshBufferIndices;
}

export interface MeshesMessage {
  type: 'meshes';
  nodes: MeshEntry[];
  removed?: string[];
}

export interface AckMessage {
  type: 'ack';
  seq: number;
  ok: boolean;
  error?: string;
}

export type KernelMessage = MeshesMessage | AckMessage | { type: string; [key: string]: unknown };
