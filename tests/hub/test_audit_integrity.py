"""Audit integrity on a real hub (issue 11, items 4 and 5).

Item 4: a designer's personal token can reach the graph-save endpoint (so can code in their own
server: whatever the server holds, its user holds). Reports are bounded to what the user's server
can know — its own user, a running server, a file inside their home or their teams' folders that
hashes to the reported sha256 now — and marked as reported by the server; fabrications are refused
and the refusal is recorded. Item 5: refused calls, a viewer's spawn attempts, refused viewer
writes, traversal attempts and token creation and revocation are all in the audit log.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
import requests

from brepflow_lab.hub.accounts import AccountStore

from .conftest import Hub

PASSWORD = "Tessellated-Fillet-42"
VIEWER = "services/brepflow-viewer/"
USERS = {"alice": ("designer", ["engineering"]), "bob": ("designer", ["marketing"])}
USERS |= {"victor": ("viewer", ["engineering"])}
GRAPH = '{"version": "0.1.0", "nodes": [], "edges": []}\n'


@pytest.fixture(scope="module")
def hub(hub_factory) -> Hub:
    hub = hub_factory({}, name="auditintegrity")
    store = AccountStore(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")
    try:
        for name, (role, teams) in USERS.items():
            store.set_password(name, PASSWORD, by="test")
            r = hub.call("POST", f"/brepflow/signups/{name}", json={"action": "approve", "role": role, "teams": teams})
            assert r.status_code == 200, r.text
    finally:
        store.dispose()
    return hub


@pytest.fixture(scope="module")
def tokens(hub: Hub) -> dict[str, str]:
    return {name: hub.token_for(name, PASSWORD) for name in USERS}


@pytest.fixture(scope="module")
def saved(hub: Hub, tokens: dict[str, str]) -> dict[str, Any]:
    """alice's server saves a graph into her team's folder (the real post-save hook reports it)."""
    hub.spawn("alice", tokens["alice"])
    r = requests.put(
        f"{hub.url}user/alice/api/contents/engineering/bracket.bflow.json",
        headers={"Authorization": f"token {tokens['alice']}"},
        json={"type": "file", "format": "text", "content": GRAPH},
        timeout=60,
    )
    assert r.status_code in (200, 201), r.text
    path = hub.team_root / "engineering" / "bracket.bflow.json"
    return {"path": path, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def wait_events(hub: Hub, count: int = 1, **match: Any) -> list[dict[str, Any]]:
    """Events matching ``match`` once there are ``count``: the hub writes them after the answer."""
    return hub.wait_for(lambda: len(hub.events(**match)) >= count and hub.events(**match), 10, f"events {match}")


def report(hub: Hub, token: str, user: str, **body: Any) -> requests.Response:
    return hub.call("POST", f"/brepflow/audit/{user}", token=token, json=body)


def test_a_servers_save_is_recorded_as_reported_by_the_server_and_verified(hub: Hub, saved) -> None:
    event = hub.wait_for(lambda: hub.events(kind="graph_save", user="alice"), 30, "graph_save")[-1]
    assert event["reported_by"] == "server" and event["verified"] == "sha256"
    assert event["sha256"] == saved["sha256"] and event["team"] == "engineering"
    assert event["file"] == str(saved["path"].resolve()) and event["path"] == "engineering/bracket.bflow.json"


def test_fabricated_graph_saves_are_refused_and_the_attempts_recorded(hub: Hub, saved, tokens) -> None:
    alice = tokens["alice"]
    hub.wait_for(lambda: hub.events(kind="graph_save", user="alice"), 30, "graph_save")
    before = hub.events(kind="graph_save")
    eng, mkt = hub.team_root / "engineering", hub.team_root / "marketing"
    (mkt / "plan.bflow.json").write_text(GRAPH.replace("0.1.0", "0.1.1"))
    plan_sha = hashlib.sha256((mkt / "plan.bflow.json").read_bytes()).hexdigest()
    os.symlink(mkt / "plan.bflow.json", eng / "alias.bflow.json")
    cases = [
        # another team's folder (bob's), directly, through '..', through a link in her own team
        ({"path": "marketing/plan.bflow.json", "file": str(mkt / "plan.bflow.json"), "sha256": plan_sha}, 403),
        ({"path": "x/plan.bflow.json", "file": f"{eng}/../marketing/plan.bflow.json", "sha256": plan_sha}, 403),
        ({"path": "engineering/alias.bflow.json", "file": str(eng / "alias.bflow.json"), "sha256": plan_sha}, 403),
        # a file that was never saved, a sha that is not the file's
        ({"path": "engineering/ghost.bflow.json", "file": str(eng / "ghost.bflow.json"), "sha256": "1" * 64}, 400),
        ({"path": "engineering/bracket.bflow.json", "file": str(saved["path"]), "sha256": "2" * 64}, 409),
        # a relative file, a path escaping the root
        ({"path": "engineering/bracket.bflow.json", "file": "bracket.bflow.json", "sha256": saved["sha256"]}, 400),
        ({"path": "../etc/bracket.bflow.json", "file": str(saved["path"]), "sha256": saved["sha256"]}, 400),
        # a server she does not have
        (
            {
                "path": "engineering/bracket.bflow.json",
                "file": str(saved["path"]),
                "sha256": saved["sha256"],
                "server": "ghost",
            },
            403,
        ),
    ]
    for body, status in cases:
        r = report(hub, alice, "alice", **body)
        assert r.status_code == status, (body, r.status_code, r.text)
    # bob has no running server: nothing he reports is a server's report, even about his own team
    r = report(
        hub, tokens["bob"], "bob", path="marketing/plan.bflow.json", file=str(mkt / "plan.bflow.json"), sha256=plan_sha
    )
    assert r.status_code == 403 and "no running server" in r.json()["message"]
    assert hub.events(kind="graph_save") == before  # nothing fabricated got in
    refused = wait_events(hub, len(cases) + 1, kind="graph_save_refused")
    assert len(refused) == len(cases) + 1
    assert {e["user"] for e in refused} == {"alice", "bob"} and all(e["reason"] for e in refused)
    assert any("outside alice's home" in e["reason"] for e in refused)

    # a true report with a lie in it: the hub records its own findings (team, size), marked as the server's
    r = report(
        hub,
        alice,
        "alice",
        path="engineering/bracket.bflow.json",
        file=str(saved["path"]),
        sha256=saved["sha256"],
        team="marketing",
        bytes=1,
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["team"] == "engineering" and event["bytes"] == saved["path"].stat().st_size
    assert event["reported_by"] == "server" and event["verified"] == "sha256"


def test_tokens_created_and_revoked_are_recorded(hub: Hub, tokens) -> None:
    created = hub.events(kind="token_created", user="alice")
    assert created and created[0]["via"] == "password" and created[0]["note"] == "test"
    assert all("password" not in str(e.get("note")) and PASSWORD not in str(e) for e in hub.events())
    r = hub.call("POST", "/users/alice/tokens", token=tokens["alice"], json={"note": "laptop", "expires_in": 3600})
    assert r.status_code == 201, r.text
    token_id = r.json()["id"]
    event = wait_events(hub, kind="token_created", note="laptop")[-1]
    assert event["user"] == event["by"] == "alice" and event["via"] == "token" and event["expires_in"] == 3600
    assert hub.call("DELETE", f"/users/alice/tokens/{token_id}", token=tokens["alice"]).status_code == 204
    assert wait_events(hub, kind="token_revoked", user="alice", token_id=token_id)


def test_refused_calls_and_a_viewers_spawn_attempts_are_recorded(hub: Hub, tokens) -> None:
    # a viewer trying to start a server, through the API and the spawn page
    assert hub.call("POST", "/users/victor/server", token=tokens["victor"]).status_code == 403
    spawn = wait_events(hub, kind="spawn_refused", user="victor")
    assert spawn and spawn[-1]["target"] == "victor" and spawn[-1]["status"] == 403
    session, r = hub.login("victor", PASSWORD)
    assert r.status_code == 302
    page = session.get(f"{hub.url}hub/spawn", allow_redirects=False, timeout=30)  # "Start My Server"
    assert page.status_code == 403, (page.status_code, page.headers.get("Location"))
    assert len(wait_events(hub, 2, kind="spawn_refused", user="victor")) == 2
    # a designer at the admin API, at someone else's server
    assert hub.call("GET", "/groups", token=tokens["bob"]).status_code == 403
    assert wait_events(hub, kind="access_refused", user="bob", path="/hub/api/groups", method="GET")
    assert hub.call("POST", "/users/alice/server", token=tokens["bob"]).status_code in (403, 404)
    assert wait_events(hub, kind="spawn_refused", user="bob", target="alice")
    assert hub.call("DELETE", "/users/alice/tokens/a1", token=tokens["bob"]).status_code in (403, 404)
    assert wait_events(hub, kind="access_refused", user="bob", method="DELETE")


def test_refused_viewer_writes_and_traversal_attempts_are_recorded(hub: Hub, saved, tokens) -> None:
    headers = {"Authorization": f"token {tokens['victor']}"}
    url = f"{hub.url}{VIEWER}teams/engineering/graphs/bracket.bflow.json"
    for method in ("POST", "PUT", "DELETE"):
        assert requests.request(method, url, headers=headers, data=b"{}", timeout=30).status_code == 405
    # the service records in on_finish, which may run after the client has its answer: wait for all three
    writes = wait_events(hub, 3, kind="viewer_write_refused", user="victor")
    assert sorted(e["method"] for e in writes) == ["DELETE", "POST", "PUT"]
    for rel in ("..%2F..%2Fstate%2Fx.bflow.json", "..%2Fmarketing%2Fplan.bflow.json", "alias.bflow.json"):
        r = requests.get(f"{hub.url}{VIEWER}teams/engineering/graphs/{rel}", headers=headers, timeout=60)
        assert r.status_code == 404, (rel, r.status_code)
    traversal = hub.wait_for(
        lambda: len(hub.events(kind="traversal_refused", user="victor")) >= 3 and hub.events(kind="traversal_refused"),
        10,
        "traversal events",
    )
    assert {e["status"] for e in traversal} == {404}
    # a missing graph is not a traversal
    r = requests.get(f"{hub.url}{VIEWER}teams/engineering/graphs/nothere.bflow.json", headers=headers, timeout=60)
    assert r.status_code == 404
    assert len(hub.events(kind="traversal_refused")) == 3
    # a team the viewer is not in
    assert requests.get(f"{hub.url}{VIEWER}teams/marketing/", headers=headers, timeout=60).status_code == 403
    hub.wait_for(lambda: hub.events(kind="viewer_refused", user="victor"), 10, "viewer_refused")
