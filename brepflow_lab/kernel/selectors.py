"""Edge and face selection with CadQuery's string selectors.

Features such as Fillet, Chamfer, Shell and Draft act on *some* edges or faces of a
shape. A graph cannot hold references to topology (OCCT's sub-shape ids change whenever
an upstream parameter changes), so the choice is written as a CadQuery selector string
that is re-applied to whatever shape arrives:

``>Z``            the edges/faces farthest along +Z (the top)
``<Z``            the bottom
``|Z``            edges parallel to Z / faces whose normal is parallel to Z
``#Z``            edges/faces perpendicular to Z (the sides of a box are ``#Z`` faces)
``%LINE``         by geometry type (``LINE``, ``CIRCLE``, ``PLANE``, ``CYLINDER`` ...)
``>Z[-2]``        the second farthest group along Z
``not <Z``        everything except the bottom
``>Z or <Z``      top and bottom; ``and`` and ``exc`` combine selectors too
``nearest(x, y, z)``  the edge/face nearest to a point (true distance, not centre
                  distance); combines with the rest: ``nearest(0, 5, 10) or >Z``

``nearest(...)`` is our addition to CadQuery's syntax. A graph cannot hold topology
references and face/edge *order* changes between rebuilds, so an index would pick a
different edge after an upstream change; a point on the element keeps meaning the
same region of the part. :func:`selector_for` (used by the Studio when the user picks an
edge or face in the viewer) prefers a semantic selector that names exactly that element
(``>Z``, ``|Z and >X and <Y``, ``%CYLINDER and >>Z[-2]``) — these survive most parameter
changes — and falls back to ``nearest(x, y, z)`` with a point on the element.

This module turns selector problems into PARAM_INVALID errors that say what went wrong
in the user's terms: a syntax error names the selector and the position; a selector that
matches nothing says how many edges/faces the shape has.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.context import KernelContext

__all__ = ["SELECTOR_SYNTAX", "PickedSelector", "parse_selector", "select_edges", "select_faces", "selector_for"]

SELECTOR_SYNTAX = (
    "CadQuery selector syntax: '>Z' (top), '<Z' (bottom), '|Z' (parallel to Z), '#Z' "
    "(perpendicular to Z), '%CIRCLE' (by type), '>Z[-2]' (second from top); combine with "
    "'and', 'or', 'not', 'exc', e.g. '>Z or <Z', 'not <Z', '|Z and >X'"
)

Kind = Literal["edge", "face"]


def select_edges(ctx: KernelContext, shape: Any, selector: str, *, param: str = "edges") -> list[Any]:
    """The edges of ``shape`` matched by ``selector`` (never empty: raises instead)."""
    return _select(ctx, shape, selector, "edge", param)


def select_faces(ctx: KernelContext, shape: Any, selector: str, *, param: str = "faces") -> list[Any]:
    """The faces of ``shape`` matched by ``selector`` (never empty: raises instead)."""
    return _select(ctx, shape, selector, "face", param)


def _select(ctx: KernelContext, shape: Any, selector: str, kind: Kind, param: str) -> list[Any]:
    text = selector.strip()
    candidates = list(shape.Edges() if kind == "edge" else shape.Faces())
    count = f"{len(candidates)} {kind}{'' if len(candidates) == 1 else 's'}"
    if not text:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"no {kind}s chosen: the selector is empty",
            param=param,
            hint=SELECTOR_SYNTAX,
        )
    try:
        parsed = parse_selector(text)
    except Exception as exc:  # pyparsing.ParseException and friends
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' is not valid selector syntax ({_first_line(exc)})",
            param=param,
            hint=SELECTOR_SYNTAX,
        ) from None
    try:
        selected = list(parsed.filter(candidates))
    except IndexError:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' asks for a group index the shape does not have (it has {count})",
            param=param,
            hint="'>Z[0]' is the farthest group along Z, '>Z[-1]' the nearest; indices count groups at distinct heights",
        ) from None
    except Exception as exc:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' could not be applied to the {count} of the shape ({_first_line(exc)})",
            param=param,
            hint=SELECTOR_SYNTAX,
        ) from None
    if not selected:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{text}' matched none of the {count} of the shape",
            param=param,
            hint=SELECTOR_SYNTAX,
        )
    return selected


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- nearest(x, y, z)


@functools.lru_cache(maxsize=512)
def parse_selector(text: str) -> Any:
    """A selector object for ``text``: CadQuery's string syntax plus ``nearest(x, y, z)``.

    Parsed once per distinct text (pyparsing costs ~1 ms a selector, the same selectors come
    back at every evaluation); the objects only hold the parsed expression, so sharing is safe.
    """
    if "nearest" not in text.lower():
        return cq().selectors.StringSyntaxSelector(text)  # exactly CadQuery's behaviour
    return _extended_grammar().parse_string(text, parse_all=True).as_list()[0]


def _point_distance(point: tuple[float, float, float], shape: Any) -> float:
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeVertex
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape
    from OCP.gp import gp_Pnt

    vertex = BRepBuilderAPI_MakeVertex(gp_Pnt(*point)).Vertex()
    extrema = BRepExtrema_DistShapeShape(vertex, shape.wrapped)
    return float(extrema.Value()) if extrema.IsDone() else math.inf


@functools.cache
def _extended_grammar() -> Any:
    import pyparsing as pp

    selectors = cq().selectors

    class NearestSelector(selectors.Selector):  # type: ignore[name-defined]
        """The object(s) at the smallest true distance from a point (ties within 1e-7)."""

        def __init__(self, point: tuple[float, float, float]) -> None:
            self.point = point

        def filter(self, objects: Sequence[Any]) -> list[Any]:
            distances = [_point_distance(self.point, o) for o in objects]
            if not distances:
                return []
            best = min(distances)
            tie = 1e-7 * max(1.0, *(abs(c) for c in self.point))
            return [o for o, d in zip(objects, distances) if d <= best + tie]

    number = pp.pyparsing_common.fnumber
    nearest = (
        pp.Suppress(pp.CaselessKeyword("nearest"))
        + pp.Suppress("(")
        + number
        + pp.Suppress(",")
        + number
        + pp.Suppress(",")
        + number
        + pp.Suppress(")")
    )
    nearest.set_parse_action(lambda res: NearestSelector((float(res[0]), float(res[1]), float(res[2]))))
    # CadQuery's atom grammar already carries the parse action that builds its selectors
    atom = nearest | selectors._grammar.copy()

    def binary(combine: Any) -> Any:
        return lambda res: functools.reduce(combine, res.as_list()[0][::2])

    return pp.infix_notation(
        atom,
        [
            (pp.Literal("and"), 2, pp.OpAssoc.LEFT, binary(selectors.AndSelector)),
            (pp.Literal("or"), 2, pp.OpAssoc.LEFT, binary(selectors.SumSelector)),
            (pp.one_of(["exc", "except"]), 2, pp.OpAssoc.LEFT, binary(selectors.SubtractSelector)),
            (pp.Literal("not"), 1, pp.OpAssoc.RIGHT, lambda res: selectors.InverseSelector(res.as_list()[0][1])),
        ],
    )


# --------------------------------------------------------------------------- selector for a picked element


@dataclass(frozen=True)
class PickedSelector:
    """A selector naming exactly one picked edge/face, plus what the Studio shows about it."""

    selector: str
    kind: Kind
    geom_type: str  # PLANE, CYLINDER, LINE, CIRCLE, ...
    center: tuple[float, float, float]  # a point on the element
    size: float  # area of a face, length of an edge
    radius: float | None = None  # circles, cylinders, spheres, ...
    normal: tuple[float, float, float] | None = None  # planar faces
    alternatives: tuple[str, ...] = field(default_factory=tuple)  # other exact selectors


_AXES = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}
_CLUSTER_TOLERANCE = 1e-4  # CadQuery's default for its Nth/min-max selectors


def selector_for(
    shape: Any,
    element: Any,
    kind: Kind,
    *,
    hints: Sequence[tuple[float, float, float]] = (),
    max_terms: int = 3,
) -> PickedSelector:
    """A selector that selects exactly ``element`` (a face/edge of ``shape``) among its kind.

    Semantic selectors come first: combinations of up to ``max_terms`` atoms (``>Z``,
    ``<X``, ``|Z``, ``#Y``, ``%CYLINDER``, ``>>Z[-2]``) joined with ``and``, cheapest first.
    When none names the element alone, ``nearest(x, y, z)`` with a point on the element
    (``hints`` — e.g. the centre of a picked triangle — are tried first). Every answer is
    checked by running it through the same parser the Fillet/Chamfer/Shell nodes use.
    """
    candidates = list(shape.Faces() if kind == "face" else shape.Edges())
    position = next((i for i, c in enumerate(candidates) if c.wrapped.IsSame(element.wrapped)), None)
    if position is None:
        raise ValueError(f"the {kind} is not part of the shape")
    target = candidates[position]
    exact = _semantic_selectors(candidates, position, max_terms)
    point = _point_on(target, kind, hints, candidates, position)
    fallback = _nearest_text(point, candidates, position)
    choices = [*exact, fallback] if fallback is not None else exact
    if not choices:  # cannot happen for a valid element: its own point names it
        raise ValueError(f"no selector names this {kind} alone (it coincides with another {kind})")
    return PickedSelector(
        selector=choices[0],
        kind=kind,
        geom_type=target.geomType(),
        center=point,
        size=float(target.Area() if kind == "face" else target.Length()),
        radius=_radius(target),
        normal=_normal(target) if kind == "face" else None,
        alternatives=tuple(choices[1:4]),
    )


def _selects_only(text: str, candidates: list[Any], position: int) -> bool:
    try:
        chosen = list(parse_selector(text).filter(candidates))
    except Exception:
        return False
    return len(chosen) == 1 and chosen[0].wrapped.IsSame(candidates[position].wrapped)


def _atom_sets(candidates: list[Any], position: int) -> list[tuple[str, float, int]]:
    """(atom, cost, bit set of selected candidates) for the atoms that select the target."""
    selectors = cq().selectors
    ids = {id(c): i for i, c in enumerate(candidates)}
    target = candidates[position]

    def bits(text: str) -> int | None:
        try:
            chosen = selectors.StringSyntaxSelector(text).filter(candidates)
        except Exception:
            return None
        out = 0
        for c in chosen:
            out |= 1 << ids[id(c)]
        return out

    atoms: list[tuple[str, float]] = []
    for axis in _AXES:
        atoms += [(f">{axis}", 1.0), (f"<{axis}", 1.0)]
    atoms.append((f"%{target.geomType()}", 1.1))
    for axis in _AXES:
        atoms += [(f"|{axis}", 1.2), (f"#{axis}", 1.2)]
    atoms += _nth_atoms(candidates, position)
    out = []
    for text, cost in atoms:
        selected = bits(text)
        if selected is not None and selected >> position & 1:
            out.append((text, cost, selected))
    return out


def _nth_atoms(candidates: list[Any], position: int) -> list[tuple[str, float]]:
    """``>>Z[-k]`` / ``<<Z[-k]``: the k-th group of centres from the top / bottom."""
    centers = [c.Center() for c in candidates]
    out = []
    for axis, (dx, dy, dz) in _AXES.items():
        keys = sorted((c.x * dx + c.y * dy + c.z * dz, i) for i, c in enumerate(centers))
        groups: list[set[int]] = [set()]
        start = keys[0][0]
        for key, i in keys:  # CadQuery's clustering: within tolerance of the group's first key
            if abs(key - start) <= _CLUSTER_TOLERANCE:
                groups[-1].add(i)
            else:
                groups.append({i})
                start = key
        rank = next(g for g, members in enumerate(groups) if position in members)
        from_top, from_bottom = len(groups) - 1 - rank, rank
        if from_top == 0 or from_bottom == 0:
            continue  # that is plain >Z / <Z
        if from_top <= from_bottom:
            out.append((f">>{axis}[-{from_top + 1}]", 2.0 + 0.1 * from_top))
        else:
            out.append((f"<<{axis}[-{from_bottom + 1}]", 2.0 + 0.1 * from_bottom))
    return out


def _semantic_selectors(candidates: list[Any], position: int, max_terms: int) -> list[str]:
    import itertools

    atoms = _atom_sets(candidates, position)
    want = 1 << position
    found: list[tuple[float, int, str]] = []
    for n in range(1, max_terms + 1):
        for order, combo in enumerate(itertools.combinations(range(len(atoms)), n)):
            selected = -1
            for a in combo:
                selected &= atoms[a][2]
            if selected == want:
                # an extra term that changes nothing is noise: keep minimal combinations only
                if any(
                    functools.reduce(lambda acc, a: acc & atoms[a][2], sub, -1) == want
                    for sub in itertools.combinations(combo, n - 1)
                    if n > 1
                ):
                    continue
                text = " and ".join(atoms[a][0] for a in combo)
                found.append((sum(atoms[a][1] for a in combo), n * 100000 + order, text))
    found.sort()
    return [text for _, _, text in found if _selects_only(text, candidates, position)][:6]


def _point_on(
    target: Any,
    kind: Kind,
    hints: Sequence[tuple[float, float, float]],
    candidates: list[Any],
    position: int,
) -> tuple[float, float, float]:
    """A point on the element: the projection of a hint (or of its centre) onto it."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeVertex
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape
    from OCP.gp import gp_Pnt

    if kind == "edge":
        mid = target.positionAt(0.5)
        starts: list[tuple[float, float, float]] = [*hints, (mid.x, mid.y, mid.z)]
    else:
        c = target.Center()
        starts = [*hints, (c.x, c.y, c.z)]
    first: tuple[float, float, float] | None = None
    for start in starts:
        vertex = BRepBuilderAPI_MakeVertex(gp_Pnt(*start)).Vertex()
        extrema = BRepExtrema_DistShapeShape(vertex, target.wrapped)
        if not extrema.IsDone() or extrema.NbSolution() == 0:
            continue
        p = extrema.PointOnShape2(1)
        point = (p.X(), p.Y(), p.Z())
        if first is None:
            first = point
        if _nearest_selects(point, candidates, position):
            return point
    if first is None:
        c = target.Center()
        first = (c.x, c.y, c.z)
    return first


def _nearest_selects(point: tuple[float, float, float], candidates: list[Any], position: int) -> bool:
    distances = [_point_distance(point, c) for c in candidates]
    mine = distances[position]
    return all(d > mine + 1e-7 * max(1.0, *(abs(v) for v in point)) for i, d in enumerate(distances) if i != position)


def _nearest_text(point: tuple[float, float, float], candidates: list[Any], position: int) -> str | None:
    """``nearest(x, y, z)`` rounded as far as it still names the element alone."""
    for digits in (3, 4, 6, 9, 12):
        text = "nearest({})".format(", ".join(_fmt(v, digits) for v in point))
        if _selects_only(text, candidates, position):
            return text
    return None


def _fmt(value: float, digits: int) -> str:
    text = f"{round(value, digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _radius(element: Any) -> float | None:
    try:
        if element.geomType() in ("CIRCLE", "CYLINDER", "SPHERE", "CONE"):
            return float(element.radius()) if hasattr(element, "radius") else _surface_radius(element)
    except Exception:
        return None
    return None


def _surface_radius(face: Any) -> float | None:
    from OCP.BRepAdaptor import BRepAdaptor_Surface
    from OCP.GeomAbs import GeomAbs_Cylinder, GeomAbs_Sphere

    surface = BRepAdaptor_Surface(face.wrapped)
    kind = surface.GetType()
    if kind == GeomAbs_Cylinder:
        return float(surface.Cylinder().Radius())
    if kind == GeomAbs_Sphere:
        return float(surface.Sphere().Radius())
    return None


def _normal(face: Any) -> tuple[float, float, float] | None:
    if face.geomType() != "PLANE":
        return None
    n = face.normalAt()
    return (float(n.x), float(n.y), float(n.z))
