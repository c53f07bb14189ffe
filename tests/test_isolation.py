"""Crash isolation, the hub's Dask limits and the dashboard link, on a real LocalCluster.

``tests/crash_pack/bfl_crashpack.py`` is installed as a real node pack (module + dist-info
with an entry point) in a temporary folder on ``PYTHONPATH``; its ``Crash::Fragile`` node
calls ``os.abort()`` as OCCT can. One LocalCluster (2 worker processes) serves the module,
started the way the hub's spawner environment asks for (``BREPFLOW_MAX_DASK_WORKERS``,
``BREPFLOW_DASK_MEMORY_LIMIT``), with its dashboard on; ``BREPFLOW_DASK_SCHEDULER`` points
the API's default executor at it. Everything is closed and restored in teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.engine.dask_executor import DaskExecutor, DaskLimitError, DaskLimits, close_shared
from brepflow_lab.errors import ErrorCode
from brepflow_lab.nodes import ENTRY_POINT_GROUP, Registry, catalogue
from brepflow_lab.sweep import warm_worker

PACK = Path(__file__).resolve().parent / "crash_pack" / "bfl_crashpack.py"
MEMORY = "1.5GiB"


@pytest.fixture(scope="module")
def crash_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crash pack installed as a distribution (module + dist-info with an entry point)."""
    site = tmp_path_factory.mktemp("site")
    shutil.copy(PACK, site / "bfl_crashpack.py")
    info = site / "bfl_crashpack-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bfl-crashpack\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ncrashpack = bfl_crashpack:register\n", encoding="utf-8"
    )
    return site


@pytest.fixture(scope="module")
def env(crash_site: Path) -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    mp.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(crash_site), os.environ.get("PYTHONPATH", "")) if p))
    mp.syspath_prepend(str(crash_site))
    mp.setenv("BREPFLOW_MAX_DASK_WORKERS", "2")
    mp.setenv("BREPFLOW_DASK_MEMORY_LIMIT", MEMORY)
    try:
        yield mp
    finally:
        mp.undo()
        sys.modules.pop("bfl_crashpack", None)
        for node_type in ("Crash::Fragile", "Crash::Pid"):
            catalogue.unregister(node_type)


@pytest.fixture(scope="module")
def cluster(env: pytest.MonkeyPatch) -> Iterator[DaskExecutor]:
    executor = DaskExecutor.local(dashboard=True, warmup=warm_worker)  # size and memory from the limits
    try:
        executor.wait_for_workers(2, timeout=120)
        env.setenv("BREPFLOW_DASK_SCHEDULER", executor.client.scheduler.address)
        yield executor
    finally:
        close_shared()  # the API's default executor (a client of this cluster)
        executor.close()


@pytest.fixture(scope="module")
def registry(env: pytest.MonkeyPatch) -> Registry:
    """A catalogue with the crash pack (loaded through its entry point) and the built-in nodes."""
    reg = Registry()
    assert "Crash::Fragile" in reg, reg.plugin_errors  # the entry point ran register(reg)
    assert reg["Crash::Fragile"].source == "bfl_crashpack"
    for spec in catalogue:
        if not spec.type.startswith("Crash::"):
            reg.register(spec)
    return reg


def fragile_graph(registry: Registry, crash: bool) -> Graph:
    g = Graph(registry=registry, evaluator=Evaluator(registry, cache=MemoryCache()))
    box = g.add("Solid::Box", id="box", width=30, height=20, depth=10)
    fragile = g.add("Crash::Fragile", id="fragile", crash=crash)
    g.connect(box, "shape", fragile, "shape")
    after = g.add("Transform::Move", id="after", offset=(5, 0, 0))
    g.connect(fragile, "shape", after, "shape")
    ball = g.add("Solid::Sphere", id="ball", radius=4)  # an independent branch
    rounded = g.add("Features::Fillet", id="rounded", radius=1, selectAll=True)
    g.connect(box, "shape", rounded, "shape")
    g.add("Crash::Pid", id="pid")
    del ball
    return g


