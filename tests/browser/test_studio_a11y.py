"""Accessibility of the Studio (issue 14): axe-core, keyboard-only connecting, no tab trap.

axe-core runs in the page through the ``axe-playwright-python`` package (it bundles
``axe.min.js``: nothing is downloaded) with the WCAG 2.1 A/AA rules, scoped to the Studio:
BrepFlow claims AA for its own surfaces only (JupyterLab itself does not yet conform). Every
state checked must have no serious or critical violation: the Studio in a notebook and in a
``.bflow.json`` document tab, a node selected, the palette open, a failed node shown.

axe cannot judge keyboard operation, so two tests drive the Studio with keys alone: one
connects Box.shape → Shell.shape from the port's connect list (and removes the link again
from the focused link with Delete) while a page-side listener proves that no pointer or
mouse event happened; the other presses Tab until focus leaves the Studio (no trap), both
ways, and checks that every stop inside it shows a focus indicator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser import helpers as h
from tests.browser.lab import Kernel, Lab

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
AXE = Axe()


def axe_violations(page: Any, scope: str = ".bfl-studio") -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations inside ``scope`` (a CSS selector)."""
    page.wait_for_selector(scope)
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = AXE.run(page, context=scope, options=options)
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def summary(violations: list[dict[str, Any]]) -> dict[str, int]:
    """``{"rule (impact)": number of elements}``, for messages and the closing report."""
    counts: Counter[str] = Counter()
    for v in violations:
        counts[f"{v['id']} ({v['impact']})"] += len(v["nodes"])
    return dict(sorted(counts.items()))


def assert_no_blocking_violations(page: Any, state: str, scope: str = ".bfl-studio") -> None:
    violations = axe_violations(page, scope)
    print(f"axe, {state}: {summary(violations) or 'no violations'}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    details = [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(n["html"][:200] for n in v["nodes"][:5])
        for v in blocking
    ]
    assert not blocking, f"axe-core, {state}: serious or critical violations:\n" + "\n".join(details)


# -- the Studio in a notebook (one kernel for the axe states) ---------------------------------


class Session:
    def __init__(self, page: Any, kernel: Kernel) -> None:
        self.page = page
        self.kernel = kernel


@pytest.fixture(scope="module")
def session(browser: Any, lab: Lab) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    runner = h.NotebookRunner(lab, page)
    try:
        kernel = runner.open("a11y.ipynb", [h.STUDIO_CELL])
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        page.wait_for_selector(".bfl-studio")
        h.wait_for_model(page)
        kernel.run("studio.wait(60)")
        h.node(page, "fillet").wait_for()
        yield Session(page, kernel)
        assert errors == [], f"uncaught errors in the page: {errors}"
    finally:
        runner.close()
        context.close()


def test_axe_studio_in_a_notebook(session: Session) -> None:
    assert_no_blocking_violations(session.page, "in a notebook")


def test_axe_with_a_node_selected(session: Session) -> None:
    page = session.page
    # each node in turn: the inspector shows number, vector, boolean, string and selector fields
    for node_id in ("box", "shell", "fillet"):
        h.node(page, node_id).locator(".bfl-node__title").click()
        page.wait_for_selector(f'.bfl-inspector [aria-label="Parameters of {node_id}"]')
        page.wait_for_selector(f'.react-flow__node.selected[data-id="{node_id}"]')
        assert_no_blocking_violations(page, f"node {node_id} selected")


def test_axe_with_the_palette_open(session: Session) -> None:
    page = session.page
    page.get_by_role("button", name="Add a node (open the palette)").click()
    page.get_by_role("searchbox", name="Search nodes").wait_for()
    try:
        assert_no_blocking_violations(page, "the palette open")
    finally:
        page.get_by_role("searchbox", name="Search nodes").press("Escape")
        page.wait_for_selector(".bfl-palette", state="detached")


def test_axe_with_the_shortcut_help_open(session: Session) -> None:
    page = session.page
    page.get_by_role("button", name="Keyboard shortcuts").click()
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for()
    try:
        assert_no_blocking_violations(page, "the shortcut help open")
    finally:
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")


