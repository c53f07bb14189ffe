"""Background evaluation, status from engine events, and binary mesh messages."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.errors import ErrorCode
from brepflow_lab.kernel.tessellate import MAX_TRIANGLES_ENV
from brepflow_lab.nodes import InputSpec, OutputSpec, ParamSpec, Registry, catalogue, node

from .conftest import decode_mesh

BOX = {"op": "add_node", "type": "Solid::Box", "id": "box", "position": {"x": 0, "y": 0}}


def test_meshes_are_binary_with_consistent_sizes(make_studio) -> None:
    g = Graph.new()
    g.add("Solid::Box", id="box", width=40, height=30, depth=20)
    g.add("Features::Fillet", id="round", radius=3, edges="|Z")
    g.connect("box", "shape", "round", "shape")
    g.add("Solid::Sphere", id="ball", radius=8)
    d = make_studio(g, evaluate=True)
    d.wait()
    (content, buffers), *rest = d.messages("meshes")
    assert rest == []
    assert [n["id"] for n in content["nodes"]] == ["round", "ball"]  # the terminal shape nodes
    assert content["removed"] == []
    for entry in content["nodes"]:
        arrays = decode_mesh(entry, buffers)
        counts = entry["counts"]
        assert len(buffers[entry["buffers"]["positions"]]) == 12 * counts["vertices"]
        assert arrays["positions"].size == arrays["normals"].size == 3 * counts["vertices"]
        assert arrays["indices"].size == 3 * counts["triangles"]
        assert arrays["edges"].size == 6 * counts["segments"]
        assert arrays["face_ranges"].size == 2 * counts["faces"]
        assert arrays["edge_ranges"].size == 2 * counts["edges"]
        assert arrays["indices"].max() < counts["vertices"]
        ranges = arrays["face_ranges"].reshape(-1, 2).astype(np.int64)
        assert ranges[0, 0] == 0 and np.array_equal(ranges[1:, 0], ranges[:-1].sum(axis=1))
        assert ranges[:, 1].sum() == counts["triangles"]  # the faces cover every triangle
        edges = arrays["edge_ranges"].reshape(-1, 2).astype(np.int64)
        assert edges[:, 1].sum() == counts["segments"]
        low, high = np.array(entry["bbox"])
        positions = arrays["positions"].reshape(-1, 3)
        assert np.allclose(positions.min(axis=0), low, atol=1e-4)
        assert np.allclose(positions.max(axis=0), high, atol=1e-4)
        assert entry["color"].startswith("#") and entry["visible"] is True
    round_mesh = decode_mesh(content["nodes"][0], buffers)
    assert round_mesh["face_ranges"].size // 2 == len(d.studio.result["round"]["shape"].Faces())


def test_only_changed_meshes_are_sent_and_ready_resends_all(make_studio) -> None:
    g = Graph.new()
    g.add("Solid::Box", id="box", width=10, height=10, depth=10)
    g.add("Solid::Sphere", id="ball", radius=4)
    d = make_studio(g, evaluate=True)
    d.wait()
    d.clear()
    d.edit({"op": "set_param", "id": "ball", "name": "radius", "value": 6})
    d.wait()
    (content, buffers), *rest = d.messages("meshes")
    assert rest == [] and [n["id"] for n in content["nodes"]] == ["ball"]
    assert len(buffers) == 6
    d.clear()
    d.edit({"op": "move_node", "id": "box", "position": {"x": 50, "y": 50}})  # layout only
    d.custom({"type": "evaluate"})  # an evaluation with nothing new sends nothing
    d.wait()
    assert d.messages("meshes") == []
    d.custom({"type": "ready"})  # a new view: everything again
    d.wait()
    (content, buffers), *rest = d.messages("meshes")
    assert sorted(n["id"] for n in content["nodes"]) == ["ball", "box"] and len(buffers) == 12


def test_a_failing_node_keeps_its_last_mesh_and_the_others_update(make_studio) -> None:
    g = Graph.new()
    g.add("Solid::Box", id="box", width=20, height=20, depth=20)
    g.add("Features::Fillet", id="round", radius=2, edges="|Z")
    g.connect("box", "shape", "round", "shape")
    g.add("Solid::Cylinder", id="pin", radius=2, height=10)
    d = make_studio(g, evaluate=True)
    d.wait()
    good = d.studio.mesh("round")
    d.clear()
    d.edit(
        {"op": "set_param", "id": "round", "name": "radius", "value": 50},  # far too large: fails
        {"op": "set_param", "id": "pin", "name": "height", "value": 30},
    )
    d.wait()
    status = d.studio.status
    assert status["round"]["status"] == "failed"
    assert status["round"]["error"]["code"] == ErrorCode.GEOM_FILLET_FAIL.value
    assert "round" in status["round"]["error"]["message"]
    assert status["pin"]["status"] == "ok" and status["box"]["status"] == "cached"
    (content, _), *rest = d.messages("meshes")
    assert rest == [] and [n["id"] for n in content["nodes"]] == ["pin"]
    assert content["removed"] == []  # the failing node is neither sent nor removed
    assert d.studio.mesh("round") is good  # picks still resolve against what the viewer shows


def test_visibility_follows_terminals_preview_toggles_and_hidden(make_studio) -> None:
    g = Graph.new()
    g.add("Solid::Box", id="box", width=10, height=10, depth=10)
    g.add("Features::Shell", id="shell", thickness=1)
    g.connect("box", "shape", "shell", "shape")
    g.add("Analysis::Volume", id="volume")
    g.connect("shell", "shape", "volume", "solid")  # a measure does not hide its input
    d = make_studio(g, evaluate=True)
    d.wait()
    assert [n["id"] for n in d.messages("meshes")[0][0]["nodes"]] == ["shell"]
    d.clear()
    d.custom({"type": "preview", "node": "box", "on": True})
    d.wait()
    content = d.messages("meshes")[0][0]
    assert [n["id"] for n in content["nodes"]] == ["box"] and content["removed"] == []
    d.clear()
    d.update(view={**d.studio.view, "hidden": ["shell"]})
    d.wait()
    content = d.messages("meshes")[0][0]
    assert content["nodes"] == [] and content["removed"] == ["shell"]
    d.clear()
    d.custom({"type": "preview", "node": "box", "on": False})
    d.update(view={**d.studio.view, "hidden": []})
    d.wait()
    contents = [c for c, _ in d.messages("meshes")]
    assert {n["id"] for c in contents for n in c["nodes"]} == {"shell"}
    assert {r for c in contents for r in c["removed"]} == {"box"}


def test_quality_change_resends_finer_meshes(make_studio) -> None:
    g = Graph.new()
    g.add("Solid::Sphere", id="ball", radius=10)
    d = make_studio(g, evaluate=True)
    d.wait()
    preview = d.messages("meshes")[0][0]["nodes"][0]
    d.clear()
    d.update(view={**d.studio.view, "quality": "high"})
    d.wait()
    high = d.messages("meshes")[0][0]["nodes"][0]
    assert high["lod"] == "high" and high["counts"]["triangles"] > preview["counts"]["triangles"]
    assert high["version"] > preview["version"]


def test_triangle_limit_warns_and_keeps_the_node_out(make_studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_TRIANGLES_ENV, "20")
    g = Graph.new()
    g.add("Solid::Torus", id="ring", majorRadius=20, minorRadius=5)
    g.add("Solid::Box", id="box", width=1, height=1, depth=1)  # 12 triangles: fits
    d = make_studio(g, evaluate=True)
    d.wait()
    (content, _), *_ = d.messages("meshes")
    assert [n["id"] for n in content["nodes"]] == ["box"]
    assert d.studio.message["level"] == "warning"
    assert "node 'ring'" in d.studio.message["text"]
    assert "BREPFLOW_MAX_PREVIEW_TRIANGLES" in d.studio.message["text"]


# --------------------------------------------------------------------------- debounce and supersession

calls: list[tuple[str, float]] = []
calls_lock = threading.Lock()
#: (node id, value) -> an event the node waits for before finishing (deterministic timing)
gates: dict[tuple[str, float], threading.Event] = {}


def slow_registry(delay: float) -> Registry:
    """The built-in catalogue plus a pure-Python node that takes ``delay`` seconds."""
    reg = Registry()
    reg._loaded = True
    for spec in catalogue:
        reg.register(spec)

    @node(
        "Test::Slow",
        inputs=[InputSpec("a", "Number", optional=True)],
        outputs=[OutputSpec("value", "Number")],
        params=[ParamSpec("value", default=1.0)],
        registry=reg,
    )
    def slow(ctx: Any, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        value = params["value"] + (inputs["a"] or 0.0)
        with calls_lock:
            calls.append((ctx.node_id, value))
        gate = gates.get((ctx.node_id, value))
        if gate is not None:
            assert gate.wait(30), "the test never opened the gate"
        time.sleep(delay)
        return {"value": value}

    return reg


def slow_chain(delay: float) -> Graph:
    g = Graph.new()
    g.registry = slow_registry(delay)
    g.evaluator = Evaluator(g.registry, cache=MemoryCache())
    g.add("Test::Slow", id="s1", value=1)
    g.add("Test::Slow", id="s2", value=10)
    g.add("Test::Slow", id="s3", value=100)
    g.connect("s1", "value", "s2", "a")
    g.connect("s2", "value", "s3", "a")
    return g


def test_a_burst_of_param_edits_evaluates_the_first_at_once_and_the_last_after_the_debounce(make_studio) -> None:
    calls.clear()
    d = make_studio(slow_chain(0.0), debounce=0.3)
    for value in (2, 3, 4, 5, 6):
        d.edit({"op": "set_param", "id": "s1", "name": "value", "value": value})
    d.wait()
    # at most the first edit of the burst (leading edge: it may start before the second edit
    # arrives, or be replaced by it) and then the last one; none in between
    assert [v for node, v in calls if node == "s1"] in ([6], [2, 6])
    assert calls[-3:] == [("s1", 6), ("s2", 16), ("s3", 116)]
    assert d.studio.result["s3"]["value"] == 116


def test_a_lone_param_edit_does_not_wait_for_the_debounce(make_studio) -> None:
    calls.clear()
    d = make_studio(slow_chain(0.0), debounce=5.0)
    d.wait()
    started = time.monotonic()
    d.edit({"op": "set_param", "id": "s1", "name": "value", "value": 7})
    d.wait()
    assert time.monotonic() - started < 2.5  # well under the 5 s debounce
    assert d.studio.result["s3"]["value"] == 117
    # a second edit right after it is part of a burst: it waits for the debounce
    d.edit({"op": "set_param", "id": "s1", "name": "value", "value": 8})
    assert d.studio._loop.pending("evaluate")
    d.studio.evaluate()  # evaluate now instead of waiting 5 s
    d.wait()
    assert d.studio.result["s3"]["value"] == 118


def test_a_newer_change_supersedes_a_running_evaluation(make_studio) -> None:
    calls.clear()
    gates.clear()
    gates[("s1", 2.0)] = gate = threading.Event()
    g = slow_chain(0.05)
    d = make_studio(g, debounce=0.05)
    seen: list[dict[str, Any]] = []
    d.studio.observe(lambda change: seen.append(change["new"]), names="status")
    d.edit({"op": "set_param", "id": "s1", "name": "value", "value": 2})
    d.wait_for(lambda: calls[:1] == [("s1", 2)])  # s1 is running (held at its gate)
    d.wait_for(lambda: any(s.get("s1", {}).get("status") == "running" for s in seen))  # NodeStarted event
    d.edit({"op": "set_param", "id": "s1", "name": "value", "value": 3})
    gate.set()
    d.wait()
    # the stale run stopped after s1: s2/s3 never ran for value 2
    assert calls == [("s1", 2), ("s1", 3), ("s2", 13), ("s3", 113)]
    assert d.studio.result["s3"]["value"] == 113
    assert {k: v["status"] for k, v in d.studio.status.items()} == {"s1": "ok", "s2": "ok", "s3": "ok"}
    assert all(v.get("status") != "cancelled" for s in seen for v in s.values())
    assert d.studio.evaluating is False


def test_structure_edits_evaluate_without_the_debounce(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g, debounce=5.0)
    started = time.monotonic()
    d.edit({**BOX, "params": {"width": 3}})
    d.wait()
    assert time.monotonic() - started < 4.0
    # "cached" when another test in this process already built the same box (the cache is shared)
    assert d.studio.status["box"]["status"] in ("ok", "cached")
    assert d.studio.result["box"]["shape"].isValid()


def test_evaluating_flag_is_set_while_running(make_studio) -> None:
    calls.clear()
    d = make_studio(slow_chain(0.2), debounce=0.0)
    flags: list[bool] = []
    d.studio.observe(lambda change: flags.append(change["new"]), names="evaluating")
    d.custom({"type": "evaluate"})
    d.wait()
    assert flags == [True, False]


def test_a_long_node_shows_running_even_when_status_pushes_are_throttled(make_studio) -> None:
    calls.clear()
    gates.clear()
    gates[("s2", 11.0)] = gate = threading.Event()  # s2 starts right after s1 (inside the 100 ms throttle)
    d = make_studio(slow_chain(0.0), debounce=0.0)
    d.custom({"type": "evaluate"})
    try:
        d.wait_for(lambda: d.studio.status.get("s2", {}).get("status") == "running", timeout=10)
        assert d.studio.status["s1"]["status"] == "ok" and "s3" not in d.studio.status
    finally:
        gate.set()
    d.wait()
    assert d.studio.status["s2"]["status"] == "ok" and d.studio.status["s3"]["status"] == "ok"
