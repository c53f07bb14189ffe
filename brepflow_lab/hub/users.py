"""Unix accounts, team folders and the shared Python environment of a BrepFlow Lab hub.

Every hub user's single-user server runs as that user's own Unix account, so the kernel
enforces what JupyterHub alone cannot: a user cannot read another user's home, cannot read
another server's token out of ``/proc/<pid>/environ`` and cannot signal another user's
kernels. This module creates and converges those accounts; it runs as root inside the hub.

Naming (decided here, because hub names and Unix names follow different rules):

* A hub user ``alice`` is the Unix account ``bf-alice`` (``Layout.user_prefix``). The
  prefix keeps hub names from ever landing on system accounts (a hub user called ``root``
  or ``daemon`` must never become that account), and existing accounts below UID 1000 are
  refused outright. Characters outside ``[a-z0-9_-]`` become ``-`` and a short hash of the
  original name is appended, so two hub names never collapse onto one account.
* A team ``widgets`` is two groups: ``bft-widgets`` (designers, read/write) and
  ``bft-widgets-ro`` (viewers, read-only). The prefixes differ from the user prefix, so a
  user's private group can never collide with a team group.

Folders:

* homes ``<home_root>/<hub name>``, mode 0700, each a loop-mounted ext4 image (hard disk
  limit, see :mod:`brepflow_lab.hub.disk`); ``<home_root>`` itself is 0711, so users can
  reach their own home but not list who else has one.
* team folders ``<team_root>/<team>``, root-owned, group ``bft-<team>``, mode 2770 (setgid:
  new files belong to the team group) plus POSIX ACLs: the ``-ro`` group gets ``r-x``, and
  *default* ACLs make every file a designer creates group-writable for designers and
  readable for viewers whatever the designer's umask. ACLs are written directly as the
  ``system.posix_acl_access`` / ``system.posix_acl_default`` extended attributes, so the
  ``acl`` package (setfacl) is not needed.
* each home gets ``~/teams/<team>`` symlinks to the user's team folders (Jupyter serves
  symlinks below its root), rebuilt on every spawn. Root never follows a link the user
  controls: ``~/teams`` is opened with ``O_NOFOLLOW`` and links are made relative to that
  directory descriptor.

The shared environment (:func:`ensure_environment`) is a venv made from ``/usr/bin/python3``
under ``/opt/brepflow-lab/env`` that every account can read. It installs from the project's
lock (``locks/lab.txt``, hash-checked: the versions the tests ran against), then brepflow-lab
built with the locked build tools; should the hub run another JupyterHub than the lock's, that
version is installed over it (``jupyterhub-singleuser`` must match the hub). It is keyed on a
hash of the project's files, the lock included: an unchanged project reuses the env in a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import hashlib
import json
import logging
import os
import pwd
import re
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from brepflow_lab.hub import disk

__all__ = [
    "DEFAULT_ENV_PREFIX",
    "Layout",
    "UnixAccount",
    "ensure_environment",
    "ensure_team",
    "ensure_user",
    "environment_key",
    "environment_problem",
    "remove_team",
    "remove_user",
    "team_group",
    "unix_name",
]

log = logging.getLogger("brepflow_lab.hub.users")

DEFAULT_ENV_PREFIX = "/opt/brepflow-lab/env"
#: the lock the shared environment installs from (the same as README's start command)
LOCK_FILE = "locks/lab.txt"
SYSTEM_PYTHON = "/usr/bin/python3"
UID_MIN = 1000
TeamRole = Literal["designer", "viewer"]

# Account and mount changes are serialised inside the hub: concurrent useradd calls fail
# with "cannot lock /etc/passwd", and concurrent loop mounts race for the same free device.
_LOCK = threading.RLock()
_UNIX_NAME_RE = re.compile(r"[^a-z0-9_-]")
_MAX_UNIX_NAME = 32


@dataclass(frozen=True)
class Layout:
    """Where a hub keeps homes, team folders and disk images, and how it names accounts."""

    home_root: Path = Path("/srv/brepflow/home")
    team_root: Path = Path("/srv/brepflow/teams")
    disk_root: Path = Path("/srv/brepflow/disks")
    user_prefix: str = "bf-"
    team_prefix: str = "bft-"

    def __post_init__(self) -> None:
        for attr in ("home_root", "team_root", "disk_root"):
            value = Path(getattr(self, attr))
            if not value.is_absolute():
                raise ValueError(f"Layout.{attr} must be an absolute path, got {str(value)!r}")
            object.__setattr__(self, attr, value)
        if self.user_prefix == self.team_prefix:
            raise ValueError("Layout.user_prefix and team_prefix must differ (user groups would collide with teams)")

    def home(self, user: str) -> Path:
        return self.home_root / _folder_name(user)

    def team_dir(self, team: str) -> Path:
        return self.team_root / _folder_name(team)

    def user_image(self, user: str) -> Path:
        return self.disk_root / "users" / f"{unix_name(user, self.user_prefix)}.img"

    def team_image(self, team: str) -> Path:
        return self.disk_root / "teams" / f"{team_group(team, prefix=self.team_prefix)}.img"


@dataclass(frozen=True)
class UnixAccount:
    """The Unix side of one hub user."""

    hub_name: str
    name: str
    uid: int
    gid: int
    home: Path
    groups: tuple[str, ...] = field(default=())


def _folder_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a usable folder name: {name!r}")
    return name


def _sanitise(name: str, prefix: str, suffix: str = "") -> str:
    if not name:
        raise ValueError("a user or team name cannot be empty")
    lowered = name.lower()
    clean = _UNIX_NAME_RE.sub("-", lowered)
    base = prefix + clean
    if clean != name or len(base) + len(suffix) > _MAX_UNIX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:6]
        room = _MAX_UNIX_NAME - len(suffix) - len(digest) - 1
        base = f"{base[:room]}-{digest}"
    return base + suffix


def unix_name(hub_name: str, prefix: str = "bf-") -> str:
    """The Unix account of hub user ``hub_name`` (``alice`` → ``bf-alice``)."""
    return _sanitise(hub_name, prefix)


def team_group(team: str, *, readonly: bool = False, prefix: str = "bft-") -> str:
    """The Unix group of a team's designers (``bft-<team>``) or viewers (``bft-<team>-ro``)."""
    return _sanitise(team, prefix, "-ro" if readonly else "")


