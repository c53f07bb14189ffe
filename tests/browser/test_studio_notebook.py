"""The Studio in a notebook, driven in a real Chromium against a real kernel.

One notebook builds Box → Shell → Fillet and shows `Studio(g)`; the tests then work on it
in order, each checking the browser AND the Python objects the Studio edits (through a
second client on the same kernel): the editor and the viewer show the graph, inspector
edits change both the pixels and the Python result, links dragged or deleted in the
browser change the Python graph, picks give selectors, keys stay inside the Studio, a
failing node shows its error, and both themes render (screenshots are written to
tests/browser/screenshots/).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import helpers as h
from tests.browser.lab import Kernel, Lab

pytestmark = pytest.mark.browser


class Session:
    def __init__(self, page: Any, kernel: Kernel) -> None:
        self.page = page
        self.kernel = kernel


@pytest.fixture(scope="module")
def session(browser: Any, lab: Lab) -> Iterator[Session]:
    # wide enough for the three nodes at a readable zoom beside the viewer and the inspector
    # (tests/browser/test_studio_layout.py takes the Studio through smaller windows)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    runner = h.NotebookRunner(lab, page)
    try:
        kernel = runner.open("studio.ipynb", [h.STUDIO_CELL])
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        page.wait_for_selector(".bfl-studio")
        h.wait_for_model(page)
        kernel.run("studio.wait(60)")
        yield Session(page, kernel)
        assert errors == [], f"uncaught errors in the page: {errors}"
    finally:
        runner.close()
        context.close()


def select_node(page: Any, node_id: str) -> None:
    if not h.node(page, node_id).count():
        wait_for_node(page, node_id)
    h.node(page, node_id).locator(".bfl-node__title").click()
    page.wait_for_selector(f'.bfl-inspector [aria-label="Parameters of {node_id}"]')


def fit_editor(page: Any) -> None:
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_timeout(400)


@contextlib.contextmanager
def wide_editor(page: Any) -> Iterator[None]:
    """Hide the inspector and give the editor 80% of the width (bigger nodes to drag between)."""
    inspector = page.get_by_role("button", name="Show the inspector")
    splitter = page.locator(".bfl-splitter")
    inspector.click()
    for _ in range(6):
        splitter.press("ArrowRight")
    try:
        yield
    finally:
        for _ in range(6):
            splitter.press("ArrowLeft")
        inspector.click()
        page.wait_for_selector(".bfl-inspector")


def wait_for_node(page: Any, node_id: str, timeout: float = 30.0) -> None:
    """Wait for a node to reach the editor; fit the view, since only visible nodes render.

    Fit keeps titles readable, so a graph wider than the editor shows its start: zoom out
    (as a user looking for a node would) when the node is not there after fitting."""
    for _ in range(int(timeout / 2)):
        fit_editor(page)
        for _zoom_out in range(4):
            if h.node(page, node_id).count():
                return
            page.locator(".react-flow__controls-zoomout").click()
            page.wait_for_timeout(300)
    raise AssertionError(f"node {node_id} did not appear in the editor within {timeout:g} s")


def test_editor_shows_three_typed_nodes_and_the_viewer_shows_the_model(session: Session) -> None:
    page, kernel = session.page, session.kernel
    nodes = page.locator(".react-flow__node")
    assert nodes.count() == 3
    assert sorted(nodes.evaluate_all("els => els.map(e => e.dataset.id)")) == ["box", "fillet", "shell"]
    # typed, coloured ports with ARIA labels; status badges with compute times
    port = h.handle(page, "shell", "target", "shape")
    assert port.get_attribute("aria-label") == "input shape of Shell 'shell' (Solid)"
    assert port.get_attribute("data-port-type") == "Solid"
    assert "background" in (port.get_attribute("style") or "")
    for node_id in ("box", "shell", "fillet"):
        badge = h.node(page, node_id).locator(".bfl-badge")
        assert badge.inner_text() in ("ok", "cached")
        assert h.node(page, node_id).get_attribute("aria-label").startswith(("Box", "Shell", "Fillet"))
    assert page.locator('.react-flow__node[data-id="shell"] .bfl-node__time').inner_text().endswith(("ms", "s"))
    stats = h.canvas_stats(page)
    assert stats is not None and stats["covered"] > 0.02, stats
    assert stats["parts"].startswith("fillet@")
    assert kernel.value("sorted(s['status'] for s in studio.status.values())") == ["ok", "ok", "ok"]


def test_inspector_edits_change_pixels_and_the_python_result(session: Session) -> None:
    page, kernel = session.page, session.kernel
    before = h.canvas_stats(page)
    assert before is not None
    # a global parameter (slider + field in the Parameters panel)
    field = page.locator('.bfl-global[data-global="W"] input.bfl-input--number')
    field.fill("80")
    field.press("Enter")
    changed = h.wait_canvas_change(page, before)
    assert changed["changed"]
    kernel.wait_for("g.parameters['W']", 80)
    kernel.run("studio.wait(60)")
    width = kernel.value("round(studio.result['fillet']['shape'].BoundingBox().xlen, 3)")
    assert width == pytest.approx(80, abs=1e-3)
    # a node parameter, from the node's inspector
    select_node(page, "box")
    assert kernel.value("studio.selected") == ["box"]
    before = h.canvas_stats(page)
    height = page.locator('.bfl-inspector [data-param="height"] input.bfl-input--number')
    assert height.input_value() == "30"
    height.fill("55")
    height.press("Enter")
    h.wait_canvas_change(page, before)
    kernel.wait_for("g['box'].params['height']", 55)
    kernel.run("studio.wait(60)")
    assert kernel.value("round(studio.result['fillet']['shape'].BoundingBox().ylen, 3)") == pytest.approx(55)
    # an expression param shows as text
    expression = page.locator('.bfl-inspector [data-param="width"] input.bfl-input--mono')
    assert expression.input_value() == "@W"


def test_links_dragged_and_deleted_in_the_browser_change_the_python_graph(session: Session) -> None:
    page, kernel = session.page, session.kernel
    # Python → editor: a node added in Python appears in the editor
    kernel.run('move = g.add("Transform::Move", id="move", offset={"x": 0, "y": 0, "z": 40}, position=(840, 0))')
    kernel.run('g.add("Analysis::Volume", id="vol", position=(840, 260))')
    with wide_editor(page):
        wait_for_node(page, "move")
        wait_for_node(page, "vol")
        h.drag(page, h.handle(page, "fillet", "source", "shape"), h.handle(page, "move", "target", "shape"))
        kernel.wait_for("[(r.node_id, r.socket) for _, r in g.document.node('move').links()]", [["fillet", "shape"]])
        edge = page.locator('.react-flow__edge[data-id="fillet:shape->move:shape"]')
        edge.wait_for(state="attached")  # a straight link has a zero-height box: "hidden" to Playwright
        # an incompatible link is refused in the browser with a hint, and never reaches Python
        h.drag(page, h.handle(page, "vol", "source", "volume"), h.handle(page, "move", "target", "shape"))
        page.locator(".bfl-toast", has_text="does not take a Number").wait_for(timeout=10_000)
        assert kernel.value("len(list(g.document.node('move').links()))") == 1
        # deleting the link in the browser removes it from the Python graph
        a = h.handle(page, "fillet", "source", "shape").bounding_box()
        b = h.handle(page, "move", "target", "shape").bounding_box()
        assert a and b
        page.mouse.click((a["x"] + b["x"] + b["width"]) / 2, (a["y"] + a["height"] / 2 + b["y"] + b["height"] / 2) / 2)
        page.wait_for_selector('.react-flow__edge.selected[data-id="fillet:shape->move:shape"]', state="attached")
        page.keyboard.press("Delete")
        kernel.wait_for("len(list(g.document.node('move').links()))", 0)
        assert page.locator('.react-flow__edge[data-id="fillet:shape->move:shape"]').count() == 0


def test_delete_key_and_undo_stay_inside_the_studio(session: Session) -> None:
    page, kernel = session.page, session.kernel
    cell = page.locator(".jp-Notebook .jp-Cell").first

    def notebook_intact() -> None:
        assert page.locator(".jp-Notebook .jp-Cell").count() == 1
        assert "studio = Studio(g" in cell.locator(".jp-InputArea").inner_text()
        assert page.locator(".bfl-studio").count() == 1

    select_node(page, "vol")
    # in command mode D,D deletes the cell: not when the keys are pressed in the Studio
    page.keyboard.press("d")
    page.keyboard.press("d")
    page.keyboard.press("x")
    notebook_intact()
    page.keyboard.press("Delete")
    kernel.wait_for("'vol' in g", False)
    notebook_intact()
    page.keyboard.press("Control+z")
    kernel.wait_for("'vol' in g", True)
    wait_for_node(page, "vol")
    notebook_intact()
    # the help overlay lists the shortcuts
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for()
    assert "undo" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")


def test_clicking_a_face_picks_it_and_shows_its_selector(session: Session) -> None:
    page, kernel = session.page, session.kernel
    kernel.run("g.remove('move'); g.remove('vol'); studio.wait(60)")  # only the fillet is left to pick
    page.wait_for_function(
        "() => document.querySelector('.bfl-canvas').dataset.parts.startsWith('fillet@') && !document.querySelector('.bfl-canvas').dataset.parts.includes('move')"
    )
    page.locator(".bfl-viewer__toolbar button", has_text="Front").click()
    page.wait_for_timeout(300)
    point = h.model_point(page)
    page.mouse.click(point["x"], point["y"])
    selector = page.locator(".bfl-pick__selector")
    selector.wait_for()
    pick = kernel.value("studio.pick")
    assert pick["node"] == "fillet" and pick["kind"] in ("face", "edge") and isinstance(pick["index"], int)
    info = kernel.value("studio.pick_info")
    assert info.get("selector") and selector.inner_text() == info["selector"]
    page.get_by_role("button", name="Copy the selector").click()
    page.get_by_role("button", name="Copy the selector").filter(has_text="Copied").wait_for()


def test_a_failing_node_shows_its_error_badge(session: Session) -> None:
    page, kernel = session.page, session.kernel
    select_node(page, "fillet")
    radius = page.locator('.bfl-inspector [data-param="radius"] input.bfl-input--number')
    radius.fill("30")
    radius.press("Enter")
    badge = page.locator('.react-flow__node[data-id="fillet"] .bfl-badge--failed')
    badge.wait_for()
    title = badge.get_attribute("title") or ""
    status = kernel.value("studio.status['fillet']")
    assert status["status"] == "failed"
    assert status["error"]["code"] in title and "failed" in title
    assert page.locator('.react-flow__node[data-id="fillet"] .bfl-node__error').is_visible()
    assert page.locator(".bfl-inspector .bfl-error-box").inner_text().startswith(status["error"]["code"])
    # the other nodes are unaffected, and the viewer keeps the last good mesh
    assert h.node(page, "shell").locator(".bfl-badge").inner_text() in ("ok", "cached")
    assert h.canvas_stats(page)["covered"] > 0.02
    kernel.run("g['fillet'].params['radius'] = 1; studio.wait(60)")
    ok = '.react-flow__node[data-id="fillet"] .bfl-badge--ok, .react-flow__node[data-id="fillet"] .bfl-badge--cached'
    page.locator(ok).wait_for()
    # the Python-side edit reached the inspector field (it had been typed in, then committed)
    page.wait_for_function(
        "() => document.querySelector('.bfl-inspector [data-param=\"radius\"] input.bfl-input--number').value === '1'"
    )


def test_moving_and_pasting_nodes_edit_the_python_graph(session: Session) -> None:
    page, kernel = session.page, session.kernel
    fit_editor(page)
    before = kernel.value("g.document.node('shell').position")
    title = h.node(page, "shell").locator(".bfl-node__title").bounding_box()
    assert title is not None
    page.mouse.move(title["x"] + 10, title["y"] + title["height"] / 2)
    page.mouse.down()
    page.mouse.move(title["x"] + 40, title["y"] + 60, steps=8)
    page.mouse.up()
    deadline = time.monotonic() + 20
    after = before
    while after == before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = kernel.value("g.document.node('shell').position")
    assert after[1] > before[1], (before, after)  # moved down in the editor: a move_node edit on drag-stop
    # copy / paste (Ctrl+C, Ctrl+V) adds a node with the same type and params; undo removes it
    select_node(page, "box")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    kernel.wait_for("[n.id for n in g.nodes if n.type == 'Solid::Box']", ["box", "box1"])
    assert kernel.value("dict(g['box1'].params)") == kernel.value("dict(g['box'].params)")
    page.keyboard.press("Control+z")
    kernel.wait_for("'box1' in g", False)


def test_viewer_options_and_previews_reach_python(session: Session) -> None:
    page, kernel = session.page, session.kernel
    toolbar = page.locator(".bfl-viewer__toolbar")
    before = h.canvas_stats(page)
    toolbar.get_by_role("button", name="Section plane").click()
    kernel.wait_for("studio.view['clip']['enabled']", True)
    h.wait_canvas_change(page, before)
    toolbar.get_by_role("button", name="Section plane").click()
    kernel.wait_for("studio.view['clip']['enabled']", False)
    # keyboard: Enter and Space press a focused button (and the notebook stays in command mode)
    toolbar.get_by_role("button", name="Orthographic projection").focus()
    page.keyboard.press("Enter")
    kernel.wait_for("studio.view['projection']", "orthographic")
    page.keyboard.press(" ")
    kernel.wait_for("studio.view['projection']", "perspective")
    assert page.locator(".jp-Notebook.jp-mod-commandMode").count() == 1
    # preview a node that is not terminal: the kernel sends its mesh too
    h.node(page, "shell").locator(".bfl-preview").click()
    page.wait_for_function("() => document.querySelector('.bfl-canvas').dataset.parts.includes('shell@')")
    # hide the fillet from the part list: it leaves the view (view.hidden is two-way)
    page.locator(".bfl-parts").get_by_role("button", name="Hide fillet").click()
    kernel.wait_for("'fillet' in studio.view.get('hidden', [])", True)
    page.locator(".bfl-parts").get_by_role("button", name="Show fillet").click()
    kernel.wait_for("'fillet' in studio.view.get('hidden', [])", False)
    h.node(page, "shell").locator(".bfl-preview").click()
    page.wait_for_function("() => !document.querySelector('.bfl-canvas').dataset.parts.includes('shell@')")


def test_light_and_dark_themes(session: Session, screenshots: Any) -> None:
    page = session.page
    studio = page.locator(".bfl-studio")
    studio.scroll_into_view_if_needed()
    page.locator(".bfl-viewer__toolbar button", has_text="Iso").click()
    page.wait_for_timeout(300)
    light = h.canvas_stats(page)
    studio.screenshot(path=str(screenshots / "studio-light.png"))
    h.run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_selector(".bfl-studio--dark")
    dark = h.wait_canvas_change(page, light)["stats"]
    page.wait_for_timeout(500)
    studio.screenshot(path=str(screenshots / "studio-dark.png"))
    assert sum(light["background"]) > 600 and sum(dark["background"]) < 200, (light["background"], dark["background"])
    toolbar = studio.locator(".bfl-toolbar").evaluate("e => getComputedStyle(e).backgroundColor")
    h.run_command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
    assert toolbar != studio.locator(".bfl-toolbar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert (screenshots / "studio-light.png").stat().st_size > 10_000
    assert (screenshots / "studio-dark.png").stat().st_size > 10_000
