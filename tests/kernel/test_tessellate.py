"""Tessellation for the viewer, checked by invariants on real OCCT shapes."""

from __future__ import annotations

import math

import cadquery as cq
import numpy as np
import pytest

from brepflow_lab.kernel.part import Part
from brepflow_lab.kernel.tessellate import (
    LODS,
    MAX_TRIANGLES_ENV,
    Mesh,
    MeshCache,
    MeshTooLarge,
    deflection_for,
    diagonal,
    max_preview_triangles,
    tessellate,
)


def shelled_box() -> cq.Shape:
    shape = cq.Workplane().box(100, 80, 40).edges("|Z").fillet(5).faces(">Z").shell(-2).val()
    assert shape.isValid()
    return shape


def plate_with_holes() -> cq.Shape:
    return cq.Workplane().box(60, 40, 5).faces(">Z").workplane().rarray(15, 15, 3, 2).hole(4).val()


def sphere() -> cq.Shape:
    return cq.Solid.makeSphere(30, angleDegrees1=-90)


SOLIDS = {
    "box": lambda: cq.Solid.makeBox(10, 20, 30),
    "shelled box": shelled_box,
    "plate with holes": plate_with_holes,
    "sphere": sphere,
    "torus": lambda: cq.Solid.makeTorus(40, 10),
    "cone": lambda: cq.Solid.makeCone(10, 0, 20),
}


def check_structure(mesh: Mesh) -> None:
    """The array invariants the browser relies on."""
    assert mesh.positions.dtype == np.float32 and mesh.positions.shape == (mesh.vertex_count, 3)
    assert mesh.normals.dtype == np.float32 and mesh.normals.shape == mesh.positions.shape
    assert mesh.indices.dtype == np.uint32 and mesh.indices.shape == (mesh.triangle_count, 3)
    assert mesh.edges.dtype == np.float32 and mesh.edges.shape == (mesh.segment_count, 2, 3)
    assert mesh.face_ranges.dtype == np.uint32 and mesh.edge_ranges.dtype == np.uint32
    if mesh.triangle_count:
        assert int(mesh.indices.max()) < mesh.vertex_count
    # face ranges are contiguous, in order, and cover every triangle exactly once
    starts, counts = mesh.face_ranges[:, 0].astype(int), mesh.face_ranges[:, 1].astype(int)
    assert starts[0] == 0 if len(starts) else True
    assert np.array_equal(starts[1:], (starts + counts)[:-1])
    assert int(counts.sum()) == mesh.triangle_count
    starts, counts = mesh.edge_ranges[:, 0].astype(int), mesh.edge_ranges[:, 1].astype(int)
    assert np.array_equal(starts[1:], (starts + counts)[:-1])
    assert int(counts.sum()) == mesh.segment_count
    assert np.isfinite(mesh.positions).all() and np.isfinite(mesh.normals).all()


