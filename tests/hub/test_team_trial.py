"""The team trial (issue 11): an admin, two designers and a viewer use the hub as the README says.

Full root mode, as in production: hub_config/jupyterhub_config.py with local accounts and
BrepFlowSpawner (each user's own Unix account ``bf-<name>``, a cgroup, a loop-mounted home), the
shared environment in /opt/brepflow-lab/env (``ensure_environment``, rebuilt when the project
changed), the viewer service, the real proxy on 127.0.0.1 and Debian's Chromium, one browser
context per person. Everything a person does goes through the pages they would use:

1. alice and bob (designers) and carol (viewer) sign up on ``/hub/signup``, asking for the team
   and their role; the admin's home shows the pending sign-ups, the admin approves them on the
   approval page (which keeps them listed under recent decisions);
2. alice and bob start their servers from their home page (a real spawn: their own Unix accounts)
   and land in JupyterLab; alice saves a team graph from her JupyterLab session (the contents API
   call JupyterLab makes), which the hub records as a verified ``graph_save``; bob sees it in his
   own JupyterLab through the team folder;
3. carol's home page is a viewer's (no "Start My Server"), and the viewer page draws the graph;
4. ``brepflow-lab hub backup``, the hub stops, ``brepflow-lab hub restore`` into fresh folders
   (state, homes, teams, disk images: a new machine's places) with a new hub.yaml;
5. the restored hub starts; everyone logs in again in new browser contexts, the designers'
   servers START (a real spawn through the product's spawner) with alice's graph in the team
   folder, carol's viewer draws it again and the admin still sees the decisions.

Each phase's time is printed (``-s``); the whole trial takes about 3-5 minutes here (2 cores),
plus ~2 minutes when the shared environment has to be rebuilt first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if os.geteuid() != 0 or not Path("/sys/fs/cgroup").is_dir() or shutil.which("mkfs.ext4") is None:
    pytest.skip(
        "the team trial runs the hub in full root mode (Unix accounts, loop-mounted homes, cgroups): "
        "run the tests as root after `apt-get install e2fsprogs`",
        allow_module_level=True,
    )

from brepflow_lab import Graph
from brepflow_lab.hub import disk
from brepflow_lab.hub.users import Layout, ensure_environment, remove_team, remove_user
from tests.browser.lab import CHROMIUM, chromium

from .conftest import ADMIN_PASSWORD, ROOT, Hub, free_port, make_hub

if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-liberation (never `playwright install`)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.browser

TEAM = "trial"
PEOPLE = {
    "alice": ("designer", "Fillet-Radius-Seven-7"),
    "bob": ("designer", "Chamfer-Distance-Nine-9"),
    "carol": ("viewer", "Orbit-Camera-Eleven-11"),
}
DESIGNERS = ("alice", "bob")
VIEWER_URL = "services/brepflow-viewer/"
GRAPH = f"teams/{TEAM}/bracket.bflow.json"  # in a designer's JupyterLab: ~/teams/<team> -> the team folder


def places(root: Path) -> dict[str, Any]:
    return {
        "hub": {"state_dir": str(root / "state"), "port": free_port(), "hub_port": free_port()},
        "teams": {TEAM: {"description": "The team trial", "members": []}},
        "storage": {
            "team_root": str(root / "teams"),
            "home_root": str(root / "homes"),
            "disk_root": str(root / "disks"),
        },
        "viewer": {"port": free_port()},
        "spawner": {"kind": "brepflow", "notebook_dir": "", "environment": {}, "start_timeout": 240},
        "quotas": {
            "default": {"disk": "32M", "memory": "1500M", "cpu": 1.0, "dask_memory": "256M", "dask_workers": 1},
            "teams": {TEAM: {"team_disk": "32M"}},
        },
    }


def layout_of(hub: Hub) -> Layout:
    storage = hub.settings["storage"]
    return Layout(
        home_root=Path(storage["home_root"]),
        team_root=Path(storage["team_root"]),
        disk_root=Path(storage["disk_root"]),
    )


def bracket_json() -> str:
    g = Graph.new(units="mm", description="the team's bracket")
    g.parameters.define("L", 40, min=10, max=200, unit="mm")
    box = g.add("Solid::Box", width="@L", height=10, depth=8)
    hole = g.add("Solid::Cylinder", radius=2, height=30)
    cut = g.add("Boolean::Subtract")
    g.connect(box, "shape", cut, "base")
    g.connect(hole, "shape", cut, "tools")
    return g.dumps()


def brepflow_lab_hub(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``brepflow-lab hub ARGS --config FILE``, the admin's command (the console script when installed)."""
    exe = shutil.which("brepflow-lab")
    cmd = [exe] if exe else [sys.executable, "-m", "brepflow_lab.cli"]
    return subprocess.run(
        [*cmd, "hub", *args, "--config", str(config)], capture_output=True, text=True, timeout=600, cwd=ROOT
    )


