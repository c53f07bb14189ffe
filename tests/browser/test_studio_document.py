"""`.bflow.json` files as Studio documents in JupyterLab (no notebook involved).

Double-clicking a graph file opens it in a Studio tab backed by its own kernel; edits made
in the Studio mark the tab dirty and File → Save (Ctrl+S in the Studio) writes them — the
kernel never writes the file behind JupyterLab's back. The launcher card and the "New
BrepFlow Graph" command create a graph file and open it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from brepflow_lab import Graph
from tests.browser import helpers as h
from tests.browser.lab import Lab

pytestmark = pytest.mark.browser


def collaborative() -> bool:
    """Real-time collaboration (jupyter-collaboration, a dependency) is on in the server:
    the room saves the file after each change, so there is no manual-save step to wait for."""
    try:
        import jupyter_server_ydoc  # noqa: F401
    except ImportError:
        return False
    return True


STUDIO = ".bfl-DocumentPanel .bfl-studio"


def open_lab(page: Any, lab: Lab) -> None:
    page.goto(f"{lab.url}/lab?reset")
    page.wait_for_function("() => !!window.jupyterapp && window.jupyterapp.shell.currentWidget !== undefined")
    page.locator(".jp-DirListing-content").wait_for()
    h.install_page_helpers(page)


def params_on_disk(path: Any, node_id: str) -> dict[str, Any] | None:
    """The node's params as saved, or None while JupyterLab is in the middle of a save.

    Jupyter Server's "atomic" writing is not a rename: it copies the old file to a
    ``.~name`` backup, truncates the file and writes it in place. A reader that polls
    during a save can therefore see an empty or half-written file; that is not a saved
    state, so it is reported as "not there yet" rather than as a broken graph.
    """
    try:
        graph = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return next(n for n in graph["nodes"] if n["id"] == node_id)["params"]


def saved_width(path: Any) -> Any:
    params = params_on_disk(path, "box")
    return None if params is None else params["width"]


def test_double_click_opens_a_studio_tab_that_saves_through_jupyterlab(lab: Lab, page: Any) -> None:
    path = h.write_graph(lab.root / "part.bflow.json", h.box_shell_fillet_nodes(width=40))
    page.set_viewport_size({"width": 1920, "height": 1080})  # the three nodes fit at a readable zoom
    open_lab(page, lab)
    page.locator(".jp-DirListing-item", has_text="part.bflow.json").dblclick()
    page.wait_for_selector(STUDIO)
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="part.bflow.json")
    assert tab.count() == 1
    page.locator(f"{STUDIO} .react-flow__node").nth(2).wait_for()
    assert page.locator(f"{STUDIO} .react-flow__node").count() == 3
    h.wait_for_model(page, f"{STUDIO} .bfl-canvas")
    # the Studio fills the tab
    panel = page.locator(".bfl-DocumentPanel").bounding_box()
    studio = page.locator(STUDIO).bounding_box()
    assert panel and studio and studio["height"] > 0.9 * panel["height"], (panel, studio)
    kernel = lab.connect("part.bflow.json")
    try:
        before = h.canvas_stats(page, f"{STUDIO} .bfl-canvas")
        page.locator(f'{STUDIO} .react-flow__node[data-id="box"] .bfl-node__title').click()
        width = page.locator(f'{STUDIO} .bfl-inspector [data-param="width"] input.bfl-input--number')
        width.fill("90")
        width.press("Enter")
        kernel.wait_for("_brepflow_studio.model['box'].params['width']", 90)
        h.wait_canvas_change(page, before, f"{STUDIO} .bfl-canvas")
        if collaborative():
            # the shared document is the source of truth: the server's room writes the file
            # (the kernel never does), and Ctrl+S asks the room to save now
            deadline = time.monotonic() + 30
            while saved_width(path) != 90 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert saved_width(path) == 90
            page.locator(f"{STUDIO} .bfl-toolbar__title").click()
            page.keyboard.press("Control+s")
            page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty", state="detached")
            saved = Graph.load(path)
            assert [n.id for n in saved.nodes] == ["box", "shell", "fillet"]
            assert saved["box"].params["width"] == 90
            return
        # JupyterLab's document follows the graph: the tab is dirty, the file is not written
        page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty")
        time.sleep(2.5)  # longer than the kernel's autosave delay: document mode has none
        assert saved_width(path) == 40
        # Ctrl+S in the Studio saves through JupyterLab (File → Save)
        page.locator(f"{STUDIO} .bfl-toolbar__title").click()
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        width_saved = saved_width(path)
        while width_saved != 90 and time.monotonic() < deadline:
            time.sleep(0.2)
            width_saved = saved_width(path)
        assert width_saved == 90
        page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty", state="detached")
        saved = Graph.load(path)  # what JupyterLab wrote is a valid graph
        assert [n.id for n in saved.nodes] == ["box", "shell", "fillet"]
        assert saved["box"].params["width"] == 90
    finally:
        kernel.close()


def test_launcher_and_command_create_a_graph_and_open_it(lab: Lab, page: Any) -> None:
    open_lab(page, lab)
    label = page.evaluate("() => window.jupyterapp.commands.label('brepflow-lab:new-graph', {isPalette: true})")
    assert label == "New BrepFlow Graph"
    existing = set(lab.root.glob("*.bflow.json"))
    card = page.locator(".jp-LauncherCard", has_text="BrepFlow Graph")
    card.click()
    page.wait_for_selector(STUDIO)
    page.wait_for_selector(f"{STUDIO} .bfl-editor__empty")
    created = sorted(set(lab.root.glob("*.bflow.json")) - existing)
    assert len(created) == 1 and created[0].name.startswith("untitled")
    graph = Graph.load(created[0])
    assert len(graph) == 0 and graph.units == "mm"
    kernel = lab.connect(created[0].name)
    try:
        # add a node from the palette, by keyboard
        page.get_by_role("button", name="Add a node (open the palette)").click()
        search = page.get_by_role("searchbox", name="Search nodes")
        search.fill("solid box")
        search.press("Enter")
        kernel.wait_for("[n.type for n in _brepflow_studio.model.nodes]", ["Solid::Box"])
        page.locator(f"{STUDIO} .react-flow__node").first.wait_for()
        h.wait_for_model(page, f"{STUDIO} .bfl-canvas")
        if not collaborative():  # (with collaboration on, the room saves on its own)
            page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty")
        h.run_command(page, "docmanager:save")
        page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty", state="detached")
        deadline = time.monotonic() + 30
        while [n.type for n in Graph.load(created[0]).nodes] != ["Solid::Box"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [n.type for n in Graph.load(created[0]).nodes] == ["Solid::Box"]
    finally:
        kernel.close()
    # the command works without the launcher too (File → New → BrepFlow Graph)
    h.run_command(page, "brepflow-lab:new-graph")
    deadline = time.monotonic() + 30
    while len(set(lab.root.glob("*.bflow.json")) - existing) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(set(lab.root.glob("*.bflow.json")) - existing) == 2
    page.locator(f"{STUDIO} >> visible=true").wait_for()
    assert page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current", has_text=".bflow.json").count() == 1
