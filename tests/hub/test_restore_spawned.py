"""Restore a hub whose designers have spawned (issue 11, items 2 and 3).

The hub uses BrepFlowSpawner's settings (``spawner.kind: brepflow``, so restore re-creates the
Unix accounts). Each designer's home is made the way a spawn makes it: the spawner's own
``ensure_user`` (Unix account, loop-mounted home 0700, the absolute link ``~/teams/<team>``),
then, as the designer's account, the dot-folders Jupyter Server and IPython create at start
(``~/.local/share/jupyter/runtime`` 0700, ``~/.jupyter``, ``~/.ipython``, ``~/.cache``).

Then: backup, restore in place (the links still there, which used to crash restore), then
restore into fresh folders (new state, homes, teams and disk images, the Unix accounts deleted
as on a new machine) with ``--config`` naming the new hub.yaml, which restore must not write.
After each: every file with its owner, mode and link target; the designers' accounts can do what
their server does at start (write the runtime folder, read their notes, reach the team folder);
the hub starts and everyone logs in with the same roles and teams.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

if os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("mkfs.ext4") is None:
    pytest.skip(
        "restoring Unix accounts and loop-mounted homes needs root, useradd and mkfs.ext4: "
        "run as root after `apt-get install passwd e2fsprogs`",
        allow_module_level=True,
    )

from brepflow_lab.hub import disk
from brepflow_lab.hub.accounts import AccountStore
from brepflow_lab.hub.users import Layout, ensure_user, remove_team, remove_user, unix_name

from .conftest import ADMIN_PASSWORD, ROOT, Hub, make_hub

PASSWORD = "Tessellated-Fillet-42"
DESIGNERS = ("rsalice", "rsbob")  # Unix accounts bf-rsalice, bf-rsbob (the production prefix)
VIEWER = "rscarol"
TEAM = "rsteam"
QUOTAS = {"default": {"disk": "24M", "memory": "1G", "dask_memory": "256M", "dask_workers": 1}}


def layout_of(settings: dict[str, Any]) -> Layout:
    storage = settings["storage"]
    return Layout(
        home_root=Path(storage["home_root"]),
        team_root=Path(storage["team_root"]),
        disk_root=Path(storage["disk_root"]),
    )


def overrides(root: Path) -> dict[str, Any]:
    return {
        "hub": {"state_dir": str(root / "state")},
        "teams": {TEAM: {"description": "Restore test", "members": []}},
        "storage": {
            "team_root": str(root / "teams"),
            "home_root": str(root / "homes"),
            "disk_root": str(root / "disks"),
        },
        "spawner": {"kind": "brepflow", "notebook_dir": "", "environment": {}},
        "quotas": QUOTAS,
    }


def as_user(name: str, code: str) -> subprocess.CompletedProcess[str]:
    entry = pwd.getpwnam(unix_name(name))
    return subprocess.run(
        ["/usr/bin/python3", "-c", code],
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=os.getgrouplist(entry.pw_name, entry.pw_gid),
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": entry.pw_dir},
        timeout=60,
    )


# what Jupyter Server / IPython make in a new home at a server's first start, as the user
SERVER_START = """
import os
TEAM = %r
home = os.path.expanduser("~")
runtime = os.path.join(home, ".local/share/jupyter/runtime")
os.makedirs(runtime, mode=0o700, exist_ok=True)
for d in (".jupyter/lab/workspaces", ".ipython/profile_default/startup", ".cache"):
    os.makedirs(os.path.join(home, d), exist_ok=True)
name = os.path.join(runtime, f"jpserver-{os.getpid()}.json")
with open(name, "w") as f:
    f.write("{}")
