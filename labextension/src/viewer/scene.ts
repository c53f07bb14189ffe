/**
 * The 3D view: a three.js scene that lives as long as the Studio.
 *
 * Meshes arrive per node as binary buffers; a part's geometry is replaced in place and its
 * materials are kept (disposing a material forces a shader recompile, ~0.5 s under software
 * WebGL). Rendering is on demand — one frame per change or camera move, no idle loop — so a
 * notebook full of Studios costs nothing while nobody touches them.
 *
 * The camera is the user's: re-evaluations and parameter edits never move it. It is framed
 * on the first meshes, again when the canvas changes size until the user first orbits, pans
 * or zooms (a layout settling must not leave the model off-centre), and on Fit / `F`.
 *
 * CAD convention: Z is up. Both cameras share the orbit target; switching projection keeps
 * the view. The canvas keeps its drawing buffer (`preserveDrawingBuffer`) so tests and
 * screenshots can read its pixels.
 */
import {
  AmbientLight,
  AxesHelper,
  Box3,
  BufferAttribute,
  BufferGeometry,
  Color,
  DirectionalLight,
  DoubleSide,
  GridHelper,
  Group,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshBasicMaterial,
  MeshPhongMaterial,
  OrthographicCamera,
  PerspectiveCamera,
  Plane,
  Raycaster,
  Scene,
  Sphere,
  Vector2,
  Vector3,
  WebGLRenderer
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { MeshEntry, MeshesMessage, ViewOptions } from '../protocol';
import { mark } from '../widget/model';
import { float32, rangeIndexOf, uint32 } from './arrays';
import { MeasureMarks, VERTEX_PICK_PX, type MeasureHit } from './measure';
import { Picker, type PickHit, type PickablePart } from './picking';

export type StandardView = 'iso' | 'top' | 'front' | 'right' | 'back' | 'left' | 'bottom';

const VIEW_DIRECTIONS: Record<StandardView, [number, number, number]> = {
  iso: [1, -1, 0.8],
  top: [0, -1e-4, 1],
  bottom: [0, -1e-4, -1],
  front: [0, -1, 0],
  back: [0, 1, 0],
  right: [1, 0, 0],
  left: [-1, 0, 0]
};

export interface Part {
  id: string;
  slot: number;
  version: number;
  group: Group;
  mesh: Mesh;
  material: MeshPhongMaterial;
  edges: LineSegments | null;
  faceRanges: Uint32Array;
  edgeRanges: Uint32Array;
  triangles: number;
  color: string;
  kernelVisible: boolean;
  bbox: Box3;
}

export interface ResolvedPick {
  node: string;
  kind: 'face' | 'edge';
  /** B-Rep face or edge index (through face_ranges / edge_ranges) */
  index: number;
  /** version of the mesh that was picked (the kernel refuses a pick of an older mesh) */
  version: number;
  /** the picked point in model coordinates (helps the kernel choose a selector) */
  point: [number, number, number];
}

export interface ThemeColors {
  background: string;
  grid: string;
  gridCenter: string;
  edges: string;
}

export class StudioScene {
  readonly renderer: WebGLRenderer;
  readonly scene = new Scene();
  readonly parts = new Map<string, Part>();
  private root = new Group();
  private perspective: PerspectiveCamera;
  private orthographic: OrthographicCamera;
  private camera: PerspectiveCamera | OrthographicCamera;
  private controls: OrbitControls;
  private light = new DirectionalLight(0xffffff, 2.2);
  private grid: GridHelper | null = null;
  private gridSize = 0;
  private axes = new AxesHelper(1);
  private edgeMaterial = new LineBasicMaterial({ color: 0x1f2937 });
  private clipPlane = new Plane(new Vector3(0, 0, -1), 0);
  /** current section plane (for the UI: range of the offset slider) */
  get clipBox(): Box3 {
    return this.visibleBox();
  }
  private clipOn = false;
  private opacity = 1;
  private showEdges = true;
  private showGrid = true;
  private hidden = new Set<string>();
  private picker = new Picker();
  private highlight: Mesh | LineSegments | null = null;
  private highlightFace = new MeshBasicMaterial({
    color: 0xff8c1a,
    side: DoubleSide,
    polygonOffset: true,
    polygonOffsetFactor: -2,
    polygonOffsetUnits: -2,
    transparent: true,
    opacity: 0.85
  });
  private highlightEdge = new LineBasicMaterial({ color: 0xff8c1a, depthTest: false });
  /** the Measure tool's picks, hover and distance line (viewer/measure.ts) */
  private measureMarks = new MeasureMarks();
  private frameRequested = 0;
  private width = 1;
  private height = 1;
  private fitted = false;
  /** Frame the model again when the canvas is resized (until the user moves the camera). */
  private autoFrame = true;
  private nextSlot = 1;
  private theme: ThemeColors = { background: '#ffffff', grid: '#d4d4d4', gridCenter: '#a3a3a3', edges: '#1f2937' };
  frames = 0;
  onRender: (() => void) | null = null;
  private meshesPending = false;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.renderer = new WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true, alpha: false });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.localClippingEnabled = true;
    this.perspective = new PerspectiveCamera(40, 1, 0.1, 10000);
    this.orthographic = new OrthographicCamera(-1, 1, 1, -1, -10000, 10000);
    for (const cam of [this.perspective, this.orthographic]) {
      cam.up.set(0, 0, 1);
      cam.position.set(150, -150, 120);
      cam.lookAt(0, 0, 0);
      this.scene.add(cam);
    }
    this.camera = this.perspective;
    this.light.position.set(0.5, 0.8, 1);
    this.camera.add(this.light);
    this.scene.add(new AmbientLight(0xffffff, 0.9));
    this.scene.add(this.root);
    this.axes.visible = false;
    this.scene.add(this.axes);
    this.scene.add(this.measureMarks.group);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = false;
    this.controls.screenSpacePanning = true;
    this.controls.addEventListener('change', () => this.requestRender());
    this.controls.addEventListener('start', () => {
      this.autoFrame = false;
    });
    this.setTheme(this.theme);
  }

  // -- frames ------------------------------------------------------------------------------
  requestRender(): void {
    if (this.frameRequested) {
      return;
    }
    this.frameRequested = requestAnimationFrame(() => {
      this.frameRequested = 0;
      this.render();
    });
  }

  render(): void {
    this.syncOrthoFrustum();
    this.renderer.render(this.scene, this.camera);
    this.frames++;
    if (this.meshesPending) {
      this.meshesPending = false;
      mark('brepflow:meshes-drawn');
    }
    this.onRender?.();
  }

  resize(width: number, height: number): void {
    this.width = Math.max(1, Math.floor(width));
    this.height = Math.max(1, Math.floor(height));
    this.renderer.setSize(this.width, this.height, false);
    this.perspective.aspect = this.width / this.height;
    this.perspective.updateProjectionMatrix();
    this.syncOrthoFrustum();
    if (this.fitted && this.autoFrame) {
      this.setView(null, true);
    }
    this.requestRender();
  }

  /** The camera's world matrix, rounded (the viewer's debugging state: `data-camera`). */
  cameraState(): string {
    this.camera.updateMatrixWorld();
    return this.camera.matrixWorld.elements.map(v => Number(v.toPrecision(7))).join(',');
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.scene.background = new Color(theme.background);
    this.edgeMaterial.color.set(theme.edges);
    this.rebuildGrid(true);
    this.requestRender();
  }

  // -- meshes ------------------------------------------------------------------------------
  /** Apply a `meshes` message: replace geometry in place, add new parts, drop removed ones. */
  applyMeshes(message: MeshesMessage, buffers: DataView[]): void {
    for (const id of message.removed ?? []) {
      this.removePart(id);
    }
    for (const entry of message.nodes ?? []) {
      this.upsertPart(entry, buffers);
    }
    this.updateVisibility();
    this.rebuildGrid(false);
    this.meshesPending = true;
    if (!this.fitted && this.visibleBox().isEmpty() === false) {
      this.fitted = true;
      this.setView('iso', false);
    }
    // draw now rather than on the next animation frame: the new geometry shows up to a
    // frame sooner after a parameter change
    cancelAnimationFrame(this.frameRequested);
    this.frameRequested = 0;
    this.render();
  }

  private upsertPart(entry: MeshEntry, buffers: DataView[]): void {
    const b = entry.buffers;
    const positions = float32(buffers[b.positions]);
    const indices = uint32(buffers[b.indices]);
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(positions, 3));
    if (b.normals !== undefined && buffers[b.normals] && buffers[b.normals].byteLength === positions.byteLength) {
      geometry.setAttribute('normal', new BufferAttribute(float32(buffers[b.normals]), 3));
    }
    geometry.setIndex(new BufferAttribute(indices, 1));
    if (!geometry.getAttribute('normal')) {
      geometry.computeVertexNormals();
    }
    geometry.computeBoundingBox();
    geometry.computeBoundingSphere();
    const edgeArray = b.edges !== undefined ? float32(buffers[b.edges]) : new Float32Array(0);
    let edgeGeometry: BufferGeometry | null = null;
    if (edgeArray.length) {
      edgeGeometry = new BufferGeometry();
      edgeGeometry.setAttribute('position', new BufferAttribute(edgeArray, 3));
    }
    const color = entry.color || '#4a90d9';
    const bbox = entry.bbox
      ? new Box3(new Vector3(...entry.bbox[0]), new Vector3(...entry.bbox[1]))
      : geometry.boundingBox!.clone();
    let part = this.parts.get(entry.id);
    if (part) {
      // in place: swap geometry, keep materials (no shader recompile)
      const old = part.mesh.geometry;
      part.mesh.geometry = geometry;
      old.dispose();
      if (part.edges) {
        const oldEdges = part.edges.geometry;
        if (edgeGeometry) {
          part.edges.geometry = edgeGeometry;
        } else {
          part.group.remove(part.edges);
          part.edges = null;
        }
        oldEdges.dispose();
      } else if (edgeGeometry) {
        part.edges = this.makeEdges(edgeGeometry);
        part.group.add(part.edges);
      }
      if (part.color !== color) {
        part.material.color.set(color);
        part.color = color;
      }
      this.picker.invalidate(entry.id);
      if (this.highlight && this.highlight.userData.node === entry.id) {
        this.clearHighlight();
      }
      this.measureMarks.forget(entry.id);
    } else {
      const material = new MeshPhongMaterial({
        color,
        specular: 0x222222,
        shininess: 30,
        side: DoubleSide,
        polygonOffset: true,
        polygonOffsetFactor: 1,
        polygonOffsetUnits: 1,
        clippingPlanes: this.clipOn ? [this.clipPlane] : []
      });
      this.applyOpacity(material);
      const mesh = new Mesh(geometry, material);
      mesh.userData.node = entry.id;
      const group = new Group();
      group.name = entry.id;
      group.add(mesh);
      const edges = edgeGeometry ? this.makeEdges(edgeGeometry) : null;
      if (edges) {
        group.add(edges);
      }
      this.root.add(group);
      part = {
        id: entry.id,
        slot: this.allocateSlot(),
        version: entry.version,
        group,
        mesh,
        material,
        edges,
        faceRanges: new Uint32Array(0),
        edgeRanges: new Uint32Array(0),
        triangles: 0,
        color,
        kernelVisible: true,
        bbox
      };
      this.parts.set(entry.id, part);
    }
    part.version = entry.version;
    part.faceRanges = b.face_ranges !== undefined ? uint32(buffers[b.face_ranges]) : new Uint32Array([0, indices.length / 3]);
    part.edgeRanges = b.edge_ranges !== undefined ? uint32(buffers[b.edge_ranges]) : new Uint32Array(0);
    part.triangles = indices.length / 3;
    part.kernelVisible = entry.visible !== false;
    part.bbox = bbox;
  }

  private makeEdges(geometry: BufferGeometry): LineSegments {
    const edges = new LineSegments(geometry, this.edgeMaterial);
    edges.visible = this.showEdges;
    return edges;
  }

  private allocateSlot(): number {
    const used = new Set(Array.from(this.parts.values()).map(p => p.slot));
    for (let i = 0; i < 127; i++) {
      const slot = ((this.nextSlot + i - 1) % 127) + 1;
      if (!used.has(slot)) {
        this.nextSlot = (slot % 127) + 1;
        return slot;
      }
    }
    return 0; // more than 127 parts: the rest are not pickable
  }

  removePart(id: string): void {
    const part = this.parts.get(id);
    if (!part) {
      return;
    }
    this.root.remove(part.group);
    part.mesh.geometry.dispose();
    part.material.dispose();
    part.edges?.geometry.dispose();
    this.picker.invalidate(id);
    if (this.highlight?.userData.node === id) {
      this.clearHighlight();
    }
    this.measureMarks.forget(id);
    this.parts.delete(id);
    this.requestRender();
  }

  clear(): void {
    for (const id of Array.from(this.parts.keys())) {
      this.removePart(id);
    }
    this.fitted = false;
  }

  // -- options -----------------------------------------------------------------------------
  setOptions(view: ViewOptions): void {
    const projection = view.projection ?? 'perspective';
    if ((projection === 'orthographic') !== (this.camera === this.orthographic)) {
      this.switchCamera(projection);
    }
    this.showEdges = view.edges !== false;
    for (const part of this.parts.values()) {
      if (part.edges) {
        part.edges.visible = this.showEdges;
      }
    }
    this.showGrid = view.grid !== false;
    if (this.grid) {
      this.grid.visible = this.showGrid;
    }
    this.axes.visible = view.axes === true;
    const opacity = typeof view.opacity === 'number' ? Math.min(1, Math.max(0.05, view.opacity)) : 1;
    if (opacity !== this.opacity) {
      this.opacity = opacity;
      for (const part of this.parts.values()) {
        this.applyOpacity(part.material);
      }
    }
    const clip = view.clip ?? {};
    const enabled = !!clip.enabled;
    const n = clip.normal && clip.normal.length === 3 ? clip.normal : [0, 0, 1];
    const normal = new Vector3(n[0], n[1], n[2]);
    if (normal.lengthSq() === 0) {
      normal.set(0, 0, 1);
    }
    normal.normalize();
    // The section plane is n·p = offset and the normal points at the side cut away, so
    // three.js (which keeps points with plane.distanceToPoint(p) >= 0) gets -n·p + offset >= 0.
    this.clipPlane.set(normal.negate(), typeof clip.offset === 'number' ? clip.offset : 0);
    if (enabled !== this.clipOn) {
      this.clipOn = enabled;
      for (const part of this.parts.values()) {
        part.material.clippingPlanes = enabled ? [this.clipPlane] : [];
        part.material.needsUpdate = true;
      }
      this.edgeMaterial.clippingPlanes = enabled ? [this.clipPlane] : [];
      this.edgeMaterial.needsUpdate = true;
    }
    this.hidden = new Set(view.hidden ?? []);
    this.updateVisibility();
    this.requestRender();
  }

  private applyOpacity(material: MeshPhongMaterial): void {
    const transparent = this.opacity < 1;
    if (material.transparent !== transparent) {
      material.transparent = transparent;
      material.depthWrite = !transparent;
      material.needsUpdate = true;
    }
    material.opacity = this.opacity;
  }

  private updateVisibility(): void {
    for (const part of this.parts.values()) {
      part.group.visible = part.kernelVisible && !this.hidden.has(part.id);
    }
  }

  isShown(id: string): boolean {
    const part = this.parts.get(id);
    return !!part && part.group.visible;
  }

  // -- camera ------------------------------------------------------------------------------
  private switchCamera(projection: 'perspective' | 'orthographic'): void {
    const from = this.camera;
    const to = projection === 'orthographic' ? this.orthographic : this.perspective;
    to.position.copy(from.position);
    to.quaternion.copy(from.quaternion);
    if (to === this.orthographic) {
      const distance = from.position.distanceTo(this.controls.target);
      const halfHeight = distance * Math.tan((this.perspective.fov * Math.PI) / 360);
      this.orthographic.zoom = 1;
      this.orthographic.userData.halfHeight = halfHeight;
    } else if (from === this.orthographic) {
      // keep the apparent size: move the eye to the distance that shows the same height
      const halfHeight = (this.orthographic.userData.halfHeight ?? 100) / this.orthographic.zoom;
      const distance = halfHeight / Math.tan((this.perspective.fov * Math.PI) / 360);
      const dir = new Vector3().subVectors(from.position, this.controls.target).normalize();
      to.position.copy(this.controls.target).addScaledVector(dir, distance);
    }
    from.remove(this.light);
    to.add(this.light);
    this.camera = to;
    this.controls.object = to;
    this.syncOrthoFrustum();
    to.updateProjectionMatrix();
    this.controls.update();
  }

  private syncOrthoFrustum(): void {
    const cam = this.orthographic;
    const halfHeight = cam.userData.halfHeight ?? 100;
    const aspect = this.width / this.height;
    cam.left = -halfHeight * aspect;
    cam.right = halfHeight * aspect;
    cam.top = halfHeight;
    cam.bottom = -halfHeight;
    cam.updateProjectionMatrix();
  }

  visibleBox(): Box3 {
    const box = new Box3();
    for (const part of this.parts.values()) {
      if (part.group.visible) {
        box.union(part.bbox);
      }
    }
    if (box.isEmpty()) {
      for (const part of this.parts.values()) {
        box.union(part.bbox);
      }
    }
    return box;
  }

  /** Frame the visible parts, looking from a standard direction (or keep the direction). */
  setView(view: StandardView | null, keepDirection = false): void {
    const box = this.visibleBox();
    const sphere = box.isEmpty() ? new Sphere(new Vector3(), 50) : box.getBoundingSphere(new Sphere());
    const radius = Math.max(sphere.radius, 1e-3);
    let dir: Vector3;
    if (view && !keepDirection) {
      dir = new Vector3(...VIEW_DIRECTIONS[view]).normalize();
    } else {
      dir = new Vector3().subVectors(this.camera.position, this.controls.target).normalize();
    }
    const fov = (this.perspective.fov * Math.PI) / 180;
    const aspect = this.width / this.height;
    const fitHeight = radius / Math.sin(fov / 2);
    const fitWidth = radius / Math.sin(Math.atan(Math.tan(fov / 2) * aspect));
    const distance = Math.max(fitHeight, fitWidth) * 1.05;
    this.controls.target.copy(sphere.center);
    for (const cam of [this.perspective, this.orthographic]) {
      cam.position.copy(sphere.center).addScaledVector(dir, distance);
      cam.lookAt(sphere.center);
    }
    this.perspective.near = Math.max(distance / 1000, distance - radius * 4, 1e-3);
    this.perspective.far = distance + radius * 10;
    this.perspective.updateProjectionMatrix();
    this.orthographic.zoom = 1;
    this.orthographic.userData.halfHeight = radius * 1.1 * Math.max(1, 1 / aspect);
    this.orthographic.near = -distance * 10;
    this.orthographic.far = distance * 10;
    this.syncOrthoFrustum();
    this.axes.scale.setScalar(radius * 0.6);
    this.controls.update();
    this.requestRender();
  }

  /** Fit / `F`: frame the visible parts from where the camera looks (and follow resizes again). */
  fit(): void {
    this.autoFrame = true;
    this.setView(null, true);
  }

  private rebuildGrid(force: boolean): void {
    const box = this.visibleBox();
    const size = box.isEmpty() ? 200 : box.getSize(new Vector3());
    const extent = typeof size === 'number' ? size : Math.max(size.x, size.y) * 2;
    const step = Math.pow(10, Math.floor(Math.log10(Math.max(extent, 1) / 10)));
    const gridSize = Math.ceil(extent / step / 10) * 10 * step;
    if (!force && this.grid && Math.abs(gridSize - this.gridSize) < 1e-9) {
      return;
    }
    if (this.grid) {
      this.scene.remove(this.grid);
      this.grid.geometry.dispose();
      (this.grid.material as LineBasicMaterial).dispose();
    }
    const divisions = Math.max(2, Math.min(200, Math.round(gridSize / step)));
    this.grid = new GridHelper(gridSize, divisions, this.theme.gridCenter, this.theme.grid);
    this.grid.rotation.x = Math.PI / 2; // lie in the XY plane (Z up)
    if (!box.isEmpty()) {
      const c = box.getCenter(new Vector3());
      this.grid.position.set(Math.round(c.x / step) * step, Math.round(c.y / step) * step, box.min.z);
    }
    this.grid.visible = this.showGrid;
    this.gridSize = gridSize;
    this.scene.add(this.grid);
  }

  // -- picking -----------------------------------------------------------------------------
  pickAt(x: number, y: number): ResolvedPick | null {
    this.scene.updateMatrixWorld();
    const parts: PickablePart[] = Array.from(this.parts.values())
      .filter(p => p.slot > 0)
      .map(p => ({ id: p.id, slot: p.slot, mesh: p.mesh, edges: p.edges, visible: p.group.visible }));
    const hit: PickHit | null = this.picker.pick(
      this.renderer,
      this.camera,
      parts,
      x,
      y,
      this.width,
      this.height,
      this.clipOn ? this.clipPlane : null,
      this.showEdges
    );
    this.requestRender();
    if (!hit) {
      return null;
    }
    const part = this.parts.get(hit.node)!;
    const ranges = hit.kind === 'face' ? part.faceRanges : part.edgeRanges;
    const index = rangeIndexOf(ranges, hit.item);
    if (index < 0) {
      return null;
    }
    const point = this.hitPoint(part, hit, x, y);
    return { node: hit.node, kind: hit.kind, index, version: part.version, point: [point.x, point.y, point.z] };
  }

  /**
   * The Measure tool's pick at (x, y): a face or an edge as `pickAt` finds them, the vertex
   * at the end of an edge when the cursor is within `VERTEX_PICK_PX` of it, and with
   * `solids` the solid of a picked face (the kernel resolves which solid).
   */
  pickEntity(x: number, y: number, solids: boolean): MeasureHit | null {
    const hit = this.pickAt(x, y);
    if (!hit) {
      return null;
    }
    if (hit.kind === 'edge') {
      const end = this.edgeEndNear(hit, x, y);
      return end ? { ...hit, kind: 'vertex', point: end } : { ...hit };
    }
    return { ...hit, kind: solids ? 'solid' : 'face' };
  }

  /** The end of a picked edge within `VERTEX_PICK_PX` of (x, y), if one is. */
  private edgeEndNear(hit: ResolvedPick, x: number, y: number): [number, number, number] | null {
    const part = this.parts.get(hit.node);
    const first = part?.edgeRanges[2 * hit.index];
    const count = part?.edgeRanges[2 * hit.index + 1];
    if (!part || !part.edges || first === undefined || !count) {
      return null;
    }
    const positions = part.edges.geometry.getAttribute('position');
    const ends = [
      new Vector3().fromBufferAttribute(positions, 2 * first),
      new Vector3().fromBufferAttribute(positions, 2 * (first + count) - 1)
    ];
    let best: Vector3 | null = null;
    let bestDistance = VERTEX_PICK_PX;
    for (const end of ends) {
      const screen = end.clone().applyMatrix4(part.mesh.matrixWorld).project(this.camera);
      const d = Math.hypot(((screen.x + 1) / 2) * this.width - x, ((1 - screen.y) / 2) * this.height - y);
      if (d <= bestDistance) {
        bestDistance = d;
        best = end;
      }
    }
    return best ? [best.x, best.y, best.z] : null;
  }

  /** Draw the Measure tool's picks and the closest-points segment of a distance. */
  setMeasure(picks: MeasureHit[], segment: [number[], number[]] | null): void {
    this.measureMarks.set(this.parts, picks, segment);
    this.requestRender();
  }

  /** Show what a Measure click at the cursor would pick. */
  hoverMeasure(hit: MeasureHit | null): void {
    if (this.measureMarks.hover(this.parts, hit)) {
      this.requestRender();
    }
  }

  /** Where the cursor ray meets the picked triangle (or comes closest to the picked segment). */
  private hitPoint(part: Part, hit: PickHit, x: number, y: number): Vector3 {
    const raycaster = new Raycaster();
    raycaster.setFromCamera(new Vector2((x / this.width) * 2 - 1, -(y / this.height) * 2 + 1), this.camera);
    const ray = raycaster.ray;
    const out = new Vector3();
    if (hit.kind === 'face') {
      const positions = part.mesh.geometry.getAttribute('position');
      const index = part.mesh.geometry.getIndex()!;
      const [a, b, c] = [0, 1, 2].map(k => new Vector3().fromBufferAttribute(positions, index.getX(3 * hit.item + k)));
      if (ray.intersectTriangle(a, b, c, false, out)) {
        return out;
      }
      return out.copy(a).add(b).add(c).multiplyScalar(1 / 3);
    }
    const edges = part.edges!.geometry.getAttribute('position');
    const v0 = new Vector3().fromBufferAttribute(edges, 2 * hit.item);
    const v1 = new Vector3().fromBufferAttribute(edges, 2 * hit.item + 1);
    ray.distanceSqToSegment(v0, v1, undefined, out);
    return out;
  }

  /** Outline a picked face or edge (drawn over the part). */
  showHighlight(pick: ResolvedPick | null): void {
    this.clearHighlight();
    if (!pick) {
      this.requestRender();
      return;
    }
    const part = this.parts.get(pick.node);
    if (!part) {
      return;
    }
    if (pick.kind === 'face') {
      const first = part.faceRanges[2 * pick.index];
      const count = part.faceRanges[2 * pick.index + 1];
      const index = part.mesh.geometry.getIndex();
      if (!index || count === undefined) {
        return;
      }
      const sub = (index.array as Uint32Array).slice(3 * first, 3 * (first + count));
      const geometry = new BufferGeometry();
      geometry.setAttribute('position', part.mesh.geometry.getAttribute('position'));
      geometry.setIndex(new BufferAttribute(sub, 1));
      this.highlight = new Mesh(geometry, this.highlightFace);
    } else {
      const first = part.edgeRanges[2 * pick.index];
      const count = part.edgeRanges[2 * pick.index + 1];
      if (!part.edges || count === undefined) {
        return;
      }
      const all = part.edges.geometry.getAttribute('position').array as Float32Array;
      const geometry = new BufferGeometry();
      geometry.setAttribute('position', new BufferAttribute(all.slice(6 * first, 6 * (first + count)), 3));
      this.highlight = new LineSegments(geometry, this.highlightEdge);
      this.highlight.renderOrder = 10;
    }
    this.highlight.userData.node = pick.node;
    part.group.add(this.highlight);
    this.requestRender();
  }

  clearHighlight(): void {
    if (this.highlight) {
      this.highlight.parent?.remove(this.highlight);
      this.highlight.geometry.dispose();
      this.highlight = null;
    }
  }

  // -- lifetime ----------------------------------------------------------------------------
  dispose(): void {
    cancelAnimationFrame(this.frameRequested);
    this.clear();
    this.clearHighlight();
    this.picker.dispose();
    this.measureMarks.dispose();
    this.controls.dispose();
    this.edgeMaterial.dispose();
    this.highlightFace.dispose();
    this.highlightEdge.dispose();
    if (this.grid) {
      this.grid.geometry.dispose();
      (this.grid.material as LineBasicMaterial).dispose();
    }
    this.renderer.dispose();
    this.renderer.forceContextLoss();
  }
}
