"""The hub's audit log: append-only JSON lines, one event per line.

Design
------
* **One writer call per event.** :func:`record` opens the file with ``O_APPEND`` and writes the
  whole line with a single ``os.write``; on Linux, appends to a regular file through ``O_APPEND``
  are atomic with respect to each other, so the hub, its spawner and its services can all append
  to one file without a lock and no two lines interleave.
* **Users never write the file.** Single-user servers run as the users' own Unix accounts; a log
  they could write is a log they could rewrite. Their graph saves therefore reach the log through
  the hub (``POST /hub/api/brepflow/audit`` with the server's own API token, see
  :mod:`brepflow_lab.hub.server_ext`): the hub records the event under the token's owner, so a
  user cannot record in someone else's name. The file is created ``0600`` (owner: the hub).
* **Kinds** are short identifiers (:data:`KINDS` lists the ones this package records). Each event
  is ``{"ts": ISO-8601 UTC with milliseconds, "kind": ..., "user": ... , **data}``.
* **Where**: :func:`configure` (the hub does this from ``hub.yaml``) or the environment variable
  ``BREPFLOW_AUDIT_LOG``. With neither, :func:`record` does nothing and returns ``None``, so code
  paths shared with plain (hub-less) JupyterLab stay quiet.

Reading (:func:`read`, ``brepflow-lab hub audit``) filters by user, kind and time and reports
lines it cannot parse instead of failing on them.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_VAR",
    "KINDS",
    "AuditReadResult",
    "configure",
    "configured_path",
    "parse_since",
    "read",
    "record",
]

ENV_VAR = "BREPFLOW_AUDIT_LOG"

#: Kinds recorded by brepflow_lab.hub (other identifiers are accepted too).
KINDS = (
    "login",
    "login_failed",
    "lockout",
    "logout",
    "signup",
    "signup_refused",
    "approval",
    "rejection",
    "password_change",
    "spawn",
    "spawn_failed",
    "server_exited",
    "stop",
    "role_change",
    "team_change",
    "user_change",
    "quota_breach",
    "graph_save",
    "graph_save_refused",
    "newer_version_replaced",
    "token_created",
    "token_revoked",
    "access_refused",
    "spawn_refused",
    "viewer_refused",
    "viewer_write_refused",
    "traversal_refused",
    "viewer_access",
)

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_lock = threading.Lock()
_path: Path | None = None
_counter: Any = None


def configure(path: str | os.PathLike[str] | None) -> Path | None:
    """Send events to ``path`` (``None``: fall back to ``$BREPFLOW_AUDIT_LOG``). Returns the path."""
    global _path
    _path = Path(path).expanduser().resolve() if path else None
    if _path is not None:
        _path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return configured_path()


def configured_path() -> Path | None:
    """The file :func:`record` writes to, or ``None`` when the audit log is not configured."""
    if _path is not None:
        return _path
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _count(kind: str) -> None:
    """Count events in Prometheus (``brepflow_audit_events_total{kind}``) when prometheus_client is there."""
    global _counter
    if _counter is None:
        try:
            from prometheus_client import Counter
        except ImportError:  # pragma: no cover - prometheus_client comes with jupyterhub
            _counter = False
            return
        try:
            _counter = Counter("brepflow_audit_events", "Audit events recorded by the hub, by kind", ["kind"])
        except ValueError:  # registered twice (module reloaded): look it up
            from prometheus_client import REGISTRY

            _counter = REGISTRY._names_to_collectors.get("brepflow_audit_events", False)
    if _counter:
        _counter.labels(kind=kind).inc()


def record(kind: str, *, user: str | None = None, **data: Any) -> dict[str, Any] | None:
    """Append one event; returns it (``None`` when no audit log is configured).

    ``data`` must be JSON-serialisable (other objects are written with ``str``). The keys
    ``ts``, ``kind`` and ``user`` are reserved.
    """
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise ValueError(f"audit kind must be a lowercase identifier such as 'login', got {kind!r}")
    reserved = {"ts", "kind", "user"} & set(data)
    if reserved:
        raise ValueError(f"audit data may not use the reserved key(s) {', '.join(sorted(reserved))}")
    path = configured_path()
    if path is None:
        return None
    event: dict[str, Any] = {"ts": _now(), "kind": kind, "user": user, **data}
    line = (json.dumps(event, default=str, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    with _lock:  # threads of one process: one write each, in order
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            written = os.write(fd, line)
            while written < len(line):  # only on a full disk or a signal; keep the line whole
                written += os.write(fd, line[written:])
        finally:
            os.close(fd)
    _count(kind)
    return event


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``"2h"``, ``"30m"``, ``"7d"`` (ago) or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(timezone.utc)
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since expects a duration such as 30m, 2h, 7d or an ISO time such as 2026-01-31T12:00; got {text!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _event_time(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(event["ts"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


@dataclass
class AuditReadResult:
    """Events that matched, plus the line numbers that could not be parsed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, line


