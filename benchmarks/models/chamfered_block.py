"""A 60 × 45 × 20 block with 12 Ø8 through holes, every edge chamfered 1 mm (hand-written cadquery).

The graph: the hole-grid nodes (4 × 3 holes) and Chamfer with selectAll: a chamfer of
every edge, the holes' circular edges included, dominates.
"""

from __future__ import annotations

import cadquery as cq
from hole_grid_fillet import holes

RESULT_NODE = "bevel"
TEST_PARAMETERS: dict[str, float] = {}


def build() -> cq.Shape:
    block = holes(4, 3, 15.0, 4.0, 20.0)
    result = block.chamfer(1.0, None, block.Edges())
    assert result.isValid()
    return result
