"""Memory that stays flat (issue 16, item 4): three long loops, resident memory sampled.

    python benchmarks/bench_soak.py            # 2,000 edits, 500 variants, 200 Studios
    python benchmarks/bench_soak.py --quick    # a tenth of each

1. **Parameter edits with a Studio showing the graph**: the enclosure example in a Studio
   (no browser: the kernel side, which holds the caches, meshes and threads), and a new value
   of ``L`` per edit (never a repeat, so every edit evaluates and tessellates for real); the
   Studio's background evaluation is awaited after each edit.
2. **Sweep variants through one Dask worker**: a one-worker local cluster, 500 variants in
   sweeps of 50; the *worker's* resident memory is sampled (that is where OCCT runs).
3. **Studio open/close cycles**: 200 Studios opened on the same graph, evaluated, closed;
   besides memory, the threads and ipywidgets comms left behind are counted.

For each loop: RSS at the start, after warm-up and at the end, and the growth from warm-up
to end. Budget: growth <= 10 %. Warm-up is 10 % of the loop, and for the edits also until
the result cache is full (result cache 128 MB, mesh cache 16 MB here, both full before warm-up ends:
caches growing up to their budgets is their job; the loops look for growth beyond them).
"""

from __future__ import annotations

import argparse
import gc
import os
import threading
import time
from pathlib import Path

import psutil

# Caches grow until their byte budgets by design; "flat" means nothing grows past them. Smaller
# budgets than the defaults (1024 MB results, 256 MB meshes) make the caches full early in the
# loops, so what the loops measure after warm-up is growth that no budget bounds. The Dask
# worker inherits these from this process.
os.environ.setdefault("BREPFLOW_CACHE_MB", "128")
os.environ.setdefault("BREPFLOW_MESH_CACHE_MB", "16")

from brepflow_lab import Graph  # after the cache budgets are set

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"
RESULTS: list[tuple[str, bool]] = []


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20


def report(name: str, start: float, warm: float, end: float, extra: str = "") -> None:
    growth = (end - warm) / warm
    ok = growth <= 0.10
    RESULTS.append((name, ok))
    print(
        f"  [{'PASS' if ok else 'FAIL'}] {name}: start {start:.0f} MB, after warm-up {warm:.0f} MB, "
        f"end {end:.0f} MB, growth {growth:+.1%} (budget +10%){extra}"
    )


def soak_edits(count: int) -> None:
    from brepflow_lab.kernel.tessellate import mesh_cache
    from brepflow_lab.widgets.studio import Studio

    g = Graph.load(EXAMPLE)
    studio = Studio(g, autosave=False, debounce=0.0)
    studio.wait(timeout=300)
    start = rss_mb()
    warm = start
    t0 = time.perf_counter()
    stats = getattr(g.evaluator.cache, "stats", None)
    warm_at = None
    for i in range(count):
        g.parameters["L"] = 100 + i * 0.01  # a new value every time: no cache hit
        studio.wait(timeout=300)
        meshes = mesh_cache()
        full = (stats is None or stats.bytes >= 0.9 * stats.max_bytes) and meshes.nbytes >= 0.8 * meshes.max_bytes
        if warm_at is None and i >= count // 10 and full:
            gc.collect()
            warm, warm_at = rss_mb(), i  # warm: 10% of the loop done and the result cache full
    gc.collect()
    end = rss_mb()
    failed = [n for n, s in studio.status.items() if s.get("status") == "failed"]
    studio.close()
    budget = getattr(stats, "max_bytes", None)
    used = getattr(stats, "bytes", None)
    report(
        f"{count} parameter edits with a Studio",
        start,
        warm,
        end,
        f"; warm after edit {warm_at}; {(time.perf_counter() - t0) / count * 1000:.0f} ms per edit; "
        f"result cache {used} of {budget} bytes" + (f"; FAILED nodes {failed}" if failed else ""),
    )


def soak_sweeps(count: int) -> None:
    from brepflow_lab.engine.dask_executor import DaskExecutor

    executor = DaskExecutor.local(workers=1)
    try:
        client = executor.client
        [worker] = list(client.scheduler_info()["workers"])
        pid = client.run(os.getpid)[worker]
        g = Graph.load(EXAMPLE)
        batch = 50
        start = rss_mb(pid)
        warm = start
        done = 0
        failed = 0
        while done < count:
            matrix = [{"L": 100 + (done + i) * 0.05, "W": 60 + (done + i) % 20} for i in range(batch)]
            table = g.sweep(matrix, executor=executor, progress=False)
            failed += table.counts().get("failed", 0)
            done += batch
            if done <= max(batch, count // 10):
                warm = rss_mb(pid)
        end = rss_mb(pid)
        report(f"{count} sweep variants through one Dask worker (worker RSS)", start, warm, end, f"; {failed} failed")
    finally:
        executor.close()


def soak_studios(count: int) -> None:
    from ipywidgets.widgets import widget as ipywidget

    from brepflow_lab.widgets.studio import Studio

    g = Graph.load(EXAMPLE)
    Studio(g, autosave=False).close()  # import and first-use costs out of the way
    threads_before = threading.active_count()
    widgets_before = len(ipywidget._instances)
    start = rss_mb()
    warm = start
    for i in range(count):
        s = Studio(g, autosave=False)
        s.wait(timeout=120)
        s.close()
        if i == count // 10:
            gc.collect()
            warm = rss_mb()
    gc.collect()
    time.sleep(0.5)  # threads finish winding down
    end = rss_mb()
    threads_left = threading.active_count() - threads_before
    widgets_left = len(ipywidget._instances) - widgets_before
    report(
        f"{count} Studio open/close cycles",
        start,
        warm,
        end,
        f"; threads left {threads_left}, widgets (comms) left {widgets_left}",
    )
    if threads_left > 0 or widgets_left > 0:
        RESULTS.append(("closed Studios leave nothing behind", False))
        print(f"  [FAIL] closed Studios leave nothing behind: {threads_left} threads, {widgets_left} widgets")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["edits", "sweeps", "studios"])
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores)")
    if args.only in (None, "edits"):
        soak_edits(2000 // scale)
    if args.only in (None, "sweeps"):
        soak_sweeps(500 // scale)
    if args.only in (None, "studios"):
        soak_studios(200 // scale)
    return 0 if all(ok for _, ok in RESULTS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
