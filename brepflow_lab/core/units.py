"""Units: the one table of length units (and the angle units), used by every layer.

A graph declares its units (``"units"`` in the file, one of :data:`GRAPH_UNITS`); plain
numbers in it are lengths in those units and angles in degrees. Expressions may name any
unit of :data:`LENGTH_UNITS` or :data:`ANGLE_UNITS` (``"10 mm + 0.5 in"``). The exchange
formats and mass properties need the same units under other names and factors: each row
of :data:`LENGTH_UNITS` carries them all, so a unit is added in one place. The factors are
written out (not derived from one another) because they are used as exact constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ANGLE_UNITS",
    "CM3_PER_CUBIC_UNIT",
    "GRAPH_UNITS",
    "LENGTH_UNITS",
    "METRES_PER_UNIT",
    "MM_PER_UNIT",
    "STEP_UNIT_NAMES",
    "THREEMF_UNIT_NAMES",
    "LengthUnit",
]


@dataclass(frozen=True)
class LengthUnit:
    """One length unit and what it is called and worth, wherever it is used."""

    symbol: str  # as written in graphs and expressions
    mm: float  # millimetres per unit (expressions)
    metres: float  # metres per unit (glTF/mesh export scale)
    cubic_cm: float  # cm³ per cubic unit (mass = volume × this × density in g/cm³)
    step_name: str  # STEP / IGES unit name
    threemf_name: str  # 3MF <model unit="...">


#: every length unit an expression may name, in the order messages list them
LENGTH_UNITS: dict[str, LengthUnit] = {
    u.symbol: u
    for u in (
        LengthUnit("um", 0.001, 1e-6, 1e-12, "UM", "micron"),
        LengthUnit("mm", 1.0, 1e-3, 1e-3, "MM", "millimeter"),
        LengthUnit("cm", 10.0, 1e-2, 1.0, "CM", "centimeter"),
        LengthUnit("m", 1000.0, 1.0, 1e6, "M", "meter"),
        LengthUnit("in", 25.4, 0.0254, 2.54**3, "INCH", "inch"),
        LengthUnit("ft", 304.8, 0.3048, 30.48**3, "FT", "foot"),
    )
}
#: the units a graph file may declare (the schema's ``units`` enum)
GRAPH_UNITS: tuple[str, ...] = ("mm", "cm", "m", "in")

#: millimetres per unit
MM_PER_UNIT: dict[str, float] = {s: u.mm for s, u in LENGTH_UNITS.items()}
#: metres per unit
METRES_PER_UNIT: dict[str, float] = {s: u.metres for s, u in LENGTH_UNITS.items()}
#: cm³ per cubic unit
CM3_PER_CUBIC_UNIT: dict[str, float] = {s: u.cubic_cm for s, u in LENGTH_UNITS.items()}
#: STEP / IGES names
STEP_UNIT_NAMES: dict[str, str] = {s: u.step_name for s, u in LENGTH_UNITS.items()}
#: 3MF names
THREEMF_UNIT_NAMES: dict[str, str] = {s: u.threemf_name for s, u in LENGTH_UNITS.items()}

#: degrees per unit, for the angle units
ANGLE_UNITS: dict[str, float] = {"deg": 1.0, "rad": 180.0 / math.pi}
