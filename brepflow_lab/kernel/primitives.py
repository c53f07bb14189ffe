"""Solids: OCCT primitives and the profile-driven solids (extrude, revolve, sweep, loft).

Placement follows OCCT's primitive defaults, which is what BrepFlow uses, so one graph file
builds the same model in both tools: a box spans [0, w] × [0, h] × [0, d] unless a centre
is given; cylinders and cones stand on their base centre (z = 0) along +Z; spheres and tori
are centred on the origin.

Sweeps with twist or end scale are built as a multi-section pipe: copies of the profile,
turned about and scaled towards the path, are placed along the path and OCCT's
``BRepOffsetAPI_MakePipeShell`` interpolates them. A straight sweep uses one section, with
mitred ("right") corners where the path has sharp corners: OCCT's default transition
silently built wrong solids there (half the volume along an L-shaped polyline).

Inputs that crash or hang OCCT are refused *before* OCCT is called, as node errors:
twist / end scale on a closed path or on a path with sharp corners (the pipe shell
crashes the process with SIGSEGV on a closed polyline, and never gives a correct solid
on either), paths that fold back onto themselves (a closed spline through collinear
points hangs the pipe shell), and drafts that close the profile before the full
extrusion distance (``LocOpe_DPrism`` silently returns a truncated solid, or hangs on
some spline profiles) — the last measured against the profile's inradius.

Every OCCT failure becomes a NodeError with the most specific code (``GEOM_SWEEP_FAIL``,
``GEOM_LOFT_FAIL``, ...) and a message in CAD terms. Like every kernel module this one
imports OCP / cadquery only inside functions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.checks import is_inside_out, is_valid, vouch
from brepflow_lab.kernel.context import KernelContext
from brepflow_lab.kernel.curves import Vec3, face_inradius, occ_errors, profile_faces, profile_section, unit_vector
from brepflow_lab.kernel.part import shape_of

__all__ = [
    "extrude",
    "loft",
    "make_box",
    "make_cone",
    "make_cylinder",
    "make_sphere",
    "make_torus",
    "revolve",
    "sweep",
]

_ORIGIN: Vec3 = (0.0, 0.0, 0.0)
_Z: Vec3 = (0.0, 0.0, 1.0)


def _ax2(ctx: KernelContext, origin: Vec3, direction: Vec3, param: str) -> Any:
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt

    d = unit_vector(ctx, direction, param)
    return gp_Ax2(gp_Pnt(*origin), gp_Dir(*d))


def _primitive(shape: Any) -> Any:
    """An OCCT primitive (``BRepPrimAPI_Make*``): valid and oriented outwards by construction;
    recorded as such (:func:`~brepflow_lab.kernel.checks.vouch`) so that moved copies and
    compounds holding them are not analysed either."""
    return vouch(_result([shape]), valid=True, inside_out=False)


def _result(shapes: Sequence[Any]) -> Any:
    """One cadquery shape (downcast) for one result, a Compound for several."""
    m = cq()
    if len(shapes) == 1:
        return m.Shape.cast(shapes[0])
    return m.Compound.makeCompound([m.Shape.cast(s) for s in shapes])


def _sweep_angle(ctx: KernelContext, angle: float, param: str = "angle") -> float:
    if not 0.0 < angle <= 360.0:
        raise ctx.error(ErrorCode.PARAM_INVALID, f"angle must be in (0, 360] degrees, got {angle:g}", param=param)
    return math.radians(angle)


# --------------------------------------------------------------------------- primitives


def make_box(ctx: KernelContext, width: float, height: float, depth: float, center: Vec3 | None = None) -> Any:
    """Box of width (X) × height (Y) × depth (Z); corner at the origin, or centred on ``center``."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox
    from OCP.gp import gp_Pnt

    corner = _ORIGIN if center is None else (center[0] - width / 2, center[1] - height / 2, center[2] - depth / 2)
    with occ_errors(ctx, ErrorCode.GEOM_OPERATION_FAIL, f"could not build a {width:g} × {height:g} × {depth:g} box"):
        return _primitive(BRepPrimAPI_MakeBox(gp_Pnt(*corner), width, height, depth).Shape())