os.chmod(name, 0o600)
print(open(os.path.join(home, "notes.txt")).read().strip())
print(sorted(os.listdir(os.path.join(home, "teams"))))
print(sorted(os.listdir(os.path.join(home, "teams", TEAM))))
"""


def snapshot(*folders: Path) -> dict[str, tuple[Any, ...]]:
    """relative path -> (kind and content or link target, mode, owner); links never followed."""
    out: dict[str, tuple[Any, ...]] = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                if name == "lost+found":
                    continue
                st = path.lstat()
                if stat.S_ISLNK(st.st_mode):
                    what: Any = ("link", os.readlink(path))
                elif stat.S_ISDIR(st.st_mode):
                    what = ("dir",)
                else:
                    what = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
                out[f"{folder.name}/{path.relative_to(folder)}"] = (
                    what,
                    stat.S_IMODE(st.st_mode),
                    pwd.getpwuid(st.st_uid).pw_name,
                )
    return out


def relinked(files: dict[str, tuple[Any, ...]], old_root: Path, new_root: Path) -> dict[str, tuple[Any, ...]]:
    """The snapshot with absolute link targets moved from ``old_root`` to ``new_root``."""
    out = {}
    for key, (what, mode, owner) in files.items():
        if what[0] == "link" and what[1].startswith(str(old_root)):
            what = ("link", str(new_root) + what[1][len(str(old_root)) :])
        out[key] = (what, mode, owner)
    return out


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", *args, "--config", str(config)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)


def hub_state(hub: Hub) -> dict[str, Any]:
    users = {u["name"]: (u["admin"], sorted(u["groups"])) for u in hub.call("GET", "/users").json()}
    groups = {g["name"]: sorted(g["users"]) for g in hub.call("GET", "/groups").json()}
    return {"users": users, "groups": groups}


def wipe(settings: dict[str, Any]) -> None:
    """Unmount and delete everything of a hub's places (its Unix accounts stay)."""
    lay = layout_of(settings)
    for name in DESIGNERS:
        disk.unmount(lay.home(name))
    disk.unmount(lay.team_dir(TEAM))
    for key in ("home_root", "team_root", "disk_root"):
        shutil.rmtree(settings["storage"][key], ignore_errors=True)
    shutil.rmtree(settings["hub"]["state_dir"], ignore_errors=True)


@pytest.fixture(scope="module")
def spawned() -> Iterator[tuple[Hub, dict[str, Any], Path]]:
    base = Path(tempfile.mkdtemp(prefix="brepflow-restore-"))
    os.chmod(base, 0o755)  # the designers' accounts reach their homes and team folders below
    hub = make_hub(base / "old", overrides(base / "old"))
    os.chmod(base / "old", 0o755)
    hubs = [hub]
    try:
        hub.start()
        store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
        try:
            for name, role in [*((d, "designer") for d in DESIGNERS), (VIEWER, "viewer")]:
                store.set_password(name, PASSWORD, by="test")
                r = hub.call(
                    "POST", f"/brepflow/signups/{name}", json={"action": "approve", "role": role, "teams": [TEAM]}
                )
                assert r.status_code == 200, r.text
        finally:
            store.dispose()
        lay = layout_of(hub.settings)
        for name in DESIGNERS:
            # the spawner's own account/home step (BrepFlowSpawner.start), then what the server makes
            ensure_user(name, {TEAM: "designer"}, layout=lay, disk_size="24M")
            (lay.home(name) / "notes.txt").write_text(f"{name}'s notes\n")
            shutil.chown(lay.home(name) / "notes.txt", user=unix_name(name), group=unix_name(name))
            r = as_user(name, SERVER_START % TEAM)
            assert r.returncode == 0, r.stderr
        r = as_user(DESIGNERS[0], f"open({str(lay.team_dir(TEAM) / 'bracket.bflow.json')!r}, 'w').write('{{}}')")
        assert r.returncode == 0, r.stderr
        yield hub, {"base": base, "hubs": hubs}, base
    finally:
        for h in hubs:
            h.stop()
        for h in hubs:
            lay = layout_of(h.settings)
            for name in DESIGNERS:
                with contextlib.suppress(Exception):
                    disk.unmount(lay.home(name))
            with contextlib.suppress(Exception):
                disk.unmount(lay.team_dir(TEAM))
        lay = layout_of(hub.settings)
        for name in DESIGNERS:
            with contextlib.suppress(Exception):
                remove_user(name, layout=lay, delete_data=True)
        with contextlib.suppress(Exception):
            remove_team(TEAM, layout=lay, delete_data=True)
        shutil.rmtree(base, ignore_errors=True)


