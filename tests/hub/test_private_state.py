"""The hub's secrets stay private however its state folder came to exist (issue 11, item 1).

Following the README's order (``brepflow-lab hub passwd admin`` before the first ``brepflow-lab
hub``), then a state folder an admin made with default modes, then one that another account
owns. The database is read as a designer's own Unix account (made by the product's
``ensure_user``, as a spawn makes it) and must be refused; a world-readable file beside it in the
same tree is read as a control, so the refusal is the file's mode and not an unreachable path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

if os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("mkfs.ext4") is None:
    pytest.skip(
        "reading the hub's files as a designer needs root, useradd and mkfs.ext4: "
        "run as root after `apt-get install passwd e2fsprogs`",
        allow_module_level=True,
    )

from brepflow_lab.hub.users import Layout, ensure_user, remove_team, remove_user, unix_name

from .conftest import ADMIN_PASSWORD, ROOT, Hub, base_settings

PREFIX = "bfp-"
TEAM_PREFIX = "bfpt-"
DESIGNER = "dana"


@pytest.fixture(scope="module")
def place() -> Iterator[tuple[Path, Layout]]:
    root = Path(tempfile.mkdtemp(prefix="brepflow-private-"))
    os.chmod(root, 0o755)  # reachable by every account, as /srv/brepflow is
    layout = Layout(
        home_root=root / "home",
        team_root=root / "teams",
        disk_root=root / "disks",
        user_prefix=PREFIX,
        team_prefix=TEAM_PREFIX,
    )
    ensure_user(DESIGNER, {"engineering": "designer"}, layout=layout, disk_size="16M")
    try:
        yield root, layout
    finally:
        with contextlib.suppress(Exception):
            remove_user(DESIGNER, layout=layout, delete_data=True)
        with contextlib.suppress(Exception):
            remove_team("engineering", layout=layout, delete_data=True)
        shutil.rmtree(root, ignore_errors=True)


def as_designer(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", unix_name(DESIGNER, PREFIX), "--", "/usr/bin/python3", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


def designer_reads(path: Path) -> str:
    """'read' or the name of the exception the designer's account got."""
    r = as_designer(
        f"try:\n    open({str(path)!r}, 'rb').read()\n    print('read')\nexcept OSError as e:\n    print(type(e).__name__)"
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def cli(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", *args, "--config", str(config)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, input=stdin)


def write_config(root: Path, name: str) -> tuple[Path, dict]:
    base = root / name
    base.mkdir()
    os.chmod(base, 0o755)
    settings = base_settings(base)
    settings["hub"]["state_dir"] = str(base / "state")
    settings["storage"]["audit_log"] = ""
    path = base / "hub.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    os.chmod(path, 0o644)
    for folder in ("teams", "homes"):
        (base / folder).mkdir()
    return path, settings


def test_passwd_before_the_first_start_leaves_nothing_a_designer_can_read(place) -> None:
    root, _ = place
    config, settings = write_config(root, "readme-order")
    state = Path(settings["hub"]["state_dir"])
    assert not state.exists()
    out = cli(config, "passwd", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    db = state / "jupyterhub.sqlite"
    assert mode(state) == 0o700 and mode(db) == 0o600 and mode(state / "audit.log") == 0o600
    assert designer_reads(config) == "read"  # the path is reachable: hub.yaml beside it is 0644
    assert designer_reads(db) == "PermissionError"
    assert designer_reads(state / "audit.log") == "PermissionError"


def test_every_start_tightens_a_state_folder_made_with_default_modes(place) -> None:
    root, _ = place
    config, settings = write_config(root, "loose")
    state = Path(settings["hub"]["state_dir"])
    out = cli(config, "passwd", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    # what the README order used to leave, or an admin's mkdir and copy: 0755 and 0644
    db = state / "jupyterhub.sqlite"
    os.chmod(state, 0o755)
    os.chmod(db, 0o644)
    (state / "viewer" / "cache").mkdir(parents=True)
    os.chmod(state / "viewer", 0o755)
    (state / "viewer" / "cache" / "part0.glb").write_bytes(b"glTF")
    os.chmod(state / "viewer" / "cache" / "part0.glb", 0o644)
    assert designer_reads(db) == "read"  # the hole this test is about

    hub = Hub(root=config.parent, config_path=config, settings=settings)
    try:
        hub.start()
        assert hub.call("GET", "/users/admin").status_code == 200
        secret = state / "jupyterhub_cookie_secret"
        hub.wait_for(secret.exists, 10, "the cookie secret")
        for path in (db, secret, state / "audit.log", state / "viewer" / "cache" / "part0.glb"):
            assert mode(path) == 0o600, (path, oct(mode(path)))
            assert designer_reads(path) == "PermissionError", path
        assert mode(state) == 0o700 and mode(state / "viewer") == 0o700
        for path in state.iterdir():
            if path.is_file() and not path.is_symlink():
                assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
    finally:
        hub.stop()


def test_a_state_folder_owned_by_another_account_is_refused_with_the_reason(place) -> None:
    root, _ = place
    config, settings = write_config(root, "foreign")
    state = Path(settings["hub"]["state_dir"])
    out = cli(config, "passwd", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    account = unix_name(DESIGNER, PREFIX)
    shutil.chown(state, user=account)
    # brepflow-lab hub: refused before JupyterHub starts
    out = cli(config)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert f"{state} belongs to {account}" in out.stderr and "chown" in out.stderr
    assert "Traceback" not in out.stderr
    # jupyterhub -f hub_config/jupyterhub_config.py: the hub does not come up either
    hub = Hub(root=config.parent, config_path=config, settings=settings)
    with pytest.raises(RuntimeError, match="the hub exited") as refused:
        hub.start(timeout=60)
    assert f"{state} belongs to {account}" in str(refused.value)
    # passwd refuses too: it would write hashes into a folder the designer controls
    out = cli(config, "passwd", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert out.returncode == 1 and "belongs to" in out.stderr
    # a secret inside a folder of ours but owned by the designer is refused as well
    shutil.chown(state, user="root")
    shutil.chown(state / "jupyterhub.sqlite", user=account)
    out = cli(config)
    assert out.returncode == 1 and "jupyterhub.sqlite belongs to" in out.stderr


def test_homes_stay_reachable_when_the_hub_writes_with_umask_077(place) -> None:
    """The hub process writes with umask 077 (its files are private); folders it makes for users
    (missing parents of the homes, ~/teams) still get the modes users need."""
    root, _ = place
    deep = Layout(
        home_root=root / "srv" / "brepflow" / "home",
        team_root=root / "srv" / "brepflow" / "teams",
        disk_root=root / "srv" / "brepflow" / "disks",
        user_prefix=PREFIX,
        team_prefix=TEAM_PREFIX,
    )
    previous = os.umask(0o077)
    try:
        account = ensure_user("erin", {"design": "designer"}, layout=deep, disk_size="16M")
    finally:
        os.umask(previous)
    try:
        assert mode(root / "srv") == mode(root / "srv" / "brepflow") == 0o755
        assert mode(deep.home_root) == 0o711 and mode(account.home) == 0o700
        assert mode(account.home / "teams") == 0o755
        r = subprocess.run(
            [
                "runuser",
                "-u",
                account.name,
                "--",
                "/usr/bin/python3",
                "-c",
                f"import os; print(sorted(os.listdir({str(account.home / 'teams')!r})))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
        assert r.stdout.strip() == "['design']", r.stderr
    finally:
        with contextlib.suppress(Exception):
            remove_user("erin", layout=deep, delete_data=True)
        with contextlib.suppress(Exception):
            remove_team("design", layout=deep, delete_data=True)