def make_cylinder(
    ctx: KernelContext,
    radius: float,
    height: float,
    center: Vec3 | None = None,
    axis: Vec3 = _Z,
    angle: float = 360.0,
) -> Any:
    """Cylinder standing on ``center`` (its base centre, default origin) along ``axis``."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeCylinder

    ax2 = _ax2(ctx, center or _ORIGIN, axis, "axis")
    rad = _sweep_angle(ctx, angle)
    with occ_errors(ctx, ErrorCode.GEOM_OPERATION_FAIL, f"could not build a cylinder r={radius:g} h={height:g}"):
        return _primitive(BRepPrimAPI_MakeCylinder(ax2, radius, height, rad).Shape())


def make_sphere(ctx: KernelContext, radius: float, center: Vec3 | None = None) -> Any:
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeSphere
    from OCP.gp import gp_Pnt

    with occ_errors(ctx, ErrorCode.GEOM_OPERATION_FAIL, f"could not build a sphere of radius {radius:g}"):
        return _primitive(BRepPrimAPI_MakeSphere(gp_Pnt(*(center or _ORIGIN)), radius).Shape())


def make_cone(
    ctx: KernelContext,
    radius1: float,
    radius2: float,
    height: float,
    center: Vec3 | None = None,
    axis: Vec3 = _Z,
    angle: float = 360.0,
) -> Any:
    """Cone or frustum on ``center`` (base centre) along ``axis``: ``radius1`` at the base,
    ``radius2`` at the top (0 for a pointed cone). Equal radii give a cylinder."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeCone, BRepPrimAPI_MakeCylinder

    if radius1 <= 0 and radius2 <= 0:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            "both radii are 0: a cone needs a base or a top radius greater than 0",
            param="radius1",
        )
    ax2 = _ax2(ctx, center or _ORIGIN, axis, "axis")
    rad = _sweep_angle(ctx, angle)
    with occ_errors(
        ctx,
        ErrorCode.GEOM_OPERATION_FAIL,
        f"could not build a cone r1={radius1:g} r2={radius2:g} h={height:g}",
    ):
        if abs(radius1 - radius2) < ctx.tolerance * 1e-3:
            return _primitive(BRepPrimAPI_MakeCylinder(ax2, radius1, height, rad).Shape())
        return _primitive(BRepPrimAPI_MakeCone(ax2, radius1, radius2, height, rad).Shape())


