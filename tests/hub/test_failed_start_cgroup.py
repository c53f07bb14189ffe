"""A server that fails to start leaves no cgroup behind (issue 11, item 2's tail).

The hub runs as in production (hub_config, local accounts, ``spawner.kind: brepflow``: the user's
own Unix account, a loop-mounted home, a cgroup per server under ``/sys/fs/cgroup/<controller>/
brepflow/bf-<user>/server``, the shared environment in /opt/brepflow-lab/env). A designer's home
holds what a half-restored hub left there: ``~/.local`` owned by root, mode 0700, so Jupyter
Server dies at start on "Permission denied: .../.local/share/jupyter/runtime". JupyterHub then
polls the dead process and, since it has already exited, never calls the spawner's ``stop()``:
the cgroup the spawner created stayed, with its limits, until the next start of that user.

Checked: after the failed start no ``brepflow/bf-<user>`` cgroup is left in any hierarchy (and
the failure is in the audit log); after the home is repaired the same user's server starts (its
cgroup there, with the server's process in it) and stops with the cgroup removed again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

if os.geteuid() != 0 or not Path("/sys/fs/cgroup").is_dir() or shutil.which("mkfs.ext4") is None:
    pytest.skip(
        "BrepFlowSpawner needs root (Unix accounts, loop mounts, cgroups under /sys/fs/cgroup) and e2fsprogs: "
        "run the tests as root after `apt-get install e2fsprogs`",
        allow_module_level=True,
    )

from brepflow_lab.hub import disk
from brepflow_lab.hub import quota as quotas
from brepflow_lab.hub.accounts import AccountStore
from brepflow_lab.hub.users import (
    DEFAULT_ENV_PREFIX,
    Layout,
    ensure_environment,
    ensure_user,
    remove_team,
    remove_user,
    unix_name,
)

from .conftest import Hub, make_hub

PASSWORD = "Extruded-Profile-31"
USER = "cgleak"  # Unix account bf-cgleak (the production prefix and cgroup parent)
TEAM = "cgteam"


def layout_of(hub: Hub) -> Layout:
    storage = hub.settings["storage"]
    return Layout(
        home_root=Path(storage["home_root"]),
        team_root=Path(storage["team_root"]),
        disk_root=Path(storage["disk_root"]),
    )


def leftover_cgroups() -> list[Path]:
    """Every cgroup of the user under the spawner's parent, in every hierarchy (v1 and v2)."""
    base = Path("/sys/fs/cgroup")
    candidates = [base / "brepflow" / unix_name(USER), *base.glob(f"*/brepflow/{unix_name(USER)}")]
    return [p for p in candidates if p.is_dir()]


def server_state(hub: Hub) -> dict[str, object] | None:
    return hub.call("GET", f"/users/{USER}").json().get("servers", {}).get("")


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    if not (Path(DEFAULT_ENV_PREFIX) / "bin" / "jupyterhub-singleuser").exists():
        ensure_environment()
    base = Path(tempfile.mkdtemp(prefix="brepflow-failedstart-"))
    os.chmod(base, 0o755)  # the user's account reaches its home and team folder below
    hub = make_hub(
        base,
        {
            "teams": {TEAM: {"description": "Failed start", "members": []}},
            "spawner": {"kind": "brepflow", "notebook_dir": "", "environment": {}, "start_timeout": 120},
            "quotas": {"default": {"disk": "24M", "memory": "1G", "dask_memory": "256M", "dask_workers": 1}},
        },
    )
    try:
        hub.start()
        store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
        try:
            store.set_password(USER, PASSWORD, by="test")
        finally:
            store.dispose()
        r = hub.call(
            "POST", f"/brepflow/signups/{USER}", json={"action": "approve", "role": "designer", "teams": [TEAM]}
        )
        assert r.status_code == 200, r.text
        yield hub
    finally:
        with contextlib.suppress(Exception):
            hub.call("DELETE", f"/users/{USER}/server")
        hub.stop()
        lay = layout_of(hub)
        cgroups = quotas.detect_cgroups()
        if cgroups is not None:  # never leave our own mess, even when the test failed
            with contextlib.suppress(Exception):
                cgroups.remove_server(unix_name(USER), "")
        with contextlib.suppress(Exception):
            disk.unmount(lay.home(USER))
        with contextlib.suppress(Exception):
            remove_user(USER, layout=lay, delete_data=True)
        with contextlib.suppress(Exception):
            remove_team(TEAM, layout=lay, delete_data=True)
        shutil.rmtree(base, ignore_errors=True)


def test_a_server_that_fails_to_start_leaves_no_cgroup(hub: Hub) -> None:
    assert not leftover_cgroups(), "a cgroup of this user exists before the test"
    lay = layout_of(hub)
    account = ensure_user(USER, {TEAM: "designer"}, layout=lay, disk_size="24M")  # what the spawner makes
    local = account.home / ".local"
    (local / "share" / "jupyter").mkdir(parents=True)  # root's, as a half-finished restore left it
    os.chmod(local, 0o700)
    token = hub.token_for(USER, PASSWORD)

    seen: list[Path] = []
    done = threading.Event()

    def watch() -> None:  # the cgroup may come and go while the POST is answered
        while not done.wait(0.05):
            seen.extend(leftover_cgroups())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    # 500 "Spawner failed to start" when the hub sees the dead process within slow_spawn_timeout
    r = hub.call("POST", f"/users/{USER}/server", token=token)
    assert r.status_code in (201, 202, 500), r.text + hub.log()[-4000:]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = server_state(hub)
        if state is None or not (state.get("pending") or state.get("ready")):
            break
        assert not state.get("ready"), "the server started although its runtime folder is root's"
        time.sleep(0.2)
    else:
        raise AssertionError(f"the failed start did not end within 120 s:\n{hub.log()[-4000:]}")
    assert "Permission denied" in hub.log() or "PermissionError" in hub.log(), hub.log()[-4000:]
    done.set()
    watcher.join()
    assert seen, "the spawner never made a cgroup (nothing tested)"
    hub.wait_for(lambda: not leftover_cgroups(), 15, f"no cgroup left, found {leftover_cgroups()}")
    failed = hub.wait_for(lambda: hub.events(kind="spawn_failed", user=USER), 15, "spawn_failed")
    assert failed[-1]["cgroup_removed"] is True and failed[-1]["unix_user"] == unix_name(USER)

    # repaired: the same user's server starts in a new cgroup and stops without leaving it
    shutil.chown(local, user=account.name, group=account.name)
    for dirpath, dirnames, _files in os.walk(local):
        for name in dirnames:
            shutil.chown(os.path.join(dirpath, name), user=account.name, group=account.name)
    hub.spawn(USER, token, timeout=120)
    memory = [p for p in leftover_cgroups() if p.parent.parent.name == "memory"]
    procs = (memory[0] / "server" / "cgroup.procs").read_text().split() if memory else []
    assert procs, f"the started server is in no cgroup: {leftover_cgroups()}"
    r = hub.call("DELETE", f"/users/{USER}/server", token=token)
    assert r.status_code in (202, 204), r.text
    hub.wait_for(lambda: server_state(hub) is None, 60, "the server stopped")
    hub.wait_for(lambda: not leftover_cgroups(), 15, f"no cgroup left after stop, found {leftover_cgroups()}")
