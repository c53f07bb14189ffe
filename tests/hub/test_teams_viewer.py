"""Teams and roles on a real hub: a designer's graph save is audited; a viewer of the team sees it
(with its 3D model) in the viewer service but can change nothing and reach no server."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from typing import Any

import pytest
import requests

from brepflow_lab import Graph
from brepflow_lab.hub.accounts import AccountStore
from tests.browser.lab import CHROMIUM, chromium

from .conftest import Hub

PASSWORD = "Tessellated-Fillet-42"
VIEWER = "services/brepflow-viewer/"
USERS = {"alice": ("designer", ["engineering"]), "bob": ("designer", ["marketing"])}
USERS |= {"victor": ("viewer", ["engineering"]), "mallory": ("viewer", ["marketing"])}


@pytest.fixture(scope="module")
def hub(hub_factory) -> Hub:
    hub = hub_factory({}, name="teams")
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


def bracket_json() -> str:
    g = Graph.new(units="mm", description="bracket")
    g.parameters.define("L", 40, min=10, max=200, unit="mm")
    box = g.add("Solid::Box", width="@L", height=10, depth=8)
    hole = g.add("Solid::Cylinder", radius=2, height=30)
    cut = g.add("Boolean::Subtract")
    g.connect(box, "shape", cut, "base")
    g.connect(hole, "shape", cut, "tools")
    return g.dumps()


@pytest.fixture(scope="module")
def saved_graph(hub: Hub, tokens: dict[str, str]) -> dict[str, Any]:
    """alice starts her server and saves a graph into her team's folder through the contents API."""
    hub.spawn("alice", tokens["alice"])
    content = bracket_json()
    r = requests.put(
        f"{hub.url}user/alice/api/contents/engineering/bracket.bflow.json",
        headers={"Authorization": f"token {tokens['alice']}"},
        json={"type": "file", "format": "text", "content": content},
        timeout=60,
    )
    assert r.status_code in (200, 201), r.text
    path = hub.team_root / "engineering" / "bracket.bflow.json"
    return {"path": path, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def test_graph_save_is_audited_with_who_what_and_hash(hub: Hub, saved_graph, tokens):
    events = hub.wait_for(lambda: hub.events(kind="graph_save", user="alice"), 30, "the graph_save event")
    event = events[-1]
    assert event["path"] == "engineering/bracket.bflow.json"
    assert event["sha256"] == saved_graph["sha256"]
    assert event["team"] == "engineering" and event["bytes"] == saved_graph["path"].stat().st_size
    # a notebook save is not a graph save
    r = requests.put(
        f"{hub.url}user/alice/api/contents/engineering/notes.txt",
        headers={"Authorization": f"token {tokens['alice']}"},
        json={"type": "file", "format": "text", "content": "hello"},
        timeout=60,
    )
    assert r.status_code in (200, 201)
    assert all(e["path"].endswith(".bflow.json") for e in hub.events(kind="graph_save"))


def test_nobody_can_record_a_save_in_someone_elses_name(hub: Hub, tokens):
    body = {"path": "x.bflow.json", "sha256": "0" * 64, "bytes": 1}
    before = len(hub.events(kind="graph_save"))
    # JupyterHub answers 404 rather than 403 for a user outside a filtered scope (no name probing)
    assert hub.call("POST", "/brepflow/audit/alice", token=tokens["bob"], json=body).status_code in (403, 404)
    assert len(hub.events(kind="graph_save")) == before
    assert hub.call("POST", "/brepflow/audit/bob", token=tokens["bob"], json={"path": "x.txt"}).status_code == 400


def test_a_users_token_cannot_reach_another_users_server(hub: Hub, saved_graph, tokens):
    for other in ("bob", "victor", "mallory"):
        headers = {"Authorization": f"token {tokens[other]}"}
        r = requests.get(f"{hub.url}user/alice/api/contents/engineering", headers=headers, timeout=30)
        assert r.status_code == 403, (other, r.status_code)
        r = requests.post(f"{hub.url}user/alice/api/kernels", headers=headers, json={}, timeout=30)
        assert r.status_code == 403, (other, r.status_code)
    own = requests.get(
        f"{hub.url}user/alice/api/contents/engineering",
        headers={"Authorization": f"token {tokens['alice']}"},
        timeout=30,
    )
    assert own.status_code == 200


def test_viewers_have_no_server(hub: Hub, tokens):
    r = hub.call("POST", "/users/victor/server", token=tokens["victor"])
    assert r.status_code == 403
    assert hub.call("GET", "/users/victor").json()["servers"] == {}


def viewer_get(hub: Hub, token: str, path: str = "", **kwargs: Any) -> requests.Response:
    return requests.get(f"{hub.url}{VIEWER}{path}", headers={"Authorization": f"token {token}"}, timeout=300, **kwargs)


def test_viewer_sees_the_designers_graph_and_its_model(hub: Hub, saved_graph, tokens):
    victor = tokens["victor"]
    index = viewer_get(hub, victor, params={"format": "json"}).json()
    assert index["teams"] == ["engineering"] and index["admin"] is False
    graphs = viewer_get(hub, victor, "teams/engineering/", params={"format": "json"}).json()["graphs"]
    assert [g["path"] for g in graphs] == ["engineering/bracket.bflow.json"[len("engineering/") :]]
    info = viewer_get(hub, victor, "teams/engineering/graphs/bracket.bflow.json", params={"format": "json"}).json()
    assert info["sha256"] == saved_graph["sha256"] and info["parameters"] == {"L": 40}
    assert [n["type"] for n in info["nodes"]] == ["Solid::Box", "Solid::Cylinder", "Boolean::Subtract"]
    page = viewer_get(hub, victor, "teams/engineering/graphs/bracket.bflow.json")
    assert page.status_code == 200 and '<canvas id="view"' in page.text and "viewer.js" in page.text

    report = viewer_get(hub, victor, "teams/engineering/graphs/bracket.bflow.json/model")
    assert report.status_code == 200, report.text
    model = report.json()
    assert model["failed"] == {} and len(model["parts"]) == 1
    shape = next(iter(model["shapes"].values()))
    assert shape["valid"] is True
    # box [0,40]x[0,10]x[0,8] minus the quarter of the r=2 cylinder on the z axis that lies inside it
    assert shape["volume"] == pytest.approx(40 * 10 * 8 - math.pi * 2**2 / 4 * 8, rel=1e-6)
    glb = requests.get(
        hub.url + model["parts"][0]["url"].lstrip("/"), headers={"Authorization": f"token {victor}"}, timeout=60
    )
    assert glb.status_code == 200 and glb.headers["Content-Type"] == "model/gltf-binary"
    magic, version, length = struct.unpack("<4sII", glb.content[:12])
    assert magic == b"glTF" and version == 2 and length == len(glb.content)
    gltf = json.loads(glb.content[20 : 20 + struct.unpack("<I", glb.content[12:16])[0]])
    assert gltf["meshes"] and gltf["accessors"]
    js = viewer_get(hub, victor, "static/viewer.js")
    assert js.status_code == 200 and "parseGlb" in js.text


def test_viewer_cannot_change_anything(hub: Hub, saved_graph, tokens):
    headers = {"Authorization": f"token {tokens['victor']}"}
    url = f"{hub.url}{VIEWER}teams/engineering/graphs/bracket.bflow.json"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = requests.request(method, url, headers=headers, data=b"{}", timeout=30)
        assert r.status_code == 405, (method, r.status_code)
    # not through the viewer, not through alice's server
    r = requests.put(
        f"{hub.url}user/alice/api/contents/engineering/bracket.bflow.json",
        headers=headers,
        json={"type": "file", "format": "text", "content": "{}"},
        timeout=30,
    )
    assert r.status_code == 403
    assert hashlib.sha256(saved_graph["path"].read_bytes()).hexdigest() == saved_graph["sha256"]


def test_viewer_sees_only_their_teams(hub: Hub, saved_graph, tokens):
    mallory = tokens["mallory"]
    assert viewer_get(hub, mallory, params={"format": "json"}).json()["teams"] == ["marketing"]
    r = viewer_get(hub, mallory, "teams/engineering/", params={"format": "json"})
    assert r.status_code == 403
    assert viewer_get(hub, mallory, "teams/engineering/graphs/bracket.bflow.json/model").status_code == 403
    victor = tokens["victor"]
    assert viewer_get(hub, victor, "teams/engineering/graphs/..%2F..%2Fstate%2Fx.bflow.json").status_code == 404
    assert viewer_get(hub, victor, "teams/engineering/graphs/nothere.bflow.json").status_code == 404
    admin = viewer_get(hub, hub.admin_token, params={"format": "json"}).json()
    assert admin["admin"] is True and admin["teams"] == ["engineering", "marketing"]


def test_viewer_logs_in_through_the_browser_flow(hub: Hub, saved_graph):
    session, r = hub.login("victor", PASSWORD)
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/{VIEWER}")  # viewers land in the viewer, not on a spawn page
    page = session.get(hub.url + VIEWER, timeout=60)  # hub OAuth: authorize → callback → service cookie
    assert page.status_code == 200 and 'class="team"' in page.text and "engineering" in page.text
    team = session.get(f"{hub.url}{VIEWER}teams/engineering/", timeout=60)
    assert "bracket.bflow.json" in team.text


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: apt-get install chromium")
def test_viewer_page_draws_the_model_in_chromium(hub: Hub, saved_graph):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        failed: list[str] = []
        page.on("requestfailed", lambda req: failed.append(f"{req.url} {req.failure}"))
        page.on("response", lambda res: failed.append(f"{res.status} {res.url}") if res.status >= 300 else None)
        page.goto(hub.url + "hub/login")
        page.fill("#username_input", "victor")
        page.fill("#password_input", PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(f"**/{VIEWER}")
        page.goto(f"{hub.url}{VIEWER}teams/engineering/graphs/bracket.bflow.json")
        page.wait_for_function("window.brepflowViewer && (window.brepflowViewer.ready || window.brepflowViewer.error)")
        state = page.evaluate("window.brepflowViewer")
        assert state["error"] is None, (state, failed)
        assert state["parts"] == 1 and state["triangles"] > 20
        painted = page.evaluate(
            """() => { const c = document.getElementById('view'); const gl = c.getContext('webgl');
            const px = new Uint8Array(c.width * c.height * 4);
            gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
            let n = 0; for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - 244) > 12) n++;
            return n / (c.width * c.height); }"""
        )
        assert painted > 0.02, painted  # the part covers a visible share of the canvas
        assert "1 part(s)" in page.inner_text("#status")
        page.screenshot(path=str(hub.root / "viewer.png"))


def test_health_and_metrics(hub: Hub, tokens):
    assert requests.get(hub.url + "hub/health", timeout=30).status_code == 200
    assert requests.get(hub.url + "hub/metrics", timeout=30).status_code == 403
    r = requests.get(hub.url + "hub/metrics", headers={"Authorization": f"token {hub.admin_token}"}, timeout=30)
    assert r.status_code == 200
    assert 'brepflow_audit_events_total{kind="graph_save"} 1.0' in r.text
    assert 'brepflow_audit_events_total{kind="login"}' in r.text
    assert "jupyterhub_total_users" in r.text
    services = {s["name"]: s for s in hub.call("GET", "/services").json().values()}
    assert {"idle-culler", "brepflow-viewer"} <= set(services)
