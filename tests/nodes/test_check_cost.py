"""What our result checks cost, measured on the model where they used to dominate.

A 240 × 40 × 5 plate with a 24 × 4 grid of Ø6 holes and every edge filleted 0.5 mm, built
through the engine from the nodes a user would pick. The fillet's inside-box check used
cadquery's optimal ``BoundingBox()`` and took 2.1 s of a 3.0 s evaluation. The time spent
in the check functions (``checks.RESULT_CHECKS``) is taken from a profile, not from a
wall-clock budget on the whole evaluation.
"""

from __future__ import annotations

import cProfile
import math
import pstats

import cadquery as cq
import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.kernel import checks
from brepflow_lab.nodes import catalogue

COLS, ROWS, PITCH, RADIUS, THICK, ROUND = 24, 4, 10.0, 3.0, 5.0, 0.5


def plate_graph() -> Graph:
    g = Graph.new()
    box = g.add("Solid::Box", id="plate", width=COLS * PITCH, height=ROWS * PITCH, depth=THICK)
    pin = g.add("Solid::Cylinder", id="pin", radius=RADIUS, height=THICK + 2)
    move = g.add("Transform::Move", id="move", offset=(PITCH / 2, PITCH / 2, -1))
    row = g.add("Transform::ArrayLinear", id="row", count=COLS, spacing=(PITCH, 0, 0))
    pins = g.add("Boolean::Union", id="pins")
    grid = g.add("Transform::ArrayLinear", id="grid", count=ROWS, spacing=(0, PITCH, 0))
    cut = g.add("Boolean::Subtract", id="cut")
    fillet = g.add("Features::Fillet", id="round", radius=ROUND, selectAll=True)
    g.connect(pin, "shape", move, "shape")
    g.connect(move, "shape", row, "shape")
    g.connect(row, "shapes", pins, "shapes")
    g.connect(pins, "shape", grid, "shape")
    g.connect(box, "shape", cut, "base")
    g.connect(grid, "shapes", cut, "tools")
    g.connect(cut, "shape", fillet, "shape")
    return g


def script_plate() -> cq.Shape:
    base = cq.Solid.makeBox(COLS * PITCH, ROWS * PITCH, THICK)
    pin = cq.Solid.makeCylinder(RADIUS, THICK + 2)
    pins = [
        pin.moved(cq.Location(cq.Vector(PITCH / 2 + i * PITCH, PITCH / 2 + j * PITCH, -1)))
        for i in range(COLS)
        for j in range(ROWS)
    ]
    plate = base.cut(*pins).clean()
    return plate.fillet(ROUND, plate.Edges())


def check_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Seconds spent in each result check, counting a check called by another check once."""
    codes = {(f.__code__.co_filename, f.__code__.co_firstlineno, f.__name__) for f in checks.RESULT_CHECKS}
    spent: dict[str, float] = {}
    for key, (_cc, _nc, _tt, _ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if key in codes:
            outer = sum(ct for caller, (_n, _c, _t, ct) in callers.items() if caller not in codes)
            spent[key[2]] = spent.get(key[2], 0.0) + outer
    return spent


def calls(stats: pstats.Stats, name: str) -> int:
    return sum(v[1] for k, v in stats.stats.items() if k[2] == name and "checks.py" in k[0])  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def profiled():
    g = plate_graph()
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    assert g.evaluate(cache=False).ok  # first-call costs (imports, selector parsing) out of the way
    profile = cProfile.Profile()
    profile.enable()
    result = g.evaluate(cache=False)
    profile.disable()
    return result, pstats.Stats(profile)


def test_the_plate_is_right(profiled):
    result, _ = profiled
    assert result.ok, result.errors
    shape = result["round"]["shape"]
    assert shape.isValid()
    assert len(shape.Solids()) == 1
    # 6 plate faces, 96 hole walls, 12 + 192 edge rounds (two per hole), 8 corner spheres
    assert len(shape.Faces()) == 314
    raw = COLS * PITCH * ROWS * PITCH * THICK - COLS * ROWS * math.pi * RADIUS**2 * THICK
    assert raw * 0.98 < shape.Volume() < raw  # rounding the edges removes a little material
    assert shape.Volume() == pytest.approx(script_plate().Volume(), rel=1e-9)


def test_no_optimal_bounding_box_on_a_good_result(profiled):
    _, stats = profiled
    assert calls(stats, "_optimal_box") == 0
    optimal = [k for k in stats.stats if k[2] == "AddOptimal_s"]
    assert not optimal, "BRepBndLib.AddOptimal ran during the evaluation"


def test_each_result_is_checked_for_validity_once():
    g = plate_graph()
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    before = checks.check_counts()
    assert g.evaluate(cache=False).ok
    after = checks.check_counts()
    # BRepCheck runs on the cut and on the fillet, once each. Primitives, moves and arrays are
    # trusted, and the union of the row of pins is a compound of moved copies of the vouched-for
    # cylinder (the fuse leaves disjoint solids as they were), so it is known valid for free
    assert after["is_valid"] - before.get("is_valid", 0) == 2
    assert after.get("is_inside_out", 0) - before.get("is_inside_out", 0) == 1  # the fillet's


def test_our_checks_cost_little(profiled):
    _, stats = profiled
    total = stats.total_tt
    spent = check_seconds(stats)
    validity = spent.pop("is_valid", 0.0)
    others = sum(spent.values())
    # the box, orientation and volume checks: a few milliseconds of a ~0.5 s evaluation
    assert others <= 0.05 * total, (spent, total)
    # BRepCheck: quadratic in the holes of one face on this plate (see kernel/checks.py);
    # it must stay the same order as the operations, never the 80 % the optimal box took
    assert validity + others <= 0.35 * total, (validity, spent, total)
