"""The hub's private state: ``state_dir`` 0700 and every file in it 0600, however it came to be.

The state folder holds what no designer may read: ``jupyterhub.sqlite`` (scrypt hashes of the
local accounts, token and OAuth-client hashes), the cookie secret, the audit log, pid files and
the viewer's cache. Designers run code as their own Unix accounts on the same machine, so the
hub's Unix permissions are the only thing between them and those secrets.

The folder can come to exist in several ways: ``brepflow-lab hub passwd admin`` before the first
start (the README's order), ``hub restore`` into a fresh folder, an admin's ``mkdir``, a
configuration management tool. So nobody relies on "whoever created it set the mode":

* :func:`secure_state` runs at every start of the hub (``wiring.apply``, ``brepflow-lab hub``),
  before ``passwd`` and ``restore`` write anything and when the account store opens its
  database. It creates the folder 0700 if missing, refuses (:class:`StateOwnershipError`, a
  clear message naming the owner) when the folder or an entry in it belongs to another Unix
  account than the hub's, and tightens what it finds: folders to 0700, files to 0600 (0700 when
  executable). Symbolic links are never followed.
* :func:`private_file` creates a file 0600 before another library (SQLite, JupyterHub) creates
  it with the process umask, and tightens it when it exists; SQLite gives its ``-wal``,
  ``-shm`` and ``-journal`` files the database file's mode.
* The database and the audit log may live outside ``state_dir`` (``hub.db_url``,
  ``storage.audit_log``): those files are tightened too, never their folders, which may be shared
  places such as ``/var/lib``.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from brepflow_lab.hub.config import Settings

__all__ = ["StateOwnershipError", "private_file", "secure_folder", "secure_state", "sqlite_file"]


class StateOwnershipError(PermissionError):
    """The state folder (or a secret in it) belongs to another Unix account than the hub's."""


def _owner(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _refuse(path: Path, st: os.stat_result, what: str) -> StateOwnershipError:
    me = os.geteuid()
    return StateOwnershipError(
        f"{what} {path} belongs to {_owner(st.st_uid)}, not to {_owner(me)} who runs the hub: "
        "another account could read or replace the hub's password hashes, tokens and cookie secret. "
        f"Check who made it, then give it to the hub's account (chown -R {me} {path}) or choose another "
        "hub.state_dir."
    )


def _tighten(path: Path, st: os.stat_result) -> None:
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        wanted = 0o700
    elif stat.S_ISREG(st.st_mode):
        wanted = 0o700 if mode & 0o100 else 0o600
    else:
        return  # sockets, fifos: leave alone (none are expected here)
    if mode != wanted:
        os.chmod(path, wanted)


def secure_folder(folder: Path, *, what: str = "the hub's state folder") -> Path:
    """Create ``folder`` 0700 if missing; refuse foreign owners; tighten it and all below it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.stat(folder)  # the folder itself may be reached through a link the admin made
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{what} {folder} is not a folder")
    me = os.geteuid()
    if st.st_uid != me:
        raise _refuse(folder, st, what)
    _tighten(folder, st)
    for dirpath, dirnames, filenames in os.walk(folder):  # os.walk never descends into links
        top = Path(dirpath) == folder
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            try:
                entry = os.lstat(path)
            except FileNotFoundError:
                continue  # removed meanwhile (a pid file, a cache entry)
            if stat.S_ISLNK(entry.st_mode):
                continue
            if top and entry.st_uid != me:
                raise _refuse(path, entry, "the hub's secret")
            if entry.st_uid == me:
                _tighten(path, entry)
    return folder


def private_file(path: Path) -> Path:
    """Create ``path`` (empty) 0600 if missing, else make it 0600; refuse a foreign owner or a link."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
        except FileExistsError:  # made meanwhile by the hub itself: check it as found
            return private_file(path)
        return path
    if stat.S_ISLNK(st.st_mode):
        raise StateOwnershipError(f"the hub's secret {path} is a symbolic link: replace it with the file itself")
    if st.st_uid != os.geteuid():
        raise _refuse(path, st, "the hub's secret")
    _tighten(path, st)
    return path


def sqlite_file(db_url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (``None`` for other databases and ``:memory:``)."""
    if not db_url.startswith("sqlite"):
        return None
    path = db_url.split("///", 1)[-1] if "///" in db_url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def secure_state(settings: Settings) -> Path:
    """Everything the hub keeps private, checked and tightened (see the module docstring)."""
    folder = secure_folder(settings.state_dir)
    db = sqlite_file(settings.db_url)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_file(db)
        for suffix in ("-wal", "-shm", "-journal"):
            extra = Path(f"{db}{suffix}")
            if extra.exists() and not extra.is_symlink():
                private_file(extra)
    audit_log = settings.audit_log
    if audit_log.exists() and not audit_log.is_symlink():
        private_file(audit_log)
    return folder