def test_a_node_that_kills_its_worker_fails_alone_and_the_next_evaluation_works(cluster, registry):
    before = set(cluster.workers())
    g = fragile_graph(registry, crash=True)
    r = g.evaluate(isolated=True)  # the default executor: BREPFLOW_DASK_SCHEDULER -> this cluster
    assert r.executor == "dask"
    crash = r.nodes["fragile"]
    assert crash.status == "failed" and crash.error.code is ErrorCode.KERNEL_CRASH
    assert "node 'fragile' (Crash::Fragile)" in str(crash.error) and "crashed" in str(crash.error)
    assert r.nodes["after"].status == "skipped" and r.nodes["after"].error.code is ErrorCode.UPSTREAM_FAILED
    for node_id in ("box", "ball", "rounded", "pid"):
        assert r.nodes[node_id].status == "ok", r.nodes[node_id].error
    assert r["rounded"]["shape"].isValid()
    assert r["pid"]["value"] != os.getpid()  # nodes ran in worker processes; this one lives on
    assert r.stats.failed == 1 and r.stats.skipped == 1
    # the dead worker is replaced by a fresh process
    cluster.wait_for_workers(2, timeout=120)
    after = set(cluster.workers())
    assert len(after) == 2 and after != before
    # and the next evaluation works, in isolation and in this process alike
    g.node("fragile").params["crash"] = False
    r2 = g.evaluate(isolated=True)
    assert r2.ok, r2.errors
    assert r2["after"]["shape"].Volume() == pytest.approx(30 * 20 * 10)
    assert r2.nodes["box"].status == "cached"  # the earlier results came back into the cache
    assert g.evaluate().ok


def test_every_crash_is_isolated_not_just_the_first(cluster, registry):
    g = fragile_graph(registry, crash=True)
    for _ in range(2):
        r = g.evaluate(isolated=True, cache=False)
        assert r.nodes["fragile"].error.code is ErrorCode.KERNEL_CRASH
        assert r.nodes["rounded"].status == "ok"
    cluster.wait_for_workers(2, timeout=120)


