"""The Studio's Measure tool without a browser: ``measure`` messages → ``studio.measurement``.

Picks use the numbering of the meshes the Studio sent (face/edge ``index``), as the
browser's do; the expected values are exact (a 40 × 30 × 20 box with a hole of radius 6).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from brepflow_lab import Graph
from brepflow_lab.widgets.measuring import format_number

EXACT = 1e-9


def holed_box(g: Graph) -> None:
    g.add("Solid::Box", id="box", width=40, height=30, depth=20)
    g.add("Solid::Cylinder", id="pin", radius=6, height=40, center=(20, 15, -10))
    g.add("Boolean::Subtract", id="cut")
    g.connect("box", "shape", "cut", "base")
    g.connect("pin", "shape", "cut", "tools")


@pytest.fixture
def driver(make_studio: Any) -> Any:
    g = Graph.new()
    holed_box(g)
    d = make_studio(g, evaluate=True)
    d.wait()
    return d


def face_index(d: Any, kind: str, centre: tuple[float, float, float]) -> int:
    mesh = d.studio.mesh("cut")
    found = [
        i
        for i, f in enumerate(mesh.faces())
        if f.geomType() == kind and all(abs(a - b) < 1e-6 for a, b in zip(f.Center().toTuple(), centre))
    ]
    assert len(found) == 1, found
    return found[0]


def measure(d: Any, *picks: dict[str, Any], seq: int = 1) -> dict[str, Any]:
    d.custom({"type": "measure", "seq": seq, "picks": list(picks)})
    d.wait()
    result: dict[str, Any] = d.studio.measurement
    return result


def test_two_opposite_faces_measure_their_distance(driver: Any) -> None:
    left = face_index(driver, "PLANE", (0, 15, 10))
    right = face_index(driver, "PLANE", (40, 15, 10))
    m = measure(driver, {"node": "cut", "kind": "face", "index": left}, {"node": "cut", "kind": "face", "index": right})
    assert "error" not in m, m
    assert m["seq"] == 1 and m["units"] == "mm"
    assert abs(m["distance"] - 40) < EXACT
    assert abs(m["angle"] - 180) < EXACT
    assert [e["type"] for e in m["entities"]] == ["plane", "plane"]
    assert [e["index"] for e in m["entities"]] == [left, right]
    rows = {r["label"]: r for r in m["rows"]}
    assert rows["Distance"]["text"] == "40 mm"
    assert rows["Angle"]["text"] == "180°"
    assert m["text"].splitlines()[0] == "Distance\t40 mm"


def test_the_hole_gives_its_diameter(driver: Any) -> None:
    hole = face_index(driver, "CYLINDER", (20, 15, 10))
    m = measure(driver, {"node": "cut", "kind": "face", "index": hole, "point": [26.0, 15.0, 5.0]})
    (entity,) = m["entities"]
    assert entity["type"] == "cylinder" and entity["concave"] is True
    assert abs(entity["diameter"] - 12) < EXACT and abs(entity["radius"] - 6) < EXACT
    rows = {r["label"]: r["text"] for r in m["rows"]}
    assert rows["Type"] == "Cylinder face (hole)"
    assert rows["Diameter"] == "12 mm" and rows["Radius"] == "6 mm"
    assert rows["Area"] == f"{format_number(2 * math.pi * 6 * 20)} mm²"


def test_solid_vertex_and_edge_picks(driver: Any) -> None:
    top = face_index(driver, "PLANE", (20, 15, 20))
    solid = measure(driver, {"node": "cut", "kind": "solid", "index": top})["entities"][0]
    assert abs(solid["volume"] - (24000 - math.pi * 36 * 20)) < 1e-6
    assert all(abs(a - b) < 1e-9 for a, b in zip(solid["center_of_mass"], (20, 15, 10)))
    mesh = driver.studio.mesh("cut")
    edge = next(i for i, e in enumerate(mesh.edges_of_shape()) if e.geomType() == "LINE" and e.Length() == 40)
    start = mesh.edge(edge).startPoint().toTuple()
    vertex = measure(driver, {"node": "cut", "kind": "vertex", "index": edge, "point": [c + 0.3 for c in start]})
    assert vertex["entities"][0]["position"] == list(start)
    line = measure(driver, {"node": "cut", "kind": "edge", "index": edge})["entities"][0]
    assert abs(line["length"] - 40) < EXACT


def test_bad_and_stale_picks_answer_with_an_error(driver: Any) -> None:
    m = measure(driver, {"node": "nope", "kind": "face", "index": 0})
    assert "no mesh" in m["error"]
    m = measure(driver, {"node": "cut", "kind": "face", "index": 0, "version": -5})
    assert "changed" in m["error"]
    m = measure(driver, {"node": "cut", "kind": "face", "index": 999})
    assert "out of range" in m["error"]
    three = [{"node": "cut", "kind": "face", "index": i} for i in range(3)]
    assert "one or two" in measure(driver, *three)["error"]
    assert measure(driver) == {}  # no picks: the measurement is cleared
    driver.custom({"type": "measure", "picks": "face 3"})
    assert "picks" in driver.studio.message["text"]