def read(
    path: str | os.PathLike[str] | None = None,
    *,
    user: str | None = None,
    since: datetime | None = None,
    kinds: Iterable[str] | None = None,
) -> AuditReadResult:
    """Events of the log at ``path`` (default: the configured one), oldest first, filtered."""
    target = Path(path) if path is not None else configured_path()
    if target is None:
        raise FileNotFoundError(f"no audit log configured: pass a path or set {ENV_VAR}")
    if not target.exists():
        raise FileNotFoundError(f"audit log {target} does not exist (no event recorded yet?)")
    wanted = set(kinds) if kinds else None
    result = AuditReadResult()
    for number, line in _iter_lines(target):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            result.bad_lines.append(number)
            continue
        if not isinstance(event, dict):
            result.bad_lines.append(number)
            continue
        if user is not None and event.get("user") != user:
            continue
        if wanted is not None and event.get("kind") not in wanted:
            continue
        if since is not None:
            when = _event_time(event)
            if when is None or when < since:
                continue
        result.events.append(event)
    return result


# -- the hub side: administrative API calls -------------------------------------------------------

_GROUP_USERS = re.compile(r"/hub/api/groups/(?P<group>[^/]+)/users/?$")
_GROUP = re.compile(r"/hub/api/groups/(?P<group>[^/]+)/?$")
_USER = re.compile(r"/hub/api/users/(?P<user>[^/]+)/?$")
_USERS = re.compile(r"/hub/api/users/?$")
_TOKENS = re.compile(r"/hub/api/users/(?P<user>[^/]+)/tokens/?$")
_TOKEN = re.compile(r"/hub/api/users/(?P<user>[^/]+)/tokens/(?P<token>[^/]+)/?$")
_SPAWN_API = re.compile(r"/hub/api/users/(?P<user>[^/]+)/servers?(?:/(?P<server>[^/]*))?/?$")
_SPAWN_PAGE = re.compile(r"/hub/spawn(?:/(?P<user>[^/]+))?(?:/(?P<server>[^/]*))?/?$")
_NAMED_USER = re.compile(r"/hub/(?:api/)?users?/(?P<user>[^/]+)")
_OWN_REFUSALS = ("/hub/api/brepflow/audit/",)  # endpoints that record their own refusals, with the reason


def _caller(handler: Any) -> str | None:
    who = getattr(handler, "_jupyterhub_user", None)
    if who is None:
        try:
            who = handler.current_user
        except Exception:
            return None
    name = getattr(who, "name", None)
    if name is None:
        return None
    kind = getattr(who, "kind", "user")
    return f"service:{name}" if kind == "service" else str(name)