def welded_edge_counts(mesh: Mesh) -> tuple[np.ndarray, int, int]:
    """Merge coincident vertices; return per-undirected-edge triangle counts, V and F."""
    quantum = mesh.deflection * 1e-3
    cells = np.round(mesh.positions.astype(np.float64) / quantum).astype(np.int64)
    _, weld = np.unique(cells, axis=0, return_inverse=True)
    weld = weld.reshape(-1)
    tris = weld[mesh.indices.astype(np.int64)]
    proper = (tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])
    tris = tris[proper]
    edges = np.sort(np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return counts, int(weld.max()) + 1, len(tris)


@pytest.mark.parametrize("name", sorted(SOLIDS))
def test_solid_meshes_are_closed_and_well_formed(name: str) -> None:
    shape = SOLIDS[name]()
    mesh = tessellate(shape, "medium", cache=None)
    check_structure(mesh)
    assert mesh.face_count == len(shape.Faces())
    # degenerate edges (a cone's apex) keep their slot but have no segments; cadquery's
    # Edges() leaves them out
    drawn = [mesh.edge(i) for i in range(mesh.edge_count) if mesh.edge_ranges[i, 1] > 0]
    assert [e.wrapped.IsSame(f.wrapped) for e, f in zip(drawn, shape.Edges())] == [True] * len(shape.Edges())
    assert (mesh.face_ranges[:, 1] > 0).all(), "every face of a valid solid has triangles"
    # watertight: once coincident vertices are merged, every edge is shared by two triangles
    counts, _, _ = welded_edge_counts(mesh)
    assert (counts == 2).all(), f"{(counts != 2).sum()} open or non-manifold mesh edges"
    # outward orientation: the signed volume of the mesh approximates the solid's volume
    p = mesh.positions.astype(np.float64)
    t = mesh.indices.astype(np.int64)
    volume = np.einsum("ij,ij->i", p[t[:, 0]], np.cross(p[t[:, 1]], p[t[:, 2]])).sum() / 6
    assert volume == pytest.approx(shape.Volume(), rel=0.05)


@pytest.mark.parametrize("name", sorted(SOLIDS))
def test_normals_are_unit_and_point_outward(name: str) -> None:
    shape = SOLIDS[name]()
    mesh = tessellate(shape, "preview", cache=None)
    lengths = np.linalg.norm(mesh.normals.astype(np.float64), axis=1)
    assert np.allclose(lengths, 1.0, atol=1e-5)
    # each triangle's geometric normal agrees with its corners' vertex normals
    p = mesh.positions.astype(np.float64)
    t = mesh.indices.astype(np.int64)
    geometric = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
    area = np.linalg.norm(geometric, axis=1)
    good = area > 1e-9 * area.max()
    average = mesh.normals[t].astype(np.float64).mean(axis=1)
    assert (np.einsum("ij,ij->i", geometric[good], average[good]) > 0).all()


def test_sphere_normals_are_close_to_the_surface_normal() -> None:
    for lod in LODS:
        mesh = tessellate(sphere(), lod, cache=None)
        radial = mesh.positions / np.linalg.norm(mesh.positions, axis=1)[:, None]
        angle = np.degrees(np.arccos(np.clip((mesh.normals * radial).sum(axis=1), -1, 1)))
        assert angle.max() < math.degrees(mesh.angular_tolerance) / 2, lod


def test_planar_faces_get_their_exact_normal() -> None:
    box = cq.Solid.makeBox(10, 20, 30)
    mesh = tessellate(box, cache=None)
    for i, face in enumerate(box.Faces()):
        first, count = (int(v) for v in mesh.face_ranges[i])
        vertices = np.unique(mesh.indices[first : first + count].ravel())
        expected = face.normalAt().toTuple()
        assert np.allclose(mesh.normals[vertices], expected, atol=1e-6)


@pytest.mark.parametrize("name", ["shelled box", "sphere", "torus", "plate with holes"])
def test_levels_of_detail_are_monotonic(name: str) -> None:
    shape = SOLIDS[name]()
    meshes = [tessellate(shape, lod, cache=None) for lod in ("preview", "medium", "high")]
    triangles = [m.triangle_count for m in meshes]
    assert triangles[0] <= triangles[1] <= triangles[2]
    assert triangles[0] < triangles[2] or (name == "plate with holes" and triangles[0] <= triangles[2])
    diag = diagonal(shape)
    for mesh, lod in zip(meshes, ("preview", "medium", "high")):
        assert mesh.deflection == pytest.approx(LODS[lod].relative_deflection * diag)
        assert mesh.angular_tolerance == LODS[lod].angular_tolerance


def test_a_coarser_level_after_a_finer_one_really_is_coarser() -> None:
    """BRepMesh keeps a finer existing mesh; tessellating a private copy avoids that trap."""
    shape = cq.Solid.makeTorus(40, 10)
    fine = tessellate(shape, "high", cache=None)
    coarse = tessellate(shape, "preview", cache=None)
    assert coarse.triangle_count < fine.triangle_count
    assert shape.wrapped.IsEqual(coarse.shape.wrapped)


def test_deflection_is_relative_to_the_size() -> None:
    small, large = cq.Solid.makeBox(2, 2, 2), cq.Solid.makeBox(2000, 2000, 2000)
    assert deflection_for(large) == pytest.approx(1000 * deflection_for(small))
    assert deflection_for(small, "high") == pytest.approx(0.001 * math.sqrt(12))
    a = tessellate(cq.Solid.makeSphere(1, angleDegrees1=-90), cache=None)
    b = tessellate(cq.Solid.makeSphere(1000, angleDegrees1=-90), cache=None)
    assert a.triangle_count == b.triangle_count


def test_explicit_tolerances_override_the_level() -> None:
    mesh = tessellate(sphere(), deflection=0.5, angular_tolerance=0.25, cache=None)
    assert (mesh.deflection, mesh.angular_tolerance) == (0.5, 0.25)
    with pytest.raises(ValueError, match="radians"):
        tessellate(sphere(), angular_tolerance=30)
    with pytest.raises(ValueError, match="positive length"):
        tessellate(sphere(), deflection=0)
    with pytest.raises(ValueError, match="unknown level of detail 'ultra'"):
        tessellate(sphere(), "ultra")
    with pytest.raises(TypeError, match="can only tessellate shapes"):
        tessellate(42)


def test_edges_lie_on_the_mesh_and_match_the_brep_edges() -> None:
    shape = shelled_box()
    mesh = tessellate(shape, cache=None)
    assert (mesh.edge_ranges[:, 1] > 0).all()
    vertices = {tuple(v) for v in np.round(mesh.positions.astype(np.float64), 4)}
    ends = {tuple(v) for v in np.round(mesh.edges.reshape(-1, 3).astype(np.float64), 4)}
    assert ends <= vertices, "edge polylines use the triangles' own nodes"
    for i, edge in enumerate(mesh.edges_of_shape()):
        first, count = (int(v) for v in mesh.edge_ranges[i])
        segments = mesh.edges[first : first + count].astype(np.float64)
        length = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1).sum()
        assert length == pytest.approx(edge.Length(), rel=0.02)


