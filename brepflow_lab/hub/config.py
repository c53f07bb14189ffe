"""``hub.yaml``: every hub setting as a documented dataclass field — the settings model.

Design
------
* **Config as documentation.** Each section is a dataclass; each field carries its help text in
  ``metadata["help"]`` and its default in the field itself. ``hub_config/hub.yaml`` writes out the
  same defaults with the same help as comments (a test keeps the two equal), and
  :func:`describe` prints them (``brepflow-lab hub config --describe``).
* **Strict loading.** :func:`load_settings` refuses unknown keys (with the valid ones and the
  closest match), wrong types (with the key's path), unknown roles or scopes, and team names that
  clash with role groups — all problems at once, before JupyterHub starts.
* **No JupyterHub wiring here.** This module imports nothing of JupyterHub at import time; the
  CLI, the spawner, the authenticators and the viewer service read settings through it. Applying
  them to JupyterHub's config object (:func:`~brepflow_lab.hub.wiring.configure`, called by the thin
  ``jupyterhub_config.py``, and :func:`~brepflow_lab.hub.wiring.apply`) is
  :mod:`brepflow_lab.hub.wiring`; ``configure`` and ``apply`` are still importable from here for
  ``jupyterhub_config.py`` files written before the split.

Teams and roles
---------------
Teams are JupyterHub groups. A role (admin, designer, viewer) is global to a user — a designer
edits in all their teams, a viewer only looks at them — which keeps Unix permissions and RBAC
one-dimensional. Role membership is also a JupyterHub group (``roles.<role>.group``, by default
``designers`` / ``viewers``), because JupyterHub can assign roles to groups from config while group
membership stays editable at run time (admin page, REST API, sign-up approval, or the OAuth
provider). Admins are users with JupyterHub's admin flag. Groups carry ``properties.kind`` =
``"team"`` or ``"role"``; :func:`user_teams` and :func:`user_role` read a user's teams and role.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

__all__ = [
    "AuthenticationSettings",
    "CullerSettings",
    "HubConfigError",
    "HubSettings",
    "LocalAuthSettings",
    "MetricsSettings",
    "OAuthSettings",
    "RoleSettings",
    "Settings",
    "SpawnerSettings",
    "StorageSettings",
    "TeamSettings",
    "ViewerSettings",
    "activate",
    "active",
    "apply",
    "configure",
    "describe",
    "load_settings",
    "user_role",
    "user_teams",
]

ROLE_NAMES = ("admin", "designer", "viewer")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class HubConfigError(ValueError):
    """``hub.yaml`` has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str], source: str = "hub.yaml") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


def _h(help: str) -> dict[str, str]:
    """A field's metadata: its help text (shown by ``describe`` and written in hub.yaml)."""
    return {"help": help}


# -- sections ---------------------------------------------------------------------------------


@dataclass
class HubSettings:
    ip: str = field(
        default="127.0.0.1", metadata=_h("Address the proxy listens on for users (0.0.0.0 to serve the network).")
    )
    port: int = field(default=8000, metadata=_h("Port the proxy listens on for users."))
    hub_ip: str = field(
        default="127.0.0.1", metadata=_h("Address of the hub process itself (the proxy and servers talk to it).")
    )
    hub_port: int = field(default=8081, metadata=_h("Port of the hub process itself."))
    proxy_api_port: int = field(default=8001, metadata=_h("Port of the proxy's REST API (always on 127.0.0.1)."))
    base_url: str = field(
        default="/", metadata=_h("URL prefix of the whole hub, e.g. /cad/ behind a shared web server.")
    )
    public_url: str = field(
        default="", metadata=_h("Full public URL (https://cad.example.com/) when behind TLS termination; empty: none.")
    )
    state_dir: str = field(
        default="/srv/brepflow/hub",
        metadata=_h("Folder for the hub's own state: database, cookie secret, pid files, audit log."),
    )
    db_url: str = field(
        default="", metadata=_h("SQLAlchemy database URL; empty: sqlite:///<state_dir>/jupyterhub.sqlite.")
    )
    log_level: str = field(default="INFO", metadata=_h("Log level of the hub: DEBUG, INFO, WARNING or ERROR."))
    cookie_max_age_days: float = field(default=14.0, metadata=_h("How long a login cookie stays valid, in days."))
    shutdown_on_logout: bool = field(default=False, metadata=_h("Stop a user's servers when they log out."))


