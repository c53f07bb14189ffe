"""End to end: a real JupyterHub + configurable-http-proxy on 127.0.0.1 with BrepFlowSpawner.

One hub for the whole module (spawns cost ~6 s each, so servers are shared across tests):
alice and bob are designers of team ``t1``, vic is a viewer of ``t1``, carol is a designer
without a team who gets named servers. Every user's server runs as their own Unix account
(``bfq-<name>``) from the shared environment in /opt/brepflow-lab/env, inside a per-user
cgroup (v1 on this machine), with a loop-mounted ext4 home. Quotas are small on purpose
(300M memory, 48M disk) so the tests can cross them quickly.

The hub config here is self-contained (DummyAuthenticator with a test password, a test
admin service token) so these tests exercise the spawner/quota layer on its own; the
production config in hub_config/ wires the same classes.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

if os.geteuid() != 0 or not Path("/sys/fs/cgroup").is_dir() or shutil.which("mkfs.ext4") is None:
    pytest.skip(
        "the BrepFlow spawner needs root (Unix accounts, loop mounts, cgroups under /sys/fs/cgroup) and e2fsprogs: "
        "run the tests as root after `apt-get install e2fsprogs`",
        allow_module_level=True,
    )
if shutil.which("configurable-http-proxy") is None:
    pytest.skip(
        "configurable-http-proxy is missing (a real hub needs its proxy): npm install -g configurable-http-proxy",
        allow_module_level=True,
    )

from brepflow_lab.hub import quota as quotas
from brepflow_lab.hub.users import Layout, ensure_environment, ensure_user, remove_team, remove_user

USER_PREFIX = "bfq-"
TEAM_PREFIX = "bfqt-"
PASSWORD = "correct horse battery"
QUOTAS: dict[str, Any] = {
    "default": {
        "memory": "300M",
        "cpu": 0.5,
        "pids": 256,
        "named_servers": 2,
        "disk": "48M",
        "node_seconds": 30,
        "preview_triangles": 50000,
        "dask_workers": 1,
        "dask_memory": "256M",
    },
    "teams": {"t1": {"team_disk": "32M"}},
    "users": {
        "carol": {"memory": "1G", "cpu": 2.0},
        # dora evaluates graphs on her own Dask worker: the kernel, a worker and its nanny
        # with cadquery loaded need more than the 300M default
        "dora": {"memory": "2G", "cpu": 1.0, "pids": 512, "dask_memory": "900M"},
    },
}
USERS = ("alice", "bob", "carol", "dora", "vic")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONFIG = """
c = get_config()  # noqa
from brepflow_lab.hub import audit
from brepflow_lab.hub.quota import QuotaPageHandler, named_server_limit
audit.configure({audit!r})
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.JupyterHub.db_url = "sqlite:///{root}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{root}/cookie_secret"
c.JupyterHub.pid_file = "{root}/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.allow_named_servers = True
c.JupyterHub.named_server_limit_per_user = named_server_limit
c.JupyterHub.extra_handlers = [(r"/brepflow/quotas", QuotaPageHandler)]
c.JupyterHub.services = [{{"name": "qa-admin", "api_token": {token!r}}}]
c.JupyterHub.load_groups = {{
    "t1": {{"users": ["alice", "bob", "vic"]}},
    "designers": {{"users": ["alice", "bob", "carol", "dora"], "properties": {{"kind": "role"}}}},
    "viewers": {{"users": ["vic"], "properties": {{"kind": "role"}}}},
}}
c.JupyterHub.load_roles = [
    {{"name": "qa-admin", "scopes": ["admin:users", "admin:servers", "admin:groups", "tokens", "admin-ui", "list:users"],
      "services": ["qa-admin"]}},
    {{"name": "designer", "scopes": ["self"], "groups": ["designers"]}},
    {{"name": "viewer", "scopes": ["read:users:name!user", "read:users:groups!user"], "groups": ["viewers"]}},
]
c.JupyterHub.spawner_class = "brepflow_lab.hub.spawner.BrepFlowSpawner"
c.Spawner.start_timeout = 240
c.Spawner.http_timeout = 180
c.Spawner.default_url = "/lab"
c.BrepFlowSpawner.quota_table = {quotas!r}
c.BrepFlowSpawner.home_root = "{root}/home"
c.BrepFlowSpawner.team_root = "{root}/teams"
c.BrepFlowSpawner.disk_root = "{root}/disks"
c.BrepFlowSpawner.env_prefix = {env!r}
c.BrepFlowSpawner.cgroup_parent = {cgroup_parent!r}
c.BrepFlowSpawner.unix_user_prefix = {user_prefix!r}
c.BrepFlowSpawner.unix_team_prefix = {team_prefix!r}
c.BrepFlowSpawner.quota_poll_interval = 0.5
"""


class Hub:
    """A running hub: URLs, tokens and small helpers for the REST API and kernels."""

    def __init__(self, root: Path, port: int, admin_token: str) -> None:
        self.root = root
        self.url = f"http://127.0.0.1:{port}"
        self.admin = {"Authorization": f"token {admin_token}"}
        self.tokens: dict[str, str] = {}
        self.layout = Layout(
            home_root=root / "home",
            team_root=root / "teams",
            disk_root=root / "disks",
            user_prefix=USER_PREFIX,
            team_prefix=TEAM_PREFIX,
        )
        self.audit_log = root / "audit.log"

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"token {token}"} if token else self.admin
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kwargs)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"token {self.tokens[user]}"}

    def server(self, user: str, path: str, *, as_user: str | None = None, method: str = "GET", **kwargs: Any) -> Any:
        return requests.request(
            method, f"{self.url}/user/{user}{path}", headers=self.auth(as_user or user), timeout=120, **kwargs
        )

    def spawn(self, user: str, name: str = "", timeout: float = 240) -> Any:
        path = f"/users/{user}/server" if not name else f"/users/{user}/servers/{name}"
        r = self.api("POST", path, token=self.tokens[user])
        if r.status_code not in (201, 202):
            return r
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            info = self.api("GET", f"/users/{user}").json()
            server = info.get("servers", {}).get(name)
            if server and server.get("ready"):
                return r
            if (not server or not server.get("pending")) and time.monotonic() > started + 3:
                raise AssertionError(f"{user}/{name} failed to start: {info}")
            time.sleep(0.25)
        raise AssertionError(f"{user}/{name} not ready after {timeout} s")

    def audit(self, kind: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        if not self.audit_log.exists():
            return []
        text = self.audit_log.read_text()
        # only whole lines: a record being appended right now is read on the next poll
        complete = text[: text.rfind("\n") + 1]
        events = [json.loads(line) for line in complete.splitlines() if line.strip()]
        return [e for e in events if (kind is None or e["kind"] == kind) and (user is None or e.get("user") == user)]

    def wait_audit(self, kind: str, user: str, timeout: float = 20, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.audit(kind, user):
                if all(event.get(k) == v for k, v in match.items()):
                    return event
            time.sleep(0.2)
        raise AssertionError(f"no {kind} audit event for {user} matching {match}: {self.audit(user=user)}")


class Kernel:
    """A kernel on a user's server, driven over the real websocket channel."""

    def __init__(self, hub: Hub, user: str) -> None:
        self.hub = hub
        self.user = user
        r = hub.server(user, "/api/kernels", method="POST", json={"name": "python3"})
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        ws_url = hub.url.replace("http", "ws") + f"/user/{user}/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {hub.tokens[user]}"], timeout=60)

    def execute(self, code: str, timeout: float = 90) -> dict[str, Any]:
        """Run ``code``; returns stdout, the error (if any) and whether the kernel died."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.user,
                        "session": "test",
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
                    "channel": "shell",
                }
            )
        )
        out: dict[str, Any] = {"stdout": "", "error": None, "died": False}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            kind = msg.get("msg_type") or msg["header"]["msg_type"]
            if kind == "status" and msg["content"]["execution_state"] in ("restarting", "dead"):
                out["died"] = True
                return out
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "stream":
                out["stdout"] += msg["content"]["text"]
            elif kind == "error":
                out["error"] = f"{msg['content']['ename']}: {msg['content']['evalue']}"
            elif kind == "execute_reply":
                return out
        raise AssertionError(f"no reply from {self.user}'s kernel within {timeout} s")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    env = ensure_environment()
    root = Path(tempfile.mkdtemp(prefix="brepflow-hubtest-"))
    os.chmod(root, 0o755)  # homes and team folders below must be reachable by the users' accounts
    port, hub_port, api_port = _free_port(), _free_port(), _free_port()
    token = uuid.uuid4().hex
    cgroup_parent = f"brepflow-test-{os.getpid()}"
    (root / "jupyterhub_config.py").write_text(
        CONFIG.format(
            root=root,
            port=port,
            hub_port=hub_port,
            api_port=api_port,
            audit=str(root / "audit.log"),
            password=PASSWORD,
            token=token,
            quotas=QUOTAS,
            env=str(env),
            cgroup_parent=cgroup_parent,
            user_prefix=USER_PREFIX,
            team_prefix=TEAM_PREFIX,
        )
    )
    log = open(root / "hub.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(root / "jupyterhub_config.py")],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    h = Hub(root, port, token)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if h.api("GET", "/").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"hub did not start:\n{(root / 'hub.log').read_text()[-3000:]}")
            time.sleep(0.2)
        for user in USERS:
            r = h.api("POST", f"/users/{user}/tokens", json={"note": "test"})
            assert r.status_code == 201, r.text
            h.tokens[user] = r.json()["token"]
        yield h
    finally:
        for user in USERS:
            with contextlib.suppress(Exception):
                info = h.api("GET", f"/users/{user}").json()
                for name in info.get("servers", {}):
                    path = f"/users/{user}/server" if not name else f"/users/{user}/servers/{name}"
                    h.api("DELETE", path)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
        shutil.copy(root / "hub.log", Path(tempfile.gettempdir()) / "brepflow-hubtest-last.log")
        cg = quotas.detect_cgroups(parent=cgroup_parent)
        for user in USERS:
            if cg is not None:
                for server in ("", "s1", "s2"):
                    with contextlib.suppress(Exception):
                        cg.remove_server(USER_PREFIX + user, server)
            with contextlib.suppress(Exception):
                remove_user(user, layout=h.layout, delete_data=True)
        with contextlib.suppress(Exception):
            remove_team("t1", layout=h.layout, delete_data=True)
        if cg is not None:
            for d in cg.user_dirs("x"):
                with contextlib.suppress(OSError):
                    d.parent.rmdir()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def designers(hub: Hub) -> Hub:
    """alice and bob, spawned at the same time."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(hub.spawn, ["alice", "bob"]))
    for r in results:
        assert r.status_code in (201, 202), r.text
    return hub


