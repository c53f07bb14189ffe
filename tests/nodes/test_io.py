"""IO nodes and kernel exchange: real files, round trips, safe paths, clear errors."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import cadquery as cq
import pytest

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.kernel.exchange import export_shape, import_parts, import_shape
from brepflow_lab.kernel.part import Part
from brepflow_lab.nodes.registry import catalogue
from brepflow_lab.nodes.testing import run_node


@pytest.fixture(scope="module")
def filleted_box() -> cq.Shape:
    shape = cq.Workplane().box(10, 20, 30).edges().fillet(2).val()
    assert shape.isValid()
    return shape


@pytest.fixture(scope="module")
def parts(filleted_box: cq.Shape) -> list[Part]:
    cylinder = cq.Solid.makeCylinder(5, 10, cq.Vector(30, 0, 0))
    return [
        Part(filleted_box, name="box", color=(1.0, 0.0, 0.0, 1.0)),
        Part(cylinder, name="pin", color=(0.0, 0.0, 1.0, 1.0)),
    ]


def _volume(value: object) -> float:
    shape = value.shape if isinstance(value, Part) else value
    return sum(s.Volume() for s in shape.Solids())


@pytest.mark.parametrize(
    ("node_type", "ext", "rel"),
    [("STEP", "step", 1e-6), ("IGES", "iges", 1e-6), ("BREP", "brep", 1e-9), ("STL", "stl", 5e-3)],
)
def test_export_then_import_round_trip(
    tmp_path: Path, filleted_box: cq.Shape, node_type: str, ext: str, rel: float
) -> None:
    out = run_node(
        f"IO::Export{node_type}",
        {"shapes" if node_type != "STL" else "shape": filleted_box},
        output_dir=tmp_path,
        filepath=f"sub/dir/model.{ext}",
    )
    path = Path(out["path"])
    assert out["success"] is True
    assert path == tmp_path / "sub" / "dir" / f"model.{ext}"
    assert path.is_file() and path.stat().st_size > 0
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind
    back = run_node(f"IO::Import{node_type}", base_dir=tmp_path, filepath=f"sub/dir/model.{ext}")
    shape = back["shape"]
    assert shape.isValid()
    assert len(shape.Solids()) == 1  # STL: the closed mesh is sewn into a solid
    assert _volume(shape) == pytest.approx(filleted_box.Volume(), rel=rel)
    assert len(back["shapes"]) == 1


def test_stl_ascii_and_binary(tmp_path: Path, filleted_box: cq.Shape) -> None:
    ascii_out = run_node("IO::ExportSTL", {"shape": filleted_box}, output_dir=tmp_path, filepath="a.stl", binary=False)
    binary_out = run_node(
        "IO::ExportSTL", {"shape": filleted_box}, output_dir=tmp_path, filepath="b.stl", deflection=0.5
    )
    assert Path(ascii_out["path"]).read_bytes().startswith(b"solid")
    data = Path(binary_out["path"]).read_bytes()
    triangles = struct.unpack("<I", data[80:84])[0]
    assert triangles > 12 and len(data) == 84 + 50 * triangles
    fine = run_node(
        "IO::ExportSTL", {"shape": cq.Solid.makeSphere(10)}, output_dir=tmp_path, filepath="fine.stl", deflection=0.01
    )
    coarse = run_node(
        "IO::ExportSTL",
        {"shape": cq.Solid.makeSphere(10)},
        output_dir=tmp_path,
        filepath="coarse.stl",
        deflection=1.0,
        angularDeflection=45,
    )
    assert Path(fine["path"]).stat().st_size > Path(coarse["path"]).stat().st_size


def test_step_keeps_names_and_colours(tmp_path: Path, parts: list[Part]) -> None:
    out = run_node("IO::ExportSTEP", {"shapes": parts}, output_dir=tmp_path, filepath="assy.step")
    back = run_node("IO::ImportSTEP", base_dir=tmp_path, filepath="assy.step")
    items = back["shapes"]
    assert sorted(p.name for p in items) == ["box", "pin"]
    by_name = {p.name: p for p in items}
    assert by_name["box"].color == pytest.approx((1.0, 0.0, 0.0, 1.0))
    assert by_name["pin"].color == pytest.approx((0.0, 0.0, 1.0, 1.0))
    assert _volume(by_name["pin"]) == pytest.approx(_volume(parts[1]), rel=1e-6)
    assert by_name["pin"].shape.Center().x == pytest.approx(30, abs=1e-6)  # placement kept
    assert "box" in Path(out["path"]).read_text()


def test_iges_keeps_colours(tmp_path: Path, parts: list[Part]) -> None:
    run_node("IO::ExportIGES", {"shapes": parts}, output_dir=tmp_path, filepath="assy.igs")
    items = run_node("IO::ImportIGES", base_dir=tmp_path, filepath="assy.igs")["shapes"]
    assert len(items) == 2
    colours = sorted(p.color for p in items)
    assert colours[0] == pytest.approx((0.0, 0.0, 1.0, 1.0))
    assert colours[1] == pytest.approx((1.0, 0.0, 0.0, 1.0))
    assert sum(_volume(p) for p in items) == pytest.approx(sum(_volume(p) for p in parts), rel=1e-6)


def _glb_json(path: Path) -> dict:
    data = path.read_bytes()
    assert data[:4] == b"glTF"
    version, length = struct.unpack("<II", data[4:12])
    assert version == 2 and length == len(data)
    chunk_length, chunk_type = struct.unpack("<II", data[12:20])
    assert chunk_type == 0x4E4F534A  # 'JSON'
    return json.loads(data[20 : 20 + chunk_length])


def test_glb_export(tmp_path: Path, parts: list[Part]) -> None:
    out = run_node("IO::ExportGLTF", {"shapes": parts}, output_dir=tmp_path, filepath="model.glb")
    document = _glb_json(Path(out["path"]))
    assert len(document["meshes"]) == 2
    assert sorted(n["name"] for n in document["nodes"] if "mesh" in n) == ["box", "pin"]
    colours = sorted(tuple(m["pbrMetallicRoughness"]["baseColorFactor"]) for m in document["materials"])
    assert colours == [(0.0, 0.0, 1.0, 1.0), (1.0, 0.0, 0.0, 1.0)]
    # metres, +Y up: the box is 10 x 20 x 30 mm (x, y, z), so in glTF 0.01 x 0.03 x 0.02 m (x, y, z)
    box_node = next(n for n in document["nodes"] if n.get("name") == "box")
    accessors = [
        document["accessors"][p["attributes"]["POSITION"]] for p in document["meshes"][box_node["mesh"]]["primitives"]
    ]
    lo = [min(a["min"][i] for a in accessors) for i in range(3)]
    hi = [max(a["max"][i] for a in accessors) for i in range(3)]
    assert [h - low for h, low in zip(hi, lo)] == pytest.approx([0.01, 0.03, 0.02], rel=1e-6)


def test_gltf_text_export_writes_bin_next_to_it(tmp_path: Path, filleted_box: cq.Shape) -> None:
    out = run_node("IO::ExportGLTF", {"shapes": filleted_box}, output_dir=tmp_path, filepath="m/model.gltf")
    path = Path(out["path"])
    document = json.loads(path.read_text())
    uri = document["buffers"][0]["uri"]
    assert (path.parent / uri).is_file()
    assert len(document["meshes"]) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(["model.gltf", uri])


def test_3mf_export(tmp_path: Path, parts: list[Part]) -> None:
    out = run_node("IO::Export3MF", {"shapes": parts}, output_dir=tmp_path, filepath="print.3mf")
    with zipfile.ZipFile(out["path"]) as archive:
        assert "3D/3dmodel.model" in archive.namelist()
        assert "[Content_Types].xml" in archive.namelist()
        model = archive.read("3D/3dmodel.model").decode()
    import xml.etree.ElementTree as ET

    ns = {"m": "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"}
    root = ET.fromstring(model)
    objects = root.findall(".//m:object", ns)
    assert [o.get("name") for o in objects] == ["box", "pin"]
    assert len(root.findall(".//m:vertex", ns)) > 8
    assert len(root.findall(".//m:triangle", ns)) > 12
    assert [b.get("displaycolor") for b in root.findall(".//m:base", ns)] == ["#FF0000FF", "#0000FFFF"]
    assert len(root.findall(".//m:build/m:item", ns)) == 2


def test_export_node_specs() -> None:
    for node_type in (
        "IO::ExportSTEP",
        "IO::ExportSTL",
        "IO::ExportGLTF",
        "IO::Export3MF",
        "IO::ExportBREP",
        "IO::ExportIGES",
    ):
        spec = catalogue[node_type]
        assert spec.side_effects and not spec.cacheable
        assert spec.output("path") is not None and spec.output("path").type == "String"
    step = catalogue["IO::ExportSTEP"]
    assert step.param("filepath").default == "output.step" and step.param("asAssembly").default is False
    stl = catalogue["IO::ExportSTL"]
    assert (
        stl.input("shape") is not None
        and stl.param("deflection").default == 0.1
        and stl.param("binary").default is True
    )


@pytest.mark.parametrize("bad", ["/tmp/evil.step", "../evil.step", "a/../../evil.step"])
def test_path_escape_refused(tmp_path: Path, filleted_box: cq.Shape, bad: str) -> None:
    with pytest.raises(NodeError) as info:
        run_node("IO::ExportSTEP", {"shapes": filleted_box}, output_dir=tmp_path / "out", filepath=bad)
    assert info.value.code is ErrorCode.EXPORT_ERROR
    assert info.value.param == "filepath"
    with pytest.raises(NodeError) as info:
        run_node("IO::ImportSTEP", base_dir=tmp_path / "out", filepath=bad)
    assert info.value.code is ErrorCode.IMPORT_ERROR


def test_unsafe_paths_allowed_when_asked(tmp_path: Path, filleted_box: cq.Shape) -> None:
    target = tmp_path / "abs" / "model.brep"
    out = run_node(
        "IO::ExportBREP",
        {"shapes": filleted_box},
        allow_unsafe_paths=True,
        output_dir=tmp_path / "x",
        filepath=str(target),
    )
    assert Path(out["path"]) == target and target.is_file()


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "broken.step").write_text("ISO-10303-21;\nHEADER;\nthis is not step\n")
    with pytest.raises(NodeError) as info:
        run_node("IO::ImportSTEP", base_dir=tmp_path, filepath="broken.step")
    assert info.value.code is ErrorCode.IMPORT_ERROR
    assert "broken.step" in str(info.value)
    with pytest.raises(NodeError) as info:
        run_node("IO::ImportSTL", base_dir=tmp_path, filepath="missing.stl")
    assert info.value.code is ErrorCode.IMPORT_ERROR and "missing.stl" in str(info.value)
    (tmp_path / "empty.brep").write_bytes(b"")
    with pytest.raises(NodeError) as info:
        run_node("IO::ImportBREP", base_dir=tmp_path, filepath="empty.brep")
    assert info.value.code is ErrorCode.IMPORT_ERROR and "empty" in str(info.value)
    (tmp_path / "junk.brep").write_text("garbage")
    with pytest.raises(NodeError) as info:
        run_node("IO::ImportBREP", base_dir=tmp_path, filepath="junk.brep")
    assert info.value.code is ErrorCode.IMPORT_ERROR
    with pytest.raises(NodeError) as info:
        run_node("IO::ImportSTEP", base_dir=tmp_path, filepath="")
    assert info.value.code is ErrorCode.PARAM_INVALID


def test_export_error_names_file_and_cause(tmp_path: Path, filleted_box: cq.Shape) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(NodeError) as info:
        run_node("IO::ExportSTEP", {"shapes": filleted_box}, output_dir=tmp_path, filepath="blocker/model.step")
    assert info.value.code is ErrorCode.EXPORT_ERROR
    assert "blocker" in str(info.value)


def test_plain_functions(tmp_path: Path, filleted_box: cq.Shape) -> None:
    for fmt in ("step", "stl", "glb", "gltf", "3mf", "brep", "iges"):
        path = export_shape(filleted_box, tmp_path / f"f.{fmt}", fmt, tolerance=0.05, angular_tolerance=10)
        assert path.is_file() and path.stat().st_size > 0
    assert import_shape(tmp_path / "f.step").Volume() == pytest.approx(filleted_box.Volume(), rel=1e-6)
    assert import_shape(tmp_path / "f.brep", "brep").Volume() == pytest.approx(filleted_box.Volume(), rel=1e-9)
    assert len(import_parts(tmp_path / "f.iges")) == 1
    # the existing file is replaced in place
    again = export_shape(cq.Solid.makeBox(1, 1, 1), tmp_path / "f.step")
    assert import_shape(again).Volume() == pytest.approx(1.0)
    with pytest.raises(NodeError) as info:
        export_shape(filleted_box, tmp_path / "f.xyz")
    assert info.value.code is ErrorCode.EXPORT_ERROR
    with pytest.raises(NodeError) as info:
        import_shape(tmp_path / "f.glb")
    assert info.value.code is ErrorCode.IMPORT_ERROR
