"""500 small pins (10 rows of 50 cylinders, Ø3 × 6) fused with their base plate in ONE boolean
(hand-written cadquery).

The graph: Box, Cylinder, ten Move nodes (one per row), ten ArrayLinear nodes (50 copies
each) and one Union whose ``shapes`` input takes the plate and all 500 pins.
"""

from __future__ import annotations

import cadquery as cq

RESULT_NODE = "all"
TEST_PARAMETERS = {"cols": 6}  # 60 pins in the test
ROWS = 10


def build(cols: int = 50, pitch: float = 5.0) -> cq.Shape:
    cols = int(cols)
    plate = cq.Solid.makeBox(cols * pitch, ROWS * pitch, 3)
    pin = cq.Solid.makeCylinder(1.5, 6)
    pins = [
        pin.moved(cq.Location(cq.Vector(pitch / 2 + i * pitch, pitch / 2 + j * pitch, 1)))
        for j in range(ROWS)
        for i in range(cols)
    ]
    result = plate.fuse(*pins).clean()
    assert result.isValid()
    return result
