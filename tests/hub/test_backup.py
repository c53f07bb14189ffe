"""Backup while the hub runs → wipe → restore → the same users, teams, accounts and files."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from brepflow_lab.hub.accounts import AccountStore

from .conftest import ROOT, Hub

PASSWORD = "Tessellated-Fillet-42"


def cli(hub: Hub, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", *args, "--config", str(hub.config_path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)


def snapshot_files(*folders: Path) -> dict[str, tuple[str, int, str]]:
    """relative path -> (sha256 or 'dir', mode, owner name)."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            st = path.lstat()
            digest = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
            out[f"{folder.name}/{path.relative_to(folder)}"] = (
                digest,
                stat.S_IMODE(st.st_mode),
                pwd.getpwuid(st.st_uid).pw_name,
            )
    return out


def hub_state(hub: Hub) -> dict[str, object]:
    users = {u["name"]: (u["admin"], sorted(u["groups"])) for u in hub.call("GET", "/users").json()}
    groups = {g["name"]: (sorted(g["users"]), g.get("properties", {})) for g in hub.call("GET", "/groups").json()}
    return {"users": users, "groups": groups}


@pytest.fixture(scope="module")
def hub(hub_factory) -> Hub:
    hub = hub_factory({}, name="backup")
    store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
    try:
        for name, role in (("alice", "designer"), ("victor", "viewer")):
            store.set_password(name, PASSWORD, by="test")
            r = hub.call(
                "POST", f"/brepflow/signups/{name}", json={"action": "approve", "role": role, "teams": ["engineering"]}
            )
            assert r.status_code == 200, r.text
    finally:
        store.dispose()
    team = hub.team_root / "engineering"
    os.chmod(team, 0o2770)
    (team / "sub").mkdir()
    (team / "sub" / "bracket.bflow.json").write_text('{"version": "0.1.0", "nodes": [], "edges": []}\n')
    (team / "big.bin").write_bytes(os.urandom(300_000))
    nobody = pwd.getpwnam("nobody")
    os.chown(team / "big.bin", nobody.pw_uid, nobody.pw_gid)
    home = Path(hub.settings["storage"]["home_root"]) / "alice"
    home.mkdir(parents=True)
    os.chmod(home, 0o700)
    (home / "notes.txt").write_text("mine\n")
    os.symlink("../../teams/engineering", home / "engineering")
    return hub


def test_backup_wipe_restore_round_trip(hub: Hub, tmp_path):
    hub.login("alice", PASSWORD)
    before = hub_state(hub)
    files = snapshot_files(hub.team_root, Path(hub.settings["storage"]["home_root"]))
    assert "teams/engineering/big.bin" in files and files["teams/engineering"][1] == 0o2770

    dest = tmp_path / "backup"
    out = cli(hub, "backup", str(dest))  # while the hub runs: SQLite's online backup API
    assert out.returncode == 0, out.stderr
    assert "backed up 3 user(s)" in out.stdout
    manifest = (dest / "manifest.json").read_text()
    assert '"alice"' in manifest and "teams.tar" in manifest

    refused = cli(hub, "restore", str(dest))
    assert refused.returncode == 1 and "the hub is running" in refused.stderr
    audit_before = hub.audit_log.read_text()

    hub.stop()
    shutil.rmtree(hub.state_dir)
    shutil.rmtree(hub.team_root)
    shutil.rmtree(hub.settings["storage"]["home_root"])

    out = cli(hub, "restore", str(dest))
    assert out.returncode == 0, out.stderr
    assert snapshot_files(hub.team_root, Path(hub.settings["storage"]["home_root"])) == files
    assert hub.audit_log.read_text() == audit_before

    hub.admin_token = ""  # the restored database holds the admin's account and password
    hub.start()
    assert hub_state(hub) == before
    session, r = hub.login("alice", PASSWORD)
    assert r.status_code == 302
    assert sorted(session.get(hub.api + "/user", timeout=30).json()["groups"]) == ["designers", "engineering"]


def test_backup_refuses_a_non_empty_folder_and_restore_checks_hashes(hub: Hub, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    out = cli(hub, "backup", str(tmp_path / "full"))
    assert out.returncode == 1 and "not empty" in out.stderr
    dest = tmp_path / "b2"
    assert cli(hub, "backup", str(dest)).returncode == 0
    with (dest / "teams.tar").open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"corrupt")
    out = cli(hub, "restore", str(dest), "--force")
    assert out.returncode == 1 and "does not match its sha256" in out.stderr


def test_restore_never_writes_the_config_it_is_given(hub: Hub, tmp_path):
    """Issue 11, item 3: a restore to new places keeps the config that names them."""
    import yaml

    dest = tmp_path / "b3"
    assert cli(hub, "backup", str(dest)).returncode == 0
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["hub"]["state_dir"] = str(tmp_path / "new-state")
    settings["storage"].update(team_root=str(tmp_path / "new-teams"), home_root=str(tmp_path / "new-homes"))
    new_config = tmp_path / "new-hub.yaml"
    text = "# the new machine's places\n" + yaml.safe_dump(settings, sort_keys=False)
    new_config.write_text(text)
    cmd = [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "restore", str(dest), "--config", str(new_config)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert new_config.read_text() == text  # was: overwritten with the backup's hub.yaml (the old places)
    saved = tmp_path / "new-hub.yaml.from-backup"
    assert saved.read_bytes() == (dest / "hub.yaml").read_bytes()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert f"saved as {saved}" in out.stdout and "was not changed" in out.stdout
    # the restore went where the given config says
    assert (tmp_path / "new-state" / "jupyterhub.sqlite").is_file()
    assert (tmp_path / "new-teams" / "engineering" / "sub" / "bracket.bflow.json").is_file()
    assert (tmp_path / "new-homes" / "alice" / "notes.txt").read_text() == "mine\n"
