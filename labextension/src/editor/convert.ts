/**
 * Graph JSON (the `graph` trait, BrepFlow's .bflow.json form) → @xyflow/react nodes and edges.
 *
 * Node objects are reused when nothing they show changed, so a Python-side update of one
 * node re-renders one node, not 500. Links come from each node's `inputs` (what the engine
 * evaluates), not from the redundant `edges` list.
 */
import type { Edge, Node } from '@xyflow/react';
import type { GraphJSON, GraphNodeJSON, NodeSpecJSON, SocketRef, XY } from '../protocol';
import { portColor } from './ports';

export interface StudioNodeData extends Record<string, unknown> {
  node: GraphNodeJSON;
  spec: NodeSpecJSON | undefined;
  /** identity of what the node shows (type, label, params, spec): reuse when equal */
  key: string;
}

export type StudioFlowNode = Node<StudioNodeData, 'studio'>;

export interface StudioEdgeData extends Record<string, unknown> {
  type: string;
  /** drawn before the kernel confirmed it */
  pending?: boolean;
}

export type StudioFlowEdge = Edge<StudioEdgeData>;

export function refsOf(value: SocketRef | SocketRef[] | undefined): SocketRef[] {
  if (!value) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}

/** What a node is called on screen: its label, else its type's label, else the type's last part. */
export function nodeLabel(node: GraphNodeJSON, spec: NodeSpecJSON | undefined): string {
  return node.label || spec?.label || node.type.split('::').pop() || node.type;
}

/** The accessible name of a node: "Box 'base' (Solid::Box)". */
export function nodeName(node: GraphNodeJSON, spec: NodeSpecJSON | undefined): string {
  return `${nodeLabel(node, spec)} '${node.id}' (${node.type})`;
}

/** The accessible name of a port: "output shape of Box 'base' (Solid)". */
export function portName(kind: 'in' | 'out', socket: string, label: string, nodeId: string, type: string): string {
  return `${kind === 'in' ? 'input' : 'output'} ${socket} of ${label} '${nodeId}' (${type})`;
}

/** The accessible name of a link: "link from base.shape to shell.shape (Solid)". */
export function linkName(source: string, sourceHandle: string, target: string, targetHandle: string, type: string): string {
  return `link from ${source}.${sourceHandle} to ${target}.${targetHandle} (${type})`;
}

function dataKey(node: GraphNodeJSON, spec: NodeSpecJSON | undefined): string {
  const { position: _position, ...rest } = node;
  return JSON.stringify(rest) + '|' + (spec ? `${spec.type}@${spec.version}` : '?');
}

function estimatedHeight(node: GraphNodeJSON, spec: NodeSpecJSON | undefined): number {
  const ports = Math.max(spec?.inputs.length ?? Object.keys(node.inputs ?? {}).length, spec?.outputs.length ?? 1);
  const params = Math.min(spec?.params.length ?? 0, 5);
  return 44 + 18 * ports + (params ? 8 + 18 * params : 0);
}

export function defaultPosition(index: number): XY {
  return { x: 220 * (index % 6), y: 160 * Math.floor(index / 6) };
}

export function graphToNodes(
  graph: GraphJSON,
  specs: Map<string, NodeSpecJSON>,
  previous: Map<string, StudioFlowNode>
): StudioFlowNode[] {
  return graph.nodes.map((n, index) => {
    const spec = specs.get(n.type);
    const key = dataKey(n, spec);
    const prev = previous.get(n.id);
    const position = prev?.dragging ? prev.position : (n.position ?? defaultPosition(index));
    if (prev && prev.data.key === key && prev.position.x === position.x && prev.position.y === position.y) {
      return prev;
    }
    const data: StudioNodeData = prev && prev.data.key === key ? prev.data : { node: n, spec, key };
    const node: StudioFlowNode = {
      id: n.id,
      type: 'studio',
      position: { x: position.x, y: position.y },
      data,
      // a size before the first render, so fit-view and culling place unseen nodes right
      initialWidth: 200,
      initialHeight: estimatedHeight(n, spec),
      ariaLabel: nodeName(n, spec),
      selected: prev?.selected ?? false,
      dragging: prev?.dragging
    };
    if (prev?.measured) {
      node.measured = prev.measured;
    }
    return node;
  });
}

export function edgeId(source: string, sourceHandle: string, target: string, targetHandle: string): string {
  return `${source}:${sourceHandle}->${target}:${targetHandle}`;
}

export function graphToEdges(
  graph: GraphJSON,
  specs: Map<string, NodeSpecJSON>,
  previous: Map<string, StudioFlowEdge>
): StudioFlowEdge[] {
  const byId = new Map(graph.nodes.map(n => [n.id, n]));
  const edges: StudioFlowEdge[] = [];
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    for (const [input, value] of Object.entries(n.inputs ?? {})) {
      for (const ref of refsOf(value)) {
        let id = edgeId(ref.nodeId, ref.socketId, n.id, input);
        for (let i = 2; seen.has(id); i++) {
          id = `${edgeId(ref.nodeId, ref.socketId, n.id, input)}#${i}`;
        }
        seen.add(id);
        const source = byId.get(ref.nodeId);
        const sourceSpec = source ? specs.get(source.type) : undefined;
        const type = sourceSpec?.outputs.find(o => o.name === ref.socketId)?.type ?? 'Any';
        const prev = previous.get(id);
        if (prev && prev.source === ref.nodeId && prev.data?.type === type && !prev.data?.pending) {
          edges.push(prev);
          continue;
        }
        edges.push({
          id,
          source: ref.nodeId,
          sourceHandle: ref.socketId,
          target: n.id,
          targetHandle: input,
          data: { type },
          style: { stroke: portColor(type) },
          ariaLabel: linkName(ref.nodeId, ref.socketId, n.id, input, type),
          selected: prev?.selected ?? false
        });
      }
    }
  }
  return edges;
}

/** A fresh node id in the kernel's style (`box1`, `fillet2`, ...), unique among `taken`. */
export function newNodeId(type: string, taken: Set<string>): string {
  const base =
    (type.split('::').pop() ?? 'node')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toLowerCase() || 'node';
  let i = 1;
  while (taken.has(`${base}${i}`)) {
    i++;
  }
  const id = `${base}${i}`;
  taken.add(id);
  return id;
}

/** True when linking source → target would close a cycle. */
export function createsCycle(graph: GraphJSON, source: string, target: string): boolean {
  if (source === target) {
    return true;
  }
  // walk downstream from target: if we reach source, the new link closes a loop
  const downstream = new Map<string, string[]>();
  for (const n of graph.nodes) {
    for (const value of Object.values(n.inputs ?? {})) {
      for (const ref of refsOf(value)) {
        const list = downstream.get(ref.nodeId) ?? [];
        list.push(n.id);
        downstream.set(ref.nodeId, list);
      }
    }
  }
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === source) {
      return true;
    }
    if (seen.has(id)) {
      continue;
    }
    seen.add(id);
    stack.push(...(downstream.get(id) ?? []));
  }
  return false;
}
