"""The shared graph document (brepflow_lab.collab.ydoc): round trips, concurrent edits, outside writes, convergence."""

from __future__ import annotations

import random
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brepflow_lab import Graph
from brepflow_lab.collab.ydoc import YGraph, sync
from brepflow_lab.errors import GraphError
from brepflow_lab.graph import bflow
from brepflow_lab.graph.algorithms import find_cycles
from brepflow_lab.graph.merge import diff

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("examples/*.bflow.json"), *(ROOT / "tests" / "data").glob("*.bflow.json")])


def replicas(n: int, text: str) -> list[YGraph]:
    first = YGraph()
    first.set(text)
    others = [YGraph() for _ in range(n - 1)]
    sync(first, *others)
    return [first, *others]


def enclosure_text() -> str:
    return (ROOT / "examples" / "enclosure.bflow.json").read_text()


def structural_errors(doc) -> list:
    """Validation errors other than a missing required input (a graph being edited may lack one)."""
    g = Graph.from_json(bflow.to_json(doc))
    return [p for p in g.validate() if p.severity == "error" and p.code.value != "INPUT_MISSING"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_file_round_trips_through_the_shared_document_byte_for_byte(path):
    text = path.read_text()
    [a, b] = replicas(2, text)
    assert a.get() == bflow.dumps(bflow.loads(text))
    assert b.get() == a.get()  # and so does a replica that only received updates


def test_the_server_finds_the_document_type_under_jupyter_ydoc():
    """jupyter-collaboration looks document types up by content type in this entry-point group."""
    found = {ep.name: ep for ep in entry_points(group="jupyter_ydoc")}
    assert "bflow" in found, "reinstall the package (pip install --no-deps --no-build-isolation -e .)"
    assert found["bflow"].load() is YGraph
    from jupyter_ydoc import ydocs

    assert ydocs.get("bflow") is YGraph


def test_concurrent_edits_of_different_things_all_survive():
    a, b = replicas(2, enclosure_text())
    a.set_param("shell", "thickness", 3)
    b.set_param("shell", "inside", False)
    b.set_parameter("L", 150)
    a.move("boss", 10, 20)
    sync(a, b)
    doc = a.document()
    assert a.get() == b.get()
    shell = doc.node("shell")
    assert shell.params["thickness"] == 3 and shell.params.get("inside") is False
    assert doc.parameters["L"].value == 150 and doc.node("boss").position == (10.0, 20.0)
    assert isinstance(doc.parameters["L"].value, int)  # 150 stays 150 in the file, not 150.0


def test_the_same_param_edited_concurrently_ends_with_one_value_everywhere():
    a, b, c = replicas(3, enclosure_text())
    a.set_param("shell", "thickness", 3)
    b.set_param("shell", "thickness", 4)
    c.set_param("shell", "thickness", 5)
    sync(c, a, b)
    values = {r.document().node("shell").params["thickness"] for r in (a, b, c)}
    assert len(values) == 1 and values <= {3, 4, 5}


def test_a_link_to_a_node_deleted_at_the_same_moment_disappears_on_both_sides():
    a, b = replicas(2, enclosure_text())
    a.remove_node("base")
    step_id = "step"
    b.add_node(step_id, "IO::ExportSTEP", params={"filepath": "x.step"})
    b.connect("base", "shape", step_id, "shapes", multiple=True)
    sync(a, b)
    doc = a.document()
    assert a.get() == b.get()
    assert doc.node("base") is None and doc.node(step_id) is not None
    assert not list(doc.node(step_id).links())
    assert not structural_errors(doc)


def test_two_halves_of_a_loop_added_concurrently_leave_an_acyclic_graph():
    a, b = replicas(2, enclosure_text())
    a.add_node("m1", "Transform::Move")
    sync(a, b)
    a.add_node("m2", "Transform::Move")
    sync(a, b)
    a.connect("m1", "shape", "m2", "shape")
    b.connect("m2", "shape", "m1", "shape")
    sync(a, b)
    doc = a.document()
    deps = {n.id: [r.node_id for _, r in n.links()] for n in doc.nodes}
    assert find_cycles(deps) == [] and a.get() == b.get()
    assert len([1 for n in doc.nodes if n.id in ("m1", "m2") for _ in n.links()]) == 1


def test_a_write_from_outside_merges_into_the_open_document():
    """git checkout / a notebook g.save() rewrites the file while people edit: nothing is lost."""
    a, b = replicas(2, enclosure_text())
    b.set_param("shell", "thickness", 3)  # bob's edit, not yet on disk
    outside = Graph.from_json(a.get())
    outside.parameters["W"] = 95
    outside.add("Solid::Sphere", id="ball", radius=4)
    a.set(outside.dumps())  # the server reloads the file into the room
    sync(a, b)
    doc = b.document()
    assert doc.parameters["W"].value == 95 and doc.node("ball") is not None
    assert doc.node("shell").params["thickness"] == 3  # bob's concurrent edit survived
    assert a.get() == b.get()


def test_a_broken_outside_write_is_refused_and_the_room_keeps_its_graph():
    [a] = replicas(1, enclosure_text())
    before = a.get()
    with pytest.raises(GraphError):
        a.set('{"version": "0.1.0", "nodes": [')
    assert a.get() == before


def test_undo_is_per_person():
    """Each person's undo manager tracks their own document's local changes only."""
    a, b = replicas(2, enclosure_text())
    a.undo_manager.clear()
    b.undo_manager.clear()
    a.set_param("shell", "thickness", 3)
    sync(a, b)
    b.set_parameter("L", 150)
    sync(a, b)
    assert a.undo_manager.undo()  # alice undoes hers...
    sync(a, b)
    doc = b.document()
    assert doc.node("shell").params["thickness"] == "@wall" and doc.parameters["L"].value == 150  # ...not bob's


# ---------------------------------------------------------------------------------------- property


NODE_TYPES = ["Solid::Box", "Solid::Cylinder", "Transform::Move", "Boolean::Union", "Features::Fillet"]


@st.composite
def edit_scripts(draw):
    """Per replica, a list of edits; plus the order in which replicas sync in between."""
    n = draw(st.integers(2, 3))
    rounds = draw(st.integers(1, 3))
    script = []
    for _ in range(rounds):
        per = []
        for _r in range(n):
            per.append(
                draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(
                                ["add", "remove", "param", "link", "multilink", "unlink", "move", "global"]
                            ),
                            st.integers(0, 10_000),
                        ),
                        max_size=6,
                    )
                )
            )
        order = draw(st.permutations(list(range(n))))
        script.append((per, order))
    return n, script


