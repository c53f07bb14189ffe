"""Tessellation for the viewer: triangles per B-Rep face, polylines per B-Rep edge.

:func:`tessellate` turns a shape into a :class:`Mesh` — flat ``float32`` positions and
normals, ``uint32`` triangle indices, the triangle range of every B-Rep face (so a picked
triangle maps back to its face) and line segments with the segment range of every B-Rep
edge. Face ``i`` and edge ``i`` are the ``i``-th entries of OCCT's indexed maps of the
shape (``TopExp::MapShapes``), the order cadquery's ``Faces()`` / ``Edges()`` use too.

Design decisions (measured in ``benchmarks/bench_tessellate.py``):

* **BRepMesh directly, on a private copy.** ``BRepMesh_IncrementalMesh`` stores its
  triangulation *inside* the shape and keeps an existing finer one, so meshing the
  engine's cached shapes in place would (a) make a coarser level of detail impossible
  after a finer one and (b) race with an STL/glTF export of the same shape on the
  notebook thread while the Studio meshes on its worker thread. A topology-only copy
  (``BRepBuilderAPI_Copy`` without geometry, ~0.1 ms) is private to the call: nothing
  else ever sees its triangulation. The copy has the same sub-shape tree, hence the same
  indexed-map order; the face and edge counts are checked against the original.
* **Level of detail relative to the size.** The linear deflection is a fraction of the
  bounding-box diagonal (``preview`` 0.5 %, ``medium`` 0.2 %, ``high`` 0.1 %), so a
  2 mm screw and a 2 m frame get the same visual quality; the angular deflection is in
  radians (0.5 / 0.3 / 0.2 rad). Both can be overridden per call.
* **Normals from the triangles, welded per face.** ``ocp-tessellate`` evaluates the
  surface normal at every node through Python (``BRepGProp_Face``), which costs several
  microseconds per node. Here each vertex normal is the area-weighted sum of the normals
  of its face's triangles, computed in numpy; vertices that coincide *within one face*
  (a periodic surface's seam, a sphere's pole) share one normal, so seams do not show,
  while vertices of different faces stay apart and the B-Rep edges stay crisp. Planar
  faces get their exact normal; curved faces are within half the angular deflection.
* **Edges from the mesh.** An edge's polyline is its polygon on the triangulation of an
  adjacent face (the very nodes the triangles use, so lines sit exactly on the surface);
  free edges (wires, sketches) use the 3D polygon BRepMesh makes for them; degenerate
  edges (a cone's apex) have no segments but keep their slot in ``edge_ranges``.
* **A byte-bounded LRU cache** keyed by the shape's identity (TShape, location,
  orientation — verified with ``IsEqual`` against the shape the entry holds, so a
  recycled pointer can never hit) or by a caller's content key (the Studio passes the
  node's cache key), plus both tolerances and the triangle limit. ``BREPFLOW_MESH_CACHE_MB``
  (default 256) bounds it; only mesh arrays are counted, the shapes are held by the
  engine's cache anyway.
* **A triangle limit for hubs.** ``BREPFLOW_MAX_PREVIEW_TRIANGLES`` caps a preview mesh;
  past it the mesh is coarsened automatically (up to 5 % of the diagonal and 1 rad)
  and only refused, with :class:`MeshTooLarge`, when even the coarsest mesh is too big.

A mesh keeps a reference to the exact shape that was tessellated: face order changes
between rebuilds of the same model, so a pick must be mapped through that shape
(:meth:`Mesh.face`, :meth:`Mesh.edge`), never through a newer rebuild.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from brepflow_lab.core import env
from brepflow_lab.core.errors import BrepFlowError, ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.part import shape_of

__all__ = [
    "LODS",
    "LevelOfDetail",
    "Mesh",
    "MeshCache",
    "MeshTooLarge",
    "deflection_for",
    "diagonal",
    "max_preview_triangles",
    "mesh_cache",
    "tessellate",
]

F32 = npt.NDArray[np.float32]
U32 = npt.NDArray[np.uint32]

MAX_TRIANGLES_ENV = env.MAX_PREVIEW_TRIANGLES
CACHE_ENV = env.MESH_CACHE_MB
#: the coarsest a mesh gets when a triangle limit forces coarsening
COARSEST_RELATIVE_DEFLECTION = 0.05
COARSEST_ANGULAR_TOLERANCE = 1.0
_COARSEN_ATTEMPTS = 6


@dataclass(frozen=True)
class LevelOfDetail:
    name: str
    relative_deflection: float  # fraction of the bounding-box diagonal
    angular_tolerance: float  # radians


LODS: dict[str, LevelOfDetail] = {
    "preview": LevelOfDetail("preview", 0.005, 0.5),
    "medium": LevelOfDetail("medium", 0.002, 0.3),
    "high": LevelOfDetail("high", 0.001, 0.2),
}


class MeshTooLarge(BrepFlowError):
    """Even the coarsest mesh of a shape exceeds the triangle limit of this server."""

    code = ErrorCode.MESH_TOO_LARGE

    def __init__(self, message: str, *, triangles: int, limit: int) -> None:
        super().__init__(message)
        self.triangles = triangles
        self.limit = limit


@dataclass(frozen=True, eq=False)
class Mesh:
    """A shape's triangles and edge lines, with the face/edge structure kept.

    ``positions``/``normals`` are ``(n, 3)`` float32, ``indices`` ``(t, 3)`` uint32,
    ``face_ranges`` ``(faces, 2)`` uint32 = (first triangle, triangle count) per B-Rep
    face, ``edges`` ``(s, 2, 3)`` float32 line segments and ``edge_ranges``
    ``(edges, 2)`` uint32 = (first segment, segment count) per B-Rep edge.
    """

    positions: F32
    normals: F32
    indices: U32
    face_ranges: U32
    edges: F32
    edge_ranges: U32
    bbox: tuple[tuple[float, float, float], tuple[float, float, float]]
    deflection: float
    angular_tolerance: float
    lod: str
    shape: Any  # the exact cadquery Shape tessellated: picks map through it
    coarsened: bool = False
    seconds: float = 0.0
    _topology: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    @property
    def vertex_count(self) -> int:
        return int(self.positions.shape[0])

    @property
    def triangle_count(self) -> int:
        return int(self.indices.shape[0])

    @property
    def segment_count(self) -> int:
        return int(self.edges.shape[0])

    @property
    def face_count(self) -> int:
        return int(self.face_ranges.shape[0])

    @property
    def edge_count(self) -> int:
        return int(self.edge_ranges.shape[0])

    @property
    def nbytes(self) -> int:
        arrays = (self.positions, self.normals, self.indices, self.face_ranges, self.edges, self.edge_ranges)
        return sum(int(a.nbytes) for a in arrays) + 256

    def buffers(self) -> list[memoryview]:
        """The six arrays in the Studio protocol's order, as little-endian byte views (no copy)."""
        arrays = (self.positions, self.normals, self.indices, self.edges, self.face_ranges, self.edge_ranges)
        return [memoryview(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).data).cast("B") for a in arrays]

    def face_of_triangle(self, triangle: int) -> int:
        """The index of the B-Rep face that triangle ``triangle`` belongs to."""
        if not 0 <= triangle < self.triangle_count:
            raise IndexError(f"triangle {triangle} out of range (the mesh has {self.triangle_count})")
        starts = self.face_ranges[:, 0].astype(np.int64)
        counts = self.face_ranges[:, 1].astype(np.int64)
        candidates = np.nonzero((starts <= triangle) & (triangle < starts + counts))[0]
        return int(candidates[0])

    def _sub_shapes(self, kind: Literal["face", "edge"]) -> list[Any]:
        cached = self._topology.get(kind)
        if cached is None:
            cached = _indexed_sub_shapes(self.shape, kind)
            self._topology[kind] = cached
        return cached

    def face(self, index: int) -> Any:
        """The cadquery ``Face`` with index ``index`` of the tessellated shape."""
        return _checked(self._sub_shapes("face"), index, "face")

    def edge(self, index: int) -> Any:
        """The cadquery ``Edge`` with index ``index`` of the tessellated shape."""
        return _checked(self._sub_shapes("edge"), index, "edge")

    def faces(self) -> list[Any]:
        return list(self._sub_shapes("face"))

    def edges_of_shape(self) -> list[Any]:
        return list(self._sub_shapes("edge"))


