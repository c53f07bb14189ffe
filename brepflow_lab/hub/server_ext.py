"""Graph saves into the audit log: a Jupyter server extension plus its hub-side endpoint.

Single-user side
    :func:`_load_jupyter_server_extension` registers :func:`post_save_hook` on the server's
    contents manager (``register_post_save_hook``, so it adds to, not replaces, other hooks).
    On every save of a ``*.bflow.json`` file it sends ``{path, sha256, bytes, team}`` to the hub
    at ``POST $JUPYTERHUB_API_URL/brepflow/audit/$JUPYTERHUB_USER`` with the server's own API
    token. Outside a hub (plain ``jupyter lab``) with ``$BREPFLOW_AUDIT_LOG`` set, it appends to
    that file directly. A failure to record is logged and never fails the save itself.

    The hub enables the extension in every single-user server through the spawner arguments
    (``--ServerApp.jpserver_extensions=brepflow_lab.hub.server_ext=True``).

Saves over a newer version
    The server's contents manager remembers which versions of each graph it handed out or wrote
    (:mod:`brepflow_lab.hub.graph_versions`); :func:`pre_save_hook` hashes the file on disk just
    before a save, and when that version is not one of them the save replaces a version written
    since. The report then carries ``replaced: {sha256, modified, base_sha256, base_modified}``
    (the version replaced, and the last one this server handed out), and the hub records
    ``newer_version_replaced`` besides the ``graph_save``, naming who saved the replaced version
    when its own log has that save.

Hub side
    :class:`GraphSaveAuditHandler` receives the event. Its URL carries the user name and the
    request must hold ``users:activity`` for that user — which a server's token has for its own
    user only — so nobody can record a save in another user's name. The hub writes the log; users
    never need write access to it.

    A server runs as its user, so whatever it holds (its token included) the user holds too: a
    designer can call this endpoint from a kernel or with a personal token. The hub therefore
    trusts nothing in the report that it can check itself (:func:`verify_graph_save`): the caller
    must be the user named in the URL, with a server of that name running; the file must lie,
    after resolving links, inside the user's home or one of their teams' folders, exist, and hash
    to the reported sha256 *now* (the hub reads it). Path, team and size are the hub's own
    findings, and the event is marked ``"reported_by": "server"`` with ``"verified": "sha256"``:
    it says "the user's server reported that this content was saved at this place and time", no
    more. A report that fails a check is refused and recorded as ``graph_save_refused`` with the
    reason, so fabrication attempts are visible too.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import stat
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from brepflow_lab.hub import audit
from brepflow_lab.hub.graph_versions import GRAPH_SUFFIX, GraphVersions, GraphVersionsMixin, file_sha256

__all__ = [
    "GraphVersions",
    "GraphVersionsMixin",
    "SaveRefused",
    "hub_handlers",
    "post_save_hook",
    "pre_save_hook",
    "verify_graph_save",
]

log = logging.getLogger("brepflow_lab.hub.server_ext")
_sha256 = file_sha256


def _team_of(os_path: Path) -> str | None:
    """The team whose folder holds ``os_path`` ($BREPFLOW_TEAM_DIRS: ``os.pathsep``-separated folders)."""
    dirs = [d for d in os.environ.get("BREPFLOW_TEAM_DIRS", "").split(os.pathsep) if d]
    root = os.environ.get("BREPFLOW_TEAM_ROOT")
    resolved = os_path.resolve()
    for d in dirs:
        folder = Path(d).resolve()
        if resolved.is_relative_to(folder):
            return folder.name
    if root:
        base = Path(root).resolve()
        if resolved.is_relative_to(base) and resolved != base:
            return resolved.relative_to(base).parts[0]
    return None


def graph_save_event(model: dict[str, Any], os_path: str) -> dict[str, Any] | None:
    """The audit data of a save, or ``None`` when the file is not a BrepFlow graph."""
    if model.get("type") != "file" or not str(os_path).endswith(GRAPH_SUFFIX):
        return None
    path = Path(os_path)
    data: dict[str, Any] = {
        "path": model.get("path") or path.name,
        "file": str(path),
        "sha256": _sha256(path),
        "bytes": path.stat().st_size,
    }
    team = _team_of(path)
    if team:
        data["team"] = team
    server = os.environ.get("JUPYTERHUB_SERVER_NAME")
    if server:
        data["server"] = server
    return data


def _send_to_hub(data: dict[str, Any]) -> None:
    api = os.environ["JUPYTERHUB_API_URL"].rstrip("/")
    user = os.environ["JUPYTERHUB_USER"]
    request = urllib.request.Request(
        f"{api}/brepflow/audit/{user}",
        data=json.dumps(data).encode(),
        method="POST",
        headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # the hub is local: ~10 ms
        response.read()


def pre_save_hook(model: dict[str, Any], path: str, contents_manager: Any = None, **kwargs: Any) -> None:
    """Contents-manager pre-save hook: is the graph on disk a version this server never handed out?"""
    versions: GraphVersions | None = getattr(contents_manager, "graph_versions", None)
    if versions is None or model.get("type") != "file" or not str(path).endswith(GRAPH_SUFFIX):
        return
    try:
        versions.check_before_save(contents_manager._get_os_path(str(path).strip("/")))
    except Exception:  # never fails the save itself
        log.exception("brepflow: could not check %s before saving it", path)


def post_save_hook(model: dict[str, Any], os_path: str, contents_manager: Any = None, **kwargs: Any) -> None:
    """Contents-manager post-save hook: record saves of ``*.bflow.json`` files."""
    try:
        data = graph_save_event(model, os_path)
        if data is None:
            return
        versions: GraphVersions | None = getattr(contents_manager, "graph_versions", None)
        if versions is not None:
            replaced = versions.take(os_path)
            if replaced is not None and replaced["sha256"] != data["sha256"]:
                data["replaced"] = replaced
            versions.seen(os_path, data["sha256"])  # what this server wrote is a version it knows
        if os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_API_URL"):
            _send_to_hub(data)
        elif audit.configured_path() is not None:
            user = os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
            audit.record("graph_save", user=user, **data)
            if "replaced" in data:
                audit.record("newer_version_replaced", user=user, **_replacement_event(data))
    except Exception:
        log.exception("brepflow: could not record the save of %s in the audit log", os_path)


def _replacement_event(data: dict[str, Any]) -> dict[str, Any]:
    """The ``newer_version_replaced`` event's data from a (checked) graph-save report."""
    replaced = data["replaced"]
    out: dict[str, Any] = {k: data[k] for k in ("path", "file", "team", "server", "sha256", "reported_by") if k in data}
    out.update({f"replaced_{k}" if not k.startswith("base") else k: v for k, v in replaced.items()})
    return out


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "brepflow_lab.hub.server_ext"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    manager = serverapp.contents_manager
    manager.register_pre_save_hook(pre_save_hook)
    manager.register_post_save_hook(post_save_hook)
    serverapp.log.info("brepflow: graph saves (*.bflow.json) are recorded in the hub's audit log")
    if not isinstance(manager, GraphVersionsMixin):
        serverapp.log.warning(
            "brepflow: %s does not track graph versions: saves over a newer version are not audited "
            "(use --ServerApp.contents_manager_class=brepflow_lab.hub.disk.QuotaContentsManager)",
            type(manager).__name__,
        )


