"""Picks in the viewer become selectors that Fillet/Chamfer/Shell understand."""

from __future__ import annotations

import cadquery as cq
import pytest

from brepflow_lab import Graph
from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.kernel.hashing import fingerprint
from brepflow_lab.kernel.selectors import parse_selector, selector_for
from brepflow_lab.nodes.testing import run_node


def evaluated_studio(make_studio, build) -> tuple[Graph, object]:
    g = Graph.new()
    build(g)
    d = make_studio(g, evaluate=True)
    d.wait()
    return g, d


def pick(d, node: str, kind: str, index: int, **extra) -> dict:
    d.update(pick={"node": node, "kind": kind, "index": index, **extra})
    return d.studio.pick_info


def test_picked_edge_selector_fillets_exactly_that_edge(make_studio) -> None:
    def build(g: Graph) -> None:
        g.add("Solid::Box", id="box", width=30, height=20, depth=10)

    _, d = evaluated_studio(make_studio, build)
    mesh = d.studio.mesh("box")
    box_shape = d.studio.result["box"]["shape"]
    for index in range(mesh.edge_count):
        info = pick(d, "box", "edge", index)
        assert info["param"] == "edges" and info["type"] == "LINE", info
        edge = mesh.edge(index)
        # the selector picks exactly this edge ...
        chosen = parse_selector(info["selector"]).filter(box_shape.Edges())
        assert len(chosen) == 1 and chosen[0].wrapped.IsSame(edge.wrapped), info["selector"]
        # ... and a Fillet node using it rounds exactly this edge
        filleted = run_node("Features::Fillet", {"shape": box_shape}, radius=2, edges=info["selector"])["shape"]
        expected = box_shape.fillet(2, [edge])
        assert fingerprint(filleted) == fingerprint(expected), info["selector"]
        assert edge.distance(cq.Vertex.makeVertex(*info["center"])) < 1e-7


def test_pick_then_fillet_through_the_studio_changes_that_edge(make_studio) -> None:
    """A Fillet added in the editor with the picked selector: one new rounded face at that edge."""

    def build(g: Graph) -> None:
        g.add("Solid::Box", id="box", width=60, height=40, depth=20)
        g.add("Features::Shell", id="shell", thickness=2)
        g.connect("box", "shape", "shell", "shape")

    _, d = evaluated_studio(make_studio, build)
    mesh = d.studio.mesh("shell")
    shelled = d.studio.result["shell"]["shape"]
    targets = [i for i in range(mesh.edge_count) if mesh.edge(i).Center().z < 1e-6][:3]  # bottom outer edges
    assert targets
    for index in targets:
        mesh = d.studio.mesh("shell")
        info = pick(d, "shell", "edge", index)
        assert "error" not in info, info
        d.edit(
            {"op": "add_node", "type": "Features::Fillet", "id": "round", "position": {"x": 400, "y": 0}},
            {"op": "connect", "source": "shell", "sourceHandle": "shape", "target": "round", "targetHandle": "shape"},
            {"op": "set_param", "id": "round", "name": "radius", "value": 1.5},
            {"op": "set_param", "id": "round", "name": "edges", "value": info["selector"]},
        )
        d.wait()
        assert d.studio.status["round"]["status"] == "ok", d.studio.status["round"]
        result = d.studio.result["round"]["shape"]
        assert fingerprint(result) == fingerprint(shelled.fillet(1.5, [mesh.edge(index)]))
        assert len(result.Faces()) == len(shelled.Faces()) + 1
        d.edit({"op": "remove_node", "id": "round"})
        d.wait()  # the shell is a terminal node again: shown again
        assert d.studio.mesh("shell") is not None


def test_picked_face_selector_opens_that_face_with_shell(make_studio) -> None:
    def build(g: Graph) -> None:
        g.add("Solid::Box", id="box", width=30, height=20, depth=10)
        g.add("Solid::Cylinder", id="pin", radius=4, height=25)
        g.add("Boolean::Union", id="body")
        g.connect("box", "shape", "body", "shapes")
        g.connect("pin", "shape", "body", "shapes")

    _, d = evaluated_studio(make_studio, build)
    mesh = d.studio.mesh("body")
    body = d.studio.result["body"]["shape"]
    for index in range(mesh.face_count):
        info = pick(d, "body", "face", index)
        assert "error" not in info, info
        face = mesh.face(index)
        chosen = parse_selector(info["selector"]).filter(body.Faces())
        assert len(chosen) == 1 and chosen[0].wrapped.IsSame(face.wrapped), info["selector"]
        assert info["type"] == face.geomType()
        assert info["size"] == pytest.approx(face.Area())
        assert face.distance(cq.Vertex.makeVertex(*info["center"])) < 1e-6
    top = max(range(mesh.face_count), key=lambda i: mesh.face(i).Center().z)
    info = pick(d, "body", "face", top)
    assert info["selector"] == ">Z" and info["type"] == "PLANE" and info["normal"] == [0.0, 0.0, 1.0]
    opened = run_node("Features::Shell", {"shape": body}, thickness=1, faces=info["selector"])["shape"]
    assert opened.isValid() and len(opened.Faces()) > len(body.Faces())


