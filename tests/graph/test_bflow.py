"""The .bflow.json format: round trips, extra keys, atomic saves, malformed files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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


def _killed_during_jupyter_save(path, text):
    """Run Jupyter Server's own save path and kill the process half-way through the write."""
    script = (
        "import os, sys\n"
        "from jupyter_server.services.contents.fileio import atomic_writing\n"
        "text = sys.argv[2]\n"
        "with atomic_writing(sys.argv[1]) as f:\n"
        "    f.write(text[: len(text) // 2]); f.flush()\n"
        "    os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path), text], check=False)
    assert done.returncode == 9


def test_a_file_cut_short_by_an_interrupted_jupyter_save_names_the_copies_to_recover_from(tmp_path):
    g = Graph.new()
    g.add("Solid::Box", id="box", width=40)
    path = g.save(tmp_path / "part.bflow.json")
    g.node("box").params["width"] = 90
    _killed_during_jupyter_save(path, bflow.dumps(g.document))
    backup = tmp_path / ".~part.bflow.json"
    assert backup.exists()  # what Jupyter leaves behind: the previous version
    with pytest.raises(GraphError) as info:
        bflow.load(path)
    problem = info.value.problems[0]
    assert problem.code is ErrorCode.FILE_MALFORMED
    assert problem.message.startswith("not valid JSON")
    assert f"JupyterLab kept the previous version of an interrupted save in {backup}" in problem.message
    assert bflow.load(backup).nodes[0].params["width"] == 40  # and it is whole

    # a Studio autosave version is named too; a copy that is itself broken is not
    history = tmp_path / bflow.HISTORY_DIR
    history.mkdir()
    (history / "part.bflow.json.~1~").write_text(backup.read_text())
    backup.write_text("{")
    with pytest.raises(GraphError) as info:
        bflow.load(path)
    message = info.value.problems[0].message
    assert f"the newest autosaved version is {history / 'part.bflow.json.~1~'}" in message
    assert ".~part.bflow.json" not in message


def test_a_malformed_file_without_copies_says_only_what_is_wrong(tmp_path):
    p = tmp_path / "bad.bflow.json"
    p.write_text("")
    with pytest.raises(GraphError) as info:
        bflow.load(p)
    assert [str(q) for q in info.value.problems] == [
        "[FILE_MALFORMED] not valid JSON: Expecting value at line 1, column 1"
    ]


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
