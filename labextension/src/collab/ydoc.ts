/**
 * The browser's side of the shared graph document: a `YDocument` with the same roots, names
 * and kinds as Python's `brepflow_lab.collab.ydoc.YGraph` (meta, nodes, links, parameters:
 * all `Y.Map`), so jupyter-collaboration's room (which holds a YGraph, found through the
 * `jupyter_ydoc` entry point `bflow`) and this document sync over the room's websocket.
 *
 * The browser does not interpret these maps: turning the merged state into a valid graph
 * (the projection) happens in Python, in each Studio tab's kernel, and the tab only relays
 * updates (see ./relay.ts and brepflow_lab/collab/replica.py). One implementation of the
 * projection means every screen shows the same graph.
 */
import { DocumentChange, YDocument } from '@jupyter/ydoc';
import { JSONObject } from '@lumino/coreutils';
import * as Y from 'yjs';

/** Content type of graph files in collaboration (the server's jupyter_ydoc entry point). */
export const CONTENT_TYPE = 'bflow';

/** The roots of the shared graph, as in brepflow_lab/collab/ydoc.py `ROOTS`. */
export const ROOTS = ['meta', 'nodes', 'links', 'parameters'] as const;

export class YGraphDoc extends YDocument<DocumentChange> {
  readonly meta: Y.Map<unknown>;
  readonly nodes: Y.Map<unknown>;
  readonly links: Y.Map<unknown>;
  readonly parameters: Y.Map<unknown>;

  constructor() {
    super();
    this.meta = this.ydoc.getMap('meta');
    this.nodes = this.ydoc.getMap('nodes');
    this.links = this.ydoc.getMap('links');
    this.parameters = this.ydoc.getMap('parameters');
  }

  get version(): string {
    return '1.0.0';
  }

  /** Whether the room holds a graph (the server loaded the file through YGraph). */
  get loaded(): boolean {
    return this.meta.has('version');
  }

  /** The raw shared state (not the projection: that is Python's). */
  getSource(): JSONObject {
    return {
      meta: this.meta.toJSON(),
      nodes: this.nodes.toJSON(),
      links: this.links.toJSON(),
      parameters: this.parameters.toJSON()
    } as JSONObject;
  }

  setSource(): void {
    throw new Error('a shared BrepFlow graph is edited through its Studio (the projection lives in Python)');
  }
}
