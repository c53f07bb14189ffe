"""``BrepFlowSpawner``: each user's server as their own Unix account, inside their quota.

A :class:`~jupyterhub.spawner.LocalProcessSpawner` subclass, because a team hub on one
machine has no Docker or Kubernetes to lean on (and systemd is not always PID 1, so
SystemdSpawner is out). On every start it

1. resolves the user's quota from ``quota_table`` (hub.yaml ``quotas``) and their teams
   (JupyterHub groups) — :func:`brepflow_lab.hub.quota.resolve`;
2. converges the Unix account, the loop-mounted home (disk quota), the team groups and
   ``~/teams/<team>`` links — :func:`brepflow_lab.hub.users.ensure_user`;
3. writes the user's limits into their cgroup and creates a leaf for this server;
4. starts ``jupyterhub-singleuser`` from the shared environment (``env_prefix``); the child
   joins the cgroup leaf *before* it drops root, so nothing it starts escapes;
5. starts (or shares) the user's breach watcher and writes a ``spawn`` audit record.

``stop()`` lets JupyterHub stop the server, then SIGKILLs whatever is still in the leaf
(kernels orphaned by the server) before removing it — a cgroup with tasks cannot be
removed — and writes a ``stop`` record with the peak memory and OOM kills. A server whose
process dies by itself never gets a ``stop()``: JupyterHub polls it, sees it has exited and
only forgets it — a start that fails (say, "Permission denied" on the runtime folder) included.
``poll()`` therefore releases the leaf the same way when it finds the process gone, and records
``spawn_failed`` (it died before answering) or ``server_exited``; a ``start()`` that raises
releases what it made and records ``spawn_failed`` too.

Viewers (``readonly_roles`` without a ``readwrite_roles`` role) get no server: they read
team projects through the viewer service. ``named_servers: 0`` refuses named servers here,
since JupyterHub reads a named-server limit of 0 as "unlimited".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner
from tornado import web
from traitlets import Bool, Dict, Float, List, Unicode, default

from brepflow_lab.hub import audit
from brepflow_lab.hub import quota as quotas
from brepflow_lab.hub.users import DEFAULT_ENV_PREFIX, Layout, UnixAccount, ensure_user, unix_name

__all__ = ["BrepFlowSpawner"]

_CGROUPS: dict[tuple[str, str], quotas.Cgroups | None] = {}


def _cgroups_for(root: str, parent: str) -> quotas.Cgroups | None:
    key = (root, parent)
    if key not in _CGROUPS:
        _CGROUPS[key] = quotas.detect_cgroups(root or "/sys/fs/cgroup", parent)
    return _CGROUPS[key]


class BrepFlowSpawner(LocalProcessSpawner):
    """Runs each user's server as their own Unix account inside cgroup, disk and BrepFlow limits."""

    quota_table = Dict(
        help="""The ``quotas`` section of hub.yaml: ``default`` limits, and partial overrides
        under ``teams`` (most generous team wins) and ``users`` (wins over teams). Keys:
        memory, cpu, pids, named_servers, disk, team_disk, node_seconds, preview_triangles,
        dask_workers, dask_memory. Checked on every spawn; a bad table refuses the spawn
        with every problem listed.""",
    ).tag(config=True)

    home_root = Unicode(
        "/srv/brepflow/home",
        help="Folder holding one home per user (mode 0711); each home is a mounted disk image, mode 0700.",
    ).tag(config=True)

    team_root = Unicode(
        "/srv/brepflow/teams",
        help="Folder holding one shared folder per team (group-owned, setgid, ACLs for viewers).",
    ).tag(config=True)

    disk_root = Unicode(
        "/srv/brepflow/disks",
        help="Folder (root only, 0700) holding the ext4 images that give homes and team folders a hard size limit.",
    ).tag(config=True)

    env_prefix = Unicode(
        DEFAULT_ENV_PREFIX,
        help="""Python environment every user's server runs from: a venv made from
        /usr/bin/python3 with brepflow-lab and the hub's JupyterHub version, readable by all
        accounts. Build it with ``brepflow-lab hub setup`` (or
        ``brepflow_lab.hub.users.ensure_environment()``).""",
    ).tag(config=True)

    cgroup_root = Unicode(
        "",
        help="""cgroup filesystem to use; empty = auto-detect under /sys/fs/cgroup (v2 unified,
        else the v1 memory/cpu/cpuacct/pids controllers). On a systemd host point this at a
        delegated subtree (``Delegate=yes``).""",
    ).tag(config=True)

    cgroup_parent = Unicode(
        "brepflow",
        help="Name of the cgroup (below cgroup_root) holding one cgroup per user, one leaf per server.",
    ).tag(config=True)

    require_cgroups = Bool(
        True,
        help="Refuse to spawn when no writable cgroup hierarchy exists (quotas would silently not apply).",
    ).tag(config=True)

    unix_user_prefix = Unicode(
        "bf-",
        help="Prefix of the Unix account of each hub user (keeps hub names off system accounts).",
    ).tag(config=True)

    unix_team_prefix = Unicode(
        "bft-",
        help="Prefix of the Unix groups of each team (<prefix><team> read/write, <prefix><team>-ro read-only).",
    ).tag(config=True)

    readonly_roles = List(
        ["viewer"],
        help="Roles that make a user a read-only team member: no server of their own, read-only team folders.",
    ).tag(config=True)

    readwrite_roles = List(
        ["admin", "designer"],
        help="Roles that give read/write team folders (and a server) even when a read-only role is also held.",
    ).tag(config=True)

    quota_poll_interval = Float(
        5.0,
        help="Seconds between two looks at a running user's cgroup counters for quota breaches (audited).",
    ).tag(config=True)

    audit_log = Unicode(
        "",
        help="Audit log passed to servers as BREPFLOW_AUDIT_LOG; empty = the hub's own $BREPFLOW_AUDIT_LOG.",
    ).tag(config=True)

    @default("cmd")
    def _cmd_default(self) -> list[str]:
        return [str(Path(self.env_prefix) / "bin" / "jupyterhub-singleuser")]

    # ------------------------------------------------------------------ helpers
    @property
    def layout(self) -> Layout:
        return Layout(
            home_root=Path(self.home_root),
            team_root=Path(self.team_root),
            disk_root=Path(self.disk_root),
            user_prefix=self.unix_user_prefix,
            team_prefix=self.unix_team_prefix,
        )

    @property
    def cgroups(self) -> quotas.Cgroups | None:
        return _cgroups_for(self.cgroup_root, self.cgroup_parent)

    @property
    def unix_user(self) -> str:
        return unix_name(self.user.name, self.unix_user_prefix)

    def _role_names(self) -> set[str]:
        """The user's roles, direct and through groups (role groups such as ``designers``)."""
        names = {role.name for role in getattr(self.user, "roles", []) or []}
        for group in getattr(self.user, "groups", []) or []:
            names |= {role.name for role in getattr(group, "roles", []) or []}
        return names

    def is_viewer(self) -> bool:
        """Read-only member: holds a read-only role and no read/write role (admins never are)."""
        if getattr(self.user, "admin", False):
            return False
        names = self._role_names()
        return bool(names & set(self.readonly_roles)) and not names & set(self.readwrite_roles)

    def team_roles(self) -> dict[str, str]:
        """Team → ``designer``/``viewer`` for each team (JupyterHub group) of the user."""
        role = "viewer" if self.is_viewer() else "designer"
        return {group.name: role for group in getattr(self.user, "groups", []) or [] if quotas.is_team(group)}

    def resolve_quota(self) -> quotas.Quota:
        return quotas.resolve(self.quota_table, self.user.name, self.team_roles())

    # ------------------------------------------------------------------ environment
    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        account: UnixAccount | None = getattr(self, "_account", None)
        env["USER"] = account.name if account else self.unix_user
        env["HOME"] = str(account.home if account else self.layout.home(self.user.name))
        env["SHELL"] = "/bin/bash"
        return env

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        for key in ("PYTHONPATH", "PYTHONHOME", "CONDA_DEFAULT_ENV", "CONDA_ROOT", "LD_LIBRARY_PATH"):
            env.pop(key, None)  # the hub's own Python must not leak into the users' environment
        env["PATH"] = f"{self.env_prefix}/bin:/usr/local/bin:/usr/bin:/bin"
        env["VIRTUAL_ENV"] = self.env_prefix
        quota = getattr(self, "_quota", None) or self.resolve_quota()
        env.update(quota.env())
        # The engine's result cache should not eat the memory quota by itself.
        env["BREPFLOW_CACHE_MB"] = str(max(64, min(1024, quota.memory // (4 * 1024**2))))
        env["BREPFLOW_TEAM_DIRS"] = os.pathsep.join(str(self.layout.team_dir(t)) for t in sorted(self.team_roles()))
        audit_log = self.audit_log or str(audit.configured_path() or "")
        if audit_log:
            env["BREPFLOW_AUDIT_LOG"] = audit_log
        env["JUPYTER_WIDGETS_ECHO"] = "0"
        return env

    def get_args(self) -> list[str]:
        args: list[str] = super().get_args()
        if not any("contents_manager_class" in a for a in args):
            args.append("--ServerApp.contents_manager_class=brepflow_lab.hub.disk.QuotaContentsManager")
        if not any("disable_rtc" in a for a in args):
            # real-time collaboration off until team co-editing lands (see hub/wiring.py)
            args.append("--YDocExtension.disable_rtc=True")
        return args

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        """Join the cgroup leaf, then become the user's account; every lookup happens before fork."""
        account: UnixAccount = self._account
        procs_files = list(getattr(self, "_procs_files", []))
        gids = os.getgrouplist(account.name, account.gid)
        home = str(account.home)

        def preexec() -> None:
            pid = str(os.getpid()).encode()
            for path in procs_files:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
            os.setgid(account.gid)
            os.setgroups(gids)
            os.setuid(account.uid)
            if os.getuid() != account.uid or os.geteuid() != account.uid:
                raise PermissionError("could not drop privileges")
            os.chdir(home)

        return preexec

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> Any:
        server = self.name or ""
        if self.is_viewer():
            raise web.HTTPError(
                403, f"{self.user.name} is a viewer: viewers have no server; team projects open read-only in the viewer"
            )
        quota = self.resolve_quota()
        if server and quota.named_servers == 0:
            raise web.HTTPError(400, f"{self.user.name} may not have named servers (quota named_servers: 0)")
        launcher = Path(self.cmd[0]) if self.cmd else None
        if launcher is not None and launcher.is_absolute() and not launcher.exists():
            raise RuntimeError(
                f"{launcher} is missing: build the shared environment first (`brepflow-lab hub setup`, "
                f"or brepflow_lab.hub.users.ensure_environment({self.env_prefix!r}))"
            )
        cgroups = self.cgroups
        if cgroups is None and self.require_cgroups:
            raise RuntimeError(
                "no writable cgroup hierarchy found under "
                f"{self.cgroup_root or '/sys/fs/cgroup'}: memory/CPU/process quotas cannot be enforced "
                "(set BrepFlowSpawner.require_cgroups = False to run without them)"
            )
        table = self.quota_table
        layout = self.layout
        self._quota = quota
        self._starting = True  # poll() leaves the cgroup alone until the process exists
        try:
            self._account = await asyncio.to_thread(
                ensure_user,
                self.user.name,
                self.team_roles(),
                layout=layout,
                disk_size=quota.disk,
                team_disk_size=lambda team: quotas.team_folder_size(table, team),
            )
            account = self._account
            self._procs_files = []
            if cgroups is not None:
                self._procs_files = await asyncio.to_thread(cgroups.create_server, account.name, server, quota)
                quotas.watch(cgroups, account.name, self.user.name, quota, self.quota_poll_interval)
                self._watching = True
            ip_port = await super().start()
        except BaseException as exc:
            try:
                stats = await self._release_cgroup()  # also a leaf half made by create_server
            except Exception:  # the start's own error is the one to report
                self.log.exception("could not remove the cgroup of %s after its failed start", self._log_name)
                stats = {}
            self._record_failure("spawn_failed", stats, reason=f"{type(exc).__name__}: {exc}"[:500])
            raise
        finally:
            self._starting = False
        self.log.info(
            "started %s as %s (pid %s) in cgroup v%s with %s",
            self._log_name,
            account.name,
            self.pid,
            cgroups.version if cgroups else "-",
            quota.to_dict(readable=True),
        )
        quotas.record(
            "spawn",
            user=self.user.name,
            server=server,
            unix_user=account.name,
            pid=self.pid,
            quota=quota.to_dict(readable=True),
            cgroup=f"v{cgroups.version}" if cgroups else None,
            cmd=" ".join(shlex.quote(c) for c in self.cmd),
        )
        return ip_port

    async def poll(self) -> int | None:
        had_process = bool(self.pid)
        status: int | None = await super().poll()
        cgroups = self.cgroups
        if status is None and cgroups is not None and not getattr(self, "_watching", False):
            # the hub restarted while this server ran: resume watching it
            quota = self.resolve_quota()
            self._quota = quota
            quotas.watch(cgroups, self.unix_user, self.user.name, quota, self.quota_poll_interval)
            self._watching = True
        elif status is not None and had_process and cgroups is not None:
            await self._server_ended(cgroups, status)
        return status

    async def _server_ended(self, cgroups: quotas.Cgroups, status: int) -> None:
        """The server's process is gone without ``stop()``: it died while starting (JupyterHub then
        polls it and, as it has exited, never calls ``stop()``) or while running. Its cgroup goes
        the way ``stop()`` would take it: leftovers killed, the leaf removed, the event audited."""
        if getattr(self, "_starting", False) or getattr(self, "_stopping", False):
            return  # start() and stop() release the cgroup themselves
        if not any(d.is_dir() for d in cgroups.server_dirs(self.unix_user, self.name or "")):
            return  # already released
        try:
            stats = await self._release_cgroup()
        except Exception:  # poll() must answer whatever happens to the cgroup
            self.log.exception("could not remove the cgroup of %s, whose server ended", self._log_name)
            stats = {}
        # still waiting for the first answer: a failed start; otherwise a running server died
        kind = "spawn_failed" if getattr(self, "_waiting_for_response", False) else "server_exited"
        self.log.warning("%s's server ended with status %s (%s); its cgroup is released", self._log_name, status, kind)
        self._record_failure(kind, stats, exit_status=status)

    def _record_failure(self, kind: str, stats: dict[str, Any], **data: Any) -> None:
        cgroups = self.cgroups
        left = (
            None if cgroups is None else any(d.is_dir() for d in cgroups.server_dirs(self.unix_user, self.name or ""))
        )
        memory = stats.get("memory") or {}
        quotas.record(
            kind,
            user=self.user.name,
            server=self.name or "",
            unix_user=self.unix_user,
            cgroup_removed=None if left is None else not left,
            peak_memory=memory.get("peak"),
            oom_kills=memory.get("oom_kills"),
            orphans_killed=stats.get("orphans_killed"),
            **data,
        )

    async def _release_cgroup(self) -> dict[str, Any]:
        cgroups = self.cgroups
        if cgroups is None:
            return {}
        account = self.unix_user
        server = self.name or ""
        stats: dict[str, Any] = {}
        with contextlib.suppress(OSError):
            stats = cgroups.stats(account)
        if getattr(self, "_watching", False):
            quotas.unwatch(cgroups, account)  # its final look happens while the leaf still exists
            self._watching = False
        killed = await asyncio.to_thread(self._kill_and_remove, cgroups, account, server)
        stats["orphans_killed"] = killed
        return stats

    @staticmethod
    def _kill_and_remove(cgroups: quotas.Cgroups, account: str, server: str) -> int:
        killed = cgroups.kill_server(account, server)
        cgroups.remove_server(account, server)
        return killed

    async def stop(self, now: bool = False) -> None:
        self._stopping = True  # poll() during the stop leaves the cgroup (and its stats) to us
        try:
            await super().stop(now=now)
        finally:
            self._stopping = False
        stats = await self._release_cgroup()
        memory = stats.get("memory") or {}
        quotas.record(
            "stop",
            user=self.user.name,
            server=self.name or "",
            unix_user=self.unix_user,
            peak_memory=memory.get("peak"),
            oom_kills=memory.get("oom_kills"),
            cpu_seconds=(stats.get("cpu") or {}).get("seconds"),
            orphans_killed=stats.get("orphans_killed"),
        )
