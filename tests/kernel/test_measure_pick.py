"""The viewer's Measure tool: exact values from OCCT on solids whose answers are known.

Every expected value here is computed by hand from the solid's dimensions (a 40 × 30 × 20
box, a hole of radius 6, a 45° chamfer of 5); the tolerance is 1e-9, so a value read
from the mesh (off by the tessellation's deflection) would fail.
"""

from __future__ import annotations

import math
from typing import Any

import cadquery as cq
import pytest

from brepflow_lab.kernel.measure import (
    MeasureError,
    entity_properties,
    nearest_vertex,
    pair_properties,
    solid_containing,
)

EXACT = 1e-9


def close(a: Any, b: Any, tol: float = EXACT) -> bool:
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return abs(float(a) - float(b)) <= tol


def box(w: float = 40, h: float = 30, d: float = 20) -> cq.Solid:
    """[0, w] × [0, h] × [0, d], as Solid::Box builds it."""
    return cq.Solid.makeBox(w, h, d)


def box_with_hole(radius: float = 6) -> cq.Shape:
    """The 40 × 30 × 20 box with a through hole along Z at (20, 15)."""
    return box().cut(cq.Solid.makeCylinder(radius, 40, cq.Vector(20, 15, -10)))


def face_at(shape: cq.Shape, kind: str, centre: tuple[float, float, float]) -> cq.Face:
    found = [f for f in shape.Faces() if f.geomType() == kind and close(f.Center().toTuple(), centre, 1e-6)]
    assert len(found) == 1, (kind, centre, [(f.geomType(), f.Center().toTuple()) for f in shape.Faces()])
    return found[0]


def planar_face(shape: cq.Shape, normal: tuple[float, float, float]) -> cq.Face:
    found = [f for f in shape.Faces() if f.geomType() == "PLANE" and close(f.normalAt().toTuple(), normal, 1e-9)]
    assert len(found) == 1, normal
    return found[0]


# -- one entity -------------------------------------------------------------------------------------
def test_box_solid_volume_area_and_centre_of_mass() -> None:
    props = entity_properties(box())
    assert props["entity"] == "solid"
    assert close(props["volume"], 24000)  # 40 · 30 · 20
    assert close(props["area"], 5200)  # 2 (40·30 + 40·20 + 30·20)
    assert close(props["center_of_mass"], (20, 15, 10))


def test_box_with_hole_solid() -> None:
    props = entity_properties(box_with_hole())
    assert close(props["volume"], 24000 - math.pi * 36 * 20, 1e-6)
    assert close(props["center_of_mass"], (20, 15, 10), 1e-9)


def test_planar_face_area_type_and_outward_normal() -> None:
    solid = box()
    top = planar_face(solid, (0, 0, 1))
    props = entity_properties(top)
    assert props["type"] == "plane" and props["entity"] == "face"
    assert close(props["area"], 1200)
    assert close(props["normal"], (0, 0, 1))
    assert close(props["center"], (20, 15, 20))
    bottom = entity_properties(planar_face(solid, (0, 0, -1)))
    assert close(bottom["normal"], (0, 0, -1))  # outward, not the plane's own axis


def test_cylinder_radius_and_diameter() -> None:
    solid = cq.Solid.makeCylinder(7.5, 20)
    side = entity_properties(face_at(solid, "CYLINDER", (0, 0, 10)))
    assert side["type"] == "cylinder"
    assert close(side["radius"], 7.5) and close(side["diameter"], 15)
    assert close(side["area"], 2 * math.pi * 7.5 * 20)
    assert side["concave"] is False
    assert close(side["axis"]["direction"], (0, 0, 1)) and close(side["axis"]["origin"], (0, 0, 0))
    rims = [entity_properties(e) for e in solid.Edges() if e.geomType() == "CIRCLE"]
    assert len(rims) == 2
    for rim in rims:
        assert rim["type"] == "circle" and rim["arc"] is False
        assert close(rim["radius"], 7.5) and close(rim["diameter"], 15)
        assert close(rim["length"], 2 * math.pi * 7.5)
        assert close(rim["circle_center"][:2], (0, 0))


def test_hole_diameter() -> None:
    solid = box_with_hole(6)
    hole = entity_properties(face_at(solid, "CYLINDER", (20, 15, 10)))
    assert hole["type"] == "cylinder" and hole["concave"] is True
    assert close(hole["radius"], 6) and close(hole["diameter"], 12)
    assert close(hole["area"], 2 * math.pi * 6 * 20)
    rims = [entity_properties(e) for e in solid.Edges() if e.geomType() == "CIRCLE"]
    assert len(rims) == 2 and all(close(r["diameter"], 12) for r in rims)
    assert sorted(r["circle_center"][2] for r in rims) == [0, 20]


def test_arc_radius_and_sweep() -> None:
    plain = box()
    solid = plain.fillet(4, [e for e in plain.Edges() if close(e.Center().toTuple(), (40, 30, 10))])
    arcs = [entity_properties(e) for e in solid.Edges() if e.geomType() == "CIRCLE"]
    assert arcs and all(a["arc"] is True and close(a["radius"], 4) and close(a["sweep_angle"], 90) for a in arcs)
    assert all(close(a["length"], 2 * math.pi * 4 / 4) for a in arcs)


