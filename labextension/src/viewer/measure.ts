/**
 * What the Measure tool draws over the model: the picked entities (first orange, second
 * violet), the entity under the cursor (light blue, before it is clicked), and the line
 * between the two closest points of a distance.
 *
 * The values themselves never come from here: the kernel measures the exact B-Rep
 * (`studio.measurement`). This module only shows *which* faces, edges, vertices or solids
 * were picked, from the mesh's face and edge ranges.
 */
import {
  BufferAttribute,
  BufferGeometry,
  DoubleSide,
  Group,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshBasicMaterial,
  Points,
  PointsMaterial,
  type Object3D
} from 'three';
import type { MeasurePick } from '../protocol';
import type { Part } from './scene';

/** A pick the Measure tool resolved in the browser (what goes to the kernel). */
export interface MeasureHit extends MeasurePick {
  version: number;
  point: [number, number, number];
}

/** How close (CSS px) a click must be to an edge's end to pick its vertex. */
export const VERTEX_PICK_PX = 7;

const COLORS = [0xff8c1a, 0xa855f7];
const HOVER = 0x38bdf8;

interface Look {
  face: MeshBasicMaterial;
  edge: LineBasicMaterial;
  point: PointsMaterial;
}

function look(color: number, opacity: number): Look {
  return {
    face: new MeshBasicMaterial({
      color,
      side: DoubleSide,
      polygonOffset: true,
      polygonOffsetFactor: -2,
      polygonOffsetUnits: -2,
      transparent: true,
      opacity,
      depthWrite: false
    }),
    edge: new LineBasicMaterial({ color, depthTest: false, transparent: true }),
    point: new PointsMaterial({ color, size: 9, sizeAttenuation: false, depthTest: false, transparent: true })
  };
}

/** The faces / edge / vertex of a pick, drawn with `style`, in the part's coordinates. */
function entityObject(part: Part, pick: MeasurePick & { point?: [number, number, number] }, style: Look): Object3D | null {
  if (pick.kind === 'face' || pick.kind === 'solid') {
    const index = part.mesh.geometry.getIndex();
    if (!index) {
      return null;
    }
    let sub: Uint32Array;
    if (pick.kind === 'solid') {
      sub = (index.array as Uint32Array).slice();
    } else {
      const first = part.faceRanges[2 * pick.index];
      const count = part.faceRanges[2 * pick.index + 1];
      if (count === undefined) {
        return null;
      }
      sub = (index.array as Uint32Array).slice(3 * first, 3 * (first + count));
    }
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', part.mesh.geometry.getAttribute('position'));
    geometry.setIndex(new BufferAttribute(sub, 1));
    const mesh = new Mesh(geometry, style.face);
    mesh.userData.sharedPosition = true; // the part's own buffer: never disposed here
    return mesh;
  }
  if (pick.kind === 'vertex') {
    if (!pick.point) {
      return null;
    }
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(new Float32Array(pick.point), 3));
    const points = new Points(geometry, style.point);
    points.renderOrder = 12;
    return points;
  }
  const first = part.edgeRanges[2 * pick.index];
  const count = part.edgeRanges[2 * pick.index + 1];
  if (!part.edges || count === undefined) {
    return null;
  }
  const all = part.edges.geometry.getAttribute('position').array as Float32Array;
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new BufferAttribute(all.slice(6 * first, 6 * (first + count)), 3));
  const lines = new LineSegments(geometry, style.edge);
  lines.renderOrder = 11;
  return lines;
}

export class MeasureMarks {
  readonly group = new Group();
  private picked = new Group();
  private hovered = new Group();
  private looks = COLORS.map(c => look(c, 0.8));
  private hoverLook = look(HOVER, 0.55);
  private lineMaterial = new LineBasicMaterial({ color: 0x111827, depthTest: false });
  private pointMaterial = new PointsMaterial({ color: 0x111827, size: 7, sizeAttenuation: false, depthTest: false });
  /** nodes the marks were drawn for (cleared when one of them changes) */
  private nodes = new Set<string>();
  private hoverKey = '';

  constructor() {
    this.group.add(this.picked, this.hovered);
    this.group.renderOrder = 10;
  }

  /** Show the picks and, when known, the segment between the two closest points. */
  set(parts: Map<string, Part>, picks: MeasureHit[], segment: [number[], number[]] | null): void {
    clear(this.picked);
    this.nodes = new Set(picks.map(p => p.node));
    picks.forEach((pick, i) => {
      const part = parts.get(pick.node);
      const object = part ? entityObject(part, pick, this.looks[Math.min(i, this.looks.length - 1)]) : null;
      if (object) {
        this.picked.add(object);
      }
    });
    if (segment) {
      const ends = new Float32Array([...segment[0], ...segment[1]]);
      const line = new BufferGeometry();
      line.setAttribute('position', new BufferAttribute(ends, 3));
      const drawn = new LineSegments(line, this.lineMaterial);
      drawn.renderOrder = 13;
      const dots = new BufferGeometry();
      dots.setAttribute('position', new BufferAttribute(ends.slice(), 3));
      const points = new Points(dots, this.pointMaterial);
      points.renderOrder = 13;
      this.picked.add(drawn, points);
    }
  }

  /** Show what a click would pick; false when it was already shown. */
  hover(parts: Map<string, Part>, hit: MeasureHit | null): boolean {
    const key = hit ? `${hit.node}:${hit.kind}:${hit.index}:${hit.kind === 'vertex' ? hit.point.join(',') : ''}` : '';
    if (key === this.hoverKey) {
      return false;
    }
    this.hoverKey = key;
    clear(this.hovered);
    const part = hit ? parts.get(hit.node) : undefined;
    const object = hit && part ? entityObject(part, hit, this.hoverLook) : null;
    if (object) {
      this.hovered.add(object);
    }
    return true;
  }

  /** A part's mesh changed or went away: its marks no longer match it. */
  forget(node: string): boolean {
    if (!this.nodes.has(node) && !this.hoverKey.startsWith(`${node}:`)) {
      return false;
    }
    clear(this.picked);
    clear(this.hovered);
    this.nodes.clear();
    this.hoverKey = '';
    return true;
  }

  dispose(): void {
    clear(this.picked);
    clear(this.hovered);
    for (const style of [...this.looks, this.hoverLook]) {
      style.face.dispose();
      style.edge.dispose();
      style.point.dispose();
    }
    this.lineMaterial.dispose();
    this.pointMaterial.dispose();
  }
}

function clear(group: Group): void {
  for (const child of [...group.children]) {
    group.remove(child);
    const geometry = (child as Mesh).geometry;
    if (child.userData.sharedPosition) {
      geometry.deleteAttribute('position'); // disposing it would drop the part's GPU buffer
    }
    geometry?.dispose();
  }
}
