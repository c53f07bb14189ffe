"""Back up and restore a BrepFlow hub: database, ``hub.yaml``, secrets, audit log and all files.

A backup folder holds::

    manifest.json        what is inside: users, teams, file counts, sha256 of every part
    jupyterhub.sqlite    the hub database (users, groups, roles, tokens, local accounts)
    hub.yaml             the configuration the hub ran with
    state/               cookie secret (sessions survive a restore) and the audit log
    teams.tar            <team_root>: every team's project folder
    homes.tar            <home_root>: every user's home

Consistency while the hub runs: the database is copied with SQLite's online backup API (a
transactionally consistent snapshot even while the hub writes); the audit log is append-only, so
copying its current length gives a consistent prefix. The tar archives keep modes (setgid team
folders), times, symlinks and owners *by name*, so a restore onto a fresh machine whose Unix
accounts got other uids still gives every file to the right account. Disk images under
``disk_root`` are not copied: their contents are (the mounted homes / team folders), and the
spawner re-creates images of the right size.

Restore refuses to run while the hub runs (its pid file names a live process) because the hub
caches the database. With BrepFlowSpawner on root it first re-creates the Unix accounts, homes
and team folders of the users whose homes the backup holds (loop-mounted images, so the
files land inside them). Every archive member is checked before anything is extracted; links
already on disk where the archive names a path (the absolute ``~/teams/<team>`` links a spawn
makes) are removed first, never followed, so a hub whose designers have spawned restores in place
or into fresh folders. Then the state folder (0700, see :mod:`brepflow_lab.hub.private`), the
database, cookie secret, audit log and files; last, team links and homes are converged to this
hub's places. The configuration file passed with ``--config`` is never written: the backup's own
``hub.yaml`` is saved beside it as ``<file>.from-backup``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brepflow_lab.hub.config import Settings, to_dict
from brepflow_lab.hub.private import secure_state

__all__ = ["BackupError", "backup", "hub_running", "restore"]

FORMAT = 1


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why and what to do."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sqlite_path(settings: Settings) -> Path:
    url = settings.db_url
    if not url.startswith("sqlite:///"):
        raise BackupError(
            f"hub.db_url is {url.split('://')[0]}, not SQLite: back the database up with its own tool "
            "(e.g. pg_dump) and use `--no-database`"
        )
    return Path(url[len("sqlite:///") :])


def _copy_sqlite(src: Path, dst: Path) -> None:
    """SQLite's online backup: a consistent snapshot even while another process writes."""
    if dst.exists():
        dst.unlink()
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst)
    try:
        with target:
            source.backup(target, pages=1024, sleep=0.01)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the database copy failed SQLite's integrity check: {check}")
    finally:
        source.close()
        target.close()


def _db_summary(path: Path) -> dict[str, Any]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        users = {name: bool(admin) for name, admin in con.execute("SELECT name, admin FROM users ORDER BY name")}
        groups: dict[str, list[str]] = {name: [] for (name,) in con.execute("SELECT name FROM groups ORDER BY name")}
        for group, user in con.execute(
            "SELECT g.name, u.name FROM user_group_map m JOIN groups g ON g.id = m.group_id "
            "JOIN users u ON u.id = m.user_id ORDER BY g.name, u.name"
        ):
            groups[group].append(user)
        accounts = 0
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "brepflow_accounts" in tables:
            accounts = con.execute("SELECT COUNT(*) FROM brepflow_accounts").fetchone()[0]
    finally:
        con.close()
    return {"users": users, "groups": groups, "local_accounts": accounts}


def _tar_folder(folder: Path, archive: Path) -> dict[str, Any]:
    """Archive ``folder``'s contents (not the folder itself); returns counts."""
    files = 0
    size = 0

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        nonlocal files, size
        parts = Path(info.name).parts
        if parts and parts[-1] == "lost+found":
            return None
        if info.isfile():
            files += 1
            size += info.size
        return info

    with tarfile.open(archive, "w") as tar:
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                tar.add(child, arcname=child.name, recursive=True, filter=keep)
    return {"files": files, "bytes": size, "sha256": _sha256(archive)}


