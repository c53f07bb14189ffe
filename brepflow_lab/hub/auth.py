"""Logging in to the BrepFlow hub: local accounts or an OAuth2/OIDC provider, both audited.

Local accounts — why our own authenticator
------------------------------------------
NativeAuthenticator 1.3.0 (the usual choice) fails every login on JupyterHub 6 (its handlers
call ``self.statsd``, removed in JupyterHub 6). Subclassing it would mean overriding every one of
its handlers and keeping its deprecated use of the hub's shared database session
(``Authenticator.db``, which JupyterHub warns is going away); pinning JupyterHub 5 would hold the
whole hub back. What we need is small and security-critical, so it is written here, with its own
table (``brepflow_accounts``) reached through its own SQLAlchemy engine on the hub's database URL:

* **sign-up** (``/hub/signup``) creates a *pending* account; an admin approves it at
  ``/hub/brepflow/signups`` (or ``POST /hub/api/brepflow/signups/<name>``), choosing its role
  (designer/viewer) and teams — approval creates the hub user and its group memberships;
* **password policy**: minimum length, not the user name (nor containing it), not a common
  password (a built-in list checked after undoing the usual decorations — case, trailing digits
  and symbols, leetspeak — plus an optional large list file);
* **sign-up rate limit**: at most ``max_signups_per_hour`` accepted sign-ups per client address
  (default 5); more get HTTP 429 with the wait, recorded as ``signup_refused``. It keeps a script
  from filling the approval queue; refused forms (weak password...) create nothing and do not count.
* **lock-out**: ``max_failed_logins`` failures in a row lock the account for ``lockout_seconds``
  (a correct password does not open a locked account); admins unlock from the approval page;
* **no user-name enumeration**: a wrong password gets the same answer ("Invalid username or
  password", 403) whether the name is unknown, known, locked or just got locked, and every refused
  login takes at least ``failed_login_seconds`` (0.3 s), so neither the message nor the time tells
  an unknown name from a locked one. Only the right password of a locked account hears that it is
  locked — and only its owner knows that password;
* passwords are hashed with scrypt (stdlib, n=2^14, r=8, p=1, 16-byte salt), verified in constant
  time, off the event loop; an unknown user name costs the same hash as a known one. The policy,
  the hashes and the table live in :mod:`brepflow_lab.hub.accounts` (no JupyterHub import there).

OAuth2 / OIDC
-------------
:class:`BrepFlowOAuthenticator` is oauthenticator's ``GenericOAuthenticator`` (authorization code
with PKCE) plus the mapping of *provider* groups to hub teams and roles: ``team_map`` /
team names, ``admin_groups`` → the admin flag, ``viewer_groups`` → the viewer role, everyone
else allowed → designer; ``allowed_groups`` / ``allowed_users`` decide who may log in at all.
With ``teams_from: provider`` group membership is re-synchronised at every login
(``manage_groups``); a change is recorded as ``team_change`` / ``role_change`` by ``provider``.

Audit
-----
Both authenticators record ``login`` (method, admin), ``login_failed`` (reason), ``lockout``,
``logout``, ``signup`` and ``approval`` / ``rejection`` through :mod:`brepflow_lab.hub.audit`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from functools import reduce
from typing import Any

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.auth import Authenticator
from jupyterhub.handlers.base import BaseHandler
from jupyterhub.handlers.login import LoginHandler, LogoutHandler
from jupyterhub.scopes import needs_scope
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthLogoutHandler
from tornado import httpclient, web
from traitlets import Bool, Dict, Float, Integer, Set, Unicode

from brepflow_lab.hub import audit
from brepflow_lab.hub.accounts import (
    _DUMMY_HASH,
    USERNAME_HELP,
    USERNAME_RE,
    AccountStore,
    check_password,
    verify_password,
)
from brepflow_lab.hub.config import active

__all__ = [
    "AccountStore",
    "BrepFlowLocalAuthenticator",
    "BrepFlowOAuthenticator",
    "approve_account",
    "check_password",
]


# -- page templates --------------------------------------------------------------------------------

_LOGIN_TEMPLATE = """{% extends "login.html" %}
{% block login_terms %}{{ super() }}
<p class="brepflow-signup" style="margin-top:1em">No account yet?
 <a id="signup-link" href="{{ base_url }}signup">Sign up</a> &mdash; an administrator approves new accounts.</p>
{% endblock login_terms %}
"""

_SIGNUP_TEMPLATE = """{% extends "page.html" %}
{% block main %}
<div class="container" style="max-width:36em">
  <h1>Sign up</h1>
  {% if done %}
    <div class="alert alert-success" id="signup-done">{{ done }}</div>
    <p><a href="{{ base_url }}login">Back to sign in</a></p>
  {% else %}
    {% for p in problems %}<div class="alert alert-danger signup-problem">{{ p }}</div>{% endfor %}
    <form method="post" action="{{ base_url }}signup">
      <input type="hidden" name="_xsrf" value="{{ xsrf }}"/>
      <label for="username">User name ({{ username_help }})</label>
      <input class="form-control" id="username" name="username" value="{{ username }}" autocomplete="username" required/>
      <label for="password">Password (at least {{ min_length }} characters, not a common one)</label>
      <input class="form-control" id="password" name="password" type="password" autocomplete="new-password" required/>
      <label for="password2">Password again</label>
      <input class="form-control" id="password2" name="password2" type="password" autocomplete="new-password" required/>
      {% if teams %}
      <label for="teams">Teams you would like to join</label>
      <select class="form-control" id="teams" name="teams" multiple>
        {% for t in teams %}<option value="{{ t }}" {% if t in chosen_teams %}selected{% endif %}>{{ t }}</option>{% endfor %}
      </select>
      {% endif %}
      <label for="role">What you will do</label>
      <select class="form-control" id="role" name="role">
        {% for r, text in roles %}<option value="{{ r }}" {% if r == chosen_role %}selected{% endif %}>{{ text }}</option>{% endfor %}
      </select>
      <label for="message">A note for the administrator (optional)</label>
      <textarea class="form-control" id="message" name="message" rows="2" maxlength="500">{{ message }}</textarea>
      <p></p><input type="submit" class="btn btn-jupyter form-control" value="Request an account"/>
    </form>
  {% endif %}
