/**
 * GPU id-buffer picking.
 *
 * Each visible part is drawn a second time, into a small offscreen target around the
 * cursor, with a colour that encodes what the pixel shows: RGB = triangle (or edge segment)
 * index + 1, A = the part's slot, with bit 7 set for edges. Reading a 9×9 window and
 * preferring the edge pixel nearest the cursor makes 1-px edges easy to hit. The triangle
 * then maps to its B-Rep face through `face_ranges` (and a segment to its edge through
 * `edge_ranges`), which is what the kernel needs to name a selector.
 *
 * Pick geometries are built lazily on the first pick after a part's geometry changes, so
 * parameter edits (which replace geometry) cost nothing extra until the user clicks.
 */
import {
  BufferAttribute,
  BufferGeometry,
  Camera,
  Color,
  DoubleSide,
  LineSegments,
  Mesh,
  NoBlending,
  OrthographicCamera,
  PerspectiveCamera,
  Plane,
  Scene,
  ShaderMaterial,
  Vector4,
  WebGLRenderTarget,
  WebGLRenderer,
  type BufferGeometry as Geometry
} from 'three';

export const PICK_RADIUS = 4;
const SIZE = PICK_RADIUS * 2 + 1;

const vertexShader = /* glsl */ `
attribute vec4 pickColor;
varying vec4 vColor;
varying vec3 vWorld;
void main() {
  vColor = pickColor;
  vec4 world = modelMatrix * vec4(position, 1.0);
  vWorld = world.xyz;
  gl_Position = projectionMatrix * viewMatrix * world;
}
`;

const fragmentShader = /* glsl */ `
uniform vec4 uPlane;
uniform float uClip;
varying vec4 vColor;
varying vec3 vWorld;
void main() {
  if (uClip > 0.5 && dot(vWorld, uPlane.xyz) + uPlane.w < 0.0) discard;
  gl_FragColor = vColor;
}
`;

export interface PickablePart {
  id: string;
  slot: number;
  mesh: Mesh;
  edges: LineSegments | null;
  visible: boolean;
}

export interface PickHit {
  node: string;
  kind: 'face' | 'edge';
  /** triangle index (faces) or segment index (edges) */
  item: number;
}

function encode(index: number, alpha: number, out: Uint8Array, offset: number): void {
  const id = index + 1;
  out[offset] = id & 255;
  out[offset + 1] = (id >> 8) & 255;
  out[offset + 2] = (id >> 16) & 255;
  out[offset + 3] = alpha;
}

/** Non-indexed copy of a mesh whose three vertices per triangle carry the triangle's id. */
export function facePickGeometry(source: Geometry, slot: number): BufferGeometry {
  const positions = source.getAttribute('position').array as Float32Array;
  const index = source.getIndex();
  const triangles = index ? index.count / 3 : positions.length / 9;
  const out = new Float32Array(triangles * 9);
  const colors = new Uint8Array(triangles * 12);
  const idx = index ? (index.array as Uint32Array | Uint16Array) : null;
  for (let t = 0; t < triangles; t++) {
    for (let k = 0; k < 3; k++) {
      const v = idx ? idx[3 * t + k] : 3 * t + k;
      out[9 * t + 3 * k] = positions[3 * v];
      out[9 * t + 3 * k + 1] = positions[3 * v + 1];
      out[9 * t + 3 * k + 2] = positions[3 * v + 2];
      encode(t, slot, colors, 12 * t + 4 * k);
    }
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new BufferAttribute(out, 3));
  geometry.setAttribute('pickColor', new BufferAttribute(colors, 4, true));
  return geometry;
}

