"""Features::Fillet / Chamfer / Shell / Draft / Offset on real OCCT."""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.nodes.testing import run_node


def box(x: float = 20, y: float = 20, z: float = 10) -> cq.Solid:
    return cq.Solid.makeBox(x, y, z)


def bbox(shape: cq.Shape) -> tuple[float, ...]:
    b = shape.BoundingBox()
    return tuple(round(v, 6) for v in (b.xmin, b.ymin, b.zmin, b.xmax, b.ymax, b.zmax))


# --------------------------------------------------------------------------- fillet


def test_fillet_vertical_edges_volume() -> None:
    r, h = 2.0, 10.0
    out = run_node("Features::Fillet", {"shape": box()}, radius=r, edges="|Z")["shape"]
    assert out.isValid()
    assert out.Volume() == pytest.approx(20 * 20 * h - 4 * (1 - math.pi / 4) * r * r * h, rel=1e-6)
    assert len(out.Faces()) == 6 + 4


@pytest.mark.parametrize(
    ("selector", "expected_faces"),
    [(">Z", 6 + 4), ("not <Z", 6 + 8 + 4), (">Z or <Z", 6 + 8), ("|Z and >X", 6 + 2)],
)
def test_fillet_selector_forms(selector: str, expected_faces: int) -> None:
    out = run_node("Features::Fillet", {"shape": box()}, radius=1, edges=selector)["shape"]
    assert out.isValid()
    assert len(out.Faces()) == expected_faces
    assert out.Volume() < 4000


def test_fillet_select_all() -> None:
    out = run_node("Features::Fillet", {"shape": box()}, radius=1, selectAll=True)["shape"]
    assert out.isValid()
    assert len(out.Faces()) == 6 + 12 + 8  # faces, edge blends, corner patches
    assert 3900 < out.Volume() < 4000


def test_fillet_needs_a_choice_of_edges() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box()}, radius=1)
    assert info.value.code is ErrorCode.PARAM_INVALID
    assert info.value.param == "edges"
    assert "choose edges" in str(info.value)


def test_fillet_too_large_names_radius_and_sizes() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box()}, radius=30, edges="|Z")
    assert info.value.code in (ErrorCode.GEOM_FILLET_FAIL, ErrorCode.GEOM_INVALID_RESULT)
    text = str(info.value)
    assert "30 mm" in text
    assert "shortest selected edge 10 mm" in text
    assert "20 mm across" in text


def test_fillet_of_all_edges_wider_than_half_a_face_fails_cleanly() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box()}, radius=6, selectAll=True)
    assert info.value.code is ErrorCode.GEOM_FILLET_FAIL
    assert "6 mm" in str(info.value)


def test_selector_syntax_error() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box()}, radius=1, edges=">Z and")
    assert info.value.code is ErrorCode.PARAM_INVALID
    assert "'>Z and'" in str(info.value)


def test_selector_matching_nothing_counts_edges() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box()}, radius=1, edges=">X and <X")
    assert info.value.code is ErrorCode.PARAM_INVALID
    assert "none of the 12 edges" in str(info.value)


def test_selector_bad_index() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box()}, radius=1, edges=">Z[5]")
    assert info.value.code is ErrorCode.PARAM_INVALID


def test_fillet_refuses_a_curve() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": cq.Edge.makeLine(cq.Vector(0, 0, 0), cq.Vector(1, 0, 0))}, radius=1)
    assert info.value.code is ErrorCode.GEOM_INVALID_INPUT


# --------------------------------------------------------------------------- chamfer


def test_chamfer_all_edges_volume() -> None:
    d = 1.0
    out = run_node("Features::Chamfer", {"shape": box()}, distance=d, selectAll=True)["shape"]
    assert out.isValid()
    # box ∩ the edge half-spaces (y+z ≥ d ...): edge prisms d²/2 × length, minus the pair overlaps
    # (d³/3, three per corner), plus the triple overlap (d³/4 per corner); OCCT then caps each
    # corner with the triangle (d,d,0)(d,0,d)(0,d,d), cutting a tetrahedron of d³/12 more:
    # V - d²/2 ΣL + 8 (d³ - d³/4 - d³/12) = V - d²/2 ΣL + 16/3 d³
    edges_total = 4 * (20 + 20 + 10)
    assert out.Volume() == pytest.approx(4000 - d * d / 2 * edges_total + 16 / 3 * d**3, rel=1e-6)
    assert len(out.Faces()) == 6 + 12 + 8


def test_chamfer_top_edges_exact_volume() -> None:
    d = 2.0
    out = run_node("Features::Chamfer", {"shape": box()}, distance=d, edges=">Z")["shape"]
    assert out.isValid()
    # four edge prisms d²/2 × 20, minus the overlap d³/3 at each of the four mitred corners
    removed = 4000 - out.Volume()
    assert removed == pytest.approx(4 * (d * d / 2) * 20 - 4 * d**3 / 3, rel=1e-6)


def test_chamfer_too_large() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Chamfer", {"shape": box()}, distance=6, selectAll=True)
    assert info.value.code is ErrorCode.GEOM_CHAMFER_FAIL
    assert "chamfer distance 6 mm" in str(info.value)


# --------------------------------------------------------------------------- shell


def test_shell_inside_keeps_outer_box_and_opens_top() -> None:
    t = 1.0
    out = run_node("Features::Shell", {"shape": box()}, thickness=t)["shape"]  # default faces '>Z'
    assert out.isValid()
    assert bbox(out) == bbox(box())
    assert out.Volume() == pytest.approx(20 * 20 * 10 - (20 - 2 * t) * (20 - 2 * t) * (10 - t), rel=1e-6)