</div>
{% endblock main %}
"""

_APPROVAL_TEMPLATE = """{% extends "page.html" %}
{% block main %}
<div class="container">
  <h1>Accounts</h1>
  {% if flash %}<div class="alert alert-info" id="flash">{{ flash }}</div>{% endif %}
  <h2>Waiting for a decision</h2>
  {% if not accounts %}<p id="no-pending">Nothing waiting: no pending, rejected or locked account.</p>{% endif %}
  <table class="table table-striped" id="accounts">
    <thead><tr><th>user</th><th>status</th><th>asked for role</th><th>asked for teams</th><th>note</th><th>requested</th><th></th></tr></thead>
    <tbody>
    {% for a in accounts %}
      <tr data-user="{{ a.name }}">
        <td>{{ a.name }}</td>
        <td>{{ a.status }}{% if a.locked %} (locked){% endif %}</td>
        <td>{{ a.requested_role or "-" }}</td>
        <td>{{ a.requested_teams | join(", ") }}</td>
        <td>{{ a.message }}</td>
        <td>{{ a.created_text }}</td>
        <td>
          <form method="post" action="{{ base_url }}brepflow/signups" class="form-inline">
            <input type="hidden" name="_xsrf" value="{{ xsrf }}"/>
            <input type="hidden" name="name" value="{{ a.name }}"/>
            {% if a.status != "approved" %}
              <select name="role" class="form-control">
                {% for r in roles %}<option value="{{ r }}" {% if r == (a.requested_role or default_role) %}selected{% endif %}>{{ r }}</option>{% endfor %}
              </select>
              <select name="teams" class="form-control" multiple>
                {% for t in teams %}<option value="{{ t }}" {% if t in a.requested_teams %}selected{% endif %}>{{ t }}</option>{% endfor %}
              </select>
              <button name="action" value="approve" class="btn btn-primary">Approve</button>
              {% if a.status == "pending" %}<button name="action" value="reject" class="btn btn-danger">Reject</button>{% endif %}
            {% endif %}
            {% if a.locked %}<button name="action" value="unlock" class="btn btn-default">Unlock</button>{% endif %}
          </form>
        </td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
  <h2>Recent decisions</h2>
  <p>Accounts approved or rejected in the last {{ recent_days }} days (newest first). Change an approved
   user's teams and admin flag on <a href="{{ base_url }}admin">JupyterHub's admin page</a>.</p>
  <table class="table table-sm" id="decided">
    <thead><tr><th>user</th><th>decision</th><th>role</th><th>teams</th><th>asked for</th><th>by</th><th>when</th></tr></thead>
    <tbody>
    {% for d in decided %}
      <tr data-user="{{ d.name }}">
        <td>{{ d.name }}</td><td>{{ d.status }}</td><td>{{ d.role }}</td><td>{{ d.teams | join(", ") }}</td>
        <td>{{ d.requested_role or "-" }}{% if d.requested_teams %} in {{ d.requested_teams | join(", ") }}{% endif %}</td>
        <td>{{ d.decided_by or "-" }}</td><td>{{ d.decided_text }}</td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
