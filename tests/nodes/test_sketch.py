"""Sketch nodes: lengths, areas, closedness and errors (real OCCT)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.nodes.testing import run_node
from tests.nodes.children import Children, child_results, start_children

REL = 1e-6


def curve(node_type: str, inputs: dict[str, Any] | None = None, **params: Any) -> Any:
    out = run_node(node_type, inputs, **params)
    (value,) = out.values()
    assert value.isValid()
    return value


def area(wire: Any) -> float:
    import cadquery as cq

    return float(cq.Face.makeFromWires(wire).Area())


def error_of(node_type: str, inputs: dict[str, Any] | None = None, **params: Any) -> NodeError:
    with pytest.raises(NodeError) as info:
        run_node(node_type, inputs, **params)
    return info.value


def test_line_length_and_ends() -> None:
    line = curve("Sketch::Line", start=(1, 2, 3), end=(4, 6, 3))
    assert line.Length() == pytest.approx(5.0, rel=REL)
    assert line.startPoint().toTuple() == pytest.approx((1, 2, 3))
    assert line.endPoint().toTuple() == pytest.approx((4, 6, 3))
    assert not line.IsClosed()


def test_line_default_and_input_override() -> None:
    assert curve("Sketch::Line").Length() == pytest.approx(100.0, rel=REL)
    line = curve("Sketch::Line", {"end": (0.0, 7.0, 0.0)})
    assert line.Length() == pytest.approx(7.0, rel=REL)


def test_zero_length_line_is_invalid() -> None:
    err = error_of("Sketch::Line", start=(1, 1, 1), end=(1, 1, 1))
    assert err.code == ErrorCode.PARAM_INVALID


def test_circle_length_area_and_plane() -> None:
    circle = curve("Sketch::Circle", radius=3, center=(1, 1, 5))
    assert circle.IsClosed()
    assert circle.Length() == pytest.approx(2 * math.pi * 3, rel=REL)
    assert area(circle) == pytest.approx(math.pi * 9, rel=REL)
    bb = circle.BoundingBox()
    assert (bb.zmin, bb.zmax) == pytest.approx((5, 5), abs=1e-6)


def test_circle_with_normal_lies_in_its_plane() -> None:
    circle = curve("Sketch::Circle", radius=2, normal=(1, 0, 0))
    bb = circle.BoundingBox()
    assert bb.xlen == pytest.approx(0, abs=1e-6)
    assert bb.ylen == pytest.approx(4, abs=1e-6)


def test_circle_negative_radius_is_param_invalid() -> None:
    err = error_of("Sketch::Circle", radius=-2)
    assert err.code == ErrorCode.PARAM_INVALID
    assert err.param == "radius"


def test_rectangle_is_centred_and_closed() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4, center=(1, 2, 0))
    assert rect.IsClosed()
    assert rect.Length() == pytest.approx(28, rel=REL)
    assert area(rect) == pytest.approx(40, rel=REL)
    bb = rect.BoundingBox()
    assert (bb.xmin, bb.xmax, bb.ymin, bb.ymax) == pytest.approx((-4, 6, 0, 4), abs=1e-6)


@pytest.mark.parametrize(
    ("start", "end", "sweep"),
    [(0.0, 90.0, 90.0), (270.0, 90.0, 180.0), (30.0, 300.0, 270.0), (0.0, 360.0, 360.0)],
)
def test_arc_length(start: float, end: float, sweep: float) -> None:
    arc = curve("Sketch::Arc", radius=5, startAngle=start, endAngle=end)
    assert arc.Length() == pytest.approx(2 * math.pi * 5 * sweep / 360, rel=REL)
    first = arc.startPoint().toTuple()
    assert first == pytest.approx((5 * math.cos(math.radians(start)), 5 * math.sin(math.radians(start)), 0), abs=1e-6)


def test_arc_from_start_and_end_points() -> None:
    arc = curve("Sketch::Arc", {"start": (0.0, 4.0, 0.0), "end": (-9.0, 0.0, 0.0)})
    assert arc.Length() == pytest.approx(2 * math.pi * 4 / 4, rel=REL)
    assert arc.endPoint().toTuple() == pytest.approx((-4, 0, 0), abs=1e-6)


def test_arc_with_equal_angles_is_invalid() -> None:
    err = error_of("Sketch::Arc", startAngle=45, endAngle=45)
    assert err.code == ErrorCode.PARAM_INVALID


def test_point_is_a_vertex() -> None:
    out = run_node("Sketch::Point", x=1, y=2, z=3)
    assert out["point"].toTuple() == pytest.approx((1, 2, 3))
    moved = run_node("Sketch::Point", {"position": (4.0, 5.0, 6.0)})
    assert moved["point"].toTuple() == pytest.approx((4, 5, 6))


@pytest.mark.parametrize(("a", "b"), [(5.0, 3.0), (2.0, 6.0)])
def test_ellipse_area_and_axes(a: float, b: float) -> None:
    ellipse = curve("Sketch::Ellipse", majorRadius=a, minorRadius=b)
    assert ellipse.IsClosed()
    assert area(ellipse) == pytest.approx(math.pi * a * b, rel=REL)
    bb = ellipse.BoundingBox()
    assert (bb.xlen, bb.ylen) == pytest.approx((2 * a, 2 * b), abs=1e-6)


@pytest.mark.parametrize(("sides", "inscribed"), [(6, True), (6, False), (3, True), (8, False)])
def test_regular_polygon_perimeter(sides: int, inscribed: bool) -> None:
    r = 10.0
    poly = curve("Sketch::Polygon", sides=sides, radius=r, inscribed=inscribed)
    assert poly.IsClosed()
    assert len(poly.Edges()) == sides
    side = 2 * r * math.sin(math.pi / sides) if inscribed else 2 * r * math.tan(math.pi / sides)
    assert poly.Length() == pytest.approx(sides * side, rel=REL)


def test_polygon_too_few_sides_is_param_invalid() -> None:
    assert error_of("Sketch::Polygon", sides=2).code == ErrorCode.PARAM_INVALID


def test_polygon_through_connected_points() -> None:
    pts = [run_node("Sketch::Point", x=x, y=y)["point"] for x, y in [(0, 0), (3, 0), (0, 4)]]
    tri = curve("Sketch::Polygon", {"points": pts})
    assert tri.Length() == pytest.approx(12, rel=REL)


def test_polyline_from_text() -> None:
    pl = run_node("Sketch::Polyline", points="0,0; 10,0; 10,5")["wire"]
    assert pl.Length() == pytest.approx(15, rel=REL)
    assert not pl.IsClosed()
    closed = run_node("Sketch::Polyline", points="0,0; 10,0\n10,5,0", closed=True)["wire"]
    assert closed.IsClosed()
    assert closed.Length() == pytest.approx(15 + math.hypot(10, 5), rel=REL)
    assert area(closed) == pytest.approx(25, rel=REL)


def test_polyline_from_connected_points_overrides_text() -> None:
    pts = [run_node("Sketch::Point", x=x)["point"] for x in (0, 2, 7)]
    pl = run_node("Sketch::Polyline", {"points": pts}, points="0,0; 1,0")["wire"]
    assert pl.Length() == pytest.approx(7, rel=REL)


@pytest.mark.parametrize("text", ["0,0; nope", "0,0; 1", "0,0; 1,2,3,4"])
def test_polyline_bad_text_is_param_invalid(text: str) -> None:
    err = error_of("Sketch::Polyline", points=text)
    assert err.code == ErrorCode.PARAM_INVALID
    assert err.param == "points"


def test_polyline_repeated_point_is_param_invalid() -> None:
    assert error_of("Sketch::Polyline", points="0,0; 0,0; 1,1").code == ErrorCode.PARAM_INVALID


def test_closed_polyline_extrudes() -> None:
    tri = run_node("Sketch::Polyline", points="0,0; 4,0; 0,3", closed=True)["wire"]
    prism = run_node("Solid::Extrude", {"profile": tri}, distance=2)["shape"]
    assert prism.Volume() == pytest.approx(6 * 2, rel=REL)


def test_spline_passes_through_points() -> None:
    points = [(0.0, 0.0, 0.0), (10.0, 5.0, 0.0), (20.0, 0.0, 0.0), (30.0, -5.0, 0.0)]
    text = "; ".join(f"{x},{y}" for x, y, _ in points)
    spline = curve("Sketch::Spline", points=text)
    assert spline.startPoint().toTuple() == pytest.approx(points[0], abs=1e-6)
    assert spline.endPoint().toTuple() == pytest.approx(points[-1], abs=1e-6)
    import cadquery as cq

    for p in points[1:-1]:
        assert cq.Vertex.makeVertex(*p).distance(spline) == pytest.approx(0, abs=1e-6)
    # longer than the polyline through the same points, but not by much
    polyline_length = sum(math.dist(points[i], points[i + 1]) for i in range(3))
    assert polyline_length < spline.Length() < 1.2 * polyline_length


def test_closed_spline_is_a_profile() -> None:
    spline = curve("Sketch::Spline", points="10,0; 0,10; -10,0; 0,-10", closed=True)
    assert spline.IsClosed()
    # a smooth closed curve through the 4 points of a circle of radius 10: area close to 100π
    assert area(spline) == pytest.approx(math.pi * 100, rel=0.05)


def test_offset_rectangle_outwards_with_arcs_and_sharp() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4)
    rounded = curve("Sketch::Offset2D", {"curve": rect}, distance=1)
    assert area(rounded) == pytest.approx(40 + 28 * 1 + math.pi * 1, rel=REL)
    sharp = curve("Sketch::Offset2D", {"curve": rect}, distance=1, kind="intersection")
    assert area(sharp) == pytest.approx(12 * 6, rel=REL)


def test_offset_inwards() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4)
    inner = curve("Sketch::Offset2D", {"curve": rect}, distance=-1)
    assert area(inner) == pytest.approx(8 * 2, rel=REL)


def test_offset_inwards_too_far_fails() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4)
    err = error_of("Sketch::Offset2D", {"curve": rect}, distance=-3)
    assert err.code == ErrorCode.GEOM_OFFSET_FAIL
    assert err.param == "distance"


def test_fillet2d_rectangle_area() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4)
    r = 1.5
    rounded = run_node("Sketch::Fillet2D", {"wire": rect}, radius=r)["filleted"]
    assert rounded.IsClosed()
    assert area(rounded) == pytest.approx(40 - (4 - math.pi) * r * r, rel=REL)
    assert len(rounded.Edges()) == 8


def test_fillet2d_selected_corners() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4)
    corner = run_node("Sketch::Point", x=5, y=2)["point"]
    r = 1.0
    out = run_node("Sketch::Fillet2D", {"wire": rect, "vertices": [corner]}, radius=r, allCorners=False)
    assert area(out["filleted"]) == pytest.approx(40 - (1 - math.pi / 4) * r * r, rel=REL)


def test_fillet2d_radius_too_large_names_the_radius() -> None:
    rect = curve("Sketch::Rectangle", width=10, height=4)
    err = error_of("Sketch::Fillet2D", {"wire": rect}, radius=3)
    assert err.code == ErrorCode.GEOM_SKETCH_FAIL
    assert err.param == "radius"
    assert "3" in err.message


def test_fillet2d_open_polyline_keeps_its_ends() -> None:
    pl = run_node("Sketch::Polyline", points="0,0; 10,0; 10,10")["wire"]
    r = 2.0
    rounded = run_node("Sketch::Fillet2D", {"wire": pl}, radius=r)["filleted"]
    assert rounded.startPoint().toTuple() == pytest.approx((0, 0, 0), abs=1e-6)
    assert rounded.Length() == pytest.approx(20 - 2 * r + math.pi * r / 2, rel=REL)


def test_extrude_each_closed_sketch() -> None:
    for node_type, params, expected_area in [
        ("Sketch::Circle", {"radius": 2}, math.pi * 4),
        ("Sketch::Rectangle", {"width": 3, "height": 2}, 6.0),
        ("Sketch::Ellipse", {"majorRadius": 3, "minorRadius": 1}, math.pi * 3),
        ("Sketch::Polygon", {"sides": 4, "radius": 1}, 2.0),
    ]:
        profile = curve(node_type, **params)
        prism = run_node("Solid::Extrude", {"profile": profile}, distance=2)["shape"]
        assert prism.Volume() == pytest.approx(2 * expected_area, rel=REL), node_type


# --------------------------------------------------------------------------- inputs that crashed OCCT
#
# These inputs killed the process (SIGSEGV in OCCT's BRepOffsetAPI_MakeOffset) before the
# kernel guarded them. Each runs in a child process with a deadline, so a regression fails
# its test instead of killing the test session.

_CHILD = """
import json, math
import cadquery as cq
from brepflow_lab.errors import NodeError
from brepflow_lab.nodes.testing import run_node

