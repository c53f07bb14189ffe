"""Manifests that record how a design was made, and ``brepflow-lab reproduce`` on them (real OCCT, real CLI)."""

from __future__ import annotations

import json
import math
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from brepflow_lab import Graph, provenance

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"
SIMPLE_BOX = Path(__file__).resolve().parent / "data" / "simple_box.bflow.json"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brepflow_lab.cli", *args], capture_output=True, text=True, timeout=300
    )


def rounded_box_volume(a: float, b: float, c: float, r: float) -> float:
    """A box with every edge filleted by r: the inner box grown by a ball of radius r."""
    a, b, c = a - 2 * r, b - 2 * r, c - 2 * r
    return a * b * c + 2 * r * (a * b + b * c + a * c) + math.pi * r * r * (a + b + c) + 4 / 3 * math.pi * r**3


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The enclosure example copied into a scratch folder and rendered once with L=140."""
    folder = tmp_path_factory.mktemp("reproduce")
    graph = folder / "enclosure.bflow.json"
    shutil.copy(EXAMPLE, graph)
    out = folder / "out"
    result = cli("render", str(graph), "--set", "L=140", "--export", "step", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return graph, out / "manifest.json"


def test_render_manifest_records_how_the_design_was_made(rendered):
    graph, manifest_path = rendered
    manifest = json.loads(manifest_path.read_text())
    assert manifest["format"] == 2
    assert manifest["brepflow_lab"]["version"] == metadata.version("brepflow-lab")
    if (ROOT / ".git").exists():  # run from a checkout: the commit is recorded
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
        assert manifest["brepflow_lab"]["git_commit"] == head.stdout.strip()
    env = manifest["environment"]
    assert env["packages"]["cadquery"] == metadata.version("cadquery")
    assert env["packages"]["cadquery-ocp"] == metadata.version("cadquery-ocp")
    assert env["occt"] == ".".join(metadata.version("cadquery-ocp").split(".")[:3])
    assert env["python"] == platform.python_version() and env["machine"] == platform.machine()
    assert manifest["graph"]["path"] == str(graph.resolve())
    assert manifest["graph"]["sha256"] == provenance.file_sha256(graph)
    # every global parameter, resolved: the override and the file's defaults
    assert manifest["parameters"] == {"L": 140, "W": 80.0, "H": 40.0, "wall": 2.0, "corner": 6.0, "inset": 9.0}
    assert manifest["overrides"] == {"L": 140}


def test_reproduce_identical_then_a_changed_parameter_then_a_changed_graph(rendered, tmp_path):
    graph, manifest_path = rendered
    same = cli("reproduce", str(manifest_path))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "enclosure" in same.stdout and "identical" in same.stdout
    assert "environment: same versions as recorded" in same.stdout

    # a parameter value changed in the manifest: the shape differs, exit 1, the table names it
    manifest = json.loads(manifest_path.read_text())
    manifest["parameters"]["L"] = 150
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(manifest))
    different = cli("reproduce", str(changed))
    assert different.returncode == 1, different.stdout + different.stderr
    row = next(line for line in different.stdout.splitlines() if line.startswith("enclosure "))
    assert "different" in row
    # the volume delta is the real one: 10 mm more length (closed form in test_cli's helper)
    as_json = cli("reproduce", str(changed), "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    [shape] = report["shapes"]
    assert shape["name"] == "enclosure" and shape["status"] == "different"
    recorded = manifest["shapes"]["enclosure"]
    assert shape["volume_delta"] > 0 and shape["area_delta"] > 0
    assert shape["volume_delta"] == pytest.approx(_enclosure_volume(L=150) - recorded["volume"], rel=1e-6)

    # the graph file edited after the render: nothing to compare, exit 10
    text = graph.read_text()
    try:
        graph.write_text(text.replace('"metadata": {', '"metadata": {"edited": true, ', 1))
        edited = cli("reproduce", str(manifest_path))
        assert edited.returncode == 10, edited.stdout + edited.stderr
        assert "changed since it was rendered" in edited.stderr
        graph.unlink()
        missing = cli("reproduce", str(manifest_path))
        assert missing.returncode == 10 and "is missing" in missing.stderr
    finally:
        graph.write_text(text)


def test_reproduce_names_the_packages_that_differ(rendered, tmp_path):
    _, manifest_path = rendered
    manifest = json.loads(manifest_path.read_text())
    manifest["environment"]["packages"]["cadquery-ocp"] = "7.7.2.1"
    manifest["environment"]["occt"] = "7.7.2"
    older = tmp_path / "older-env.json"
    older.write_text(json.dumps(manifest))
    result = cli("reproduce", str(older), "--out", str(tmp_path / "again"))
    assert result.returncode == 0, result.stdout + result.stderr  # same geometry here
    assert f"cadquery-ocp: recorded 7.7.2.1, here {metadata.version('cadquery-ocp')}" in result.stdout
    assert "occt: recorded 7.7.2" in result.stdout
    # --out re-exports the recorded formats and writes a manifest of this run
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["reproduces"] == str(older.resolve())
    assert again["shapes"]["enclosure"]["fingerprint"] == manifest["shapes"]["enclosure"]["fingerprint"]
    assert (tmp_path / "again" / "enclosure.step").read_text(errors="replace").startswith("ISO-10303-21")


def test_reproduce_refuses_a_file_that_is_not_a_render_manifest(tmp_path):
    bogus = tmp_path / "manifest.json"
    bogus.write_text(json.dumps({"graph": "/somewhere/old.bflow.json", "shapes": {}}))
    result = cli("reproduce", str(bogus))
    assert result.returncode == 64 and "not a render manifest" in result.stderr


def test_a_shape_that_feeds_an_export_node_is_in_the_manifest(tmp_path):
    """BrepFlow's simple-box: Box -> Fillet -> IO::ExportSTEP. The fillet is the result."""
    graph = tmp_path / "simple-box.bflow.json"
    shutil.copy(SIMPLE_BOX, graph)
    out = tmp_path / "out"
    result = cli("render", str(graph), "--export", "step", "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    fillet = manifest["shapes"]["fillet"]
    assert fillet["valid"] is True and fillet["counts"]["solids"] == 1
    assert fillet["volume"] == pytest.approx(rounded_box_volume(100, 60, 40, 5), rel=1e-6)
    assert fillet["counts"]["faces"] == 26  # 6 flat faces, 12 edge fillets, 8 corner patches
    by_node = {e["node"]: e for e in manifest["exports"]}
    # the export node's own file names the shape it came from
    assert by_node["export"]["shape"] == "fillet" and by_node["export"]["path"] == "simple-box.step"
    assert by_node["fillet"]["shape"] == "fillet"
    assert (out / "simple-box.step").is_file()
    assert cli("reproduce", str(out / "manifest.json")).returncode == 0


def test_evaluate_results_carry_the_same_record(tmp_path):
    graph = tmp_path / "enclosure.bflow.json"
    shutil.copy(EXAMPLE, graph)
    g = Graph.load(graph)
    r = g.evaluate(parameters={"L": 130})
    made = r.provenance
    assert made is not None
    assert made["graph"]["sha256"] == provenance.file_sha256(graph)
    assert made["parameters"]["L"] == 130 and made["parameters"]["W"] == 80
    assert made["environment"]["packages"]["cadquery"] == metadata.version("cadquery")
    before = made["graph"]["document_sha256"]
    # an edit in memory changes what was evaluated, not the file: both are told apart
    g.parameters["W"] = 90
    edited = g.evaluate().provenance
    assert edited["graph"]["sha256"] == made["graph"]["sha256"]
    assert edited["graph"]["document_sha256"] != before
    # a graph never saved has no file hash, but still says what was evaluated
    fresh = Graph.new()
    fresh.add("Solid::Box", width=1, height=2, depth=3)
    unsaved = fresh.evaluate().provenance
    assert unsaved["graph"]["path"] is None and unsaved["graph"]["sha256"] is None
    assert len(unsaved["graph"]["document_sha256"]) == 64


def _enclosure_volume(L=120.0, W=80.0, H=40.0, t=2.0, r=6.0, rb=3.5, rh=1.25) -> float:
    a_out = L * W - (4 - math.pi) * r**2
    a_in = (L - 2 * t) * (W - 2 * t) - (4 - math.pi) * (r - t) ** 2
    shell = H * a_out - (H - t) * a_in
    inside = H - 2 * t
    return shell + 4 * math.pi * rb**2 * inside - 4 * math.pi * rh**2 * inside