# -- hub side ---------------------------------------------------------------------------------------


class SaveRefused(Exception):
    """A graph-save report the hub will not record; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def _inside(path: str, folder: Path) -> bool:
    root = os.path.realpath(folder)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def verify_graph_save(
    body: Any, *, user: str, caller: str | None, teams: list[str], server_running: bool, settings: Any
) -> dict[str, Any]:
    """The event data the hub records for a save ``user``'s server reports, from the hub's own
    checks (see the module docstring); raises :class:`SaveRefused` with the reason otherwise."""
    if not isinstance(body, dict):
        raise SaveRefused("send a JSON object {path, file, sha256, bytes[, server]}", 400)
    path, sha, file = body.get("path"), body.get("sha256"), body.get("file")
    if not isinstance(path, str) or not path.endswith(GRAPH_SUFFIX):
        raise SaveRefused(f"path must name a {GRAPH_SUFFIX} file", 400)
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise SaveRefused("sha256 must be 64 lowercase hex digits", 400)
    if caller != user:
        raise SaveRefused(f"only {user}'s own server reports {user}'s saves")
    server = body.get("server") or ""
    if not isinstance(server, str) or not server_running:
        raise SaveRefused(f"{user} has no running server {server!r}: saves are reported by a running server")
    if not isinstance(file, str) or not os.path.isabs(file):
        raise SaveRefused("file must be the absolute path the server saved", 400)
    if ".." in Path(path).parts or path.startswith("/"):
        raise SaveRefused("path must be relative to the server's root, without '..'", 400)
    real = os.path.realpath(file)
    storage = settings.storage
    places: list[tuple[Path, str | None]] = [(Path(storage.home_root) / user, None)]
    places += [(Path(storage.team_root) / team, team) for team in teams]
    found = [team for folder, team in places if _inside(real, folder)]
    if not found:
        raise SaveRefused(f"{file} is outside {user}'s home and their teams' folders")
    team = found[0]
    try:
        st = os.stat(real)
    except OSError:
        raise SaveRefused(f"{file} does not exist", 400) from None
    if not stat.S_ISREG(st.st_mode) or not real.endswith(GRAPH_SUFFIX):
        raise SaveRefused(f"{file} is not a {GRAPH_SUFFIX} file", 400)
    actual = _sha256(Path(real))
    if actual != sha:
        raise SaveRefused(f"the sha256 does not match {file} as it is now (changed since, or never saved)", 409)
    data: dict[str, Any] = {"path": path, "file": real, "sha256": actual, "bytes": st.st_size}
    if team is not None:
        data["team"] = team
    if server:
        data["server"] = server
    replaced = _checked_replacement(body.get("replaced"), actual)
    if replaced is not None:
        data["replaced"] = replaced
    data.update(reported_by="server", verified="sha256")
    return data


def _is_sha(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _is_time(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _checked_replacement(replaced: Any, saved_sha: str) -> dict[str, Any] | None:
    """The ``replaced`` part of a report, well-formed, or ``None`` (none reported, or the replaced
    version is the saved content itself: nothing was lost). The replaced bytes are gone, so the
    hub can only check the form here; :func:`replaced_version_origin` adds what its log knows."""
    if replaced is None:
        return None
    if not isinstance(replaced, dict) or not _is_sha(replaced.get("sha256")) or not _is_time(replaced.get("modified")):
        raise SaveRefused("replaced must be {sha256, modified, base_sha256, base_modified} of the version on disk", 400)
    base_sha, base_time = replaced.get("base_sha256"), replaced.get("base_modified")
    if not (base_sha is None or _is_sha(base_sha)) or not (base_time is None or _is_time(base_time)):
        raise SaveRefused("replaced.base_sha256 / base_modified: the version this server last handed out, or null", 400)
    if replaced["sha256"] == saved_sha or replaced["sha256"] == base_sha:
        return None
    return {
        "sha256": replaced["sha256"],
        "modified": replaced["modified"],
        "base_sha256": base_sha,
        "base_modified": base_time,
    }


def replaced_version_origin(file: str, sha256: str) -> dict[str, Any]:
    """Who saved the version ``sha256`` of ``file`` and when, from the hub's own audit log
    (the last ``graph_save`` of that content there), or ``{}`` when the log does not have it."""
    try:
        events = audit.read(kinds=["graph_save"]).events
    except (FileNotFoundError, OSError):
        return {}
    for event in reversed(events):
        if event.get("file") == file and event.get("sha256") == sha256:
            return {"replaced_saved_by": event.get("user"), "replaced_saved_at": event.get("ts")}
    return {}


def hub_handlers() -> list[tuple[str, Any]]:
    """Handlers the hub adds (``c.JupyterHub.extra_handlers``): the graph-save endpoint."""
    import asyncio

    from jupyterhub.apihandlers.base import APIHandler
    from jupyterhub.scopes import needs_scope
    from tornado import web

    from brepflow_lab.hub.config import active, user_teams

    class GraphSaveAuditHandler(APIHandler):
        """``POST /hub/api/brepflow/audit/<user>``: record a graph save of ``<user>``."""

        @needs_scope("users:activity")
        async def post(self, user_name: str) -> None:
            body = self.get_json_body()
            caller = getattr(self.current_user, "name", None)
            user = self.find_user(user_name)
            if user is None:
                raise web.HTTPError(404)
            server = body.get("server") if isinstance(body, dict) else None
            server = server if isinstance(server, str) else ""
            running = server in user.orm_spawners and user.spawners[server].active
            try:
                data = await asyncio.to_thread(
                    verify_graph_save,
                    body,
                    user=user_name,
                    caller=caller,
                    teams=user_teams(user, active()),
                    server_running=running,
                    settings=active(),
                )
            except SaveRefused as exc:
                reported = body if isinstance(body, dict) else {}
                audit.record(
                    "graph_save_refused",
                    user=user_name,
                    by=caller,
                    reason=str(exc),
                    status=exc.status,
                    **{
                        f"reported_{k}": str(reported[k])[:300]
                        for k in ("path", "file", "sha256", "team")
                        if k in reported
                    },
                )
                raise web.HTTPError(exc.status, str(exc)) from None
            event = audit.record("graph_save", user=user_name, **data)
            if "replaced" in data:
                origin = await asyncio.to_thread(replaced_version_origin, data["file"], data["replaced"]["sha256"])
                audit.record("newer_version_replaced", user=user_name, **_replacement_event(data), **origin)
            self.set_status(201)
            self.write(json.dumps(event or {}))

    return [(r"/api/brepflow/audit/([^/]+)", GraphSaveAuditHandler)]