def _run(cmd: list[str], *, retries: int = 5) -> None:
    for attempt in range(retries):
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if result.returncode == 0:
            return
        locked = "lock" in result.stderr.lower()
        if not locked or attempt == retries - 1:
            raise OSError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
        time.sleep(0.2 * (attempt + 1))  # another tool holds /etc/passwd or /etc/group


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _ensure_group(name: str) -> int:
    if not _group_exists(name):
        _run(["groupadd", name])
    return grp.getgrnam(name).gr_gid


# --------------------------------------------------------------------------- POSIX ACLs
_ACL_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _GROUP, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_UNDEFINED_ID = 0xFFFFFFFF


def _acl_bytes(owner: int, group: int, named_groups: Mapping[int, int], other: int) -> bytes:
    """Encode an ACL in the kernel's ``posix_acl_xattr`` layout (entries sorted by tag, id)."""
    entries = [(_USER_OBJ, owner, _UNDEFINED_ID), (_GROUP_OBJ, group, _UNDEFINED_ID)]
    entries += [(_GROUP, perm, gid) for gid, perm in sorted(named_groups.items())]
    mask = group
    for perm in named_groups.values():
        mask |= perm
    entries += [(_MASK, mask, _UNDEFINED_ID), (_OTHER, other, _UNDEFINED_ID)]
    entries.sort(key=lambda e: (e[0], e[2]))
    out = struct.pack("<I", _ACL_VERSION)
    for tag, perm, ident in entries:
        out += struct.pack("<HHI", tag, perm, ident)
    return out