def _checked(items: list[Any], index: int, kind: str) -> Any:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(items):
        raise IndexError(f"{kind} index {index!r} out of range: the shape has {len(items)} {kind}s")
    return items[index]


# --------------------------------------------------------------------------- cache


class MeshCache:
    """A thread-safe LRU of meshes, bounded by the bytes of their arrays."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[tuple[Any, ...], tuple[Any, Mesh]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], shape: Any | None) -> Mesh | None:
        with self._lock:
            item = self._data.get(key)
            if item is None or (shape is not None and not item[0].IsEqual(shape)):
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[1]

    def put(self, key: tuple[Any, ...], shape: Any, mesh: Mesh) -> None:
        size = mesh.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1].nbytes
            self._data[key] = (shape, mesh)
            self._bytes += size
            while self._bytes > self.max_bytes and self._data:
                _, (_, evicted) = self._data.popitem(last=False)
                self._bytes -= evicted.nbytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)


_cache: MeshCache | None = None
_cache_lock = threading.Lock()


def mesh_cache() -> MeshCache:
    """The process-wide mesh cache (``BREPFLOW_MESH_CACHE_MB``, default 256 MB)."""
    global _cache
    with _cache_lock:
        if _cache is None:
            _cache = MeshCache(env.mesh_cache_mb() * 1024 * 1024)
        return _cache


# --------------------------------------------------------------------------- sizes and limits


def _bnd_box(wrapped: Any) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    BRepBndLib.Add_s(wrapped, box, False)  # geometry, not any triangulation: deterministic
    if box.IsVoid():
        return None
    lo, hi = box.CornerMin(), box.CornerMax()
    return (lo.X(), lo.Y(), lo.Z()), (hi.X(), hi.Y(), hi.Z())


def diagonal(shape: Any) -> float:
    """The length of the shape's bounding-box diagonal (0 for an empty shape)."""
    box = _bnd_box(_as_shape(shape).wrapped)
    if box is None:
        return 0.0
    return math.dist(box[0], box[1])


