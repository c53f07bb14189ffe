"""`brepflow-lab hub` starts JupyterHub + proxy; Ctrl-C / SIGTERM stops the proxy and every server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import requests

from .conftest import ADMIN_PASSWORD, ROOT, free_port, make_hub


def _start_cli(hub, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("BREPFLOW_HUB_CONFIG", None)
    log = (hub.root / "cli.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "--config", str(hub.config_path), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the CLI exited early"
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "hub/api", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(url)


def _stop_and_check(hub, proc: subprocess.Popen[bytes], signum: int) -> None:
    tree = psutil.Process(proc.pid).children(recursive=True)
    names = " ".join(" ".join(p.cmdline()) for p in tree)
    assert "configurable-http-proxy" in names and "jupyterhub" in names
    started = time.monotonic()
    proc.send_signal(signum)
    try:
        code = proc.wait(60)
    finally:
        leftover = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        for p in leftover:
            p.kill()
    assert code == 0, (hub.root / "cli.log").read_text()[-3000:]
    assert leftover == [], [p.cmdline() for p in leftover]
    assert time.monotonic() - started < 30
    assert not (hub.state_dir / "jupyterhub.pid").exists()


def test_ctrl_c_stops_hub_proxy_services_and_servers(tmp_path):
    hub = make_hub(tmp_path / "cli", {})
    port = hub.settings["hub"]["port"]
    proc = _start_cli(hub, port)
    try:
        _wait_up(hub.url, proc)
        hub.admin_token = hub.token_for("admin", ADMIN_PASSWORD)
        hub.spawn("admin", hub.admin_token)
        server = [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "jupyterhub-singleuser" in " ".join(p.cmdline())
        ]
        assert server, "no single-user server process"
        _stop_and_check(hub, proc, signal.SIGINT)
        assert not any(p.is_running() for p in server)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_stops_the_hub_and_the_culler_stops_idle_servers(tmp_path):
    """Also: --port overrides hub.yaml, and the idle culler (a managed service) stops an idle
    server. With a 30 s timeout the activity interval is lowered to 10 s (timeout/3)."""
    hub = make_hub(tmp_path / "cli2", {"culler": {"timeout": 30, "every": 5}})
    port = free_port()
    proc = _start_cli(hub, port)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_up(url, proc)
        assert requests.get(url + "hub/health", timeout=10).status_code == 200
        hub.settings["hub"]["port"] = port
        hub.admin_token = hub.token_for("admin", ADMIN_PASSWORD)
        hub.spawn("admin", hub.admin_token)
        started = time.monotonic()
        hub.wait_for(lambda: hub.call("GET", "/users/admin").json()["servers"] == {}, 120, "the culler")
        culled_after = time.monotonic() - started
        assert 20 < culled_after < 120, culled_after
        log = (hub.root / "cli.log").read_text()
        assert "DELETE /hub/api/users/admin/server (idle-culler@" in log
        cullers = [
            p.cmdline()
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "jupyterhub_idle_culler" in p.cmdline()
        ]
        assert cullers and "--timeout=30" in cullers[0]
        _stop_and_check(hub, proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