@dataclass
class LocalAuthSettings:
    open_signup: bool = field(
        default=False, metadata=_h("Approve sign-ups automatically (no admin approval). Off: an admin approves each.")
    )
    default_role: str = field(
        default="designer", metadata=_h("Role an approved sign-up gets unless the approving admin picks another.")
    )
    min_password_length: int = field(
        default=10, metadata=_h("Shortest password accepted at sign-up and password change.")
    )
    check_common_passwords: bool = field(
        default=True, metadata=_h("Refuse passwords from the built-in list of common passwords.")
    )
    common_passwords_file: str = field(
        default="",
        metadata=_h("Extra list of refused passwords, one per line (e.g. a 100k-entry breach list); empty: none."),
    )
    max_failed_logins: int = field(default=5, metadata=_h("Failed logins in a row that lock an account."))
    lockout_seconds: int = field(
        default=600, metadata=_h("How long a locked account stays locked (an admin can unlock earlier).")
    )
    max_signups_per_hour: int = field(
        default=5,
        metadata=_h("Sign-ups accepted from one client address per hour; more get HTTP 429 (0: no limit)."),
    )


@dataclass
class OAuthSettings:
    login_service: str = field(default="OAuth 2.0", metadata=_h("Name shown on the login button ('Sign in with ...')."))
    client_id: str = field(default="", metadata=_h("OAuth client id registered at the provider."))
    client_secret: str = field(
        default="", metadata=_h("OAuth client secret; prefer client_secret_env so no secret sits in hub.yaml.")
    )
    client_secret_env: str = field(
        default="OAUTH_CLIENT_SECRET",
        metadata=_h("Environment variable read for the client secret when client_secret is empty."),
    )
    authorize_url: str = field(default="", metadata=_h("Provider's authorization endpoint."))
    token_url: str = field(default="", metadata=_h("Provider's token endpoint."))
    userdata_url: str = field(default="", metadata=_h("Provider's userinfo endpoint (called with the access token)."))
    callback_url: str = field(
        default="",
        metadata=_h("Redirect URI registered at the provider; empty: <public or local URL>hub/oauth_callback."),
    )
    scope: list[str] = field(
        default_factory=lambda: ["openid", "profile", "email", "groups"],
        metadata=_h("Scopes requested from the provider."),
    )
    username_claim: str = field(default="preferred_username", metadata=_h("Userinfo key that holds the hub user name."))
    groups_claim: str = field(
        default="groups",
        metadata=_h("Userinfo key with the user's groups (dotted path for nested keys); empty: the provider has none."),
    )
    teams_from: str = field(
        default="provider",
        metadata=_h(
            "'provider': teams follow the provider's groups at every login (JupyterHub's manage_groups; the hub's "
            "group API is then read-only). 'config': teams come from `teams` in this file and the admin page."
        ),
    )
    team_map: dict[str, str] = field(
        default_factory=dict,
        metadata=_h(
            "Provider group -> team name. A provider group named like a team in `teams` maps to it without an entry."
        ),
    )
    allowed_groups: list[str] = field(
        default_factory=list,
        metadata=_h("Provider groups whose members may log in. Empty: only allowed_users and admins may."),
    )
    allowed_users: list[str] = field(
        default_factory=list, metadata=_h("User names that may log in whatever their groups.")
    )
    admin_groups: list[str] = field(default_factory=list, metadata=_h("Provider groups whose members are hub admins."))
    viewer_groups: list[str] = field(
        default_factory=list,
        metadata=_h("Provider groups whose members get the viewer role; every other allowed user is a designer."),
    )
    pkce: bool = field(default=True, metadata=_h("Use PKCE (S256) in the authorization-code flow."))
    validate_server_cert: bool = field(default=True, metadata=_h("Verify the provider's TLS certificate."))
    logout_redirect_url: str = field(
        default="", metadata=_h("Where to send users after logout (e.g. the provider's logout); empty: hub page.")
    )
    auth_refresh_age: int = field(
        default=300,
        metadata=_h("Seconds after which a user's groups are re-read from the provider on their next request."),
    )


