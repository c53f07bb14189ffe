"""Per-user quotas: the table in hub.yaml, cgroup enforcement, usage and the admin page.

The table (hub.yaml ``quotas``)::

    quotas:
      default: {memory: "4G", cpu: 1.0, pids: 512, named_servers: 2, disk: "2G",
                node_seconds: 120, preview_triangles: 2000000, dask_workers: 2, dask_memory: "1GiB"}
      teams: {}   # team -> partial override
      users: {}   # user -> partial override

:func:`resolve` reads it as: built-in defaults, then ``default``; each of the user's teams
gives ``default`` + that team's override and the user gets, key by key, the *most
generous* of those (a restrictive "interns" team does not shrink a user who is also in
"simulation"); a ``users`` entry wins over everything. Every value is checked and a bad
table is refused with every problem listed, so a typo never silently removes a limit.
``team_disk`` (optional, default = ``disk``) sizes a team's shared folder.
``named_servers: 0`` means no named servers (JupyterHub reads a limit of 0 as
"unlimited", so the spawner refuses them itself).

Enforcement (:mod:`brepflow_lab.hub.cgroups`): one cgroup per *user* carries the limits (memory without
swap, CPU bandwidth, process count) and each of the user's servers is a leaf below it, so
all of a user's servers and kernels share one budget. The spawner puts the server into its
leaf before it drops privileges; everything the server starts (kernels, terminals, Dask
workers) inherits it. Going over memory makes the kernel's OOM killer pick the largest
process *inside that cgroup* — the kernel that allocated — so the server, the hub and other
users carry on. Both layouts are supported: cgroup v1 (``memory.limit_in_bytes``,
``cpu.cfs_quota_us``, ``pids.max``: this machine) and v2 (``memory.max``, ``cpu.max``,
``pids.max``: current distributions; point ``cgroup_root`` at a delegated subtree).

Breaches are detected by polling cheap counters (memory ``oom_kill``, ``pids.events``) in
one :class:`BreachWatcher` per user while any of their servers runs, and written to the
audit log as ``quota_breach``; disk breaches are reported by the user's contents manager
to ``POST /hub/brepflow/quotas`` (:class:`QuotaPageHandler`), so the hub — not the user —
writes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from jupyterhub.handlers import BaseHandler
from tornado import web

from brepflow_lab.hub.cgroups import Cgroups, CgroupsV1, CgroupsV2, detect_cgroups
from brepflow_lab.hub.disk import disk_usage, format_size, mounted_image, parse_size

__all__ = [
    "DEFAULT_QUOTA",
    "BreachWatcher",
    "Cgroups",
    "CgroupsV1",
    "CgroupsV2",
    "Quota",
    "QuotaPageHandler",
    "detect_cgroups",
    "format_report",
    "is_team",
    "named_server_limit",
    "resolve",
    "table_warnings",
    "usage",
    "validate_table",
]

log = logging.getLogger("brepflow_lab.hub.quota")

DEFAULT_QUOTA: dict[str, Any] = {
    "memory": "4G",
    "cpu": 1.0,
    "pids": 512,
    "named_servers": 2,
    "disk": "2G",
    "node_seconds": 120,
    "preview_triangles": 2_000_000,
    "dask_workers": 2,
    "dask_memory": "1GiB",
}
_SIZE_KEYS = ("memory", "disk", "dask_memory", "team_disk")
_KINDS: dict[str, tuple[type, float]] = {  # key -> (type, smallest allowed value)
    "memory": (int, 32 * 1024**2),
    "cpu": (float, 0.01),
    "pids": (int, 16),
    "named_servers": (int, 0),
    "disk": (int, 16 * 1024**2),
    "node_seconds": (float, 0.1),
    "preview_triangles": (int, 1000),
    "dask_workers": (int, 0),
    "dask_memory": (int, 64 * 1024**2),
    "team_disk": (int, 16 * 1024**2),
}


@dataclass(frozen=True)
class Quota:
    """One user's resolved limits (sizes in bytes). ``origin`` says where each value came from."""

    memory: int
    cpu: float
    pids: int
    named_servers: int
    disk: int
    node_seconds: float
    preview_triangles: int
    dask_workers: int
    dask_memory: int
    team_disk: int
    origin: Mapping[str, str] = field(default_factory=dict, compare=False)

    def env(self) -> dict[str, str]:
        """The BrepFlow limits a user's kernels read from their environment.

        brepflow_lab enforces them there: ``BREPFLOW_MAX_NODE_SECONDS`` stops a node running
        longer (TIMEOUT; its Dask worker is killed and replaced — see
        :mod:`brepflow_lab.engine.limits`), ``BREPFLOW_MAX_PREVIEW_TRIANGLES`` bounds meshes,
        ``BREPFLOW_MAX_DASK_WORKERS`` / ``BREPFLOW_DASK_MEMORY_LIMIT`` bound the Dask clusters
        a kernel starts. The cgroup limits (memory, cpu, pids) hold whatever runs.
        """
        seconds = f"{self.node_seconds:g}"
        return {
            "BREPFLOW_MAX_NODE_SECONDS": seconds,
            "BREPFLOW_MAX_PREVIEW_TRIANGLES": str(self.preview_triangles),
            "BREPFLOW_MAX_DASK_WORKERS": str(self.dask_workers),
            "BREPFLOW_DASK_MEMORY_LIMIT": str(self.dask_memory),
        }

    def to_dict(self, *, readable: bool = False) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "origin"}
        if readable:
            for key in _SIZE_KEYS:
                out[key] = format_size(out[key])
        return out