def _set_team_acl(path: Path, readonly_gid: int) -> None:
    rwx, rx = 7, 5
    os.setxattr(path, "system.posix_acl_access", _acl_bytes(rwx, rwx, {readonly_gid: rx}, 0))
    os.setxattr(path, "system.posix_acl_default", _acl_bytes(rwx, rwx, {readonly_gid: rx}, 0))


# --------------------------------------------------------------------------- teams
def ensure_team(team: str, *, layout: Layout | None = None, disk_size: int | str = "2G") -> Path:
    """Create (or converge) a team's groups and its size-limited, group-shared folder."""
    layout = layout or Layout()
    rw = team_group(team, prefix=layout.team_prefix)
    ro = team_group(team, readonly=True, prefix=layout.team_prefix)
    with _LOCK:
        rw_gid = _ensure_group(rw)
        ro_gid = _ensure_group(ro)
        _ensure_root_dir(layout.team_root, 0o711)
        folder = layout.team_dir(team)
        disk.ensure_mounted(layout.team_image(team), folder, disk.parse_size(disk_size))
        os.chown(folder, 0, rw_gid)
        _set_team_acl(folder, ro_gid)
        os.chmod(folder, 0o2770)
        _remove_lost_found(folder)
    return folder


def remove_team(team: str, *, layout: Layout | None = None, delete_data: bool = False) -> None:
    """Unmount a team's folder and delete its groups; with ``delete_data`` also its image."""
    layout = layout or Layout()
    with _LOCK:
        folder = layout.team_dir(team)
        disk.unmount(folder)
        with contextlib.suppress(OSError):
            folder.rmdir()
        for name in (
            team_group(team, prefix=layout.team_prefix),
            team_group(team, readonly=True, prefix=layout.team_prefix),
        ):
            if _group_exists(name):
                _run(["groupdel", name])
        if delete_data:
            layout.team_image(team).unlink(missing_ok=True)
            layout.team_image(team).with_suffix(".json").unlink(missing_ok=True)


# --------------------------------------------------------------------------- users
def _normalise_teams(teams: Mapping[str, str] | Iterable[str]) -> dict[str, TeamRole]:
    if isinstance(teams, Mapping):
        out: dict[str, TeamRole] = {}
        for team, role in teams.items():
            if role not in ("designer", "viewer"):
                raise ValueError(f"team {team!r}: role must be 'designer' or 'viewer', got {role!r}")
            out[team] = "designer" if role == "designer" else "viewer"
        return out
    return dict.fromkeys(teams, "designer")


def ensure_user(
    name: str,
    teams: Mapping[str, str] | Iterable[str] = (),
    *,
    layout: Layout | None = None,
    disk_size: int | str = "2G",
    team_disk_size: Callable[[str], int | str] | None = None,
) -> UnixAccount:
    """Create or converge the Unix account, home and team access of hub user ``name``.

    ``teams`` maps team → ``"designer"`` (read/write) or ``"viewer"`` (read-only); a plain
    list means designer in each. Idempotent: run on every spawn, it adds missing pieces,
    grows a home image whose quota was raised, and drops team groups the user has left.
    ``team_disk_size(team)`` gives the size of a team folder created on the way.
    """
    layout = layout or Layout()
    roles = _normalise_teams(teams)
    account = unix_name(name, layout.user_prefix)
    home = layout.home(name)
    with _LOCK:
        try:
            existing = pwd.getpwnam(account)
        except KeyError:
            existing = None
        if existing is not None and existing.pw_uid < UID_MIN:
            raise PermissionError(
                f"refusing to run hub user {name!r} as system account {account!r} (uid {existing.pw_uid} < {UID_MIN})"
            )
        for team in roles:
            ensure_team(team, layout=layout, disk_size=team_disk_size(team) if team_disk_size else disk_size)
        if existing is None:
            _run(
                [
                    "useradd",
                    "--no-create-home",
                    "--home-dir",
                    str(home),
                    "--shell",
                    "/bin/bash",
                    "--user-group",
                    "--comment",
                    f"BrepFlow Lab hub user {name}"[:60],
                    account,
                ]
            )
        elif existing.pw_dir != str(home):
            _run(["usermod", "--home", str(home), account])
        entry = pwd.getpwnam(account)
        wanted = {
            team_group(team, readonly=role == "viewer", prefix=layout.team_prefix) for team, role in roles.items()
        }
        _set_managed_groups(account, wanted, layout.team_prefix)

        _ensure_root_dir(layout.home_root, 0o711)
        disk.ensure_mounted(layout.user_image(name), home, disk.parse_size(disk_size))
        os.chown(home, entry.pw_uid, entry.pw_gid)
        os.chmod(home, 0o700)
        _remove_lost_found(home)
        _link_teams(home, entry.pw_uid, entry.pw_gid, {team: layout.team_dir(team) for team in roles})
        groups = tuple(sorted(g.gr_name for g in grp.getgrall() if account in g.gr_mem))
    return UnixAccount(name, account, entry.pw_uid, entry.pw_gid, home, groups)