@dataclass
class AuthenticationSettings:
    type: str = field(
        default="local",
        metadata=_h("'local': accounts in the hub database with sign-up; 'oauth': an OAuth2/OIDC provider."),
    )
    local: LocalAuthSettings = field(
        default_factory=LocalAuthSettings, metadata=_h("Settings of local accounts (type: local).")
    )
    oauth: OAuthSettings = field(
        default_factory=OAuthSettings, metadata=_h("Settings of the OAuth2/OIDC provider (type: oauth).")
    )


@dataclass
class TeamSettings:
    description: str = field(default="", metadata=_h("What the team works on (shown in the viewer)."))
    members: list[str] = field(
        default_factory=list,
        metadata=_h("Initial members; more join through approval, the admin page or the provider."),
    )


@dataclass
class RoleSettings:
    description: str = field(default="", metadata=_h("What the role may do."))
    group: str = field(
        default="", metadata=_h("JupyterHub group whose members hold this role ('' for admin: the admin flag).")
    )
    members: list[str] = field(default_factory=list, metadata=_h("Initial members of the role."))
    scopes: list[str] = field(default_factory=list, metadata=_h("Every JupyterHub scope the role grants, written out."))


def _default_roles() -> dict[str, RoleSettings]:
    return {
        "user": RoleSettings(
            description="Every logged-in user: see themselves, make API tokens, open the team viewer.",
            scopes=[
                "read:users:name!user",
                "read:users:groups!user",
                "read:users:activity!user",
                "read:users!user",
                "tokens!user",
                "read:tokens!user",
                "access:services!service=brepflow-viewer",
            ],
        ),
        "admin": RoleSettings(
            description="Hub administrators: everything, including approving sign-ups and managing teams.",
            members=["admin"],
            scopes=[
                "admin-ui",
                "admin:users",
                "admin:servers",
                "admin:services",
                "admin:groups",
                "tokens",
                "list:services",
                "read:services",
                "read:hub",
                "proxy",
                "shutdown",
                "access:services",
                "access:servers",
                "read:roles",
                "read:metrics",
                "shares",
            ],
        ),
        "designer": RoleSettings(
            description="Designers: their own JupyterLab servers, editing in their teams' project folders.",
            group="designers",
            scopes=[
                "servers!user",
                "read:servers!user",
                "start:servers!user",
                "delete:servers!user",
                "access:servers!user",
                "users:activity!user",
                "read:users:activity!user",
                "access:services!service=brepflow-viewer",
            ],
        ),
        "viewer": RoleSettings(
            description="Viewers: read-only access to their teams' graphs in the viewer service; no servers.",
            group="viewers",
            scopes=[
                "read:users:name!user",
                "read:users:groups!user",
                "access:services!service=brepflow-viewer",
            ],
        ),
    }


def _default_quotas() -> dict[str, Any]:
    return {
        "default": {
            "memory": "4G",
            "cpu": 1.0,
            "pids": 512,
            "named_servers": 2,
            "disk": "2G",
            "node_seconds": 120,
            "preview_triangles": 2000000,
            "dask_workers": 2,
            "dask_memory": "1GiB",
        },
        "teams": {},
        "users": {},
    }


@dataclass
class StorageSettings:
    home_root: str = field(
        default="/srv/brepflow/home", metadata=_h("Users' home folders (<home_root>/<user>, mode 0700).")
    )
    team_root: str = field(default="/srv/brepflow/teams", metadata=_h("Team project folders (<team_root>/<team>)."))
    disk_root: str = field(
        default="/srv/brepflow/disks", metadata=_h("Per-user disk images that enforce the disk quota.")
    )
    env_prefix: str = field(
        default="/opt/brepflow-lab/env",
        metadata=_h("Python environment every user's server runs from (made by `brepflow-lab hub setup`)."),
    )
    audit_log: str = field(default="", metadata=_h("Audit log (JSON lines); empty: <state_dir>/audit.log."))


