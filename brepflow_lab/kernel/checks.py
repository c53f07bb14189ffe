"""Run-time checks of what flows into and out of nodes.

Static port types are checked by validation; a generic ``Shape`` port may still carry a
Curve into a node that needs a Solid, and OCCT may return an invalid or empty solid
without raising. These checks turn both into specific node errors.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from brepflow_lab.errors import ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.part import Part, shape_of

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec

__all__ = ["check_input", "check_output", "is_shape", "port_type_of"]

_SHAPE_TYPES = {"Shape", "Solid", "Surface", "Curve", "Point"}


def is_shape(value: Any) -> bool:
    return isinstance(shape_of(value), cq().Shape)


def port_type_of(value: Any) -> str:
    """The most specific port type of a run-time value."""
    value = shape_of(value)
    m = cq()
    if isinstance(value, m.Shape):
        kinds = _shape_kinds(value)
        if kinds == {"Solid"}:
            return "Solid"
        if kinds == {"Surface"}:
            return "Surface"
        if kinds == {"Curve"}:
            return "Curve"
        if kinds == {"Point"}:
            return "Point"
        return "Shape"
    if isinstance(value, bool):
        return "Data"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, (m.Vector, tuple)) and (not isinstance(value, tuple) or len(value) == 3):
        return "Vector"
    return "Data"


def _shape_kinds(shape: Any) -> set[str]:
    m = cq()
    if isinstance(shape, m.Solid):
        return {"Solid"}
    if isinstance(shape, (m.Face, m.Shell)):
        return {"Surface"}
    if isinstance(shape, (m.Wire, m.Edge)):
        return {"Curve"}
    if isinstance(shape, m.Vertex):
        return {"Point"}
    if isinstance(shape, m.Compound):
        kinds: set[str] = set()
        for child in shape:
            kinds |= _shape_kinds(child)
        return kinds or {"Empty"}
    return {"Shape"}


def _accepts(target: str, actual: str) -> bool:
    if target in ("Any", "Shape", "Data"):
        return True
    return actual == target


def check_input(ctx: NodeContext, spec: InputSpec, value: Any) -> Any:
    if spec.type in _SHAPE_TYPES:
        if not is_shape(value):
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT,
                f"input '{spec.name}' expects a {spec.type} but received {type(value).__name__}",
            )
        actual = port_type_of(value)
        if not _accepts(spec.type, actual):
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT,
                f"input '{spec.name}' expects a {spec.type} but received a {actual}",
                hint="Solid, Surface, Curve and Point are all Shapes; only a Shape input takes any of them",
            )
        return value if spec.keep_parts else shape_of(value)
    if spec.type == "Number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"input '{spec.name}' expects a finite number, got {value!r}")
        return float(value)
    return value


def check_output(ctx: NodeContext, spec: OutputSpec, value: Any, *, full: bool = True) -> Any:
    """Refuse null/empty shapes; with ``full``, also invalid ones and solids without volume."""
    if spec.type not in _SHAPE_TYPES:
        return value
    if spec.multiple:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ctx.error(ErrorCode.GEOM_EMPTY_RESULT, f"output '{spec.name}' is an empty list")
        return [_check_shape(ctx, spec, item, full) for item in items]
    return _check_shape(ctx, spec, value, full)


def _check_shape(ctx: NodeContext, spec: OutputSpec, value: Any, full: bool = True) -> Any:
    shape = shape_of(value)
    m = cq()
    if shape is None or not isinstance(shape, m.Shape) or shape.wrapped is None or shape.wrapped.IsNull():
        raise ctx.error(ErrorCode.GEOM_EMPTY_RESULT, f"the operation produced no shape for output '{spec.name}'")
    kinds = _shape_kinds(shape)
    if kinds == {"Empty"}:
        raise ctx.error(
            ErrorCode.GEOM_EMPTY_RESULT,
            f"the result is empty (output '{spec.name}'): the operation removed everything",
            hint="check that the shapes overlap the way you expect",
        )
    if not full:
        return value if isinstance(value, Part) else shape
    if not shape.isValid():
        raise ctx.error(
            ErrorCode.GEOM_INVALID_RESULT,
            f"OCCT produced an invalid {port_type_of(shape).lower()} for output '{spec.name}' "
            "(self-intersecting or broken topology)",
            hint="a radius, thickness or offset is probably too large for the geometry",
        )
    if "Solid" in kinds and spec.type in ("Solid", "Shape"):
        volume = sum(s.Volume() for s in shape.Solids())
        if volume <= 0 or not math.isfinite(volume):
            raise ctx.error(ErrorCode.GEOM_EMPTY_RESULT, f"the resulting solid has no volume (output '{spec.name}')")
    if isinstance(value, Part):
        return value
    return shape
