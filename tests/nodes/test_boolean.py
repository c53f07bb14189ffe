"""Boolean::Union / Subtract / Intersect on real OCCT."""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.kernel import ops
from brepflow_lab.nodes.testing import run_node


def box(x: float, y: float, z: float, at: tuple[float, float, float] = (0, 0, 0)) -> cq.Solid:
    return cq.Solid.makeBox(x, y, z, pnt=cq.Vector(*at))


def test_union_of_two_overlapping_boxes() -> None:
    a = box(10, 10, 10)
    b = box(10, 10, 10, at=(5, 5, 0))
    out = run_node("Boolean::Union", {"shapes": [a, b]})["shape"]
    assert out.isValid()
    assert len(out.Solids()) == 1
    assert out.Volume() == pytest.approx(1000 + 1000 - 5 * 5 * 10, rel=1e-6)


def test_union_simplify_merges_coplanar_faces() -> None:
    a = box(10, 10, 10)
    b = box(10, 10, 10, at=(10, 0, 0))  # side by side: one 20x10x10 block
    simple = run_node("Boolean::Union", {"shapes": [a, b]}, simplify=True)["shape"]
    raw = run_node("Boolean::Union", {"shapes": [a, b]}, simplify=False)["shape"]
    assert simple.Volume() == pytest.approx(2000, rel=1e-6)
    assert len(simple.Faces()) == 6
    assert len(raw.Faces()) > 6


def test_union_of_a_single_shape_returns_it() -> None:
    a = box(3, 4, 5)
    out = run_node("Boolean::Union", {"shapes": [a]})["shape"]
    assert out.Volume() == pytest.approx(60)


def test_union_of_many_is_one_boolean(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, int]] = []
    real = ops.run_boolean

    def counting(ctx, kind, arguments, tools):  # type: ignore[no-untyped-def]
        calls.append((kind, len(arguments), len(tools)))
        return real(ctx, kind, arguments, tools)

    monkeypatch.setattr(ops, "run_boolean", counting)
    cubes = [box(2, 2, 2, at=(1.5 * i, 0, 0)) for i in range(6)]  # each overlaps the next by 0.5
    out = run_node("Boolean::Union", {"shapes": cubes})["shape"]
    assert calls == [("fuse", 1, 5)]
    assert out.Volume() == pytest.approx((1.5 * 5 + 2) * 2 * 2, rel=1e-6)


def test_subtract_five_cylinders_from_a_plate_in_one_boolean(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, int]] = []
    real = ops.run_boolean

    def counting(ctx, kind, arguments, tools):  # type: ignore[no-untyped-def]
        calls.append((kind, len(arguments), len(tools)))
        return real(ctx, kind, arguments, tools)

    monkeypatch.setattr(ops, "run_boolean", counting)
    plate = box(100, 20, 5)
    r = 3.0
    holes = [cq.Solid.makeCylinder(r, 9, pnt=cq.Vector(10 + 20 * i, 10, -2)) for i in range(5)]
    out = run_node("Boolean::Subtract", {"base": plate, "tools": holes})["shape"]
    assert calls == [("cut", 1, 5)]  # ONE OCCT operation with all five tools
    assert out.isValid()
    assert out.Volume() == pytest.approx(100 * 20 * 5 - 5 * math.pi * r * r * 5, rel=1e-6)
    assert len([f for f in out.Faces() if f.geomType() == "CYLINDER"]) >= 5


def test_subtract_without_tools_returns_base() -> None:
    plate = box(10, 10, 2)
    out = run_node("Boolean::Subtract", {"base": plate})["shape"]
    assert out.Volume() == pytest.approx(200)


def test_subtract_removing_everything_is_empty() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Boolean::Subtract", {"base": box(1, 1, 1), "tools": [box(3, 3, 3, at=(-1, -1, -1))]})
    assert info.value.code is ErrorCode.GEOM_EMPTY_RESULT


def test_intersect_two_boxes() -> None:
    out = run_node("Boolean::Intersect", {"shapes": [box(10, 10, 10), box(10, 10, 10, at=(4, 6, 0))]})["shape"]
    assert out.isValid()
    assert out.Volume() == pytest.approx(6 * 4 * 10, rel=1e-6)


def test_intersect_three_boxes_is_common_to_all() -> None:
    shapes = [box(10, 10, 10), box(10, 10, 10, at=(5, 0, 0)), box(10, 10, 10, at=(0, 5, 0))]
    out = run_node("Boolean::Intersect", {"shapes": shapes})["shape"]
    assert out.isValid()
    assert out.Volume() == pytest.approx(5 * 5 * 10, rel=1e-6)  # not A ∩ (B ∪ C) = 750


def test_empty_intersection_says_shapes_do_not_overlap() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Boolean::Intersect", {"shapes": [box(1, 1, 1), box(1, 1, 1, at=(5, 0, 0))]})
    assert info.value.code is ErrorCode.GEOM_EMPTY_RESULT
    assert "do not overlap" in str(info.value)


def test_union_needs_shapes() -> None:
    with pytest.raises(NodeError) as info:
        run_node("Boolean::Union", {"shapes": []})
    assert info.value.code is ErrorCode.INPUT_MISSING


def test_boolean_failure_is_reported_with_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    # The one stand-in for OCCT in the suite: no known pair of valid solids makes
    # BRepAlgoAPI_Fuse report IsDone() == False reproducibly on this OCCT build, so the
    # builder is replaced to exercise our translation of that failure into GEOM_BOOLEAN_FAIL.
    class Broken:
        def __init__(self) -> None:
            pass

        def SetArguments(self, _: object) -> None:
            pass

        SetTools = SetArguments
        SetRunParallel = SetArguments

        def Build(self) -> None:
            pass

        def IsDone(self) -> bool:
            return False

    import OCP.BRepAlgoAPI

    monkeypatch.setattr(OCP.BRepAlgoAPI, "BRepAlgoAPI_Fuse", Broken)
    with pytest.raises(NodeError) as info:
        run_node("Boolean::Union", {"shapes": [box(1, 1, 1), box(1, 1, 1, at=(0.5, 0, 0))]})
    assert info.value.code is ErrorCode.GEOM_BOOLEAN_FAIL
    assert "union" in str(info.value)
