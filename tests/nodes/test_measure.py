"""Analysis and tagging nodes: bounding box, volume, area, mass properties, Utility::Material."""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from brepflow_lab.errors import ErrorCode, NodeError
from brepflow_lab.kernel.part import Part
from brepflow_lab.nodes.measure import parse_color
from brepflow_lab.nodes.testing import run_node


@pytest.fixture(scope="module")
def box() -> cq.Shape:
    return cq.Solid.makeBox(10, 20, 30, cq.Vector(1, 2, 3))


def test_bounding_box(box: cq.Shape) -> None:
    out = run_node("Analysis::BoundingBox", {"geometry": box})
    assert out["min"] == pytest.approx((1, 2, 3), abs=1e-6)
    assert out["max"] == pytest.approx((11, 22, 33), abs=1e-6)
    assert out["center"] == pytest.approx((6, 12, 18), abs=1e-6)
    assert out["size"] == pytest.approx((10, 20, 30), abs=1e-6)
    assert out["diagonal"] == pytest.approx(math.sqrt(100 + 400 + 900), rel=1e-6)
    assert out["box"]["size"] == out["size"]
    assert all(isinstance(out[k], tuple) and len(out[k]) == 3 for k in ("min", "max", "center", "size"))


def test_bounding_box_is_tight_for_curved_shapes() -> None:
    sphere = cq.Solid.makeSphere(5, angleDegrees1=-90)
    out = run_node("Analysis::BoundingBox", {"geometry": sphere})
    assert out["size"] == pytest.approx((10, 10, 10), rel=1e-6)


def test_volume_and_area(box: cq.Shape) -> None:
    out = run_node("Analysis::Volume", {"solid": box})
    assert out["volume"] == pytest.approx(6000)
    assert out["surfaceArea"] == pytest.approx(2 * (200 + 300 + 600))
    assert out["centroid"] == pytest.approx((6, 12, 18))
    face = cq.Face.makePlane(4, 5)
    area = run_node("Analysis::Area", {"geometry": face})
    assert area["area"] == pytest.approx(20)
    assert area["centroid"] == pytest.approx((0, 0, 0), abs=1e-9)
    with pytest.raises(NodeError) as info:
        run_node("Analysis::Volume", {"solid": face})
    assert info.value.code is ErrorCode.GEOM_INVALID_INPUT
    with pytest.raises(NodeError) as info:
        run_node("Analysis::Area", {"geometry": cq.Edge.makeLine(cq.Vector(0, 0, 0), cq.Vector(1, 0, 0))})
    assert info.value.code is ErrorCode.GEOM_INVALID_INPUT


def test_measure_solid_curve_and_part_mass(box: cq.Shape) -> None:
    out = run_node("Analysis::Measure", {"shape": box})
    assert out["volume"] == pytest.approx(6000)
    assert out["area"] == pytest.approx(2200)
    assert out["length"] == pytest.approx(4 * (10 + 20 + 30))
    assert out["centerOfMass"] == pytest.approx((6, 12, 18))
    assert out["mass"] == pytest.approx(6.0)  # 6 cm³ at the fallback 1 g/cm³
    steel = run_node("Analysis::Measure", {"shape": Part(box, density=7.85)})
    assert steel["mass"] == pytest.approx(6 * 7.85)  # grams
    override = run_node("Analysis::Measure", {"shape": Part(box, density=7.85)}, density=2.7)
    assert override["mass"] == pytest.approx(6 * 2.7)
    in_cm = run_node("Analysis::Measure", {"shape": box}, units="cm", density=1.0)
    assert in_cm["mass"] == pytest.approx(6000)
    circle = run_node("Analysis::Measure", {"shape": cq.Edge.makeCircle(5, cq.Vector(1, 0, 0))})
    assert circle["length"] == pytest.approx(2 * math.pi * 5)
    assert circle["volume"] == 0 and circle["area"] == 0 and circle["mass"] == 0
    assert circle["centerOfMass"] == pytest.approx((1, 0, 0), abs=1e-9)


def test_mass_properties(box: cq.Shape) -> None:
    out = run_node("Analysis::MassProperties", {"geometry": Part(box, density=2.0)})
    mass = 6000 * 1e-3 * 2.0
    assert out["mass"] == pytest.approx(mass)
    assert out["volume"] == pytest.approx(6000)
    assert out["area"] == pytest.approx(2200)
    assert out["centroid"] == pytest.approx((6, 12, 18))
    # box about its centre: Ixx = m (b² + c²) / 12
    expected = sorted([mass * (20**2 + 30**2) / 12, mass * (10**2 + 30**2) / 12, mass * (10**2 + 20**2) / 12])
    assert sorted(out["momentOfInertia"]) == pytest.approx(expected, rel=1e-6)
    assert out["inertia"][0][0] == pytest.approx(mass * (20**2 + 30**2) / 12, rel=1e-6)
    assert out["inertia"][0][1] == pytest.approx(0, abs=1e-6)
    assert len(out["principalAxes"]) == 3
    with pytest.raises(NodeError) as info:
        run_node("Analysis::MassProperties", {"geometry": cq.Face.makePlane(1, 1)})
    assert info.value.code is ErrorCode.GEOM_INVALID_INPUT


def test_material_tags(box: cq.Shape) -> None:
    out = run_node(
        "Utility::Material",
        {"shape": box},
        name="bracket",
        material="steel",
        layer="frame",
        color="#ff8000",
        density=7.85,
    )
    part = out["shape"]
    assert isinstance(part, Part)
    assert part.shape is box
    assert (part.name, part.material, part.layer, part.density) == ("bracket", "steel", "frame", 7.85)
    assert part.color == pytest.approx((1.0, 128 / 255, 0.0, 1.0))
    # empty params keep earlier tags
    again = run_node("Utility::Material", {"shape": part}, name="renamed")["shape"]
    assert (again.name, again.material, again.color) == ("renamed", "steel", part.color)
    with pytest.raises(NodeError) as info:
        run_node("Utility::Material", {"shape": box}, color="orange")
    assert info.value.code is ErrorCode.PARAM_INVALID and info.value.param == "color"
    with pytest.raises(NodeError) as info:
        run_node("Utility::Material", {"shape": box}, density=0)
    assert info.value.code is ErrorCode.PARAM_INVALID


def test_material_flows_into_mass_and_export(tmp_path, box: cq.Shape) -> None:
    part = run_node("Utility::Material", {"shape": box}, name="block", color="#00f", density=7.85)["shape"]
    assert run_node("Analysis::MassProperties", {"geometry": part})["mass"] == pytest.approx(6 * 7.85)
    run_node("IO::ExportSTEP", {"shapes": part}, output_dir=tmp_path, filepath="block.step")
    back = run_node("IO::ImportSTEP", base_dir=tmp_path, filepath="block.step")["shapes"]
    assert [(p.name, p.color) for p in back] == [("block", pytest.approx((0.0, 0.0, 1.0, 1.0)))]


def test_parse_color() -> None:
    assert parse_color("#FFF") == (1.0, 1.0, 1.0, 1.0)
    assert parse_color("00000080")[3] == pytest.approx(128 / 255)
    with pytest.raises(ValueError):
        parse_color("#12345")