def test_wires_give_edges_only_and_points_give_nothing() -> None:
    circle = cq.Wire.makeCircle(10, cq.Vector(0, 0, 0), cq.Vector(0, 0, 1))
    mesh = tessellate(circle, cache=None)
    check_structure(mesh)
    assert mesh.triangle_count == 0 and mesh.edge_count == 1 and mesh.segment_count > 8
    radius = np.linalg.norm(mesh.edges.reshape(-1, 3)[:, :2], axis=1)
    assert np.allclose(radius, 10, atol=1e-4)
    assert mesh.bbox[0][0] == pytest.approx(-10, abs=mesh.deflection)  # the bbox of what is drawn
    point = tessellate(cq.Vertex.makeVertex(1, 2, 3), cache=None)
    check_structure(point)
    assert (point.triangle_count, point.segment_count, point.face_count) == (0, 0, 0)


def test_lists_and_parts_are_tessellated_as_one_compound() -> None:
    boxes = [cq.Solid.makeBox(1, 1, 1).moved(cq.Location(cq.Vector(3 * i, 0, 0))) for i in range(4)]
    mesh = tessellate(boxes, cache=None)
    assert mesh.face_count == 24 and mesh.triangle_count == 48
    assert mesh.bbox == ((0.0, 0.0, 0.0), (10.0, 1.0, 1.0))
    part = tessellate(Part(cq.Solid.makeBox(1, 2, 3), name="p", color=(1, 0, 0, 1)), cache=None)
    assert part.face_count == 6


