"""Dask benchmarks. Prints timings, ratios against baselines measured in this same process,
and whether each budget of the scale-out issue holds.

    python benchmarks/bench_dask.py            # both budgets
    python benchmarks/bench_dask.py --quick    # fewer variants (a smoke run, budgets still checked)

(a) a sweep of 16 variants of a ~1 s model (a plate with a grid of holes, its top edges
    filleted; each variant another hole radius) on a LocalCluster of 2 worker processes vs
    the same sweep on 1 worker (budget: >= 1.7x faster on this 2-core machine)
(b) Dask overhead of a sweep of 100 trivial variants (one box each): the same sweep on a
    1-worker cluster vs in this process, divided by the number of variants
    (budget: <= 20 ms per variant)

Both clusters are started and warmed (cadquery imported, one variant run) before anything
is timed; the runs on 1 worker, 2 workers and in this process are interleaved (``--repeat``
rounds) so that other load on the machine weighs on each side alike, and the medians are
compared. Timings on a shared machine vary: run it on an otherwise idle one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from brepflow_lab import Graph
from brepflow_lab.engine.dask_executor import DaskExecutor
from brepflow_lab.sweep import warm_worker

RESULTS: list[tuple[str, bool, str]] = []


def budget(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, ok, detail))
    print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")


def heavy_model(count: int = 6) -> Graph:
    """~1 s per variant: a count x count grid of holes cut from a plate, top edges filleted."""
    g = Graph.new()
    g.parameters.define("r", 2.0, min=0.5, max=5, unit="mm", description="hole radius")
    plate = g.add("Solid::Box", id="plate", width=20 * count + 20, height=20 * count + 20, depth=12)
    pin = g.add("Solid::Cylinder", id="pin", radius="@r", height=30, center=(20, 20, -5))
    row = g.add("Transform::ArrayLinear", id="row", count=count, spacing=(20, 0, 0))
    g.connect(pin, "shape", row, "shape")
    bar = g.add("Boolean::Union", id="bar")
    g.connect(row, "shapes", bar, "shapes")
    grid = g.add("Transform::ArrayLinear", id="grid", count=count, spacing=(0, 20, 0))
    g.connect(bar, "shape", grid, "shape")
    cut = g.add("Boolean::Subtract", id="cut")
    g.connect(plate, "shape", cut, "base")
    g.connect(grid, "shapes", cut, "tools")
    rounded = g.add("Features::Fillet", id="rounded", radius=0.5, edges=">Z")
    g.connect(cut, "shape", rounded, "shape")
    return g


def trivial_model() -> Graph:
    g = Graph.new()
    g.parameters["w"] = 10
    g.add("Solid::Box", id="box", width="@w", height=5, depth=5)
    return g


def timed(fn: Callable[[], object], repeat: int) -> float:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def sweep(g: Graph, matrix: list[dict[str, float]], executor: object) -> None:
    table = g.sweep(matrix, executor=executor, progress=False)
    assert table.ok, [(v.index, v.error_message) for v in table.failed]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="8 heavy and 40 trivial variants")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    n_heavy, n_trivial = (8, 40) if args.quick else (16, 100)
    repeat = max(1, args.repeat)
    heavy, trivial = heavy_model(), trivial_model()
    run = iter(range(1_000_000))

    def heavy_matrix() -> list[dict[str, float]]:  # fresh radii every run: no cache hits
        k = next(run)
        return [{"r": 1.2 + 0.001 * k + 0.1 * i} for i in range(n_heavy)]

    def trivial_matrix() -> list[dict[str, float]]:
        k = next(run)
        return [{"w": 10 + 0.0001 * k + 0.01 * i} for i in range(n_trivial)]

    start = time.perf_counter()
    warm_worker()
    print(f"this process: cadquery and the catalogue loaded in {time.perf_counter() - start:.1f} s")
    clusters: dict[int, DaskExecutor] = {}
    times: dict[tuple[str, int], list[float]] = {}
    try:
        for workers in (1, 2):
            start = time.perf_counter()
            executor = clusters[workers] = DaskExecutor.local(workers, dashboard=False, warmup=warm_worker)
            executor.wait_for_workers(workers, timeout=180)
            sweep(heavy, [{"r": 0.9 + 0.01 * i} for i in range(workers)], executor)  # first variant per worker
            sweep(trivial, [{"w": 1 + 0.01 * i} for i in range(workers * 2)], executor)
            print(f"LocalCluster of {workers} worker(s) started and warmed in {time.perf_counter() - start:.1f} s")
        sweep(trivial, [{"w": 2.0}], "sync")
        # interleaved, so that a change in the machine's load affects both sides alike
        for _ in range(repeat):
            for workers, executor in [(0, "sync"), *clusters.items()]:
                if workers == 0 and ("heavy", 0) in times:
                    times["trivial", 0].append(timed(lambda: sweep(trivial, trivial_matrix(), "sync"), 1))
                    continue  # the heavy sweep in this process is context only: measured once
                times.setdefault(("heavy", workers), []).append(
                    timed(lambda ex=executor: sweep(heavy, heavy_matrix(), ex), 1)
                )
                times.setdefault(("trivial", workers), []).append(
                    timed(lambda ex=executor: sweep(trivial, trivial_matrix(), ex), 1)
                )
    finally:
        for executor in clusters.values():
            executor.close()
    median = {k: statistics.median(v) for k, v in times.items()}
    speedups = [a / b for a, b in zip(times["heavy", 1], times["heavy", 2])]

    print(f"(a) sweep of {n_heavy} variants of a ~1 s model (median of {repeat}, interleaved)")
    h0, h1, h2 = median["heavy", 0], median["heavy", 1], median["heavy", 2]
    print(
        f"  in this process {h0:.2f} s ({h0 / n_heavy:.2f} s per variant); "
        f"1 worker {h1:.2f} s; 2 workers {h2:.2f} s; speed-ups per pair {', '.join(f'{x:.2f}' for x in speedups)}"
    )
    speedup = statistics.median(speedups)
    budget("2 workers >= 1.7x faster than 1", speedup >= 1.7, f"speed-up {speedup:.2f}x")

    print(f"(b) Dask overhead, sweep of {n_trivial} trivial variants (median of {repeat}, interleaved)")
    t0, t1, t2 = median["trivial", 0], median["trivial", 1], median["trivial", 2]
    overhead = (t1 - t0) / n_trivial
    print(
        f"  in this process {t0 * 1000:.0f} ms ({t0 / n_trivial * 1000:.1f} ms per variant); "
        f"1 worker {t1 * 1000:.0f} ms; 2 workers {t2 * 1000:.0f} ms ({t2 / n_trivial * 1000:.1f} ms per variant)"
    )
    budget("Dask overhead <= 20 ms per variant", overhead <= 0.020, f"{overhead * 1000:.1f} ms per variant")

    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} budgets hold" + (f"; failing: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