def check_designers_start(settings: dict[str, Any]) -> None:
    lay = layout_of(settings)
    for name in DESIGNERS:
        home = lay.home(name)
        assert disk.mounted_image(home) == lay.user_image(name)  # a quota'd home, as the spawner makes it
        st = home.stat()
        assert (pwd.getpwuid(st.st_uid).pw_name, stat.S_IMODE(st.st_mode)) == (unix_name(name), 0o700)
        assert os.readlink(home / "teams" / TEAM) == str(lay.team_dir(TEAM))
        r = as_user(name, SERVER_START % TEAM)
        assert r.returncode == 0, r.stderr  # was: PermissionError on ~/.local/share/jupyter/runtime
        lines = r.stdout.splitlines()
        assert lines[0] == f"{name}'s notes" and lines[1] == f"['{TEAM}']" and "bracket.bflow.json" in lines[2]


def test_restore_in_place_and_into_fresh_folders_after_designers_spawned(spawned) -> None:
    hub, extra, base = spawned
    homes, teams = Path(hub.settings["storage"]["home_root"]), hub.team_root
    before = hub_state(hub)
    assert sorted(before["groups"][TEAM]) == sorted([*DESIGNERS, VIEWER])
    files = snapshot(teams, homes)
    for name in DESIGNERS:
        assert files[f"homes/{name}/teams/{TEAM}"][0] == ("link", str(teams / TEAM))
        assert files[f"homes/{name}/.local/share/jupyter/runtime"][1:] == (0o700, unix_name(name))

    dest = base / "backup"
    out = cli(hub.config_path, "backup", str(dest))
    assert out.returncode == 0, out.stderr
    hub.stop()

    # 1. in place: homes, their ~/teams links and the Unix accounts are all still there
    out = cli(hub.config_path, "restore", str(dest))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert snapshot(teams, homes) == files
    check_designers_start(hub.settings)
    hub.admin_token = ""
    hub.start()
    assert hub_state(hub) == before
    hub.stop()

    # 2. a fresh machine: accounts deleted, every folder gone; restore into new places
    wipe(hub.settings)
    for name in DESIGNERS:
        remove_user(name, layout=layout_of(hub.settings))
    remove_team(TEAM, layout=layout_of(hub.settings))
    new_root = base / "new"
    new = make_hub(new_root, overrides(new_root), admin=False)
    os.chmod(new_root, 0o755)
    extra["hubs"].append(new)
    shutil.rmtree(new.state_dir)  # a fresh state folder: restore makes it
    config_text = new.config_path.read_text()
    out = cli(new.config_path, "restore", str(dest))
    assert out.returncode == 0, out.stdout + out.stderr
    # item 3: --config names the file to read; restore never writes it
    assert new.config_path.read_text() == config_text
    saved = new.config_path.with_name(new.config_path.name + ".from-backup")
    assert yaml.safe_load(saved.read_text())["storage"]["home_root"] == str(homes)
    assert str(saved) in out.stdout
    new_homes = Path(new.settings["storage"]["home_root"])
    assert snapshot(new.team_root, new_homes) == relinked(files, teams, new.team_root)
    assert stat.S_IMODE(new.state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((new.state_dir / "jupyterhub.sqlite").stat().st_mode) == 0o600
    check_designers_start(new.settings)
    new.start()
    assert hub_state(new) == before
    for name in [*DESIGNERS, VIEWER, "admin"]:
        _, r = new.login(name, ADMIN_PASSWORD if name == "admin" else PASSWORD)
        assert r.status_code == 302, (name, r.status_code, r.text[:300])
