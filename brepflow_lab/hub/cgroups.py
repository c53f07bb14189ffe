"""Per-user cgroups: the user level carries the limits, each server is a leaf below it.

Layout: ``<root>/<parent>/<unix user>/server`` for the default server and
``.../server-<name>`` for named ones. The limits sit on the user level, so all of a user's
servers and their kernels share one memory, CPU and process budget, and the spawner puts
each server's process into its leaf before the process drops root (everything it starts
inherits the leaf). cgroup v2 forbids processes in a cgroup that hands controllers down,
which this layout respects: only leaves hold processes.

* v1 (:class:`CgroupsV1`, this machine): separate ``memory``, ``cpu``, ``cpuacct`` and
  ``pids`` hierarchies; ``memory.limit_in_bytes`` (+ ``memsw`` when swap accounting is on),
  ``cpu.cfs_quota_us``/``cpu.cfs_period_us``, ``pids.max``. v1 counts an OOM kill or a
  refused fork in the cgroup of the task concerned, so counters are summed over the user
  level and its leaves.
* v2 (:class:`CgroupsV2`, current distributions): one hierarchy; controllers are enabled
  down the tree through ``cgroup.subtree_control``; ``memory.max`` with ``memory.swap.max``
  0, ``cpu.max``, ``pids.max``; ``cgroup.kill`` (Linux 5.14+) empties a leaf at once. On a
  systemd host, point the root at a delegated subtree (``Delegate=yes``).

Stopping a server must empty its leaf first — a cgroup with tasks cannot be removed, and
kernels orphaned by a dead server would otherwise keep running outside any stop —
so :meth:`Cgroups.kill_server` SIGKILLs until ``cgroup.procs`` is empty.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brepflow_lab.hub.quota import Quota

__all__ = ["Cgroups", "CgroupsV1", "CgroupsV2", "detect_cgroups", "leaf_name"]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    if text is None or text == "max":
        return None
    try:
        return int(text.split()[0])
    except ValueError:
        return None


def _read_keyed(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (_read(path) or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def leaf_name(server: str) -> str:
    """cgroup leaf of a server: ``server`` for the default one, ``server-<name>`` for named ones."""
    return "server" if not server else f"server-{server}"


class Cgroups(ABC):
    """A user → server cgroup tree under ``<root>/<parent>``; limits live on the user level."""

    version: int = 0

    def __init__(self, root: str | os.PathLike[str], parent: str = "brepflow") -> None:
        self.root = Path(root)
        if not parent or parent.startswith("/") or ".." in Path(parent).parts:
            raise ValueError(f"cgroup parent must be a relative path, got {parent!r}")
        self.parent = parent
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r}, parent={self.parent!r})"

    @abstractmethod
    def user_dirs(self, user: str) -> list[Path]:
        """The user-level cgroup directory in every hierarchy used."""

    @abstractmethod
    def apply_limits(self, user: str, quota: Quota) -> None:
        """Create the user level (if needed) and write the limits."""

    @abstractmethod
    def stats(self, user: str) -> dict[str, Any]:
        """Memory, CPU and process counters of the user level."""

    @abstractmethod
    def oom_kills(self, user: str) -> dict[str, int]:
        """OOM kills per server leaf (``""`` = the user level itself)."""

    @abstractmethod
    def pids_limit_hits(self, user: str) -> int:
        """How often a fork was refused by the user's process limit."""

    def server_dirs(self, user: str, server: str) -> list[Path]:
        return [d / leaf_name(server) for d in self.user_dirs(user)]

    def create_server(self, user: str, server: str, quota: Quota) -> list[Path]:
        """Apply the user's limits and create the server's leaf; returns the ``cgroup.procs`` files to join."""
        with self._lock:
            self.apply_limits(user, quota)
            procs = []
            for leaf in self.server_dirs(user, server):
                leaf.mkdir(exist_ok=True)
                procs.append(leaf / "cgroup.procs")
            return procs

    def procs(self, user: str, server: str | None = None) -> set[int]:
        dirs = self.user_dirs(user) if server is None else self.server_dirs(user, server)
        pids: set[int] = set()
        for d in dirs:
            targets = [d] if server is not None else [d, *[c for c in d.iterdir() if c.is_dir()]] if d.is_dir() else []
            for target in targets:
                for line in (_read(target / "cgroup.procs") or "").split():
                    if line.isdigit():
                        pids.add(int(line))
        return pids

    def kill_server(self, user: str, server: str, timeout: float = 10.0) -> int:
        """SIGKILL every process in the server's leaf until it is empty; returns how many were signalled."""
        killed = 0
        deadline = time.monotonic() + timeout
        while True:
            pids = self.procs(user, server)
            if not pids:
                return killed
            if time.monotonic() > deadline:
                raise TimeoutError(f"processes {sorted(pids)} of {user}/{server or 'default'} survived SIGKILL")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            time.sleep(0.05)

    def remove_server(self, user: str, server: str, timeout: float = 5.0) -> None:
        """Kill what is left in the leaf, remove it, and remove the user level once it is empty."""
        with self._lock:
            self.kill_server(user, server, timeout=timeout)
            for leaf in self.server_dirs(user, server):
                self._rmdir(leaf, timeout)
            for user_dir in self.user_dirs(user):
                if user_dir.is_dir() and not any(c.is_dir() for c in user_dir.iterdir()):
                    with contextlib.suppress(OSError):
                        user_dir.rmdir()

    @staticmethod
    def _rmdir(path: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # exiting tasks leave the cgroup a moment after SIGKILL


class CgroupsV1(Cgroups):
    """cgroup v1: separate ``memory``, ``cpu``, ``cpuacct`` and ``pids`` hierarchies."""

    version = 1
    CONTROLLERS = ("memory", "cpu", "cpuacct", "pids")

    def _hierarchies(self) -> list[Path]:
        seen: set[str] = set()
        out = []
        for name in self.CONTROLLERS:
            path = self.root / name
            real = os.path.realpath(path)
            if path.is_dir() and real not in seen:  # cpu and cpuacct are often one mount
                seen.add(real)
                out.append(path)
        return out

    def _dir(self, controller: str, user: str) -> Path:
        return self.root / controller / self.parent / user

    def user_dirs(self, user: str) -> list[Path]:
        return [h / self.parent / user for h in self._hierarchies()]

    def apply_limits(self, user: str, quota: Quota) -> None:
        with self._lock:
            for d in self.user_dirs(user):
                d.mkdir(parents=True, exist_ok=True)
            mem = self._dir("memory", user)
            memsw = mem / "memory.memsw.limit_in_bytes"
            order = [mem / "memory.limit_in_bytes", memsw] if memsw.exists() else [mem / "memory.limit_in_bytes"]
            current = _read_int(mem / "memory.limit_in_bytes") or 0
            if memsw.exists() and quota.memory > current:
                order.reverse()  # memsw must stay >= the memory limit at every step
            for path in order:
                _write(path, str(quota.memory))
            cpu = self._dir("cpu", user)
            _write(cpu / "cpu.cfs_period_us", "100000")
            _write(cpu / "cpu.cfs_quota_us", str(max(1000, int(quota.cpu * 100000))))
            _write(self._dir("pids", user) / "pids.max", str(quota.pids))

    def stats(self, user: str) -> dict[str, Any]:
        mem = self._dir("memory", user)
        cpu = self._dir("cpu", user)
        acct = self._dir("cpuacct", user)
        pids = self._dir("pids", user)
        usage_ns = _read_int(acct / "cpuacct.usage")
        quota_us = _read_int(cpu / "cpu.cfs_quota_us")
        period_us = _read_int(cpu / "cpu.cfs_period_us") or 100000
        return {
            "memory": {
                "used": _read_int(mem / "memory.usage_in_bytes"),
                "peak": _read_int(mem / "memory.max_usage_in_bytes"),
                "limit": _read_int(mem / "memory.limit_in_bytes"),
                "limit_hits": _read_int(mem / "memory.failcnt"),
                "oom_kills": sum(self.oom_kills(user).values()),
            },
            "cpu": {
                "seconds": None if usage_ns is None else usage_ns / 1e9,
                "limit": None if not quota_us or quota_us < 0 else quota_us / period_us,
                "throttled": _read_keyed(cpu / "cpu.stat").get("nr_throttled"),
            },
            "pids": {
                "current": _read_int(pids / "pids.current"),
                "limit": _read_int(pids / "pids.max"),
                "limit_hits": self.pids_limit_hits(user),
            },
        }

    def oom_kills(self, user: str) -> dict[str, int]:
        # v1 counts a kill on the victim's own memcg, so look at the user level and each leaf.
        mem = self._dir("memory", user)
        out: dict[str, int] = {}
        if not mem.is_dir():
            return out
        out[""] = _read_keyed(mem / "memory.oom_control").get("oom_kill", 0)
        for leaf in mem.iterdir():
            if leaf.is_dir():
                out[leaf.name] = _read_keyed(leaf / "memory.oom_control").get("oom_kill", 0)
        return out

    def pids_limit_hits(self, user: str) -> int:
        # v1 counts a refused fork in the cgroup the forking task is in: the user level and its leaves.
        d = self._dir("pids", user)
        if not d.is_dir():
            return 0
        dirs = [d, *[c for c in d.iterdir() if c.is_dir()]]
        return sum(_read_keyed(x / "pids.events").get("max", 0) for x in dirs)


class CgroupsV2(Cgroups):
    """cgroup v2: one unified hierarchy; controllers enabled down the tree via ``cgroup.subtree_control``."""

    version = 2
    CONTROLLERS = ("memory", "cpu", "pids")

    def user_dirs(self, user: str) -> list[Path]:
        return [self.root / self.parent / user]

    def _enable_controllers(self, path: Path) -> None:
        available = set((_read(path / "cgroup.controllers") or "").split())
        enabled = set((_read(path / "cgroup.subtree_control") or "").split())
        wanted = [c for c in self.CONTROLLERS if c in available and c not in enabled]
        if wanted:
            _write(path / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))

    def apply_limits(self, user: str, quota: Quota) -> None:
        with self._lock:
            parent = self.root / self.parent
            user_dir = parent / user
            self._enable_controllers(self.root)
            parent.mkdir(parents=True, exist_ok=True)
            self._enable_controllers(parent)
            user_dir.mkdir(exist_ok=True)
            self._enable_controllers(user_dir)
            _write(user_dir / "memory.max", str(quota.memory))
            if (user_dir / "memory.swap.max").exists():
                _write(user_dir / "memory.swap.max", "0")
            _write(user_dir / "cpu.max", f"{max(1000, int(quota.cpu * 100000))} 100000")
            _write(user_dir / "pids.max", str(quota.pids))

    def kill_server(self, user: str, server: str, timeout: float = 10.0) -> int:
        for leaf in self.server_dirs(user, server):
            kill = leaf / "cgroup.kill"  # Linux 5.14+: the kernel kills the whole leaf, forks included
            if kill.exists() and self.procs(user, server):
                with contextlib.suppress(OSError):
                    _write(kill, "1")
        return super().kill_server(user, server, timeout)

    def stats(self, user: str) -> dict[str, Any]:
        d = self.user_dirs(user)[0]
        events = _read_keyed(d / "memory.events")
        cpu_stat = _read_keyed(d / "cpu.stat")
        cpu_max = (_read(d / "cpu.max") or "max 100000").split()
        limit = None if cpu_max[0] == "max" else int(cpu_max[0]) / int(cpu_max[1] if len(cpu_max) > 1 else 100000)
        return {
            "memory": {
                "used": _read_int(d / "memory.current"),
                "peak": _read_int(d / "memory.peak"),
                "limit": _read_int(d / "memory.max"),
                "limit_hits": events.get("max"),
                "oom_kills": events.get("oom_kill", 0),
            },
            "cpu": {
                "seconds": cpu_stat["usage_usec"] / 1e6 if "usage_usec" in cpu_stat else None,
                "limit": limit,
                "throttled": cpu_stat.get("nr_throttled"),
            },
            "pids": {
                "current": _read_int(d / "pids.current"),
                "limit": _read_int(d / "pids.max"),
                "limit_hits": self.pids_limit_hits(user),
            },
        }

    def oom_kills(self, user: str) -> dict[str, int]:
        d = self.user_dirs(user)[0]
        if not d.is_dir():
            return {}
        # v2's memory.events is hierarchical: read the leaves, the user level would double count.
        return {
            leaf.name: _read_keyed(leaf / "memory.events").get("oom_kill", 0) for leaf in d.iterdir() if leaf.is_dir()
        }

    def pids_limit_hits(self, user: str) -> int:
        # Kernels differ on where v2 counts a refused fork (the limited cgroup, or hierarchically
        # from the forking one): take whichever of the user level and the sum of leaves is larger.
        d = self.user_dirs(user)[0]
        if not d.is_dir():
            return 0
        leaves = sum(_read_keyed(c / "pids.events").get("max", 0) for c in d.iterdir() if c.is_dir())
        return max(_read_keyed(d / "pids.events").get("max", 0), leaves)


def detect_cgroups(root: str | os.PathLike[str] = "/sys/fs/cgroup", parent: str = "brepflow") -> Cgroups | None:
    """The writable cgroup layout under ``root`` (v2 unified, v1 per controller), or None."""
    base = Path(root)
    controllers = set((_read(base / "cgroup.controllers") or "").split())
    if {"memory", "pids"} <= controllers and os.access(base, os.W_OK):
        return CgroupsV2(base, parent)
    if (base / "memory" / "memory.limit_in_bytes").exists() and os.access(base / "memory", os.W_OK):
        return CgroupsV1(base, parent)
    controllers = set((_read(base / "unified" / "cgroup.controllers") or "").split())
    if {"memory", "pids"} <= controllers and os.access(base / "unified", os.W_OK):
        return CgroupsV2(base / "unified", parent)
    return None
