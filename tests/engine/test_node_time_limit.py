"""The time limit per node (``BREPFLOW_MAX_NODE_SECONDS``) on a real LocalCluster, no mocks.

Uses the module-scoped LocalCluster of ``conftest.dask_executor`` (2 worker processes);
executors with a limit are views of it (:meth:`DaskExecutor.limited`). ``Test::Hog`` holds
the interpreter lock in one C call that never ends in practice (a regular expression that
backtracks exponentially), as a stuck OCCT operation does: the worker's own event loop is
frozen, so only killing the process can stop it. ``Demo::Sleep`` is a slow node that does
not hold the lock. Timing numbers are printed (``pytest -s``) for the record.
"""

from __future__ import annotations

import math
import re
import threading
import time
import warnings
from collections.abc import Iterator

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache, SyncExecutor
from brepflow_lab.engine.dask_executor import DaskExecutor, close_shared, local_executor
from brepflow_lab.engine.limits import LimitError, NodeTimeLimit, NodeTimeWarning, node_time_limit
from brepflow_lab.errors import ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.nodes import OutputSpec, ParamSpec, Registry, node

from .demo_nodes import make_registry

LIMIT = 2.0


def hog_registry() -> Registry:
    reg = make_registry()

    @node(
        "Test::Hog",
        outputs=[OutputSpec("value", "Number")],
        params=[ParamSpec("size", "integer", default=40, min=1, max=60)],
        registry=reg,
    )
    def hog(ctx, inputs, params):
        # one C call holding the GIL: 2**size steps (size 40: hours)
        re.match(r"(a+)+$", "a" * params["size"] + "b")
        return {"value": 1.0}

    return reg


def graph_on(executor, registry: Registry | None = None) -> Graph:
    registry = registry if registry is not None else hog_registry()
    g = Graph.new()
    g.registry = registry
    g.evaluator = Evaluator(registry, cache=MemoryCache(), executor=executor)
    return g


def _nothing() -> None:
    pass


@pytest.fixture
def limited(dask_executor: DaskExecutor) -> Iterator[DaskExecutor]:
    dask_executor.wait_for_workers(2, timeout=120)
    dask_executor.client.run(_nothing)  # answered once each worker has run its warm-up (cadquery import)
    cq()  # Graph.evaluate imports the kernel here first: not part of the timings below
    yield dask_executor.limited(LIMIT)
    dask_executor.wait_for_workers(2, timeout=120)  # leave the cluster whole for the next test


def test_a_node_past_the_limit_fails_with_timeout_its_worker_is_replaced_and_siblings_finish(limited, dask_executor):
    before = set(dask_executor.workers())
    g = graph_on(limited)
    hog = g.add("Test::Hog", id="hog")
    after = g.add("Demo::Add", id="after")
    g.connect(hog, "value", after, "a")
    steady = g.add("Demo::Sleep", id="steady", seconds=1.0)  # on the other worker, meanwhile
    total = g.add("Demo::Sum", id="total")
    g.connect(steady, "value", total, "values")
    start = time.perf_counter()
    r = g.evaluate()
    elapsed = time.perf_counter() - start
    timed_out = r.nodes["hog"]
    assert timed_out.status == "failed" and timed_out.error.code is ErrorCode.TIMEOUT
    message = str(timed_out.error)
    assert message.startswith("node 'hog' (Test::Hog): ran longer than the 2 s limit per node (max_node_seconds=2)")
    assert "the worker process running it was stopped" in message
    assert r.nodes["after"].status == "skipped" and r.nodes["after"].error.code is ErrorCode.UPSTREAM_FAILED
    assert r.nodes["steady"].status == "ok" and r["total"]["value"] == 1.0
    assert r.stats.failed == 1 and r.stats.skipped == 1 and r.stats.ran == 2
    # counted from when the node started on its worker, reported soon after the deadline
    assert LIMIT <= timed_out.seconds < LIMIT + 1.0, timed_out.seconds
    assert elapsed < LIMIT + 2.0, elapsed  # the 1 s sibling ran meanwhile
    print(f"\n[timeout] detected {timed_out.seconds - LIMIT:.3f} s after the deadline; evaluate() took {elapsed:.2f} s")

    # the next evaluation works at once, while the stopped worker is being replaced
    g2 = graph_on(limited)
    a = g2.add("Demo::Const", id="a", value=2)
    b = g2.add("Demo::Add", id="b", offset=3)
    g2.connect(a, "value", b, "a")
    g2.add("Demo::Range", id="c", count=4)
    t = time.perf_counter()
    r2 = g2.evaluate()
    assert r2.ok, r2.errors
    assert r2["b"]["value"] == 5.0 and r2["c"]["values"] == [0.0, 1.0, 2.0, 3.0]
    print(f"[timeout] next evaluation right after: {time.perf_counter() - t:.2f} s")

    # a fresh worker process replaces the one that was stopped
    t = time.perf_counter()
    dask_executor.wait_for_workers(2, timeout=120)
    back = set(dask_executor.workers())
    while len(back) < 2 or back == before:
        assert time.perf_counter() - t < 60, back
        time.sleep(0.05)
        back = set(dask_executor.workers())
    print(f"[timeout] worker back {time.perf_counter() - start - elapsed:.2f} s after evaluate() returned")
    assert len(back & before) == 1  # the sibling's worker lived on
    # the same node with a feasible input runs on the new worker, within the limit
    g.node("hog").params["size"] = 10
    r3 = g.evaluate()
    assert r3.ok, r3.errors
    assert r3.nodes["steady"].status == "cached" and r3.nodes["hog"].status == "ok"