class Clock:
    def __init__(self) -> None:
        self.start = self.last = time.monotonic()
        self.phases: list[tuple[str, float]] = []

    def lap(self, what: str) -> None:
        now = time.monotonic()
        self.phases.append((what, now - self.last))
        print(f"[trial] {what}: {now - self.last:.1f} s (total {now - self.start:.1f} s)", flush=True)
        self.last = now


class Person:
    """One person's browser context on one hub."""

    def __init__(self, browser: Any, hub: Hub, name: str, shots: Path) -> None:
        self.hub, self.name, self.shots = hub, name, shots
        self.context = browser.new_context(viewport={"width": 1280, "height": 860})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    @property
    def password(self) -> str:
        return ADMIN_PASSWORD if self.name == "admin" else PEOPLE[self.name][1]

    def goto(self, path: str) -> Any:
        return self.page.goto(self.hub.url + path)

    def login(self) -> None:
        self.goto("hub/login")
        self.page.fill("#username_input", self.name)
        self.page.fill("#password_input", self.password)
        self.page.click("#login_submit")
        self.page.wait_for_load_state()

    def shot(self, label: str) -> str:
        path = self.shots / f"{self.name}-{label}.png"
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(path))
        return str(path)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()

    # -- designers -------------------------------------------------------------------------------
    def start_server(self) -> None:
        """From the home page: "Start My Server" (JupyterHub's spawn, then the pending page)."""
        self.goto("hub/home")
        self.page.click("#start")

    def wait_lab(self) -> None:
        page = self.page
        page.wait_for_url(f"**/user/{self.name}/lab**", timeout=300_000)
        page.locator(".jp-LabShell").wait_for(timeout=120_000)
        page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=120_000)

    def contents(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """The contents API call JupyterLab makes from this page (session cookie + _xsrf header)."""
        status, text = self.page.evaluate(
            """async ([url, method, body]) => {
                const xsrf = (document.cookie.split('; ').find(c => c.startsWith('_xsrf=')) || '=').split('=')[1];
                const init = {method, headers: {'X-XSRFToken': decodeURIComponent(xsrf)}, credentials: 'same-origin'};
                if (body !== null) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
                const r = await fetch(url, init);
                return [r.status, await r.text()];
            }""",
            [f"/user/{self.name}/api/contents/{path}", method, body],
        )
        return status, (json.loads(text) if text.startswith("{") else text)

    # -- everyone --------------------------------------------------------------------------------
    def view_graph(self) -> dict[str, Any]:
        page = self.page
        self.goto(f"{VIEWER_URL}teams/{TEAM}/graphs/bracket.bflow.json")
        page.wait_for_function(
            "window.brepflowViewer && (window.brepflowViewer.ready || window.brepflowViewer.error)", timeout=240_000
        )
        return dict(page.evaluate("window.brepflowViewer"))


def sign_up(person: Person, role: str) -> None:
    page = person.page
    person.goto("hub/login")
    page.click("#signup-link")
    page.fill("#username", person.name)
    page.fill("#password", person.password)
    page.fill("#password2", person.password)
    page.select_option("#teams", [TEAM])
    if page.locator("#role").count():
        page.select_option("#role", role)
    page.fill("#message", f"{person.name} here, {role} for the {TEAM} team")
    page.click("input[type=submit]")
    page.locator("#signup-done, .signup-problem").first.wait_for()
    problems = page.locator(".signup-problem").all_inner_texts()
    assert not problems, (person.name, problems)


def approve(admin: Person, name: str, role: str) -> None:
    page = admin.page
    row = page.locator(f"#accounts tr[data-user='{name}']")
    row.locator("select[name=role]").select_option(role)
    row.locator("select[name=teams]").select_option([TEAM])
    row.locator("button[value=approve]").click()
    page.locator("#flash").filter(has_text=f"approved {name} as {role}").wait_for()


def painted_share(person: Person) -> float:
    return float(
        person.page.evaluate(
            """() => { const c = document.getElementById('view'); const gl = c.getContext('webgl');
            const px = new Uint8Array(c.width * c.height * 4);
            gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
            let n = 0; for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - 244) > 12) n++;
            return n / (c.width * c.height); }"""
        )
    )


@pytest.fixture(scope="module")
def trial_root() -> Iterator[Path]:
    ensure_environment()  # the designers' servers run from it (rebuilt only when the project changed)
    base = Path(tempfile.mkdtemp(prefix="brepflow-trial-"))
    os.chmod(base, 0o755)  # the users' accounts reach their homes and team folders below
    hubs: list[Hub] = []
    base_hubs = base / "hubs.json"
    try:
        yield base
    finally:
        with contextlib.suppress(Exception):
            hubs = [Hub(root=Path(r), config_path=Path(c), settings=s) for r, c, s in json.loads(base_hubs.read_text())]
        for hub in hubs:
            lay = layout_of(hub)
            for name in DESIGNERS:
                with contextlib.suppress(Exception):
                    disk.unmount(lay.home(name))
            with contextlib.suppress(Exception):
                disk.unmount(lay.team_dir(TEAM))
        if hubs:
            lay = layout_of(hubs[-1])
            for name in PEOPLE:
                with contextlib.suppress(Exception):
                    remove_user(name, layout=lay, delete_data=True)
            with contextlib.suppress(Exception):
                remove_team(TEAM, layout=lay, delete_data=True)
        shutil.rmtree(base, ignore_errors=True)


def _remember(base: Path, *hubs: Hub) -> None:
    (base / "hubs.json").write_text(json.dumps([[str(h.root), str(h.config_path), h.settings] for h in hubs]))


def test_team_trial_from_sign_up_to_restore(trial_root: Path) -> None:
    clock = Clock()
    shots = trial_root / "shots"
    shots.mkdir()
    old = make_hub(trial_root / "old", places(trial_root / "old"))
    os.chmod(old.root, 0o755)
    _remember(trial_root, old)
    hubs = [old]
    content = bracket_json()
    sha = hashlib.sha256(content.encode()).hexdigest()
    try:
        old.start()
        clock.lap("hub started")
        with chromium() as browser:
            people = {name: Person(browser, old, name, shots) for name in ("admin", *PEOPLE)}
            try:
                # 1. sign-up -> approval
                for name, (role, _) in PEOPLE.items():
                    sign_up(people[name], role)
                admin = people["admin"]
                admin.login()
                admin.goto("hub/home")
                hint = admin.page.locator("#brepflow-pending")
                assert "3 sign-up(s) waiting" in hint.inner_text(), admin.shot("home")
                hint.locator("a").click()
                admin.page.wait_for_url("**/hub/brepflow/signups")
                for name, (role, _) in PEOPLE.items():
                    asked = admin.page.locator(f"#accounts tr[data-user='{name}']").inner_text()
                    assert TEAM in asked and f"{role} for the {TEAM} team" in asked, asked
                    approve(admin, name, role)
                decided = admin.page.locator("#decided").inner_text()
                assert all(name in decided for name in PEOPLE), decided
                clock.lap("3 sign-ups and approvals")

                # 2. the designers start their servers from their home page: real spawns
                for name in DESIGNERS:
                    people[name].login()
                    people[name].start_server()
                for name in DESIGNERS:
                    people[name].wait_lab()
                clock.lap("alice and bob spawned, JupyterLab up")
                alice, bob = people["alice"], people["bob"]
                status, _ = alice.contents("PUT", GRAPH, {"type": "file", "format": "text", "content": content})
                assert status in (200, 201), status
                team_file = layout_of(old).team_dir(TEAM) / "bracket.bflow.json"
                assert hashlib.sha256(team_file.read_bytes()).hexdigest() == sha
                saved = old.wait_for(
                    lambda: old.events(kind="graph_save", user="alice"), 30, "alice's verified graph_save"
                )[-1]
                assert saved["sha256"] == sha and saved["team"] == TEAM and saved.get("verified") == "sha256"
                status, seen = bob.contents("GET", GRAPH + "?content=1&format=text&type=file")
                assert status == 200 and seen["content"] == content  # bob sees it through the team folder
                clock.lap("alice saved the team graph, bob read it")

                # 3. carol, the viewer
                carol = people["carol"]
                carol.login()
                carol.page.wait_for_url(f"**/{VIEWER_URL}")
                carol.goto("hub/home")
                home = carol.page.locator("main, #main, body").first.inner_text()
                assert carol.page.locator("#start").count() == 0 and "Start My Server" not in home, carol.shot("home")
                carol.page.locator(f"#brepflow-viewer-home a[href$='/{VIEWER_URL}']").first.click()
                carol.page.wait_for_url(f"**/{VIEWER_URL}")
                assert TEAM in carol.page.inner_text("body")
                state = carol.view_graph()
                assert state["error"] is None and state["parts"] == 1 and state["triangles"] > 20, state
                assert painted_share(carol) > 0.02, carol.shot("viewer")
                clock.lap("carol's viewer drew the graph")
            finally:
                for person in people.values():
                    person.close()

        # 4. backup (online), stop, restore into fresh folders with a new hub.yaml
        dest = trial_root / "backup"
        out = brepflow_lab_hub(old.config_path, "backup", str(dest))
        assert out.returncode == 0, out.stdout + out.stderr
        old.stop()
        new_root = trial_root / "new"
        new = make_hub(new_root, places(new_root), admin=False)
        os.chmod(new_root, 0o755)
        hubs.append(new)
        _remember(trial_root, old, new)
        shutil.rmtree(new.state_dir)  # a fresh state folder: restore makes it
        config_text = new.config_path.read_text()
        out = brepflow_lab_hub(new.config_path, "restore", str(dest))
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Traceback" not in out.stderr and new.config_path.read_text() == config_text
        clock.lap("backup, stop, restore into fresh folders")

        # 5. everyone logs in again; the designers' servers start on the restored hub
        new.start()
        clock.lap("restored hub started")
        with chromium() as browser:
            people = {name: Person(browser, new, name, shots) for name in ("admin", *PEOPLE)}
            try:
                for name in DESIGNERS:
                    people[name].login()
                    people[name].start_server()
                carol = people["carol"]
                carol.login()
                carol.page.wait_for_url(f"**/{VIEWER_URL}")
                admin = people["admin"]
                admin.login()
                admin.goto("hub/brepflow/signups")
                decided = admin.page.locator("#decided").inner_text()
                assert all(name in decided for name in PEOPLE), decided
                for name in DESIGNERS:
                    people[name].wait_lab()
                    status, seen = people[name].contents("GET", GRAPH + "?content=1&format=text&type=file")
                    assert status == 200 and seen["content"] == content, (name, status)
                clock.lap("everyone logged in again, alice's and bob's servers started")
                users = {u["name"]: u for u in new.call("GET", "/users").json()}
                for name in DESIGNERS:
                    assert users[name]["servers"][""]["ready"] is True
                    assert sorted(users[name]["groups"]) == sorted(["designers", TEAM])
                assert sorted(users["carol"]["groups"]) == sorted(["viewers", TEAM]) and users["carol"]["servers"] == {}
                spawns = [e for e in new.events(kind="spawn") if e.get("user") in DESIGNERS]
                assert {e["user"] for e in spawns} == set(DESIGNERS)
                state = carol.view_graph()
                assert state["error"] is None and state["parts"] == 1, state
                assert painted_share(carol) > 0.02, carol.shot("viewer-restored")
                clock.lap("carol's viewer drew the graph on the restored hub")
                for person in people.values():
                    assert not [e for e in person.errors if "brepflow" in e.lower()], (person.name, person.errors)
            finally:
                for person in people.values():
                    person.close()
    finally:
        for hub in hubs:
            hub.stop()
    total = time.monotonic() - clock.start
    print(f"[trial] total {total:.1f} s: " + ", ".join(f"{w} {s:.1f}" for w, s in clock.phases), flush=True)