</div>
{% endblock main %}
"""

#: what sign-up offers (value, text); the admin confirms or changes it on approval
SIGNUP_ROLES = [
    ("designer", "designer: my own JupyterLab, editing my teams' graphs"),
    ("viewer", "viewer: read my teams' graphs and models, no server"),
]
RECENT_DECISION_DAYS = 30
RECENT_DECISIONS_SHOWN = 200


def _render(handler: BaseHandler, template: str, **ns: Any) -> Any:
    env = handler.settings["jinja2_env"]
    namespace: dict[str, Any] = dict(handler.template_namespace)
    namespace["xsrf"] = handler.xsrf_token.decode("ascii")
    namespace.update(ns)
    return env.from_string(template).render_async(**namespace)


# -- shared: approval (used by the page, the REST API and open sign-up) ---------------------------


def _add_to_groups(handler: BaseHandler, user: Any, groups: dict[str, dict[str, Any]]) -> list[str]:
    from jupyterhub import orm

    added = []
    for name, properties in groups.items():
        group = orm.Group.find(handler.db, name)
        if group is None:
            group = orm.Group(name=name, properties=properties)
            handler.db.add(group)
        if group not in user.orm_user.groups:
            user.orm_user.groups.append(group)
            added.append(name)
    handler.db.commit()
    return added


def approve_account(
    handler: BaseHandler, store: AccountStore, name: str, *, role: str, teams: Iterable[str], by: str
) -> dict[str, Any]:
    settings = active()
    if role not in ("designer", "viewer"):
        raise web.HTTPError(400, f"role must be 'designer' or 'viewer', got {role!r}")
    account = store.get(name)
    if account is None:
        raise web.HTTPError(404, f"no account '{name}'")
    teams = sorted(set(teams))
    unknown = [t for t in teams if t not in settings.teams and _find_group(handler, t) is None]
    if unknown:
        raise web.HTTPError(400, f"unknown team(s) {', '.join(unknown)}; teams: {', '.join(sorted(settings.teams))}")
    store.update(name, status="approved", decided=time.time(), decided_by=by, failed_logins=0, locked_until=0.0)
    user = handler.user_from_username(name)
    groups: dict[str, dict[str, Any]] = {settings.roles[role].group: {"kind": "role", "role": role}}
    groups.update({t: {"kind": "team"} for t in teams})
    _add_to_groups(handler, user, groups)
    return audit.record("approval", user=by, target=name, role=role, teams=teams) or {
        "target": name,
        "role": role,
        "teams": teams,
    }


def _find_group(handler: BaseHandler, name: str) -> Any:
    from jupyterhub import orm

    return orm.Group.find(handler.db, name)


# -- handlers ---------------------------------------------------------------------------------------


class _AuditLogoutMixin:
    async def default_handle_logout(self) -> None:
        user = self.current_user  # type: ignore[attr-defined]
        if user:
            audit.record("logout", user=user.name)
        await super().default_handle_logout()  # type: ignore[misc]


class AuditLogoutHandler(_AuditLogoutMixin, LogoutHandler):
    """Log out, recorded in the audit log."""


class AuditOAuthLogoutHandler(_AuditLogoutMixin, OAuthLogoutHandler):
    """Log out of an OAuth login, recorded in the audit log."""


class LocalLoginHandler(LoginHandler):
    """JupyterHub's login form plus a sign-up link."""

    def get_template(self, name: str, sync: bool = False) -> Any:
        if name == "login.html":
            return self.settings["jinja2_env"].from_string(_LOGIN_TEMPLATE)
        return super().get_template(name, sync)

    async def post(self) -> None:
        # Refusals with a reason (pending, locked) are shown in the form. JupyterHub 6.1's own
        # error-page interception in LoginHandler renders asynchronously inside a synchronous
        # write_error and fails, so the message is rendered here instead.
        try:
            await super().post()
        except web.HTTPError as exc:
            if exc.status_code != 403 or not exc.log_message:
                raise
            self.set_status(403)
            username = self.get_argument("username", "", strip=True)
            self.finish(await self._render(login_error=exc.log_message, username=username))


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class SignupHandler(BaseHandler):
    """``/hub/signup``: ask for an account (pending until an admin approves)."""

    @property
    def authenticator_(self) -> BrepFlowLocalAuthenticator:
        return self.authenticator

    async def _page(self, **ns: Any) -> str:
        a = self.authenticator_
        ns.setdefault("problems", [])
        ns.setdefault("username", "")
        ns.setdefault("done", "")
        ns.setdefault("chosen_teams", [])
        ns.setdefault("chosen_role", a.default_role)
        ns.setdefault("message", "")
        return await _render(
            self,
            _SIGNUP_TEMPLATE,
            teams=sorted(active().teams),
            roles=SIGNUP_ROLES,
            min_length=a.min_password_length,
            username_help=USERNAME_HELP,
            **ns,
        )

    async def get(self) -> None:
        self.finish(await self._page())

    async def post(self) -> None:
        a = self.authenticator_
        username = self.get_body_argument("username", "", strip=True).lower()
        password = self.get_body_argument("password", "", strip=False)
        password2 = self.get_body_argument("password2", "", strip=False)
        teams = [t for t in self.get_body_arguments("teams") if t]
        message = self.get_body_argument("message", "", strip=True)[:500]
        role = self.get_body_argument("role", a.default_role, strip=True)
        # a refused form comes back with what was chosen and written (never the passwords)
        kept = {"username": username, "chosen_teams": teams, "chosen_role": role, "message": message}
        wait = a.signup_wait(self.request.remote_ip or "")
        if wait:
            audit.record("signup_refused", user=username, reason="rate", address=self.request.remote_ip)
            self.set_status(429)
            self.set_header("Retry-After", str(wait))
            problems = [
                f"Too many sign-ups from your address in the last hour: try again in {_minutes(wait)}, "
                "or ask an administrator to create your account."
            ]
            self.finish(await self._page(problems=problems, **kept))
            return
        problems = a.signup_problems(username, password, password2, teams)
        if role not in dict(SIGNUP_ROLES):
            problems.append(f"the role must be one of {', '.join(dict(SIGNUP_ROLES))}")
        if problems:
            self.set_status(400)
            self.finish(await self._page(problems=problems, **kept))
            return
        status = "approved" if a.open_signup else "pending"
        await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: a.store.create(username, password, status="pending", teams=teams, message=message, role=role),
        )
        a.count_signup(self.request.remote_ip or "")
        audit.record("signup", user=username, status=status, requested_teams=sorted(set(teams)), requested_role=role)
        if a.open_signup:
            # open sign-up never hands out more than the default role: asking is not deciding
            granted = role if role == "viewer" else a.default_role
            approve_account(self, a.store, username, role=granted, teams=teams, by="open_signup")
            done = "Your account is ready: sign in."
        else:
            done = "Thank you. An administrator will approve your account; then you can sign in."
        self.finish(await self._page(done=done))