def apply_edit(doc: YGraph, kind: str, seed: int, who: int) -> None:
    rng = random.Random(seed * 31 + who)
    current = doc.document()
    ids = [n.id for n in current.nodes]
    if kind == "add" or not ids:
        doc.add_node(f"n{who}_{seed}", rng.choice(NODE_TYPES), params={"radius": rng.randint(1, 5)}, x=rng.random())
    elif kind == "remove":
        doc.remove_node(rng.choice(ids))
    elif kind == "param":
        doc.set_param(rng.choice(ids), rng.choice(["radius", "width", "height"]), rng.randint(1, 9))
    elif kind in ("link", "multilink"):
        source, target = rng.choice(ids), rng.choice(ids)
        doc.connect(source, "shape", target, "shapes" if kind == "multilink" else "shape", multiple=kind == "multilink")
    elif kind == "unlink":
        links = [(r.node_id, r.socket, n.id, name) for n in current.nodes for name, r in n.links()]
        if links:
            doc.disconnect(*rng.choice(links))
    elif kind == "move":
        doc.move(rng.choice(ids), rng.random() * 500, rng.random() * 500)
    elif kind == "global":
        doc.set_parameter(rng.choice(["L", "W", "H"]), rng.randint(10, 200))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_scripts())
def test_property_replicas_converge_to_one_valid_graph(plan):
    n, script = plan
    docs = replicas(n, enclosure_text())
    for per, order in script:
        for who, edits in enumerate(per):
            for kind, seed in edits:
                apply_edit(docs[who], kind, seed, who)
        # partial syncs in a random order (some replicas see others' edits late)...
        for i in order[:-1]:
            docs[order[-1]].ydoc.apply_update(docs[i].ydoc.get_update(docs[order[-1]].ydoc.get_state()))
    # ...then everyone meets
    sync(*docs)
    texts = {d.get() for d in docs}
    assert len(texts) == 1, "replicas did not converge"
    doc = docs[0].document()
    again = bflow.loads(texts.pop())  # the saved text is a valid .bflow.json (schema included)
    assert diff(again, doc).equal
    ids = {nd.id for nd in doc.nodes}
    assert all(r.node_id in ids for nd in doc.nodes for _, r in nd.links())  # no dangling links
    assert find_cycles({nd.id: [r.node_id for _, r in nd.links()] for nd in doc.nodes}) == []
    assert len({e.id for e in doc.edges}) == len(doc.edges)