def test_a_superseded_node_still_running_keeps_its_worker_until_its_deadline(limited, dask_executor):
    """A cancelled job cannot be interrupted either: its worker is avoided, then stopped at the limit."""
    before = set(dask_executor.workers())
    g = graph_on(limited)
    g.add("Test::Hog", id="hog")
    timer = threading.Timer(0.5, g.evaluator.supersede)
    start = time.perf_counter()
    timer.start()
    try:
        r = g.evaluate()
    finally:
        timer.cancel()
    assert r.superseded and r.nodes["hog"].status == "cancelled"
    assert time.perf_counter() - start < LIMIT  # returned before the deadline
    # new work goes to the other worker, not behind the runaway node
    g2 = graph_on(limited)
    g2.add("Demo::Const", id="a", value=2)
    g2.add("Demo::Range", id="b", count=2)
    t = time.perf_counter()
    r2 = g2.evaluate()
    assert r2.ok and time.perf_counter() - t < 1.5, r2.errors
    # and the runaway's worker is stopped at its deadline, with no evaluation running
    while set(dask_executor.workers()) >= before:
        assert time.perf_counter() - start < LIMIT + 10, dask_executor.workers()
        time.sleep(0.05)
    print(f"\n[superseded] runaway worker gone {time.perf_counter() - start:.2f} s after the evaluation started")


def test_the_environment_sets_the_limit_and_graph_evaluate_isolates_to_enforce_it(dask_executor, monkeypatch):
    """With BREPFLOW_MAX_NODE_SECONDS set and no executor chosen, Graph.evaluate runs on Dask."""
    dask_executor.wait_for_workers(2, timeout=120)
    monkeypatch.setenv("BREPFLOW_MAX_NODE_SECONDS", "2")
    monkeypatch.setenv("BREPFLOW_DASK_SCHEDULER", dask_executor.client.scheduler.address)
    assert dask_executor.node_time_limit == NodeTimeLimit(2.0, "BREPFLOW_MAX_NODE_SECONDS")
    try:
        registry = make_registry()
        g = Graph(registry=registry, evaluator=Evaluator(registry, cache=MemoryCache()))  # runs in this process
        g.add("Demo::Sleep", id="nap", seconds=30)
        g.add("Demo::Const", id="fine", value=4)
        start = time.perf_counter()
        r = g.evaluate()
        elapsed = time.perf_counter() - start
        assert r.executor == "dask"
        nap = r.nodes["nap"]
        assert nap.status == "failed" and nap.error.code is ErrorCode.TIMEOUT
        assert "node 'nap' (Demo::Sleep): ran longer than the 2 s limit per node (BREPFLOW_MAX_NODE_SECONDS)" in str(
            nap.error
        )
        assert "quota node_seconds" in str(nap.error)  # the hint says where the limit comes from
        assert r["fine"]["value"] == 4.0
        assert elapsed < 2.0 + 8.0, elapsed  # includes connecting a client to the cluster
        # opting out runs in this process: nothing is stopped, a slow node is only reported
        monkeypatch.setenv("BREPFLOW_MAX_NODE_SECONDS", "0.2")
        g.node("nap").params["seconds"] = 0.5
        with pytest.warns(NodeTimeWarning, match=r"node 'nap' \(Demo::Sleep\) ran 0\.\d s in this process"):
            local = g.evaluate(isolated=False)
        assert local.executor == "sync" and local.ok and local["nap"]["value"] == 0.5
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert g.evaluate(executor="sync", parameters={}).ok  # cached: no node ran, nothing to report
    finally:
        close_shared()  # the API's default executor (a client of this cluster)
    dask_executor.wait_for_workers(2, timeout=120)