class SignupAdminHandler(BaseHandler):
    """``/hub/brepflow/signups``: the admins' page to approve, reject and unlock accounts."""

    @web.authenticated
    @needs_scope("admin:users")
    async def get(self) -> None:
        await self._show()

    async def _show(self, flash: str = "") -> None:
        a: BrepFlowLocalAuthenticator = self.authenticator
        rows = []
        for account in a.store.list():
            if account.status == "approved" and not account.locked():
                continue
            row = account.public()
            row["created_text"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime(account.created))
            rows.append(row)
        teams = sorted(set(active().teams) | {g.name for g in self._team_groups()})
        html = await _render(
            self,
            _APPROVAL_TEMPLATE,
            accounts=rows,
            decided=self._decided(a),
            recent_days=RECENT_DECISION_DAYS,
            roles=["designer", "viewer"],
            default_role=a.default_role,
            teams=teams,
            flash=flash,
        )
        self.finish(html)

    def _decided(self, a: BrepFlowLocalAuthenticator) -> list[dict[str, Any]]:
        """Approved and rejected accounts decided lately, with the role and teams they hold now."""
        from jupyterhub import orm

        since = time.time() - RECENT_DECISION_DAYS * 86400
        role_of = {group: role for role, group in active().role_groups().items()}
        out = []
        for account in a.store.list():
            if account.status not in ("approved", "rejected") or not account.decided or account.decided < since:
                continue
            user = orm.User.find(self.db, account.name)
            groups = [g.name for g in user.groups] if user is not None else []
            roles = sorted(role_of[g] for g in groups if g in role_of)
            if user is not None and user.admin:
                roles.insert(0, "admin")
            out.append(
                {
                    "name": account.name,
                    "status": account.status,
                    "role": ", ".join(roles) or "-",
                    "teams": sorted(g for g in groups if g not in role_of),
                    "requested_role": account.requested_role,
                    "requested_teams": account.requested_teams,
                    "decided_by": account.decided_by,
                    "decided_text": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(account.decided)),
                }
            )
        out.sort(key=lambda d: str(d["decided_text"]), reverse=True)
        return out[:RECENT_DECISIONS_SHOWN]

    def _team_groups(self) -> list[Any]:
        from jupyterhub import orm

        role_groups = set(active().role_groups().values())
        return [g for g in self.db.query(orm.Group) if g.name not in role_groups]

    @web.authenticated
    @needs_scope("admin:users")
    async def post(self) -> None:
        a: BrepFlowLocalAuthenticator = self.authenticator
        name = self.get_body_argument("name", "")
        action = self.get_body_argument("action", "")
        by = self.current_user.name
        flash = a.decide(
            self,
            name,
            action,
            role=self.get_body_argument("role", a.default_role),
            teams=self.get_body_arguments("teams"),
            by=by,
        )
        await self._show(flash=flash)


