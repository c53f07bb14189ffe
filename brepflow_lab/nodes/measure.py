"""Measuring and tagging nodes: bounding box, volume, area, mass properties, material tags.

``Analysis::BoundingBox``, ``Analysis::Volume``, ``Analysis::Area`` and
``Analysis::MassProperties`` keep BrepFlow's names (``analysis.ts``); BrepFlow's ``Point``
outputs are ``Vector`` tuples here. ``Analysis::Measure`` (everything at once) and
``Utility::Material`` (name / material / layer / colour / density tags that exports carry)
are ours.

Units: lengths, areas and volumes are in graph units; masses are in grams, from densities
in g/cm³ — with graph units in mm, mass[g] = volume[mm³] × density[g/cm³] / 1000.
Where a mass needs a density, the node's ``density`` param wins; left empty, the Part's
density (set by ``Utility::Material``) is used, else 1.0 g/cm³ (water).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.kernel import measure
from brepflow_lab.kernel.part import Part
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__ = ["parse_color"]

_DENSITY_HELP = (
    "density in g/cm³ (steel 7.85, aluminium 2.70, PLA 1.24); empty = the Part's density from "
    "Utility::Material, else 1.0. Mass is in grams (graph units mm: g = mm³ × g/cm³ / 1000)"
)


def _density_param(default: float | None = None) -> ParamSpec:
    return ParamSpec(
        "density", default=default, optional=True, min=0.001, max=100000, label="Density (g/cm³)", help=_DENSITY_HELP
    )


def _density(value: Any, param: float | None) -> float:
    if param is not None:
        return float(param)
    if isinstance(value, Part) and value.density is not None:
        return float(value.density)
    return 1.0


@node(
    "Analysis::BoundingBox",
    inputs=[InputSpec("geometry", "Shape", help="shape to measure")],
    outputs=[
        OutputSpec("box", "Data", help="{'min', 'max', 'center', 'size', 'diagonal'}"),
        OutputSpec("min", "Vector", help="lowest corner (x, y, z)"),
        OutputSpec("max", "Vector", help="highest corner (x, y, z)"),
        OutputSpec("center", "Vector", help="centre of the box"),
        OutputSpec("size", "Vector", help="extent along x, y and z"),
        OutputSpec("diagonal", "Number", help="length of the box diagonal"),
    ],
    params=[
        ParamSpec(
            "alignment",
            "enum",
            default="world",
            choices=("world",),
            help="'world': box aligned with the X, Y, Z axes (the only alignment supported so far)",
        )
    ],
    description="Tight axis-aligned bounding box of a shape.",
)
def bounding_box(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    result = measure.bounds(ctx, inputs["geometry"])
    return {"box": dict(result), **result}


@node(
    "Analysis::Volume",
    inputs=[InputSpec("solid", "Solid", help="solid to measure")],
    outputs=[
        OutputSpec("volume", "Number", help="volume in cubic graph units"),
        OutputSpec("centroid", "Vector", help="centre of mass (uniform density)"),
        OutputSpec("surfaceArea", "Number", help="area of all faces in square graph units"),
    ],
    description="Volume, centre of mass and surface area of a solid.",
)
def volume(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    result = measure.measure(ctx, inputs["solid"])
    return {"volume": result["volume"], "centroid": result["centroid"], "surfaceArea": result["area"]}


@node(
    "Analysis::Area",
    inputs=[InputSpec("geometry", "Shape", help="shape whose faces are measured")],
    outputs=[
        OutputSpec("area", "Number", help="area of all faces in square graph units"),
        OutputSpec("centroid", "Vector", help="area centroid of the faces"),
    ],
    params=[
        ParamSpec(
            "worldSpace",
            "boolean",
            default=True,
            help="kept for BrepFlow files; shapes are always measured where they are placed",
        )
    ],
    description="Surface area of a shape's faces and their centroid.",
)
def area(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    value = inputs["geometry"]
    result = measure.measure(ctx, value)
    if result["area"] <= 0:
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the shape has no faces, so it has no area")
    return {"area": result["area"], "centroid": measure.face_centroid(value)}


@node(
    "Analysis::MassProperties",
    inputs=[InputSpec("geometry", "Shape", keep_parts=True, help="solid (or Part) to analyse")],
    outputs=[
        OutputSpec("volume", "Number", help="volume in cubic graph units"),
        OutputSpec("area", "Number", help="surface area in square graph units"),
        OutputSpec("mass", "Number", help="mass in grams"),
        OutputSpec("centroid", "Vector", help="centre of mass"),
        OutputSpec("inertia", "Data", help="3×3 inertia tensor about the centre of mass, g·unit²"),
        OutputSpec("momentOfInertia", "Vector", help="principal moments of inertia, g·unit²"),
        OutputSpec("principalAxes", "Data", help="the three principal axes (unit vectors)"),
    ],
    params=[_density_param()],
    description="Volume, area, mass, centre of mass and inertia of a solid.",
)
def mass_properties(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    value = inputs["geometry"]
    return measure.mass_properties(ctx, value, _density(value, params["density"]))


@node(
    "Analysis::Measure",
    inputs=[InputSpec("shape", "Shape", keep_parts=True, help="shape or Part to measure")],
    outputs=[
        OutputSpec("volume", "Number", help="volume of the solids (0 for surfaces and curves)"),
        OutputSpec("area", "Number", help="area of the faces (0 for curves)"),
        OutputSpec("length", "Number", help="total length of all edges"),
        OutputSpec("centerOfMass", "Vector", help="centre of mass of the highest dimension present"),
        OutputSpec("mass", "Number", help="volume × density, in grams (0 without solids)"),
    ],
    params=[_density_param()],
    description="Volume, area, edge length, centre of mass and mass of any shape.",
)
def measure_node(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    value = inputs["shape"]
    result = measure.measure(ctx, value)
    mass = measure.mass_of(result["volume"], _density(value, params["density"]), ctx.units)
    return {
        "volume": result["volume"],
        "area": result["area"],
        "length": result["length"],
        "centerOfMass": result["centroid"],
        "mass": mass,
    }


_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def parse_color(text: str) -> tuple[float, float, float, float]:
    """'#rgb', '#rrggbb' or '#rrggbbaa' -> RGBA in 0..1. Raises ValueError."""
    match = _HEX.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a colour; use hex like '#ff8800' or '#ff880080'")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    if len(digits) == 6:
        digits += "ff"
    r, g, b, a = (int(digits[i : i + 2], 16) / 255 for i in range(0, 8, 2))
    return (r, g, b, a)


@node(
    "Utility::Material",
    inputs=[InputSpec("shape", "Shape", keep_parts=True, help="shape or Part to tag")],
    outputs=[OutputSpec("shape", "Shape", help="the same geometry as a Part carrying the tags")],
    params=[
        ParamSpec(
            "name", "string", default="", help="part name written to STEP / glTF / 3MF; empty keeps the current one"
        ),
        ParamSpec(
            "material", "string", default="", help="material name (e.g. 'steel S235'); empty keeps the current one"
        ),
        ParamSpec("layer", "string", default="", help="layer name; empty keeps the current one"),
        ParamSpec(
            "color",
            "string",
            default="",
            help="display colour as hex '#rrggbb' (or '#rgb', '#rrggbbaa' with alpha); empty keeps the current one",
        ),
        ParamSpec(
            "density",
            default=None,
            optional=True,
            min=0,
            min_exclusive=True,
            label="Density (g/cm³)",
            help="density in g/cm³ used for masses (steel 7.85, aluminium 2.70); empty keeps the current one",
        ),
    ],
    description="Tag a shape with name, material, layer, colour and density (carried into exports).",
)
def material(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    value = inputs["shape"]
    part = value if isinstance(value, Part) else Part(value)
    changes: dict[str, Any] = {}
    for key in ("name", "material", "layer"):
        text = params[key].strip()
        if text:
            changes[key] = text
    if params["color"].strip():
        try:
            changes["color"] = parse_color(params["color"])
        except ValueError as exc:
            raise ctx.error(ErrorCode.PARAM_INVALID, str(exc), param="color") from None
    if params["density"] is not None:
        changes["density"] = float(params["density"])
    return {"shape": replace(part, **changes)}
