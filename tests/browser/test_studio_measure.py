"""Measure in the viewer, exactly: real clicks on the canvas, values from OCCT in the kernel.

A notebook Studio shows a 40 × 30 × 20 box with a through hole of radius 6. The test turns
on Measure mode with its toolbar button, clicks the box's +X face (seen in the first,
isometric view), orbits half a turn with the mouse, Shift+clicks the -X face, and reads
the panel: the distance is exactly 40 mm, and ``studio.measurement`` in Python says the
same. A plain click on the hole's wall then measures that face alone: a 12 mm diameter.
Copy puts the panel's text on the clipboard. With "Pick solids" on, a click measures the
solid: its volume and centre of mass.

Clicks go through the product's own pick path (the GPU id buffer). Where to click is found
the way a user finds it: by hovering. In Measure mode the viewer highlights the entity
under the cursor and publishes it on the canvas as ``data-hover`` (``node:kind:index``,
with ``data-hover-at``, the cursor position it was picked at); the face numbers to look
for come from the Studio's mesh in the kernel, the numbering the browser's picks use.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.browser import helpers as h

pytestmark = pytest.mark.browser

CANVAS = ".jp-Notebook .bfl-studio .bfl-canvas"
EXACT = 1e-9

MEASURE_CELL = """\
from brepflow_lab import Graph
from brepflow_lab.widgets import Studio
g = Graph.new()
g.add("Solid::Box", id="box", width=40, height=30, depth=20, position=(0, 0))
g.add("Solid::Cylinder", id="pin", radius=6, height=40, center=(20, 15, -10), position=(0, 220))
g.add("Boolean::Subtract", id="cut", position=(300, 80))
g.connect("box", "shape", "cut", "base")
g.connect("pin", "shape", "cut", "tools")
studio = Studio(g, height=620)
studio"""

FACE_INDEX = """\
[i for i, f in enumerate(studio.mesh('cut').faces())
 if f.geomType() == {kind!r} and max(abs(a - b) for a, b in zip(f.Center().toTuple(), {centre!r})) < 1e-6]"""

# points of a grid over the canvas where the canvas itself is under the cursor (not a panel on it)
CANDIDATES_JS = """
([selector, step]) => {
  const canvas = document.querySelector(selector);
  const r = canvas.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const points = [];
  for (let y = r.top + step / 2; y < r.bottom - 4; y += step) {
    for (let x = r.left + step / 2; x < r.right - 4; x += step) {
      if (document.elementFromPoint(x, y) === canvas) points.push([Math.round(x), Math.round(y)]);
    }
  }
  // nearest the centre first: the model is framed there
  points.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  return points;
}
"""


def face_index(kernel: Any, kind: str, centre: tuple[float, float, float]) -> int:
    found = kernel.value(FACE_INDEX.format(kind=kind, centre=centre))
    assert len(found) == 1, (kind, centre, found)
    return int(found[0])


def hover(page: Any, x: float, y: float) -> str:
    """Move the mouse to (x, y) and return what the viewer would pick there."""
    page.mouse.move(x, y)
    box = page.locator(CANVAS).bounding_box()
    at = f"{round(x - box['x'])},{round(y - box['y'])}"
    page.wait_for_function(
        "([s, at]) => document.querySelector(s).dataset.hoverAt === at", arg=[CANVAS, at], timeout=10_000
    )
    return str(page.locator(CANVAS).get_attribute("data-hover") or "")


def find_pixel(page: Any, target: str, step: int = 36) -> tuple[float, float]:
    """A point on the canvas where a click picks ``target`` (``node:kind:index``), with the
    same entity 8 px around it (inside the face, not on its border)."""
    for x, y in page.evaluate(CANDIDATES_JS, [CANVAS, step]):
        if hover(page, x, y) != target:
            continue
        if all(hover(page, x + dx, y + dy) == target for dx, dy in ((8, 0), (-8, 0), (0, 8), (0, -8))):
            return float(x), float(y)
    raise AssertionError(f"no pixel of {target} on the canvas")


def click(page: Any, x: float, y: float, *, shift: bool = False) -> None:
    box = page.locator(CANVAS).bounding_box()
    page.locator(CANVAS).click(position={"x": x - box["x"], "y": y - box["y"]}, modifiers=["Shift"] if shift else [])


def rows(page: Any) -> dict[str, str]:
    panel = page.get_by_role("region", name="Measurement")
    labels = panel.locator(".bfl-measure__row dt").all_inner_texts()
    values = panel.locator(".bfl-measure__row dd").all_inner_texts()
    return dict(zip(labels, values))


def wait_rows(page: Any, label: str, text: str) -> dict[str, str]:
    page.wait_for_function(
        """([label, text]) => Array.from(document.querySelectorAll('.bfl-measure__row'))
             .some(r => r.dataset.label === label && r.querySelector('dd').textContent === text)""",
        arg=[label, text],
        timeout=30_000,
    )
    return rows(page)


def orbit_half_turn(page: Any) -> None:
    """Drag across half the canvas's height: OrbitControls turns the view by π about Z."""
    box = page.locator(CANVAS).bounding_box()
    x0, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5
    before = page.locator(CANVAS).get_attribute("data-camera")
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x0 + box["height"] / 2, y, steps=12)
    page.mouse.up()
    page.wait_for_function(
        "([s, b]) => document.querySelector(s).dataset.camera !== b", arg=[CANVAS, before], timeout=10_000
    )