def test_without_isolation_the_same_node_takes_its_process_down(crash_site, tmp_path):
    """Why isolation matters: in-process, os.abort() kills the (kernel) process."""
    code = (
        "from brepflow_lab import Graph\n"
        "from brepflow_lab.nodes import Registry, catalogue\n"
        "reg = Registry(); assert 'Crash::Fragile' in reg\n"
        "[reg.register(s) for s in catalogue if not s.type.startswith('Crash::')]\n"
        "g = Graph(registry=reg)\n"
        "b = g.add('Solid::Box'); f = g.add('Crash::Fragile'); g.connect(b, 'shape', f, 'shape')\n"
        "g.evaluate()\n"
        "print('survived')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(crash_site), os.environ.get("PYTHONPATH"))))}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert result.returncode == -signal.SIGABRT and "survived" not in result.stdout


def test_a_sweep_variant_that_crashes_its_worker_is_one_failed_row(cluster, registry):
    g = Graph(registry=registry, evaluator=Evaluator(registry, cache=MemoryCache()))
    g.parameters["w"] = 10
    g.parameters["crash"] = False
    box = g.add("Solid::Box", id="box", width="@w", height=6, depth=4)
    fragile = g.add("Crash::Fragile", id="fragile", crash="@crash")
    g.connect(box, "shape", fragile, "shape")
    matrix = [{"w": 10, "crash": False}, {"w": 11, "crash": True}, {"w": 12, "crash": False}, {"w": 13}]
    table = g.sweep(matrix, progress=False)  # the default executor: this cluster
    assert [v.status for v in table] == ["ok", "failed", "ok", "ok"]
    assert table[1].error_code == "KERNEL_CRASH" and "crashed" in table[1].error_message
    assert [v.volume for v in table if v.ok] == pytest.approx([10 * 24, 12 * 24, 13 * 24])
    assert "Dask dashboard" in table._repr_html_()
    cluster.wait_for_workers(2, timeout=120)


def test_the_hub_limits_size_the_cluster_and_refuse_larger_requests(cluster):
    limit = DaskLimits.from_env()
    assert limit == DaskLimits(max_workers=2, memory_limit=int(1.5 * 2**30))
    workers = cluster.client.scheduler_info()["workers"].values()
    assert len(workers) == 2 and {w["memory_limit"] for w in workers} == {int(1.5 * 2**30)}
    assert "1.50 GiB per worker" in cluster._repr_html_()
    with pytest.raises(DaskLimitError, match=r"3 Dask workers requested, but your limit is 2 \(set by the hub"):
        DaskExecutor.local(workers=3)
    with pytest.raises(
        DaskLimitError, match=r"2.00 GiB of memory per Dask worker requested, but your limit is 1.50 GiB"
    ):
        DaskExecutor.local(workers=1, memory_limit="2GiB")
    with pytest.raises(DaskLimitError, match="BREPFLOW_MAX_DASK_WORKERS='lots' is not a whole number"):
        DaskLimits.from_env({"BREPFLOW_MAX_DASK_WORKERS": "lots"})
    with pytest.raises(
        DaskLimitError, match=r"BREPFLOW_MAX_DASK_WORKERS='-1' must be 0 \(no workers of your own\) or more"
    ):
        DaskLimits.from_env({"BREPFLOW_MAX_DASK_WORKERS": "-1"})
    with pytest.raises(DaskLimitError, match="BREPFLOW_DASK_MEMORY_LIMIT: cannot read 'much'"):
        DaskLimits.from_env({"BREPFLOW_DASK_MEMORY_LIMIT": "much"})
    assert DaskLimits.from_env({}).workers(None) == (os.cpu_count() or 1)
    assert DaskLimits(max_workers=4).memory("512MiB") == 512 * 2**20
    with pytest.raises(ValueError, match="whole number >= 1"):
        DaskLimits().workers(0)


def test_the_notebook_shows_a_link_to_the_dashboard(cluster, registry):
    link = cluster.dashboard_link
    assert link and link.startswith("http://127.0.0.1:") and link.endswith("/status")
    with urllib.request.urlopen(link, timeout=30) as response:  # a real Bokeh dashboard
        assert response.status == 200
        assert "Dask" in response.read().decode("utf-8", errors="replace")
    assert f"href='{link}'" in cluster._repr_html_()
    g = fragile_graph(registry, crash=False)
    r = g.evaluate(executor=cluster)
    assert r.dashboard_link == link
    assert f"href='{link}'" in r._repr_html_() and "on dask" in r._repr_html_()


def test_a_quota_of_no_workers_runs_sweeps_here_and_refuses_a_cluster(monkeypatch, caplog):
    """dask_workers: 0 in the hub quota: no cluster of one's own; sweeps run in this process."""
    from brepflow_lab import Graph
    from brepflow_lab.engine.dask_executor import no_workers_allowed
    from brepflow_lab.engine.executors import SyncExecutor
    from brepflow_lab.sweep import resolve_executor

    monkeypatch.setenv("BREPFLOW_MAX_DASK_WORKERS", "0")
    monkeypatch.delenv("BREPFLOW_DASK_SCHEDULER", raising=False)
    monkeypatch.delenv("BREPFLOW_DASK_GATEWAY", raising=False)
    assert DaskLimits.from_env() == DaskLimits(max_workers=0, memory_limit=DaskLimits.from_env().memory_limit)
    assert no_workers_allowed()
    assert not no_workers_allowed({"BREPFLOW_MAX_DASK_WORKERS": "0", "BREPFLOW_DASK_SCHEDULER": "tcp://x:1"})
    with pytest.raises(
        DaskLimitError, match=r"your hub quota allows no Dask workers of your own .*\(executor='sync'\)"
    ):
        resolve_executor("dask")
    with pytest.raises(DaskLimitError, match="allows no Dask workers"):
        DaskExecutor.local(workers=1)
    with caplog.at_level("WARNING"):
        assert isinstance(resolve_executor(None), SyncExecutor)
    assert "allows no Dask workers of your own" in caplog.text
    g = Graph.new()
    g.parameters.define("w", 10.0)
    g.add("Solid::Box", id="box", width="@w", height=5, depth=5)
    table = g.sweep([{"w": 10}, {"w": 20}], progress=False)
    assert [v.status for v in table] == ["ok", "ok"]
    assert [round(v.volume) for v in table] == [250, 500]