def _body(handler: Any) -> dict[str, Any]:
    try:
        data = json.loads(handler.request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def audit_api_call(handler: Any) -> dict[str, Any] | None:
    """Record a successful admin change made through the hub's REST API (groups, users, admin flag).

    Team and role changes go through ``/hub/api/groups/<group>/users``: a role group (``designers``,
    ``viewers``) makes it a ``role_change``, any other group a ``team_change``. Returns the event.
    """
    request = handler.request
    method = request.method.upper()
    if method not in ("POST", "PUT", "PATCH", "DELETE") or handler.get_status() >= 400:
        return None
    from urllib.parse import unquote

    from brepflow_lab.hub.config import active

    path = unquote(request.path)
    base = active().hub.base_url.rstrip("/")
    if base and path.startswith(base):
        path = path[len(base) :]
    by = _caller(handler)
    match = _TOKENS.search(path)
    if match and method == "POST":
        body = _body(handler)  # may hold a password (REST login): only these keys are kept
        return record(
            "token_created",
            user=match.group("user"),
            by=by,
            via="password"
            if "auth" in body
            else "token"
            if getattr(handler, "_token_authenticated", False)
            else "cookie",
            note=str(body.get("note", ""))[:200],
            scopes=[str(x) for x in body.get("scopes", [])][:50] if isinstance(body.get("scopes"), list) else None,
            roles=[str(x) for x in body.get("roles", [])][:50] if isinstance(body.get("roles"), list) else None,
            expires_in=body.get("expires_in") if isinstance(body.get("expires_in"), (int, float)) else None,
            client=request.remote_ip,
        )
    match = _TOKEN.search(path)
    if match and method == "DELETE":
        return record("token_revoked", user=match.group("user"), by=by, token_id=match.group("token"))
    role_groups = {group: role for role, group in active().role_groups().items()}
    match = _GROUP_USERS.search(path)
    if match:
        group = match.group("group")
        users = [str(u) for u in _body(handler).get("users", [])]
        action = "add" if method == "POST" else "remove"
        if group in role_groups:
            return record("role_change", user=by, action=action, role=role_groups[group], users=users)
        return record("team_change", user=by, action=action, team=group, users=users)
    match = _GROUP.search(path)
    if match:
        action = {"POST": "create", "DELETE": "delete"}.get(method, "update")
        return record("team_change", user=by, action=action, team=match.group("group"))
    match = _USER.search(path)
    if match:
        name = match.group("user")
        body = _body(handler)
        if method == "PATCH" and "admin" in body:
            return record("role_change", user=by, action="admin" if body["admin"] else "unadmin", users=[name])
        action = {"POST": "create", "DELETE": "delete"}.get(method, "update")
        return record("user_change", user=by, action=action, users=[name])
    if _USERS.search(path) and method == "POST":
        body = _body(handler)
        return record("user_change", user=by, action="create", users=[str(u) for u in body.get("usernames", [])])
    return None


def audit_refusal(handler: Any) -> dict[str, Any] | None:
    """Record a request the hub refused: ``spawn_refused`` for a server start (a viewer's, say),
    ``access_refused`` for any other 403 — and for a 404 answered to a signed-in caller's change
    aimed at another user (JupyterHub answers 404 there, so names cannot be probed)."""
    from urllib.parse import unquote

    from brepflow_lab.hub.config import active

    request = handler.request
    status = handler.get_status()
    method = request.method.upper()
    path = unquote(request.path)
    base = active().hub.base_url.rstrip("/")
    if base and path.startswith(base):
        path = path[len(base) :]
    if any(p in path for p in _OWN_REFUSALS):
        return None
    by = _caller(handler)
    api_spawn = _SPAWN_API.search(path) if method == "POST" else None
    spawn = api_spawn or _SPAWN_PAGE.search(path)
    if spawn is not None:
        if status == 403 or by is not None:
            return record(
                "spawn_refused",
                user=by,
                target=spawn.group("user") or by,
                server=spawn.group("server") or "",
                status=status,
                method=method,
                path=path,
            )
        return None
    if status == 403:
        return record("access_refused", user=by, method=method, path=path, status=status, client=request.remote_ip)
    if status == 404 and method != "GET" and by is not None:
        named = _NAMED_USER.search(path)
        if named and unquote(named.group("user")) != by:
            return record("access_refused", user=by, method=method, path=path, status=status, client=request.remote_ip)
    return None


def audit_request_logger(handler: Any) -> None:
    """The hub's tornado ``log_function``: JupyterHub's request log, then :func:`audit_api_call`
    for changes made through the REST API and :func:`audit_refusal` for refused requests."""
    from jupyterhub.log import log_request

    log_request(handler)
    try:
        if handler.get_status() in (403, 404):
            audit_refusal(handler)
        elif "/api/" in handler.request.path:
            audit_api_call(handler)
    except Exception:  # the audit must never break a request; but say so loudly
        import logging

        logging.getLogger("JupyterHub").exception("brepflow audit: could not record %s", handler.request.path)