def deflection_for(shape: Any, lod: str = "preview") -> float:
    """The linear deflection of level of detail ``lod`` for this shape (graph units)."""
    return _lod(lod).relative_deflection * max(diagonal(shape), 1e-6)


def _lod(lod: str) -> LevelOfDetail:
    try:
        return LODS[lod]
    except KeyError:
        raise ValueError(f"unknown level of detail {lod!r}: use one of {', '.join(LODS)}") from None


def max_preview_triangles() -> int | None:
    """The hub's limit on triangles per preview mesh (``BREPFLOW_MAX_PREVIEW_TRIANGLES``), or None."""
    return env.preview_triangles()  # an unreadable value: LimitError, a ValueError


# --------------------------------------------------------------------------- tessellate


def _as_shape(value: Any) -> Any:
    value = shape_of(value)
    if isinstance(value, (list, tuple)):
        shapes = [shape_of(v) for v in value]
        if not all(hasattr(s, "wrapped") for s in shapes):
            raise TypeError("can only tessellate shapes; the list holds something else")
        return cq().Compound.makeCompound(shapes)
    if not hasattr(value, "wrapped"):
        raise TypeError(f"can only tessellate shapes, not {type(value).__name__}")
    return value


def tessellate(
    shape: Any,
    lod: str = "preview",
    *,
    deflection: float | None = None,
    angular_tolerance: float | None = None,
    max_triangles: int | Literal["env"] | None = "env",
    key: str | None = None,
    cache: MeshCache | Literal["default"] | None = "default",
) -> Mesh:
    """Tessellate ``shape`` (a cadquery Shape, a Part, or a list of them).

    ``lod`` sets the defaults: ``deflection`` = a fraction of the bounding-box diagonal,
    ``angular_tolerance`` in radians. ``max_triangles`` (default: the env limit) coarsens
    the mesh until it fits or raises :class:`MeshTooLarge`. ``key``: a content key (e.g.
    the node's cache key) to cache by instead of the shape's identity; ``cache=None``
    bypasses the cache.
    """
    level = _lod(lod)
    target = _as_shape(shape)
    if deflection is not None and not (deflection > 0 and math.isfinite(deflection)):
        raise ValueError(f"deflection must be a positive length, got {deflection!r}")
    if angular_tolerance is not None and not (0 < angular_tolerance < math.pi):
        raise ValueError(f"angular_tolerance must be in radians, between 0 and pi, got {angular_tolerance!r}")
    limit = max_preview_triangles() if max_triangles == "env" else max_triangles
    if limit is not None and limit <= 0:
        raise ValueError(f"max_triangles must be positive, got {limit}")
    box = _bnd_box(target.wrapped)
    diag = math.dist(box[0], box[1]) if box is not None else 0.0
    size = max(diag, 1e-6)
    # OCCT refuses deflections below its confusion tolerance (1e-7)
    linear = max(deflection if deflection is not None else level.relative_deflection * size, 1e-6)
    angular = angular_tolerance if angular_tolerance is not None else level.angular_tolerance

    store = mesh_cache() if cache == "default" else cache
    cache_key: tuple[Any, ...] = (key if key is not None else hash(target.wrapped), linear, angular, limit)
    if store is not None:
        hit = store.get(cache_key, None if key is not None else target.wrapped)
        if hit is not None:
            return hit

    mesh = _mesh(target, linear, angular, level.name)
    if limit is not None and mesh.triangle_count > limit:
        mesh = _coarsen(target, mesh, limit, size, level.name)
    if store is not None:
        store.put(cache_key, target.wrapped, mesh)
    return mesh