def test_a_sweep_variant_whose_node_passes_the_limit_is_one_failed_row(limited):
    g = graph_on(limited)
    g.parameters["t"] = 0.1
    g.add("Demo::Sleep", id="nap", seconds="@t")
    start = time.perf_counter()
    table = g.sweep([{"t": 0.1}, {"t": 30}, {"t": 0.2}, {"t": 0.3}], executor=limited, progress=False)
    elapsed = time.perf_counter() - start
    assert [v.status for v in table] == ["ok", "failed", "ok", "ok"]
    row = table[1]
    assert row.error_code == "TIMEOUT" and row.error_node == "nap"
    assert row.error_message.startswith(
        "node 'nap' (Demo::Sleep) ran longer than the 2 s limit per node (max_node_seconds=2)"
    )
    assert elapsed < LIMIT + 6.0, elapsed
    print(f"\n[sweep] 4 variants, one timed out, in {elapsed:.2f} s")


def test_bad_limits_are_refused_with_a_clear_error(monkeypatch):
    for raw in ("abc", "0", "-3", "nan", "inf", "2 s"):
        with pytest.raises(
            LimitError,
            match=rf"^BREPFLOW_MAX_NODE_SECONDS must be a positive number of seconds, got '{re.escape(raw)}'$",
        ):
            node_time_limit({"BREPFLOW_MAX_NODE_SECONDS": raw})
    assert node_time_limit({}) is None and node_time_limit({"BREPFLOW_MAX_NODE_SECONDS": " "}) is None
    assert node_time_limit({"BREPFLOW_MAX_NODE_SECONDS": " 2.5 "}) == NodeTimeLimit(2.5)
    assert node_time_limit({"BREPFLOW_MAX_NODE_SECONDS": "1e+06"}).seconds == 1e6  # as the hub writes %g
    assert isinstance(LimitError("x"), ValueError)
    with pytest.raises(LimitError, match=r"^max_node_seconds must be a positive number of seconds, got 0$"):
        local_executor(max_node_seconds=0)
    # a bad value in the environment fails evaluations and executors before anything runs
    monkeypatch.setenv("BREPFLOW_MAX_NODE_SECONDS", "abc")
    g = graph_on(SyncExecutor())
    g.add("Demo::Const", id="c")
    with pytest.raises(LimitError, match="BREPFLOW_MAX_NODE_SECONDS must be a positive number of seconds, got 'abc'"):
        g.evaluate()
    with pytest.raises(LimitError, match="got 'abc'"):
        DaskExecutor.local(1)
    with pytest.raises(LimitError, match="got 'abc'"):
        local_executor()


def test_an_explicit_limit_overrides_the_environment(dask_executor, monkeypatch):
    monkeypatch.setenv("BREPFLOW_MAX_NODE_SECONDS", "120")
    assert dask_executor.node_time_limit == NodeTimeLimit(120.0)
    assert dask_executor.limited(5).node_time_limit == NodeTimeLimit(5.0, "max_node_seconds=5")
    assert dask_executor.limited(math.inf).node_time_limit is None
    assert "at most 120 s per node" in dask_executor._repr_html_()
    monkeypatch.delenv("BREPFLOW_MAX_NODE_SECONDS")
    assert dask_executor.node_time_limit is None
    view = dask_executor.limited(5)
    view.close()  # a view closes nothing of the cluster
    assert not dask_executor.closed and len(dask_executor.workers()) == 2


def test_the_studio_enforces_the_limit_too(dask_executor, monkeypatch):
    """A Studio on the hub: a runaway node gets its TIMEOUT badge instead of freezing the kernel."""
    from brepflow_lab.widgets import Studio

    dask_executor.wait_for_workers(2, timeout=120)
    monkeypatch.setenv("BREPFLOW_MAX_NODE_SECONDS", "2")
    monkeypatch.setenv("BREPFLOW_DASK_SCHEDULER", dask_executor.client.scheduler.address)
    registry = hog_registry()
    g = Graph(registry=registry, evaluator=Evaluator(registry, cache=MemoryCache()))  # in this process
    # size 30: ~40 s here (well past the limit, yet bounded should it ever run in this process)
    g.add("Test::Hog", id="hog", size=30)
    g.add("Demo::Const", id="fine", value=4)
    studio = Studio(g, evaluate=False, autosave=False)
    try:
        # checked first: in this process the runaway node would hold the interpreter for hours
        assert studio._limit_executor() is not None, studio.message
        start = time.perf_counter()
        studio.evaluate()
        studio.wait(60)
        elapsed = time.perf_counter() - start
        hog = studio.status["hog"]
        assert hog["status"] == "failed" and hog["error"]["code"] == "TIMEOUT", hog
        assert "ran longer than the 2 s limit per node" in hog["error"]["message"]
        assert studio.status["fine"]["status"] == "ok" and studio.result["fine"]["value"] == 4.0
        assert elapsed < 2.0 + 8.0, elapsed
        # without the limit the Studio runs nodes in this process again
        monkeypatch.delenv("BREPFLOW_MAX_NODE_SECONDS")
        assert studio._limit_executor() is None
    finally:
        studio.close()
        close_shared()
    dask_executor.wait_for_workers(2, timeout=120)