@dataclass
class CullerSettings:
    enabled: bool = field(default=True, metadata=_h("Run jupyterhub-idle-culler as a managed service."))
    timeout: int = field(default=3600, metadata=_h("Stop servers idle for this many seconds."))
    every: int = field(default=300, metadata=_h("Check for idle servers every this many seconds."))
    max_age: int = field(default=0, metadata=_h("Stop servers older than this many seconds even if active; 0: never."))
    cull_users: bool = field(
        default=False, metadata=_h("Also delete idle users from the hub (not their files). Off: keep users.")
    )
    concurrency: int = field(default=10, metadata=_h("Requests the culler makes to the hub at once."))
    activity_interval: int = field(
        default=300,
        metadata=_h(
            "How often servers report activity, in seconds. Lowered to timeout/3 when the timeout is shorter than "
            "3x this, so servers in use are never culled."
        ),
    )


@dataclass
class ViewerSettings:
    enabled: bool = field(
        default=True, metadata=_h("Run the read-only team viewer as a managed service (/services/<name>/).")
    )
    name: str = field(
        default="brepflow-viewer", metadata=_h("Service name (part of its URL and of the access:services scope).")
    )
    port: int = field(
        default=8091, metadata=_h("Port the viewer listens on (127.0.0.1; users reach it through the proxy).")
    )
    render_timeout: int = field(
        default=120, metadata=_h("Seconds one graph may take to evaluate and export for the viewer.")
    )
    render_memory: str = field(default="2G", metadata=_h("Memory limit of one graph evaluation in the viewer."))
    max_graphs: int = field(default=500, metadata=_h("Most graphs listed per team."))


@dataclass
class MetricsSettings:
    authenticate: bool = field(
        default=True,
        metadata=_h(
            "Require a token with read:metrics for /hub/metrics (Prometheus). Off: anyone who reaches the hub."
        ),
    )


@dataclass
class SpawnerSettings:
    kind: str = field(
        default="brepflow",
        metadata=_h(
            "'brepflow': BrepFlowSpawner (each user's own Unix account, cgroup quotas); 'simple': JupyterHub's "
            "SimpleLocalProcessSpawner (everything as the hub's user; for trying things out); or an import path."
        ),
    )
    default_url: str = field(default="/lab", metadata=_h("Page a user's server opens on."))
    start_timeout: int = field(default=120, metadata=_h("Seconds a server may take to start."))
    http_timeout: int = field(default=60, metadata=_h("Seconds a started server may take to answer HTTP."))
    notebook_dir: str = field(
        default="", metadata=_h("Root folder of each server; empty: the spawner's default (the user's home).")
    )
    args: list[str] = field(
        default_factory=list, metadata=_h("Extra command-line arguments for every single-user server.")
    )
    environment: dict[str, str] = field(
        default_factory=dict, metadata=_h("Extra environment variables for every single-user server.")
    )


