"""Boolean operations and solid features (fillet, chamfer, shell, draft, offset).

Design notes
------------
* **One boolean, many tools.** A union or subtraction of N shapes runs as ONE OCCT
  boolean (``BRepAlgoAPI_Fuse`` / ``BRepAlgoAPI_Cut`` with a list of arguments and a
  list of tools) through :func:`run_boolean` — never a pairwise fold, which intersects
  the growing result again and again and is far slower. OCCT treats the tools as a
  group, so ``Common`` with several tools would give ``A ∩ (B ∪ C)``; an intersection of
  three or more shapes therefore runs as one general fuse (``BOPAlgo_CellsBuilder``)
  that keeps the cells lying inside every argument.
* **OCCT exceptions never escape.** Every OCCT call is wrapped; a failure becomes a
  :class:`~brepflow_lab.errors.NodeError` with the most specific code and a message in
  CAD terms (the radius, the shortest selected edge, the narrowest adjacent face ...).
  ``Shape()`` is never called on a builder that is not done: OCCT may crash the process.
* **Check what OCCT returns.** Fillets, chamfers, shells and offsets may come back
  "done" but invalid or inside out (e.g. a shell of a filleted box whose fillet radius
  is smaller than the wall). Those are reported here with the feature's own code
  (GEOM_FILLET_FAIL, GEOM_SHELL_FAIL ...) instead of the generic invalid-result error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, NoReturn

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.checks import Box, box_test, inside_box, is_inside_out, is_valid, solid_volume
from brepflow_lab.kernel.context import KernelContext
from brepflow_lab.kernel.selectors import select_edges, select_faces

__all__ = [
    "chamfer",
    "draft",
    "fillet",
    "intersect",
    "offset",
    "run_boolean",
    "shell",
    "subtract",
    "union",
]

BooleanKind = Literal["fuse", "cut", "common"]
JoinKind = Literal["arc", "intersection"]

_VERB = {"fuse": "union", "cut": "subtraction", "common": "intersection"}
_BOOLEAN_HINT = (
    "booleans often fail when shapes only touch along a face or an edge, or when an input is "
    "itself broken; let the tools overlap the base clearly (e.g. make a hole cutter a little longer)"
)


# --------------------------------------------------------------------------- helpers


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _length(ctx: KernelContext, value: float) -> str:
    return f"{_fmt(value)} {ctx.units}"


def _unwrap(shape: Any) -> Any:
    """A compound holding exactly one solid becomes that solid (what users expect downstream)."""
    m = cq()
    if isinstance(shape, m.Compound):
        children = list(shape)
        if len(children) == 1 and isinstance(children[0], (m.Solid, m.Compound)):
            return _unwrap(children[0])
    return shape


def _has_content(shape: Any) -> bool:
    return bool(shape.Solids() or shape.Shells() or shape.Faces() or shape.Edges() or shape.Vertices())


def _single_solid(ctx: KernelContext, shape: Any, feature: str) -> Any:
    solids = shape.Solids()
    if len(solids) != 1:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"{feature} needs exactly one solid, but the input holds {len(solids)}",
            hint="union the solids first (Boolean::Union)" if solids else "connect a solid, not a curve or surface",
        )
    return solids[0]


def _require_solids(ctx: KernelContext, shape: Any, feature: str) -> None:
    if not shape.Solids():
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"{feature} works on solids, but the input holds no solid",
            hint="connect a solid (e.g. an extrusion or a primitive), not a curve or surface",
        )


def _simplify(shape: Any) -> Any | None:
    """Merge coplanar faces / collinear edges left by a boolean (ShapeUpgrade_UnifySameDomain).

    Returns the simplified shape, or None when simplification failed or broke validity
    (it is cosmetic: the caller then keeps the unsimplified result)."""
    from OCP.ShapeUpgrade import ShapeUpgrade_UnifySameDomain

    try:
        upgrader = ShapeUpgrade_UnifySameDomain(shape.wrapped, True, True, True)
        upgrader.AllowInternalEdges(False)
        upgrader.Build()
        simplified = cq().Shape.cast(upgrader.Shape())
    except Exception:
        return None
    return simplified if is_valid(simplified) else None


def _try_build(builder: Any) -> Any | None:
    """Build an OCCT ``BRepBuilderAPI_MakeShape``; the shape, or None when OCCT failed."""
    try:
        builder.Build()
        if not builder.IsDone():
            return None
        return cq().Shape.cast(builder.Shape())
    except Exception:
        return None


# --------------------------------------------------------------------------- booleans


def run_boolean(ctx: KernelContext, kind: BooleanKind, arguments: Sequence[Any], tools: Sequence[Any]) -> Any:
    """ONE OCCT boolean of ``arguments`` with all ``tools`` at once (the only boolean entry point)."""
    from OCP.BRepAlgoAPI import BRepAlgoAPI_Common, BRepAlgoAPI_Cut, BRepAlgoAPI_Fuse
    from OCP.TopTools import TopTools_ListOfShape

    operation = {"fuse": BRepAlgoAPI_Fuse, "cut": BRepAlgoAPI_Cut, "common": BRepAlgoAPI_Common}[kind]()
    argument_list = TopTools_ListOfShape()
    for shape in arguments:
        argument_list.Append(shape.wrapped)
    tool_list = TopTools_ListOfShape()
    for shape in tools:
        tool_list.Append(shape.wrapped)
    operation.SetArguments(argument_list)
    operation.SetTools(tool_list)
    operation.SetRunParallel(True)
    result = _try_build(operation)
    if result is None:
        _raise_boolean_failure(ctx, kind, [*arguments, *tools])
    return result


def _run_common_of_all(ctx: KernelContext, shapes: Sequence[Any]) -> Any:
    """The part inside *every* shape, in one general-fuse operation (BOPAlgo_CellsBuilder)."""
    from OCP.BOPAlgo import BOPAlgo_CellsBuilder
    from OCP.TopTools import TopTools_ListOfShape

    builder = BOPAlgo_CellsBuilder()
    everything = TopTools_ListOfShape()
    for shape in shapes:
        everything.Append(shape.wrapped)
    result = None
    try:
        builder.SetArguments(everything)
        builder.SetRunParallel(True)
        builder.Perform()
        if not builder.HasErrors():
            builder.AddToResult(everything, TopTools_ListOfShape(), 1, False)
            builder.RemoveInternalBoundaries()
            result = cq().Shape.cast(builder.Shape())
    except Exception:
        result = None
    if result is None:
        _raise_boolean_failure(ctx, "common", shapes)
    return result


def _raise_boolean_failure(ctx: KernelContext, kind: BooleanKind, shapes: Sequence[Any]) -> NoReturn:
    broken = [str(i + 1) for i, s in enumerate(shapes) if not is_valid(s)]
    if broken:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"the {_VERB[kind]} failed because input shape(s) {', '.join(broken)} of {len(shapes)} "
            "are invalid (self-intersecting or broken topology)",
            hint="fix the upstream node that produced the broken shape",
        )
    raise ctx.error(
        ErrorCode.GEOM_BOOLEAN_FAIL,
        f"OCCT could not compute the {_VERB[kind]} of {len(shapes)} shapes",
        hint=_BOOLEAN_HINT,
    )


def _finish_boolean(ctx: KernelContext, kind: BooleanKind, result: Any, simplify: bool) -> Any:
    """Simplify if asked, and guarantee a valid result with exactly one validity check.

    Boolean nodes are declared ``trusted_output``: this is where their results are checked."""
    if simplify:
        simplified = _simplify(result)
        if simplified is not None:
            return _unwrap(simplified)
    if not is_valid(result):
        raise ctx.error(
            ErrorCode.GEOM_BOOLEAN_FAIL,
            f"OCCT produced an invalid result for the {_VERB[kind]} (self-intersecting or broken topology)",
            hint=_BOOLEAN_HINT,
        )
    return _unwrap(result)


def union(ctx: KernelContext, shapes: Sequence[Any], *, simplify: bool = True) -> Any:
    """Fuse all ``shapes`` in one boolean. A single compound of several solids fuses its solids."""
    shapes = list(shapes)
    if len(shapes) == 1:
        solids = shapes[0].Solids()
        if not (isinstance(shapes[0], cq().Compound) and len(solids) > 1):
            return shapes[0]
        shapes = list(solids)
    result = run_boolean(ctx, "fuse", shapes[:1], shapes[1:])
    return _finish_boolean(ctx, "fuse", result, simplify)


def subtract(ctx: KernelContext, base: Any, tools: Sequence[Any], *, simplify: bool = True) -> Any:
    """Cut every tool from ``base`` in one boolean; no tools returns ``base`` unchanged."""
    if not tools:
        return base
    result = run_boolean(ctx, "cut", [base], list(tools))
    if base.Solids() and not result.Solids():
        raise ctx.error(
            ErrorCode.GEOM_EMPTY_RESULT,
            f"nothing is left: the {len(tools)} tool shape(s) remove the whole base",
            hint="check the tools' sizes and positions",
        )
    return _finish_boolean(ctx, "cut", result, simplify)


def intersect(ctx: KernelContext, shapes: Sequence[Any], *, simplify: bool = True) -> Any:
    """The common part of all ``shapes`` (A ∩ B ∩ C ...)."""
    shapes = list(shapes)
    if len(shapes) == 1:
        return shapes[0]
    if len(shapes) == 2:
        result = run_boolean(ctx, "common", shapes[:1], shapes[1:])
    else:
        result = _run_common_of_all(ctx, shapes)
    all_solid = all(s.Solids() for s in shapes)
    if (all_solid and not result.Solids()) or not _has_content(result):
        raise ctx.error(
            ErrorCode.GEOM_EMPTY_RESULT,
            f"the {len(shapes)} shapes do not overlap, so their intersection is empty"
            + (" (at most they touch)" if all_solid and _has_content(result) else ""),
            hint="move the shapes so that they share some volume",
        )
    return _finish_boolean(ctx, "common", result, simplify)


# --------------------------------------------------------------------------- fillet / chamfer


def _target_edges(ctx: KernelContext, shape: Any, selector: str, select_all: bool, feature: str) -> list[Any]:
    if select_all:
        edges = list(shape.Edges())
        if not edges:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"the shape has no edges to {feature}")
        return edges
    if not selector.strip():
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"choose edges to {feature}: the edge selector is empty and 'selectAll' is off",
            param="edges",
            hint="enter a selector such as '|Z' (vertical edges) or '>Z' (top edges), or turn on selectAll",
        )
    return select_edges(ctx, shape, selector, param="edges")


def _edge_face_map(shape: Any) -> Any:
    from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedDataMapOfShapeListOfShape

    mapping = TopTools_IndexedDataMapOfShapeListOfShape()
    TopExp.MapShapesAndAncestors_s(shape.wrapped, TopAbs_EDGE, TopAbs_FACE, mapping)
    return mapping


def _narrowest_adjacent_face(shape: Any, edges: Sequence[Any], limit: int = 60) -> float | None:
    """How wide the faces next to ``edges`` are, measured across from each edge.

    For each selected edge and each face on either side, the distance from the edge to
    the face's edges that do not touch it (the opposite side of a box face). Only run on
    failure, for the error message; capped to ``limit`` distance computations.
    """
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape
    from OCP.TopoDS import TopoDS

    m = cq()
    mapping = _edge_face_map(shape)
    best: float | None = None
    budget = limit
    for edge in edges:
        if budget <= 0 or not mapping.Contains(edge.wrapped):
            continue
        own_vertices = [v.wrapped for v in edge.Vertices()]
        for face_shape in mapping.FindFromKey(edge.wrapped):
            face = m.Face(TopoDS.Face_s(face_shape))
            for other in face.Edges():
                if other.wrapped.IsSame(edge.wrapped):
                    continue
                if any(v.wrapped.IsSame(own) for v in other.Vertices() for own in own_vertices):
                    continue
                if budget <= 0:
                    break
                budget -= 1
                try:
                    dist = BRepExtrema_DistShapeShape(edge.wrapped, other.wrapped)
                    if dist.IsDone() and dist.Value() > 1e-9:
                        best = dist.Value() if best is None else min(best, dist.Value())
                except Exception:
                    continue
    return best


def _too_large(ctx: KernelContext, what: str, size: float, shape: Any, edges: Sequence[Any]) -> str:
    details = [f"shortest selected edge {_length(ctx, min(e.Length() for e in edges))}"]
    width = _narrowest_adjacent_face(shape, edges)
    if width is not None:
        details.append(f"narrowest adjacent face {_length(ctx, width)} across")
    return f"{what} {_length(ctx, size)} is too large for the selected {len(edges)} edge(s) ({', '.join(details)})"


def _edge_feature(
    ctx: KernelContext,
    shape: Any,
    size: float,
    selector: str,
    select_all: bool,
    *,
    feature: Literal["fillet", "chamfer"],
) -> Any:
    from OCP.BRepFilletAPI import BRepFilletAPI_MakeChamfer, BRepFilletAPI_MakeFillet

    _require_solids(ctx, shape, feature.capitalize())
    edges = _target_edges(ctx, shape, selector, select_all, feature)
    if feature == "fillet":
        builder: Any = BRepFilletAPI_MakeFillet(shape.wrapped)
        what, code = "fillet radius", ErrorCode.GEOM_FILLET_FAIL
        hint = "use a radius below half the narrowest adjacent face when both of its edges are rounded"
    else:
        builder = BRepFilletAPI_MakeChamfer(shape.wrapped)
        what, code = "chamfer distance", ErrorCode.GEOM_CHAMFER_FAIL
        hint = "use a distance below half the narrowest adjacent face when both of its edges are chamfered"
    try:
        for edge in edges:
            builder.Add(size, edge.wrapped)
    except Exception:
        raise ctx.error(code, f"OCCT refused the selected edges for a {feature}", param="edges") from None
    result = _try_build(builder)
    if result is None or not is_valid(result) or not result.Solids():
        raise ctx.error(
            code,
            _too_large(ctx, what, size, shape, edges),
            param="radius" if feature == "fillet" else "distance",
            hint=hint,
        )
    # rounding or bevelling edges never reaches outside the original bounding box (a concave
    # edge gains material, but inside the box); a "done" result that does is broken, and so
    # is one that is inside out (negative volume)
    if is_inside_out(result) or not inside_box(result, shape):
        after = solid_volume(result)  # only for the message: the failure path may be slow
        raise ctx.error(
            code,
            _too_large(ctx, what, size, shape, edges) + f": OCCT returned a solid of volume {_fmt(after)}",
            param="radius" if feature == "fillet" else "distance",
            hint=hint,
        )
    return _unwrap(result)


def fillet(ctx: KernelContext, shape: Any, radius: float, *, edges: str = "", select_all: bool = False) -> Any:
    """Round the selected edges (all edges with ``select_all``) with ``radius``."""
    return _edge_feature(ctx, shape, radius, edges, select_all, feature="fillet")


def chamfer(ctx: KernelContext, shape: Any, distance: float, *, edges: str = "", select_all: bool = False) -> Any:
    """Bevel the selected edges (all edges with ``select_all``) by ``distance`` on both faces."""
    return _edge_feature(ctx, shape, distance, edges, select_all, feature="chamfer")


# --------------------------------------------------------------------------- shell


def _smallest_curvature_radius(shape: Any) -> float | None:
    """The smallest radius among cylindrical, conical (at mid-height), spherical and toroidal faces."""
    from OCP.BRepAdaptor import BRepAdaptor_Surface
    from OCP.GeomAbs import GeomAbs_Cylinder, GeomAbs_Sphere, GeomAbs_Torus

    best: float | None = None
    for face in shape.Faces():
        try:
            surface = BRepAdaptor_Surface(face.wrapped)
            kind = surface.GetType()
            if kind == GeomAbs_Cylinder:
                radius = surface.Cylinder().Radius()
            elif kind == GeomAbs_Sphere:
                radius = surface.Sphere().Radius()
            elif kind == GeomAbs_Torus:
                radius = surface.Torus().MinorRadius()
            else:
                continue
        except Exception:
            continue
        best = radius if best is None else min(best, radius)
    return best


def _thick_solid(solid: Any, faces: Sequence[Any], offset: float, join: JoinKind) -> Any | None:
    from OCP.BRepOffset import BRepOffset_Skin
    from OCP.BRepOffsetAPI import BRepOffsetAPI_MakeThickSolid
    from OCP.GeomAbs import GeomAbs_Arc, GeomAbs_Intersection
    from OCP.TopTools import TopTools_ListOfShape

    closing = TopTools_ListOfShape()
    for face in faces:
        closing.Append(face.wrapped)
    builder = BRepOffsetAPI_MakeThickSolid()
    try:
        builder.MakeThickSolidByJoin(
            solid.wrapped,
            closing,
            offset,
            1e-4,
            BRepOffset_Skin,
            False,
            False,
            GeomAbs_Intersection if join == "intersection" else GeomAbs_Arc,
        )
    except Exception:
        return None
    return _try_build(builder)


def _closed_hollow(solid: Any, offset: float) -> Any | None:
    try:
        return solid.hollow([], offset, kind="arc")
    except Exception:
        return None


def _plausible_shell(solid: Any, opening: Sequence[Any], result: Any | None, inside: bool, thickness: float) -> bool:
    if result is None or not result.Solids() or not is_valid(result):
        return False
    before, after = solid_volume(solid), solid_volume(result)
    if not (after > 0 and math.isfinite(after)):
        return False
    if inside:
        # outer dimensions kept, material removed; a wall of thickness t under the kept faces
        # holds about area × t, and OCCT sometimes returns a "valid" solid far heavier than that
        # (inner offset of a small fillet gone wrong)
        if not after < before:
            return False
        kept_area = sum(f.Area() for f in solid.Faces()) - sum(f.Area() for f in opening)
        if not after <= 1.5 * kept_area * thickness:
            return False

        def same_box(outer: Box, box: Box, margin: float) -> bool:
            slack = 1e-3 + 1e-6 * math.dist(outer[:3], outer[3:]) + margin
            return all(abs(a - b) <= slack for a, b in zip(outer, box))

        return box_test(solid, result, same_box)

    def grown(outer: Box, box: Box, margin: float) -> bool:
        # the cavity is the solid: the result encloses it and grew by about the thickness
        slack = 1e-3 + 1e-6 * math.dist(outer[:3], outer[3:]) + margin
        encloses = all(box[i] <= outer[i] + slack for i in range(3)) and all(
            box[i] >= outer[i] - slack for i in range(3, 6)
        )
        return encloses and math.dist(box[:3], box[3:]) <= math.dist(outer[:3], outer[3:]) + 4 * thickness + slack

    return box_test(solid, result, grown)


def shell(ctx: KernelContext, shape: Any, thickness: float, *, inside: bool = True, faces: str = ">Z") -> Any:
    """Hollow a solid with walls of ``thickness``, opening the faces picked by ``faces``.

    ``inside=True`` keeps the outer dimensions and thickens inward; ``inside=False`` keeps
    the cavity the size of the solid and thickens outward. An empty ``faces`` selector
    makes a closed hollow solid (an inner void).
    """
    solid = _single_solid(ctx, shape, "Shell")
    opening = select_faces(ctx, solid, faces, param="faces") if faces.strip() else []
    total = len(solid.Faces())
    if len(opening) >= total:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"selector '{faces.strip()}' picks all {total} faces of the solid: nothing would be left to shell",
            param="faces",
        )
    offset = -thickness if inside else thickness
    attempts: list[Callable[[], Any | None]]
    if not opening:
        attempts = [lambda: _closed_hollow(solid, offset)]
    elif inside:
        attempts = [lambda: _thick_solid(solid, opening, offset, "arc")]
    else:  # sharp outer corners first; rounded joins when sharp ones cannot be built
        attempts = [
            lambda: _thick_solid(solid, opening, offset, "intersection"),
            lambda: _thick_solid(solid, opening, offset, "arc"),
        ]
    for attempt in attempts:
        result = attempt()
        if _plausible_shell(solid, opening, result, inside, thickness):
            return _unwrap(result)
    raise ctx.error(
        ErrorCode.GEOM_SHELL_FAIL,
        _shell_failure(ctx, solid, thickness, inside),
        param="thickness",
        hint=_shell_hint(inside),
    )


def _shell_failure(ctx: KernelContext, solid: Any, thickness: float, inside: bool) -> str:
    side = "inward" if inside else "outward"
    box = solid.BoundingBox()
    thinnest = min(box.xlen, box.ylen, box.zlen)
    details = [f"the solid is {_length(ctx, thinnest)} across at its thinnest"]
    radius = _smallest_curvature_radius(solid)
    if radius is not None:
        details.append(f"its smallest rounded face has radius {_length(ctx, radius)}")
    message = f"OCCT could not build a {_length(ctx, thickness)} wall {side} ({'; '.join(details)})"
    if inside and radius is not None and radius <= thickness:
        message += (
            f": an inward wall of {_length(ctx, thickness)} cannot follow a rounded face of radius "
            f"{_length(ctx, radius)}"
        )
    elif inside and 2 * thickness >= thinnest:
        message += ": two walls do not fit across it"
    return message


def _shell_hint(inside: bool) -> str:
    if inside:
        return "use a thickness smaller than the smallest fillet radius and than half the thinnest part, or shell before filleting"
    return "use a smaller thickness, or shell before filleting"


# --------------------------------------------------------------------------- draft


def _unit_vector(ctx: KernelContext, vector: Sequence[float], param: str) -> tuple[float, float, float]:
    length = math.sqrt(sum(c * c for c in vector))
    if length < 1e-12:
        raise ctx.error(ErrorCode.PARAM_INVALID, "the direction must not be the zero vector", param=param)
    return (vector[0] / length, vector[1] / length, vector[2] / length)


def _faces_along(shape: Any, direction: tuple[float, float, float]) -> list[Any]:
    """Faces that run along ``direction``: planes whose normal is perpendicular to it, cylinders around it."""
    from OCP.BRepAdaptor import BRepAdaptor_Surface
    from OCP.GeomAbs import GeomAbs_Cylinder, GeomAbs_Plane

    found = []
    for face in shape.Faces():
        surface = BRepAdaptor_Surface(face.wrapped)
        kind = surface.GetType()
        if kind == GeomAbs_Plane:
            n = surface.Plane().Axis().Direction()
            if abs(n.X() * direction[0] + n.Y() * direction[1] + n.Z() * direction[2]) < 1e-6:
                found.append(face)
        elif kind == GeomAbs_Cylinder:
            a = surface.Cylinder().Axis().Direction()
            if abs(abs(a.X() * direction[0] + a.Y() * direction[1] + a.Z() * direction[2]) - 1) < 1e-6:
                found.append(face)
    return found


def draft(
    ctx: KernelContext,
    shape: Any,
    angle: float,
    *,
    pull_direction: Sequence[float] = (0.0, 0.0, 1.0),
    faces: str = "",
    neutral_plane: Any | None = None,
    neutral_origin: Sequence[float] | None = None,
) -> Any:
    """Tilt side faces by ``angle`` degrees so the part narrows along ``pull_direction``.

    The faces stay put where they cross the neutral plane: the ``neutral_plane`` face if
    given, else the plane through ``neutral_origin`` (default: the solid's lowest point
    along the pull direction) perpendicular to the pull direction.
    """
    from OCP.BRepOffsetAPI import BRepOffsetAPI_DraftAngle
    from OCP.gp import gp_Dir, gp_Pln, gp_Pnt

    _require_solids(ctx, shape, "Draft")
    if angle == 0:
        return shape
    d = _unit_vector(ctx, pull_direction, "pullDirection")
    if faces.strip():
        targets = select_faces(ctx, shape, faces, param="faces")
    else:
        targets = _faces_along(shape, d)
        if not targets:
            raise ctx.error(
                ErrorCode.PARAM_INVALID,
                f"no face of the shape runs along the pull direction ({_fmt(d[0])}, {_fmt(d[1])}, {_fmt(d[2])})",
                param="faces",
                hint="choose the faces to draft with a selector, e.g. '#Z' for the sides of a box",
            )
    if neutral_plane is not None:
        try:
            plane = cq().Face(neutral_plane.Faces()[0].wrapped).toPln()
        except Exception:
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT, "the neutral plane input must be a planar face", param="neutralPlane"
            ) from None
    else:
        if neutral_origin is None:
            box = shape.BoundingBox()
            corners = [
                (x, y, z) for x in (box.xmin, box.xmax) for y in (box.ymin, box.ymax) for z in (box.zmin, box.zmax)
            ]
            low = min(c[0] * d[0] + c[1] * d[1] + c[2] * d[2] for c in corners)
            neutral_origin = (low * d[0], low * d[1], low * d[2])
        plane = gp_Pln(gp_Pnt(*neutral_origin), gp_Dir(*d))
    builder = BRepOffsetAPI_DraftAngle(shape.wrapped)
    for index, face in enumerate(targets):
        try:
            builder.Add(face.wrapped, gp_Dir(*d), math.radians(angle), plane)
            added = builder.AddDone()
        except Exception:
            added = False
        if not added:
            raise ctx.error(
                ErrorCode.GEOM_DRAFT_FAIL,
                f"face {index + 1} of the {len(targets)} selected faces cannot be drafted by {_fmt(angle)}° "
                "(faces perpendicular to the pull direction, or faces whose neighbours cannot follow, are refused)",
                param="faces",
                hint="select only the side faces that run along the pull direction",
            )
    result = _try_build(builder)
    if result is None or not is_valid(result) or not result.Solids():
        raise ctx.error(
            ErrorCode.GEOM_DRAFT_FAIL,
            f"OCCT could not tilt the {len(targets)} selected faces by {_fmt(angle)}°",
            param="angle",
            hint="a smaller angle, or fewer faces, usually works; the draft must not make faces vanish",
        )
    return _unwrap(result)


# --------------------------------------------------------------------------- offset


def offset(ctx: KernelContext, shape: Any, distance: float, *, join: JoinKind = "arc") -> Any:
    """Grow (``distance`` > 0) or shrink (< 0) a solid, or offset a surface, by ``distance``.

    ``join="arc"`` rounds the grown edges and corners (a true constant-distance offset);
    ``"intersection"`` extends the faces until they meet (sharp edges).
    """
    from OCP.BRepOffset import BRepOffset_Skin
    from OCP.BRepOffsetAPI import BRepOffsetAPI_MakeOffsetShape
    from OCP.GeomAbs import GeomAbs_Arc, GeomAbs_Intersection

    if distance == 0:
        return shape
    builder = BRepOffsetAPI_MakeOffsetShape()
    result = None
    try:
        builder.PerformByJoin(
            shape.wrapped,
            distance,
            1e-6,
            BRepOffset_Skin,
            False,
            False,
            GeomAbs_Intersection if join == "intersection" else GeomAbs_Arc,
        )
        if builder.IsDone():
            result = cq().Shape.cast(builder.Shape())
    except Exception:
        result = None
    plausible = result is not None and is_valid(result) and _has_content(result)
    if plausible and result is not None and shape.Solids():
        before, after = solid_volume(shape), solid_volume(result)
        plausible = bool(result.Solids()) and (after > before if distance > 0 else 0 < after < before)
    if not plausible or result is None:
        box = shape.BoundingBox()
        thinnest = min(v for v in (box.xlen, box.ylen, box.zlen) if v > 1e-9) if box.DiagonalLength > 0 else 0.0
        message = f"OCCT could not offset the shape by {_length(ctx, distance)}"
        if distance < 0 and 2 * abs(distance) >= thinnest:
            message += (
                f": shrinking by {_length(ctx, -distance)} on every side consumes a part {_length(ctx, thinnest)} thick"
            )
        raise ctx.error(
            ErrorCode.GEOM_OFFSET_FAIL,
            message,
            param="distance",
            hint="a smaller distance, or join 'arc' instead of 'intersection', usually works",
        )
    return _unwrap(result)
