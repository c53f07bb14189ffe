"""Run-time checks of what flows into and out of nodes.

Static port types are checked by validation; a generic ``Shape`` port may still carry a
Curve into a node that needs a Solid, and OCCT may return an invalid or empty solid
without raising. These checks turn both into specific node errors.

Result checks: what each guards against, and what it costs
----------------------------------------------------------
Every check the kernel runs on an OCCT result is one of the functions below
(:data:`RESULT_CHECKS`), so a profile of those functions is the price of our checks (the
tests and ``benchmarks/bench_checks.py`` measure it). Costs are measured on the 24×4
hole-grid plate with every edge filleted 0.5 mm (314 faces; the fillet itself takes
~0.27 s) and on a 102-face boolean result.

:func:`is_valid` — ``BRepCheck_Analyzer`` (geometric controls on, faces in parallel):
    broken topology, self-intersecting wires and faces, edges whose 3D curve and face
    curves disagree, holes outside their face or inside each other, shells that are not
    closed or not consistently oriented. OCCT returns such solids from fillets, shells,
    offsets, drafts, booleans, lofts and sweeps without raising; they are reported as the
    node's error. It runs once per result and never twice on the same shape: nodes whose
    kernel function ran it are ``trusted_output``, and primitives and rigid transforms,
    which cannot produce an invalid shape, are trusted too. Cost: ~0.1-0.2 ms per face,
    but quadratic in the holes of one face (OCCT classifies every hole wire against every
    other): 50 ms for the 102-face cut whose top and bottom faces hold 96 holes each, 55 ms
    for the filleted plate — 20-35 % of the boolean or fillet it checks on that model, the
    one check above 5 %. Skipping it would let invalid solids through, so it stays.
:func:`is_inside_out` — ``BRepClass3d_SolidClassifier`` of the point at infinity, per
    solid: a solid that is inside out (negative volume) or empty. A valid, closed solid
    whose volume is not positive is exactly that, so this replaces integrating the volume
    (``BRepGProp``, 22 ms for the plate) with one ray test (~1-3 ms).
:func:`loose_box` — ``BRepBndLib::Add`` (no ``AddOptimal``): the box of the control
    points/analytic bounds of every face, enlarged by tolerances; it contains the shape
    and may be a little larger. 0.2-0.5 ms for the plate where cadquery's default
    ``BoundingBox()`` (the optimal box, ``BRepBndLib::AddOptimal``) takes 2.1 s.
:func:`inside_box` — a rounded or bevelled solid never reaches outside the solid it came
    from; a fillet or chamfer that OCCT calls "done" but that does is broken. Compares
    loose boxes with a margin (``1e-4 + 1e-6·diagonal`` plus twice the shapes' largest
    tolerance). Like every box comparison (:func:`box_test`, also used by the shell's
    "outer size kept" / "grew by the thickness" tests), only when the loose comparison
    fails are the optimal boxes computed to confirm it: a good result never pays for the
    optimal box, and a loose box alone never fails a good result. ~1 ms for the plate.
:func:`solid_volume` — ``BRepGProp`` volume; only where a volume is compared with
    another (a shell must weigh less than its solid, an offset must grow or shrink it),
    never just to learn its sign.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.core.ports import SHAPE_TYPES, is_subtype
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.context import InputPortLike, KernelContext, PortLike
from brepflow_lab.kernel.part import Part, shape_of

__all__ = [
    "RESULT_CHECKS",
    "box_test",
    "check_input",
    "check_output",
    "inside_box",
    "is_inside_out",
    "is_shape",
    "is_valid",
    "loose_box",
    "port_type_of",
    "solid_volume",
]

Box = tuple[float, float, float, float, float, float]  # xmin, ymin, zmin, xmax, ymax, zmax


# --------------------------------------------------------------------------- result checks


def is_valid(shape: Any) -> bool:
    """``BRepCheck_Analyzer`` of the whole shape, faces checked in parallel (False also when
    OCCT raises). Same verdict as cadquery's ``isValid()``."""
    from OCP.BRepCheck import BRepCheck_Analyzer

    try:
        return bool(BRepCheck_Analyzer(shape.wrapped, True, True).IsValid())
    except Exception:
        return False


def is_inside_out(shape: Any) -> bool:
    """True when a solid of ``shape`` is empty or inside out (the point at infinity is IN).

    For a valid closed solid this is the same as "its volume is not positive"."""
    from OCP.BRepClass3d import BRepClass3d_SolidClassifier
    from OCP.TopAbs import TopAbs_IN, TopAbs_ON

    try:
        for solid in shape.Solids():
            classifier = BRepClass3d_SolidClassifier(solid.wrapped)
            classifier.PerformInfinitePoint(1e-7)
            if classifier.State() in (TopAbs_IN, TopAbs_ON):
                return True
    except Exception:
        return True
    return False


