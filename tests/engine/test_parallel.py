"""The Dask executor beyond the conformance suite: parallel branches, identical geometry,
the shared cache, supersession of work running elsewhere, data that cannot cross.

Uses the module-scoped LocalCluster of ``conftest.dask_executor`` (2 worker processes).
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache, NodeStarted, SyncExecutor
from brepflow_lab.errors import ErrorCode
from brepflow_lab.kernel.hashing import fingerprint
from brepflow_lab.nodes import catalogue

from .demo_nodes import make_registry

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "enclosure.bflow.json"


def demo_graph(executor, cache=None) -> Graph:
    registry = make_registry()
    g = Graph.new()
    g.registry = registry
    g.evaluator = Evaluator(registry, cache=cache if cache is not None else MemoryCache(), executor=executor)
    return g


def test_independent_branches_run_at_the_same_time_in_worker_processes(dask_executor):
    g = demo_graph(dask_executor)
    left = g.add("Demo::Sleep", id="left", seconds=1.0)
    right = g.add("Demo::Sleep", id="right", seconds=1.5)  # other params: not one shared cache key
    total = g.add("Demo::Sum", id="total")
    g.connect(left, "value", total, "values")
    g.connect(right, "value", total, "values")
    r = g.evaluate()
    assert r.ok and r["total"]["value"] == 2.5 and r.stats.ran == 3
    a, b = r["left"]["trace"], r["right"]["trace"]
    assert a["pid"] != b["pid"] and os.getpid() not in (a["pid"], b["pid"])
    overlap = min(a["end"], b["end"]) - max(a["start"], b["start"])
    assert overlap > 0.5, (a, b)  # both slept at the same time, on two workers
    assert r.executor == "dask"


def shape_fingerprints(result) -> dict[str, list[str]]:
    out = {}
    for node_id, nr in result.nodes.items():
        for socket, value in sorted(nr.outputs.items()):
            items = value if isinstance(value, list) else [value]
            if items and all(hasattr(i, "wrapped") for i in items):
                out[f"{node_id}.{socket}"] = [fingerprint(i) for i in items]
    return out


def test_real_geometry_is_identical_to_the_sync_executor(dask_executor):
    """Every shape of the example enclosure, lists included, has the same fingerprint."""
    sync = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache()))
    remote = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache(), executor=dask_executor))
    overrides = {"L": 150, "wall": 2.5}
    r_sync = sync.evaluate(parameters=overrides)
    r_dask = remote.evaluate(parameters=overrides)
    assert r_sync.ok and r_dask.ok
    assert {k: v.status for k, v in r_dask.nodes.items()} == {k: v.status for k, v in r_sync.nodes.items()}
    assert r_dask.stats.to_dict() | {"seconds": 0} == r_sync.stats.to_dict() | {"seconds": 0}
    assert {k: v.key for k, v in r_dask.nodes.items()} == {k: v.key for k, v in r_sync.nodes.items()}
    prints = shape_fingerprints(r_dask)
    assert len(prints) >= 14 and prints == shape_fingerprints(r_sync)
    assert len(prints["bosses_front.shapes"]) == 2
    assert r_dask["enclosure"]["shape"].isValid()
    assert math.isclose(r_dask["enclosure"]["shape"].Volume(), r_sync["enclosure"]["shape"].Volume(), rel_tol=1e-12)


def test_results_come_back_into_the_cache_and_the_cache_is_read_first(dask_executor):
    cache = MemoryCache()
    started = []
    remote = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=cache, executor=dask_executor))
    remote.on(lambda e: started.append(e.node_id) if isinstance(e, NodeStarted) else None)
    first = remote.evaluate(parameters={"H": 33})
    assert first.ok and first.stats.ran == len(first.nodes) and len(started) == len(first.nodes)
    # a sync evaluator on the same cache finds every result the workers produced
    local = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=cache, executor=SyncExecutor()))
    assert local.evaluate(parameters={"H": 33}).stats.cached == len(first.nodes)
    # and the Dask evaluation submits nothing that the cache already holds
    started.clear()
    again = remote.evaluate(parameters={"H": 33})
    assert again.stats.cached == len(first.nodes) and started == []
    # one parameter change: only its downstream goes to the cluster
    started.clear()
    changed = remote.evaluate(parameters={"H": 33, "inset": 10})
    assert set(started) == {n for n, nr in changed.nodes.items() if nr.status == "ok"}
    assert "base" not in started and "enclosure" in started


def test_supersession_does_not_wait_for_a_node_running_on_a_worker(dask_executor):
    g = demo_graph(dask_executor)
    slow = g.add("Demo::Sleep", id="slow", seconds=5.0)
    after = g.add("Demo::Add", id="after")
    g.connect(slow, "value", after, "a")
    timer = threading.Timer(0.5, g.evaluator.supersede)
    start = time.perf_counter()
    timer.start()
    try:
        r = g.evaluate()
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    assert r.superseded
    assert r.nodes["slow"].status == "cancelled" and r.nodes["after"].status == "cancelled"
    assert elapsed < 3.5, elapsed  # returned long before the 5 s node would have finished


def test_outputs_that_cannot_cross_processes_fail_that_node_only(dask_executor):
    g = demo_graph(dask_executor)
    g.add("Demo::Unpicklable", id="lock")
    g.add("Demo::Const", id="fine", value=3)
    r = g.evaluate()
    err = r.nodes["lock"].error
    assert r.nodes["lock"].status == "failed" and err.code is ErrorCode.INTERNAL_ERROR
    assert "could not cross" in str(err) and "node 'lock'" in str(err)
    assert r["fine"]["value"] == 3.0
    # the same node is fine in this process
    g2 = demo_graph(SyncExecutor())
    g2.add("Demo::Unpicklable", id="lock")
    assert g2.evaluate().nodes["lock"].status == "ok"


def test_graph_evaluate_takes_an_executor_per_call(dask_executor):
    g = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache()))
    r = g.evaluate(executor=dask_executor, parameters={"W": 70}, targets=["shell"])
    assert r.ok and r.executor == "dask" and set(r.nodes) == {"base", "round", "shell"}
    assert "on dask" in r._repr_html_()
    assert g.evaluate(executor="sync", parameters={"W": 70}, targets=["shell"]).stats.cached == 3
    with pytest.raises(ValueError, match="isolated=True runs nodes in worker processes"):
        g.evaluate(isolated=True, executor="sync")
    with pytest.raises(ValueError, match="executor must be"):
        g.evaluate(executor="threads")


def test_executor_describes_its_cluster(dask_executor):
    assert "2 workers" in repr(dask_executor)
    html = dask_executor._repr_html_()
    assert "2 workers, 2 threads" in html and "local cluster" in html
    assert dask_executor.dashboard_link is None  # started with dashboard=False
    assert len(dask_executor.workers()) == 2
