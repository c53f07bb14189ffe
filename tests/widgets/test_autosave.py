"""Autosave of graphs that came from a file: atomic, with the last N versions kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from brepflow_lab import Graph
from brepflow_lab.widgets import open as open_studio
from brepflow_lab.widgets.autosave import HISTORY_DIR, backup, history_versions, version_path

from .conftest import Driver


def part_file(tmp_path: Path) -> Path:
    g = Graph.new()
    g.add("Solid::Box", id="box", width=10, height=10, depth=10)
    return g.save(tmp_path / "part.bflow.json")


def width_on_disk(path: Path) -> float:
    return json.loads(path.read_text())["nodes"][0]["params"]["width"]


def test_edits_autosave_and_keep_the_last_versions(tmp_path: Path, make_studio) -> None:
    path = part_file(tmp_path)
    d = make_studio(Graph.load(path), autosave_delay=0, versions=3)
    assert d.studio.title == "part.bflow.json" and d.studio.dirty is False
    for width in (11, 12, 13, 14, 15):
        d.edit({"op": "set_param", "id": "box", "name": "width", "value": width})
        assert width_on_disk(path) == width
        assert d.studio.dirty is False
    versions = history_versions(path)
    assert [v.name for v in versions] == ["part.bflow.json.~1~", "part.bflow.json.~2~", "part.bflow.json.~3~"]
    assert [width_on_disk(v) for v in versions] == [14, 13, 12]  # newest first, oldest dropped
    assert versions[0].parent == tmp_path / HISTORY_DIR
    assert sorted(p.name for p in tmp_path.iterdir()) == [HISTORY_DIR, "part.bflow.json"]  # no temp files


def test_autosave_is_debounced(tmp_path: Path, make_studio) -> None:
    path = part_file(tmp_path)
    d = make_studio(Graph.load(path), autosave_delay=0.3)
    for width in (20, 21, 22):
        d.edit({"op": "set_param", "id": "box", "name": "width", "value": width})
    assert width_on_disk(path) == 10 and d.studio.dirty is True
    d.wait_for(lambda: width_on_disk(path) == 22, timeout=10)
    assert [width_on_disk(v) for v in history_versions(path)] == [10]  # one save, one version
    d.wait_for(lambda: d.studio.dirty is False, timeout=5)


def test_a_failed_save_leaves_the_file_intact(tmp_path: Path, make_studio, monkeypatch: pytest.MonkeyPatch) -> None:
    path = part_file(tmp_path)
    before = path.read_bytes()
    d = make_studio(Graph.load(path), autosave_delay=0)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    d.edit({"op": "set_param", "id": "box", "name": "width", "value": 99})
    assert path.read_bytes() == before  # the old file, whole
    assert d.studio.message["level"] == "error" and "No space left on device" in d.studio.message["text"]
    assert d.studio.dirty is True
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    leftovers += [p.name for p in (tmp_path / HISTORY_DIR).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    monkeypatch.undo()
    d.custom({"type": "save"})
    assert width_on_disk(path) == 99 and d.studio.dirty is False
    assert d.studio.message == {"level": "info", "text": "saved part.bflow.json", "seq": d.studio.message["seq"]}


def test_a_file_changed_by_someone_else_is_kept_in_the_history(tmp_path: Path, make_studio) -> None:
    path = part_file(tmp_path)
    d = make_studio(Graph.load(path), autosave_delay=0)
    outside = json.loads(path.read_text())
    outside["nodes"][0]["params"]["width"] = 77
    path.write_text(json.dumps(outside))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    d.edit({"op": "set_param", "id": "box", "name": "width", "value": 12})
    assert width_on_disk(path) == 12
    assert width_on_disk(version_path(path, 1)) == 77
    assert d.studio.message["level"] == "warning" and "changed on disk by someone else" in d.studio.message["text"]


def test_layout_and_undo_autosave_too(tmp_path: Path, make_studio) -> None:
    path = part_file(tmp_path)
    d = make_studio(Graph.load(path), autosave_delay=0)
    d.edit({"op": "move_node", "id": "box", "position": {"x": 300, "y": 10}})
    assert json.loads(path.read_text())["nodes"][0]["position"] == {"x": 300, "y": 10}
    d.custom({"type": "undo"})
    assert json.loads(path.read_text())["nodes"][0]["position"] == {"x": 0, "y": 0}


def test_untitled_graphs_are_not_autosaved(tmp_path: Path, make_studio) -> None:
    d = make_studio(Graph.new(), autosave_delay=0)
    d.edit({"op": "add_node", "type": "Solid::Box", "id": "box", "position": {"x": 0, "y": 0}})
    assert d.studio.dirty is True and d.studio.title == "untitled"
    d.custom({"type": "save"})
    assert d.studio.message["level"] == "warning"
    assert "studio.save('part.bflow.json')" in d.studio.message["text"]
    written = d.studio.save(tmp_path / "new.bflow.json")
    assert written.is_file() and d.studio.title == "new.bflow.json" and d.studio.dirty is False
    d.edit({"op": "set_param", "id": "box", "name": "width", "value": 3})  # now it autosaves
    assert width_on_disk(written) == 3


def test_open_loads_a_file_and_refuses_a_missing_one(tmp_path: Path) -> None:
    path = part_file(tmp_path)
    studio = open_studio(path, evaluate=False, autosave_delay=0)
    try:
        d = Driver(studio)
        assert studio.model.path == path and studio.graph["nodes"][0]["id"] == "box"
        d.edit({"op": "set_param", "id": "box", "name": "depth", "value": 4})
        assert json.loads(path.read_text())["nodes"][0]["params"]["depth"] == 4
    finally:
        studio.close()
    from brepflow_lab.errors import GraphError

    with pytest.raises(GraphError, match=r"no such graph file: .*missing\.bflow\.json .*create=True"):
        open_studio(tmp_path / "missing.bflow.json")
    fresh = open_studio(tmp_path / "fresh.bflow.json", create=True, evaluate=False, autosave_delay=0)
    try:
        assert not (tmp_path / "fresh.bflow.json").exists()
        Driver(fresh).edit({"op": "add_node", "type": "Solid::Sphere", "id": "ball", "position": {"x": 0, "y": 0}})
        assert json.loads((tmp_path / "fresh.bflow.json").read_text())["nodes"][0]["type"] == "Solid::Sphere"
    finally:
        fresh.close()


def test_close_flushes_a_pending_autosave(tmp_path: Path, make_studio) -> None:
    path = part_file(tmp_path)
    d = make_studio(Graph.load(path), autosave_delay=30)
    d.edit({"op": "set_param", "id": "box", "name": "width", "value": 31})
    assert width_on_disk(path) == 10
    d.studio.close()
    assert width_on_disk(path) == 31


def test_backup_rotation_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.bflow.json"
    for i in range(5):
        path.write_text(f'{{"v": {i}}}')
        backup(path, versions=2)
    assert [v.read_text() for v in history_versions(path)] == ['{"v": 4}', '{"v": 3}']
    assert backup(path, versions=2) is None  # same content as ~1~: nothing new kept
    assert backup(tmp_path / "nothing.json", versions=2) is None
