"""The example enclosure (examples/enclosure.bflow.json) written by hand with cadquery.

A box with its vertical edges filleted, shelled open at the top, four screw bosses fused
in and four screw holes cut: the model the engine benchmark first measured.
"""

from __future__ import annotations

import cadquery as cq

RESULT_NODE = "enclosure"
TEST_PARAMETERS: dict[str, float] = {}


def build(
    L: float = 120.0, W: float = 80.0, H: float = 40.0, wall: float = 2.0, corner: float = 6.0, inset: float = 9.0
) -> cq.Shape:
    shell = (
        cq.Workplane("XY")
        .box(L, W, H, centered=False)
        .edges("|Z")
        .fillet(corner)
        .faces(">Z")
        .shell(-wall)
        .val()
        .Solids()[0]
    )
    boss = cq.Solid.makeCylinder(3.5, H - wall)
    hole = cq.Solid.makeCylinder(1.25, H)
    xs = (inset, L - inset)
    ys = (inset, W - inset)
    bosses = [boss.moved(cq.Location(cq.Vector(x, y, 0))) for y in ys for x in xs]
    holes = [hole.moved(cq.Location(cq.Vector(x, y, wall))) for y in ys for x in xs]
    body = shell.fuse(*bosses).clean()
    result = body.cut(*holes).clean()
    assert result.isValid()
    return result
