"""Port types and THE compatibility rule (the one place it is written).

Port types form a hierarchy: Solid, Surface, Curve and Point are all Shapes, so a Shape
input (Move, Rotate, Mirror, the arrays, Export) accepts any of them, while a Solid input
refuses a Curve. ``Any`` sits at the top and accepts everything.

Two questions are asked of that hierarchy, and both are answered here:

* :func:`port_accepts` — *may this link exist?* (validation, ``Graph.connect``, the editor).
  Lenient where only run time can tell: an ``Any`` output may feed anything, and a generic
  ``Shape`` output may feed a Solid/Surface/Curve/Point input (it may carry one).
* :func:`is_subtype` — *is a value of this type one of those?* Strict subtyping, used at
  run time on the most specific type of a value (a mixed compound is a ``Shape``, not a
  ``Solid``) and for the editor's "which node converts this" hints.

Nothing here imports anything of ours; the browser gets :data:`PORT_PARENTS` from the
node catalogue rather than a copy.
"""

from __future__ import annotations

__all__ = ["PORT_PARENTS", "SHAPE_TYPES", "is_subtype", "port_accepts"]

#: child -> parent in the port type hierarchy
PORT_PARENTS: dict[str, str] = {
    "Solid": "Shape",
    "Surface": "Shape",
    "Curve": "Shape",
    "Point": "Shape",
    "Shape": "Any",
    "Number": "Any",
    "Vector": "Any",
    "String": "Any",
    "Data": "Any",
}
#: the port types whose values are shapes
SHAPE_TYPES = frozenset({"Shape", "Solid", "Surface", "Curve", "Point"})


def is_subtype(port_type: str, ancestor: str) -> bool:
    """Strict subtyping: ``port_type`` is ``ancestor`` or below it (a Solid is a Shape)."""
    current: str | None = port_type
    while current is not None:
        if current == ancestor:
            return True
        current = PORT_PARENTS.get(current)
    return False


def port_accepts(target: str, source: str) -> bool:
    """True when an output of type ``source`` may feed an input of type ``target``."""
    if target == "Any" or source == "Any":
        return True  # an Any output is only known at run time; checked then
    if is_subtype(source, target):
        return True
    # a generic Shape output may carry a Solid etc.: allowed now, checked at run time
    return source == "Shape" and target in SHAPE_TYPES