def test_pick_errors_are_answered_not_raised(make_studio) -> None:
    def build(g: Graph) -> None:
        g.add("Solid::Box", id="box", width=1, height=1, depth=1)

    _, d = evaluated_studio(make_studio, build)
    assert "has no mesh in the viewer" in pick(d, "ghost", "face", 0)["error"]
    assert "out of range: the shape has 6 faces" in pick(d, "box", "face", 6)["error"]
    assert "'kind' ('face' or 'edge')" in pick(d, "box", "vertex", 0)["error"]
    assert "whole number" in pick(d, "box", "edge", "2")["error"]
    version = d.studio.mesh("box") and pick(d, "box", "face", 0)["version"]
    assert pick(d, "box", "face", 0, version=version)["selector"]
    assert "pick again" in pick(d, "box", "face", 0, version=version + 1)["error"]


def test_pick_resolves_through_the_exact_shape_the_viewer_shows(make_studio) -> None:
    """A rebuild of the same model (same cache key) is not re-sent; picks keep using the shape on screen."""
    from brepflow_lab.engine import Evaluator, MemoryCache

    g = Graph.new()
    g.evaluator = Evaluator(g.registry, cache=MemoryCache())
    g.add("Solid::Box", id="box", width=10, height=20, depth=30)
    g.add("Features::Chamfer", id="bevel", distance=1, edges=">Z")
    g.connect("box", "shape", "bevel", "shape")
    d = make_studio(g, evaluate=True)
    d.wait()
    shown = d.studio.mesh("bevel")
    g.evaluator.cache.clear()
    d.clear()
    d.custom({"type": "evaluate"})
    d.wait()
    rebuilt = d.studio.result["bevel"]["shape"]
    assert rebuilt is not shown.shape and d.studio.status["bevel"]["status"] == "ok"
    assert d.messages("meshes") == [] and d.studio.mesh("bevel") is shown
    for index in range(shown.face_count):
        info = pick(d, "bevel", "face", index)
        assert shown.face(index).distance(cq.Vertex.makeVertex(*info["center"])) < 1e-7
        chosen = parse_selector(info["selector"]).filter(rebuilt.Faces())
        assert len(chosen) == 1 and chosen[0].Center().toTuple() == pytest.approx(
            shown.face(index).Center().toTuple()
        ), "the selector names the same face of the rebuilt shape"


# --------------------------------------------------------------------------- nearest(x, y, z)


def test_nearest_selects_by_true_distance_and_combines() -> None:
    plate = cq.Workplane().box(40, 40, 4).faces(">Z").workplane().hole(10).val()
    faces = plate.Faces()
    hole = parse_selector("nearest(5, 0, 0)").filter(faces)
    assert [f.geomType() for f in hole] == ["CYLINDER"]  # the hole wall, not the big top face's centre
    assert len(parse_selector("nearest(5, 0, 0) or >Z").filter(faces)) == 2
    assert parse_selector("%PLANE and nearest(0, 0, 2.5)").filter(faces)[0].Center().z == pytest.approx(2)
    assert len(parse_selector("not nearest(5, 0, 0)").filter(faces)) == len(faces) - 1
    assert len(parse_selector("NEAREST(1e1, -20, 2)").filter(plate.Edges())) == 1


def test_nearest_in_a_fillet_node_and_its_errors() -> None:
    box = cq.Solid.makeBox(20, 20, 10)
    out = run_node("Features::Fillet", {"shape": box}, radius=1, edges="nearest(20, 20, 5)")["shape"]
    assert len(out.Faces()) == 7
    with pytest.raises(NodeError) as info:
        run_node("Features::Fillet", {"shape": box}, radius=1, edges="nearest(20, 20)")
    assert info.value.code is ErrorCode.PARAM_INVALID and "not valid selector syntax" in str(info.value)


def test_selector_for_falls_back_to_nearest_when_nothing_semantic_is_unique() -> None:
    # two identical bosses on a sloped plate: no axis-aligned rule tells their edges apart
    shape = (
        cq.Workplane()
        .box(50, 50, 5)
        .faces(">Z")
        .workplane()
        .pushPoints([(-12, -12), (12, 12)])
        .circle(4)
        .extrude(6)
        .rotate((0, 0, 0), (1, 1, 0), 45)
        .rotate((0, 0, 0), (0, 0, 1), 45)
        .val()
    )
    for edge in shape.Edges():
        chosen = selector_for(shape, edge, "edge", max_terms=1)
        found = parse_selector(chosen.selector).filter(shape.Edges())
        assert len(found) == 1 and found[0].wrapped.IsSame(edge.wrapped), chosen.selector
    circles = [e for e in shape.Edges() if e.geomType() == "CIRCLE"]
    assert any(selector_for(shape, e, "edge", max_terms=1).selector.startswith("nearest(") for e in circles)