def remove_user(name: str, *, layout: Layout | None = None, delete_data: bool = False) -> None:
    """Unmount a user's home and delete the account; ``delete_data`` also deletes the image."""
    layout = layout or Layout()
    account = unix_name(name, layout.user_prefix)
    with _LOCK:
        home = layout.home(name)
        disk.unmount(home)
        with contextlib.suppress(OSError):
            home.rmdir()
        try:
            entry = pwd.getpwnam(account)
        except KeyError:
            entry = None
        if entry is not None:
            if entry.pw_uid < UID_MIN:
                raise PermissionError(f"refusing to delete system account {account!r}")
            _run(["userdel", account])
        if _group_exists(account):
            _run(["groupdel", account])
        if delete_data:
            layout.user_image(name).unlink(missing_ok=True)
            layout.user_image(name).with_suffix(".json").unlink(missing_ok=True)


def _set_managed_groups(account: str, wanted: set[str], team_prefix: str) -> None:
    current = {g.gr_name for g in grp.getgrall() if account in g.gr_mem}
    keep = {g for g in current if not g.startswith(team_prefix)}
    target = keep | wanted
    if target != current:
        _run(["usermod", "-G", ",".join(sorted(target)), account])


def _ensure_root_dir(path: Path, mode: int) -> None:
    # Missing folders above it are made 0755 whatever the umask (the hub runs with 077): every
    # account must be able to pass through them to its home and team folders.
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for folder in reversed(missing[1:]):
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
            os.chmod(folder, 0o755)
    path.mkdir(exist_ok=True)
    os.chmod(path, mode)


def _remove_lost_found(mountpoint: Path) -> None:
    # e2fsck recreates lost+found when it needs it; users should not see it in JupyterLab.
    lost = mountpoint / "lost+found"
    with contextlib.suppress(OSError):
        if lost.is_dir() and not lost.is_symlink() and not any(lost.iterdir()):
            lost.rmdir()


def _link_teams(home: Path, uid: int, gid: int, folders: Mapping[str, Path]) -> None:
    """Make ``~/teams/<team>`` links without ever following a link the user controls."""
    home_fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            info = os.stat("teams", dir_fd=home_fd, follow_symlinks=False)
        except FileNotFoundError:
            if not folders:
                return
            os.mkdir("teams", 0o755, dir_fd=home_fd)
            os.chown("teams", uid, gid, dir_fd=home_fd, follow_symlinks=False)
            made = os.open("teams", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=home_fd)
            try:
                os.fchmod(made, 0o755)  # whatever the hub's umask
            finally:
                os.close(made)
            info = os.stat("teams", dir_fd=home_fd, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode):
            log.warning("%s/teams is not a directory; team links not refreshed", home)
            return
        teams_fd = os.open("teams", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=home_fd)
        try:
            for entry in os.listdir(teams_fd):
                st = os.stat(entry, dir_fd=teams_fd, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode) and entry not in folders:
                    os.unlink(entry, dir_fd=teams_fd)  # a team the user has left
            for team, target in folders.items():
                try:
                    mode = os.stat(team, dir_fd=teams_fd, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    mode = None
                if mode is not None:
                    if stat.S_ISLNK(mode) and os.readlink(team, dir_fd=teams_fd) == str(target):
                        continue
                    if not stat.S_ISLNK(mode):
                        log.warning("%s/teams/%s is not a link; left alone", home, team)
                        continue
                    os.unlink(team, dir_fd=teams_fd)
                os.symlink(str(target), team, dir_fd=teams_fd)
                os.chown(team, uid, gid, dir_fd=teams_fd, follow_symlinks=False)
        finally:
            os.close(teams_fd)
    finally:
        os.close(home_fd)


# --------------------------------------------------------------------------- environment
def _project_root() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "brepflow_lab").is_dir() else None


