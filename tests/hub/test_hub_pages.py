"""The hub's pages as each role sees them, on a real hub (issue 11, low items).

A viewer's home leads to the team viewer (no "Start My Server") and a server page explains itself
instead of JupyterHub's raw 403; admins get a navigation (sign-ups with the number waiting, quotas,
JupyterHub's admin) and a pending-sign-ups hint on their home; approved accounts stay on the
approval page under recent decisions; a refused sign-up keeps the teams, role and note; a sign-up
asks for a role, which the approval page proposes and the admin decides.
"""

from __future__ import annotations

import html
import re

import pytest
import requests

from brepflow_lab.hub.accounts import AccountStore

from .conftest import ADMIN_PASSWORD, Hub

PASSWORD = "Tessellated-Fillet-42"
VIEWER = "services/brepflow-viewer/"


def signup(hub: Hub, **fields: object) -> requests.Response:
    s = requests.Session()
    s.get(hub.url + "hub/signup", timeout=30)
    data = {"_xsrf": s.cookies.get("_xsrf", ""), **fields}
    return s.post(hub.url + "hub/signup", data=data, timeout=30)


def page(session: requests.Session, hub: Hub, path: str) -> requests.Response:
    return session.get(hub.url + path, timeout=60)


def row(text: str, table: str, user: str) -> str:
    body = text[text.index(f'id="{table}"') :]
    body = body[: body.index("</table>")]
    match = re.search(rf'<tr data-user="{user}">(.*?)</tr>', body, re.S)
    assert match, f"{user} not in #{table}"
    return match.group(1)


@pytest.fixture(scope="module")
def hub(hub_factory) -> Hub:
    hub = hub_factory({}, name="pages")
    store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
    try:
        store.set_password("vera", PASSWORD, by="test")
        r = hub.call(
            "POST", "/brepflow/signups/vera", json={"action": "approve", "role": "viewer", "teams": ["engineering"]}
        )
        assert r.status_code == 200, r.text
    finally:
        store.dispose()
    return hub


def test_a_viewers_home_leads_to_the_viewer_and_a_server_page_explains(hub: Hub) -> None:
    session, r = hub.login("vera", PASSWORD)
    assert r.status_code == 302
    home = page(session, hub, "hub/home")
    assert home.status_code == 200
    assert 'id="brepflow-viewer-home"' in home.text and "engineering" in home.text
    assert 'id="start"' not in home.text
    assert f'href="/{VIEWER}"' in home.text
    spawn = page(session, hub, "hub/spawn")
    assert spawn.status_code == 403
    assert 'id="brepflow-viewer-refusal"' in spawn.text and f'href="/{VIEWER}"' in spawn.text
    assert "requires any of" not in spawn.text
    hub.wait_for(lambda: hub.events(kind="spawn_refused", user="vera"), 10, "spawn_refused")  # still recorded


def test_admins_get_navigation_and_the_pending_hint(hub: Hub) -> None:
    r = signup(
        hub, username="penny", password=PASSWORD, password2=PASSWORD, teams="marketing", role="viewer", message="hi"
    )
    assert r.status_code == 200 and 'id="signup-done"' in r.text
    session, r = hub.login("admin", ADMIN_PASSWORD)
    assert r.status_code == 302
    home = page(session, hub, "hub/home")
    hint = re.search(r'id="brepflow-pending">(.*?)</div>', home.text, re.S)
    assert hint and "1 sign-up(s) waiting" in hint.group(1) and "brepflow/signups" in hint.group(1)
    assert 'id="start"' in home.text  # an admin's own server stays one click away
    for path in ("hub/home", "hub/brepflow/signups", "hub/brepflow/quotas", "hub/token"):
        text = page(session, hub, path).text
        assert 'id="nav-signups" href="/hub/brepflow/signups"' in text, path
        assert 'id="nav-quotas" href="/hub/brepflow/quotas"' in text, path
        assert 'href="/hub/admin"' in text, path
        assert re.search(r'id="nav-pending">1<', text), path
    # designers and viewers get none of it
    viewer, _ = hub.login("vera", PASSWORD)
    text = page(viewer, hub, "hub/home").text
    assert "nav-signups" not in text and "brepflow-pending" not in text and 'id="nav-viewer"' in text


def test_the_approval_page_proposes_the_asked_role_and_keeps_decided_accounts(hub: Hub) -> None:
    r = signup(
        hub, username="rhea", password=PASSWORD, password2=PASSWORD, teams="engineering", role="viewer", message="QA"
    )
    assert r.status_code == 200
    session, _ = hub.login("admin", ADMIN_PASSWORD)
    text = page(session, hub, "hub/brepflow/signups").text
    cells = row(text, "accounts", "rhea")
    assert "<td>viewer</td>" in cells and '<option value="viewer" selected>' in cells
    assert hub.call("GET", "/brepflow/signups/rhea").json()["requested_role"] == "viewer"
    # the admin decides: designer after all
    xsrf = session.cookies.get("_xsrf", path="/hub/") or session.cookies.get("_xsrf", "")
    r = session.post(
        hub.url + "hub/brepflow/signups",
        data={"_xsrf": xsrf, "name": "rhea", "action": "approve", "role": "designer", "teams": "engineering"},
        timeout=30,
    )
    assert r.status_code == 200 and "approved rhea as designer" in r.text
    decided = html.unescape(row(r.text, "decided", "rhea"))
    assert "approved" in decided and "designer" in decided and "engineering" in decided
    assert "viewer in engineering" in decided and "admin" in decided  # asked for, decided by
    assert "rhea" not in r.text[r.text.index('id="accounts"') : r.text.index('id="decided"')]
    # still listed on the next visit, with vera (approved at the start)
    text = page(session, hub, "hub/brepflow/signups").text
    row(text, "decided", "rhea")
    assert "viewers" not in row(text, "decided", "vera") and "viewer" in row(text, "decided", "vera")
    groups = {u["name"]: sorted(u["groups"]) for u in hub.call("GET", "/users").json()}
    assert groups["rhea"] == ["designers", "engineering"]


def test_a_refused_sign_up_keeps_teams_role_and_note(hub: Hub) -> None:
    r = signup(
        hub,
        username="sam",
        password="short",
        password2="short",
        teams=["engineering", "marketing"],
        role="viewer",
        message="Sam from QA, <b>please</b>",
    )
    assert r.status_code == 400 and "signup-problem" in r.text
    assert '<option value="engineering" selected>' in r.text and '<option value="marketing" selected>' in r.text
    assert '<option value="viewer" selected>' in r.text
    assert "Sam from QA, &lt;b&gt;please&lt;/b&gt;</textarea>" in r.text
    assert 'value="sam"' in r.text and "short" not in r.text.split('id="password"')[1][:200]
    r = signup(hub, username="sam", password=PASSWORD, password2=PASSWORD, role="admin")
    assert r.status_code == 400 and "the role must be one of designer, viewer" in r.text
