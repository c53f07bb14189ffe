"""The Studio in Notebook 7 (the same prebuilt extension and widget as in JupyterLab).

Notebook 7 opens files in their own browser tab (/edit/...): double-clicking a graph in
the file browser must open the Studio there, and a notebook cell must show a Studio too.
Runs when the `notebook` package (>= 7) is installed next to JupyterLab.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import helpers as h
from tests.browser.lab import Lab, running_lab

pytestmark = pytest.mark.browser  # Notebook 7 is in the [test] extra: it must be there


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("nb7"), app="notebook") as server:
        yield server


def graph_nodes_shown(page: Any) -> int:
    """The graph's nodes in the editor: all on screen, or (Notebook 7 keeps documents and
    outputs 1,200 px wide, too narrow for the whole graph at a readable zoom) the graph's
    start on screen and every node in the minimap."""
    page.locator(".react-flow__node").first.wait_for()
    page.wait_for_timeout(500)  # the fit settles
    if page.locator(".react-flow__minimap").count():
        assert page.locator('.react-flow__node[data-id="box"]').count() == 1
        return int(page.locator(".react-flow__minimap-node").count())
    return int(page.locator(".react-flow__node").count())


def test_graph_file_and_notebook_cell_open_the_studio(notebook7: Lab, browser: Any) -> None:
    h.write_graph(notebook7.root / "part.bflow.json", h.box_shell_fillet_nodes())
    (notebook7.root / "cell.ipynb").write_text(json.dumps(h.notebook_json([h.STUDIO_CELL])))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{notebook7.url}/tree")
        item = page.locator(".jp-DirListing-item", has_text="part.bflow.json")
        with context.expect_page() as opened:
            item.dblclick()
        editor = opened.value
        editor.set_default_timeout(90_000)
        editor.on("pageerror", lambda exc: errors.append(str(exc)))
        assert "/edit/part.bflow.json" in editor.url
        editor.wait_for_selector(".bfl-DocumentPanel .bfl-studio")
        assert graph_nodes_shown(editor) == 3
        h.wait_for_model(editor, ".bfl-DocumentPanel .bfl-canvas")
        page.goto(f"{notebook7.url}/notebooks/cell.ipynb")
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        page.wait_for_function(
            "() => document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-KernelStatus') !== null"
        )
        page.wait_for_timeout(1500)  # the kernel connects
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(".bfl-studio")
        h.wait_for_model(page)
        assert graph_nodes_shown(page) == 3
        assert not [e for e in errors if "brepflow" in e.lower() or "bfl" in e.lower()], errors
    finally:
        context.close()