@pytest.fixture(scope="module")
def kernels(designers: Hub) -> Iterator[dict[str, Kernel]]:
    ks = {user: Kernel(designers, user) for user in ("alice", "bob")}
    yield ks
    for k in ks.values():
        k.close()


# --------------------------------------------------------------------------- isolation
def test_each_server_runs_as_its_users_own_account_with_the_quota_env(hub: Hub, kernels: dict[str, Kernel]) -> None:
    out = kernels["alice"].execute(
        "import os, json, pwd\n"
        "print(json.dumps({'user': pwd.getpwuid(os.getuid()).pw_name, 'home': os.path.expanduser('~'),"
        " 'cwd': os.getcwd(), 'cgroup': open('/proc/self/cgroup').read(),"
        " 'env': {k: v for k, v in os.environ.items() if k.startswith(('BREPFLOW_', 'JUPYTER_WIDGETS'))}}))"
    )
    assert out["error"] is None, out
    info = json.loads(out["stdout"])
    assert info["user"] == "bfq-alice"
    assert info["home"] == info["cwd"] == str(hub.layout.home("alice"))
    assert f"brepflow-test-{os.getpid()}/bfq-alice/server" in info["cgroup"]
    env = info["env"]
    assert env["BREPFLOW_MAX_NODE_SECONDS"] == "30"
    assert env["BREPFLOW_MAX_PREVIEW_TRIANGLES"] == "50000"
    assert env["BREPFLOW_MAX_DASK_WORKERS"] == "1"
    assert env["BREPFLOW_DASK_MEMORY_LIMIT"] == str(256 * 1024**2)
    assert env["BREPFLOW_TEAM_DIRS"] == str(hub.layout.team_dir("t1"))
    assert env["JUPYTER_WIDGETS_ECHO"] == "0"
    assert pwd.getpwnam("bfq-alice").pw_uid != pwd.getpwnam("bfq-bob").pw_uid


