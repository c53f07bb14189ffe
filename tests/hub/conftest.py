"""A real JupyterHub + configurable-http-proxy on 127.0.0.1 for the hub tests.

``start_hub(tmp, overrides)`` writes a ``hub.yaml`` (temporary state dir, team and home folders,
free ports) merged with the test's ``overrides``, creates the bootstrap admin account, starts
``jupyterhub -f hub_config/jupyterhub_config.py`` in its own session and waits for the API.
``Hub.stop()`` sends SIGTERM (JupyterHub then stops the proxy, the servers it spawned and its
managed services) and kills whatever of the hub's process tree is left after 30 s, so nothing
outlives a test even when it fails.

Servers are spawned with JupyterHub's SimpleLocalProcessSpawner here (``spawner.kind: simple``,
every server as root in the team folder): BrepFlowSpawner needs the shared environment under
/opt and per-user Unix accounts, which H-quota's tests (test_spawner*, test_isolation*) build and
exercise; these tests are about authentication, roles, audit, the viewer and backups.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
HUB_CONFIG = ROOT / "hub_config" / "jupyterhub_config.py"
ADMIN_PASSWORD = "Adm1n-correct-horse-battery"

if shutil.which("configurable-http-proxy") is None:  # pragma: no cover - installed by .ci/run (npm)
    pytest.skip("configurable-http-proxy is missing: npm install -g configurable-http-proxy", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass
class Hub:
    root: Path
    config_path: Path
    settings: dict[str, Any]
    proc: subprocess.Popen[bytes] | None = None
    admin_token: str = ""
    log_path: Path = field(default_factory=Path)

    # -- places --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings['hub']['port']}/"

    @property
    def api(self) -> str:
        return self.url + "hub/api"

    @property
    def state_dir(self) -> Path:
        return Path(self.settings["hub"]["state_dir"])

    @property
    def team_root(self) -> Path:
        return Path(self.settings["storage"]["team_root"])

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "audit.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> Hub:
        env = dict(os.environ)
        env["BREPFLOW_HUB_CONFIG"] = str(self.config_path)
        env.pop("BREPFLOW_HUB_OVERRIDES", None)
        self.log_path = self.root / f"hub-{int(time.time() * 1000)}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG)],
                cwd=self.state_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited with {self.proc.returncode}:\n{self.log()[-6000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.api, timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            self.stop()
            raise TimeoutError(f"the hub did not answer within {timeout} s:\n{self.log()[-6000:]}")
        if self.admin_token == "" and self.settings["authentication"]["type"] == "local":
            self.admin_token = self.token_for("admin", ADMIN_PASSWORD)
        return self

    def stop(self, timeout: float = 30) -> None:
        if self.proc is None:
            return
        try:
            tree = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for child in tree:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(tree, timeout=10)
        self.proc = None

    # -- HTTP ----------------------------------------------------------------------------------
    def token_for(self, name: str, password: str) -> str:
        r = requests.post(
            f"{self.api}/users/{name}/tokens",
            json={"auth": {"username": name, "password": password}, "note": "test"},
            timeout=30,
        )
        assert r.status_code == 201, (r.status_code, r.text)
        return str(r.json()["token"])

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        kwargs.setdefault("timeout", 60)
        return requests.request(method, self.api + path, headers=headers, **kwargs)

    def login(self, name: str, password: str) -> tuple[requests.Session, requests.Response]:
        """The browser's form login: GET /hub/login for the _xsrf cookie, then POST."""
        s = requests.Session()
        s.get(self.url + "hub/login", timeout=30)
        r = s.post(
            self.url + "hub/login",
            data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf", "")},
            allow_redirects=False,
            timeout=30,
        )
        return s, r

    def events(self, **match: Any) -> list[dict[str, Any]]:
        if not self.audit_log.exists():
            return []
        out = []
        for line in self.audit_log.read_text().splitlines():
            event = json.loads(line)
            if all(event.get(k) == v for k, v in match.items()):
                out.append(event)
        return out

    def wait_for(self, predicate: Any, timeout: float = 30, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"timed out after {timeout} s waiting for {what}\n{self.log()[-3000:]}")

    def spawn(self, name: str, token: str, timeout: float = 90) -> None:
        r = self.call("POST", f"/users/{name}/server", token=token)
        assert r.status_code in (201, 202), (r.status_code, r.text)

        def ready() -> bool:
            model = self.call("GET", f"/users/{name}").json()
            server = model.get("servers", {}).get("")
            return bool(server and server.get("ready"))

        self.wait_for(ready, timeout, f"{name}'s server")


def base_settings(root: Path) -> dict[str, Any]:
    state = root / "state"
    return {
        "hub": {
            "port": free_port(),
            "hub_port": free_port(),
            "proxy_api_port": free_port(),
            "state_dir": str(state),
            "log_level": "INFO",
        },
        "authentication": {"type": "local", "local": {"max_failed_logins": 3, "lockout_seconds": 600}},
        "teams": {
            "engineering": {"description": "Enclosures", "members": []},
            "marketing": {"description": "Renders", "members": []},
        },
        "storage": {
            "team_root": str(root / "teams"),
            "home_root": str(root / "homes"),
            "disk_root": str(root / "disks"),
        },
        "viewer": {"port": free_port(), "render_timeout": 120},
        "culler": {"enabled": True, "timeout": 3600, "every": 600},
        "spawner": {
            "kind": "simple",
            "notebook_dir": str(root / "teams"),
            "environment": {"BREPFLOW_TEAM_ROOT": str(root / "teams")},
            "start_timeout": 90,
            "http_timeout": 60,
        },
    }


def make_hub(root: Path, overrides: dict[str, Any] | None = None, *, admin: bool = True) -> Hub:
    """Write hub.yaml (and the admin account) under ``root``; the hub is not started yet."""
    from brepflow_lab.hub.accounts import AccountStore
    from brepflow_lab.hub.config import load_settings

    root.mkdir(parents=True, exist_ok=True)
    settings = merge(base_settings(root), overrides or {})
    config_path = root / "hub.yaml"
    config_path.write_text(yaml.safe_dump(settings, sort_keys=False))
    loaded = load_settings(config_path)  # fail here, with every problem, rather than in the hub
    loaded.state_dir.mkdir(parents=True, exist_ok=True)
    for folder in ("teams", "homes"):
        (root / folder).mkdir(exist_ok=True)
    for team in settings.get("teams", {}):
        (root / "teams" / team).mkdir(exist_ok=True)
    if admin and loaded.authentication.type == "local":
        store = AccountStore(loaded.db_url)
        store.set_password("admin", ADMIN_PASSWORD, by="test")
        store.dispose()
    return Hub(root=root, config_path=config_path, settings=settings)


@contextlib.contextmanager
def running_hub(root: Path, overrides: dict[str, Any] | None = None) -> Iterator[Hub]:
    hub = make_hub(root, overrides)
    try:
        yield hub.start()
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def hub_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``hub_factory(overrides)`` → a started Hub, stopped at the end of the module."""
    started: list[Hub] = []

    def factory(overrides: dict[str, Any] | None = None, name: str = "hub") -> Hub:
        hub = make_hub(tmp_path_factory.mktemp(name), overrides)
        started.append(hub)
        return hub.start()

    yield factory
    for hub in started:
        hub.stop()
