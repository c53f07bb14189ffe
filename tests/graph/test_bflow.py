"""The .bflow.json format: round trips, extra keys, atomic saves, malformed files."""

from __future__ import annotations

import json
import os

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.errors import ErrorCode, GraphError
from brepflow_lab.graph import bflow


def test_round_trip_is_equal_and_keeps_unknown_keys(data_dir, tmp_path):
    doc = bflow.load(data_dir / "brepflow_multi.bflow.json")
    out = tmp_path / "copy.bflow.json"
    bflow.dump(doc, out)
    again = bflow.load(out)
    assert again == doc
    raw = json.loads(out.read_text())
    assert raw["x-editor"] == {"zoom": 1.5, "viewport": [0, 0]}
    assert raw["nodes"][1]["x-color"] == "red"
    assert raw["edges"][1]["animated"] is True
    assert "position" not in raw["nodes"][3]  # absent stays absent
    assert raw["nodes"][2]["inputs"]["values"][1] == {"nodeId": "c", "socketId": "value"}
    assert raw["nodes"][2]["label"] == "Total"
    assert raw["metadata"]["tags"] == ["t"]


def test_file_without_parameters_block_loads_and_reports_unset_names(data_dir, registry):
    g = Graph.load(data_dir / "brepflow_multi.bflow.json", registry=registry)
    problems = {(p.code, p.node_id) for p in g.validate()}
    assert (ErrorCode.PARAM_MISSING, "r") in problems
    assert (ErrorCode.PARAM_MISSING, "c") in problems
    messages = " ".join(str(p) for p in g.validate())
    assert "@n" in messages and "@L" in messages


def test_parameters_block_and_nested_multi_input_evaluate(data_dir, registry, tmp_path):
    g = Graph.load(data_dir / "brepflow_multi.bflow.json", registry=registry)
    g.evaluator = Evaluator(registry, cache=MemoryCache())
    g.parameters["n"] = 4
    g.parameters.define("L", 100, min=10, max=500, unit="mm", description="length")
    g.parameters["wall"] = 2
    r = g.evaluate()
    assert r["s"]["value"] == 0 + 1 + 2 + 3 + 96
    saved = g.save(tmp_path / "p.bflow.json")
    raw = json.loads(saved.read_text())
    assert raw["parameters"]["L"] == {"value": 100, "min": 10, "max": 500, "unit": "mm", "description": "length"}
    g2 = Graph.load(saved, registry=registry)
    assert g2.document == g.document


def test_runtime_state_never_leaks_into_saved_files(data_dir, registry, tmp_path):
    g = Graph.load(data_dir / "brepflow_multi.bflow.json", registry=registry)
    g.parameters["n"] = 2
    g.parameters["L"] = 10
    g.parameters["wall"] = 1
    before = g.dumps()
    g.evaluate()
    assert g.dumps() == before
    text = g.save(tmp_path / "x.bflow.json").read_text()
    for word in ("status", "outputs", "seconds", "cached", "error"):
        assert word not in text


def test_save_is_atomic_when_the_write_crashes(registry, tmp_path, monkeypatch):
    target = tmp_path / "part.bflow.json"
    g = Graph.new()
    g.registry = registry
    g.add("Demo::Const", id="a", value=1)
    g.save(target)
    good = target.read_text()
    g.add("Demo::Const", id="b", value=2)

    def crash(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk on fire"):
        g.save(target)
    assert target.read_text() == good  # the old graph is intact
    assert [p.name for p in tmp_path.iterdir()] == ["part.bflow.json"]  # no temp files left


def test_save_without_path_needs_one(registry):
    g = Graph.new()
    with pytest.raises(ValueError, match="pass a path"):
        g.save()


def test_dirty_flag_tracks_edits(registry, tmp_path):
    g = Graph.new()
    g.registry = registry
    g.add("Demo::Const", id="a")
    assert g.dirty
    g.save(tmp_path / "a.bflow.json")
    assert not g.dirty
    g.node("a").params["value"] = 3
    assert g.dirty


def test_malformed_json_names_line_and_column(tmp_path):
    p = tmp_path / "bad.bflow.json"
    p.write_text('{"version": "0.1.0",\n  "units": mm}')
    with pytest.raises(GraphError) as info:
        bflow.load(p)
    assert info.value.problems[0].code is ErrorCode.FILE_MALFORMED
    assert "line 2" in str(info.value)


def test_missing_file():
    with pytest.raises(GraphError) as info:
        bflow.load("/nonexistent/x.bflow.json")
    assert info.value.problems[0].code is ErrorCode.FILE_NOT_FOUND


def test_schema_violations_are_all_collected():
    data = {
        "version": "one",
        "units": "furlong",
        "tolerance": 5,
        "nodes": [{"id": "a", "type": "Demo::Const", "inputs": {"x": {"nodeId": "b"}}, "params": {}}, {"type": "X"}],
        "edges": [{"id": "e1", "source": "a"}],
    }
    with pytest.raises(GraphError) as info:
        bflow.parse(data)
    text = str(info.value)
    problems = info.value.problems
    assert len(problems) >= 6
    assert all(p.code is ErrorCode.SCHEMA_INVALID for p in problems)
    for fragment in ("version", "units", "tolerance", "nodes[1]", "edges[0]", "nodes[0].inputs.x"):
        assert fragment in text, fragment
    assert any(p.node_id == "a" for p in problems)


def test_missing_required_keys():
    with pytest.raises(GraphError) as info:
        bflow.parse({"nodes": []})
    text = str(info.value)
    for key in ("version", "units", "tolerance", "edges"):
        assert key in text


def test_newer_major_version_is_refused_clearly():
    with pytest.raises(GraphError, match="newer than this BrepFlow Lab"):
        bflow.parse({"version": "7.0.0", "units": "mm", "tolerance": 0.001, "nodes": [], "edges": []})


def test_not_an_object():
    with pytest.raises(GraphError, match="JSON object"):
        bflow.loads("[1, 2, 3]")


def test_schema_ships_in_the_package():
    s = bflow.schema()
    assert s["required"] == ["version", "units", "tolerance", "nodes", "edges"]