def test_a_designer_cannot_read_another_designers_home(hub: Hub, kernels: dict[str, Kernel]) -> None:
    bob_home = hub.layout.home("bob")
    r = hub.server(
        "bob",
        "/api/contents/bobs-notes.txt",
        method="PUT",
        json={"type": "file", "format": "text", "content": "secret"},
    )
    assert r.status_code == 201, r.text
    out = kernels["alice"].execute(
        f"import os\ntry:\n    os.listdir({str(bob_home)!r})\nexcept PermissionError as e:\n    print('denied', e.errno)\n"
        f"try:\n    open({str(bob_home / 'bobs-notes.txt')!r}).read()\nexcept PermissionError as e:\n    print('denied', e.errno)"
    )
    assert out["stdout"].split() == ["denied", "13", "denied", "13"], out
    assert oct(os.stat(bob_home).st_mode & 0o777) == "0o700"


def test_a_users_token_cannot_reach_another_users_server(designers: Hub) -> None:
    hub = designers
    assert hub.server("alice", "/api/contents/").status_code == 200
    r = hub.server("bob", "/api/contents/", as_user="alice")
    assert r.status_code == 403, (r.status_code, r.text[:300])
    # nor the kernels of that server
    r = hub.server("bob", "/api/kernels", as_user="alice")
    assert r.status_code == 403
    # and the hub refuses to start or stop someone else's server with it
    assert hub.api("POST", "/users/bob/servers/x", token=hub.tokens["alice"]).status_code in (403, 404)
    assert hub.api("DELETE", "/users/bob/server", token=hub.tokens["alice"]).status_code in (403, 404)


