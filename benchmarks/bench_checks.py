"""What our result checks cost, on models of different character.

    python benchmarks/bench_checks.py            # 5 alternating runs per model
    python benchmarks/bench_checks.py --quick    # 3

For each model, built once as a graph of the nodes a user would pick and once as the
equivalent hand-written cadquery script, this prints: engine cold / script (medians of
alternating runs in this process, after one warm-up of each), and the share of one cold
evaluation spent in the kernel's result checks (``brepflow_lab.kernel.checks.RESULT_CHECKS``,
from a profile), split into the validity check (BRepCheck) and the others (boxes,
orientation, volume). The scripts do what a careful user writes: the same operations, and
no checks beyond ``isValid()`` at the end.

Models: the 24×4 hole-grid plate with every edge filleted (the one the checks were first
measured on), a 400-hole perforated plate, the shelled and filleted enclosure with bosses
(examples/enclosure.bflow.json), a chamfer-dominated block, and a loft.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cadquery as cq

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.kernel import checks
from brepflow_lab.nodes import catalogue

sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))
from enclosure import build as enclosure_script

ROOT = Path(__file__).resolve().parent.parent


# -- models: graph + script -----------------------------------------------------------------
def hole_grid(cols: int, rows: int, pitch: float, radius: float, thick: float) -> tuple[Graph, str]:
    g = Graph.new()
    box = g.add("Solid::Box", id="plate", width=cols * pitch, height=rows * pitch, depth=thick)
    pin = g.add("Solid::Cylinder", id="pin", radius=radius, height=thick + 2)
    move = g.add("Transform::Move", id="move", offset=(pitch / 2, pitch / 2, -1))
    row = g.add("Transform::ArrayLinear", id="row", count=cols, spacing=(pitch, 0, 0))
    pins = g.add("Boolean::Union", id="pins")
    grid = g.add("Transform::ArrayLinear", id="grid", count=rows, spacing=(0, pitch, 0))
    cut = g.add("Boolean::Subtract", id="cut")
    g.connect(pin, "shape", move, "shape")
    g.connect(move, "shape", row, "shape")
    g.connect(row, "shapes", pins, "shapes")
    g.connect(pins, "shape", grid, "shape")
    g.connect(box, "shape", cut, "base")
    g.connect(grid, "shapes", cut, "tools")
    return g, "cut"


def script_holes(cols: int, rows: int, pitch: float, radius: float, thick: float) -> cq.Shape:
    base = cq.Solid.makeBox(cols * pitch, rows * pitch, thick)
    pin = cq.Solid.makeCylinder(radius, thick + 2)
    pins = [
        pin.moved(cq.Location(cq.Vector(pitch / 2 + i * pitch, pitch / 2 + j * pitch, -1)))
        for i in range(cols)
        for j in range(rows)
    ]
    return base.cut(*pins).clean()


def fillet_plate() -> tuple[Graph, str]:
    g, cut = hole_grid(24, 4, 10.0, 3.0, 5.0)
    r = g.add("Features::Fillet", id="round", radius=0.5, selectAll=True)
    g.connect(cut, "shape", r, "shape")
    return g, "round"


def fillet_plate_script() -> cq.Shape:
    plate = script_holes(24, 4, 10.0, 3.0, 5.0)
    result = plate.fillet(0.5, plate.Edges())
    assert result.isValid()
    return result


def perforated() -> tuple[Graph, str]:
    return hole_grid(20, 20, 10.0, 3.0, 3.0)


def perforated_script() -> cq.Shape:
    result = script_holes(20, 20, 10.0, 3.0, 3.0)
    assert result.isValid()
    return result


def enclosure() -> tuple[Graph, str]:
    return Graph.load(ROOT / "examples" / "enclosure.bflow.json"), "enclosure"


def chamfered() -> tuple[Graph, str]:
    g, cut = hole_grid(4, 3, 15.0, 4.0, 20.0)
    c = g.add("Features::Chamfer", id="bevel", distance=1.0, selectAll=True)
    g.connect(cut, "shape", c, "shape")
    return g, "bevel"


def chamfered_script() -> cq.Shape:
    block = script_holes(4, 3, 15.0, 4.0, 20.0)
    result = block.chamfer(1.0, None, block.Edges())
    assert result.isValid()
    return result


def loft() -> tuple[Graph, str]:
    g = Graph.new()
    base = g.add("Sketch::Rectangle", id="base", width=60, height=40, center=(0, 0, 0))
    mid = g.add("Sketch::Circle", id="mid", radius=18, center=(0, 0, 30))
    top = g.add("Sketch::Circle", id="top", radius=8, center=(0, 0, 60))
    body = g.add("Solid::Loft", id="body")
    for section in (base, mid, top):
        g.connect(section, "curve", body, "profiles")
    return g, "body"


def loft_script() -> cq.Shape:
    base = cq.Wire.makePolygon(
        [cq.Vector(-30, -20, 0), cq.Vector(30, -20, 0), cq.Vector(30, 20, 0), cq.Vector(-30, 20, 0)], close=True
    )
    mid = cq.Wire.makeCircle(18, cq.Vector(0, 0, 30), cq.Vector(0, 0, 1))
    top = cq.Wire.makeCircle(8, cq.Vector(0, 0, 60), cq.Vector(0, 0, 1))
    result = cq.Solid.makeLoft([base, mid, top])
    assert result.isValid()
    return result


MODELS: list[tuple[str, Callable[[], tuple[Graph, str]], Callable[[], cq.Shape]]] = [
    ("hole-grid plate 24x4, fillet all 0.5", fillet_plate, fillet_plate_script),
    ("perforated plate, 400 holes", perforated, perforated_script),
    ("enclosure: shell, fillets, bosses", enclosure, enclosure_script),
    ("block with 12 holes, chamfer all", chamfered, chamfered_script),
    ("loft rectangle-circle-circle", loft, loft_script),
]


# -- measuring ------------------------------------------------------------------------------
def check_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Seconds in each result check (a check called by another check is counted once)."""
    codes = {(f.__code__.co_filename, f.__code__.co_firstlineno, f.__name__) for f in checks.RESULT_CHECKS}
    spent: dict[str, float] = {}
    for key, (_cc, _nc, _tt, _ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if key in codes:
            outer = sum(ct for caller, (_n, _c, _t, ct) in callers.items() if caller not in codes)
            spent[key[2]] = spent.get(key[2], 0.0) + outer
    return spent


def bench(name: str, build: Callable[[], tuple[Graph, str]], script: Callable[[], cq.Shape], repeat: int) -> None:
    g, terminal = build()
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    r = g.evaluate(cache=False)  # warm both paths
    assert r.ok, r.errors
    ref = script()
    engine_t, script_t = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        script()
        script_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        g.evaluate(cache=False)
        engine_t.append(time.perf_counter() - t)
    profile = cProfile.Profile()
    profile.enable()
    r = g.evaluate(cache=False)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    spent = check_seconds(stats)
    validity = spent.pop("is_valid", 0.0)
    others = sum(spent.values())
    shape = r[terminal]["shape"]
    v_engine, v_script = shape.Volume(), ref.Volume()
    same = math.isclose(v_engine, v_script, rel_tol=1e-6)
    costly = max((nr for nr in r.nodes.values()), key=lambda nr: nr.seconds or 0.0)
    s, e = statistics.median(script_t), statistics.median(engine_t)
    print(
        f"{name}\n  script {s * 1000:7.1f} ms  engine {e * 1000:7.1f} ms  ratio {e / s:5.2f}  "
        f"| checks {(validity + others) / total:5.1%} of the evaluation (validity {validity / total:5.1%}, "
        f"others {others / total:5.1%}) | costliest node {costly.node_id} {costly.seconds * 1000:.0f} ms "
        f"| {len(shape.Faces())} faces, volume {'matches' if same else 'DIFFERS'} ({v_engine:.1f} / {v_script:.1f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3 if args.quick else 5
    for name, build, script in MODELS:
        bench(name, build, script, repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