def hub_running(settings: Settings) -> int | None:
    """The pid of the running hub (from its pid file), or None."""
    pid_file = settings.state_dir / "jupyterhub.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def backup(
    settings: Settings,
    dest: str | os.PathLike[str],
    *,
    config_path: str | os.PathLike[str] | None = None,
    include_database: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Write a backup of the hub to the new or empty folder ``dest``; returns the manifest."""
    out = Path(dest)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: back up into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    started = time.time()
    manifest: dict[str, Any] = {"format": FORMAT, "created": started, "parts": {}}
    if include_database:
        db = _sqlite_path(settings)
        if not db.is_file():
            raise BackupError(f"no hub database at {db}: has the hub ever run with this configuration?")
        progress(f"database {db}")
        _copy_sqlite(db, out / "jupyterhub.sqlite")
        manifest["parts"]["jupyterhub.sqlite"] = {"sha256": _sha256(out / "jupyterhub.sqlite")}
        manifest.update(_db_summary(out / "jupyterhub.sqlite"))
    if config_path is not None and Path(config_path).is_file():
        shutil.copyfile(config_path, out / "hub.yaml")
    else:
        import yaml

        (out / "hub.yaml").write_text(yaml.safe_dump(to_dict(settings), sort_keys=False))
    manifest["parts"]["hub.yaml"] = {"sha256": _sha256(out / "hub.yaml")}
    state = out / "state"
    state.mkdir(mode=0o700)
    secret = settings.state_dir / "jupyterhub_cookie_secret"
    if secret.is_file():
        shutil.copy2(secret, state / secret.name)
        manifest["parts"]["state/jupyterhub_cookie_secret"] = {"sha256": _sha256(state / secret.name)}
    if settings.audit_log.is_file():
        length = settings.audit_log.stat().st_size  # a consistent prefix of an append-only file
        with settings.audit_log.open("rb") as src, (state / "audit.log").open("wb") as dst:
            dst.write(src.read(length))
        manifest["parts"]["state/audit.log"] = {"sha256": _sha256(state / "audit.log")}
    for name, folder in (("teams", Path(settings.storage.team_root)), ("homes", Path(settings.storage.home_root))):
        progress(f"{name} {folder}")
        manifest["parts"][f"{name}.tar"] = {"source": str(folder), **_tar_folder(folder, out / f"{name}.tar")}
    manifest["seconds"] = round(time.time() - started, 3)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _verify(src: Path) -> dict[str, Any]:
    manifest_path = src / "manifest.json"
    if not manifest_path.is_file():
        raise BackupError(f"{src} has no manifest.json: not a brepflow hub backup")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not supported (expected {FORMAT})")
    for name, part in manifest["parts"].items():
        path = src / name
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup")
        if _sha256(path) != part["sha256"]:
            raise BackupError(f"{path} does not match its sha256 in manifest.json: the backup is damaged")
    return manifest


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """tarfile's "tar" filter (no absolute paths, escapes or device files) but keeping setgid/sticky
    bits, which team folders need (2770); only setuid is dropped."""
    checked = tarfile.tar_filter(member, dest)
    if member.mode is not None:
        checked = checked.replace(mode=member.mode & 0o3777, deep=False)
    return checked


def _clear_links(tar: tarfile.TarFile, folder: Path) -> int:
    """Remove links already on disk wherever the archive names a path (or a folder above one).

    A hub where designers have spawned holds the absolute links ``~/teams/<team>`` (and
    :func:`_unix_accounts` makes them again before the files land). tarfile's filter resolves
    an existing link when it checks a member's destination, finds it outside ``folder`` and
    refuses the member; a link planted where the archive has a folder would let extraction
    write through it. The archive is what is restored, so such links go first, top-down, never
    followed; the archive's own links are re-created from it.
    """
    names: set[tuple[str, ...]] = set()
    for member in tar.getmembers():
        parts = Path(member.name).parts
        for depth in range(1, len(parts) + 1):
            names.add(parts[:depth])
    removed = 0
    for parts in sorted(names, key=len):
        path = folder.joinpath(*parts)
        if path.is_symlink():  # lstat: the folders above are real by now (links above removed first)
            path.unlink()
            removed += 1
    return removed


def _check_archive(archive: Path, folder: Path) -> None:
    """Clear links in the way (:func:`_clear_links`) and check every member of ``archive``
    against the extraction filter, so a refused member stops the restore before anything lands."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        _clear_links(tar, folder)
        problems = []
        for member in tar.getmembers():
            try:
                _safe_member(member, str(folder))
            except tarfile.FilterError as exc:
                problems.append(f"{member.name}: {exc}")
    if problems:
        raise BackupError(
            f"{archive.name} has member(s) that cannot be restored into {folder} (nothing was extracted): "
            + "; ".join(problems[:10])
        )


def _extract(archive: Path, folder: Path) -> None:
    """Extract ``archive`` into ``folder``; owners (by name), modes and links come from the archive."""
    with tarfile.open(archive) as tar:
        try:
            tar.extractall(folder, numeric_owner=False, filter=_safe_member)
        except (OSError, tarfile.TarError) as exc:
            raise BackupError(f"restoring {archive.name} into {folder} failed: {exc}") from exc