def curve(node_type, inputs=None, **params):
    return next(iter(run_node(node_type, inputs, **params).values()))

def offset(wire, distance, kind="arc"):
    out = curve("Sketch::Offset2D", {"curve": wire}, distance=distance, kind=kind)
    assert out.isValid()
    return {"length": out.Length(), "closed": out.IsClosed(), "edges": len(out.Edges()),
            "bbox": [out.BoundingBox().xlen, out.BoundingBox().ylen, out.BoundingBox().zlen]}

def attempt(fn):
    try:
        return fn()
    except NodeError as exc:
        return {"error": exc.code.value, "param": exc.param, "message": str(exc)}

results = {}
%s
print(json.dumps(results))
"""

CRASHED_OFFSETS: dict[str, str] = {
    "inward-offset-of-small-circles": """
for r, d, kind in [(1, -0.5, "arc"), (0.5, -0.1, "arc"), (1, -0.001, "arc"), (0.99, -0.1, "intersection")]:
    results[f"{r} {d} {kind}"] = attempt(lambda: offset(curve("Sketch::Circle", radius=r), d, kind))
results["tilted"] = attempt(lambda: offset(curve("Sketch::Circle", radius=0.5, normal=(1, 0.5, 0)), -0.25))
results["too far"] = attempt(lambda: offset(curve("Sketch::Circle", radius=1), -1))
""",
    "offset-of-round-ellipse": """