def _check_values(where: str, values: Any, problems: list[str], *, partial: bool) -> dict[str, Any]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        problems.append(f"quotas.{where}: expected a mapping of limits, got {type(values).__name__}")
        return {}
    out: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in _KINDS:
            problems.append(f"quotas.{where}.{key}: unknown limit (known: {', '.join(sorted(_KINDS))})")
            continue
        kind, least = _KINDS[key]
        try:
            if isinstance(raw, bool) or raw is None:
                raise ValueError(f"not a number: {raw!r}")
            value: float = parse_size(raw) if key in _SIZE_KEYS else kind(raw)
            if kind is int and key not in _SIZE_KEYS and float(raw) != int(raw):
                raise ValueError(f"{raw!r} is not a whole number")
        except (TypeError, ValueError) as exc:
            problems.append(f"quotas.{where}.{key}: {exc}")
            continue
        if value < least:
            shown = format_size(least) if key in _SIZE_KEYS else f"{least:g}"
            problems.append(f"quotas.{where}.{key}: {raw!r} is below the smallest allowed value {shown}")
            continue
        out[key] = value
    if not partial:
        missing = sorted(set(_KINDS) - set(out) - {"team_disk"})
        if missing:
            problems.append(f"quotas.{where}: missing {', '.join(missing)}")
    return out