def _coarsen(target: Any, mesh: Mesh, limit: int, size: float, lod: str) -> Mesh:
    coarsest_linear = COARSEST_RELATIVE_DEFLECTION * size
    linear, angular = mesh.deflection, mesh.angular_tolerance
    first = mesh.triangle_count
    for _ in range(_COARSEN_ATTEMPTS):
        if linear >= coarsest_linear and angular >= COARSEST_ANGULAR_TOLERANCE:
            break
        ratio = mesh.triangle_count / limit
        linear = min(coarsest_linear, max(linear, linear * max(2.0, 1.5 * ratio)))
        angular = min(COARSEST_ANGULAR_TOLERANCE, angular * max(1.5, 1.2 * math.sqrt(ratio)))
        mesh = _mesh(target, linear, angular, lod)
        if mesh.triangle_count <= limit:
            return _replace_coarsened(mesh)
    raise MeshTooLarge(
        f"this shape needs {mesh.triangle_count:,} triangles even at the coarsest preview quality "
        f"(deflection {COARSEST_RELATIVE_DEFLECTION:.0%} of its size, {math.degrees(COARSEST_ANGULAR_TOLERANCE):.0f}°; "
        f"{first:,} at the requested quality), more than the {limit:,} this server allows per preview "
        f"({MAX_TRIANGLES_ENV}). Hide this node's preview, simplify the shape (fewer holes or patterns), "
        "or ask your administrator to raise the limit.",
        triangles=mesh.triangle_count,
        limit=limit,
    )


def _replace_coarsened(mesh: Mesh) -> Mesh:
    from dataclasses import replace

    return replace(mesh, coarsened=True, _topology={})


def _indexed_map(wrapped: Any, kind: Literal["face", "edge"]) -> Any:
    from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    result = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(wrapped, TopAbs_FACE if kind == "face" else TopAbs_EDGE, result)
    return result


def _indexed_sub_shapes(shape: Any, kind: Literal["face", "edge"]) -> list[Any]:
    from OCP.TopoDS import TopoDS

    mapping = _indexed_map(shape.wrapped, kind)
    if kind == "face":
        return [cq().Face(TopoDS.Face_s(mapping.FindKey(i))) for i in range(1, mapping.Size() + 1)]
    return [cq().Edge(TopoDS.Edge_s(mapping.FindKey(i))) for i in range(1, mapping.Size() + 1)]


def _transform(points: npt.NDArray[np.float64], location: Any) -> npt.NDArray[np.float64]:
    if location.IsIdentity():
        return points
    trsf = location.Transformation()
    matrix = np.array([[trsf.Value(r, c) for c in range(1, 5)] for r in range(1, 4)])
    result: npt.NDArray[np.float64] = points @ matrix[:, :3].T + matrix[:, 3]
    return result


