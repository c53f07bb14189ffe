"""Wiring ``hub.yaml`` settings into JupyterHub: what ``jupyterhub_config.py`` runs.

Why this is its own module
--------------------------
:mod:`brepflow_lab.hub.config` is the settings model — dataclasses, loading, validation,
:func:`~brepflow_lab.hub.config.describe`, the teams and role of a user. It imports nothing of
JupyterHub at import time, and the CLI (``brepflow-lab hub config``, backups), the spawner, the
authenticators and the viewer service all use it. Turning those settings into JupyterHub's
traitlets config (``c.JupyterHub``, the authenticator, services, roles, groups, the spawner) is
needed in exactly one place, the hub process reading ``jupyterhub_config.py``; it lives here so the
model stays small and free of hub wiring. This module imports the model; the model imports this
one only lazily, for the old import path below.

* :func:`configure` is the entry point of ``jupyterhub_config.py``: it reads the file named by
  ``$BREPFLOW_HUB_CONFIG`` (default: the ``hub.yaml`` beside it, else the built-in defaults), merges
  ``$BREPFLOW_HUB_OVERRIDES`` (JSON, used by ``brepflow-lab hub --port`` and by tests) and
  :func:`apply`-es the result.
* :func:`apply` sets JupyterHub's config object from a :class:`~brepflow_lab.hub.config.Settings`
  and makes those settings :func:`~brepflow_lab.hub.config.active` in the hub process.

``from brepflow_lab.hub.config import configure`` (and ``apply``) keeps working, resolved on first
use, for ``jupyterhub_config.py`` files written before this module existed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from brepflow_lab.hub.config import HubConfigError, Settings, activate, load_settings, user_role

__all__ = [
    "ENV_CONFIG",
    "ENV_OVERRIDES",
    "apply",
    "config_path_from_env",
    "configure",
    "environment_warning",
    "overrides_from_env",
]

log = logging.getLogger("brepflow_lab.hub")

ENV_CONFIG = "BREPFLOW_HUB_CONFIG"
ENV_OVERRIDES = "BREPFLOW_HUB_OVERRIDES"


# -- pieces of JupyterHub's config -----------------------------------------------------------------


def _spawner_class(kind: str) -> str:
    return {
        "brepflow": "brepflow_lab.hub.spawner.BrepFlowSpawner",
        "simple": "jupyterhub.spawner.SimpleLocalProcessSpawner",
        "local": "jupyterhub.spawner.LocalProcessSpawner",
    }.get(kind, kind)


def _default_url(settings: Settings) -> Any:
    viewer_url = f"{settings.hub.base_url}services/{settings.viewer.name}/"

    def default_url(handler: Any) -> str:
        user = handler.current_user
        if user is not None and user_role(user, settings) == "viewer" and settings.viewer.enabled:
            return viewer_url
        return f"{settings.hub.base_url}hub/home"

    return default_url


def _role_specs(s: Settings) -> list[dict[str, Any]]:
    roles: list[dict[str, Any]] = []
    for name, role in s.roles.items():
        if name == "admin":
            continue  # JupyterHub's built-in admin role cannot be redefined; it goes with the admin flag
        spec: dict[str, Any] = {"name": name, "description": role.description, "scopes": list(role.scopes)}
        if role.group:
            spec["groups"] = [role.group]
        roles.append(spec)
    if s.culler.enabled:
        scopes = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
        if s.culler.cull_users:
            scopes.append("admin:users")
        roles.append(
            {"name": "idle-culler", "description": "Stops idle servers", "scopes": scopes, "services": ["idle-culler"]}
        )
    if s.viewer.enabled:
        roles.append(
            {
                "name": "brepflow-viewer-service",
                "description": "Reads users' teams for the read-only team viewer",
                "scopes": [
                    "list:users",
                    "read:users",
                    "read:users:name",
                    "read:users:groups",
                    "list:groups",
                    "read:groups",
                ],
                "services": [s.viewer.name],
            }
        )
    return roles


def _services(s: Settings) -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = []
    if s.culler.enabled:
        cmd = [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={s.culler.timeout}",
            f"--cull-every={s.culler.every}",
            f"--concurrency={s.culler.concurrency}",
        ]
        if s.culler.max_age:
            cmd.append(f"--max-age={s.culler.max_age}")
        if s.culler.cull_users:
            cmd.append("--cull-users")
        services.append({"name": "idle-culler", "command": cmd})
    if s.viewer.enabled:
        services.append(
            {
                "name": s.viewer.name,
                "url": f"http://127.0.0.1:{s.viewer.port}",
                "command": [sys.executable, "-m", "brepflow_lab.hub.viewer_service"],
                "environment": {
                    "BREPFLOW_TEAM_ROOT": s.storage.team_root,
                    "BREPFLOW_AUDIT_LOG": str(s.audit_log),
                    "BREPFLOW_VIEWER_RENDER_TIMEOUT": str(s.viewer.render_timeout),
                    "BREPFLOW_VIEWER_RENDER_MEMORY": s.viewer.render_memory,
                    "BREPFLOW_VIEWER_MAX_GRAPHS": str(s.viewer.max_graphs),
                    "BREPFLOW_VIEWER_STATE": str(s.state_dir / "viewer"),
                    "BREPFLOW_VIEWER_PYTHON": str(Path(s.storage.env_prefix) / "bin" / "python"),
                },
                "oauth_no_confirm": True,
                "display": True,
                "info": {"description": "Read-only BrepFlow graphs of your teams"},
            }
        )
    return services


def _groups(s: Settings) -> dict[str, Any]:
    groups: dict[str, Any] = {}
    for team, spec in s.teams.items():
        groups[team] = {"users": list(spec.members), "properties": {"kind": "team", "description": spec.description}}
    for role_name, role in s.roles.items():
        if role.group:
            groups[role.group] = {"users": list(role.members), "properties": {"kind": "role", "role": role_name}}
    return groups


def environment_warning(s: Settings) -> str | None:
    """The shared environment's problem (stale, missing) when this hub uses it, else ``None``.

    BrepFlowSpawner runs every server from it and the viewer renders with its Python; a hub with
    another spawner and no environment at all has nothing to warn about.
    """
    from brepflow_lab.hub.users import environment_problem

    if s.spawner.kind != "brepflow" and not (Path(s.storage.env_prefix) / "bin" / "python").exists():
        return None
    try:
        return environment_problem(s.storage.env_prefix)
    except Exception as exc:  # a warning must never stop the hub
        return f"could not check the shared environment {s.storage.env_prefix}: {exc}"


# -- applying --------------------------------------------------------------------------------------


def apply(c: Any, settings: Settings) -> None:
    """Set JupyterHub's config object ``c`` from ``settings`` (what ``jupyterhub_config.py`` does)."""
    activate(settings)
    s = settings
    from brepflow_lab.hub import audit
    from brepflow_lab.hub.private import secure_state

    # at every start: 0700/0600 however the folder came to exist; refused if another account owns it
    secure_state(s)
    audit.configure(s.audit_log)

    hub = c.JupyterHub
    hub.ip = s.hub.ip
    hub.port = s.hub.port
    hub.hub_ip = s.hub.hub_ip
    hub.hub_port = s.hub.hub_port
    hub.base_url = s.hub.base_url
    if s.hub.public_url:
        hub.public_url = s.hub.public_url
    hub.db_url = s.db_url
    hub.cookie_secret_file = str(s.state_dir / "jupyterhub_cookie_secret")
    hub.pid_file = str(s.state_dir / "jupyterhub.pid")
    hub.log_level = s.hub.log_level.upper()
    hub.cookie_max_age_days = s.hub.cookie_max_age_days
    hub.shutdown_on_logout = s.hub.shutdown_on_logout
    hub.cleanup_servers = True
    hub.cleanup_proxy = True
    hub.default_url = _default_url(s)
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.hub.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(s.state_dir / "proxy.pid")
    c.ConfigurableHTTPProxy.should_start = True

    # authentication
    auth = s.authentication
    admins = list(s.roles["admin"].members)
    if auth.type == "local":
        hub.authenticator_class = "brepflow_lab.hub.auth.BrepFlowLocalAuthenticator"
        la = c.BrepFlowLocalAuthenticator
        la.db_url = s.db_url
        la.open_signup = auth.local.open_signup
        la.default_role = auth.local.default_role
        la.min_password_length = auth.local.min_password_length
        la.check_common_passwords = auth.local.check_common_passwords
        la.common_passwords_file = auth.local.common_passwords_file
        la.max_failed_logins = auth.local.max_failed_logins
        la.lockout_seconds = auth.local.lockout_seconds
        la.max_signups_per_hour = auth.local.max_signups_per_hour
        la.admin_users = set(admins)
        la.allow_all = True  # only approved accounts authenticate at all
    else:
        o = auth.oauth
        hub.authenticator_class = "brepflow_lab.hub.auth.BrepFlowOAuthenticator"
        oa = c.BrepFlowOAuthenticator
        oa.login_service = o.login_service
        oa.client_id = o.client_id
        oa.client_secret = o.client_secret or os.environ.get(o.client_secret_env, "")
        oa.authorize_url = o.authorize_url
        oa.token_url = o.token_url
        oa.userdata_url = o.userdata_url
        oa.oauth_callback_url = s.oauth_callback_url()
        oa.scope = list(o.scope)
        oa.username_claim = o.username_claim
        oa.provider_groups_claim = o.groups_claim
        oa.provider_allowed_groups = set(o.allowed_groups)
        oa.provider_admin_groups = set(o.admin_groups)
        oa.provider_viewer_groups = set(o.viewer_groups)
        oa.team_map = dict(o.team_map)
        oa.team_names = set(s.teams)
        oa.allowed_users = set(o.allowed_users)
        oa.admin_users = set(admins)
        oa.enable_pkce = o.pkce
        oa.validate_server_cert = o.validate_server_cert
        oa.logout_redirect_url = o.logout_redirect_url
        oa.auth_refresh_age = o.auth_refresh_age
        oa.manage_groups = o.teams_from == "provider"
        oa.enable_auth_state = False
    c.Authenticator.admin_users = set(admins)

    # teams, roles, services
    if not (auth.type == "oauth" and auth.oauth.teams_from == "provider"):
        hub.load_groups = _groups(s)
    hub.load_roles = _role_specs(s)
    hub.services = _services(s)
    hub.last_activity_interval = s.activity_interval
    hub.authenticate_prometheus = s.metrics.authenticate
    hub.allow_named_servers = True

    from brepflow_lab.hub.audit import audit_request_logger
    from brepflow_lab.hub.server_ext import hub_handlers

    hub.tornado_settings = {"log_function": audit_request_logger}
    from brepflow_lab.hub.pages import TEMPLATES, template_vars

    hub.template_paths = [str(TEMPLATES)]  # a viewer's home, the admins' navigation (pages.py)
    hub.template_vars = template_vars(s)
    extra = list(hub_handlers())
    try:
        from brepflow_lab.hub import quota
    except ImportError:
        quota = None  # type: ignore[assignment]
    if quota is not None:
        page = getattr(quota, "QuotaPageHandler", None)
        if page is not None:
            extra.append((r"/brepflow/quotas", page))
        limit = getattr(quota, "named_server_limit", None)
        if limit is not None:
            hub.named_server_limit_per_user = limit
    hub.extra_handlers = extra

    # spawner
    sp = s.spawner
    hub.spawner_class = _spawner_class(sp.kind)
    spawner = c.Spawner
    spawner.default_url = sp.default_url
    spawner.start_timeout = sp.start_timeout
    spawner.http_timeout = sp.http_timeout
    if sp.notebook_dir:
        spawner.notebook_dir = sp.notebook_dir
    args = ["--ServerApp.jpserver_extensions=brepflow_lab.hub.server_ext=True"]
    # every spawner kind: clear disk-quota errors, and the graph versions each server handed out
    args.append("--ServerApp.contents_manager_class=brepflow_lab.hub.disk.QuotaContentsManager")
    # Real-time collaboration stays off on the hub's servers until team co-editing lands
    # (issue 13, item 8): with it on, a document is saved by the server's room, so a save past
    # the disk quota no longer reaches the user as JupyterLab's "Disk quota exceeded" dialog
    # (tests/hub/test_disk_quota_browser.py), and read-only viewers are not yet enforced on the
    # room's websocket. Studio tabs then use the single-writer save path.
    args.append("--YDocExtension.disable_rtc=True")
    if os.geteuid() == 0 and sp.kind in ("simple", "local"):
        args.append("--allow-root")  # these spawners run every server as the hub's user
    spawner.args = args + list(sp.args)
    env = {"JUPYTERHUB_ACTIVITY_INTERVAL": str(s.activity_interval), "JUPYTER_WIDGETS_ECHO": "0"}
    env.update(sp.environment)
    spawner.environment = env
    bf = c.BrepFlowSpawner
    bf.quota_table = s.quotas
    if quota is not None:
        for warning in quota.table_warnings(s.quotas):
            log.warning("%s", warning)  # the hub's log, at start-up; `brepflow-lab hub config` shows them too
    bf.home_root = s.storage.home_root
    bf.team_root = s.storage.team_root
    bf.disk_root = s.storage.disk_root
    bf.env_prefix = s.storage.env_prefix
    stale = environment_warning(s)
    if stale:
        log.warning("%s", stale)  # the hub's log at start; `brepflow-lab hub` and `hub config` say it too