def solid_volume(shape: Any) -> float:
    """The summed volume of the solids of ``shape`` (NaN when OCCT cannot integrate it)."""
    try:
        return float(sum(s.Volume() for s in shape.Solids()))
    except Exception:
        return float("nan")


def loose_box(shape: Any) -> Box | None:
    """The fast bounding box (``BRepBndLib::Add``): contains the shape, may be a bit larger."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    try:
        BRepBndLib.Add_s(shape.wrapped, box, False)
    except Exception:
        return None
    return None if box.IsVoid() else tuple(box.Get())


def _optimal_box(shape: Any) -> Box | None:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    try:
        BRepBndLib.AddOptimal_s(shape.wrapped, box, False, False)
    except Exception:
        return None
    return None if box.IsVoid() else tuple(box.Get())


def _max_tolerance(shape: Any) -> float:
    from OCP.ShapeAnalysis import ShapeAnalysis_ShapeTolerance

    try:
        return float(ShapeAnalysis_ShapeTolerance().Tolerance(shape.wrapped, 1))
    except Exception:
        return 0.0


def _box_within(inner: Box, outer: Box, slack: float) -> bool:
    return all(inner[i] >= outer[i] - slack for i in range(3)) and all(
        inner[i] <= outer[i] + slack for i in range(3, 6)
    )


def _diagonal(box: Box) -> float:
    return math.dist(box[:3], box[3:])


def box_test(first: Any, second: Any, predicate: Callable[[Box, Box, float], bool]) -> bool:
    """``predicate(box_of_first, box_of_second, margin)`` on the loose boxes (margin: twice the
    shapes' largest tolerance); when that fails, once more on the optimal boxes (margin 0).

    A test that holds for tight boxes holds for loose ones up to the looseness, so a good
    result passes cheaply and a failure is confirmed on the exact geometry."""
    a, b = loose_box(first), loose_box(second)
    if a is not None and b is not None:
        margin = 2 * max(_max_tolerance(first), _max_tolerance(second))
        if predicate(a, b, margin):
            return True
    a, b = _optimal_box(first), _optimal_box(second)
    return a is not None and b is not None and predicate(a, b, 0.0)


def inside_box(inner: Any, outer: Any) -> bool:
    """``inner`` lies inside the bounding box of ``outer`` (within ``1e-4 + 1e-6·diagonal``)."""

    def within(a: Box, b: Box, margin: float) -> bool:
        return _box_within(a, b, 1e-4 + 1e-6 * _diagonal(b) + margin)

    return box_test(inner, outer, within)


RESULT_CHECKS = (is_valid, is_inside_out, solid_volume, box_test, inside_box)


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


def check_input(ctx: KernelContext, spec: InputPortLike, value: Any) -> Any:
    if spec.type in SHAPE_TYPES:
        if not is_shape(value):
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT,
                f"input '{spec.name}' expects a {spec.type} but received {type(value).__name__}",
            )
        actual = port_type_of(value)
        if not is_subtype(actual, spec.type):  # strict at run time: a mixed compound is no Solid
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


def check_output(ctx: KernelContext, spec: PortLike, value: Any, *, full: bool = True) -> Any:
    """Refuse null/empty shapes; with ``full``, also invalid ones and solids without volume."""
    if spec.type not in SHAPE_TYPES:
        return value
    if spec.multiple:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ctx.error(ErrorCode.GEOM_EMPTY_RESULT, f"output '{spec.name}' is an empty list")
        return [_check_shape(ctx, spec, item, full) for item in items]
    return _check_shape(ctx, spec, value, full)


def _check_shape(ctx: KernelContext, spec: PortLike, value: Any, full: bool = True) -> Any:
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
    if not is_valid(shape):
        raise ctx.error(
            ErrorCode.GEOM_INVALID_RESULT,
            f"OCCT produced an invalid {port_type_of(shape).lower()} for output '{spec.name}' "
            "(self-intersecting or broken topology)",
            hint="a radius, thickness or offset is probably too large for the geometry",
        )
    if "Solid" in kinds and spec.type in ("Solid", "Shape") and is_inside_out(shape):
        raise ctx.error(
            ErrorCode.GEOM_EMPTY_RESULT,
            f"the resulting solid has no volume (output '{spec.name}'): it is empty or inside out",
        )
    if isinstance(value, Part):
        return value
    return shape
