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
    node's error. It runs at most once per distinct shape: the verdict is remembered while
    the shape lives (:class:`_ShapeMemo`, keyed by TShape and orientation, so a moved copy
    is known too), so a shape on two outputs, a node's unchanged input or the shape a
    kernel function already checked is not analysed again; a compound is valid when its
    children are. Constructions OCCT guarantees record their verdict instead of running it
    (:func:`vouch`): primitives, and a straight prism of a valid planar face across its
    plane (Extrude). Nodes whose kernel function checks its result, sketch curves (OCCT's
    edge builders give a valid wire or raise) and rigid transforms are ``trusted_output``;
    every other node's outputs go through the memo. ``CHECK_RUNS`` counts the analyses
    really run. Cost: ~0.1-0.2 ms per face (0.1 ms for a sketch face, ~1 s for the
    2,006-face imported STEP part),
    but quadratic in the holes of one face (OCCT classifies every hole wire against every
    other): 50 ms for the 102-face cut whose top and bottom faces hold 96 holes each, 55 ms
    for the filleted plate — 20-35 % of the boolean or fillet it checks on that model, the
    one check above 5 %. Skipping it would let invalid solids through, so it stays.
:func:`is_inside_out` — ``BRepClass3d_SolidClassifier`` of the point at infinity, per
    solid: a solid that is inside out (negative volume) or empty. A valid, closed solid
    whose volume is not positive is exactly that, so this replaces integrating the volume
    (``BRepGProp``, 22 ms for the plate) with one ray test (~1-3 ms; ~0.1 s for the 2,006-face
    STEP part). Remembered per solid like :func:`is_valid`; primitives and Extrude's prisms
    are vouched for.
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
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.core.ports import SHAPE_TYPES, is_subtype
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.context import InputPortLike, KernelContext, PortLike
from brepflow_lab.kernel.part import Part, shape_of

__all__ = [
    "CHECK_RUNS",
    "RESULT_CHECKS",
    "box_test",
    "check_counts",
    "check_input",
    "check_output",
    "forget_verdicts",
    "inside_box",
    "is_inside_out",
    "is_shape",
    "is_valid",
    "loose_box",
    "port_type_of",
    "solid_volume",
    "vouch",
]

Box = tuple[float, float, float, float, float, float]  # xmin, ymin, zmin, xmax, ymax, zmax


# --------------------------------------------------------------------------- result checks


def _key(wrapped: Any) -> int:
    """The TShape and the orientation; not the location (see :class:`_ShapeMemo`)."""
    from OCP.TopLoc import TopLoc_Location

    return hash((hash(wrapped.Located(TopLoc_Location())), int(wrapped.Orientation())))


def _same(a: Any, b: Any) -> bool:
    return bool(a.IsPartner(b)) and a.Orientation() == b.Orientation()