class SignupsAPIHandler(APIHandler):
    """``GET /hub/api/brepflow/signups``: accounts that are pending, rejected or locked."""

    @needs_scope("admin:users")
    def get(self) -> None:
        a: BrepFlowLocalAuthenticator = self.authenticator
        status = self.get_argument("status", None)
        self.write(json.dumps([acc.public() for acc in a.store.list(status)]))


class SignupAPIHandler(APIHandler):
    """``POST /hub/api/brepflow/signups/<name>`` with ``{"action": "approve"|"reject"|"unlock", "role", "teams"}``."""

    @needs_scope("admin:users")
    def get(self, name: str) -> None:
        a: BrepFlowLocalAuthenticator = self.authenticator
        account = a.store.get(name)
        if account is None:
            raise web.HTTPError(404, f"no account '{name}'")
        self.write(json.dumps(account.public()))

    @needs_scope("admin:users")
    def post(self, name: str) -> None:
        a: BrepFlowLocalAuthenticator = self.authenticator
        body = self.get_json_body() or {}
        if not isinstance(body, dict) or body.get("action") not in ("approve", "reject", "unlock"):
            raise web.HTTPError(400, 'send {"action": "approve" | "reject" | "unlock", "role": ..., "teams": [...]}')
        teams = body.get("teams", [])
        if not isinstance(teams, list) or not all(isinstance(t, str) for t in teams):
            raise web.HTTPError(400, "teams must be a list of team names")
        message = a.decide(
            self, name, body["action"], role=body.get("role", a.default_role), teams=teams, by=self.current_user.name
        )
        account = a.store.get(name)
        self.write(json.dumps({"message": message, "account": account.public() if account else None}))


