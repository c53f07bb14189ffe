"""A 200 × 200 × 3 plate perforated by 400 Ø6 holes in one boolean (hand-written cadquery).

The graph: Box, Cylinder, Move, ArrayLinear (a row of 20), Union, ArrayLinear (20 rows),
Subtract. Two faces carry 400 holes each, so validity checks (quadratic in the holes of
one face) weigh most here.
"""

from __future__ import annotations

import cadquery as cq
from hole_grid_fillet import holes

RESULT_NODE = "cut"
TEST_PARAMETERS: dict[str, float] = {}


def build() -> cq.Shape:
    result = holes(20, 20, 10.0, 3.0, 3.0)
    assert result.isValid()
    return result
