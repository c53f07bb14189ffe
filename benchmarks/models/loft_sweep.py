"""Lofts and sweeps on a base plate, fused in one boolean (hand-written cadquery).

* a loft rectangle → circle → circle (a bottle-like body, B-spline surfaces);
* a loft from a hexagon to a circle (a hex-to-round post);
* a square column swept up a straight line with a 90° twist (a multi-section pipe shell:
  the profile turned and placed at 0, 1/3, 2/3 and the end of the path, as the
  Solid::Sweep node builds a twist);
* a Ø6 rod swept along a polyline arch with sharp corners (mitred "right" corners);
* all four fused with a 120 × 120 × 5 plate they stand in.
"""

from __future__ import annotations

import math

import cadquery as cq

RESULT_NODE = "all"
TEST_PARAMETERS: dict[str, float] = {}


def _rectangle(width: float, height: float, center: tuple[float, float, float]) -> cq.Wire:
    cx, cy, cz = center
    hw, hh = width / 2, height / 2
    corners = [(cx - hw, cy - hh, cz), (cx + hw, cy - hh, cz), (cx + hw, cy + hh, cz), (cx - hw, cy + hh, cz)]
    return cq.Wire.makePolygon([cq.Vector(*p) for p in corners], close=True)


def _circle(radius: float, center: tuple[float, float, float], normal=(0.0, 0.0, 1.0)) -> cq.Wire:
    return cq.Wire.makeCircle(radius, cq.Vector(*center), cq.Vector(*normal))


def _hexagon(radius: float, center: tuple[float, float, float]) -> cq.Wire:
    cx, cy, cz = center
    points = [
        cq.Vector(cx + radius * math.cos(2 * math.pi * i / 6), cy + radius * math.sin(2 * math.pi * i / 6), cz)
        for i in range(6)
    ]
    return cq.Wire.makePolygon(points, close=True)


def _twisted_column(side: float, base: tuple[float, float, float], height: float, twist: float) -> cq.Solid:
    path = cq.Wire.assembleEdges([cq.Edge.makeLine(cq.Vector(*base), cq.Vector(base[0], base[1], base[2] + height))])
    profile = _rectangle(side, side, base)
    count = max(2, math.ceil(abs(twist) / 30.0))
    p0, tangent = path.positionAt(0), path.tangentAt(0).normalized()
    sections = []
    for i in range(count + 1):
        t = i / count
        section = profile.translate(-p0)
        if t > 0:
            section = section.rotate(cq.Vector(0, 0, 0), tangent, twist * t)
        sections.append(section.translate(path.positionAt(t)))
    return cq.Solid.sweep_multi(sections, path, makeSolid=True, isFrenet=False)


def build(twist: float = 90.0) -> cq.Shape:
    plate = cq.Solid.makeBox(120, 120, 5, pnt=cq.Vector(-60, -60, -4))
    bottle = cq.Solid.makeLoft([_rectangle(40, 30, (0, 0, 0)), _circle(14, (0, 0, 30)), _circle(6, (0, 0, 60))])
    post = cq.Solid.makeLoft([_hexagon(12, (35, -35, 0)), _circle(6, (35, -35, 25))])
    column = _twisted_column(10, (35, 35, 0), 40, twist)
    arch_path = cq.Wire.makePolygon(
        [cq.Vector(-40, -40, 0), cq.Vector(-40, -40, 30), cq.Vector(-40, 40, 30), cq.Vector(-40, 40, 0)]
    )
    arch = cq.Solid.sweep(_circle(3, (-40, -40, 0)), [], arch_path, True, False, None, "right")
    for solid in (bottle, post, column, arch):
        assert solid.isValid()
    result = plate.fuse(bottle, post, column, arch).clean()
    assert result.isValid()
    return result
