"""Transform::Move / Rotate / Scale / Mirror / ArrayLinear / ArrayCircular on real OCCT."""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.kernel.part import Part
from brepflow_lab.nodes.testing import run_node


def box() -> cq.Solid:
    return cq.Solid.makeBox(10, 20, 30)  # spans [0,10]×[0,20]×[0,30]


def bbox(shape: cq.Shape) -> tuple[float, ...]:
    b = shape.BoundingBox()
    return tuple(round(v, 6) + 0.0 for v in (b.xmin, b.ymin, b.zmin, b.xmax, b.ymax, b.zmax))


def test_move() -> None:
    out = run_node("Transform::Move", {"shape": box()}, offset=(1, 2, 3))["shape"]
    assert out.isValid()
    assert bbox(out) == (1, 2, 3, 11, 22, 33)
    assert out.Volume() == pytest.approx(6000)


def test_move_keeps_part_tags() -> None:
    part = Part(box(), name="bracket", material="steel", color=(1.0, 0.0, 0.0, 1.0), density=7.85)
    out = run_node("Transform::Move", {"shape": part}, offset=(5, 0, 0))["shape"]
    assert isinstance(out, Part)
    assert out.tags() == part.tags()
    assert bbox(out.shape) == (5, 0, 0, 15, 20, 30)
    assert bbox(part.shape) == (0, 0, 0, 10, 20, 30)  # the input is untouched


def test_rotate_about_z_through_origin() -> None:
    out = run_node("Transform::Rotate", {"shape": box()})["shape"]  # default: 90° about +Z
    assert out.isValid()
    assert bbox(out) == (-20, 0, 0, 0, 10, 30)
    assert out.Volume() == pytest.approx(6000)


def test_rotate_about_offset_axis() -> None:
    out = run_node("Transform::Rotate", {"shape": box()}, angle=180, axis=(1, 0, 0), origin=(0, 0, 30))["shape"]
    assert bbox(out) == (0, -20, 30, 10, 0, 60)


def test_rotate_zero_axis_is_invalid() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Transform::Rotate", {"shape": box()}, axis=(0, 0, 0))
    assert info.value.code is ErrorCode.PARAM_INVALID
    assert info.value.param == "axis"


def test_scale_about_origin_and_point() -> None:
    out = run_node("Transform::Scale", {"shape": box()}, scale=2)["shape"]
    assert out.isValid()
    assert bbox(out) == (0, 0, 0, 20, 40, 60)
    assert out.Volume() == pytest.approx(6000 * 8, rel=1e-9)
    centred = run_node("Transform::Scale", {"shape": box()}, scale=0.5, origin=(5, 10, 15))["shape"]
    assert bbox(centred) == (2.5, 5, 7.5, 7.5, 15, 22.5)
    assert centred.Volume() == pytest.approx(6000 / 8, rel=1e-9)


def test_scale_limits() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Transform::Scale", {"shape": box()}, scale=0)
    assert info.value.code is ErrorCode.PARAM_INVALID


@pytest.mark.parametrize(
    ("plane", "expected"),
    [("XY", (0, 0, -30, 10, 20, 0)), ("XZ", (0, -20, 0, 10, 0, 30)), ("YZ", (-10, 0, 0, 0, 20, 30))],
)
def test_mirror_planes(plane: str, expected: tuple[float, ...]) -> None:
    out = run_node("Transform::Mirror", {"shape": box()}, plane=plane)["shape"]
    assert out.isValid()
    assert bbox(out) == expected
    assert out.Volume() == pytest.approx(6000)  # positive: orientation fixed by OCCT


def test_mirror_through_point() -> None:
    out = run_node("Transform::Mirror", {"shape": box()}, plane="YZ", origin=(10, 0, 0))["shape"]
    assert bbox(out) == (10, 0, 0, 20, 20, 30)


def test_array_linear_counts_and_positions() -> None:
    part = Part(box(), material="aluminium")
    shapes = run_node("Transform::ArrayLinear", {"shape": part}, count=4, spacing=(15, 0, 1))["shapes"]
    assert len(shapes) == 4
    for i, item in enumerate(shapes):
        assert isinstance(item, Part) and item.material == "aluminium"
        assert bbox(item.shape)[:3] == (15 * i, 0, i)
        assert item.shape.Volume() == pytest.approx(6000)


def test_array_linear_default_is_five_copies_50_apart() -> None:
    shapes = run_node("Transform::ArrayLinear", {"shape": box()})["shapes"]
    assert [round(s.BoundingBox().xmin, 6) for s in shapes] == [0, 50, 100, 150, 200]


def test_array_circular_counts_and_angles() -> None:
    cube = cq.Solid.makeBox(2, 2, 2, pnt=cq.Vector(9, -1, 0))  # centred at (10, 0, 1)
    shapes = run_node("Transform::ArrayCircular", {"shape": cube}, count=6)["shapes"]
    assert len(shapes) == 6
    for i, item in enumerate(shapes):
        c = item.Center()
        phi = math.radians(60 * i)
        assert (c.x, c.y, c.z) == pytest.approx((10 * math.cos(phi), 10 * math.sin(phi), 1), abs=1e-9)
        assert item.Volume() == pytest.approx(8)


def test_array_circular_partial_angle_and_center() -> None:
    cube = cq.Solid.makeBox(2, 2, 2, pnt=cq.Vector(9, -1, 0))
    shapes = run_node("Transform::ArrayCircular", {"shape": cube}, count=3, angle=90, axis=(0, 0, 1), center=(5, 0, 0))[
        "shapes"
    ]
    centres = [s.Center() for s in shapes]
    for i, c in enumerate(centres):
        phi = math.radians(30 * i)  # step = angle / count
        assert (c.x, c.y) == pytest.approx((5 + 5 * math.cos(phi), 5 * math.sin(phi)), abs=1e-9)


def test_transforms_accept_curves() -> None:
    edge = cq.Edge.makeLine(cq.Vector(0, 0, 0), cq.Vector(1, 0, 0))
    out = run_node("Transform::Move", {"shape": edge}, offset=(0, 0, 5))["shape"]
    assert out.Center().z == pytest.approx(5)
    assert out.Length() == pytest.approx(1)