def test_team_folder_is_shared_with_the_team_and_read_only_for_viewers(designers: Hub) -> None:
    hub = designers
    graph = json.dumps({"version": "0.1", "nodes": [], "edges": []})
    r = hub.server(
        "alice",
        "/api/contents/teams/t1/bracket.bflow.json",
        method="PUT",
        json={"type": "file", "format": "text", "content": graph},
    )
    assert r.status_code == 201, r.text
    # bob, a designer in t1, reads it through his own server and can change it
    r = hub.server("bob", "/api/contents/teams/t1/bracket.bflow.json")
    assert r.status_code == 200, r.text
    assert r.json()["content"] == graph
    assert r.json()["writable"] is True
    graph2 = graph.replace("0.1", "0.2")
    r = hub.server(
        "bob",
        "/api/contents/teams/t1/bracket.bflow.json",
        method="PUT",
        json={"type": "file", "format": "text", "content": graph2},
    )
    assert r.status_code == 200, r.text
    assert hub.server("alice", "/api/contents/teams/t1/bracket.bflow.json").json()["content"] == graph2
    graph = graph2
    # vic, a viewer: no server of his own ...
    r = hub.api("POST", "/users/vic/server", token=hub.tokens["vic"])
    assert r.status_code == 403 and "viewers have no server" in r.json()["message"], r.text
    assert not hub.api("GET", "/users/vic").json()["servers"].get("", {}).get("ready")
    # ... and an account in the team's read-only group (how the viewer service reads team folders)
    # reads the folder but cannot write it
    ensure_user("vic", {"t1": "viewer"}, layout=hub.layout, disk_size="16M")
    vic = pwd.getpwnam("bfq-vic")
    target = hub.layout.team_dir("t1") / "bracket.bflow.json"
    code = (
        f"print(open({str(target)!r}).read() == {graph!r})\n"
        "for path, mode in ((%r, 'a'), (%r, 'w')):\n"
        "    try:\n        open(path, mode).write('x')\n    except PermissionError:\n        print('read-only')\n"
    ) % (str(target), str(target.parent / "new.bflow.json"))
    result = subprocess.run(
        ["/usr/bin/python3", "-c", code],
        user=vic.pw_uid,
        group=vic.pw_gid,
        extra_groups=os.getgrouplist("bfq-vic", vic.pw_gid),
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.split() == ["True", "read-only", "read-only"], result.stderr


# --------------------------------------------------------------------------- quotas
def test_memory_quota_kills_only_that_users_kernel(hub: Hub, kernels: dict[str, Kernel]) -> None:
    assert kernels["bob"].execute("y = 41")["error"] is None
    out = kernels["alice"].execute("x = b'\\x01' * (600 * 1024 * 1024)\nprint('survived')", timeout=120)
    assert out["died"], out
    # the hub, alice's server and bob's kernel carry on; bob's variables are still there
    assert hub.api("GET", "/").status_code == 200
    assert hub.server("alice", "/api/status").status_code == 200
    assert kernels["bob"].execute("print(y + 1)")["stdout"].strip() == "42"
    breach = hub.wait_audit("quota_breach", "alice", resource="memory")
    assert breach["limit"] == 300 * 1024**2 and breach["killed"] >= 1 and breach["server"] == ""
    assert not hub.audit("quota_breach", "bob")


def test_cpu_quota_holds_a_busy_kernel_to_its_share(kernels: dict[str, Kernel]) -> None:
    out = kernels["bob"].execute(
        "import time\nw, c = time.perf_counter(), time.process_time()\n"
        "while time.perf_counter() - w < 1.5: pass\n"
        "print((time.process_time() - c) / (time.perf_counter() - w))"
    )
    ratio = float(out["stdout"])
    # quota cpu: 0.5 is a ceiling; on a busy machine the kernel may get less, never much more
    assert 0.02 < ratio < 0.65, ratio


def test_disk_quota_refuses_the_write_with_a_message_and_keeps_saved_files(
    hub: Hub, kernels: dict[str, Kernel]
) -> None:
    keep = {"type": "file", "format": "text", "content": "precious design notes\n"}
    assert hub.server("alice", "/api/contents/notes.txt", method="PUT", json=keep).status_code == 201
    # fill the disk from the kernel (as a big export would), leaving 4 MiB
    out = kernels["alice"].execute(
        "import os\nst = os.statvfs('.')\nfree = st.f_bavail * st.f_frsize\n"
        "with open('filler.bin', 'wb') as f:\n    f.write(b'\\0' * (free - 4 * 1024**2))\nprint(free)"
    )
    assert out["error"] is None, out
    assert int(out["stdout"]) < 48 * 1024**2
    big = base64.b64encode(os.urandom(8 * 1024**2)).decode()
    for name in ("huge.bin", "notes.txt"):  # a new file, and an overwrite of a saved one
        r = hub.server(
            "alice", f"/api/contents/{name}", method="PUT", json={"type": "file", "format": "base64", "content": big}
        )
        assert r.status_code == 507, r.text[:500]
        message = r.json()["message"]
        assert message.startswith("Disk quota exceeded") and "Files already saved were not changed" in message
    assert hub.server("alice", "/api/contents/notes.txt").json()["content"] == keep["content"]
    names = {item["name"] for item in hub.server("alice", "/api/contents/").json()["content"]}
    assert "huge.bin" not in names and "notes.txt" in names
    # writes from the kernel hit the same hard limit
    out = kernels["alice"].execute("open('more.bin', 'wb').write(b'\\1' * 8 * 1024**2)")
    assert out["error"] is not None and "No space left on device" in out["error"]
    usage = quotas.usage("alice", layout=hub.layout, cgroups=None)
    assert usage["disk"]["total"] <= 48 * 1024**2
    hub.wait_audit("quota_breach", "alice", resource="disk", path="huge.bin")
    assert hub.server("alice", "/api/contents/filler.bin", method="DELETE").status_code == 204


def test_a_third_named_server_is_refused(hub: Hub) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda name: hub.spawn("carol", name), ["s1", "s2"]))
    assert all(r.status_code in (201, 202) for r in results)
    r = hub.api("POST", "/users/carol/servers/s3", token=hub.tokens["carol"])
    assert r.status_code == 400
    assert "maximum of 2 named servers" in r.json()["message"]
    # both named servers share carol's one cgroup budget (1G from users.carol)
    use = quotas.usage("carol", layout=hub.layout, cgroups=quotas.detect_cgroups(parent=f"brepflow-test-{os.getpid()}"))
    assert sorted(use["servers"]) == ["s1", "s2"]
    assert use["memory"]["limit"] == 1024**3


