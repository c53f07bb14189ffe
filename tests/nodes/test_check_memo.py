"""Each distinct shape is checked once per evaluation, and an invalid result is still the node's error.

Behaviour by counts, never by wall-clock: ``checks.CHECK_RUNS`` counts the BRepCheck analyses
and inside-out classifications OCCT really ran (a remembered or vouched-for verdict does not
count). Real OCCT throughout.
"""

from __future__ import annotations

import gc
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cadquery as cq
import pytest

from brepflow_lab import Graph
from brepflow_lab.core.errors import ErrorCode, NodeError
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.kernel import checks
from brepflow_lab.nodes import catalogue
from brepflow_lab.nodes.spec import NodeContext, NodeSpec, OutputSpec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402


def runs(action: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    """``action()`` and how many analyses / classifications it made OCCT run."""
    before = checks.check_counts()
    value = action()
    after = checks.check_counts()
    return value, {k: after.get(k, 0) - before.get(k, 0) for k in ("is_valid", "is_inside_out")}


def figure_eight_face() -> cq.Face:
    """A face bounded by a self-crossing polyline: OCCT builds it, BRepCheck calls it invalid."""
    wire = cq.Wire.makePolygon(
        [cq.Vector(0, 0, 0), cq.Vector(10, 10, 0), cq.Vector(10, 0, 0), cq.Vector(0, 10, 0)], close=True
    )
    return cq.Face.makeFromWires(wire)


# --------------------------------------------------------------------------- the memo


def test_a_shape_is_analysed_once_while_it_lives() -> None:
    box = cq.Solid.makeBox(3, 2, 1)
    _, counted = runs(lambda: [checks.is_valid(box) for _ in range(3)])
    assert counted["is_valid"] == 1
    # another wrapper of the same OCCT shape, and a moved copy (same TShape): no new analysis
    _, counted = runs(lambda: checks.is_valid(cq.Shape.cast(box.wrapped)))
    assert counted["is_valid"] == 0
    _, counted = runs(lambda: checks.is_valid(box.moved(cq.Location(cq.Vector(5, 0, 0)))))
    assert counted["is_valid"] == 0
    # a different shape is analysed
    _, counted = runs(lambda: checks.is_valid(cq.Solid.makeBox(3, 2, 2)))
    assert counted["is_valid"] == 1


def test_the_memo_keeps_no_shape_alive() -> None:
    gc.collect()
    size = len(checks._VALID)
    shapes = [cq.Solid.makeBox(1 + i, 1, 1) for i in range(20)]
    for shape in shapes:
        checks.is_valid(shape)
    assert len(checks._VALID) == size + 20
    del shapes, shape
    gc.collect()
    assert len(checks._VALID) == size


def test_a_reversed_solid_is_not_taken_for_the_original() -> None:
    box = cq.Solid.makeBox(1, 1, 1)
    reversed_box = cq.Shape.cast(box.wrapped.Reversed())
    assert checks.is_inside_out(box) is False
    assert checks.is_inside_out(reversed_box) is True
    assert checks.is_inside_out(box) is False


def test_a_compound_is_valid_when_its_known_children_are() -> None:
    pin = cq.Solid.makeCylinder(1, 3)
    checks.is_valid(pin)
    row = cq.Compound.makeCompound([pin.moved(cq.Location(cq.Vector(3 * i, 0, 0))) for i in range(10)])
    verdict, counted = runs(lambda: checks.is_valid(row))
    assert verdict is True and counted["is_valid"] == 0
    broken = cq.Compound.makeCompound([pin, figure_eight_face()])
    verdict, counted = runs(lambda: checks.is_valid(broken))
    assert verdict is False and counted["is_valid"] == 1


# --------------------------------------------------------------------------- errors still name the node


def broken_node() -> NodeSpec:
    face = figure_eight_face()  # one shape, returned by every run: its verdict is remembered
    return NodeSpec(
        type="Test::Broken",
        execute=lambda ctx, inputs, params: {"shape": face},
        outputs=(OutputSpec("shape", "Surface"),),
    )


def test_an_invalid_result_is_reported_by_every_node_that_returns_it() -> None:
    spec = broken_node()

    def failure(node_id: str) -> NodeError:
        with pytest.raises(NodeError) as caught:
            spec.run(NodeContext(node_id, spec.type), {}, {})
        return caught.value

    first, counted = runs(lambda: failure("first"))
    assert counted["is_valid"] == 1
    second, counted = runs(lambda: failure("second"))
    assert counted["is_valid"] == 0  # remembered as invalid: still an error, at no cost
    for error, node_id in ((first, "first"), (second, "second")):
        assert error.code == ErrorCode.GEOM_INVALID_RESULT
        assert error.node_id == node_id


def test_extrude_vouches_for_its_prism_but_not_for_a_flat_one() -> None:
    g = Graph.new()
    rect = g.add("Sketch::Rectangle", id="rect", width=10, height=5)
    up = g.add("Solid::Extrude", id="up", distance=4)
    flat = g.add("Solid::Extrude", id="flat", distance=4, direction=(1.0, 0.0, 0.0))
    g.connect(rect, "curve", up, "profile")
    g.connect(rect, "curve", flat, "profile")
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    result, counted = runs(lambda: g.evaluate())
    assert result["up"]["shape"].Volume() == pytest.approx(200)
    # the flat prism (direction in the profile's plane) is still refused, by its own node
    error = result.nodes["flat"].error
    assert error is not None and error.code == ErrorCode.GEOM_EMPTY_RESULT and error.node_id == "flat"
    # one face analysis per Extrude, the flat prism's validity and orientation; nothing for "up"
    assert counted == {"is_valid": 3, "is_inside_out": 1}


def test_a_self_crossing_sketch_is_still_refused_where_it_becomes_a_face() -> None:
    g = Graph.new()
    line = g.add("Sketch::Polyline", id="eight", points="0,0; 10,10; 10,0; 0,10", closed=True)
    solid = g.add("Solid::Extrude", id="solid", distance=2)
    g.connect(line, "wire", solid, "profile")
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    result = g.evaluate()
    error = result.nodes["solid"].error
    assert error is not None and error.code == ErrorCode.GEOM_INVALID_INPUT and error.node_id == "solid"


# --------------------------------------------------------------------------- one evaluation, one check per shape


@pytest.fixture
def step_graph(tmp_path: Path) -> Iterator[Graph]:
    import imported_step

    imported_step.make_part(3).exportStep(str(tmp_path / imported_step.STEP_NAME))
    g = Graph.load(Path(shutil.copyfile(corpus.MODELS_DIR / "imported_step.bflow.json", tmp_path / "g.bflow.json")))
    g.parameters["cx"] = 10.0
    g.parameters["cy"] = 10.0
    g.parameters["radius"] = 3.0
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    yield g


def test_an_imported_shape_is_analysed_once(step_graph: Graph) -> None:
    # it is on both outputs of the import node ('shapes' and 'shape') and is the cut's base:
    # the import analyses it, everything after answers from the memo; then the cut's result
    result, counted = runs(lambda: step_graph.evaluate())
    assert result.ok, result.errors
    assert counted == {"is_valid": 2, "is_inside_out": 1}


def test_an_unchanged_input_is_not_checked_again(step_graph: Graph) -> None:
    assert step_graph.evaluate().ok
    step_graph.parameters["radius"] = 2.0  # only the drill and the cut run again
    result, counted = runs(lambda: step_graph.evaluate())
    assert result.ok, result.errors
    assert counted == {"is_valid": 1, "is_inside_out": 0}


# BRepCheck analyses / inside-out classifications per cold evaluation of each corpus model
# (its test variant). Before the memo (issue 16): chamfered_block 3/1, enclosure 4/1,
# hole_grid_fillet 3/1, imported_step 4 (+1 isValid) / 2, loft_sweep 16/4, perforated_plate 2/0,
# pin_array 1/0, sketch_plate 61/18. The scripts run 1 each (loft_sweep 5).
EXPECTED = {
    "chamfered_block": (2, 1),  # the cut, the chamfer (the row of pins is known)
    "enclosure": (4, 1),  # fillet, shell, union, cut: every one changes the solid
    "hole_grid_fillet": (2, 1),
    "imported_step": (2, 1),  # the import, the cut
    "loft_sweep": (7, 4),  # 2 profile faces, 2 sweeps, 2 lofts, the union
    "perforated_plate": (1, 0),
    "pin_array": (1, 0),
    "sketch_plate": (23, 0),  # 18 profile faces, 3 Fillet2D wires, the Offset2D wire, the cut
}


@pytest.mark.parametrize("model", corpus.load_models(list(EXPECTED)), ids=lambda m: m.name)
def test_corpus_models_check_each_shape_once(model: corpus.Model, tmp_path: Path) -> None:
    model.prepare(tmp_path, test=True)
    g = model.graph(tmp_path)
    g.evaluator = corpus.fresh_evaluator()
    result, counted = runs(lambda: g.evaluate(parameters=model.test_parameters or None))
    assert result.ok, result.errors
    assert (counted["is_valid"], counted["is_inside_out"]) == EXPECTED[model.name]