def environment_key(project: str | os.PathLike[str] | None = None) -> str:
    """Hash of everything that ends up in the environment: project files and hub version."""
    import jupyterhub

    root = Path(project) if project is not None else _project_root()
    if root is None:
        raise FileNotFoundError("no brepflow-lab project folder found; pass project=PATH")
    digest = hashlib.sha256()
    digest.update(f"jupyterhub=={jupyterhub.__version__}\n".encode())
    files = [
        root / "pyproject.toml",
        root / "README.md",
        root / LOCK_FILE,
        root / "labextension" / "package.json",
        root / "labextension" / "package-lock.json",
    ]
    for folder in ("brepflow_lab", "labextension/src", "labextension/style"):
        files += sorted(
            p
            for p in (root / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
        )
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def environment_problem(
    prefix: str | os.PathLike[str] = DEFAULT_ENV_PREFIX, *, project: str | os.PathLike[str] | None = None
) -> str | None:
    """Why the shared environment at ``prefix`` does not match this brepflow-lab, or ``None``.

    The hub calls it at start (its log, ``brepflow-lab hub`` and ``hub config`` show it): a stale
    environment means users' servers and the viewer run older code than the hub. With a project
    folder (a checkout, an editable install) the marker's key must equal :func:`environment_key`;
    without one (installed from a wheel) the environment's brepflow-lab version must equal ours.
    """
    env = Path(prefix)
    marker = env / ".brepflow-lab-env.json"
    fix = "build it with `brepflow-lab hub setup`"
    if not (env / "bin" / "python").exists():
        return f"the shared environment {env} does not exist: users' servers cannot start; {fix}"
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return f"the shared environment {env} has no readable {marker.name}: it may be stale; rebuild it: {fix}"
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(marker.stat().st_mtime))
    root = Path(project) if project is not None else _project_root()
    if root is not None:
        key = environment_key(root)
        if recorded.get("key") != key:
            return (
                f"the shared environment {env} is stale: it was built on {built} from another state of "
                f"brepflow-lab (key {str(recorded.get('key'))[:12]}, this project {key[:12]}), so users' servers "
                f"and the viewer run older code than the hub; rebuild it: {fix}"
            )
        return None
    import importlib.metadata

    ours = importlib.metadata.version("brepflow-lab")
    theirs = sorted(env.glob("lib/python*/site-packages/brepflow_lab-*.dist-info"))
    version = theirs[-1].name.removeprefix("brepflow_lab-").removesuffix(".dist-info") if theirs else None
    if version != ours:
        return (
            f"the shared environment {env} (built on {built}) has brepflow-lab {version or 'missing'}, "
            f"the hub runs {ours}; rebuild it: {fix}"
        )
    return None


