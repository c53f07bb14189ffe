"""Engine benchmarks. Prints timings, ratios against a baseline measured in this same
process, and whether each budget of the core issue holds.

    python benchmarks/bench_engine.py            # all
    python benchmarks/bench_engine.py --quick    # fewer repeats

(a) cold evaluation of a model through the engine vs the same model as a hand-written
    cadquery script (budget: ratio <= 1.10)
(b) 1,000-node graph: after changing one parameter only its downstream nodes run; an
    unchanged re-evaluation takes <= 50 ms (ratio printed against the cold evaluation)
(c) loading + validating a 1,000-node file <= 200 ms (ratio against json.loads alone)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cadquery as cq

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.graph import bflow
from brepflow_lab.graph.algorithms import downstream
from brepflow_lab.graph.validate import validate
from brepflow_lab.nodes import catalogue

RESULTS: list[tuple[str, bool, str]] = []


def budget(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, ok, detail))
    print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


# -- (a) engine vs hand-written script ---------------------------------------------------
L, W, H, WALL, CORNER, INSET = 120.0, 80.0, 40.0, 2.0, 6.0, 9.0


def script_model() -> cq.Shape:
    """The example enclosure written by hand with cadquery, same operations."""
    shell = (
        cq.Workplane("XY")
        .box(L, W, H, centered=False)
        .edges("|Z")
        .fillet(CORNER)
        .faces(">Z")
        .shell(-WALL)
        .val()
        .Solids()[0]
    )
    boss = cq.Solid.makeCylinder(3.5, H - WALL)
    hole = cq.Solid.makeCylinder(1.25, H)
    xs = (INSET, L - INSET)
    ys = (INSET, W - INSET)
    bosses = [boss.moved(cq.Location(cq.Vector(x, y, 0))) for y in ys for x in xs]
    holes = [hole.moved(cq.Location(cq.Vector(x, y, WALL))) for y in ys for x in xs]
    body = shell.fuse(*bosses).clean()
    result = body.cut(*holes).clean()
    assert result.isValid()
    return result


def bench_script_vs_engine(repeat: int) -> None:
    print("(a) cold evaluation: engine vs hand-written cadquery script (example enclosure)")
    g = Graph.load(Path(__file__).resolve().parent.parent / "examples" / "enclosure.bflow.json")
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    script_model()
    g.evaluate(cache=False)  # warm both paths (imports, first-call costs)
    engine_t, script_t = [], []
    for _ in range(repeat):
        script_t += timed(script_model, 1)
        engine_t += timed(lambda: g.evaluate(cache=False), 1)
    r = g.evaluate(cache=False)
    assert r.ok, r.errors
    ref = script_model()
    vol_engine, vol_script = r["enclosure"]["shape"].Volume(), ref.Volume()
    s, e = statistics.median(script_t), statistics.median(engine_t)
    print(
        f"  script {s * 1000:.1f} ms, engine {e * 1000:.1f} ms (median of {repeat}); volumes {vol_engine:.1f} / {vol_script:.1f}"
    )
    budget("engine / script <= 1.10", e / s <= 1.10, f"ratio {e / s:.3f}")


# -- (b) 1,000-node graph ----------------------------------------------------------------
def big_graph(chains: int = 250) -> Graph:
    g = Graph.new()
    for k in range(10):
        g.parameters[f"w{k}"] = 10 + k
    for i in range(chains):
        box = g.add("Solid::Box", id=f"box{i}", width=f"@w{i % 10}", height=5, depth=5)
        mv = g.add("Transform::Move", id=f"move{i}", offset=(i * 20.0, 0, 0))
        rot = g.add("Transform::Rotate", id=f"rot{i}", angle=15 + i % 7, axis=(0, 0, 1))
        sc = g.add("Transform::Scale", id=f"scale{i}", scale=1.0 + (i % 3) / 10)
        g.connect(box, "shape", mv, "shape")
        g.connect(mv, "shape", rot, "shape")
        g.connect(rot, "shape", sc, "shape")
    return g


def bench_incremental(repeat: int) -> Path:
    print("(b) 1,000-node graph: incremental re-evaluation")
    g = big_graph()
    g.evaluator = Evaluator(catalogue, cache=MemoryCache(4 << 30))
    n = len(g.document.nodes)
    t = time.perf_counter()
    r = g.evaluate()
    cold = time.perf_counter() - t
    assert r.ok and r.stats.ran + r.stats.cached == n  # identical boxes are shared by content
    unchanged = timed(lambda: g.evaluate(), repeat)
    r2 = g.evaluate()
    assert r2.stats.ran == 0 and r2.stats.cached == n
    g.parameters["w3"] = 99
    users = {nd.id for nd in g.document.nodes if "@w3" in str(nd.params.get("width", ""))}
    expected = downstream({nd.id: nd.upstream_ids() for nd in g.document.nodes}, users)
    t = time.perf_counter()
    r3 = g.evaluate()
    changed = time.perf_counter() - t
    ran = {nid for nid, nr in r3.nodes.items() if nr.status == "ok"}
    # identical boxes (same width) hit the cache by content, so "ran" may be fewer than
    # the downstream set, never more: nothing outside it may run
    ran_or_hit_new = {nid for nid, nr in r3.nodes.items() if nr.key != r2.nodes[nid].key}
    u = statistics.median(unchanged)
    print(
        f"  {n} nodes: cold {cold * 1000:.0f} ms; unchanged re-evaluation {u * 1000:.1f} ms (median of {repeat}, "
        f"ratio {u / cold:.4f} of cold); after one parameter change {changed * 1000:.0f} ms, {len(ran)} nodes ran"
    )
    budget(
        "only downstream nodes run after a change",
        ran <= expected and ran_or_hit_new == expected,
        f"{len(ran)} ran, {len(ran_or_hit_new)} new keys, {len(expected)} downstream",
    )
    budget("unchanged 1,000-node re-evaluation <= 50 ms", u <= 0.050, f"{u * 1000:.1f} ms")
    path = Path(tempfile.mkdtemp()) / "big.bflow.json"
    g.save(path)
    return path


# -- (c) load + validate -----------------------------------------------------------------
def bench_load(path: Path, repeat: int) -> None:
    print("(c) loading + validating a 1,000-node file")
    text = path.read_bytes()
    catalogue.types()  # the catalogue is loaded once per process

    def load_and_validate() -> None:
        doc = bflow.loads(text)
        problems = [p for p in validate(doc, catalogue) if p.severity == "error"]
        assert not problems, problems[:3]

    baseline = statistics.median(timed(lambda: json.loads(text), repeat))
    t = statistics.median(timed(load_and_validate, repeat))
    print(
        f"  json.loads {baseline * 1000:.1f} ms; load + validate {t * 1000:.1f} ms (ratio {t / baseline:.1f}x json.loads)"
    )
    budget("load + validate 1,000 nodes <= 200 ms", t <= 0.200, f"{t * 1000:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    bench_script_vs_engine(repeat)
    path = bench_incremental(repeat)
    bench_load(path, repeat)
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} budgets hold" + (f"; failing: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
