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

Hub side
    :class:`GraphSaveAuditHandler` receives the event. Its URL carries the user name and the
    request must hold ``users:activity`` for that user — which a server's token has for its own
    user only — so nobody can record a save in another user's name. The hub writes the log; users
    never need write access to it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import urllib.request
from pathlib import Path
from typing import Any

from brepflow_lab.hub import audit

__all__ = ["hub_handlers", "post_save_hook"]

log = logging.getLogger("brepflow_lab.hub.server_ext")
GRAPH_SUFFIX = ".bflow.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def post_save_hook(model: dict[str, Any], os_path: str, contents_manager: Any = None, **kwargs: Any) -> None:
    """Contents-manager post-save hook: record saves of ``*.bflow.json`` files."""
    try:
        data = graph_save_event(model, os_path)
        if data is None:
            return
        if os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_API_URL"):
            _send_to_hub(data)
        elif audit.configured_path() is not None:
            audit.record("graph_save", user=os.environ.get("JUPYTERHUB_USER") or getpass.getuser(), **data)
    except Exception:
        log.exception("brepflow: could not record the save of %s in the audit log", os_path)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "brepflow_lab.hub.server_ext"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    serverapp.contents_manager.register_post_save_hook(post_save_hook)
    serverapp.log.info("brepflow: graph saves (*.bflow.json) are recorded in the hub's audit log")


# -- hub side ---------------------------------------------------------------------------------------


def hub_handlers() -> list[tuple[str, Any]]:
    """Handlers the hub adds (``c.JupyterHub.extra_handlers``): the graph-save endpoint."""
    from jupyterhub.apihandlers.base import APIHandler
    from jupyterhub.scopes import needs_scope
    from tornado import web

    class GraphSaveAuditHandler(APIHandler):
        """``POST /hub/api/brepflow/audit/<user>``: record a graph save of ``<user>``."""

        @needs_scope("users:activity")
        def post(self, user_name: str) -> None:
            body = self.get_json_body()
            if not isinstance(body, dict):
                raise web.HTTPError(400, "send a JSON object {path, sha256, bytes[, team, server]}")
            path, sha = body.get("path"), body.get("sha256")
            if not isinstance(path, str) or not path.endswith(GRAPH_SUFFIX):
                raise web.HTTPError(400, f"path must name a {GRAPH_SUFFIX} file")
            if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise web.HTTPError(400, "sha256 must be 64 lowercase hex digits")
            data = {k: body[k] for k in ("path", "file", "sha256", "bytes", "team", "server") if k in body}
            caller = getattr(self.current_user, "name", None)
            if caller and caller != user_name:
                data["recorded_by"] = caller
            event = audit.record("graph_save", user=user_name, **data)
            self.set_status(201)
            self.write(json.dumps(event or {}))

    return [(r"/api/brepflow/audit/([^/]+)", GraphSaveAuditHandler)]