def test_cone_radius_where_picked_and_sphere_radius() -> None:
    cone = cq.Solid.makeCone(10, 0, 20)
    side = next(f for f in cone.Faces() if f.geomType() == "CONE")
    at_half = entity_properties(side, point=(0, 5, 10))  # halfway up: radius 5
    assert at_half["type"] == "cone"
    assert close(at_half["radius"], 5) and close(at_half["diameter"], 10)
    assert close(at_half["semi_angle"], math.degrees(math.atan(10 / 20)))
    assert close(at_half["apex"], (0, 0, 20))
    near_base = entity_properties(side, point=(8, 0, 4))  # on the surface at z = 4: r = 10 - 4/2
    assert close(near_base["radius"], 8)
    sphere = next(f for f in cq.Solid.makeSphere(12.5, angleDegrees1=-90).Faces() if f.geomType() == "SPHERE")
    props = entity_properties(sphere)
    assert close(props["radius"], 12.5) and close(props["diameter"], 25) and props["concave"] is False
    assert close(props["area"], 4 * math.pi * 12.5**2, 1e-6)


def test_torus_radii() -> None:
    torus = cq.Solid.makeTorus(20, 3)
    props = entity_properties(torus.Faces()[0])
    assert props["type"] == "torus"
    assert close(props["major_radius"], 20) and close(props["minor_radius"], 3)


def test_ellipse_and_spline_lengths_are_exact() -> None:
    """GProp's linear properties are exact on lines and circles only: the length of an
    ellipse comes from adaptive integration (48.442241102738 for radii 10 and 5, from
    E(m = 3/4) = 1.211056027568, the complete elliptic integral: 4 · 10 · E)."""
    solid = cq.Workplane().ellipse(10, 5).workplane(offset=10).circle(4).loft().val()
    ellipse = entity_properties(next(e for e in solid.Edges() if e.geomType() == "ELLIPSE"))
    assert ellipse["type"] == "ellipse"
    assert close(ellipse["major_radius"], 10) and close(ellipse["minor_radius"], 5)
    assert close(ellipse["length"], 48.44224110273837, 1e-9)
    assert sorted(entity_properties(f)["type"] for f in solid.Faces()) == ["bspline", "plane", "plane"]
    spline = cq.Edge.makeSpline([cq.Vector(0, 0, 0), cq.Vector(10, 5, 0), cq.Vector(20, 0, 3)])
    props = entity_properties(spline)
    assert props["type"] == "bspline" and props["start"] == (0, 0, 0)
    # the length by the chord sum of a fine subdivision, which converges to it from below
    from OCP.BRepAdaptor import BRepAdaptor_Curve

    curve = BRepAdaptor_Curve(spline.wrapped)
    t0, t1 = curve.FirstParameter(), curve.LastParameter()
    n = 20000
    pts = [curve.Value(t0 + (t1 - t0) * i / n) for i in range(n + 1)]
    chords = sum(pts[i].Distance(pts[i + 1]) for i in range(n))
    assert 0 <= props["length"] - chords < 1e-6


def test_edge_length_and_vertex_position() -> None:
    solid = box()
    edge = next(e for e in solid.Edges() if close(e.Center().toTuple(), (20, 0, 0)))
    props = entity_properties(edge)
    assert props["type"] == "line" and close(props["length"], 40)
    assert close(sorted([props["start"], props["end"]]), [(0, 0, 0), (40, 0, 0)])
    vertex = nearest_vertex(edge, (39.0, 0.2, 0.0))
    assert close(entity_properties(vertex)["position"], (40, 0, 0))


def test_solid_containing_a_face() -> None:
    left, right = box(), cq.Solid.makeBox(5, 5, 5, cq.Vector(100, 0, 0))
    compound = cq.Compound.makeCompound([left, right])
    face = next(f for f in compound.Faces() if close(f.Center().toTuple(), (102.5, 2.5, 5)))
    solid = solid_containing(compound, face)
    assert close(entity_properties(solid)["volume"], 125)
    with pytest.raises(MeasureError):
        solid_containing(cq.Compound.makeCompound([face]), face)
    with pytest.raises(MeasureError):
        entity_properties(cq.Compound.makeCompound([face]))


# -- two entities ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("normal", "distance"),
    [((1, 0, 0), 40), ((0, 1, 0), 30), ((0, 0, 1), 20)],
)
def test_distance_between_opposite_faces_of_a_box(normal: tuple[int, int, int], distance: float) -> None:
    solid = box_with_hole()
    near = planar_face(solid, tuple(-c for c in normal))  # type: ignore[arg-type]
    far = planar_face(solid, normal)
    pair = pair_properties(near, far)
    assert close(pair["distance"], distance)
    assert close(pair["angle"], 180)  # outward normals opposite
    assert "interior_angle" not in pair  # they share no edge
    p, q = pair["points"]
    assert close(pair["delta"], tuple(distance * c for c in normal))
    assert close(_dot(q, normal) - _dot(p, normal), distance)