def config_path_from_env(default_dir: Path | None = None) -> Path | None:
    """``$BREPFLOW_HUB_CONFIG``, else ``hub.yaml`` in ``default_dir`` if there, else ``None`` (defaults)."""
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    if default_dir is not None and (default_dir / "hub.yaml").is_file():
        return default_dir / "hub.yaml"
    return None


def overrides_from_env() -> dict[str, Any]:
    """``$BREPFLOW_HUB_OVERRIDES`` as a dict (merged over ``hub.yaml``); ``{}`` when unset."""
    text = os.environ.get(ENV_OVERRIDES)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HubConfigError([f"${ENV_OVERRIDES} is not valid JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise HubConfigError([f"${ENV_OVERRIDES} must be a JSON object"])
    return data


def configure(c: Any, default_dir: str | os.PathLike[str] | None = None) -> Settings:
    """Entry point of ``jupyterhub_config.py``: load ``hub.yaml`` + overrides and apply them."""
    path = config_path_from_env(Path(default_dir) if default_dir is not None else None)
    settings = load_settings(path, overrides_from_env())
    # Everything the hub process writes from now on (the database on first start, pid files, the
    # viewer's cache) is private to it; users' servers get the usual umask back (below, and in
    # BrepFlowSpawner's preexec), so their files keep their usual modes.
    os.umask(0o077)
    apply(c, settings)
    section = c.LocalProcessSpawner
    kwargs = dict(section["popen_kwargs"]) if "popen_kwargs" in section else {}
    kwargs.setdefault("umask", 0o022)
    c.LocalProcessSpawner.popen_kwargs = kwargs
    return settings
