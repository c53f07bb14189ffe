"""The Studio's layout settles at every window size, and the 3D camera stays where the user left it.

One JupyterLab server; one page per mode — the Studio in a notebook and in a ``.bflow.json``
document tab — resized with ``page.set_viewport_size`` through the window sizes users have
(1024×768 … 2560×1440), with JupyterLab's file browser open and closed. At each size:

* the 3D canvas keeps one bounding box for 2 s (sampled in the page every 100 ms): the
  side-by-side / stacked choice never feeds back into itself (it once flipped forever at
  1400×1000, the choice moving the notebook's scrollbar and the inspector's width);
* the editor shows node titles at least 10 px high, and the whole graph inside the editor
  when it fits at a readable zoom, otherwise its start (the first node) whole, at the
  readable zoom — fit-view follows the editor's size until the user pans or zooms;
* the model's pixels are on the canvas, drawn at the canvas's size.

Then: an orbit followed by a parameter edit leaves the camera matrix as it was (the viewer
publishes it as ``data-camera`` on its canvas, with its frame count and parts); the Layout
control switches between both panes, stacked, and one pane, and Python sees the choice.
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

SIZES = [(1024, 768), (1280, 800), (1366, 768), (1400, 1000), (1440, 900), (1920, 1080), (2560, 1440)]
CONFIGS = [(w, ht, files) for (w, ht) in SIZES for files in (True, False)]
# narrow windows: notebook outputs about 480 and 580 px wide
NARROW = [(600, 900, False), (700, 900, False)]
MIN_TITLE_PX = 10.0

# the canvas's box every `every` ms for `ms` ms (rounded to 0.1 px)
SAMPLE_BOXES_JS = """
async ([selector, ms, every]) => {
  const boxes = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const el = document.querySelector(selector);
    const r = el ? el.getBoundingClientRect() : null;
    boxes.push(r ? [r.x, r.y, r.width, r.height].map(v => Math.round(v * 10) / 10) : null);
    await new Promise(resolve => setTimeout(resolve, every));
  }
  return boxes;
}
"""

# what the editor shows: its pane, its zoom, and each rendered node's box and title size
EDITOR_JS = """
(scope) => {
  const studio = document.querySelector(scope);
  const flow = studio.querySelector('.bfl-editor .react-flow');
  const box = r => ({ x: r.x, y: r.y, w: r.width, h: r.height });
  const viewport = studio.querySelector('.react-flow__viewport');
  const zoom = new DOMMatrixReadOnly(getComputedStyle(viewport).transform).a;
  const nodes = Array.from(studio.querySelectorAll('.react-flow__node')).map(n => {
    const title = n.querySelector('.bfl-node__title');
    return {
      id: n.dataset.id,
      box: box(n.getBoundingClientRect()),
      title: title ? parseFloat(getComputedStyle(title).fontSize) * zoom : 0,
    };
  });
  const minimap = studio.querySelector('.react-flow__minimap');
  const canvas = studio.querySelector('.bfl-canvas');
  return {
    layout: studio.dataset.layout,
    pane: box(flow.getBoundingClientRect()),
    zoom, nodes,
    minimap: minimap ? box(minimap.getBoundingClientRect()) : null,
    canvas: box(canvas.getBoundingClientRect()),
    buffer: [canvas.width, canvas.height],
    window: [window.innerWidth, window.innerHeight],
  };
}
"""

FILE_BROWSER_JS = """
(open) => {
  const shell = window.jupyterapp.shell;
  if (open) { shell.activateById('filebrowser'); } else { shell.collapseLeft(); }
  return !shell.leftCollapsed;
}
"""


class Mode:
    """One page with a Studio in it (a notebook or a document tab)."""

    def __init__(self, name: str, page: Any, scope: str, kernel: Kernel) -> None:
        self.name = name
        self.page = page
        self.scope = scope
        self.kernel = kernel
        self.canvas = f"{scope} .bfl-canvas"
        self.measured: list[str] = []


@contextlib.contextmanager
def new_page(browser: Any, lab: Lab) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page, errors
    finally:
        context.close()


@pytest.fixture(scope="class")
def in_notebook(browser: Any, lab: Lab) -> Iterator[Mode]:
    with new_page(browser, lab) as (page, errors):
        runner = h.NotebookRunner(lab, page)
        try:
            kernel = runner.open("layout.ipynb", [h.STUDIO_CELL])
            page.wait_for_selector(".bfl-studio")
            h.wait_for_model(page)
            kernel.run("studio.wait(60)")
            mode = Mode("notebook", page, ".jp-Notebook .bfl-studio", kernel)
            yield mode
            report(mode)
            assert errors == [], f"uncaught errors in the page: {errors}"
        finally:
            runner.close()


@pytest.fixture(scope="class")
def in_document(browser: Any, lab: Lab) -> Iterator[Mode]:
    h.write_graph(lab.root / "layout.bflow.json", h.box_shell_fillet_nodes(width=40))
    with new_page(browser, lab) as (page, errors):
        page.goto(f"{lab.url}/lab?reset")
        page.wait_for_function("() => !!window.jupyterapp && window.jupyterapp.shell.currentWidget !== undefined")
        page.locator(".jp-DirListing-item", has_text="layout.bflow.json").dblclick()
        scope = ".bfl-DocumentPanel .bfl-studio"
        page.wait_for_selector(scope)
        h.install_page_helpers(page)
        h.wait_for_model(page, f"{scope} .bfl-canvas")
        kernel = lab.connect("layout.bflow.json")
        try:
            mode = Mode("document", page, scope, kernel)
            yield mode
            report(mode)
            assert errors == [], f"uncaught errors in the page: {errors}"
        finally:
            kernel.close()


def report(mode: Mode) -> None:
    print(f"\n{mode.name}:")
    for line in mode.measured:
        print(f"  {line}")


def settle(mode: Mode, width: int, height: int, files: bool) -> None:
    page = mode.page
    page.set_viewport_size({"width": width, "height": height})
    shown = page.evaluate(FILE_BROWSER_JS, files)
    assert shown == files
    if mode.name == "notebook":
        # the whole Studio in the notebook's view, as a user scrolls to it
        page.evaluate(f"() => document.querySelector('{mode.scope}').scrollIntoView({{block: 'nearest'}})")
    # let the layout take its course: until two boxes 300 ms apart agree (at most 5 s)
    deadline = time.monotonic() + 5
    last = None
    while time.monotonic() < deadline:
        box = mode.page.locator(mode.canvas).bounding_box()
        if box is not None and box == last:
            break
        last = box
        page.wait_for_timeout(300)


def check_layout(mode: Mode, width: int, height: int, files: bool) -> None:
    page = mode.page
    settle(mode, width, height, files)
    boxes = page.evaluate(SAMPLE_BOXES_JS, [mode.canvas, 2000, 100])
    distinct = sorted({tuple(b) if b else None for b in boxes}, key=str)
    state = page.evaluate(EDITOR_JS, mode.scope)
    stats = h.canvas_stats(page, mode.canvas)
    where = f"{mode.name} {width}x{height} file browser {'open' if files else 'closed'}"
    zoom = state["zoom"]
    titles = [n["title"] for n in state["nodes"]]
    mode.measured.append(
        f"{width}x{height} files={'open' if files else 'closed'}: {state['layout']}, canvas "
        f"{state['canvas']['w']:.0f}x{state['canvas']['h']:.0f}, editor {state['pane']['w']:.0f}x{state['pane']['h']:.0f} "
        f"zoom {zoom:.2f} ({len(state['nodes'])} nodes, titles {min(titles, default=0):.1f} px, "
        f"minimap {'shown' if state['minimap'] else 'hidden'}), "
        f"model covers {stats['covered'] if stats else 0:.3f}"
    )
    # 1. one bounding box for 2 s
    assert len(boxes) >= 15, (where, boxes)
    assert len(distinct) == 1 and distinct[0] is not None, f"{where}: the canvas moved: {distinct}"
    canvas = state["canvas"]
    assert canvas["w"] >= 150 and canvas["h"] >= 150, f"{where}: the canvas is {canvas}"
    # 2. readable titles; the whole graph inside the editor, or (when it cannot fit at a
    #    readable zoom) its start at the readable zoom
    pane = state["pane"]
    assert pane["w"] >= 150 and pane["h"] >= 150, f"{where}: the editor is {pane}"
    assert state["nodes"], f"{where}: no node on screen"
    assert min(titles) >= MIN_TITLE_PX, f"{where}: titles {titles} px at zoom {zoom:.3f}"

    def inside(node: dict[str, Any]) -> bool:
        b = node["box"]
        m = state["minimap"]
        covered = m is not None and not (
            b["x"] + b["w"] <= m["x"]
            or m["x"] + m["w"] <= b["x"]
            or b["y"] + b["h"] <= m["y"]
            or m["y"] + m["h"] <= b["y"]
        )
        return (
            b["x"] >= pane["x"] - 1
            and b["y"] >= pane["y"] - 1
            and b["x"] + b["w"] <= pane["x"] + pane["w"] + 1
            and b["y"] + b["h"] <= pane["y"] + pane["h"] + 1
            and b["y"] + b["h"] <= state["window"][1]
            and not covered
        )

    whole = len(state["nodes"]) == 3 and all(inside(n) for n in state["nodes"])
    if not whole:
        first = next((n for n in state["nodes"] if n["id"] == "box"), None)
        assert first is not None and inside(first), f"{where}: the graph's start is cropped: {state}"
        assert min(titles) <= MIN_TITLE_PX * 1.1, f"{where}: the graph is cropped at zoom {zoom:.3f}: {state}"
    # 3. the model, drawn at the canvas's size
    assert abs(state["buffer"][0] - round(canvas["w"])) <= 1 and abs(state["buffer"][1] - round(canvas["h"])) <= 1, (
        where,
        state,
    )
    assert stats is not None and stats["covered"] > 0.005, f"{where}: no model on the canvas ({stats})"


def camera(mode: Mode) -> str:
    return str(mode.page.locator(mode.canvas).get_attribute("data-camera"))


def parts(mode: Mode) -> str:
    return str(mode.page.locator(mode.canvas).get_attribute("data-parts"))


class TestNotebook:
    """The Studio in a notebook, one page for all of these."""

    @pytest.mark.parametrize(("width", "height", "files"), CONFIGS, ids=[f"{w}x{ht}-files-{f}" for w, ht, f in CONFIGS])
    def test_notebook_layout_settles(self, in_notebook: Mode, width: int, height: int, files: bool) -> None:
        check_layout(in_notebook, width, height, files)

    @pytest.mark.parametrize(("width", "height", "files"), NARROW, ids=[f"{w}x{ht}" for w, ht, _ in NARROW])
    def test_a_narrow_output_settles(self, in_notebook: Mode, width: int, height: int, files: bool) -> None:
        check_layout(in_notebook, width, height, files)
        studio = in_notebook.page.locator(in_notebook.scope).bounding_box()
        assert studio is not None and studio["width"] < 600

    def test_a_parameter_edit_after_orbiting_keeps_the_camera(self, in_notebook: Mode) -> None:
        mode, page = in_notebook, in_notebook.page
        settle(mode, 1400, 1000, True)
        before = camera(mode)
        assert len(before.split(",")) == 16
        box = page.locator(mode.canvas).bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 90, y + 40, steps=10)
        page.mouse.up()
        page.wait_for_function(f"(c) => document.querySelector('{mode.canvas}').dataset.camera !== c", arg=before)
        orbited = camera(mode)
        # a parameter edit in the inspector: a new mesh arrives and is drawn, the camera stays
        shown = parts(mode)
        field = page.locator(f'{mode.scope} .bfl-global[data-global="W"] input.bfl-input--number')
        field.fill("70")
        field.press("Enter")
        mode.kernel.wait_for("g.parameters['W']", 70)
        page.wait_for_function(f"(p) => document.querySelector('{mode.canvas}').dataset.parts !== p", arg=shown)
        page.wait_for_timeout(300)
        assert parts(mode) != shown
        assert camera(mode) == orbited
        # a re-evaluation from Python, and a window resized, keep it too
        shown = parts(mode)
        mode.kernel.run("g.parameters['W'] = 50; studio.wait(60)")
        page.wait_for_function(f"(p) => document.querySelector('{mode.canvas}').dataset.parts !== p", arg=shown)
        page.wait_for_timeout(300)
        assert camera(mode) == orbited
        settle(mode, 1280, 800, False)
        assert camera(mode) == orbited
        # Fit frames the model again
        page.locator(f"{mode.scope} .bfl-viewer__toolbar").get_by_role(
            "button", name="Fit the model in the view"
        ).click()
        page.wait_for_function(f"(c) => document.querySelector('{mode.canvas}').dataset.camera !== c", arg=orbited)

    def test_the_layout_control_picks_panes_and_python_sees_it(self, in_notebook: Mode) -> None:
        mode, page = in_notebook, in_notebook.page
        settle(mode, 1920, 1080, False)
        studio = page.locator(mode.scope)
        control = studio.get_by_role("combobox", name="Layout")
        assert control.input_value() == "auto"
        assert studio.get_attribute("data-layout") == "side-by-side"

        def boxes() -> tuple[dict[str, float], dict[str, float]]:
            editor = studio.locator(".bfl-editor").bounding_box()
            viewer = studio.locator(".bfl-viewer").bounding_box()
            assert editor is not None and viewer is not None
            return editor, viewer

        control.select_option("stacked")
        mode.kernel.wait_for("studio.panes", "stacked")
        page.wait_for_function(f"() => document.querySelector('{mode.scope}').dataset.layout === 'stacked'")
        editor, viewer = boxes()
        assert editor["y"] + editor["height"] <= viewer["y"] + 1 and abs(editor["x"] - viewer["x"]) < 2
        control.select_option("editor")
        mode.kernel.wait_for("studio.panes", "editor")
        page.wait_for_function(f"() => document.querySelector('{mode.scope}').dataset.layout === 'editor'")
        editor, viewer = boxes()
        assert viewer["width"] < 2 or viewer["height"] < 2
        assert not studio.locator(".bfl-viewer").is_visible() or viewer["width"] < 2
        # the editor fills the pane and fits the graph to it (readable titles, all three nodes)
        page.wait_for_timeout(300)
        state = page.evaluate(EDITOR_JS, mode.scope)
        assert len(state["nodes"]) == 3 and min(n["title"] for n in state["nodes"]) >= MIN_TITLE_PX
        # Python sets it too (the choice is widget state)
        mode.kernel.run("studio.panes = 'viewer'")
        page.wait_for_function(f"() => document.querySelector('{mode.scope}').dataset.layout === 'viewer'")
        assert control.input_value() == "viewer"
        h.wait_for_model(page, mode.canvas)
        control.select_option("auto")
        mode.kernel.wait_for("studio.panes", "auto")
        page.wait_for_function(f"() => document.querySelector('{mode.scope}').dataset.layout === 'side-by-side'")

    def test_the_editor_stops_following_the_size_once_the_user_zooms(self, in_notebook: Mode) -> None:
        mode, page = in_notebook, in_notebook.page
        settle(mode, 1440, 900, False)
        pane = page.locator(f"{mode.scope} .react-flow__pane").bounding_box()
        assert pane is not None
        page.mouse.move(pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2)
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(400)
        zoomed = page.evaluate(EDITOR_JS, mode.scope)["zoom"]
        settle(mode, 1920, 1080, True)
        assert page.evaluate(EDITOR_JS, mode.scope)["zoom"] == pytest.approx(zoomed, abs=1e-6)
        # the Fit button fits again and follows the size from then on
        page.locator(f"{mode.scope} .react-flow__controls-fitview").click()
        settle(mode, 1024, 768, True)
        check_layout(mode, 1024, 768, True)

    def test_fit_shows_the_selection_when_the_graph_is_too_big(self, in_notebook: Mode) -> None:
        mode, page = in_notebook, in_notebook.page
        settle(mode, 1024, 768, True)  # the smallest editor of all: the graph does not fit
        mode.kernel.run("studio.selected = ['fillet']")
        page.wait_for_timeout(500)  # Python's selection reaches the editor (fillet is off screen: not rendered)
        page.locator(f"{mode.scope} .react-flow__controls-fitview").click()
        page.wait_for_timeout(300)
        state = page.evaluate(EDITOR_JS, mode.scope)
        assert len(state["nodes"]) < 3 or state["zoom"] < 0.9, state
        fillet = next((n for n in state["nodes"] if n["id"] == "fillet"), None)
        pane = state["pane"]
        assert fillet is not None, state
        b = fillet["box"]
        assert pane["x"] - 1 <= b["x"] and b["x"] + b["w"] <= pane["x"] + pane["w"] + 1, state
        assert pane["y"] - 1 <= b["y"] and b["y"] + b["h"] <= pane["y"] + pane["h"] + 1, state
        assert fillet["title"] >= MIN_TITLE_PX
        mode.kernel.run("studio.selected = []")


class TestDocument:
    """The Studio in a .bflow.json tab (its page is closed before the notebook's opens)."""

    @pytest.mark.parametrize(("width", "height", "files"), CONFIGS, ids=[f"{w}x{ht}-files-{f}" for w, ht, f in CONFIGS])
    def test_layout_settles(self, in_document: Mode, width: int, height: int, files: bool) -> None:
        check_layout(in_document, width, height, files)