def test_axe_with_a_failed_node(session: Session) -> None:
    page, kernel = session.page, session.kernel
    kernel.run("g['fillet'].params['radius'] = 30; studio.wait(60)")
    page.locator('.react-flow__node[data-id="fillet"] .bfl-badge--failed').wait_for()
    page.locator('.react-flow__node[data-id="fillet"] .bfl-node__error').wait_for()
    try:
        # the failed node selected too: its error shows in the inspector as well
        h.node(page, "fillet").locator(".bfl-node__title").click()
        page.locator(".bfl-inspector .bfl-error-box").wait_for()
        assert_no_blocking_violations(page, "a failed node shown")
    finally:
        kernel.run("g['fillet'].params['radius'] = 1; studio.wait(60)")


# -- the Studio in a document tab ---------------------------------------------------------------

DOCUMENT_STUDIO = ".bfl-DocumentPanel .bfl-studio"


def test_axe_studio_in_a_document_tab(lab: Lab, page: Any) -> None:
    h.write_graph(lab.root / "a11y.bflow.json", h.box_shell_fillet_nodes())
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{lab.url}/lab/tree/a11y.bflow.json?reset")
    page.wait_for_selector(DOCUMENT_STUDIO)
    h.node(page, "fillet", DOCUMENT_STUDIO).wait_for()
    h.wait_for_model(page, f"{DOCUMENT_STUDIO} .bfl-canvas")
    assert_no_blocking_violations(page, "in a document tab", DOCUMENT_STUDIO)


# -- keyboard only ----------------------------------------------------------------------------------

UNCONNECTED_CELL = """\
from brepflow_lab import Graph
from brepflow_lab.widgets import Studio
g = Graph.new()
box = g.add("Solid::Box", id="box", width=40, height=30, depth=20, position=(0, 0))
shell = g.add("Features::Shell", id="shell", thickness=2, position=(300, 0))
studio = Studio(g, height=620)
studio"""

# every pointer or mouse event the page sees, trusted or not (a keyboard test must cause none)
COUNT_POINTER_EVENTS_JS = """() => {
  window.__bflPointerEvents = [];
  for (const type of ['pointerdown', 'pointerup', 'mousedown', 'mouseup', 'mousemove', 'pointermove',
                      'touchstart', 'dblclick', 'contextmenu', 'wheel']) {
    window.addEventListener(type, e => window.__bflPointerEvents.push(type), true);
  }
}"""

ACTIVE_JS = """() => {
  const el = document.activeElement;
  if (!el) return null;
  return {
    label: el.getAttribute('aria-label') || '',
    role: el.getAttribute('role') || el.tagName.toLowerCase(),
    inStudio: !!el.closest('.bfl-studio'),
    tag: el.tagName.toLowerCase(),
  };
}"""


def active(page: Any) -> dict[str, Any]:
    """The focused element: its name, role, tag, and whether it is inside the Studio."""
    result: dict[str, Any] | None = page.evaluate(ACTIVE_JS)
    return result or {"label": "", "role": "", "inStudio": False, "tag": ""}


def tab_to(page: Any, label_start: str, limit: int = 120) -> dict[str, Any]:
    """Press Tab until the focused element's accessible name starts with ``label_start``."""
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = active(page)
        if now["label"].startswith(label_start):
            return now
        seen.append(now["label"])
    raise AssertionError(f"Tab never reached {label_start!r}; stops: {seen}")


# every link of the Studio's graph as [source, output, target, input]
LINKS = "sorted([r.node_id, r.socket, n.id, name] for n in studio.model.document.nodes for name, r in n.links())"