def test_stop_kills_every_process_of_the_server_and_removes_its_cgroup(hub: Hub) -> None:
    cg = quotas.detect_cgroups(parent=f"brepflow-test-{os.getpid()}")
    assert cg is not None
    # an orphan: a process that left the server's process tree but stays in its cgroup
    r = hub.server("carol/s1", "/api/kernels", as_user="carol", method="POST", json={"name": "python3"})
    assert r.status_code == 201
    procs_before = cg.procs("bfq-carol", "s1")
    assert len(procs_before) >= 2
    r = hub.api("DELETE", "/users/carol/servers/s1", token=hub.tokens["carol"])
    assert r.status_code in (202, 204)
    deadline = time.monotonic() + 30
    while hub.api("GET", "/users/carol").json()["servers"].get("s1") and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in procs_before:
        assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/status").read_text().find("zombie") >= 0
    assert not any(d.exists() for d in cg.server_dirs("bfq-carol", "s1"))
    assert any(d.exists() for d in cg.server_dirs("bfq-carol", "s2"))
    stop = hub.wait_audit("stop", "carol", server="s1")
    assert stop["unix_user"] == "bfq-carol"


def test_spawns_are_audited(designers: Hub) -> None:
    hub = designers
    for user in ("alice", "bob"):
        event = hub.wait_audit("spawn", user, server="")
        assert event["unix_user"] == f"bfq-{user}" and event["cgroup"] == "v1"
        assert event["quota"]["memory"] == "300 MiB"