def _mesh(target: Any, linear: float, angular: float, lod: str) -> Mesh:
    import time

    from OCP.BRep import BRep_Tool
    from OCP.BRepBuilderAPI import BRepBuilderAPI_Copy
    from OCP.BRepMesh import BRepMesh_IncrementalMesh
    from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_REVERSED
    from OCP.TopExp import TopExp
    from OCP.TopLoc import TopLoc_Location
    from OCP.TopoDS import TopoDS
    from OCP.TopTools import TopTools_IndexedDataMapOfShapeListOfShape

    start = time.perf_counter()
    original = target.wrapped
    work = BRepBuilderAPI_Copy(original, False, False).Shape()
    BRepMesh_IncrementalMesh(work, linear, False, angular, True)
    face_map, edge_map = _indexed_map(work, "face"), _indexed_map(work, "edge")
    n_faces, n_edges = face_map.Size(), edge_map.Size()
    if (n_faces, n_edges) != (_indexed_map(original, "face").Size(), _indexed_map(original, "edge").Size()):
        raise RuntimeError("internal error: the copy of the shape has a different topology than the shape")

    # -- faces: nodes and triangles, face by face
    node_chunks: list[npt.NDArray[np.float64]] = []
    tri_chunks: list[npt.NDArray[np.int64]] = []
    face_ranges = np.zeros((n_faces, 2), dtype=np.uint32)
    node_offset = np.zeros(n_faces, dtype=np.int64)
    triangulations: list[tuple[Any, Any] | None] = []
    n_nodes = n_tris = 0
    for i in range(n_faces):
        face = TopoDS.Face_s(face_map.FindKey(i + 1))
        location = TopLoc_Location()
        poly = BRep_Tool.Triangulation_s(face, location)
        node_offset[i] = n_nodes
        if poly is None or poly.NbTriangles() == 0:
            face_ranges[i] = (n_tris, 0)
            triangulations.append(None)
            continue
        triangulations.append((poly, location))
        node, triangle, nn, nt = poly.Node, poly.Triangle, poly.NbNodes(), poly.NbTriangles()
        nodes = np.array([node(j).Coord() for j in range(1, nn + 1)], dtype=np.float64)
        corners = itertools.chain.from_iterable([triangle(j).Get() for j in range(1, nt + 1)])
        tris = np.fromiter(corners, dtype=np.int64, count=3 * nt).reshape(nt, 3)
        tris += n_nodes - 1
        if face.Orientation() == TopAbs_REVERSED:
            tris = tris[:, (0, 2, 1)]
        node_chunks.append(_transform(nodes, location))
        tri_chunks.append(tris)
        face_ranges[i] = (n_tris, len(tris))
        n_nodes += len(nodes)
        n_tris += len(tris)
    positions64 = np.concatenate(node_chunks) if node_chunks else np.zeros((0, 3))
    triangles = np.concatenate(tri_chunks) if tri_chunks else np.zeros((0, 3), dtype=np.int64)
    normals = _vertex_normals(positions64, triangles, node_offset, n_nodes, linear)

    # -- edges: polygon on an adjacent face's triangulation, else the free edge's 3D polygon
    edge_faces = TopTools_IndexedDataMapOfShapeListOfShape()
    TopExp.MapShapesAndAncestors_s(work, TopAbs_EDGE, TopAbs_FACE, edge_faces)
    segment_chunks: list[npt.NDArray[np.float64]] = []
    edge_ranges = np.zeros((n_edges, 2), dtype=np.uint32)
    n_segments = 0
    for i in range(n_edges):
        edge = TopoDS.Edge_s(edge_map.FindKey(i + 1))
        points = None
        if not BRep_Tool.Degenerated_s(edge):
            points = _edge_points(edge, edge_faces, face_map, triangulations, node_offset, positions64, linear, angular)
        if points is None or len(points) < 2:
            edge_ranges[i] = (n_segments, 0)
            continue
        segments = np.stack((points[:-1], points[1:]), axis=1)
        segment_chunks.append(segments)
        edge_ranges[i] = (n_segments, len(segments))
        n_segments += len(segments)
    segments_all = np.concatenate(segment_chunks) if segment_chunks else np.zeros((0, 2, 3))

    if len(positions64):
        lo, hi = positions64.min(axis=0), positions64.max(axis=0)
    elif len(segments_all):
        flat = segments_all.reshape(-1, 3)
        lo, hi = flat.min(axis=0), flat.max(axis=0)
    else:
        box = _bnd_box(original)
        lo, hi = (np.array(box[0]), np.array(box[1])) if box is not None else (np.zeros(3), np.zeros(3))
    return Mesh(
        positions=positions64.astype(np.float32),
        normals=normals,
        indices=triangles.astype(np.uint32),
        face_ranges=face_ranges,
        edges=segments_all.astype(np.float32),
        edge_ranges=edge_ranges,
        bbox=(
            (float(lo[0]), float(lo[1]), float(lo[2])),
            (float(hi[0]), float(hi[1]), float(hi[2])),
        ),
        deflection=linear,
        angular_tolerance=angular,
        lod=lod,
        shape=target,
        seconds=time.perf_counter() - start,
    )