def validate_table(table: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check a quota table; returns it normalised (bytes, numbers) or raises ValueError listing every problem."""
    table = table or {}
    problems: list[str] = []
    if not isinstance(table, Mapping):
        raise ValueError(f"quotas: expected a mapping, got {type(table).__name__}")
    for key in table:
        if key not in ("default", "teams", "users"):
            problems.append(f"quotas.{key}: unknown section (known: default, teams, users)")
    defaults = _check_values("default", table.get("default"), problems, partial=True)
    base = _check_values("(built-in)", DEFAULT_QUOTA, problems, partial=False)
    base.update(defaults)
    sections: dict[str, dict[str, dict[str, Any]]] = {"teams": {}, "users": {}}
    for section in ("teams", "users"):
        entries = table.get(section) or {}
        if not isinstance(entries, Mapping):
            problems.append(f"quotas.{section}: expected a mapping of name -> limits")
            continue
        for name, values in entries.items():
            sections[section][str(name)] = _check_values(f"{section}.{name}", values, problems, partial=True)
    if problems:
        raise ValueError("invalid quota table:\n  " + "\n  ".join(problems))
    return {"default": base, **sections}


#: about what a server needs besides its Dask workers: JupyterLab (~130 MB) and a kernel with
#: cadquery loaded (~460 MB), plus a nanny (~90 MB) per worker — measured on this project's env
SERVER_OVERHEAD = 600 * 1024**2
NANNY_OVERHEAD = 96 * 1024**2


def table_warnings(table: Mapping[str, Any] | None) -> list[str]:
    """Limits that hold together badly (the table is valid): one line per quota, for admins.

    With ``node_seconds`` set, designers' evaluations run on their own Dask workers, inside
    the server's memory limit. When ``dask_workers`` × ``dask_memory`` plus the server and
    kernel do not fit in ``memory``, a busy worker is stopped by the cgroup (its node fails
    with KERNEL_CRASH, a breach is recorded) before Dask's own per-worker limit can act.
    """
    norm = _normalised(table)
    out: list[str] = []
    places = [("default", resolve(table, ""))]
    places += [(f"teams.{team}", resolve(table, "", [team])) for team in norm["teams"]]
    places += [(f"users.{user}", resolve(table, user)) for user in norm["users"]]
    for where, q in places:
        if q.dask_workers <= 0:
            continue
        need = q.dask_workers * (q.dask_memory + NANNY_OVERHEAD) + SERVER_OVERHEAD
        if need > q.memory:
            out.append(
                f"quotas.{where}: {q.dask_workers} Dask workers x {_fmt(q.dask_memory, True)} plus about "
                f"{_fmt(need - q.dask_workers * q.dask_memory, True)} for the server, kernel and nannies "
                f"is more than memory {_fmt(q.memory, True)}: a busy worker would be stopped by the cgroup "
                "(KERNEL_CRASH) before Dask's own limit acts; raise memory or lower dask_memory / dask_workers"
            )
    return out


_VALIDATED: dict[str, dict[str, Any]] = {}


def _normalised(table: Mapping[str, Any] | None) -> dict[str, Any]:
    key = json.dumps(table or {}, sort_keys=True, default=str)
    cached = _VALIDATED.get(key)
    if cached is None:
        cached = validate_table(table)
        if len(_VALIDATED) > 64:
            _VALIDATED.clear()
        _VALIDATED[key] = cached
    return cached


def resolve(table: Mapping[str, Any] | None, user: str, teams: Iterable[str] = ()) -> Quota:
    """The limits of ``user`` in ``teams``: user override > most generous team > default."""
    norm = _normalised(table)
    base: dict[str, Any] = dict(norm["default"])
    origin = dict.fromkeys(base, "default")
    best: dict[str, Any] = {}
    best_origin: dict[str, str] = {}
    for team in sorted(set(teams)):
        override = norm["teams"].get(team)
        if override is None:
            candidate, source = base, "default"
        else:
            candidate, source = {**base, **override}, f"teams.{team}"
        for key, value in candidate.items():
            if key not in best or value > best[key]:
                best[key] = value
                best_origin[key] = source if key in (override or {}) else origin.get(key, "default")
    values = {**base, **best}
    origin.update(best_origin)
    for key, value in norm["users"].get(user, {}).items():
        values[key] = value
        origin[key] = f"users.{user}"
    values.setdefault("team_disk", values["disk"])
    origin.setdefault("team_disk", origin["disk"])
    return Quota(
        memory=int(values["memory"]),
        cpu=float(values["cpu"]),
        pids=int(values["pids"]),
        named_servers=int(values["named_servers"]),
        disk=int(values["disk"]),
        node_seconds=float(values["node_seconds"]),
        preview_triangles=int(values["preview_triangles"]),
        dask_workers=int(values["dask_workers"]),
        dask_memory=int(values["dask_memory"]),
        team_disk=int(values["team_disk"]),
        origin=origin,
    )


def team_folder_size(table: Mapping[str, Any] | None, team: str) -> int:
    """Size of a team's shared folder: the team's ``team_disk``, else its ``disk``."""
    norm = _normalised(table)
    values = {**norm["default"], **norm["teams"].get(team, {})}
    return int(values.get("team_disk", values["disk"]))


# --------------------------------------------------------------------------- audit + breaches
def record(kind: str, *, user: str | None = None, **data: Any) -> None:
    """Write an audit record through :mod:`brepflow_lab.hub.audit`; never fails the caller."""
    try:
        from brepflow_lab.hub import audit

        audit.record(kind, user=user, **data)
    except Exception:
        log.exception("could not write audit record %s for %s", kind, user)


class BreachWatcher:
    """Polls one user's cgroup counters and audits every memory or process-limit breach."""

    def __init__(
        self,
        cgroups: Cgroups,
        unix_user: str,
        hub_user: str,
        quota: Quota,
        interval: float = 5.0,
        on_breach: Callable[..., None] | None = None,
    ) -> None:
        self.cgroups = cgroups
        self.unix_user = unix_user
        self.hub_user = hub_user
        self.quota = quota
        self.interval = interval
        self.on_breach = on_breach or (lambda **data: record("quota_breach", **data))
        self.refs = 0
        self.task: asyncio.Task[None] | None = None
        self._kills = self.cgroups.oom_kills(unix_user)
        self._pid_hits = self.cgroups.pids_limit_hits(unix_user)

    def check(self) -> list[dict[str, Any]]:
        """Compare the counters with the last look; audit and return the new breaches."""
        found: list[dict[str, Any]] = []
        kills = self.cgroups.oom_kills(self.unix_user)
        for leaf, count in kills.items():
            before = self._kills.get(leaf, 0)
            if count > before:
                server = "" if leaf in ("", "server") else leaf.removeprefix("server-")
                found.append(
                    {"resource": "memory", "server": server, "limit": self.quota.memory, "killed": count - before}
                )
        self._kills = kills
        hits = self.cgroups.pids_limit_hits(self.unix_user)
        if hits > self._pid_hits:
            found.append({"resource": "pids", "limit": self.quota.pids, "refused_forks": hits - self._pid_hits})
        self._pid_hits = hits
        for breach in found:
            log.warning("quota breach by %s: %s", self.hub_user, breach)
            self.on_breach(user=self.hub_user, **breach)
        return found

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.check()
            except Exception:
                log.exception("quota watcher for %s failed a check", self.hub_user)


_WATCHERS: dict[tuple[int, str], BreachWatcher] = {}


def watch(cgroups: Cgroups, unix_user: str, hub_user: str, quota: Quota, interval: float) -> BreachWatcher:
    """Start (or share) the watcher of ``unix_user``; pair every call with :func:`unwatch`."""
    key = (id(cgroups), unix_user)
    watcher = _WATCHERS.get(key)
    if watcher is None:
        watcher = BreachWatcher(cgroups, unix_user, hub_user, quota, interval)
        watcher.task = asyncio.get_running_loop().create_task(watcher.run())
        _WATCHERS[key] = watcher
    watcher.quota = quota
    watcher.refs += 1
    return watcher


def unwatch(cgroups: Cgroups, unix_user: str) -> None:
    """Drop one reference; the last one runs a final check and stops the watcher."""
    key = (id(cgroups), unix_user)
    watcher = _WATCHERS.get(key)
    if watcher is None:
        return
    watcher.check()
    watcher.refs -= 1
    if watcher.refs <= 0:
        _WATCHERS.pop(key, None)
        if watcher.task is not None:
            watcher.task.cancel()


# --------------------------------------------------------------------------- usage + report
def usage(
    user: str,
    *,
    layout: Any = None,
    cgroups: Cgroups | None = None,
    teams: Iterable[str] = (),
) -> dict[str, Any]:
    """What ``user`` uses now: memory/CPU/processes from their cgroup, disk from their mounts.

    ``layout`` is a :class:`brepflow_lab.hub.users.Layout` (default paths when omitted);
    ``cgroups`` defaults to the detected layout under ``/sys/fs/cgroup`` with parent
    ``brepflow``. Values that cannot be read are None (no server running → zeros/None).
    """
    from brepflow_lab.hub.users import Layout, unix_name

    layout = layout or Layout()
    cgroups = cgroups if cgroups is not None else detect_cgroups()
    account = unix_name(user, layout.user_prefix)
    out: dict[str, Any] = {"user": user, "unix_user": account, "cgroup_version": cgroups.version if cgroups else None}
    if cgroups is not None:
        out.update(cgroups.stats(account))
        dirs = cgroups.user_dirs(account)
        leaves = sorted(c.name for c in dirs[0].iterdir() if c.is_dir()) if dirs and dirs[0].is_dir() else []
        out["servers"] = ["" if leaf == "server" else leaf.removeprefix("server-") for leaf in leaves]
    else:
        out.update({"memory": None, "cpu": None, "pids": None, "servers": []})
    home = layout.home(user)
    out["disk"] = disk_usage(home) if mounted_image(home) is not None else None
    out["team_disks"] = {
        team: disk_usage(layout.team_dir(team)) for team in teams if mounted_image(layout.team_dir(team)) is not None
    }
    return out


def _fmt(value: Any, size: bool = False) -> str:
    if value is None:
        return "-"
    if size:
        return format_size(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def format_report(rows: Sequence[tuple[Quota, Mapping[str, Any]]]) -> str:
    """Plain-text table of (quota, usage) pairs for ``brepflow-lab hub quota show``."""
    header = ["user", "memory used/limit", "oom", "cpu s (limit)", "procs/limit", "disk used/limit", "servers/named"]
    lines = [header]
    for quota, use in rows:
        mem = use.get("memory") or {}
        cpu = use.get("cpu") or {}
        pids = use.get("pids") or {}
        disk = use.get("disk") or {}
        lines.append(
            [
                str(use.get("user", "?")),
                f"{_fmt(mem.get('used'), True)} / {format_size(quota.memory)}",
                _fmt(mem.get("oom_kills")),
                f"{_fmt(cpu.get('seconds'))} ({quota.cpu:g})",
                f"{_fmt(pids.get('current'))} / {quota.pids}",
                f"{_fmt(disk.get('used'), True)} / {format_size(quota.disk)}",
                f"{len(use.get('servers') or [])} / {quota.named_servers}",
            ]
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines)


# --------------------------------------------------------------------------- JupyterHub glue
def _spawner_of(user: Any) -> Any:
    try:
        return user.spawner
    except Exception:
        return None


def is_team(group: Any) -> bool:
    """Teams are the hub groups that carry no role and are not marked ``kind: role``.

    Role groups (``designers``, ``viewers``) hand out roles; every other group is a team.
    """
    properties = getattr(group, "properties", None) or {}
    return properties.get("kind", "team") != "role" and not (getattr(group, "roles", None) or [])


def _team_names(user: Any) -> list[str]:
    return sorted(g.name for g in getattr(user, "groups", []) or [] if is_team(g))


def named_server_limit(handler_or_user: Any) -> int:
    """``c.JupyterHub.named_server_limit_per_user``: the current user's ``named_servers`` quota.

    Takes the request handler (what JupyterHub passes) or a hub ``User``. A quota of 0 is
    returned as 0, which JupyterHub reads as "no limit": the spawner refuses named servers
    for such users itself.
    """
    user = getattr(handler_or_user, "current_user", handler_or_user)
    if user is None:
        return 0
    spawner = _spawner_of(user)
    table = getattr(spawner, "quota_table", None)
    return resolve(table, user.name, _team_names(user)).named_servers


_PAGE = """{% extends "page.html" %}
{% block main %}
<div class="container">
  <h1>Quotas and usage</h1>
  <p>Limits from <code>hub.yaml</code> (<code>quotas</code>); usage read live from each user's cgroup
     ({{ cgroup_version or "no cgroups" }}) and disk image.</p>
  <table class="table table-striped table-sm" id="brepflow-quotas">
    <thead><tr><th>User</th><th>Teams</th><th>Servers</th><th>Memory used / limit</th><th>OOM kills</th>
      <th>CPU s (limit)</th><th>Processes / limit</th><th>Disk used / limit</th><th>Named servers</th>
      <th>Limits from</th></tr></thead>
    <tbody>
    {% for row in rows %}
      <tr data-user="{{ row.user }}">
        <td>{{ row.user }}</td><td>{{ row.teams|join(", ") }}</td><td>{{ row.running|join(", ") or "-" }}</td>
        <td>{{ row.memory }}</td><td>{{ row.oom }}</td><td>{{ row.cpu }}</td><td>{{ row.pids }}</td>
        <td>{{ row.disk }}</td><td>{{ row.named }}</td><td>{{ row.origin }}</td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
  <p><a href="?format=json">JSON</a></p>
</div>
{% endblock %}
"""


class QuotaPageHandler(BaseHandler):
    """``/hub/brepflow/quotas``: GET (admins) lists every user's limits and live usage;
    POST (a user's own server, with its token) reports a refused write for the audit log.

    Register with ``c.JupyterHub.extra_handlers = [(r"/brepflow/quotas", QuotaPageHandler)]``.
    """

    # Token auth as well as cookies: admins script the JSON view, servers POST with their token
    # (token-authenticated requests skip the XSRF check, cookie-authenticated ones do not).
    _accept_token_auth = True

    def _rows(self) -> tuple[list[dict[str, Any]], int | None]:
        from jupyterhub import orm

        rows: list[dict[str, Any]] = []
        version = None
        for orm_user in self.db.query(orm.User).order_by(orm.User.name):
            user = self.users[orm_user]
            spawner = _spawner_of(user)
            teams = _team_names(user)
            quota = resolve(getattr(spawner, "quota_table", None), user.name, teams)
            layout = getattr(spawner, "layout", None)
            cgroups = getattr(spawner, "cgroups", None)
            use = usage(user.name, layout=layout, cgroups=cgroups, teams=teams) if layout is not None else {}
            version = use.get("cgroup_version") or version
            running = [name or "default" for name, sp in user.spawners.items() if sp.active]
            mem = use.get("memory") or {}
            cpu = use.get("cpu") or {}
            pids = use.get("pids") or {}
            disk = use.get("disk") or {}
            rows.append(
                {
                    "user": user.name,
                    "teams": teams,
                    "running": running,
                    "quota": quota.to_dict(),
                    "origin": ", ".join(sorted(set(quota.origin.values()))),
                    "usage": use,
                    "memory": f"{_fmt(mem.get('used'), True)} / {format_size(quota.memory)}",
                    "oom": _fmt(mem.get("oom_kills")),
                    "cpu": f"{_fmt(cpu.get('seconds'))} ({quota.cpu:g})",
                    "pids": f"{_fmt(pids.get('current'))} / {quota.pids}",
                    "disk": f"{_fmt(disk.get('used'), True)} / {format_size(quota.disk)}",
                    "named": str(quota.named_servers),
                }
            )
        return rows, version

    async def get(self) -> None:
        user = self.current_user
        if user is None:
            raise _http_error(403, "log in as a hub admin to see quotas")
        if not (getattr(user, "admin", False) or "admin:users" in self.expanded_scopes):
            raise _http_error(403, "only hub admins can see everyone's quotas")
        rows, version = await asyncio.to_thread(self._rows)
        if self.get_argument("format", "") == "json" or "application/json" in self.request.headers.get("Accept", ""):
            self.set_header("Content-Type", "application/json")
            keep = ("user", "teams", "running", "quota", "origin", "usage")
            self.write(json.dumps([{k: row[k] for k in keep} for row in rows], default=str))
            return
        template = self.settings["jinja2_env"].from_string(_PAGE)
        ns = dict(self.template_namespace)
        # no_spawner_check: the page may be opened with a service's token (no spawner to look at)
        ns.update(rows=rows, cgroup_version=f"cgroup v{version}" if version else None, no_spawner_check=True)
        self.write(await template.render_async(**ns))

    async def post(self) -> None:
        user = self.current_user
        if user is None:
            raise _http_error(403, "a user token is required")
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise _http_error(400, f"body must be JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("resource") != "disk":
            raise _http_error(400, 'only {"resource": "disk", ...} reports are accepted')
        data: dict[str, Any] = {"resource": "disk", "reported_by": "server"}
        for key in ("path", "server"):
            if isinstance(body.get(key), str):
                data[key] = body[key][:512]
        for key in ("needed", "limit", "used"):
            if isinstance(body.get(key), int) and not isinstance(body.get(key), bool):
                data[key] = body[key]
        record("quota_breach", user=user.name, **data)
        self.set_status(204)


def _http_error(status: int, message: str) -> Exception:
    return web.HTTPError(status, message)


def quota_dict(quota: Quota) -> dict[str, Any]:
    """JSON-ready view of a quota (sizes in bytes) plus where each value came from."""
    out = asdict(quota)
    out["origin"] = dict(quota.origin)
    return out