def test_shell_outside_grows_outer_box() -> None:
    t = 1.0
    out = run_node("Features::Shell", {"shape": box()}, thickness=t, inside=False)["shape"]
    assert out.isValid()
    assert bbox(out) == (-t, -t, -t, 20 + t, 20 + t, 10.0)  # the open top stays at z = 10
    assert out.Volume() == pytest.approx((20 + 2 * t) * (20 + 2 * t) * (10 + t) - 4000, rel=1e-6)


def test_shell_closed_with_empty_selector() -> None:
    t = 1.0
    out = run_node("Features::Shell", {"shape": box()}, thickness=t, faces="")["shape"]
    assert out.isValid()
    assert bbox(out) == bbox(box())
    assert len(out.Shells()) == 2  # outer skin and inner void
    assert out.Volume() == pytest.approx(4000 - 18 * 18 * 8, rel=1e-6)


def test_shell_open_top_and_bottom_tube() -> None:
    out = run_node("Features::Shell", {"shape": box()}, thickness=1, faces=">Z or <Z")["shape"]
    assert out.isValid()
    assert out.Volume() == pytest.approx((400 - 18 * 18) * 10, rel=1e-6)


def test_shell_of_filleted_box_fails_with_shell_code() -> None:
    rounded = run_node("Features::Fillet", {"shape": box()}, radius=2, selectAll=True)["shape"]
    with pytest.raises(NodeError) as info:
        run_node("Features::Shell", {"shape": rounded}, thickness=3)
    assert info.value.code is ErrorCode.GEOM_SHELL_FAIL
    assert "radius 2 mm" in str(info.value)


def test_shell_selecting_every_face_is_refused() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Shell", {"shape": box()}, thickness=1, faces="not %CIRCLE")
    assert info.value.code is ErrorCode.PARAM_INVALID


# --------------------------------------------------------------------------- draft


def test_draft_sides_narrow_along_pull_direction() -> None:
    a, h = 5.0, 10.0
    out = run_node("Features::Draft", {"shape": box()}, angle=a)["shape"]
    assert out.isValid()
    k = 2 * math.tan(math.radians(a))
    top = out.faces(">Z")
    assert top.Area() == pytest.approx((20 - k * h) ** 2, rel=1e-6)
    # volume of the drafted block: integral of (20 - k z)² dz
    expected = (20**3 - (20 - k * h) ** 3) / (3 * k)
    assert out.Volume() == pytest.approx(expected, rel=1e-6)
    assert bbox(out)[:3] == (0.0, 0.0, 0.0)  # neutral plane at the bottom keeps the base


def test_draft_with_selector_and_neutral_plane_input() -> None:
    plane = cq.Face.makePlane(30, 30, basePnt=cq.Vector(10, 10, 10), dir=cq.Vector(0, 0, 1))
    out = run_node("Features::Draft", {"shape": box(), "neutralPlane": plane}, angle=5, faces=">X")["shape"]
    assert out.isValid()
    k = math.tan(math.radians(5))
    # only the +X face tilts, pivoting about its top edge: the bottom sticks out by k·h
    b = out.BoundingBox()
    assert b.xmax == pytest.approx(20 + k * 10, rel=1e-6)
    assert out.Volume() == pytest.approx(4000 + 0.5 * k * 10 * 10 * 20, rel=1e-6)


def test_draft_zero_pull_direction_is_invalid() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Features::Draft", {"shape": box()}, angle=3, pullDirection=(0, 0, 0))
    assert info.value.code is ErrorCode.PARAM_INVALID


# --------------------------------------------------------------------------- offset


def test_offset_grows_solid() -> None:
    d = 1.0
    out = run_node("Features::Offset", {"shape": box()}, distance=d)["shape"]
    assert out.isValid()
    # Minkowski sum of a box and a ball: V + A·d + (π/4)·(sum of edge lengths)·d² + (4/3)π d³
    area = 2 * (400 + 200 + 200)
    edges = 4 * (20 + 20 + 10)
    expected = 4000 + area * d + math.pi / 4 * edges * d * d + 4 / 3 * math.pi * d**3
    assert out.Volume() == pytest.approx(expected, rel=1e-4)
    assert bbox(out) == (-d, -d, -d, 20 + d, 20 + d, 10 + d)


def test_offset_intersection_join_keeps_sharp_edges() -> None:
    out = run_node("Features::Offset", {"shape": box()}, distance=1, join="intersection")["shape"]
    assert out.Volume() == pytest.approx(22 * 22 * 12, rel=1e-6)
    assert len(out.Faces()) == 6


def test_offset_shrinks_and_fails_when_too_thin() -> None:
    out = run_node("Features::Offset", {"shape": box()}, distance=-1)["shape"]
    assert out.Volume() == pytest.approx(18 * 18 * 8, rel=1e-6)
    with pytest.raises(NodeError) as info:
        run_node("Features::Offset", {"shape": box()}, distance=-6)
    assert info.value.code is ErrorCode.GEOM_OFFSET_FAIL
    assert "6 mm" in str(info.value)


def test_fillet_of_a_concave_edge_adds_material() -> None:
    profile = [(0, 0), (20, 0), (20, 5), (5, 5), (5, 20), (0, 20)]
    ell = cq.Solid.extrudeLinear(cq.Face.makeFromWires(cq.Wire.makePolygon(profile, close=True)), cq.Vector(0, 0, 10))
    r = 2.0
    out = run_node("Features::Fillet", {"shape": ell}, radius=r, edges="|Z exc (<X or >X or <Y or >Y)")["shape"]
    assert out.isValid()
    assert out.Volume() == pytest.approx(ell.Volume() + (1 - math.pi / 4) * r * r * 10, rel=1e-6)
