"""The brepflow-lab command line, run as a real subprocess on real OCCT."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brepflow_lab.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def enclosure_volume(L=120.0, W=80.0, H=40.0, t=2.0, r=6.0, rb=3.5, rh=1.25) -> float:
    """Closed form of examples/enclosure.bflow.json: rounded open shell + 4 bosses - 4 holes."""
    a_out = L * W - (4 - math.pi) * r**2
    a_in = (L - 2 * t) * (W - 2 * t) - (4 - math.pi) * (r - t) ** 2
    shell = H * a_out - (H - t) * a_in
    inside = H - 2 * t  # bosses and holes between the floor and the boss tops
    return shell + 4 * math.pi * rb**2 * inside - 4 * math.pi * rh**2 * inside


def test_render_example_with_set_matches_closed_form(tmp_path):
    out = tmp_path / "out"
    result = cli(
        "render", str(EXAMPLE), "--set", "L=140", "--set", "wall=2.5", "--export", "step,stl,glb", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["L"] == 140 and manifest["parameters"]["wall"] == 2.5
    assert all(n["status"] == "ok" for n in manifest["nodes"].values())
    shape = manifest["shapes"]["enclosure"]
    assert shape["valid"] is True
    assert shape["volume"] == pytest.approx(enclosure_volume(L=140, t=2.5), rel=1e-6)
    assert shape["bbox"]["max"] == pytest.approx([140, 80, 40])
    assert shape["counts"]["solids"] == 1
    assert len(shape["fingerprint"]) == 64
    formats = sorted(e["format"] for e in manifest["exports"])
    assert formats == ["glb", "step", "stl"]
    for e in manifest["exports"]:
        data = (out / e["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"] and len(data) == e["bytes"] > 0
    assert (out / "enclosure.glb").read_bytes()[:4] == b"glTF"
    assert (out / "enclosure.step").read_text(errors="replace").startswith("ISO-10303-21")


def test_default_parameters_match_closed_form(tmp_path):
    result = cli("render", str(EXAMPLE), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    shape = json.loads((tmp_path / "manifest.json").read_text())["shapes"]["enclosure"]
    assert shape["volume"] == pytest.approx(enclosure_volume(), rel=1e-6)


def test_fingerprint_is_identical_across_processes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("render", str(EXAMPLE), "--out", str(a)).returncode == 0
    assert cli("render", str(EXAMPLE), "--out", str(b)).returncode == 0
    fa = json.loads((a / "manifest.json").read_text())["shapes"]["enclosure"]["fingerprint"]
    fb = json.loads((b / "manifest.json").read_text())["shapes"]["enclosure"]["fingerprint"]
    assert fa == fb
    c = tmp_path / "c"
    assert cli("render", str(EXAMPLE), "--set", "L=121", "--out", str(c)).returncode == 0
    assert json.loads((c / "manifest.json").read_text())["shapes"]["enclosure"]["fingerprint"] != fa


def test_brepflow_file_needs_its_parameters_and_takes_them_from_set(tmp_path):
    path = DATA / "brepflow_enclosure.bflow.json"
    bad = cli("validate", str(path))
    assert bad.returncode == 10
    for name in ("@L", "@W", "@H", "@wall"):
        assert name in bad.stderr
    assert "Traceback" not in bad.stderr
    ok = cli("validate", str(path), "--set", "L=120", "--set", "W=80", "--set", "H=40", "--set", "wall=2")
    assert ok.returncode == 0, ok.stderr
    result = cli(
        "render",
        str(path),
        "--set",
        "L=120",
        "--set",
        "W=80",
        "--set",
        "H=40",
        "--set",
        "wall=2",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["nodes"]["boss_pattern"]["status"] == "ok"

    import cadquery as cq  # the same model written by hand, as the reference

    box = cq.Workplane().box(120, 80, 40, centered=False).faces(">Z").shell(-2).val().Solids()[0]
    bosses = [cq.Solid.makeCylinder(4, 40, cq.Vector(10 + 30 * i, 10, 0)) for i in range(4)]
    reference = box.fuse(*bosses).clean()
    shape = manifest["shapes"]["union"]
    assert shape["volume"] == pytest.approx(reference.Volume(), rel=1e-6)
    assert shape["valid"]


def test_partly_broken_graph_exports_the_rest_and_exits_2(tmp_path):
    result = cli("render", str(DATA / "partly_broken.bflow.json"), "--export", "step,stl", "--out", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    nodes = manifest["nodes"]
    assert nodes["too_round"]["status"] == "failed"
    assert nodes["too_round"]["error"]["code"] == "GEOM_FILLET_FAIL"
    assert "30" in nodes["too_round"]["error"]["message"] and "too_round" in nodes["too_round"]["error"]["message"]
    assert nodes["after"]["status"] == "skipped"
    assert nodes["nothing"]["error"]["code"] == "GEOM_EMPTY_RESULT"
    assert nodes["ball"]["status"] == "ok"
    assert manifest["shapes"]["ball"]["volume"] == pytest.approx(4 / 3 * math.pi * 7**3, rel=1e-6)
    assert {(e["node"], e["format"]) for e in manifest["exports"]} == {("ball", "step"), ("ball", "stl")}
    assert "GEOM_FILLET_FAIL" in result.stderr or "too large" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"version": "0.1.0", "units": ', "not valid JSON"),
        ('{"version": "1", "units": "yards", "tolerance": 0.001, "nodes": [], "edges": []}', "units"),
        ("[]", "JSON object"),
    ],
)
def test_invalid_files_exit_10_without_traceback(tmp_path, content, expected):
    path = tmp_path / "bad.bflow.json"
    path.write_text(content)
    for command in ("render", "validate", "info"):
        args = [command, str(path)] + (["--out", str(tmp_path / "o")] if command == "render" else [])
        result = cli(*args)
        assert result.returncode == 10, (command, result.stderr)
        assert expected in result.stderr
        assert "Traceback" not in result.stderr


def test_semantic_errors_are_all_listed_and_the_rest_renders(tmp_path):
    path = tmp_path / "semantic.bflow.json"
    path.write_text(
        json.dumps(
            {
                "version": "0.1.0",
                "units": "mm",
                "tolerance": 0.001,
                "nodes": [
                    {"id": "x", "type": "Solid::Bx", "inputs": {}, "params": {}},
                    {"id": "r", "type": "Solid::Sphere", "inputs": {}, "params": {"radius": "@missing"}},
                    {"id": "ok", "type": "Solid::Sphere", "inputs": {}, "params": {"radius": 3}},
                ],
                "edges": [],
            }
        )
    )
    result = cli("render", str(path), "--out", str(tmp_path / "o"))
    assert result.returncode == 10
    assert "UNKNOWN_NODE_TYPE" in result.stderr and "Solid::Box" in result.stderr  # with a suggestion
    assert "@missing" in result.stderr
    assert (tmp_path / "o" / "ok.step").is_file()


def test_missing_file_exits_10():
    result = cli("validate", "/nonexistent/graph.bflow.json")
    assert result.returncode == 10 and "no such graph file" in result.stderr


def test_info_lists_nodes_and_parameters():
    result = cli("info", str(EXAMPLE))
    assert result.returncode == 0
    assert "@L = 120 mm" in result.stdout and "Features::Shell" in result.stdout and "units mm" in result.stdout
    data = json.loads(cli("info", str(EXAMPLE), "--json").stdout)
    assert data["parameters"]["wall"]["value"] == 2 and len(data["nodes"]) == 15


def test_nodes_json_lists_the_whole_catalogue():
    result = cli("nodes", "--json")
    assert result.returncode == 0
    specs = {n["type"]: n for n in json.loads(result.stdout)["nodes"]}
    for required in (
        "Solid::Box", "Solid::Cylinder", "Solid::Sphere", "Solid::Cone", "Solid::Torus", "Solid::Extrude",
        "Solid::Revolve", "Solid::Sweep", "Solid::Loft", "Boolean::Union", "Boolean::Subtract",
        "Boolean::Intersect", "Features::Fillet", "Features::Chamfer", "Features::Shell", "Features::Draft",
        "Features::Offset", "Transform::Move", "Transform::Rotate", "Transform::Scale", "Transform::Mirror",
        "Transform::ArrayLinear", "Transform::ArrayCircular", "Sketch::Line", "Sketch::Circle",
        "Sketch::Rectangle", "Sketch::Arc", "Sketch::Point", "Sketch::Ellipse", "Sketch::Polygon",
        "Sketch::Polyline", "Sketch::Spline", "Sketch::Offset2D", "Sketch::Fillet2D", "IO::ImportSTEP",
        "IO::ImportIGES", "IO::ImportSTL", "IO::ExportSTEP", "IO::ExportSTL", "IO::ExportGLTF",
        "IO::Export3MF", "IO::ExportBREP", "IO::ExportIGES", "Utility::Material", "Analysis::Measure",
        "Analysis::BoundingBox",
    ):  # fmt: skip
        assert required in specs, required
    box = specs["Solid::Box"]
    defaults = {p["name"]: p["default"] for p in box["params"]}
    assert (defaults["width"], defaults["height"], defaults["depth"]) == (100, 60, 40)
    assert [o["name"] for o in box["outputs"]] == ["shape"]
    fillet = {p["name"]: p for p in specs["Features::Fillet"]["params"]}
    assert ">Z" in fillet["edges"]["help"] and fillet["radius"]["help"]
    assert all(p["help"] for spec in specs.values() for p in spec["params"]), "every param has help text"


def test_render_unknown_format_is_a_usage_error(tmp_path):
    result = cli("render", str(EXAMPLE), "--export", "dwg", "--out", str(tmp_path))
    assert result.returncode == 64 and "dwg" in result.stderr