@dataclass
class Settings:
    hub: HubSettings = field(default_factory=HubSettings, metadata=_h("The hub and proxy processes."))
    authentication: AuthenticationSettings = field(
        default_factory=AuthenticationSettings, metadata=_h("How users log in.")
    )
    teams: dict[str, TeamSettings] = field(
        default_factory=dict, metadata=_h("Teams (JupyterHub groups) by name: description and initial members.")
    )
    roles: dict[str, RoleSettings] = field(
        default_factory=_default_roles, metadata=_h("The roles user, admin, designer and viewer.")
    )
    quotas: dict[str, Any] = field(
        default_factory=_default_quotas,
        metadata=_h(
            "Resource limits: `default` for everyone, `teams` and `users` override parts of it (see quota.py)."
        ),
    )
    storage: StorageSettings = field(
        default_factory=StorageSettings, metadata=_h("Where homes, team folders, disks and the audit log live.")
    )
    culler: CullerSettings = field(default_factory=CullerSettings, metadata=_h("Stopping idle servers."))
    viewer: ViewerSettings = field(default_factory=ViewerSettings, metadata=_h("The read-only team viewer service."))
    metrics: MetricsSettings = field(
        default_factory=MetricsSettings, metadata=_h("Prometheus metrics at /hub/metrics.")
    )
    spawner: SpawnerSettings = field(default_factory=SpawnerSettings, metadata=_h("How users' servers are started."))

    # -- derived values -------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return Path(self.hub.state_dir)

    @property
    def db_url(self) -> str:
        return self.hub.db_url or f"sqlite:///{self.state_dir / 'jupyterhub.sqlite'}"

    @property
    def audit_log(self) -> Path:
        return Path(self.storage.audit_log) if self.storage.audit_log else self.state_dir / "audit.log"

    @property
    def activity_interval(self) -> int:
        """The activity interval actually used (see ``culler.activity_interval``)."""
        interval = self.culler.activity_interval
        if self.culler.enabled and self.culler.timeout < 3 * interval:
            interval = max(10, self.culler.timeout // 3)
        return interval

    def role_groups(self) -> dict[str, str]:
        """Role -> JupyterHub group holding it (designer, viewer)."""
        return {name: role.group for name, role in self.roles.items() if role.group}

    def public_base(self) -> str:
        if self.hub.public_url:
            return self.hub.public_url.rstrip("/") + "/"
        host = "127.0.0.1" if self.hub.ip in ("", "0.0.0.0") else self.hub.ip
        return f"http://{host}:{self.hub.port}{self.hub.base_url.rstrip('/')}/"

    def oauth_callback_url(self) -> str:
        return self.authentication.oauth.callback_url or self.public_base() + "hub/oauth_callback"


# -- loading ----------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _convert(value: Any, tp: Any, where: str, problems: list[str]) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a mapping, got {type(value).__name__} {value!r}")
            value = {}
        return _build(tp, value, where, problems)
    if origin is dict:
        _key_tp, val_tp = typing.get_args(tp)
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a mapping, got {type(value).__name__} {value!r}")
            return {}
        return {str(k): _convert(v, val_tp, f"{where}.{k}", problems) for k, v in value.items()}
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if value is None:
            return []
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {type(value).__name__} {value!r}")
            return []
        return [_convert(v, item_tp, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {value!r}")
        return bool(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: expected a whole number, got {value!r}")
            return 0
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where}: expected a number, got {value!r}")
            return 0.0
        return float(value)
    if tp is str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            problems.append(f"{where}: expected text, got {type(value).__name__} {value!r}")
            return ""
        return str(value)
    return value  # pragma: no cover - every field type is handled above


def _build(cls: Any, data: dict[str, Any], where: str, problems: list[str]) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where + '.' if where else ''}{key}: unknown key{hint}; valid keys: {', '.join(names)}")
            continue
        kwargs[key] = _convert(value, hints[key], f"{where + '.' if where else ''}{key}", problems)
    return cls(**kwargs)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _known_scopes() -> set[str] | None:
    try:
        from jupyterhub.scopes import scope_definitions
    except ImportError:  # pragma: no cover - jupyterhub is in the [hub] extra
        return None
    return set(scope_definitions)


def _validate(s: Settings, problems: list[str]) -> None:
    if s.authentication.type not in ("local", "oauth"):
        problems.append(f"authentication.type: must be 'local' or 'oauth', got {s.authentication.type!r}")
    for name in ("user", *ROLE_NAMES):
        if name not in s.roles:
            problems.append(f"roles: the role '{name}' is missing (roles: {', '.join(s.roles) or 'none'})")
    for name in s.roles:
        if name not in ("user", *ROLE_NAMES):
            problems.append(f"roles.{name}: unknown role; the roles are user, admin, designer and viewer")
    if "admin" in s.roles and s.roles["admin"].group:
        problems.append("roles.admin.group: admins are users with the admin flag; leave group empty")
    for name in ("designer", "viewer"):
        if name in s.roles and not s.roles[name].group:
            problems.append(f"roles.{name}.group: name the JupyterHub group that holds this role")
    groups = [r.group for r in s.roles.values() if r.group]
    if len(set(groups)) != len(groups):
        problems.append(f"roles: each role needs its own group, got {groups}")
    known = _known_scopes()
    if known is not None and "admin" in s.roles:
        from jupyterhub.roles import get_default_roles

        builtin = next(r["scopes"] for r in get_default_roles() if r["name"] == "admin")
        if set(s.roles["admin"].scopes) != set(builtin):
            problems.append(
                "roles.admin.scopes: JupyterHub's admin role cannot be changed; write exactly its scopes: "
                + ", ".join(builtin)
            )
    for name, role in s.roles.items():
        if known is not None:
            for scope in role.scopes:
                base = scope.split("!", 1)[0]
                if base not in known or base in ("self", "inherit"):
                    close = difflib.get_close_matches(base, sorted(known), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    problems.append(f"roles.{name}.scopes: unknown or meta scope '{scope}'{hint}")
        for member in role.members:
            if name == "user":
                problems.append("roles.user.members: every user holds the user role; list no members")
                break
            if not _NAME_RE.match(member):
                problems.append(f"roles.{name}.members: invalid user name {member!r}")
    for team, spec in s.teams.items():
        if not _NAME_RE.match(team):
            problems.append(f"teams.{team}: team names are lowercase letters, digits, '.', '_', '-' (max 64)")
        if team in groups:
            problems.append(f"teams.{team}: a team may not be named like a role group ({', '.join(groups)})")
        for member in spec.members:
            if not _NAME_RE.match(member):
                problems.append(f"teams.{team}.members: invalid user name {member!r}")
    local = s.authentication.local
    if local.default_role not in ("designer", "viewer"):
        problems.append(f"authentication.local.default_role: 'designer' or 'viewer', got {local.default_role!r}")
    if local.min_password_length < 8:
        problems.append("authentication.local.min_password_length: at least 8")
    if local.max_failed_logins < 1:
        problems.append("authentication.local.max_failed_logins: at least 1")
    if local.max_signups_per_hour < 0:
        problems.append("authentication.local.max_signups_per_hour: 0 (no limit) or more")
    if local.common_passwords_file and not Path(local.common_passwords_file).is_file():
        problems.append(f"authentication.local.common_passwords_file: {local.common_passwords_file} does not exist")
    oauth = s.authentication.oauth
    if s.authentication.type == "oauth":
        for key in ("client_id", "authorize_url", "token_url", "userdata_url", "username_claim"):
            if not getattr(oauth, key):
                problems.append(f"authentication.oauth.{key}: required when authentication.type is oauth")
        if not oauth.client_secret and not os.environ.get(oauth.client_secret_env or ""):
            problems.append(
                f"authentication.oauth: no client secret (set client_secret or the environment variable "
                f"{oauth.client_secret_env or '<client_secret_env>'})"
            )
        if oauth.teams_from not in ("provider", "config"):
            problems.append(f"authentication.oauth.teams_from: 'provider' or 'config', got {oauth.teams_from!r}")
        if oauth.teams_from == "provider" and not oauth.groups_claim:
            problems.append("authentication.oauth.groups_claim: required when teams_from is provider")
        if not oauth.allowed_groups and not oauth.allowed_users and not oauth.admin_groups:
            problems.append(
                "authentication.oauth: nobody could log in; set allowed_groups, allowed_users or admin_groups"
            )
    for key in ("port", "hub_port", "proxy_api_port"):
        port = getattr(s.hub, key)
        if not 0 < port < 65536:
            problems.append(f"hub.{key}: a port between 1 and 65535, got {port}")
    if not s.hub.base_url.startswith("/") or not s.hub.base_url.endswith("/"):
        problems.append(f"hub.base_url: must start and end with '/', got {s.hub.base_url!r}")
    if s.hub.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(f"hub.log_level: DEBUG, INFO, WARNING or ERROR, got {s.hub.log_level!r}")
    if s.culler.timeout < 30 or s.culler.every < 5:
        problems.append("culler: timeout must be at least 30 s and every at least 5 s")
    if not _NAME_RE.match(s.viewer.name):
        problems.append(f"viewer.name: invalid service name {s.viewer.name!r}")
    elif s.viewer.enabled:
        grant = f"access:services!service={s.viewer.name}"
        if not any(grant in r.scopes for r in s.roles.values()):
            problems.append(f"roles: no role grants '{grant}', so nobody could open the viewer service")
    if not isinstance(s.quotas.get("default"), dict):
        problems.append("quotas.default: a mapping of limits is required (memory, cpu, pids, ...)")
    for key in s.quotas:
        if key not in ("default", "teams", "users"):
            problems.append(f"quotas.{key}: unknown key; valid keys: default, teams, users")
    if not problems:
        _validate_quotas(s, problems)


def _validate_quotas(s: Settings, problems: list[str]) -> None:
    """Let the quota module check the table when it is there (it owns the quota schema)."""
    try:
        from brepflow_lab.hub import quota
    except ImportError:
        return
    resolve = getattr(quota, "resolve", None)
    if resolve is None:
        return
    names = {"": []} | {f"teams.{t}": [t] for t in s.quotas.get("teams", {})}
    for where, teams in names.items():
        try:
            resolve(s.quotas, "__check__", teams)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(f"quotas{'.' + where if where else ''}: {exc}")


def load_settings(path: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read ``hub.yaml`` (``None``: built-in defaults), merge ``overrides``, check everything."""
    import yaml

    data: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise HubConfigError([f"cannot read the file: {exc.strerror}"], source) from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise HubConfigError([f"not valid YAML: {exc}"], source) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise HubConfigError([f"the top level must be a mapping, got {type(loaded).__name__}"], source)
        data = loaded
    if overrides:
        data = _merge(data, overrides)
    problems: list[str] = []
    # a role section given in the file replaces the default role of that name as a whole
    settings: Settings = _build(Settings, data, "", problems)
    if "roles" in data and isinstance(data["roles"], dict):
        merged = _default_roles()
        merged.update(settings.roles)
        settings.roles = merged
    _validate(settings, problems)
    if problems:
        raise HubConfigError(problems, source)
    return settings


def to_dict(settings: Any) -> Any:
    """Plain data (for YAML/JSON) of settings, a section, or a dict/list of them."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return {f.name: to_dict(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    if isinstance(settings, dict):
        return {k: to_dict(v) for k, v in settings.items()}
    if isinstance(settings, list):
        return [to_dict(v) for v in settings]
    return settings


def describe(cls: Any = Settings, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(dotted key, default, help) for every setting, in file order."""
    rows: list[tuple[str, Any, str]] = []
    default = cls()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        value = getattr(default, f.name)
        rows.append((key, to_dict(value), f.metadata["help"]))
        if dataclasses.is_dataclass(hints[f.name]):
            rows.extend(describe(hints[f.name], key + "."))
    return rows


# -- teams and roles of a hub user -------------------------------------------------------------

_active: Settings | None = None


def active() -> Settings:
    """The settings the running hub was configured with (defaults outside a hub)."""
    return _active if _active is not None else Settings()


def activate(settings: Settings) -> None:
    """Make ``settings`` what :func:`active` returns (done by :func:`brepflow_lab.hub.wiring.apply`)."""
    global _active
    _active = settings


def _group_names(user: Any) -> list[str]:
    groups = getattr(user, "groups", None) or []
    return [g if isinstance(g, str) else g.name for g in groups]


def user_teams(user: Any, settings: Settings | None = None) -> list[str]:
    """Team names of a hub user (``User``, ``orm.User`` or anything with ``.groups``), sorted."""
    role_groups = set((settings or active()).role_groups().values())
    return sorted(g for g in _group_names(user) if g not in role_groups)


def user_role(user: Any, settings: Settings | None = None) -> str:
    """``admin``, ``designer``, ``viewer`` — or ``none`` for a user without a role group."""
    if getattr(user, "admin", False):
        return "admin"
    groups = set(_group_names(user))
    s = settings or active()
    for role in ("designer", "viewer"):
        if s.roles[role].group in groups:
            return role
    return "none"


# -- moved to brepflow_lab.hub.wiring -----------------------------------------------------------
# ``configure`` and ``apply`` stay importable from here for ``jupyterhub_config.py`` files written
# before the split. They resolve on first use, so importing this module never imports the wiring
# (which imports this module).

if TYPE_CHECKING:
    from brepflow_lab.hub.wiring import apply, configure


def __getattr__(name: str) -> Any:
    if name in ("apply", "configure"):
        from brepflow_lab.hub import wiring

        return getattr(wiring, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
