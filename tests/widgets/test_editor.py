"""Browser edits reach the Python Graph (and are refused with a hint when they must be)."""

from __future__ import annotations

from brepflow_lab import Graph
from brepflow_lab.graph import bflow
from brepflow_lab.widgets.editor import change_kind

BOX = {"op": "add_node", "type": "Solid::Box", "id": "box", "position": {"x": 0, "y": 0}}


def test_edits_change_the_graph_and_the_graph_trait(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    ack = d.edit(
        {**BOX, "params": {"width": 10, "height": 20, "depth": 30}},
        {"op": "add_node", "type": "Features::Fillet", "id": "round", "position": {"x": 250, "y": 0}},
        {"op": "connect", "source": "box", "sourceHandle": "shape", "target": "round", "targetHandle": "shape"},
        {"op": "set_param", "id": "round", "name": "edges", "value": "|Z"},
        {"op": "set_global", "name": "R", "value": 2, "min": 0.5, "max": 10, "unit": "mm"},
        {"op": "set_param", "id": "round", "name": "radius", "value": "@R"},
    )
    assert ack == {"type": "ack", "seq": 1, "ok": True}
    doc = g.document
    assert [n.id for n in doc.nodes] == ["box", "round"]
    assert doc.node("box").params == {"width": 10, "height": 20, "depth": 30}
    assert doc.node("round").params == {"edges": "|Z", "radius": "@R"}
    assert [(e.source, e.target) for e in doc.edges] == [("box", "round")]
    assert doc.parameters["R"].value == 2 and doc.parameters["R"].unit == "mm"
    # the graph trait is the file's JSON, in step with the Python graph
    assert d.studio.graph == bflow.to_json(doc)
    assert d.studio.dirty is True


def test_move_node_keeps_everything_but_the_position(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit({**BOX, "params": {"width": 5}})
    before = g.document.node("box")
    assert d.edit({"op": "move_node", "id": "box", "position": {"x": 120.5, "y": -40}})["ok"]
    after = g.document.node("box")
    assert after.position == (120.5, -40.0)
    assert (after.params, after.inputs, after.type) == (before.params, before.inputs, before.type)
    assert d.studio.graph["nodes"][0]["position"] == {"x": 120.5, "y": -40}


def test_set_param_null_resets_to_the_default(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit({**BOX, "params": {"width": 5, "height": 7}})
    assert d.edit({"op": "set_param", "id": "box", "name": "width", "value": None})["ok"]
    assert g.document.node("box").params == {"height": 7}


def test_remove_node_and_disconnect(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit(
        BOX,
        {"op": "add_node", "type": "Features::Shell", "id": "shell", "position": {"x": 200, "y": 0}},
        {"op": "connect", "source": "box", "sourceHandle": "shape", "target": "shell", "targetHandle": "shape"},
    )
    assert d.edit(
        {"op": "disconnect", "source": "box", "sourceHandle": "shape", "target": "shell", "targetHandle": "shape"}
    )["ok"]
    assert g.document.edges == () and dict(g.document.node("shell").inputs) == {}
    assert d.edit({"op": "remove_node", "id": "box"})["ok"]
    assert [n.id for n in g.document.nodes] == ["shell"]


def test_refused_connect_names_the_types_and_suggests_a_converter(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit(
        {"op": "add_node", "type": "Sketch::Circle", "id": "circle", "position": {"x": 0, "y": 0}},
        {"op": "add_node", "type": "Features::Fillet", "id": "round", "position": {"x": 200, "y": 0}},
    )
    before = g.document
    ack = d.edit(
        {"op": "connect", "source": "circle", "sourceHandle": "curve", "target": "round", "targetHandle": "shape"}
    )
    assert ack["ok"] is False and ack["code"] == "PORT_TYPE_MISMATCH"
    assert "cannot connect circle.curve (Curve) to round.shape (Solid)" in ack["error"]
    assert "turns a Curve into a Solid: Solid::Extrude" in ack["error"]
    assert g.document is before  # nothing applied


def test_a_refused_op_rolls_back_the_whole_edit(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit(BOX)
    before = g.document
    ack = d.edit(
        {"op": "add_node", "type": "Solid::Sphere", "id": "ball", "position": {"x": 0, "y": 200}},
        {"op": "set_param", "id": "ball", "name": "radius", "value": 4},
        {"op": "connect", "source": "ball", "sourceHandle": "shape", "target": "box", "targetHandle": "shape"},
    )
    assert ack["ok"] is False and ack["op"] == 2
    assert ack["error"].startswith("op #3 (connect): Solid::Box has no input 'shape'")
    assert g.document is before
    assert d.studio.graph == bflow.to_json(before)
    assert not d.studio.can_redo and d.studio.undo() and g.document.nodes == ()  # only the first edit is undoable


def test_refusals_explain_themselves(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit(BOX)
    cases = [
        ({"op": "add_node", "type": "Solid::Boks", "position": {"x": 0, "y": 0}}, "did you mean 'Solid::Box'"),
        ({**BOX}, "a node with id 'box' already exists"),
        ({"op": "set_param", "id": "box", "name": "radius", "value": 3}, "Solid::Box has no parameter 'radius'"),
        ({"op": "set_param", "id": "nope", "name": "width", "value": 3}, "no such node"),
        ({"op": "move_node", "id": "box", "position": {"x": "left", "y": 0}}, "must be finite numbers"),
        ({"op": "connect", "source": "box", "sourceHandle": "shape", "target": "box"}, "needs 'targetHandle'"),
        (
            {"op": "connect", "source": "box", "sourceHandle": "shape", "target": "x", "targetHandle": "s"},
            "no node 'x'",
        ),
        ({"op": "explode"}, "unknown edit op 'explode'"),
        ({"op": "set_global", "name": "2L", "value": 1}, "must be an identifier"),
        ({"op": "set_global", "name": "L", "value": 500, "max": 400}, "above its maximum 400"),
        ({"op": "set_global", "name": "L", "value": 5, "min": 10, "max": 1}, "min 10 is above max 1"),
        ({"op": "remove_global", "name": "ghost"}, "no global parameter '@ghost'"),
    ]
    for op, expected in cases:
        ack = d.edit(op)
        assert ack["ok"] is False, op
        assert expected in ack["error"], (op, ack["error"])
    d.custom({"type": "edit", "ops": [], "seq": 99})
    assert d.messages("ack")[-1][0] == {
        "type": "ack",
        "seq": 99,
        "ok": False,
        "error": "an edit needs 'ops': a non-empty list of edit operations",
    }


def test_a_used_global_cannot_be_removed(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    d.edit({"op": "set_global", "name": "L", "value": 100}, {**BOX, "params": {"width": "@L * 2"}})
    ack = d.edit({"op": "remove_global", "name": "L"})
    assert ack["ok"] is False and "'@L' is still used by box" in ack["error"]
    d.edit({"op": "set_param", "id": "box", "name": "width", "value": 10})
    assert d.edit({"op": "remove_global", "name": "L"})["ok"]
    assert "L" not in g.document.parameters


def test_undo_and_redo_walk_the_snapshots(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    docs = [g.document]
    d.edit(BOX)
    docs.append(g.document)
    d.edit({"op": "set_param", "id": "box", "name": "width", "value": 42})
    docs.append(g.document)
    d.edit({"op": "move_node", "id": "box", "position": {"x": 10, "y": 10}})
    docs.append(g.document)
    for expected in reversed(docs[:-1]):
        d.custom({"type": "undo"})
        assert g.document is expected
        assert d.studio.graph == bflow.to_json(expected)
    d.custom({"type": "undo"})  # nothing left
    assert d.studio.message["text"] == "nothing to undo"
    for expected in docs[1:]:
        d.custom({"type": "redo"})
        assert g.document is expected
    d.custom({"type": "redo"})
    assert d.studio.message["text"] == "nothing to redo"
    # a new edit after undo drops the redo branch
    d.custom({"type": "undo"})
    d.edit({"op": "set_param", "id": "box", "name": "depth", "value": 3})
    assert not d.studio.can_redo


def test_python_side_edits_appear_in_the_editor_and_are_undoable(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    box = g.add("Solid::Box", id="box", width=10, height=10, depth=10)
    g.parameters["L"] = 50
    box.params["width"] = "@L"
    d.wait()
    assert d.studio.graph == bflow.to_json(g.document)
    assert d.studio.graph["nodes"][0]["params"]["width"] == "@L"
    d.custom({"type": "undo"})
    d.wait()
    assert g.document.node("box").params["width"] == 10
    assert d.studio.graph["nodes"][0]["params"]["width"] == 10


def test_change_kind_classifies_edits() -> None:
    g = Graph.new()
    empty = g.document
    g.add("Solid::Box", id="box")
    added = g.document
    g.set_param("box", "width", 3)
    param = g.document
    g.parameters["L"] = 3
    global_ = g.document
    g.add("Solid::Sphere", id="ball")
    g.remove("ball")
    same_nodes = g.document
    from dataclasses import replace

    g._replace_node(replace(g.document.node("box"), position=(5.0, 5.0)))
    moved = g.document
    assert change_kind(empty, added) == "structure"
    assert change_kind(added, param) == "params"
    assert change_kind(param, global_) == "params"
    assert change_kind(global_, same_nodes) == "none"
    assert change_kind(same_nodes, moved) == "layout"
    assert change_kind(moved, moved) == "none"