/** Line segments whose two vertices carry the segment's id. */
export function edgePickGeometry(source: Geometry, slot: number): BufferGeometry {
  const position = source.getAttribute('position');
  const segments = position.count / 2;
  const colors = new Uint8Array(segments * 8);
  for (let s = 0; s < segments; s++) {
    encode(s, 128 | slot, colors, 8 * s);
    encode(s, 128 | slot, colors, 8 * s + 4);
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', position);
  geometry.setAttribute('pickColor', new BufferAttribute(colors, 4, true));
  return geometry;
}

export class Picker {
  private target = new WebGLRenderTarget(SIZE, SIZE);
  private pixels = new Uint8Array(SIZE * SIZE * 4);
  private scene = new Scene();
  private faceMaterial: ShaderMaterial;
  private edgeMaterial: ShaderMaterial;
  private cache = new Map<string, { mesh: Mesh; lines: LineSegments | null; source: Geometry; edgeSource: Geometry | null }>();

  constructor() {
    const uniforms = { uPlane: { value: new Vector4() }, uClip: { value: 0 } };
    this.faceMaterial = new ShaderMaterial({
      vertexShader,
      fragmentShader,
      uniforms,
      blending: NoBlending,
      side: DoubleSide,
      polygonOffset: true,
      polygonOffsetFactor: 1,
      polygonOffsetUnits: 1
    });
    this.edgeMaterial = new ShaderMaterial({ vertexShader, fragmentShader, uniforms, blending: NoBlending });
    this.scene.matrixWorldAutoUpdate = true;
  }

  /** Drop the cached pick geometry of a part (its geometry changed or it was removed). */
  invalidate(id: string): void {
    const cached = this.cache.get(id);
    if (cached) {
      this.scene.remove(cached.mesh);
      cached.mesh.geometry.dispose();
      if (cached.lines) {
        this.scene.remove(cached.lines);
        cached.lines.geometry.dispose();
      }
      this.cache.delete(id);
    }
  }

  private sync(parts: PickablePart[], pickEdges: boolean): void {
    for (const part of parts) {
      let cached = this.cache.get(part.id);
      const edgeSource = part.edges ? part.edges.geometry : null;
      if (cached && (cached.source !== part.mesh.geometry || cached.edgeSource !== edgeSource)) {
        this.invalidate(part.id);
        cached = undefined;
      }
      if (!cached) {
        const mesh = new Mesh(facePickGeometry(part.mesh.geometry, part.slot), this.faceMaterial);
        const lines = edgeSource ? new LineSegments(edgePickGeometry(edgeSource, part.slot), this.edgeMaterial) : null;
        mesh.matrixAutoUpdate = false;
        this.scene.add(mesh);
        if (lines) {
          lines.matrixAutoUpdate = false;
          this.scene.add(lines);
        }
        cached = { mesh, lines, source: part.mesh.geometry, edgeSource };
        this.cache.set(part.id, cached);
      }
      cached.mesh.matrix.copy(part.mesh.matrixWorld);
      cached.mesh.visible = part.visible;
      if (cached.lines) {
        cached.lines.matrix.copy(part.mesh.matrixWorld);
        cached.lines.visible = part.visible && pickEdges;
      }
    }
    const live = new Set(parts.map(p => p.id));
    for (const id of Array.from(this.cache.keys())) {
      if (!live.has(id)) {
        this.invalidate(id);
      }
    }
  }

  /**
   * What is under (x, y) (CSS pixels from the canvas' top-left corner)?
   * `clip` is the active clipping plane (or null) so clipped-away geometry is not picked.
   */
  pick(
    renderer: WebGLRenderer,
    camera: PerspectiveCamera | OrthographicCamera,
    parts: PickablePart[],
    x: number,
    y: number,
    width: number,
    height: number,
    clip: Plane | null,
    pickEdges: boolean
  ): PickHit | null {
    this.sync(parts, pickEdges);
    const uniforms = this.faceMaterial.uniforms;
    uniforms.uClip.value = clip ? 1 : 0;
    if (clip) {
      uniforms.uPlane.value.set(clip.normal.x, clip.normal.y, clip.normal.z, clip.constant);
    }
    const cam = camera as Camera & { setViewOffset: PerspectiveCamera['setViewOffset']; clearViewOffset(): void };
    cam.setViewOffset(width, height, Math.round(x) - PICK_RADIUS, Math.round(y) - PICK_RADIUS, SIZE, SIZE);
    const previousTarget = renderer.getRenderTarget();
    const previousAlpha = renderer.getClearAlpha();
    const previousColor = renderer.getClearColor(new Color());
    renderer.setRenderTarget(this.target);
    renderer.setClearColor(0x000000, 0);
    renderer.clear();
    renderer.render(this.scene, camera);
    renderer.readRenderTargetPixels(this.target, 0, 0, SIZE, SIZE, this.pixels);
    renderer.setRenderTarget(previousTarget);
    renderer.setClearColor(previousColor, previousAlpha);
    cam.clearViewOffset();
    return this.decode(parts);
  }

  private decode(parts: PickablePart[]): PickHit | null {
    const bySlot = new Map(parts.map(p => [p.slot, p.id]));
    let bestEdge: PickHit | null = null;
    let bestEdgeDistance = Infinity;
    let face: PickHit | null = null;
    let faceDistance = Infinity;
    for (let row = 0; row < SIZE; row++) {
      for (let col = 0; col < SIZE; col++) {
        const o = 4 * (row * SIZE + col);
        const a = this.pixels[o + 3];
        if (a === 0) {
          continue;
        }
        const id = this.pixels[o] | (this.pixels[o + 1] << 8) | (this.pixels[o + 2] << 16);
        if (id === 0) {
          continue;
        }
        const dx = col - PICK_RADIUS;
        const dy = row - PICK_RADIUS;
        const d = dx * dx + dy * dy;
        const isEdge = (a & 128) !== 0;
        const node = bySlot.get(a & 127);
        if (!node) {
          continue;
        }
        if (isEdge && d < bestEdgeDistance && d <= 9) {
          bestEdgeDistance = d;
          bestEdge = { node, kind: 'edge', item: id - 1 };
        } else if (!isEdge && d < faceDistance) {
          faceDistance = d;
          face = { node, kind: 'face', item: id - 1 };
        }
      }
    }
    if (bestEdge) {
      return bestEdge;
    }
    // a face must be under the cursor itself (or right next to it), not 4 px away
    return face && faceDistance <= 2 ? face : null;
  }

  dispose(): void {
    for (const id of Array.from(this.cache.keys())) {
      this.invalidate(id);
    }
    this.target.dispose();
    this.faceMaterial.dispose();
    this.edgeMaterial.dispose();
  }
}
