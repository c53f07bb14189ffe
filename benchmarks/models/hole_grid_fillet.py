"""A plate with a 24×4 grid of Ø6 through holes, every edge filleted 0.5 mm (hand-written cadquery).

The graph: Box, Cylinder, Move, ArrayLinear (a row), Union, ArrayLinear (the rows),
Subtract, Fillet with selectAll. The fillet of ~300 edges dominates; it is the model on
which the kernel's result checks were first found to cost 6× the fillet.
"""

from __future__ import annotations

import cadquery as cq

RESULT_NODE = "round"
TEST_PARAMETERS: dict[str, float] = {}


def holes(cols: int, rows: int, pitch: float, radius: float, thick: float) -> cq.Shape:
    """A plate with a ``cols`` × ``rows`` grid of through holes, cut in one boolean."""
    base = cq.Solid.makeBox(cols * pitch, rows * pitch, thick)
    pin = cq.Solid.makeCylinder(radius, thick + 2)
    pins = [
        pin.moved(cq.Location(cq.Vector(pitch / 2 + i * pitch, pitch / 2 + j * pitch, -1)))
        for i in range(cols)
        for j in range(rows)
    ]
    return base.cut(*pins).clean()


def build() -> cq.Shape:
    plate = holes(24, 4, 10.0, 3.0, 5.0)
    result = plate.fillet(0.5, plate.Edges())
    assert result.isValid()
    return result