def test_admin_quota_page_lists_limits_and_live_usage(designers: Hub) -> None:
    hub = designers
    r = requests.get(f"{hub.url}/hub/brepflow/quotas?format=json", headers=hub.admin, timeout=30)
    assert r.status_code == 200, r.text[:300]
    rows = {row["user"]: row for row in r.json()}
    assert rows["alice"]["quota"]["memory"] == 300 * 1024**2
    assert rows["alice"]["usage"]["memory"]["used"] > 10 * 1024**2
    assert rows["alice"]["teams"] == ["t1"]
    html = requests.get(f"{hub.url}/hub/brepflow/quotas", headers=hub.admin, timeout=30)
    assert html.status_code == 200 and 'id="brepflow-quotas"' in html.text and "alice" in html.text
    # a designer may not see everyone's quotas
    r = requests.get(f"{hub.url}/hub/brepflow/quotas?format=json", headers=hub.auth("bob"), timeout=30)
    assert r.status_code == 403


RUNAWAY = """
import json, os, time
from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.nodes import OutputSpec, ParamSpec, Registry, catalogue, node
from brepflow_lab.sweep import resolve_executor

out = {"limit": os.environ.get("BREPFLOW_MAX_NODE_SECONDS")}
g = Graph.new()
g.add("Solid::Box", id="box", width=10, height=20, depth=30)
r = g.evaluate()
out.update(executor=r.executor, volume=r["box"]["shape"].Volume(), valid=r["box"]["shape"].isValid())
workers = resolve_executor("dask").client.run(os.getpid)
out["workers"] = [{"uid": os.stat(f"/proc/{pid}").st_uid, "cgroup": open(f"/proc/{pid}/cgroup").read()}
                  for pid in workers.values()]

reg = Registry()
reg._loaded = True
for spec in catalogue:
    reg.register(spec)

@node("Test::Nap", outputs=[OutputSpec("value", "Number")], params=[ParamSpec("seconds", default=1.0)], registry=reg)
def nap(ctx, inputs, params):
    time.sleep(params["seconds"])
    return {"value": params["seconds"]}

os.environ["BREPFLOW_MAX_NODE_SECONDS"] = "3"  # this test's limit; the quota's is 30 s
slow = Graph(registry=reg, evaluator=Evaluator(reg, cache=MemoryCache()))
slow.add("Test::Nap", id="nap", seconds=600)
t = time.perf_counter()
r = slow.evaluate()
out["nap"] = {"status": r.nodes["nap"].status, "code": r.nodes["nap"].error.code.value,
              "message": str(r.nodes["nap"].error), "seconds": time.perf_counter() - t}
g.node("box").params["width"] = 20
r = g.evaluate()  # on the worker that replaced the stopped one
out["after"] = {"ok": r.ok, "volume": r["box"]["shape"].Volume()}
print(json.dumps(out))
"""


def test_graphs_evaluate_on_the_users_own_dask_worker_where_a_runaway_node_times_out(hub: Hub) -> None:
    """The hub's per-node limit end to end: the kernel runs nodes on a Dask worker it starts
    as the user, inside the user's cgroup; a node past the limit fails with TIMEOUT."""
    r = hub.spawn("dora")
    assert r.status_code in (201, 202), r.text
    kernel = Kernel(hub, "dora")
    try:
        out = kernel.execute(RUNAWAY, timeout=240)
    finally:
        kernel.close()
    assert out["error"] is None and not out["died"], out
    info = json.loads(out["stdout"].strip().splitlines()[-1])
    assert info["limit"] == "30"  # from the quota
    assert info["executor"] == "dask" and info["valid"] and abs(info["volume"] - 6000) < 1e-6
    uid = pwd.getpwnam("bfq-dora").pw_uid
    assert info["workers"] and all(w["uid"] == uid for w in info["workers"])
    assert all(f"brepflow-test-{os.getpid()}/bfq-dora/server" in w["cgroup"] for w in info["workers"])
    nap = info["nap"]
    assert nap["status"] == "failed" and nap["code"] == "TIMEOUT", nap
    assert (
        "node 'nap' (Test::Nap): ran longer than the 3 s limit per node (BREPFLOW_MAX_NODE_SECONDS)" in nap["message"]
    )
    assert nap["seconds"] < 3 + 15, nap
    assert info["after"] == {"ok": True, "volume": pytest.approx(12000)}
