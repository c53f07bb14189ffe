"""Local accounts on a real hub: sign-up → approval → login, password policy, lock-out, audit."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
import requests

from brepflow_lab.hub.accounts import AccountStore, check_password, hash_password, verify_password

from .conftest import ADMIN_PASSWORD, ROOT, Hub

GOOD = "Tessellated-Fillet-42"


@pytest.fixture(scope="module")
def hub(hub_factory) -> Hub:
    return hub_factory({}, name="local")


def signup(hub: Hub, name: str, password: str, password2: str | None = None, teams=()) -> requests.Response:
    s = requests.Session()
    s.get(hub.url + "hub/signup", timeout=30)
    data = {
        "username": name,
        "password": password,
        "password2": password if password2 is None else password2,
        "_xsrf": s.cookies.get("_xsrf", ""),
        "message": "please",
    }
    if teams:
        data["teams"] = list(teams)
    return s.post(hub.url + "hub/signup", data=data, timeout=30)


# -- the password policy (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 10"),
        ("carol-carol-2024", "user name"),
        ("xXcarolXx-99-zz", "user name"),
        ("Password123!", "too common"),
        ("p@ssw0rd2024", "too common"),
        ("qwertyuiop", "too common"),
        ("aaaaaaaaaaaaaa", "too common"),
        ("1234567890123", "too common"),
        ("Solidworks2024!", "too common"),
    ],
)
def test_password_policy_refuses(password, reason):
    problems = check_password("carol", password, min_length=10)
    assert any(reason in p for p in problems), problems


def test_password_policy_accepts_a_good_password_and_an_extra_list():
    assert check_password("carol", GOOD) == []
    assert check_password("carol", "Kettle-Violin-Orbit", extra_common={"kettle-violin-orbit"}) != []


def test_scrypt_hashes_are_salted_and_verify():
    a, b = hash_password(GOOD), hash_password(GOOD)
    assert a != b and a.startswith("scrypt$")
    assert verify_password(GOOD, a) and not verify_password(GOOD + "x", a)
    assert not verify_password(GOOD, "garbage")


# -- the real hub -------------------------------------------------------------------------------


def test_signup_approval_login_flow(hub: Hub):
    page = requests.get(hub.url + "hub/login", timeout=30)
    assert 'id="signup-link"' in page.text

    r = signup(hub, "carol", GOOD, teams=["engineering"])
    assert r.status_code == 200 and 'id="signup-done"' in r.text

    # pending: the right password is refused with a clear message
    _, r = hub.login("carol", GOOD)
    assert r.status_code == 403 and "waiting for an administrator" in r.text

    # the admin sees the request and approves it (the REST API the approval page also uses)
    pending = hub.call("GET", "/brepflow/signups", params={"status": "pending"}).json()
    assert [a["name"] for a in pending] == ["carol"]
    assert pending[0]["requested_teams"] == ["engineering"] and "password_hash" not in pending[0]
    r = hub.call(
        "POST", "/brepflow/signups/carol", json={"action": "approve", "role": "designer", "teams": ["engineering"]}
    )
    assert r.status_code == 200, r.text
    user = hub.call("GET", "/users/carol").json()
    assert sorted(user["groups"]) == ["designers", "engineering"]

    session, r = hub.login("carol", GOOD)
    assert r.status_code == 302, r.text
    assert session.get(hub.url + "hub/api/user", timeout=30).json()["name"] == "carol"
    home = session.get(hub.url + "hub/home", timeout=30)
    assert home.status_code == 200 and "carol" in home.text

    kinds = [(e["kind"], e["user"]) for e in hub.events() if "carol" in (e.get("user"), e.get("target"))]
    assert ("signup", "carol") in kinds
    assert ("login_failed", "carol") in kinds
    assert ("approval", "admin") in kinds
    assert ("login", "carol") in kinds
    approval = hub.events(kind="approval", target="carol")[0]
    assert approval["role"] == "designer" and approval["teams"] == ["engineering"]

    logout = session.get(hub.url + "hub/logout", timeout=30)
    assert logout.status_code == 200
    assert hub.events(kind="logout", user="carol")


def test_approval_page_for_admins_only(hub: Hub):
    assert signup(hub, "dave", GOOD).status_code == 200
    admin, r = hub.login("admin", ADMIN_PASSWORD)
    assert r.status_code == 302
    page = admin.get(hub.url + "hub/brepflow/signups", timeout=30)
    assert page.status_code == 200 and 'data-user="dave"' in page.text
    r = admin.post(
        hub.url + "hub/brepflow/signups",
        data={
            "name": "dave",
            "action": "approve",
            "role": "viewer",
            "teams": "marketing",
            "_xsrf": admin.cookies["_xsrf"],
        },
        timeout=30,
    )
    assert r.status_code == 200 and "approved dave as viewer in marketing" in r.text
    assert sorted(hub.call("GET", "/users/dave").json()["groups"]) == ["marketing", "viewers"]

    dave, r = hub.login("dave", GOOD)
    assert r.status_code == 302
    assert dave.get(hub.url + "hub/brepflow/signups", timeout=30).status_code == 403
    token = hub.token_for("dave", GOOD)
    assert hub.call("GET", "/brepflow/signups", token=token).status_code == 403
    assert hub.call("POST", "/brepflow/signups/dave", token=token, json={"action": "unlock"}).status_code == 403


def test_signup_refuses_bad_input_with_every_reason(hub: Hub):
    r = signup(hub, "Eve!", "password1", "password2", teams=["nope"])
    assert r.status_code == 400
    problems = re.findall(r'class="alert alert-danger signup-problem">([^<]+)<', r.text)
    assert any("user name must be" in p for p in problems)
    assert any("differ" in p for p in problems)
    assert any("too common" in p for p in problems)
    assert any("unknown team" in p for p in problems)
    assert signup(hub, "admin", GOOD).status_code == 400  # the bootstrap admin's name is not up for grabs
    r = signup(hub, "carol", GOOD)
    assert r.status_code == 400 and "taken" in r.text


def test_lockout_after_repeated_failures(hub: Hub):
    store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
    try:
        store.set_password("frank", GOOD, by="test")
    finally:
        store.dispose()
    for _ in range(2):
        _, r = hub.login("frank", "wrong-password-123")
        assert r.status_code == 403 and "Invalid username or password" in r.text
    _, r = hub.login("frank", "wrong-password-123")  # the third failure locks (max_failed_logins: 3) ...
    assert r.status_code == 403 and "Invalid username or password" in r.text  # ... without saying so
    assert "locked" not in r.text
    _, r = hub.login("frank", GOOD)  # the right password does not open a locked account; its owner hears why
    assert r.status_code == 403 and "locked after 3 failed logins" in r.text
    # nor does the token API
    r = requests.post(
        f"{hub.api}/users/frank/tokens", json={"auth": {"username": "frank", "password": GOOD}}, timeout=30
    )
    assert r.status_code == 403

    reasons = [e.get("reason") for e in hub.events(kind="login_failed", user="frank")]
    assert reasons == ["bad_password"] * 3 + ["locked", "locked"]
    _, r = hub.login("frank", "wrong-password-123")  # a wrong password while locked: the usual answer
    assert r.status_code == 403 and "Invalid username or password" in r.text and "locked" not in r.text
    assert len(hub.events(kind="lockout", user="frank")) == 1
    locked = hub.call("GET", "/brepflow/signups/frank").json()
    assert locked["locked"] is True

    # an admin unlocks; then the password works again
    r = hub.call("POST", "/brepflow/signups/frank", json={"action": "unlock"})
    assert r.status_code == 200 and r.json()["account"]["locked"] is False
    _, r = hub.login("frank", GOOD)
    assert r.status_code == 302
    assert hub.events(kind="user_change", action="unlock")


def test_unknown_user_costs_a_hash_and_is_audited(hub: Hub):
    started = time.monotonic()
    _, r = hub.login("nobody", GOOD)
    assert r.status_code == 403
    assert time.monotonic() - started > 0.01  # scrypt ran although there is no such account
    assert hub.events(kind="login_failed", user="nobody", reason="unknown_user")


def test_rejected_signup_cannot_log_in(hub: Hub):
    assert signup(hub, "gina", GOOD).status_code == 200
    r = hub.call("POST", "/brepflow/signups/gina", json={"action": "reject"})
    assert r.status_code == 200
    _, r = hub.login("gina", GOOD)
    assert r.status_code == 403 and "not approved" in r.text
    assert hub.events(kind="rejection", target="gina")
    r = hub.call("POST", "/brepflow/signups/gina", json={"action": "approve", "role": "wizard"})
    assert r.status_code == 400 and "designer" in r.text


def test_passwd_cli_bootstraps_an_account(hub: Hub):
    cmd = [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "passwd", "henry", "--password-stdin"]
    cmd += ["--config", str(hub.config_path)]
    weak = subprocess.run(cmd, input="password1\n", capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert weak.returncode == 1 and "too common" in weak.stderr
    ok = subprocess.run(cmd, input=GOOD + "\n", capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    _, r = hub.login("henry", GOOD)
    assert r.status_code == 302
    assert hub.events(kind="password_change", user="henry")


def test_admin_group_changes_are_audited_as_team_and_role_changes(hub: Hub):
    r = hub.call("POST", "/groups/engineering/users", json={"users": ["dave"]})
    assert r.status_code == 200, r.text
    r = hub.call("DELETE", "/groups/viewers/users", json={"users": ["dave"]})
    assert r.status_code == 200
    r = hub.call("POST", "/groups/designers/users", json={"users": ["dave"]})
    assert r.status_code == 200
    r = hub.call("PATCH", "/users/dave", json={"admin": True})
    assert r.status_code == 200
    # JupyterHub's REST changes are audited from tornado's request log, which runs right after the
    # reply has been sent: the last event can land a few milliseconds after this client saw the 200.
    hub.wait_for(lambda: hub.events(kind="role_change", user="admin", action="admin"), 10, "admin event")
    team = hub.events(kind="team_change", team="engineering", action="add")
    assert team and team[-1]["users"] == ["dave"] and team[-1]["user"] == "admin"
    roles = [(e["action"], e.get("role")) for e in hub.events(kind="role_change", user="admin")]
    assert ("remove", "viewer") in roles and ("add", "designer") in roles and ("admin", None) in roles
    assert [e["users"] for e in hub.events(kind="role_change", action="admin")] == [["dave"]]


def test_signups_are_rate_limited_per_address(hub_factory):
    limited = hub_factory({"authentication": {"local": {"max_signups_per_hour": 2}}}, name="signup-rate")
    assert signup(limited, "ivan", GOOD).status_code == 200
    # a refused form (weak password) creates nothing and does not count
    assert signup(limited, "judy", "password1").status_code == 400
    assert signup(limited, "judy", GOOD).status_code == 200
    r = signup(limited, "mallory", GOOD)
    assert r.status_code == 429 and "Too many sign-ups from your address" in r.text
    assert 3500 <= int(r.headers["Retry-After"]) <= 3601
    names = {a["name"] for a in limited.call("GET", "/brepflow/signups").json()}
    assert {"ivan", "judy"} <= names and "mallory" not in names
    refused = limited.events(kind="signup_refused")
    assert [(e["user"], e["reason"]) for e in refused] == [("mallory", "rate")]


def _login_answer(hub: Hub, name: str, password: str) -> tuple[int, str, float]:
    """(status, the error shown, seconds) of one form login."""
    started = time.monotonic()
    _, r = hub.login(name, password)
    seconds = time.monotonic() - started
    shown = re.findall(r'<p class="login_error">\s*(.*?)\s*</p>', r.text, re.S)
    return r.status_code, " ".join(shown) or r.text[:200], seconds


def test_unknown_and_locked_names_answer_alike_in_message_and_time(hub: Hub):
    """Issue 11 (low): "locked ..." for a locked account vs "Invalid ..." for an unknown name let
    anyone list the user names; now the answer and its timing are the same."""
    store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
    try:
        store.set_password("ingrid", GOOD, by="test")
    finally:
        store.dispose()
    answers: dict[str, list[tuple[int, str, float]]] = {"ingrid": [], "nobody-here": [], "ingrid-locked": []}
    for _ in range(3):  # three wrong passwords lock ingrid (max_failed_logins: 3), the last one included
        answers["ingrid"].append(_login_answer(hub, "ingrid", "wrong-password-123"))
        answers["nobody-here"].append(_login_answer(hub, "nobody-here", "wrong-password-123"))
    assert hub.call("GET", "/brepflow/signups/ingrid").json()["locked"] is True
    for _ in range(5):
        answers["ingrid-locked"].append(_login_answer(hub, "ingrid", "wrong-password-123"))
        answers["nobody-here"].append(_login_answer(hub, "nobody-here", "wrong-password-123"))
    shown = {(status, message) for rows in answers.values() for status, message, _ in rows}
    assert len(shown) == 1, shown
    status, message = shown.pop()
    assert status == 403 and "Invalid username or password" in message and "locked" not in message
    median = {k: sorted(t for *_, t in rows)[len(rows) // 2] for k, rows in answers.items()}
    assert all(t >= 0.3 for t in median.values()), median  # the floor every refusal waits for
    assert max(median.values()) - min(median.values()) < 0.1, median
