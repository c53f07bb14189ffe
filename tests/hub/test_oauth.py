"""OAuth2 login through a real local provider: authorization code + PKCE, groups → teams and roles."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from .conftest import Hub
from .oauth_provider import OAuthProvider

CLIENT_ID = "brepflow-hub"
CLIENT_SECRET = "s3cret-for-tests-only"


@pytest.fixture(scope="module")
def provider():
    p = OAuthProvider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        users={
            "alice": {"password": "alice-pw", "groups": ["engineering", "hub-admins"]},
            "bob": {"password": "bob-pw", "groups": ["engineering", "product-design"]},
            "victor": {"password": "victor-pw", "groups": ["engineering", "contractors"]},
            "eve": {"password": "eve-pw", "groups": ["sales"]},
        },
    ).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def hub(hub_factory, provider) -> Hub:
    hub = hub_factory(
        {
            "authentication": {
                "type": "oauth",
                "oauth": {
                    "login_service": "Test IdP",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "authorize_url": f"{provider.url}/authorize",
                    "token_url": f"{provider.url}/token",
                    "userdata_url": f"{provider.url}/userinfo",
                    "allowed_groups": ["engineering", "contractors"],
                    "admin_groups": ["hub-admins"],
                    "viewer_groups": ["contractors"],
                    "team_map": {"product-design": "marketing"},
                },
            },
        },
        name="oauth",
    )
    provider.redirect_uris = [hub.url + "hub/oauth_callback"]
    return hub


def oauth_login(hub: Hub, name: str, password: str) -> tuple[requests.Session, requests.Response]:
    """The browser's journey: hub → provider's form → provider redirect → hub callback."""
    s = requests.Session()
    r = s.get(hub.url + "hub/oauth_login", allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    authorize = r.headers["Location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    form = s.get(authorize, timeout=30)
    assert form.status_code == 200 and "<form" in form.text
    fields: dict[str, Any] = {k: v[0] for k, v in query.items()}
    r = s.post(
        authorize.split("?")[0],
        data={**fields, "username": name, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text
    callback = r.headers["Location"]
    assert callback.startswith(hub.url + "hub/oauth_callback?")
    return s, s.get(callback, allow_redirects=False, timeout=60)


def api_token(hub: Hub, s: requests.Session, name: str) -> str:
    r = s.post(
        f"{hub.api}/users/{name}/tokens",
        json={"note": "test"},
        headers={"X-XSRFToken": s.cookies.get("_xsrf", "")},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_login_maps_provider_groups_to_teams_roles_and_admin(hub: Hub, provider: OAuthProvider):
    s, r = oauth_login(hub, "alice", "alice-pw")
    assert r.status_code == 302, hub.log()[-3000:]
    me = s.get(hub.api + "/user", timeout=30).json()
    assert me["name"] == "alice"
    hub.admin_token = api_token(hub, s, "alice")
    alice = hub.call("GET", "/users/alice").json()
    assert alice["admin"] is True
    assert sorted(alice["groups"]) == ["designers", "engineering"]  # hub-admins is not a team

    token_events = [e for e in provider.events if e["endpoint"] == "token" and e.get("user") == "alice"]
    assert token_events and token_events[-1]["ok"] and token_events[-1]["pkce"] == "S256"

    login = hub.events(kind="login", user="alice")
    assert login and login[-1]["method"] == "oauth" and login[-1]["admin"] is True
    assert hub.events(kind="team_change", user="provider", team="engineering", action="add")
    assert [e for e in hub.events(kind="role_change", user="provider") if e["users"] == ["alice"]]


def test_team_map_and_viewer_groups(hub: Hub):
    _, r = oauth_login(hub, "bob", "bob-pw")
    assert r.status_code == 302
    assert sorted(hub.call("GET", "/users/bob").json()["groups"]) == ["designers", "engineering", "marketing"]
    _, r = oauth_login(hub, "victor", "victor-pw")
    assert r.status_code == 302
    victor = hub.call("GET", "/users/victor").json()
    assert sorted(victor["groups"]) == ["engineering", "viewers"] and victor["admin"] is False


def test_user_outside_the_allowed_groups_is_refused(hub: Hub):
    _, r = oauth_login(hub, "eve", "eve-pw")
    assert r.status_code == 403
    assert hub.call("GET", "/users/eve").status_code == 404
    refused = hub.events(kind="login_failed", user="eve")
    assert refused and refused[-1]["reason"] == "not_in_allowed_groups" and refused[-1]["groups"] == ["sales"]


def test_group_change_at_the_provider_applies_at_next_login(hub: Hub, provider: OAuthProvider):
    provider.users["bob"]["groups"] = ["engineering"]
    _, r = oauth_login(hub, "bob", "bob-pw")
    assert r.status_code == 302
    assert sorted(hub.call("GET", "/users/bob").json()["groups"]) == ["designers", "engineering"]
    removed = hub.events(kind="team_change", user="provider", team="marketing", action="remove")
    assert removed and removed[-1]["users"] == ["bob"]


def test_wrong_password_at_provider_never_reaches_the_hub(hub: Hub, provider: OAuthProvider):
    s = requests.Session()
    r = s.get(hub.url + "hub/oauth_login", allow_redirects=False, timeout=30)
    query = {k: v[0] for k, v in parse_qs(urlparse(r.headers["Location"]).query).items()}
    r = s.post(f"{provider.url}/authorize", data={**query, "username": "bob", "password": "nope"}, timeout=30)
    assert r.status_code == 403
    # a forged callback with a made-up code is refused by the provider and by the hub
    r = s.get(hub.url + f"hub/oauth_callback?code=forged&state={query['state']}", allow_redirects=False, timeout=30)
    assert r.status_code >= 400
    assert [e for e in provider.events if e["endpoint"] == "token" and e.get("error") == "invalid_grant"]
    assert hub.events(kind="login_failed", reason="oauth_error")


def test_logout_is_audited(hub: Hub):
    s, r = oauth_login(hub, "victor", "victor-pw")
    assert r.status_code == 302
    assert s.get(hub.url + "hub/logout", timeout=30).status_code == 200
    assert hub.events(kind="logout", user="victor")
    assert s.get(hub.api + "/user", timeout=30).status_code == 403