def test_face_index_maps_back_through_the_tessellated_shape() -> None:
    shape = plate_with_holes()
    mesh = tessellate(shape, cache=None)
    faces = shape.Faces()
    for i in range(mesh.face_count):
        assert mesh.face(i).wrapped.IsSame(faces[i].wrapped)
        first, count = (int(v) for v in mesh.face_ranges[i])
        for triangle in (first, first + count - 1):
            assert mesh.face_of_triangle(triangle) == i
        # the face's triangles lie on that face
        centre = mesh.positions[mesh.indices[first]].astype(np.float64).mean(axis=0)
        assert faces[i].distance(cq.Vertex.makeVertex(*centre)) < 2 * mesh.deflection
    with pytest.raises(IndexError, match="face index 99 out of range: the shape has 12 faces"):
        mesh.face(99)
    with pytest.raises(IndexError, match="triangle -1 out of range"):
        mesh.face_of_triangle(-1)


def test_buffers_follow_the_protocol_order() -> None:
    mesh = tessellate(cq.Solid.makeBox(1, 2, 3), cache=None)
    buffers = mesh.buffers()
    assert [b.nbytes for b in buffers] == [
        mesh.vertex_count * 12,
        mesh.vertex_count * 12,
        mesh.triangle_count * 12,
        mesh.segment_count * 24,
        mesh.face_count * 8,
        mesh.edge_count * 8,
    ]
    assert np.array_equal(np.frombuffer(buffers[2], dtype=np.uint32), mesh.indices.ravel())


# --------------------------------------------------------------------------- cache


def test_cache_hits_by_identity_and_by_content_key() -> None:
    cache = MeshCache(1 << 24)
    shape = cq.Solid.makeTorus(20, 5)
    first = tessellate(shape, cache=cache)
    assert tessellate(shape, cache=cache) is first
    assert tessellate(shape, "high", cache=cache) is not first  # other tolerances, other entry
    rebuilt = cq.Solid.makeTorus(20, 5)  # same geometry, another shape: identity misses
    assert tessellate(rebuilt, cache=cache) is not first
    keyed = tessellate(shape, key="node-key/shape", cache=cache)
    assert tessellate(rebuilt, key="node-key/shape", cache=cache) is keyed
    assert cache.hits >= 2


def test_cache_is_bounded_by_bytes() -> None:
    one = tessellate(cq.Solid.makeTorus(20, 5), cache=None)
    cache = MeshCache(int(one.nbytes * 2.5))
    shapes = [cq.Solid.makeTorus(20, 5) for _ in range(5)]
    for shape in shapes:
        tessellate(shape, cache=cache)
    assert len(cache) == 2 and cache.nbytes <= cache.max_bytes
    assert tessellate(shapes[-1], cache=cache) is not None and cache.hits == 1


# --------------------------------------------------------------------------- triangle limit


def test_triangle_limit_coarsens_before_refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = cq.Solid.makeTorus(40, 10)
    full = tessellate(shape, "high", cache=None, max_triangles=None)
    monkeypatch.setenv(MAX_TRIANGLES_ENV, str(full.triangle_count // 4))
    coarse = tessellate(shape, "high", cache=None)
    assert coarse.coarsened and coarse.triangle_count <= full.triangle_count // 4
    assert coarse.deflection > full.deflection
    check_structure(coarse)


def test_triangle_limit_refuses_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_TRIANGLES_ENV, "50")
    with pytest.raises(MeshTooLarge) as info:
        tessellate(plate_with_holes(), cache=None)
    text = str(info.value)
    assert "even at the coarsest preview quality" in text
    assert "50 this server allows per preview (BREPFLOW_MAX_PREVIEW_TRIANGLES)" in text
    assert info.value.limit == 50 and info.value.triangles > 50


def test_triangle_limit_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_TRIANGLES_ENV, raising=False)
    assert max_preview_triangles() is None
    monkeypatch.setenv(MAX_TRIANGLES_ENV, "1_000_000")
    assert max_preview_triangles() == 1_000_000
    monkeypatch.setenv(MAX_TRIANGLES_ENV, "lots")
    with pytest.raises(ValueError, match="'lots' is not a whole number of triangles"):
        max_preview_triangles()
    monkeypatch.setenv(MAX_TRIANGLES_ENV, "-5")
    with pytest.raises(ValueError, match="must be a positive number"):
        max_preview_triangles()