def make_torus(
    ctx: KernelContext,
    major_radius: float,
    minor_radius: float,
    center: Vec3 | None = None,
    axis: Vec3 = _Z,
    angle: float = 360.0,
) -> Any:
    """Torus centred on ``center`` around ``axis``; the tube radius must be below the ring radius."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeTorus

    if minor_radius >= major_radius:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"minor radius {minor_radius:g} must be smaller than major radius {major_radius:g} "
            "(otherwise the tube intersects itself)",
            param="minorRadius",
        )
    ax2 = _ax2(ctx, center or _ORIGIN, axis, "axis")
    rad = _sweep_angle(ctx, angle)
    with occ_errors(
        ctx, ErrorCode.GEOM_OPERATION_FAIL, f"could not build a torus R={major_radius:g} r={minor_radius:g}"
    ):
        return _primitive(BRepPrimAPI_MakeTorus(ax2, major_radius, minor_radius, rad).Shape())


# --------------------------------------------------------------------------- extrude


def extrude(ctx: KernelContext, profile: Any, direction: Vec3, distance: float, draft: float = 0.0) -> Any:
    """Extrude a closed profile (wire or face) ``distance`` along ``direction``.

    ``draft`` (degrees) tapers the side walls: positive draws them inwards (the end face
    is smaller, corners stay sharp), negative outwards (OCCT's drafted prism then rounds
    convex corners with conical faces). A draft needs the direction to be perpendicular
    to the profile's plane.
    """
    from OCP.BRepPrimAPI import BRepPrimAPI_MakePrism
    from OCP.LocOpe import LocOpe_DPrism

    m = cq()
    unit = unit_vector(ctx, direction, "direction")
    faces = profile_faces(ctx, profile, verb="extrude")
    vec = m.Vector(*unit) * distance
    solids = []
    known_valid = True  # every solid is valid by construction or was checked here
    known_outward = True  # ... and is a prism OCCT orients outwards by construction
    for face in faces:
        if abs(draft) < 1e-9:
            with occ_errors(ctx, ErrorCode.GEOM_OPERATION_FAIL, f"could not extrude the profile by {distance:g}"):
                solids.append(BRepPrimAPI_MakePrism(face.wrapped, vec.wrapped, True).Shape())
            if not _sound_prism(face, m.Vector(*unit), distance, ctx.tolerance):
                known_valid = known_outward = False
            continue
        known_outward = False  # LocOpe_DPrism: validity is checked below, orientation by the output check
        normal = face.normalAt()
        cosine = normal.dot(m.Vector(*unit))
        if abs(abs(cosine) - 1.0) > 1e-6:
            raise ctx.error(
                ErrorCode.GEOM_DRAFT_FAIL,
                f"a draft of {draft:g}° needs the extrusion direction to be perpendicular to the profile's plane "
                f"(it is {math.degrees(math.acos(max(-1.0, min(1.0, abs(cosine))))):.3g}° off)",
                param="draft",
                hint="set direction to the profile's normal, or draft 0",
            )
        _check_draft(ctx, face, distance, draft)
        sign = 1.0 if cosine > 0 else -1.0
        with occ_errors(
            ctx,
            ErrorCode.GEOM_DRAFT_FAIL,
            f"could not extrude with a draft of {draft:g}° over {distance:g}",
            param="draft",
            hint="a large draft over a long distance shrinks the profile to nothing; reduce one of them",
        ):
            builder = LocOpe_DPrism(
                face.wrapped, sign * distance / math.cos(math.radians(draft)), sign * math.radians(draft)
            )
            solid = builder.Shape()
            valid = not solid.IsNull() and is_valid(m.Shape.cast(solid))
        if not valid:
            free_form = sorted({e.geomType() for e in face.Edges()} - {"LINE", "CIRCLE", "ELLIPSE"})
            raise ctx.error(
                ErrorCode.GEOM_DRAFT_FAIL,
                f"OCCT's drafted extrusion gave an invalid solid for a draft of {draft:g}° over {distance:g}"
                + (
                    f": it cannot taper the profile's free-form ({', '.join(free_form).lower()}) edges"
                    if free_form
                    else ": the drafted walls intersect"
                ),
                param="draft",
                hint="draft profiles made of lines, arcs and circles, or use Solid::Loft between the profile and a "
                "smaller copy of it (Sketch::Offset2D)",
            )
        reach = _reach(m.Shape.cast(solid), face.Center(), m.Vector(*unit))
        if reach < distance - max(ctx.tolerance, 1e-6 * distance):
            raise ctx.error(
                ErrorCode.GEOM_DRAFT_FAIL,
                f"a draft of {draft:g}° closes the profile after {reach:.4g} of the {distance:g} extrusion: "
                "the drafted walls meet before the full distance",
                param="draft",
                hint=f"reduce the draft, or extrude at most {reach:.4g} with this draft",
            )
        solids.append(solid)
    result = _result(solids)
    if known_valid:
        vouch(result, valid=True, inside_out=False if known_outward else None)
    return result


def _sound_prism(face: Any, unit: Any, distance: float, tolerance: float) -> bool:
    """A straight prism of ``face`` along ``unit`` × ``distance`` is valid and oriented outwards
    by construction (``BRepSweep_Prism``): true for a valid planar face swept across its plane.

    The face is valid: :func:`profile_faces` checked the faces it made, and a face passed in
    is checked here (remembered: the upstream node's output check usually did it). A prism
    less than the model tolerance high (a direction within the face's plane gives a flat,
    inside-out solid) is not vouched for: the output check runs and reports it."""
    try:
        if face.geomType() != "PLANE" or not is_valid(face):
            return False
        return abs(face.normalAt().dot(unit)) * distance > max(tolerance, 1e-7)
    except Exception:
        return False


def _check_draft(ctx: KernelContext, face: Any, distance: float, draft: float) -> None:
    """Refuse a draft that closes the profile (or, drafted outwards, one of its holes) before
    the full distance, before calling OCCT.

    A draft of ``a`` over ``d`` moves every wall by ``s = d·tan(a)``: inwards for a positive
    draft, so the profile vanishes once ``s`` reaches its inradius (the radius of the largest
    circle inside it); outwards for a negative one, which closes a hole once ``s`` reaches
    the hole's own inradius. OCCT's ``LocOpe_DPrism`` does not report this: it silently
    returns a shorter solid (a hip roof on a rectangle, a cone on a circle) or, on some
    spline profiles, never returns.
    """
    shrink = distance * math.tan(math.radians(abs(draft)))
    inradius, holes = face_inradius(face)
    if draft > 0:
        limit, what = inradius, "the profile"
        detail = f"the profile's inradius (radius of the largest circle inside it) is {inradius:.4g}"
    elif holes:
        index = min(range(len(holes)), key=lambda i: holes[i])
        limit, what = holes[index], f"hole {index + 1} of the profile"
        detail = f"the largest circle inside that hole has a radius of {limit:.4g}"
    else:
        return
    margin = max(ctx.tolerance, 1e-4 * limit)
    if shrink < limit - margin:
        return
    usable = max(limit - margin, 0.0)
    max_draft = math.floor(math.degrees(math.atan(usable / distance)) * 100) / 100  # rounded down
    max_distance = math.floor(usable / math.tan(math.radians(abs(draft))) * 1000) / 1000
    side = "an inward" if draft > 0 else "an outward"
    raise ctx.error(
        ErrorCode.GEOM_DRAFT_FAIL,
        f"a draft of {draft:g}° over a distance of {distance:g} moves the walls by {shrink:.5g}, which closes "
        f"{what} before the full distance: {detail}",
        param="draft",
        hint=f"over a distance of {distance:g}, {side} draft can be at most {max_draft:g}°; "
        f"with a draft of {draft:g}° the distance can be at most {max_distance:g}",
    )


def _reach(solid: Any, origin: Any, direction: Any) -> float:
    """How far ``solid`` extends from ``origin`` along the unit ``direction``."""
    reach = max((v.Center() - origin).dot(direction) for v in solid.Vertices())
    for edge in solid.Edges():
        reach = max(reach, *((edge.positionAt(i / 8) - origin).dot(direction) for i in range(9)))
    return float(reach)


# --------------------------------------------------------------------------- revolve


def _axis_from_curve(ctx: KernelContext, curve: Any) -> tuple[Vec3, Vec3]:
    m = cq()
    shape = shape_of(curve)
    edges = shape.Edges()
    if not edges:
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the 'axis' input holds no curve")
    edge = edges[0]
    if len(edges) != 1 or edge.geomType() != "LINE":
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            "the 'axis' input must be a single straight line",
            hint="connect a Sketch::Line, or leave it unconnected and use the origin / direction parameters",
        )
    start, end = edge.startPoint(), edge.endPoint()
    d = end - start
    if not isinstance(d, m.Vector) or d.Length < ctx.tolerance:
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the 'axis' line has no length")
    return start.toTuple(), d.normalized().toTuple()


def _check_profile_against_axis(ctx: KernelContext, face: Any, origin: Vec3, direction: Vec3) -> None:
    """The profile must lie on one side of the axis (touching it is fine)."""
    m = cq()
    o, d = m.Vector(*origin), m.Vector(*direction)
    normal = face.normalAt()
    side_dir = d.cross(normal)
    if side_dir.Length < 1e-9:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            "the profile lies in a plane perpendicular to the revolve axis, so revolving it sweeps no volume",
            hint="sketch the profile in a plane that contains the axis (e.g. the XY plane for the Y axis)",
        )
    side_dir = side_dir.normalized()
    sides = []
    for edge in face.Edges():
        for i in range(9):
            p = edge.positionAt(i / 8)
            sides.append((p - o).dot(side_dir))
    tol = max(ctx.tolerance, 1e-7)
    if min(sides) < -tol and max(sides) > tol:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            "the profile crosses the revolve axis; revolving it would make a self-intersecting solid",
            hint="move the profile to one side of the axis or change the axis origin / direction",
        )


def revolve(
    ctx: KernelContext,
    profile: Any,
    origin: Vec3,
    direction: Vec3,
    angle: float,
    axis_curve: Any | None = None,
) -> Any:
    """Revolve a closed profile ``angle`` degrees about the axis through ``origin`` along ``direction``
    (or about the straight line ``axis_curve`` when given)."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeRevol
    from OCP.gp import gp_Ax1, gp_Dir, gp_Pnt

    if axis_curve is not None:
        origin, direction = _axis_from_curve(ctx, axis_curve)
    unit = unit_vector(ctx, direction, "direction")
    rad = _sweep_angle(ctx, angle)
    faces = profile_faces(ctx, profile, verb="revolve")
    ax1 = gp_Ax1(gp_Pnt(*origin), gp_Dir(*unit))
    solids = []
    for face in faces:
        _check_profile_against_axis(ctx, face, origin, unit)
        with occ_errors(ctx, ErrorCode.GEOM_OPERATION_FAIL, f"could not revolve the profile by {angle:g}°"):
            solids.append(BRepPrimAPI_MakeRevol(face.wrapped, ax1, rad, True).Shape())
    return _result(solids)


# --------------------------------------------------------------------------- sweep


def _path_wire(ctx: KernelContext, path: Any) -> Any:
    m = cq()
    shape = shape_of(path)
    if isinstance(shape, m.Wire):
        return shape
    if isinstance(shape, m.Edge):
        return m.Wire.assembleEdges([shape])
    wires = shape.Wires() or m.Wire.combine(shape.Edges())
    if len(wires) != 1:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"the sweep path must be one connected curve, got {len(wires)} pieces",
            hint="join the path segments into one wire (e.g. one Sketch::Polyline or Sketch::Spline)",
        )
    return wires[0]