class _ShapeMemo:
    """Verdicts of one check, remembered per shape while the shape lives.

    Keyed by the OCCT shape's TShape and orientation; each entry holds a *weak* reference to
    the cadquery shape it was computed on. A lookup only answers when that shape is still
    alive and still shares the TShape and orientation of the one asked about: a live holder
    keeps its TShape alive, so a TShape address is never reused under an entry, and a dead
    holder's entry is dropped by its weakref callback. The location is left out on purpose:
    OCCT only accepts rigid, orientation-keeping locations (it raises on scaled or mirrored
    ones), and validity and orientation do not change under a rigid motion, so a moved copy
    (Move, ArrayLinear) of a checked or vouched-for shape is known too.
    Nothing here keeps a shape alive. No lock is needed: a lost entry only costs a re-check,
    and a wrong answer needs a stale entry to match a live, equal shape, which cannot happen.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[int, tuple[weakref.ref[Any], bool]] = {}

    def get(self, shape: Any) -> bool | None:
        try:
            wrapped = shape.wrapped
            key = _key(wrapped)
        except Exception:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        holder = entry[0]()
        if holder is None or holder.wrapped is None or not _same(holder.wrapped, wrapped):
            return None
        return entry[1]

    def put(self, shape: Any, verdict: bool) -> None:
        try:
            key = _key(shape.wrapped)
            entries = self._entries

            def forget(ref: weakref.ref[Any], key: int = key) -> None:
                current = entries.get(key)
                if current is not None and current[0] is ref:
                    entries.pop(key, None)

            entries[key] = (weakref.ref(shape, forget), verdict)
        except Exception:  # no OCCT shape, or not weakly referenceable: no memo, the check runs again
            pass

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_VALID = _ShapeMemo("is_valid")
_INSIDE_OUT = _ShapeMemo("is_inside_out")

#: How many times each check really ran OCCT (a memo hit or a vouched shape does not count).
#: Tests and ``benchmarks/bench_engine.py`` read it; :func:`check_counts` returns a copy.
CHECK_RUNS: Counter[str] = Counter()


def check_counts() -> dict[str, int]:
    """A snapshot of :data:`CHECK_RUNS` (``{"is_valid": n, "is_inside_out": m}``)."""
    return dict(CHECK_RUNS)


def forget_verdicts() -> None:
    """Drop every remembered verdict (tests; never needed for correctness)."""
    _VALID.clear()
    _INSIDE_OUT.clear()


def vouch(shape: Any, *, valid: bool = True, inside_out: bool | None = None) -> Any:
    """Record what a construction guarantees about ``shape`` without running a check.

    For results OCCT builds correct by construction (see :func:`is_valid`); a later
    :func:`is_valid` / :func:`is_inside_out` of the same shape answers from this. Returns
    ``shape``."""
    _VALID.put(shape, valid)
    if inside_out is not None:
        _INSIDE_OUT.put(shape, inside_out)
    return shape


def is_valid(shape: Any) -> bool:
    """``BRepCheck_Analyzer`` of the whole shape, faces checked in parallel (False also when
    OCCT raises). Same verdict as cadquery's ``isValid()``. Each distinct shape is analysed
    once while it lives (see :class:`_ShapeMemo`)."""
    verdict = _VALID.get(shape)
    if verdict is None:
        children = list(shape) if isinstance(shape, cq().Compound) else []
        # BRepCheck has no test of its own for a compound: it is valid when every child is,
        # and a child already known (a moved copy of a primitive, a solid a fuse left as it
        # was) costs nothing
        # (a plain loop, so that a profile sees is_valid calling itself and counts the time once)
        verdict = True
        for child in children:
            if not is_valid(child):
                verdict = False
                break
        if not children:
            verdict = _analyze(shape)
        _VALID.put(shape, verdict)
    return verdict


def _analyze(shape: Any) -> bool:
    from OCP.BRepCheck import BRepCheck_Analyzer

    CHECK_RUNS["is_valid"] += 1
    try:
        return bool(BRepCheck_Analyzer(shape.wrapped, True, True).IsValid())
    except Exception:
        return False


def is_inside_out(shape: Any) -> bool:
    """True when a solid of ``shape`` is empty or inside out (the point at infinity is IN).

    For a valid closed solid this is the same as "its volume is not positive". Remembered
    per shape like :func:`is_valid`."""
    verdict = _INSIDE_OUT.get(shape)
    if verdict is None:
        verdict = _classify_infinity(shape)
        _INSIDE_OUT.put(shape, verdict)
    return verdict


def _classify_infinity(shape: Any) -> bool:
    from OCP.BRepClass3d import BRepClass3d_SolidClassifier
    from OCP.TopAbs import TopAbs_IN, TopAbs_ON

    try:
        for solid in shape.Solids():
            known = _INSIDE_OUT.get(solid)
            if known is None:
                CHECK_RUNS["is_inside_out"] += 1
                classifier = BRepClass3d_SolidClassifier(solid.wrapped)
                classifier.PerformInfinitePoint(1e-7)
                known = classifier.State() in (TopAbs_IN, TopAbs_ON)
            if known:
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
