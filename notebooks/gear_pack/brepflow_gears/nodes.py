"""Involute spur gears.

A node pack may use cadquery directly (the kernel-only import rule is BrepFlow Lab's own
layering, not a rule for packs). Errors go through ``ctx.error`` so the user sees the node,
the parameter and a code.
"""

from __future__ import annotations

import math
from typing import Any

import cadquery as cq

from brepflow_lab import ErrorCode, NodeContext, OutputSpec, ParamSpec, node


def _inv(angle: float) -> float:
    return math.tan(angle) - angle


def involute_outline(
    module: float, teeth: int, pressure_angle_deg: float, samples: int = 8
) -> list[tuple[float, float]]:
    """Closed outline (x, y) of an involute spur gear, counter-clockwise, first tooth on +X."""
    alpha = math.radians(pressure_angle_deg)
    rp = module * teeth / 2
    rb = rp * math.cos(alpha)
    ra = rp + module
    rf = rp - 1.25 * module
    half = math.pi / (2 * teeth) + _inv(alpha)  # half tooth angle at the base circle

    def flank(r: float) -> float:
        return half - _inv(math.acos(min(1.0, rb / r)))

    r0 = max(rf, rb)
    radii = [r0 + (ra - r0) * i / samples for i in range(samples + 1)]
    polar: list[tuple[float, float]] = []
    for k in range(teeth):
        c = 2 * math.pi * k / teeth
        if rf < rb:
            polar.append((rf, c - flank(rb)))
        polar += [(r, c - flank(r)) for r in radii]
        polar += [(r, c + flank(r)) for r in reversed(radii)]
        if rf < rb:
            polar.append((rf, c + flank(rb)))
    return [(r * math.cos(a), r * math.sin(a)) for r, a in polar]


@node(
    "Gears::Spur",
    outputs=[OutputSpec("shape", "Solid", help="the gear")],
    params=[
        ParamSpec(
            "module", default=2.0, min=0.1, max=50, dimension="length", help="tooth size: pitch diameter / teeth"
        ),
        ParamSpec("teeth", "integer", default=20, min=6, max=400, help="number of teeth"),
        ParamSpec("pressureAngle", default=20.0, min=10, max=30, dimension="angle", help="pressure angle, degrees"),
        ParamSpec("thickness", default=8.0, min=0, min_exclusive=True, dimension="length", help="face width along +Z"),
        ParamSpec("bore", default=0.0, min=0, dimension="length", help="diameter of the centre hole; 0 for none"),
    ],
    description="Involute spur gear on the XY plane, extruded along +Z.",
)
def spur(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    m, z = params["module"], params["teeth"]
    root_diameter = m * z - 2.5 * m
    if params["bore"] >= root_diameter:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"a bore of {params['bore']:g} mm does not fit inside the root circle ({root_diameter:g} mm)",
            param="bore",
        )
    outline = involute_outline(m, z, params["pressureAngle"])
    wire = cq.Wire.makePolygon([cq.Vector(x, y, 0) for x, y in outline], close=True)
    gear = cq.Solid.extrudeLinear(cq.Face.makeFromWires(wire), cq.Vector(0, 0, params["thickness"]))
    if params["bore"] > 0:
        gear = gear.cut(cq.Solid.makeCylinder(params["bore"] / 2, params["thickness"])).clean()
    return {"shape": gear}
