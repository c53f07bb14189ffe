"""The Dask executor on a real dask-gateway (the kind a team runs behind JupyterHub).

A ``dask-gateway-server`` runs for this module on 127.0.0.1 (UnsafeLocalBackend: workers
are local processes; SimpleAuthenticator with a password; a ``worker_memory`` option as
deployments usually offer) and is stopped in teardown. The graphs are the same as
everywhere else: only the environment says which cluster to use.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dask_gateway  # the [test] extra installs dask-gateway and dask-gateway-server
import dask_gateway_server  # noqa: F401
import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.engine.dask_executor import DaskExecutor, DaskLimitError, _close_gateway, close_shared
from brepflow_lab.kernel.hashing import fingerprint
from brepflow_lab.nodes import catalogue
from brepflow_lab.sweep import warm_worker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "enclosure.bflow.json"
PASSWORD = "s3cret"

CONFIG = """
from dask_gateway_server.options import Float, Options

c.DaskGateway.address = "127.0.0.1:{api}"
c.Proxy.address = "127.0.0.1:{proxy}"
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
c.SimpleAuthenticator.password = "{password}"
# dask-gateway 2026.3's default commands were removed in distributed 2026.6
c.ClusterConfig.scheduler_cmd = ["{python}", "-m", "distributed.cli.dask_scheduler"]
c.ClusterConfig.worker_cmd = ["{python}", "-m", "distributed.cli.dask_worker"]
c.ClusterConfig.worker_cores = 1
c.ClusterConfig.cluster_max_workers = 2
c.Backend.cluster_options = Options(
    Float("worker_memory", 1, min=0.25, max=4, label="Worker memory (GiB)"),
    handler=lambda options: {{"worker_memory": int(options.worker_memory * 2**30)}},
)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("gateway")
    api, proxy = free_port(), free_port()
    config = folder / "dask_gateway_config.py"
    config.write_text(CONFIG.format(api=api, proxy=proxy, password=PASSWORD, python=sys.executable), encoding="utf-8")
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dask_gateway_server", "-f", str(config)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{proxy}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{address}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask-gateway-server did not start:\n" + (folder / "server.log").read_text())
            time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


def auth() -> object:
    from dask_gateway.auth import BasicAuth

    return BasicAuth("designer", PASSWORD)


@pytest.fixture(scope="module")
def executor(gateway: str) -> Iterator[DaskExecutor]:
    ex = DaskExecutor.gateway(gateway, auth=auth(), workers=2, memory_limit="1GiB", warmup=warm_worker)
    try:
        ex.wait_for_workers(2, timeout=180)
        yield ex
    finally:
        ex.close()


def test_a_gateway_cluster_evaluates_the_same_geometry(executor):
    assert executor.kind == "gateway" and len(executor.workers()) == 2
    memory = {w["memory_limit"] for w in executor.client.scheduler_info()["workers"].values()}
    assert memory == {2**30}  # the memory request reached the gateway's worker_memory option
    local = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache()))
    remote = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache(), executor=executor))
    a, b = local.evaluate(parameters={"L": 130}), remote.evaluate(parameters={"L": 130})
    assert a.ok and b.ok and b.executor == "dask"
    assert fingerprint(a["enclosure"]["shape"]) == fingerprint(b["enclosure"]["shape"])
    table = local.sweep([{"W": 60}, {"W": 70}, {"W": 90}], executor=executor, progress=False)
    assert [v.status for v in table] == ["ok", "ok", "ok"]
    assert [v.bbox[4] for v in table] == pytest.approx([60, 70, 90])


def test_the_dashboard_link_goes_through_the_gateway(executor):
    link = executor.dashboard_link
    assert link and "/clusters/" in link and link.endswith("/status")
    assert f"href='{link}'" in executor._repr_html_() and "gateway cluster" in executor._repr_html_()


def test_the_environment_points_unchanged_graphs_at_the_gateway(gateway, executor, monkeypatch):
    """What the hub does: BREPFLOW_DASK_GATEWAY plus dask-gateway's own config (auth)."""
    import dask

    monkeypatch.setenv("BREPFLOW_DASK_GATEWAY", gateway)
    monkeypatch.setenv("BREPFLOW_MAX_DASK_WORKERS", "1")
    monkeypatch.setenv("DASK_GATEWAY__AUTH__TYPE", "basic")
    monkeypatch.setenv("DASK_GATEWAY__AUTH__KWARGS__USERNAME", "analyst")
    monkeypatch.setenv("DASK_GATEWAY__AUTH__KWARGS__PASSWORD", PASSWORD)
    dask.config.refresh()
    try:
        g = Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache()))
        r = g.evaluate(isolated=True, parameters={"H": 35})
        assert r.ok and r.executor == "dask" and r.dashboard_link and "/clusters/" in r.dashboard_link
        assert r["enclosure"]["shape"].BoundingBox().zlen == pytest.approx(35)
        designer = dask_gateway.Gateway(gateway, auth=auth())
        try:
            assert len(designer.list_clusters()) == 1  # the analyst's cluster is the analyst's alone
        finally:
            _close_gateway(designer)
    finally:
        close_shared()  # shuts the analyst's gateway cluster down
        monkeypatch.undo()
        dask.config.refresh()
    monkeypatch.setenv("BREPFLOW_MAX_DASK_WORKERS", "1")
    with pytest.raises(DaskLimitError, match="2 Dask workers requested, but your limit is 1"):
        DaskExecutor.gateway(gateway, auth=auth(), workers=2)  # refused before any cluster starts