def ensure_environment(
    prefix: str | os.PathLike[str] = DEFAULT_ENV_PREFIX,
    *,
    project: str | os.PathLike[str] | None = None,
    python: str = SYSTEM_PYTHON,
    extra_packages: Iterable[str] = (),
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Build (or reuse) the venv every user's server runs from; returns its prefix.

    The venv comes from ``python`` (Debian's ``/usr/bin/python3``, which every account can
    execute, unlike a pyenv under /root) and gets the project plus the hub's exact
    JupyterHub version. A marker file records :func:`environment_key`; when it matches
    nothing is installed. When only the project changed, only brepflow-lab is reinstalled.
    """

    say = echo or (lambda msg: log.info("%s", msg))
    env = Path(prefix)
    root = Path(project) if project is not None else _project_root()
    if root is None:
        raise FileNotFoundError("no brepflow-lab project folder found; pass project=PATH")
    env.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time (a CI step and a test session may both ask): later callers wait
    # for the lock, then find the marker up to date.
    with open(env.parent / f".{env.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_environment(env, root, python, sorted(extra_packages), say)


def _build_environment(env: Path, root: Path, python: str, extras: list[str], say: Callable[[str], None]) -> Path:
    import jupyterhub

    key = environment_key(root)
    marker = env / ".brepflow-lab-env.json"
    env_python = env / "bin" / "python"
    with contextlib.suppress(OSError, ValueError):
        recorded = json.loads(marker.read_text())
        if recorded.get("key") == key and recorded.get("extras") == extras and env_python.exists():
            return env
    if not Path(python).exists():
        raise FileNotFoundError(f"{python} not found: install Debian's python3 and python3-venv")
    existed = env_python.exists()
    if not existed:
        say(f"creating the shared environment {env} from {python}")
        for parent in [env.parent, *env.parent.parents]:
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if mode & 0o005 != 0o005 and parent.owner() == "root":
                raise PermissionError(f"{parent} is not readable by other users; choose another env prefix")
        result = subprocess.run([python, "-m", "venv", str(env)], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise OSError(f"{python} -m venv {env} failed (is python3-venv installed?): {result.stderr.strip()}")
    pip = [str(env_python), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    lock = root / LOCK_FILE
    if not lock.is_file():
        raise FileNotFoundError(f"{lock} is missing: the shared environment installs from the project's lock")
    say(f"installing the locked packages ({lock.relative_to(root)}) into {env}")
    # Exactly the versions the tests ran against, hash-checked (README: "the lock").
    _pip([*pip, "install", "--require-hashes", "-r", str(lock)])
    hub_pin = f"jupyterhub=={jupyterhub.__version__}"
    env_hub = _installed_version(env_python, "jupyterhub")
    if env_hub != jupyterhub.__version__:
        # The hub runs another JupyterHub than the lock's: single-user servers must match it.
        say(f"the hub runs JupyterHub {jupyterhub.__version__}, the lock has {env_hub}: installing {hub_pin}")
        _pip([*pip, "install", hub_pin])
    if extras:
        _pip([*pip, "install", *extras])
    say(f"building {root} and installing it into {env}")
    with tempfile.TemporaryDirectory(prefix="brepflow-wheel-") as wheels:
        # Build once (the build runs npm ci for the lab extension) with the locked build tools
        # (no isolated build environment that would fetch the newest hatchling), then install
        # that wheel without resolving anything again.
        _pip([*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", wheels, str(root)])
        [wheel] = sorted(Path(wheels).glob("*.whl"))
        _pip([*pip, "install", "--no-deps", "--force-reinstall", str(wheel)])
    _make_world_readable(env)
    marker.write_text(
        json.dumps({"key": key, "extras": extras, "python": python, "jupyterhub": jupyterhub.__version__}, indent=1)
    )
    os.chmod(marker, 0o644)
    return env


def _installed_version(python: Path, name: str) -> str | None:
    result = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def _pip(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise OSError(f"pip failed ({result.returncode}): {' '.join(cmd)}\n{tail}")


def _make_world_readable(env: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(env):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o055 != 0o055:
                os.chmod(path, stat.S_IMODE(mode) | 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode) and mode & 0o044 != 0o044:
                os.chmod(path, stat.S_IMODE(mode) | 0o644)


def _main(argv: list[str] | None = None) -> int:
    """``python -m brepflow_lab.hub.users [PREFIX]``: build the shared environment (CI)."""
    args = sys.argv[1:] if argv is None else argv
    prefix = args[0] if args else DEFAULT_ENV_PREFIX
    started = time.monotonic()
    env = ensure_environment(prefix, echo=print)
    print(f"environment ready at {env} ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
