"""An imported STEP part with thousands of faces, with one hole cut through it (hand-written cadquery).

The STEP file is not in the repository: :func:`prepare` generates it into the folder the
benchmark evaluates in (a 20 × 20 grid of square pockets in a 105 × 105 × 10 plate: 2,006
faces, 6 MB of STEP; 8 × 8 pockets for the tests). The graph: IO::ImportSTEP (``filepath`` relative to the graph's
folder), a Cylinder at (@cx, @cy) and a Subtract.
"""

from __future__ import annotations

from pathlib import Path

import cadquery as cq

RESULT_NODE = "cut"
TEST_PARAMETERS = {"cx": 22.5, "cy": 22.5, "radius": 8.0}  # the middle of the test grid's plate
STEP_NAME = "pocketed_plate.step"
FULL_GRID, TEST_GRID = 20, 8


def make_part(grid: int) -> cq.Shape:
    """A plate with a ``grid`` × ``grid`` array of 3.5 × 3.5 × 3 pockets: about 5 faces per pocket."""
    pitch = 5.0
    size = grid * pitch + 5
    plate = cq.Solid.makeBox(size, size, 10)
    pocket = cq.Solid.makeBox(3.5, 3.5, 4)
    pockets = [
        pocket.moved(cq.Location(cq.Vector(5 + i * pitch - 1.75, 5 + j * pitch - 1.75, 7)))
        for i in range(grid)
        for j in range(grid)
    ]
    return plate.cut(*pockets).clean()


def prepare(folder: Path, *, test: bool = False) -> Path:
    """Write the STEP file the graph imports into ``folder`` (a small one for the tests)."""
    path = Path(folder) / STEP_NAME
    make_part(TEST_GRID if test else FULL_GRID).exportStep(str(path))
    return path


def build(folder: Path, cx: float = 52.5, cy: float = 52.5, radius: float = 12.0) -> cq.Shape:
    part = cq.importers.importStep(str(Path(folder) / STEP_NAME)).val()
    drill = cq.Solid.makeCylinder(radius, 20, cq.Vector(cx, cy, -5))
    result = part.cut(drill).clean()
    assert result.isValid()
    return result
