"""The hub's pages as each role needs them: JupyterHub templates plus a few template variables.

JupyterHub renders every page from Jinja templates and looks in ``JupyterHub.template_paths``
first; a template there can extend the stock one as ``templates/<name>`` (JupyterHub's documented
way to customise pages). :data:`TEMPLATES` holds three:

* ``page.html`` — every page: admins get **Sign-ups** (with the number waiting) and **Quotas**
  next to JupyterHub's own **Admin**; everyone who may use it gets **Team viewer**;
* ``home.html`` — a viewer's home is the way to the team viewer (viewers have no server, so no
  "Start My Server"); an admin's home says how many sign-ups wait, with a link to decide them;
* ``403.html`` — a viewer who reaches a server page (``/hub/spawn``, a shared link) hears why,
  with the way to the viewer, instead of JupyterHub's raw "requires any of [servers]".

:func:`template_vars` gives those templates what they need (``JupyterHub.template_vars`` calls
each value with the current user). Nothing here grants or refuses anything: the scopes and the
spawner still decide; these pages only say it in the user's terms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from brepflow_lab.hub.config import Settings, user_role, user_teams

__all__ = ["TEMPLATES", "pending_signups", "template_vars"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

_stores: dict[str, Any] = {}


def pending_signups(settings: Settings) -> int:
    """Local sign-ups waiting for an admin (0 with OAuth: the provider decides who gets in)."""
    if settings.authentication.type != "local":
        return 0
    from brepflow_lab.hub.accounts import AccountStore

    store = _stores.get(settings.db_url)
    if store is None:
        store = _stores[settings.db_url] = AccountStore(settings.db_url)
    return len(store.list("pending"))


def template_vars(settings: Settings) -> dict[str, Any]:
    """``JupyterHub.template_vars``: each value is called with the page's user (or ``None``)."""
    viewer_url = f"{settings.hub.base_url}services/{settings.viewer.name}/" if settings.viewer.enabled else ""

    def role(user: Any) -> str:
        return user_role(user, settings) if user is not None else ""

    def admin(user: Any) -> bool:
        return bool(user is not None and user.admin)

    def pending(user: Any) -> int:
        return pending_signups(settings) if admin(user) else 0

    def teams(user: Any) -> list[str]:
        return user_teams(user, settings) if user is not None else []

    def viewer(user: Any) -> str:
        return viewer_url if user is not None else ""

    return {
        "brepflow_role": role,
        "brepflow_admin": admin,
        "brepflow_pending": pending,
        "brepflow_teams": teams,
        "brepflow_viewer_url": viewer,
    }