def test_measure_distance_between_opposite_faces_and_the_hole_diameter(page: Any, notebook: Any) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    kernel = notebook.open("measure.ipynb", [MEASURE_CELL])
    page.wait_for_selector(".bfl-studio")
    h.wait_for_model(page, CANVAS)
    kernel.run("studio.wait(60)")
    page.locator(CANVAS).scroll_into_view_if_needed()
    right = face_index(kernel, "PLANE", (40, 15, 10))
    left = face_index(kernel, "PLANE", (0, 15, 10))
    hole = face_index(kernel, "CYLINDER", (20, 15, 10))

    measure = page.get_by_role("button", name="Measure", exact=True)
    measure.click()
    assert measure.get_attribute("aria-pressed") == "true"
    panel = page.get_by_role("region", name="Measurement")
    panel.wait_for()

    # one face: its area and outward normal, exact
    x, y = find_pixel(page, f"cut:face:{right}")
    click(page, x, y)
    one = wait_rows(page, "Area", "600 mm²")
    assert one["Type"] == "Plane face" and one["Normal"] == "(1, 0, 0)", one

    # the opposite face, seen after half a turn: Shift+click adds it
    orbit_half_turn(page)
    x, y = find_pixel(page, f"cut:face:{left}")
    click(page, x, y, shift=True)
    two = wait_rows(page, "Distance", "40 mm")
    assert two["Angle"] == "180°" and two["Δ (x, y, z)"] == "(-40, 0, 0) mm", two
    m = kernel.value("studio.measurement")
    assert [(p["kind"], p["index"]) for p in m["picks"]] == [("face", right), ("face", left)]
    assert abs(m["distance"] - 40) < EXACT and abs(m["angle"] - 180) < EXACT
    assert all(abs(p[0] - x0) < EXACT for p, x0 in zip(m["points"], (40, 0)))

    # Copy: the panel's text on the clipboard
    page.get_by_role("button", name="Copy the measurement").click()
    page.get_by_role("button", name="Copy the measurement").filter(has_text="Copied").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == m["text"]

    # the hole's wall (seen through its opening): a plain click measures it alone
    x, y = find_pixel(page, f"cut:face:{hole}", step=14)
    click(page, x, y)
    alone = wait_rows(page, "Diameter", "12 mm")
    assert alone["Type"] == "Cylinder face (hole)" and alone["Radius"] == "6 mm", alone
    m = kernel.value("studio.measurement")
    (entity,) = m["entities"]
    assert entity["index"] == hole and entity["type"] == "cylinder" and entity["concave"] is True
    assert abs(entity["diameter"] - 12) < EXACT and abs(entity["radius"] - 6) < EXACT
    assert abs(entity["area"] - 2 * math.pi * 6 * 20) < 1e-9

    # with "Pick solids" on, a click on any face measures its solid: volume and centre of mass
    page.get_by_role("button", name="Pick solids").click()
    top = face_index(kernel, "PLANE", (20, 15, 20))
    x, y = find_pixel(page, f"cut:solid:{top}")
    click(page, x, y)
    volume = 40 * 30 * 20 - math.pi * 6**2 * 20
    solid = wait_rows(page, "Volume", f"{volume:.6f} mm³")
    assert solid["Type"] == "Solid" and solid["Centre of mass"] == "(20, 15, 10) mm", solid
    m = kernel.value("studio.measurement")
    assert m["picks"][0]["kind"] == "solid" and abs(m["entities"][0]["volume"] - volume) < 1e-6

    # M leaves Measure mode: the panel goes, the selector pick works again
    page.locator(CANVAS).focus()
    page.keyboard.press("m")
    panel.wait_for(state="detached")
    assert measure.get_attribute("aria-pressed") == "false"