for d in (5, -2):
    results[str(d)] = attempt(lambda: offset(curve("Sketch::Ellipse", majorRadius=10, minorRadius=10), d))
""",
    "offset-of-raw-ellipse-edges": """
# built with cadquery, as imported geometry would be: the Ellipse node would make a circle
for ratio in (1.0, 1 - 1e-9, 0.5):
    wire = cq.Wire.assembleEdges([cq.Edge.makeEllipse(10, 10 * ratio, cq.Vector(1, 2, 3), cq.Vector(0, 0, 1))])
    results[str(ratio)] = attempt(lambda: offset(wire, 2))
    results[f"{ratio} inwards"] = attempt(lambda: offset(wire, -1))
""",
}
CHILD_DEADLINE = 90.0  # seconds for all children together (they run in parallel)


@pytest.fixture(scope="module")
def offset_children() -> Iterator[Children]:
    yield from start_children(_CHILD, CRASHED_OFFSETS, CHILD_DEADLINE)


def test_inward_offset_of_a_small_circle_is_the_concentric_circle(offset_children: Any) -> None:
    results = child_results("inward-offset-of-small-circles", offset_children)
    for key, expected_radius in [("1 -0.5 arc", 0.5), ("0.5 -0.1 arc", 0.4), ("1 -0.001 arc", 0.999)]:
        assert results[key]["length"] == pytest.approx(2 * math.pi * expected_radius, rel=REL), key
        assert results[key]["closed"] and results[key]["edges"] == 1, key
    assert results["0.99 -0.1 intersection"]["length"] == pytest.approx(2 * math.pi * 0.89, rel=REL)
    # a tilted circle stays in its own plane (normal (1, 0.5, 0) has no z component)
    assert results["tilted"]["length"] == pytest.approx(2 * math.pi * 0.25, rel=REL)
    assert results["tilted"]["bbox"][2] == pytest.approx(0.5, abs=1e-6)
    too_far = results["too far"]
    assert (too_far["error"], too_far["param"]) == ("GEOM_OFFSET_FAIL", "distance")
    assert "radius 1" in too_far["message"]


def test_offset_of_an_ellipse_with_equal_radii(offset_children: Any) -> None:
    results = child_results("offset-of-round-ellipse", offset_children)
    assert results["5"]["length"] == pytest.approx(2 * math.pi * 15, rel=REL)
    assert results["-2"]["length"] == pytest.approx(2 * math.pi * 8, rel=REL)


def test_offset_of_closed_one_edge_curves_that_crashed_occt(offset_children: Any) -> None:
    """Round ellipse edges (exactly or almost) went into OCCT's offset and crashed it."""
    results = child_results("offset-of-raw-ellipse-edges", offset_children)
    assert results["1.0"]["length"] == pytest.approx(2 * math.pi * 12, rel=REL)
    assert results["1.0 inwards"]["length"] == pytest.approx(2 * math.pi * 9, rel=REL)
    assert results["0.999999999"]["length"] == pytest.approx(2 * math.pi * 12, rel=1e-6)
    assert results["0.999999999 inwards"]["length"] == pytest.approx(2 * math.pi * 9, rel=1e-6)
    # a true ellipse offset by 2: longer than the ellipse by 2π·2 (its offset is parallel)
    ellipse = 4 * 10 * _ellipse_e(1 - 0.25)
    assert results["0.5"]["length"] == pytest.approx(ellipse + 2 * math.pi * 2, rel=1e-5)
    assert results["0.5 inwards"]["closed"]


