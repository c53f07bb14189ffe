"""The last two audit gaps of issue 11, item 5, on a real hub (proxy, viewer service, servers).

* A viewer's page access: the viewer service records ``viewer_access`` (who saw which team list,
  which graph, which model, with the graph's sha256) once it has answered; refusals stay
  ``viewer_refused`` and are not access.
* A save that replaced a newer version: alice and bob (designers of one team) each run a server
  and work on one team graph through the contents API, exactly as JupyterLab does (load with
  ``content=1&hash=1``; before saving, ``content=0&hash=1`` to compare; then ``PUT``). When bob
  saves over the version alice wrote after he loaded his -- JupyterLab's "File Changed" dialog
  answered with *Overwrite*, or a client that never checks -- the hub records
  ``newer_version_replaced``: the replaced version (sha256, time), the one bob had loaded, and
  who saved the replaced one (from the hub's own log). Saves over the version one has loaded or
  written are not flagged.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from brepflow_lab import Graph
from brepflow_lab.hub.accounts import AccountStore

from .conftest import Hub

PASSWORD = "Lofted-Profile-27"
VIEWER = "services/brepflow-viewer/"
TEAM = "engineering"
USERS = {"alice": ("designer", [TEAM]), "bob": ("designer", [TEAM]), "victor": ("viewer", [TEAM])}
GRAPH = f"{TEAM}/plate.bflow.json"  # the servers' root is the team root here (spawner.kind: simple)


def plate(width: float) -> str:
    g = Graph.new(units="mm", description=f"plate {width}")
    g.add("Solid::Box", width=width, height=4, depth=20)
    return g.dumps()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def hub(hub_factory) -> Hub:
    hub = hub_factory({}, name="auditaccess")
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


class Lab:
    """One designer's JupyterLab session on their own server: the contents API calls it makes."""

    def __init__(self, hub: Hub, user: str, token: str) -> None:
        self.url = f"{hub.url}user/{user}/api/contents/{GRAPH}"
        self.headers = {"Authorization": f"token {token}"}
        self.loaded: str | None = None  # the hash of the version open in the editor

    def open(self) -> str:
        r = requests.get(
            self.url,
            params={"content": "1", "hash": "1", "format": "text", "type": "file"},
            headers=self.headers,
            timeout=60,
        )
        assert r.status_code == 200, r.text
        self.loaded = r.json()["hash"]
        return str(r.json()["content"])

    def changed_on_disk(self) -> bool:
        """JupyterLab's check before a save (``_maybeSave``): the hash on disk vs the loaded one."""
        r = requests.get(self.url, params={"content": 0, "hash": 1}, headers=self.headers, timeout=60)
        assert r.status_code == 200, r.text
        return bool(r.json()["hash"] != self.loaded)

    def save(self, text: str) -> None:
        body = {"type": "file", "format": "text", "content": text}
        r = requests.put(self.url, json=body, headers=self.headers, timeout=60)
        assert r.status_code in (200, 201), r.text
        r = requests.get(self.url, params={"content": 0, "hash": 1}, headers=self.headers, timeout=60)
        self.loaded = r.json()["hash"]  # JupyterLab's hash after its own save


def saves(hub: Hub, count: int) -> list[dict[str, Any]]:
    return hub.wait_for(
        lambda: len(hub.events(kind="graph_save")) >= count and hub.events(kind="graph_save"), 30, f"{count} graph_save"
    )