# -- the audit mixin for any authenticator ------------------------------------------------------


class _AuditedAuthenticator:
    """Records every successful login (failures are recorded where their reason is known)."""

    method = "password"

    async def get_authenticated_user(self, handler: Any, data: Any) -> Any:
        result = await super().get_authenticated_user(handler, data)  # type: ignore[misc]
        if result:
            audit.record("login", user=result["name"], method=self.method, admin=bool(result.get("admin")))
        return result


def _record_group_changes(name: str, before: set[str], after: set[str]) -> None:
    """Record the provider's changes to a user's teams and role (manage_groups) as audit events."""
    role_groups = {group: role for role, group in active().role_groups().items()}
    for action, groups in (("add", sorted(after - before)), ("remove", sorted(before - after))):
        for group in groups:
            if group in role_groups:
                audit.record("role_change", user="provider", action=action, role=role_groups[group], users=[name])
            else:
                audit.record("team_change", user="provider", action=action, team=group, users=[name])


# -- local accounts -----------------------------------------------------------------------------


class BrepFlowLocalAuthenticator(_AuditedAuthenticator, Authenticator):
    """Local accounts with sign-up, admin approval, a password policy and lock-out."""

    db_url = Unicode("", config=True, help="Database URL of the account table (the hub's database).")
    open_signup = Bool(False, config=True, help="Approve sign-ups automatically.")
    default_role = Unicode("designer", config=True, help="Role given on approval unless the admin picks one.")
    min_password_length = Integer(10, config=True, help="Shortest password accepted.")
    check_common_passwords = Bool(True, config=True, help="Refuse common passwords.")
    common_passwords_file = Unicode("", config=True, help="Extra refused passwords, one per line.")
    max_failed_logins = Integer(5, config=True, help="Failed logins in a row that lock an account.")
    lockout_seconds = Integer(600, config=True, help="Seconds an account stays locked.")
    failed_login_seconds = Float(
        0.3,
        config=True,
        help="Every refused login answers after at least this long, so timing does not tell unknown user "
        "names from known or locked ones (a hash and a database write cost less).",
    )
    max_signups_per_hour = Integer(5, config=True, help="Sign-ups accepted per client address per hour (0: no limit).")

    _store: AccountStore | None = None
    _extra_common: frozenset[str] | None = None
    _signups: dict[str, list[float]] | None = None

    def _recent_signups(self, address: str) -> list[float]:
        if self._signups is None:
            self._signups = {}
        now = time.monotonic()
        kept = [t for t in self._signups.get(address, []) if now - t < 3600]
        if kept:
            self._signups[address] = kept
        else:
            self._signups.pop(address, None)
        return kept

    def signup_wait(self, address: str) -> int:
        """Seconds until ``address`` may sign up again (0: now). Counts accepted sign-ups only.

        The window is per hub process and in memory: a restart forgets it, which is fine
        for a limit meant to stop a script from filling the approval queue. Behind
        configurable-http-proxy the address is the client's (the proxy adds
        X-Forwarded-For and JupyterHub trusts it).
        """
        if self.max_signups_per_hour <= 0:
            return 0
        recent = self._recent_signups(address)
        if len(recent) < self.max_signups_per_hour:
            return 0
        oldest = recent[-self.max_signups_per_hour]
        return max(1, int(3600 - (time.monotonic() - oldest)) + 1)

    def count_signup(self, address: str) -> None:
        recent = self._recent_signups(address)
        recent.append(time.monotonic())
        assert self._signups is not None
        self._signups[address] = recent

    @property
    def store(self) -> AccountStore:
        if self._store is None:
            self._store = AccountStore(self.db_url or active().db_url)
        return self._store

    @property
    def extra_common(self) -> frozenset[str]:
        if self._extra_common is None:
            words: set[str] = set()
            if self.common_passwords_file:
                with open(self.common_passwords_file, encoding="utf-8", errors="replace") as fh:
                    words = {line.strip().lower() for line in fh if line.strip()}
            self._extra_common = frozenset(words)
        return self._extra_common

    def password_problems(self, username: str, password: str) -> list[str]:
        return check_password(
            username,
            password,
            min_length=self.min_password_length,
            check_common=self.check_common_passwords,
            extra_common=self.extra_common,
        )

    def signup_problems(self, username: str, password: str, password2: str, teams: list[str]) -> list[str]:
        problems = []
        if not USERNAME_RE.match(username) or len(username) < 2:
            problems.append(f"the user name must be {USERNAME_HELP}")
        elif self.store.get(username) is not None or username in self.admin_users:
            problems.append(f"the user name '{username}' is taken")
        if password != password2:
            problems.append("the two passwords differ")
        problems.extend(self.password_problems(username, password))
        unknown = [t for t in teams if t not in active().teams]
        if unknown:
            problems.append(f"unknown team(s): {', '.join(unknown)}")
        return problems

    def normalize_username(self, username: str) -> str:
        return username.strip().lower()

    def validate_username(self, username: str) -> bool:
        return bool(USERNAME_RE.match(username))

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        started = time.monotonic()
        try:
            result = await self._check_login(data)
        except web.HTTPError:
            await self._pad(started)
            raise
        if result is None:
            await self._pad(started)
        return result

    async def _pad(self, started: float) -> None:
        """Refusals answer no sooner than ``failed_login_seconds`` after the request came in."""
        await asyncio.sleep(max(0.0, self.failed_login_seconds - (time.monotonic() - started)))

    async def _check_login(self, data: dict[str, Any]) -> dict[str, Any] | None:
        name = self.normalize_username(str(data.get("username", "")))
        password = str(data.get("password", ""))
        loop = asyncio.get_running_loop()
        account = self.store.get(name) if USERNAME_RE.match(name) else None
        stored = account.password_hash if account is not None else _DUMMY_HASH
        ok = await loop.run_in_executor(None, verify_password, password, stored)
        if account is None:
            audit.record("login_failed", user=name or None, reason="unknown_user")
            return None
        if not ok:
            if account.locked():  # the same answer as an unknown name: nothing to enumerate
                audit.record("login_failed", user=name, reason="locked")
                return None
            failures, locked = self.store.record_failure(name, self.max_failed_logins, self.lockout_seconds)
            audit.record("login_failed", user=name, reason="bad_password", failures=failures)
            if locked:
                audit.record("lockout", user=name, failures=self.max_failed_logins, seconds=self.lockout_seconds)
            return None
        if account.locked():  # the right password: its owner may know why it does not open
            audit.record("login_failed", user=name, reason="locked")
            raise web.HTTPError(403, self._locked_message(account.locked_until))
        if account.status != "approved":
            audit.record("login_failed", user=name, reason=account.status)
            if account.status == "pending":
                raise web.HTTPError(403, "Your account is waiting for an administrator's approval.")
            raise web.HTTPError(403, "Your sign-up was not approved. Ask an administrator.")
        self.store.update(name, failed_logins=0, last_login=time.time())
        return {"name": name}

    def _locked_message(self, until: float) -> str:
        minutes = max(1, round((until - time.time()) / 60))
        return (
            f"This account is locked after {self.max_failed_logins} failed logins. "
            f"Try again in about {minutes} minute(s), or ask an administrator to unlock it."
        )

    def decide(self, handler: BaseHandler, name: str, action: str, *, role: str, teams: list[str], by: str) -> str:
        account = self.store.get(name)
        if account is None:
            raise web.HTTPError(404, f"no account '{name}'")
        if action == "approve":
            approve_account(handler, self.store, name, role=role, teams=teams, by=by)
            return f"approved {name} as {role}" + (f" in {', '.join(sorted(set(teams)))}" if teams else "")
        if action == "reject":
            if account.status == "approved":
                raise web.HTTPError(409, f"'{name}' is already approved; delete the user instead")
            self.store.update(name, status="rejected", decided=time.time(), decided_by=by)
            audit.record("rejection", user=by, target=name)
            return f"rejected {name}"
        if action == "unlock":
            self.store.update(name, locked_until=0.0, failed_logins=0)
            audit.record("user_change", user=by, action="unlock", users=[name])
            return f"unlocked {name}"
        raise web.HTTPError(400, f"unknown action {action!r}: approve, reject or unlock")

    def delete_user(self, user: Any) -> None:
        self.store.delete(user.name)

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [
            (r"/login", LocalLoginHandler),
            (r"/logout", AuditLogoutHandler),
            (r"/signup", SignupHandler),
            (r"/brepflow/signups", SignupAdminHandler),
            (r"/api/brepflow/signups", SignupsAPIHandler),
            (r"/api/brepflow/signups/([^/]+)", SignupAPIHandler),
        ]