def test_connect_and_disconnect_with_the_keyboard_only(notebook: h.NotebookRunner) -> None:
    page = notebook.page
    kernel = notebook.open("keyboard.ipynb", [UNCONNECTED_CELL])
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.wait_for_selector(".bfl-studio")
    h.node(page, "shell").wait_for()
    kernel.run("studio.wait(60)")
    assert kernel.value(LINKS) == []
    page.evaluate(COUNT_POINTER_EVENTS_JS)

    # into the Studio: focus its first toolbar control (no click), then only keys
    page.locator(".bfl-toolbar button").first.focus()
    port = tab_to(page, "output shape of Box 'box'")
    assert port["role"] == "button" and port["inStudio"]
    page.keyboard.press("Enter")
    menu = page.get_by_role("dialog", name="Connect output shape of Box 'box' (Solid)")
    menu.wait_for()
    options = menu.get_by_role("option")
    names = [options.nth(i).get_attribute("aria-label") or "" for i in range(options.count())]
    # only compatible inputs are offered: Shell's Solid input, not Box's own Vector input
    assert names == ["input shape of Shell 'shell' (Solid)"], names
    combo = menu.get_by_role("combobox")
    assert active(page)["role"] == "combobox"
    assert_no_blocking_violations(page, "the connect list open")
    # typing filters the list by node and socket; nothing matches "fillet"
    page.keyboard.type("fillet")
    assert options.count() == 0
    for _ in range(len("fillet")):
        page.keyboard.press("Backspace")
    page.keyboard.type("shell")
    assert options.count() == 1
    assert combo.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    page.keyboard.press("Enter")
    kernel.wait_for(LINKS, [["box", "shape", "shell", "shape"]])
    menu.wait_for(state="detached")
    # focus returns to the port the connection started from
    assert active(page)["label"].startswith("output shape of Box 'box'")

    # Esc leaves the list without connecting anything
    page.keyboard.press("Enter")
    menu.wait_for()
    page.keyboard.press("Escape")
    menu.wait_for(state="detached")
    assert active(page)["label"].startswith("output shape of Box 'box'")

    # from an input: Enter lists the outputs that may feed it (the one already linked is not offered)
    port = tab_to(page, "input shape of Shell 'shell'")
    page.keyboard.press("Enter")
    menu = page.get_by_role("dialog", name="Connect input shape of Shell 'shell' (Solid)")
    menu.wait_for()
    assert menu.get_by_role("option").count() == 0
    assert "No output in this graph takes a link to" in menu.inner_text()
    page.keyboard.press("Escape")
    menu.wait_for(state="detached")

    # disconnect: Tab to the link, Delete
    page.locator(".bfl-toolbar button").first.focus()
    link = tab_to(page, "link from box.shape to shell.shape")
    assert link["inStudio"]
    page.keyboard.press("Delete")
    kernel.wait_for(LINKS, [])
    assert active(page)["inStudio"], "focus stays in the Studio after the link is removed"

    assert page.evaluate("() => window.__bflPointerEvents") == []


FOCUS_STOP_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {inStudio: false, visible: false, label: 'body'};
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  // a link is an SVG group: it shows focus by a thicker path in the accent colour
  const path = el.matches('.react-flow__edge') ? el.querySelector('.react-flow__edge-path') : null;
  const stroked = !!path && parseFloat(getComputedStyle(path).strokeWidth) >= 3;
  return {
    inStudio: !!el.closest('.bfl-studio'),
    visible: outline || !!ring || stroked,
    label: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40) || el.tagName,
  };
}"""


def tab_until_outside(page: Any, key: str, limit: int = 400) -> list[dict[str, Any]]:
    """Press ``key`` until focus is outside the Studio; the stops inside it, in order."""
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press(key)
        stop = page.evaluate(FOCUS_STOP_JS)
        if not stop["inStudio"]:
            return stops
        stops.append(stop)
    raise AssertionError(f"{key} never left the Studio in {limit} presses (a focus trap): {stops[-10:]}")


def test_tab_cycles_through_the_studio_and_leaves_it(session: Session) -> None:
    page = session.page
    page.locator(".bfl-toolbar button").first.focus()
    forward = tab_until_outside(page, "Tab")
    # back in from after the Studio, then through it backwards and out before it
    backward = tab_until_outside(page, "Shift+Tab")
    labels = [s["label"] for s in forward]
    assert len(forward) > 10, f"Tab left the Studio after only {len(forward)} stops: {labels}"
    assert any(label.startswith("output shape of Box 'box'") for label in labels), labels
    assert any(label.startswith("link from box.shape to shell.shape") for label in labels), labels
    assert len(backward) > 10, f"Shift+Tab went through only {len(backward)} stops: {backward}"
    for key, stops in (("Tab", forward), ("Shift+Tab", backward)):
        invisible = [s["label"] for s in stops if not s["visible"]]
        assert not invisible, f"{key}: no visible focus indicator on {invisible}"