def _ellipse_e(m: float) -> float:
    """Complete elliptic integral of the second kind E(m) (arithmetic-geometric mean)."""
    a, b, total, power = 1.0, math.sqrt(1 - m), 1 - m / 2, 0.5
    while abs(a - b) > 1e-15:
        a, b, c = (a + b) / 2, math.sqrt(a * b), (a - b) / 2
        power *= 2
        total -= power * c * c
    return math.pi / (2 * a) * total


def test_ellipse_with_equal_radii_is_a_circle() -> None:
    ellipse = curve("Sketch::Ellipse", majorRadius=4, minorRadius=4, center=(1, 2, 3))
    (edge,) = ellipse.Edges()
    assert edge.geomType() == "CIRCLE"
    assert area(ellipse) == pytest.approx(math.pi * 16, rel=REL)
    assert ellipse.Center().toTuple() == pytest.approx((1, 2, 3), abs=1e-9)


def test_offset_of_a_circle_goes_outwards_whatever_its_orientation() -> None:
    import cadquery as cq

    circle = curve("Sketch::Circle", radius=10)
    reversed_circle = cq.Wire.assembleEdges([cq.Edge(circle.Edges()[0].wrapped.Reversed())])
    for wire in (circle, reversed_circle):
        grown = curve("Sketch::Offset2D", {"curve": wire}, distance=1)
        assert grown.Length() == pytest.approx(2 * math.pi * 11, rel=REL)


@pytest.mark.parametrize("node_type", ["Sketch::Spline", "Sketch::Polyline"])
def test_closed_curve_through_collinear_points_is_refused(node_type: str) -> None:
    err = error_of(node_type, points="0,0; 10,0; 20,0", closed=True)
    assert (err.code, err.param) == (ErrorCode.PARAM_INVALID, "points")
    assert "one straight line" in err.message
    assert err.hint is not None and "closed=false" in err.hint
    # open, the same points are a plain straight curve
    line = curve(node_type, points="0,0; 10,0; 20,0")
    assert line.Length() == pytest.approx(20, rel=REL)