def _save_backup_config(src: Path, config_path: str | os.PathLike[str] | None, settings: Settings) -> Path:
    """The backup's hub.yaml, saved beside ``config_path`` as ``<name>.from-backup`` (never over it)."""
    target = (
        Path(f"{config_path}.from-backup") if config_path is not None else settings.state_dir / "hub.yaml.from-backup"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(src / "hub.yaml", tmp)
    os.chmod(tmp, 0o600)  # it may hold an OAuth client secret
    os.replace(tmp, target)
    return target


def _top_folders(archive: Path) -> set[str]:
    """Names of the top-level folders in one of the backup's archives."""
    if not archive.is_file():
        return set()
    with tarfile.open(archive) as tar:
        return {m.name for m in tar.getmembers() if m.isdir() and "/" not in m.name.strip("/")}


def _account_plan(settings: Settings, manifest: dict[str, Any], homes: set[str]) -> dict[str, dict[str, str]]:
    """User -> {team: "designer"|"viewer"} for the users whose home the backup holds (they have
    spawned; the others get their account at their first spawn). Viewers never have one."""
    role_groups = settings.role_groups()
    viewers = set(manifest.get("groups", {}).get(role_groups.get("viewer", ""), []))
    teams: dict[str, dict[str, str]] = {}
    for group, members in manifest.get("groups", {}).items():
        if group in role_groups.values():
            continue
        for member in members:
            teams.setdefault(member, {})[group] = "viewer" if member in viewers else "designer"
    return {name: teams.get(name, {}) for name in manifest.get("users", {}) if name not in viewers and name in homes}


def _unix_accounts(
    settings: Settings,
    manifest: dict[str, Any],
    src: Path,
    progress: Callable[[str], None],
    *,
    again: bool = False,
) -> list[str]:
    """Re-create Unix accounts, homes and their team folders (BrepFlowSpawner on root) before files land.

    Homes and team folders are size-limited loop-mounted images: they are made (and mounted)
    first, so the files land inside them rather than being hidden later by a mount. With
    ``again`` (after the files landed) the same calls converge what the archive brought back:
    ``~/teams/<team>`` links point at this hub's team folders (the archive's point at the
    folders of the hub that was backed up, which may be elsewhere), team folders get their ACLs,
    each home is its owner's, 0700.
    """
    if settings.spawner.kind != "brepflow" or os.geteuid() != 0:
        return []
    from brepflow_lab.hub import quota as quotas
    from brepflow_lab.hub import users as unix

    layout = unix.Layout(
        home_root=Path(settings.storage.home_root),
        team_root=Path(settings.storage.team_root),
        disk_root=Path(settings.storage.disk_root),
    )
    homes = _top_folders(src / "homes.tar")
    done = []
    for name, teams in _account_plan(settings, manifest, homes).items():
        if not again:
            progress(f"account {name}")
        unix.ensure_user(
            name,
            teams,
            layout=layout,
            disk_size=quotas.resolve(settings.quotas, name, teams).disk,
            team_disk_size=lambda team: quotas.team_folder_size(settings.quotas, team),
        )
        done.append(name)
    return done


def restore(
    settings: Settings,
    src: str | os.PathLike[str],
    *,
    config_path: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Restore the backup in ``src`` into the places ``settings`` name; returns a summary."""
    folder = Path(src)
    manifest = _verify(folder)
    pid = hub_running(settings)
    if pid is not None and not force:
        raise BackupError(f"the hub is running (pid {pid}): stop it before restoring")
    teams_dir, homes_dir = Path(settings.storage.team_root), Path(settings.storage.home_root)
    accounts = _unix_accounts(settings, manifest, folder, progress)
    for name, target in (("teams", teams_dir), ("homes", homes_dir)):
        _check_archive(folder / f"{name}.tar", target)
    secure_state(settings)
    if (folder / "jupyterhub.sqlite").is_file():
        db = _sqlite_path(settings)
        db.parent.mkdir(parents=True, exist_ok=True)
        progress(f"database {db}")
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        _copy_sqlite(folder / "jupyterhub.sqlite", db)
        os.chmod(db, 0o600)
    # the configuration file named by --config is the one this restore reads: never written
    config_saved = _save_backup_config(folder, config_path, settings)
    progress(f"the backup's hub.yaml: {config_saved}")
    secret = folder / "state" / "jupyterhub_cookie_secret"
    if secret.is_file():
        shutil.copy2(secret, settings.state_dir / secret.name)
        os.chmod(settings.state_dir / secret.name, 0o600)
    audit_restored = False
    if (folder / "state" / "audit.log").is_file() and not settings.audit_log.exists():
        settings.audit_log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(folder / "state" / "audit.log", settings.audit_log)
        audit_restored = True
    for name, target in (("teams", teams_dir), ("homes", homes_dir)):
        progress(f"{name} {target}")
        _extract(folder / f"{name}.tar", target)
    _unix_accounts(settings, manifest, folder, progress, again=True)
    secure_state(settings)
    return {
        "users": sorted(manifest.get("users", {})),
        "groups": manifest.get("groups", {}),
        "unix_accounts": accounts,
        "audit_log_restored": audit_restored,
        "config_from_backup": str(config_saved),
        "files": {k: v.get("files") for k, v in manifest["parts"].items() if k.endswith(".tar")},
    }