def test_a_save_over_a_newer_version_is_recorded(hub: Hub, tokens: dict[str, str]) -> None:
    hub.spawn("alice", tokens["alice"])
    hub.spawn("bob", tokens["bob"])
    alice, bob = Lab(hub, "alice", tokens["alice"]), Lab(hub, "bob", tokens["bob"])
    v1, v2, v3, v4, v5 = (plate(w) for w in (10, 20, 30, 40, 50))
    file = str((hub.team_root / GRAPH).resolve())

    alice.save(v1)  # a new file: replaces nothing
    assert bob.open() == v1
    alice.open()
    alice.save(v2)  # over her own version
    saves(hub, 2)
    assert not hub.events(kind="newer_version_replaced")

    # bob never looks: his save replaces alice's v2, which he never had
    bob.save(v3)
    event = hub.wait_for(lambda: hub.events(kind="newer_version_replaced"), 30, "newer_version_replaced")[-1]
    assert event["user"] == "bob" and event["file"] == file and event["team"] == TEAM
    assert event["sha256"] == sha(v3) and event["reported_by"] == "server"
    assert event["replaced_sha256"] == sha(v2) and event["base_sha256"] == sha(v1)
    assert event["replaced_saved_by"] == "alice"
    alice_v2 = [e for e in hub.events(kind="graph_save", user="alice") if e["sha256"] == sha(v2)][-1]
    assert event["replaced_saved_at"] == alice_v2["ts"] and event["base_modified"] <= event["replaced_modified"]
    bob_v3 = [e for e in hub.events(kind="graph_save", user="bob") if e["sha256"] == sha(v3)][-1]
    assert bob_v3["replaced"]["sha256"] == sha(v2) and bob_v3["verified"] == "sha256"

    # alice loads bob's version before changing it: not flagged; bob saves over what he wrote: not flagged
    alice.open()
    assert not alice.changed_on_disk()
    alice.save(v4)
    saves(hub, 4)
    assert len(hub.events(kind="newer_version_replaced")) == 1

    # JupyterLab's own flow: bob's check sees the change ("File Changed"), he answers Overwrite
    assert bob.changed_on_disk()
    bob.save(v5)
    events = hub.wait_for(
        lambda: len(hub.events(kind="newer_version_replaced")) >= 2 and hub.events(kind="newer_version_replaced"),
        30,
        "second replacement",
    )
    assert events[-1]["user"] == "bob" and events[-1]["replaced_sha256"] == sha(v4)
    assert events[-1]["base_sha256"] == sha(v3) and events[-1]["replaced_saved_by"] == "alice"
    assert (hub.team_root / GRAPH).read_text() == v5


def test_a_malformed_replacement_report_is_refused(hub: Hub, tokens: dict[str, str]) -> None:
    hub.wait_for(lambda: hub.events(kind="graph_save", user="bob"), 30, "bob's saves")
    path = hub.team_root / GRAPH
    body = {"path": GRAPH, "file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    r = hub.call("POST", "/brepflow/audit/bob", token=tokens["bob"], json={**body, "replaced": {"sha256": "x"}})
    assert r.status_code == 400, r.text
    assert hub.wait_for(
        lambda: [e for e in hub.events(kind="graph_save_refused", user="bob") if "replaced" in e["reason"]],
        10,
        "refusal",
    )


def test_viewer_page_access_is_recorded(hub: Hub, tokens: dict[str, str]) -> None:
    path = hub.team_root / GRAPH
    if not path.exists():
        path.write_text(plate(60))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    headers = {"Authorization": f"token {tokens['victor']}"}
    base = f"{hub.url}{VIEWER}teams/{TEAM}/"
    assert requests.get(base, headers=headers, timeout=60).status_code == 200
    page = requests.get(f"{base}graphs/plate.bflow.json", headers=headers, timeout=60)
    assert page.status_code == 200 and "<canvas" in page.text
    model = requests.get(f"{base}graphs/plate.bflow.json/model", headers=headers, timeout=180)
    assert model.status_code == 200, model.text
    events = hub.wait_for(
        lambda: (
            len(hub.events(kind="viewer_access", user="victor")) >= 3
            and hub.events(kind="viewer_access", user="victor")
        ),
        10,
        "viewer_access",
    )
    team, graph, drawn = events[-3:]
    assert team["page"] == "team" and team["team"] == TEAM and team["graphs"] >= 1
    assert graph["page"] == "graph" and graph["graph"] == "plate.bflow.json" and graph["sha256"] == digest
    assert graph["format"] == "html" and graph["file"] == str(path.resolve())
    assert drawn["page"] == "model" and drawn["sha256"] == digest and drawn["part"] is None
    # a refusal is not an access
    assert requests.get(f"{hub.url}{VIEWER}teams/marketing/", headers=headers, timeout=60).status_code == 403
    hub.wait_for(lambda: hub.events(kind="viewer_refused", user="victor"), 10, "viewer_refused")
    assert len(hub.events(kind="viewer_access", user="victor")) == 3
