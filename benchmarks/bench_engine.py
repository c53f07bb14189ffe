"""Engine benchmarks. Prints timings, ratios against a baseline measured in this same
process, and whether each budget of the core issue holds.

    python benchmarks/bench_engine.py                  # all
    python benchmarks/bench_engine.py --quick          # fewer repeats
    python benchmarks/bench_engine.py --model pin      # only corpus models whose name contains "pin"

(a) the corpus (benchmarks/models, see benchmarks/corpus.py): for each model, cold evaluation
    through the engine (a fresh Evaluator and empty cache each run) vs the same model as a
    hand-written cadquery script; medians of alternating runs in this process, after one
    warm-up of each (budget: ratio <= 1.10 per model). Also printed: the costliest node (the
    result's per-node timings), the share of a profiled cold evaluation spent in the kernel's
    result checks (brepflow_lab.kernel.checks.RESULT_CHECKS, measured as in bench_checks.py),
    the BRepCheck analyses and inside-out tests that evaluation really ran (checks.CHECK_RUNS;
    deterministic, unlike the timings), and whether the engine's shape matches the script's
    (valid, volume rel 1e-6, faces); a
    mismatch is printed loudly and fails the model's budget. The load average is printed:
    timings on a shared machine are noisy.
(b) 1,000-node graph: after changing one parameter only its downstream nodes run; an
    unchanged re-evaluation takes <= 50 ms (ratio printed against the cold evaluation)
(c) loading + validating a 1,000-node file <= 200 ms (ratio against json.loads alone)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.graph import bflow
from brepflow_lab.graph.algorithms import downstream
from brepflow_lab.graph.validate import validate
from brepflow_lab.kernel import checks
from brepflow_lab.nodes import catalogue

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus
from bench_checks import check_seconds

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


# -- (a) the corpus: engine vs hand-written script ------------------------------------------
def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def bench_model(model: corpus.Model, repeat: int) -> dict[str, object]:
    """Engine cold / script (medians of alternating runs), costliest node, check share, match."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{model.name}-"))
    try:
        model.prepare(folder)
        g = model.graph(folder)

        def engine() -> object:
            g.evaluator = corpus.fresh_evaluator()  # cold: a new evaluator and an empty cache
            t = time.perf_counter()
            result = g.evaluate()
            engine_t.append(time.perf_counter() - t)
            return result

        def script() -> object:
            t = time.perf_counter()
            shape = model.build(folder)
            script_t.append(time.perf_counter() - t)
            return shape

        engine_t: list[float] = []
        script_t: list[float] = []
        r = engine()  # warm both paths (first-call costs), then alternate, swapping who goes first
        ref = script()
        engine_t.clear()
        script_t.clear()
        for i in range(repeat):
            if i % 2:
                r = engine()
                ref = script()
            else:
                ref = script()
                r = engine()
        assert r.ok, r.errors  # type: ignore[attr-defined]
        shape = r[model.result_node]["shape"]  # type: ignore[index]
        problems = corpus.compare(shape, ref)
        ran = [nr for nr in r.nodes.values() if nr.status == "ok"]  # type: ignore[attr-defined]
        costly = max(ran, key=lambda nr: nr.seconds)
        node_type = g.document.node(costly.node_id).type
        profile = cProfile.Profile()
        g.evaluator = corpus.fresh_evaluator()
        counted = checks.check_counts()
        profile.enable()
        g.evaluate()
        profile.disable()
        counted = {k: v - counted.get(k, 0) for k, v in checks.check_counts().items()}
        stats = pstats.Stats(profile)
        total = stats.total_tt  # type: ignore[attr-defined]
        spent = check_seconds(stats)
        validity = spent.pop("is_valid", 0.0)
        others = sum(spent.values())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    s, e = _median_ms(script_t), _median_ms(engine_t)
    row = {
        "name": model.name,
        "script_ms": s,
        "engine_ms": e,
        "ratio": e / s,
        "costliest": f"{costly.node_id} ({node_type}) {costly.seconds * 1000:.0f} ms",
        "checks": (validity + others) / total,
        "validity": validity / total,
        "faces": len(shape.Faces()),
        "analyses": counted.get("is_valid", 0),
        "classified": counted.get("is_inside_out", 0),
        "problems": problems,
    }
    print(
        f"  {model.name}: script {s:.0f} ms, engine {e:.0f} ms (medians of {repeat}), ratio {e / s:.3f}; "
        f"costliest node {row['costliest']}; our checks {row['checks']:.1%} of a profiled evaluation "
        f"(validity {row['validity']:.1%}; {row['analyses']} BRepCheck analyses, {row['classified']} inside-out "
        f"tests); {row['faces']} faces"
    )
    if problems:
        print(f"  !!! MISMATCH {model.name}: the engine's result differs from the script's: {'; '.join(problems)}")
    budget(f"{model.name}: engine / script <= 1.10", e / s <= 1.10 and not problems, f"ratio {e / s:.3f}")
    return row


def bench_corpus(models: list[corpus.Model], repeat: int) -> list[dict[str, object]]:
    print(f"(a) cold evaluation: engine vs hand-written cadquery script, {len(models)} models of benchmarks/models")
    print(f"  load average at start: {_loadavg()}")
    rows = [bench_model(model, repeat) for model in models]
    print(f"  load average at end: {_loadavg()}")
    print()
    header = (
        f"  {'model':<18} {'script ms':>9} {'engine ms':>9} {'ratio':>6}  {'checks':>6} {'valid.':>6} {'#valid':>6} "
        f"{'#inout':>6}  costliest node"
    )
    print(header)
    print("  " + "-" * (len(header) + 20))
    for row in rows:
        flag = (
            ""
            if row["ratio"] <= 1.10 and not row["problems"]
            else "  <-- over budget"
            if not row["problems"]
            else "  <-- MISMATCH"
        )  # type: ignore[operator]
        print(
            f"  {row['name']:<18} {row['script_ms']:>9.0f} {row['engine_ms']:>9.0f} {row['ratio']:>6.2f}  "
            f"{row['checks']:>6.1%} {row['validity']:>6.1%} {row['analyses']:>6} {row['classified']:>6}  "
            f"{row['costliest']}{flag}"
        )
    print()
    return rows


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


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
    parser.add_argument("--quick", action="store_true", help="3 runs of each instead of 7")
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="only the corpus models whose name contains NAME (repeatable); skips (b) and (c)",
    )
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    models = corpus.load_models(args.model)
    if not models:
        print(f"no model in {corpus.MODELS_DIR} matches {args.model}; there are:")
        print("  " + ", ".join(m.name for m in corpus.load_models()))
        return 2
    bench_corpus(models, repeat)
    if not args.model:
        path = bench_incremental(repeat)
        bench_load(path, repeat)
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} budgets hold" + (f"; failing: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