def _rotation_between(a: Any, b: Any) -> tuple[Any, float] | None:
    """Axis and angle (degrees) turning unit vector ``a`` onto ``b``; None when already aligned."""
    m = cq()
    cosine = max(-1.0, min(1.0, a.dot(b)))
    if cosine > 1 - 1e-12:
        return None
    axis = a.cross(b)
    if axis.Length < 1e-9:  # opposite: any perpendicular axis
        axis = a.cross(m.Vector(1, 0, 0))
        if axis.Length < 1e-6:
            axis = a.cross(m.Vector(0, 1, 0))
    return axis.normalized(), math.degrees(math.acos(cosine))


def _pipe(wire: Any, path: Any, twist: float, scale: float) -> Any:
    """Sweep one closed wire along ``path`` as a solid (a TopoDS_Shape)."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_RightCorner
    from OCP.BRepOffsetAPI import BRepOffsetAPI_MakePipeShell

    m = cq()
    builder = BRepOffsetAPI_MakePipeShell(path.wrapped)
    builder.SetMode(False)  # corrected Frenet: stable on straight and planar paths
    # Mitred corners where the path has a sharp corner. OCCT's default ("transformed")
    # silently builds wrong solids there: half the volume along an L-shaped polyline,
    # none at all along a 3D polyline.
    builder.SetTransitionMode(BRepBuilderAPI_RightCorner)
    if abs(twist) < 1e-9 and abs(scale - 1.0) < 1e-9:
        builder.Add(wire.wrapped, False, False)
    else:
        count = 1 if abs(twist) < 1e-9 else max(2, math.ceil(abs(twist) / 30.0))
        p0 = path.positionAt(0)
        t0 = path.tangentAt(0).normalized()
        origin = m.Vector(0, 0, 0)
        for i in range(count + 1):
            t = i / count
            section = wire.translate(-p0)
            if abs(twist) > 1e-9 and t > 0:
                section = section.rotate(origin, t0, twist * t)
            factor = 1.0 + (scale - 1.0) * t
            if abs(factor - 1.0) > 1e-12:
                section = section.scale(factor)
            turn = _rotation_between(t0, path.tangentAt(t).normalized())
            if turn is not None:
                section = section.rotate(origin, turn[0], turn[1])
            section = section.translate(path.positionAt(t))
            builder.Add(section.wrapped, False, False)
    builder.Build()
    if not builder.IsDone():
        raise ValueError("pipe shell not done")
    if not builder.MakeSolid():
        raise ValueError("the swept shell could not be closed into a solid")
    return builder.Shape()


_FOLD_COSINE = math.cos(math.radians(175.0))  # a turn sharper than this folds the path back onto itself


def _check_path(ctx: KernelContext, path: Any, twist: float, scale: float) -> None:
    """Refuse paths OCCT's pipe shell cannot sweep, before calling it.

    * A twist or end scale on a closed path: the end section returns to the start section
      turned or resized, which cannot close into a valid solid. OCCT never succeeds, and
      on a closed path with corners (e.g. a triangle) its pipe shell crashes the process.
    * A path that folds back onto itself (turns by more than 175° at a corner or cusp, e.g.
      a closed spline through collinear points): the swept solid would overlap itself, and
      on such a closed spline ``BRepOffsetAPI_MakePipeShell`` never returns.
    """
    closed = path.IsClosed()
    twisted, scaled = abs(twist) > 1e-9, abs(scale - 1.0) > 1e-9
    if closed and (twisted or scaled):
        change = " and ".join(
            text for text, used in ((f"turned by {twist:g}°", twisted), (f"scaled by {scale:g}", scaled)) if used
        )
        raise ctx.error(
            ErrorCode.GEOM_SWEEP_FAIL,
            f"{'an end scale' if scaled else 'a twist'} cannot be used on a closed path: the end section, "
            f"{change}, would come back onto the start section, so the sweep cannot close into a solid",
            param="scale" if scaled else "twist",
            hint="use twist 0 and scale 1 along a closed path, or sweep along an open path",
        )
    if twisted or scaled:
        corner = _sharp_corner(path)
        if corner is not None:
            (x, y, z), turn = corner
            raise ctx.error(
                ErrorCode.GEOM_SWEEP_FAIL,
                f"a twist or end scale needs a smooth path, but the path turns by {turn:.3g}° at a sharp corner "
                f"at ({x:.4g}, {y:.4g}, {z:.4g})",
                param="scale" if scaled else "twist",
                hint="round the path's corners (Sketch::Fillet2D) or use a Sketch::Spline path; "
                "with twist 0 and scale 1 a path with corners is swept with mitred corners",
            )
    import numpy as np
    from OCP.BRepAdaptor import BRepAdaptor_CompCurve
    from OCP.gp import gp_Pnt, gp_Vec

    adaptor = BRepAdaptor_CompCurve(path.wrapped)
    first, last = adaptor.FirstParameter(), adaptor.LastParameter()
    samples = 256
    points: list[Vec3] = []
    derivatives: list[Vec3] = []
    for i in range(samples + 1):
        p, d1 = gp_Pnt(), gp_Vec()
        adaptor.D1(first + (last - first) * i / samples, p, d1)
        points.append((p.X(), p.Y(), p.Z()))
        derivatives.append((d1.X(), d1.Y(), d1.Z()))
    if closed and len(points) > 2 and _spread_off_line(points) < ctx.tolerance:
        raise ctx.error(
            ErrorCode.GEOM_SWEEP_FAIL,
            "the closed path lies on one straight line: it runs out and folds back onto itself, enclosing no "
            "area, so the swept solid would overlap itself",
            hint="use a path that does not retrace itself (e.g. move a point of the spline off the line)",
        )
    d1s = np.asarray(derivatives)
    norms = np.linalg.norm(d1s, axis=1)
    keep = np.flatnonzero(norms > 1e-12)  # a cusp has no tangent; the neighbouring samples show the fold
    if len(keep) < 2:
        return
    tangents = d1s[keep] / norms[keep][:, None]
    starts = list(keep[:-1])
    cosines = list(np.einsum("ij,ij->i", tangents[:-1], tangents[1:]))
    if closed:
        starts.append(keep[-1])
        cosines.append(float(tangents[-1] @ tangents[0]))
    for where_index, cosine in zip(starts, cosines, strict=True):
        if cosine < _FOLD_COSINE:
            where = points[where_index]
            turn = math.degrees(math.acos(max(-1.0, min(1.0, float(cosine)))))
            raise ctx.error(
                ErrorCode.GEOM_SWEEP_FAIL,
                f"the path turns back on itself by {turn:.1f}° near ({where[0]:.4g}, {where[1]:.4g}, "
                f"{where[2]:.4g}); the swept solid would overlap itself",
                hint="remove the point where the path reverses, or round the corner (Sketch::Fillet2D)",
            )


def _sharp_corner(path: Any) -> tuple[Vec3, float] | None:
    """Where and by how much (degrees) the path turns at its sharpest corner between edges."""
    from OCP.BRepTools import BRepTools_WireExplorer
    from OCP.TopAbs import TopAbs_REVERSED

    m = cq()
    ends: list[tuple[Any, Any, Any]] = []  # per edge in path order: start tangent, end tangent, end point
    explorer = BRepTools_WireExplorer(path.wrapped)
    while explorer.More():
        edge = m.Edge(explorer.Current())
        reverse = explorer.Current().Orientation() == TopAbs_REVERSED
        first, last = edge.tangentAt(0), edge.tangentAt(1)
        if reverse:
            first, last = -last, -first
        ends.append((first.normalized(), last.normalized(), edge.endPoint()))  # endPoint follows the orientation
        explorer.Next()
    joints = list(itertools.pairwise(ends))
    if path.IsClosed() and len(ends) > 1:
        joints.append((ends[-1], ends[0]))
    worst: tuple[Vec3, float] | None = None
    for (_, out_dir, at), (in_dir, _, _) in joints:
        turn = math.degrees(math.acos(max(-1.0, min(1.0, out_dir.dot(in_dir)))))
        if turn > 0.5 and (worst is None or turn > worst[1]):
            worst = (at.toTuple(), turn)
    return worst


def _spread_off_line(points: Sequence[Vec3]) -> float:
    """How far the points reach away from their best-fit straight line (largest deviation)."""
    import numpy as np

    pts = np.asarray(points, dtype=float)
    centred = pts - pts.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    along = centred @ axes[0]
    off = centred - np.outer(along, axes[0])
    return float(np.sqrt((off * off).sum(axis=1)).max())


def _length_parameters(adaptor: Any, count: int) -> list[float]:
    """Curve parameters at arc lengths 0, 1/count, ..., 1 of ``adaptor``'s length (what cadquery's
    ``positionAt`` / ``curvatureAt`` compute per call, with a new adaptor and length each time)."""
    from OCP.GCPnts import GCPnts_AbscissaPoint

    first = adaptor.FirstParameter()
    length = GCPnts_AbscissaPoint.Length_s(adaptor)
    return [GCPnts_AbscissaPoint(adaptor, length * i / count, first).Parameter() for i in range(count + 1)]


def _check_bend(ctx: KernelContext, faces: Sequence[Any], path: Any, scale: float) -> None:
    """Refuse a profile that reaches further from the path than the path's tightest bend radius:
    OCCT would build a self-overlapping (yet 'valid') solid.

    The profile's reach: its vertices and 9 points along each edge; the path's curvature: 65
    points evenly spaced along its length. One curve adaptor per curve (cadquery's
    ``curvatureAt`` built two and measured the whole path's length at each of the 65 points)."""
    from OCP.LProp3d import LProp3d_CLProps

    m = cq()
    path_curve = path._geomAdaptor()
    p0 = m.Vector(path_curve.Value(path_curve.FirstParameter()))
    reach = max((v.Center() - p0).Length for face in faces for v in face.Vertices())
    for face in faces:
        for edge in face.Edges():
            curve = edge._geomAdaptor()
            reach = max(reach, *((m.Vector(curve.Value(u)) - p0).Length for u in _length_parameters(curve, 8)))
    reach *= max(1.0, scale)
    curvature = 0.0
    for u in _length_parameters(path_curve, 64):
        try:
            curvature = max(curvature, LProp3d_CLProps(path_curve, u, 2, 1e-6).Curvature())
        except Exception:  # a corner of a polyline path has no curvature; the pipe shell handles it
            continue
    if curvature > 1e-12 and reach >= 1.0 / curvature:
        raise ctx.error(
            ErrorCode.GEOM_SWEEP_FAIL,
            f"the profile reaches {reach:.4g} from the path but the path bends with a radius of only "
            f"{1.0 / curvature:.4g}; the swept solid would overlap itself",
            hint="use a smaller profile or a path with gentler bends",
        )


def sweep(ctx: KernelContext, profile: Any, path: Any, twist: float = 0.0, scale: float = 1.0) -> Any:
    """Sweep a closed profile along ``path``; ``twist`` (degrees) turns it about the path,
    ``scale`` is the size of the end section relative to the start (linear in between)."""
    from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut

    m = cq()
    path_wire = _path_wire(ctx, path)
    faces = profile_faces(ctx, profile, verb="sweep")
    _check_path(ctx, path_wire, twist, scale)
    _check_bend(ctx, faces, path_wire, scale)
    solids = []
    with occ_errors(
        ctx,
        ErrorCode.GEOM_SWEEP_FAIL,
        "could not sweep the profile along the path",
        hint="the path must not bend more tightly than the profile's size, and the profile should sit "
        "at the start of the path, across it",
    ):
        for face in faces:
            outer = _pipe(face.outerWire(), path_wire, twist, scale)
            inner = [_pipe(w, path_wire, twist, scale) for w in face.innerWires()]
            if inner:
                outer = BRepAlgoAPI_Cut(
                    outer, m.Compound.makeCompound([m.Shape.cast(s) for s in inner]).wrapped
                ).Shape()
            solids.append(outer)
        result = _result(solids)
        if not is_valid(result):
            raise ValueError("the swept solid intersects itself")
        if is_inside_out(result):
            raise ValueError("the swept solid is inside out")
    return result


# --------------------------------------------------------------------------- loft


def loft(ctx: KernelContext, profiles: Sequence[Any], ruled: bool = False, closed: bool = False) -> Any:
    """Solid through the section curves in the order given.

    The first and last section may be points (a loft to an apex). ``ruled`` joins the
    sections with straight lines; ``closed`` connects the last section back to the first
    (needs at least three sections, none of them a point).
    """
    from OCP.BRepOffsetAPI import BRepOffsetAPI_ThruSections

    m = cq()
    if len(profiles) < 2:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"a loft needs at least 2 profiles, got {len(profiles)}",
            hint="connect two or more closed curves to 'profiles'",
        )
    sections = [profile_section(ctx, p, name=f"profiles[{i}]", allow_point=True) for i, p in enumerate(profiles)]
    for i, section in enumerate(sections):
        if isinstance(section, m.Vertex):
            if 0 < i < len(sections) - 1:
                raise ctx.error(
                    ErrorCode.GEOM_INVALID_INPUT,
                    f"profile {i} is a point; only the first and last loft sections may be points",
                )
        elif not section.IsClosed():
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT,
                f"profile {i} is an open curve; a solid loft needs closed sections",
                hint="close the curves (e.g. closed=true on Sketch::Polyline)",
            )
    if closed:
        if len(sections) < 3 or any(isinstance(s, m.Vertex) for s in sections):
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT,
                "a closed loft needs at least 3 curve profiles (no points)",
                param="closed",
            )
        sections.append(sections[0])
    with occ_errors(
        ctx,
        ErrorCode.GEOM_LOFT_FAIL,
        f"could not loft through {len(profiles)} profiles",
        hint="profiles should not intersect each other, and work best with the same number of edges",
    ):
        builder = BRepOffsetAPI_ThruSections(True, ruled, 1e-6)
        for section in sections:
            if isinstance(section, m.Vertex):
                builder.AddVertex(section.wrapped)
            else:
                builder.AddWire(section.wrapped)
        builder.Build()
        if not builder.IsDone():
            raise ValueError("thru-sections not done")
        result = _result([builder.Shape()])
        if not is_valid(result):
            raise ValueError("the lofted solid intersects itself")
        if is_inside_out(result):
            raise ValueError("the lofted solid is inside out")
    return result