def _dot(a: Any, b: Any) -> float:
    return sum(x * y for x, y in zip(a, b))


def test_adjacent_box_faces_touch_at_right_angles() -> None:
    solid = box()
    pair = pair_properties(planar_face(solid, (0, 0, 1)), planar_face(solid, (1, 0, 0)))
    assert close(pair["distance"], 0)
    assert close(pair["angle"], 90) and close(pair["interior_angle"], 90)


def test_angles_of_a_45_degree_chamfer() -> None:
    """A 5 mm chamfer on the top front edge of the box: the chamfer face makes 135° inside
    the material with the top and with the front face (its normals are 45° from theirs),
    and its normal is 135° from the bottom's."""
    plain = box()
    edge = next(e for e in plain.Edges() if close(e.Center().toTuple(), (20, 0, 20)))
    solid = plain.chamfer(5, None, [edge])
    s = math.sqrt(0.5)
    chamfer = planar_face(solid, (0, -s, s))
    assert close(entity_properties(chamfer)["area"], 40 * 5 * math.sqrt(2))
    for neighbour in ((0, 0, 1), (0, -1, 0)):
        pair = pair_properties(chamfer, planar_face(solid, neighbour))
        assert close(pair["angle"], 45), neighbour
        assert close(pair["interior_angle"], 135), neighbour
        assert close(pair["distance"], 0)
    opposite = pair_properties(chamfer, planar_face(solid, (0, 0, -1)))
    assert close(opposite["angle"], 135) and "interior_angle" not in opposite
    # the edges of the chamfer: a slanted edge meets the vertical front edge at 135°
    slanted = next(e for e in solid.Edges() if close(e.Center().toTuple(), (0, 2.5, 17.5)))
    vertical = next(e for e in solid.Edges() if close(e.Center().toTuple(), (0, 0, 7.5)))
    assert close(pair_properties(slanted, vertical)["angle"], 135)
    # and the slanted edge lies at 45° to the top face's plane
    assert close(pair_properties(slanted, planar_face(solid, (0, 0, 1)))["angle"], 45)


def test_concave_corner_interior_angle() -> None:
    """An L: the two faces of the inside corner make 270° inside the material."""
    solid = box(40, 30, 10).fuse(box(10, 30, 40)).clean()
    inner_top = face_at(solid, "PLANE", (25, 15, 10))
    inner_wall = face_at(solid, "PLANE", (10, 15, 25))
    pair = pair_properties(inner_top, inner_wall)
    assert close(pair["angle"], 90) and close(pair["interior_angle"], 270)


def test_angle_between_straight_edges_without_a_shared_vertex() -> None:
    solid = box()
    a = next(e for e in solid.Edges() if close(e.Center().toTuple(), (20, 0, 0)))
    b = next(e for e in solid.Edges() if close(e.Center().toTuple(), (20, 30, 20)))  # parallel
    c = next(e for e in solid.Edges() if close(e.Center().toTuple(), (0, 15, 20)))  # skew, perpendicular
    assert close(pair_properties(a, b)["angle"], 0) and close(pair_properties(a, b)["distance"], math.hypot(30, 20))
    assert close(pair_properties(a, c)["angle"], 90) and close(pair_properties(a, c)["distance"], 20)


def test_centre_distance_of_two_holes() -> None:
    plate = box(60, 30, 10)
    for x in (15, 45):
        plate = plate.cut(cq.Solid.makeCylinder(4, 20, cq.Vector(x, 15, -5)))
    walls = [f for f in plate.Faces() if f.geomType() == "CYLINDER"]
    assert len(walls) == 2
    pair = pair_properties(walls[0], walls[1])
    assert close(pair["center_distance"], 30)
    assert close(pair["distance"], 30 - 2 * 4)  # wall to wall
    assert "angle" not in pair
    top_rims = [e for e in plate.Edges() if e.geomType() == "CIRCLE" and close(e.Center().z, 10)]
    rims = pair_properties(top_rims[0], top_rims[1])
    assert close(rims["center_distance"], 30)
    # a rim and the other hole's wall: the rim's centre to the wall's axis
    other_wall = next(w for w in walls if not close(w.Center().x, top_rims[0].Center().x, 1e-6))
    assert close(pair_properties(top_rims[0], other_wall)["center_distance"], 30)


def test_vertices_distance_and_delta() -> None:
    solid = box()
    a = next(v for v in solid.Vertices() if close(v.toTuple(), (0, 0, 0)))
    b = next(v for v in solid.Vertices() if close(v.toTuple(), (40, 30, 20)))
    pair = pair_properties(a, b)
    assert close(pair["distance"], math.sqrt(40**2 + 30**2 + 20**2))
    assert close(pair["delta"], (40, 30, 20))
    assert "center_distance" not in pair and "angle" not in pair


def test_solid_to_solid_distance() -> None:
    pair = pair_properties(box(), cq.Solid.makeBox(10, 10, 10, cq.Vector(55, 0, 0)))
    assert close(pair["distance"], 15)
    assert [e["entity"] for e in pair["entities"]] == ["solid", "solid"]