def _edge_points(
    edge: Any,
    edge_faces: Any,
    face_map: Any,
    triangulations: list[tuple[Any, Any] | None],
    node_offset: npt.NDArray[np.int64],
    positions: npt.NDArray[np.float64],
    linear: float,
    angular: float,
) -> npt.NDArray[np.float64] | None:
    from OCP.BRep import BRep_Tool
    from OCP.TopLoc import TopLoc_Location

    if edge_faces.Contains(edge):
        for face in edge_faces.FindFromKey(edge):
            index = face_map.FindIndex(face) - 1
            if index < 0 or triangulations[index] is None:
                continue
            poly, location = triangulations[index]
            on_triangulation = BRep_Tool.PolygonOnTriangulation_s(edge, poly, location)
            if on_triangulation is None:
                continue
            nodes = np.fromiter(
                (on_triangulation.Node(j) for j in range(1, on_triangulation.NbNodes() + 1)),
                dtype=np.int64,
                count=on_triangulation.NbNodes(),
            )
            return positions[node_offset[index] + nodes - 1]
    location = TopLoc_Location()
    polygon = BRep_Tool.Polygon3D_s(edge, location)
    if polygon is not None:
        array = polygon.Nodes()
        points = np.array([array.Value(j).Coord() for j in range(array.Lower(), array.Upper() + 1)])
        return _transform(points, location)
    return _discretise(edge, linear, angular)


def _discretise(edge: Any, linear: float, angular: float) -> npt.NDArray[np.float64] | None:
    from OCP.BRepAdaptor import BRepAdaptor_Curve
    from OCP.GCPnts import GCPnts_TangentialDeflection

    try:
        curve = BRepAdaptor_Curve(edge)
        sampler = GCPnts_TangentialDeflection(curve, angular, linear)
        points = [sampler.Value(j).Coord() for j in range(1, sampler.NbPoints() + 1)]
    except Exception:  # an edge without a usable 3D curve: no line, keep its slot
        return None
    return np.array(points, dtype=np.float64) if len(points) >= 2 else None


def _vertex_normals(
    positions: npt.NDArray[np.float64],
    triangles: npt.NDArray[np.int64],
    node_offset: npt.NDArray[np.int64],
    n_nodes: int,
    linear: float,
) -> F32:
    """Area-weighted vertex normals; coincident vertices of one face share theirs."""
    if n_nodes == 0:
        return np.zeros((0, 3), dtype=np.float32)
    a, b, c = positions[triangles[:, 0]], positions[triangles[:, 1]], positions[triangles[:, 2]]
    face_normals = np.cross(b - a, c - a)  # length = 2 x area: area weighting for free
    # the face each vertex belongs to (faces own contiguous vertex blocks)
    nodes_per_face = np.diff(np.append(node_offset, n_nodes))
    vertex_face = np.repeat(np.arange(len(node_offset), dtype=np.int64), nodes_per_face)
    # weld coincident vertices within one face (seams, poles): same face + same position
    quantum = max(linear * 1e-3, 1e-12)
    cells = np.round(positions / quantum).astype(np.int64)
    keys = np.column_stack((vertex_face, cells))
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.reshape(-1)
    n_groups = int(group.max()) + 1
    corner_groups = group[triangles].reshape(-1)
    weights = np.repeat(face_normals, 3, axis=0)
    summed = np.column_stack([np.bincount(corner_groups, weights=weights[:, k], minlength=n_groups) for k in range(3)])
    normals = summed[group]
    length = np.linalg.norm(normals, axis=1)
    bad = length <= 1e-300
    normals[~bad] /= length[~bad, None]
    normals[bad] = (0.0, 0.0, 1.0)  # a vertex used by no proper triangle: any unit vector
    return normals.astype(np.float32)
