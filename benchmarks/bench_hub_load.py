"""Hub load: N users log in and spawn their servers at the same time.

    python benchmarks/bench_hub_load.py [--users 20] [--keep-going]

Starts a real JupyterHub + configurable-http-proxy on 127.0.0.1 with BrepFlowSpawner
(every user gets a Unix account, a loop-mounted home, a cgroup; servers run from
/opt/brepflow-lab/env), then for each of N users, all at once: form login (GET /hub/login
for the _xsrf cookie, POST the password), a token made with the login session, a spawn
followed on the hub's progress stream until ready. Meanwhile a prober calls
``GET /hub/api/user`` every 100 ms. Prints p50/p95 of login, spawn-to-ready and API latency
during the storm, and the API latency ratio storm/idle (idle measured first, same process).
Everything it creates (hub, servers, accounts, mounts, cgroups) is removed at the end.
Needs root, e2fsprogs and cgroups, like the hub itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from brepflow_lab.hub import quota as quotas
from brepflow_lab.hub.users import Layout, ensure_environment, remove_team, remove_user

PASSWORD = "load-test-password"
CONFIG = """
c = get_config()  # noqa
from brepflow_lab.hub import audit
from brepflow_lab.hub.quota import named_server_limit
audit.configure({audit!r})
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.JupyterHub.db_url = "sqlite:///{root}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{root}/cookie_secret"
c.JupyterHub.pid_file = "{root}/hub.pid"
c.JupyterHub.log_level = "WARN"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.named_server_limit_per_user = named_server_limit
c.JupyterHub.services = [{{"name": "bench-admin", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "bench-admin", "scopes": ["admin:users", "admin:servers"], "services": ["bench-admin"]}}]
c.JupyterHub.load_groups = {groups!r}
c.JupyterHub.spawner_class = "brepflow_lab.hub.spawner.BrepFlowSpawner"
c.Spawner.start_timeout = 600
c.Spawner.http_timeout = 600
c.BrepFlowSpawner.quota_table = {{"default": {{"memory": "1G", "cpu": 1.0, "disk": "256M"}}}}
c.BrepFlowSpawner.home_root = "{root}/home"
c.BrepFlowSpawner.team_root = "{root}/teams"
c.BrepFlowSpawner.disk_root = "{root}/disks"
c.BrepFlowSpawner.env_prefix = {env!r}
c.BrepFlowSpawner.cgroup_parent = {cgroup_parent!r}
c.BrepFlowSpawner.unix_user_prefix = "bfb-"
c.BrepFlowSpawner.unix_team_prefix = "bfbt-"
"""
TEAMS = ("alpha", "beta")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def login_and_spawn(url: str, user: str) -> dict[str, Any]:
    """Form login, a token from the session, spawn, wait on the progress stream."""
    s = requests.Session()
    t0 = time.perf_counter()
    s.get(f"{url}/hub/login", timeout=120)
    r = s.post(
        f"{url}/hub/login",
        data={"username": user, "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")},
        allow_redirects=False,
        timeout=120,
    )
    login = time.perf_counter() - t0
    if r.status_code != 302:
        raise RuntimeError(f"login of {user} failed: {r.status_code} {r.text[:200]}")
    xsrf = {"X-XSRFToken": s.cookies.get("_xsrf", "")}
    r = s.post(f"{url}/hub/api/users/{user}/tokens", json={"note": "bench"}, headers=xsrf, timeout=120)
    r.raise_for_status()
    auth = {"Authorization": f"token {r.json()['token']}"}
    t1 = time.perf_counter()
    r = requests.post(f"{url}/hub/api/users/{user}/server", headers=auth, timeout=600)
    if r.status_code not in (201, 202):
        raise RuntimeError(f"spawn of {user} refused: {r.status_code} {r.text[:200]}")
    with requests.get(f"{url}/hub/api/users/{user}/server/progress", headers=auth, stream=True, timeout=600) as events:
        for line in events.iter_lines():
            if line.startswith(b"data:"):
                event = json.loads(line[5:])
                if event.get("ready"):
                    break
                if event.get("failed"):
                    raise RuntimeError(f"spawn of {user} failed: {event.get('message')}")
    spawn = time.perf_counter() - t1
    r = requests.get(f"{url}/user/{user}/api/status", headers=auth, timeout=120)
    r.raise_for_status()
    return {"user": user, "login": login, "spawn": spawn, "auth": auth}


def probe(url: str, auth: dict[str, str], stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        requests.get(f"{url}/hub/api/user", headers=auth, timeout=120).raise_for_status()
        out.append(time.perf_counter() - t0)
        stop.wait(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (Unix accounts, loop mounts, cgroups)", file=sys.stderr)
        return 2
    env = ensure_environment(echo=print)
    users = [f"load{i:02d}" for i in range(1, args.users + 1)]
    root = Path(tempfile.mkdtemp(prefix="brepflow-hubload-"))
    os.chmod(root, 0o755)
    port, hub_port, api_port = free_port(), free_port(), free_port()
    token = uuid.uuid4().hex
    cgroup_parent = f"brepflow-bench-{os.getpid()}"
    groups = {team: {"users": users[i :: len(TEAMS)]} for i, team in enumerate(TEAMS)}
    (root / "jupyterhub_config.py").write_text(
        CONFIG.format(
            root=root,
            port=port,
            hub_port=hub_port,
            api_port=api_port,
            audit=str(root / "audit.log"),
            password=PASSWORD,
            token=token,
            groups=groups,
            env=str(env),
            cgroup_parent=cgroup_parent,
        )
    )
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"token {token}"}
    layout = Layout(root / "home", root / "teams", root / "disks", user_prefix="bfb-", team_prefix="bfbt-")
    log = open(root / "hub.log", "wb")  # noqa: SIM115 - closed below
    hub = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(root / "jupyterhub_config.py")],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        t0 = time.perf_counter()
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{url}/hub/api/", timeout=5).status_code == 200:
                    break
            if hub.poll() is not None or time.perf_counter() - t0 > 60:
                raise RuntimeError((root / "hub.log").read_text()[-2000:])
            time.sleep(0.2)
        print(f"hub up in {time.perf_counter() - t0:.1f} s; {len(users)} users, 2 cores")

        idle: list[float] = []
        stop = threading.Event()
        probe_auth = admin
        for _ in range(50):
            t1 = time.perf_counter()
            requests.get(f"{url}/hub/api/user", headers=admin, timeout=30).raise_for_status()
            idle.append(time.perf_counter() - t1)
        storm: list[float] = []
        prober = threading.Thread(target=probe, args=(url, probe_auth, stop, storm), daemon=True)
        t_storm = time.perf_counter()
        prober.start()
        with ThreadPoolExecutor(len(users)) as pool:
            results = list(pool.map(lambda u: login_and_spawn(url, u), users))
        all_ready = time.perf_counter() - t_storm
        stop.set()
        prober.join(10)

        logins = [r["login"] for r in results]
        spawns = [r["spawn"] for r in results]
        print(f"all {len(users)} servers ready in {all_ready:.1f} s")
        print(f"login              p50 {pct(logins, 0.5) * 1000:7.0f} ms   p95 {pct(logins, 0.95) * 1000:7.0f} ms")
        print(f"spawn to ready     p50 {pct(spawns, 0.5):7.1f} s    p95 {pct(spawns, 0.95):7.1f} s")
        print(
            f"hub API (idle)     p50 {pct(idle, 0.5) * 1000:7.1f} ms   p95 {pct(idle, 0.95) * 1000:7.1f} ms"
            f"   ({len(idle)} calls)"
        )
        print(
            f"hub API (storm)    p50 {pct(storm, 0.5) * 1000:7.1f} ms   p95 {pct(storm, 0.95) * 1000:7.1f} ms"
            f"   ({len(storm)} calls)"
        )
        print(
            f"ratio storm/idle   p50 {pct(storm, 0.5) / pct(idle, 0.5):7.1f}x    "
            f"p95 {pct(storm, 0.95) / pct(idle, 0.95):7.1f}x"
        )
        page = requests.get(f"{url}/hub/api/users", headers=admin, timeout=60).json()
        running = sum(1 for u in page if u.get("servers", {}).get("", {}).get("ready"))
        print(f"servers running: {running}/{len(users)}; mean spawn {statistics.mean(spawns):.1f} s")
        return 0 if running == len(users) else 1
    finally:

        def stop_server(user: str) -> None:
            with contextlib.suppress(Exception):
                requests.delete(f"{url}/hub/api/users/{user}/server", headers=admin, timeout=120)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(stop_server, users))
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait(10)
        log.close()
        cg = quotas.detect_cgroups(parent=cgroup_parent)
        for user in users:
            with contextlib.suppress(Exception):
                if cg is not None:
                    cg.remove_server("bfb-" + user, "")
            with contextlib.suppress(Exception):
                remove_user(user, layout=layout, delete_data=True)
        for team in TEAMS:
            with contextlib.suppress(Exception):
                remove_team(team, layout=layout, delete_data=True)
        if cg is not None:
            for d in cg.user_dirs("x"):
                with contextlib.suppress(OSError):
                    d.parent.rmdir()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
