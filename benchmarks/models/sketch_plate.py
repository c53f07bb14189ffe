"""A mounting plate drawn from 2D sketches (hand-written cadquery).

Every feature starts as a sketch curve: an 8-corner outline with rounded corners
(Polyline + Fillet2D), a pocket whose outline is the plate's offset inwards (Offset2D),
eight round holes (Circle), four hexagonal nut traps (Polygon), two slots with rounded
ends (Rectangle + Fillet2D), an elliptical window (Ellipse) and a free-form cut-out (a
closed Spline). Each sketch is extruded into a solid; the outline is the plate, the rest
are cut from it in one boolean.
"""

from __future__ import annotations

import math

import cadquery as cq

RESULT_NODE = "plate"
TEST_PARAMETERS: dict[str, float] = {}

OUTLINE = [(0, 0), (160, 0), (160, 60), (130, 60), (130, 100), (30, 100), (30, 60), (0, 60)]
HOLES = [(10, 10), (80, 10), (150, 10), (10, 50), (150, 50), (40, 90), (120, 90), (80, 50)]
HEXES = [(30, 30), (60, 30), (100, 30), (130, 30)]
SLOTS = [(55, 75), (105, 75)]
SPLINE = [(70, 60), (80, 57), (90, 60), (88, 68), (80, 72), (72, 68)]
THICK, POCKET_DEPTH, INSET = 8.0, 3.0, 4.0


def _v(x: float, y: float, z: float = 0.0) -> cq.Vector:
    return cq.Vector(x, y, z)


def _prism(wire: cq.Wire, z0: float, height: float) -> cq.Solid:
    """The closed planar ``wire`` (lying at z = ``z0``) extruded ``height`` along +Z."""
    face = cq.Face.makeFromWires(wire)
    return cq.Solid.extrudeLinear(face, _v(0, 0, height))


def build(fillet: float = 5.0, hole: float = 3.2) -> cq.Shape:
    outline = cq.Wire.makePolygon([_v(x, y) for x, y in OUTLINE], close=True)
    outline = outline.fillet2D(fillet, outline.Vertices())
    plate = _prism(outline, 0, THICK)
    pocket_outline = outline.offset2D(-INSET, "arc")[0].translate(_v(0, 0, THICK - POCKET_DEPTH))
    tools = [_prism(pocket_outline, THICK - POCKET_DEPTH, 2 * POCKET_DEPTH)]
    for x, y in HOLES:
        tools.append(_prism(cq.Wire.makeCircle(hole, _v(x, y, -1), _v(0, 0, 1)), -1, THICK + 2))
    for x, y in HEXES:
        corners = [_v(x + 4.0 * math.cos(math.pi * i / 3), y + 4.0 * math.sin(math.pi * i / 3), -1) for i in range(6)]
        tools.append(_prism(cq.Wire.makePolygon(corners, close=True), -1, 4))
    for x, y in SLOTS:
        slot = cq.Wire.makePolygon(
            [_v(x - 10, y - 3, -1), _v(x + 10, y - 3, -1), _v(x + 10, y + 3, -1), _v(x - 10, y + 3, -1)], close=True
        )
        tools.append(_prism(slot.fillet2D(2.9, slot.Vertices()), -1, THICK + 2))
    ellipse = cq.Wire.assembleEdges([cq.Edge.makeEllipse(14, 6, _v(80, 30, -1), _v(0, 0, 1), _v(1, 0, 0))])
    tools.append(_prism(ellipse, -1, THICK + 2))
    spline = cq.Wire.assembleEdges([cq.Edge.makeSpline([_v(x, y, -1) for x, y in SPLINE], periodic=True)])
    tools.append(_prism(spline, -1, THICK + 2))
    result = plate.cut(*tools).clean()
    assert result.isValid()
    return result
