"""Measuring shapes: bounding boxes, volume / area / length, centres, mass properties.

All values are in graph units (lengths, areas, volumes) except mass, which is in grams:
densities are in g/cm³ (the unit material tables use), and the graph unit tells how many
cm³ one cubic graph unit is (1 mm³ = 0.001 cm³, so mass[g] = volume[mm³] × ρ[g/cm³] / 1000).

The centre of a shape is its centre of mass with uniform density, taken over the highest
dimension present: solids by volume, else faces by area, else edges by length, else the
mean of the vertices.
"""

from __future__ import annotations

import math
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.core.units import CM3_PER_CUBIC_UNIT  # re-exported: grams from volumes
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.context import KernelContext
from brepflow_lab.kernel.part import shape_of

__all__ = ["CM3_PER_CUBIC_UNIT", "Vector3", "bounds", "face_centroid", "mass_of", "mass_properties", "measure"]

Vector3 = tuple[float, float, float]

#: cm³ in one cubic graph unit


def _vec(p: Any) -> Vector3:
    return (float(p.X()), float(p.Y()), float(p.Z()))


def bounds(ctx: KernelContext, value: Any) -> dict[str, Any]:
    """Tight axis-aligned bounds: min, max, center, size (vectors) and diagonal (number)."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    shape = shape_of(value)
    box = Bnd_Box()
    try:
        BRepBndLib.AddOptimal_s(shape.wrapped, box, False, False)
    except Exception:  # optimal boxes need geometry OCCT can evaluate; fall back to the fast one
        box = Bnd_Box()
        BRepBndLib.Add_s(shape.wrapped, box, True)
    if box.IsVoid():
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the shape is empty: it has no bounding box")
    lo, hi = _vec(box.CornerMin()), _vec(box.CornerMax())
    size = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
    center = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)
    return {"min": lo, "max": hi, "center": center, "size": size, "diagonal": math.hypot(*size)}


def _props(shape: Any, kind: str) -> Any:
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    props = GProp_GProps()
    if kind == "volume":
        BRepGProp.VolumeProperties_s(shape.wrapped, props)
    elif kind == "area":
        BRepGProp.SurfaceProperties_s(shape.wrapped, props)
    else:
        BRepGProp.LinearProperties_s(shape.wrapped, props)
    return props


def measure(ctx: KernelContext, value: Any) -> dict[str, Any]:
    """volume (solids), area (faces), length (total edge length), centroid."""
    shape = shape_of(value)
    solids = shape.Solids()
    volume = sum(_props(s, "volume").Mass() for s in solids) if solids else 0.0
    faces = shape.Faces()
    area = _props(shape, "area").Mass() if faces else 0.0
    edges = shape.Edges()
    # per distinct edge: LinearProperties of a solid would count every edge once per face
    length = sum(_props(e, "length").Mass() for e in edges)
    if solids and volume > 0:
        centroid = _weighted_centre([(_props(s, "volume")) for s in solids])
    elif faces and area > 0:
        centroid = _vec(_props(shape, "area").CentreOfMass())
    elif edges and length > 0:
        centroid = _vec(_props(shape, "length").CentreOfMass())
    else:
        points = [v.toTuple() for v in shape.Vertices()]
        if not points:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the shape is empty: nothing to measure")
        n = len(points)
        centroid = (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n, sum(p[2] for p in points) / n)
    return {"volume": volume, "area": area, "length": length, "centroid": centroid}


def face_centroid(value: Any) -> Vector3:
    """Area centroid of a shape's faces."""
    return _vec(_props(shape_of(value), "area").CentreOfMass())


def _weighted_centre(props: list[Any]) -> Vector3:
    total = sum(p.Mass() for p in props)
    sums = [0.0, 0.0, 0.0]
    for p in props:
        c = _vec(p.CentreOfMass())
        for i in range(3):
            sums[i] += c[i] * p.Mass()
    return (sums[0] / total, sums[1] / total, sums[2] / total)


def mass_of(volume: float, density: float, units: str) -> float:
    """Mass in grams of ``volume`` cubic graph units at ``density`` g/cm³."""
    return volume * CM3_PER_CUBIC_UNIT.get(units, 1e-3) * density


def mass_properties(ctx: KernelContext, value: Any, density: float) -> dict[str, Any]:
    """Volume, area, mass (g), centroid, inertia tensor about the centroid (g·unit²),
    principal moments and principal axes. Solids only (volume-based)."""
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    shape = shape_of(value)
    solids = shape.Solids()
    if not solids:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            "mass properties need a solid; the input has no solids",
            hint="close the surface into a solid (e.g. Thicken or Extrude) first",
        )
    props = GProp_GProps()
    compound = solids[0] if len(solids) == 1 else cq().Compound.makeCompound(solids)
    BRepGProp.VolumeProperties_s(compound.wrapped, props)
    volume = props.Mass()
    scale = CM3_PER_CUBIC_UNIT.get(ctx.units, 1e-3) * density  # grams per cubic graph unit
    matrix = props.MatrixOfInertia()  # about the centre of mass, unit density
    inertia = tuple(tuple(matrix.Value(r, c) * scale for c in (1, 2, 3)) for r in (1, 2, 3))
    principal = props.PrincipalProperties()
    moments = principal.Moments()
    axes = [
        _vec(principal.FirstAxisOfInertia()),
        _vec(principal.SecondAxisOfInertia()),
        _vec(principal.ThirdAxisOfInertia()),
    ]
    area = _props(shape, "area").Mass()
    return {
        "volume": volume,
        "area": area,
        "mass": volume * scale,
        "centroid": _vec(props.CentreOfMass()),
        "inertia": inertia,
        "momentOfInertia": (moments[0] * scale, moments[1] * scale, moments[2] * scale),
        "principalAxes": axes,
    }