# -- OAuth2 / OIDC ------------------------------------------------------------------------------


class BrepFlowOAuthenticator(GenericOAuthenticator):
    """GenericOAuthenticator whose provider groups become hub teams and roles."""

    method = "oauth"
    logout_handler = AuditOAuthLogoutHandler

    provider_groups_claim = Unicode("groups", config=True, help="Userinfo key (dotted path) with the groups.")
    provider_allowed_groups = Set(Unicode(), config=True, help="Provider groups whose members may log in.")
    provider_admin_groups = Set(Unicode(), config=True, help="Provider groups whose members are admins.")
    provider_viewer_groups = Set(Unicode(), config=True, help="Provider groups whose members are viewers.")
    team_map = Dict(Unicode(), config=True, help="Provider group -> team name.")
    team_names = Set(Unicode(), config=True, help="Teams defined in hub.yaml (provider groups of these names map).")

    def _provider_groups(self, auth_state: dict[str, Any]) -> set[str]:
        user_info = auth_state.get(self.user_auth_state_key) or {}
        if not self.provider_groups_claim:
            return set()
        try:
            groups = reduce(dict.get, self.provider_groups_claim.split("."), user_info)
        except TypeError:
            groups = None
        if isinstance(groups, str):
            return {groups}
        return {str(g) for g in groups} if isinstance(groups, list) else set()

    async def update_auth_model(self, auth_model: dict[str, Any]) -> dict[str, Any]:
        auth_state = auth_model.get("auth_state") or {}
        groups = self._provider_groups(auth_state)
        auth_state["provider_groups"] = sorted(groups)
        auth_model["auth_state"] = auth_state
        if groups & self.provider_admin_groups:
            auth_model["admin"] = True
        return auth_model

    async def get_user_groups(self, auth_state: dict[str, Any]) -> set[str]:
        provider = set(auth_state.get("provider_groups", []))
        teams = {self.team_map[g] for g in provider if g in self.team_map}
        teams |= {g for g in provider if g in self.team_names and g not in self.team_map}
        settings = active()
        role = "viewer" if provider & self.provider_viewer_groups else "designer"
        if provider & self.provider_admin_groups:
            role = "designer"
        return teams | {settings.roles[role].group}

    async def check_allowed(self, username: str, auth_model: dict[str, Any] | None) -> bool:
        if auth_model is None:
            return True
        provider = set((auth_model.get("auth_state") or {}).get("provider_groups", []))
        if auth_model.get("admin") or username in self.allowed_users:
            return True
        if provider & self.provider_allowed_groups:
            return True
        audit.record("login_failed", user=username, reason="not_in_allowed_groups", groups=sorted(provider))
        return False

    async def authenticate(self, handler: Any, data: Any = None, **kwargs: Any) -> Any:
        try:
            return await super().authenticate(handler, data, **kwargs)
        except web.HTTPError as exc:
            audit.record(
                "login_failed", user=None, reason="oauth_error", status=exc.status_code, detail=exc.log_message
            )
            raise
        except (httpclient.HTTPClientError, OSError) as exc:
            # oauthenticator lets the provider's refusal (e.g. 400 invalid_grant) escape as a 500
            audit.record("login_failed", user=None, reason="oauth_error", detail=str(exc))
            raise web.HTTPError(403, f"{self.login_service} refused the login ({exc}); please sign in again") from None

    async def get_authenticated_user(self, handler: Any, data: Any) -> Any:
        result = await super().get_authenticated_user(handler, data)
        if result:
            audit.record("login", user=result["name"], method=self.method, admin=bool(result.get("admin")))
            user = handler.find_user(result["name"]) if handler is not None else None
            before = {g.name for g in user.groups} if user is not None else set()
            if "groups" in result:
                _record_group_changes(result["name"], before, set(result["groups"]))
        return result
