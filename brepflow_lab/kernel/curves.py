"""Sketch geometry: points, lines, arcs, closed profiles, splines, 2D offsets and fillets.

Everything here builds on the XY plane unless a centre / normal says otherwise, and returns
cadquery ``Wire`` objects (a sketch curve is always a wire, even a single line, so that
downstream nodes see one kind of Curve) or a ``Vertex`` for points.

The module also owns the *profile* helpers that solid operations use: turning whatever a
user connected to a ``profile`` socket (a closed wire, a face, a compound of nested wires)
into faces or wires, with errors that say what was wrong with the profile and how to fix it.

It also measures profiles: ``face_inradius`` (the radius of the largest circle inside a
planar face, found on a polygonized boundary with numpy) tells how far a draft may move
the walls before the profile closes.

2D offsets of a full circle are built exactly (the concentric circle), and other closed
one-edge curves are cut in two first: OCCT's ``BRepOffsetAPI_MakeOffset`` kills the
process (SIGSEGV) on an inward offset of a circle of radius <= 1 and on any offset of an
ellipse whose radii are (almost) equal, while the same curve in two halves is safe.

Like every kernel module it imports OCP / cadquery only inside functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from brepflow_lab.core.errors import ErrorCode, NodeError
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.checks import is_valid
from brepflow_lab.kernel.context import KernelContext
from brepflow_lab.kernel.part import shape_of

__all__ = [
    "Vec3",
    "face_inradius",
    "fillet_2d",
    "make_arc",
    "make_circle",
    "make_ellipse",
    "make_line",
    "make_point",
    "make_polyline",
    "make_rectangle",
    "make_regular_polygon",
    "make_spline",
    "occ_errors",
    "offset_2d",
    "parse_points",
    "point_coords",
    "profile_faces",
    "profile_section",
    "unit_vector",
]

Vec3 = tuple[float, float, float]

_EPS = 1e-9


# --------------------------------------------------------------------------- helpers


@contextmanager
def occ_errors(
    ctx: KernelContext,
    code: ErrorCode,
    message: str,
    *,
    param: str | None = None,
    hint: str | None = None,
) -> Iterator[None]:
    """Turn any OCCT / cadquery exception raised inside the block into a NodeError.

    ``message`` says in CAD terms what could not be done; OCCT's own text is appended
    in brackets as a detail only. NodeErrors raised inside pass through untouched.
    """
    try:
        yield
    except NodeError:
        raise
    except Exception as exc:  # OCCT raises Standard_Failure / StdFail_NotDone / ValueError ...
        detail = str(exc).strip() or type(exc).__name__
        raise ctx.error(code, f"{message} (OCCT: {detail})", param=param, hint=hint) from None


def unit_vector(ctx: KernelContext, vec: Sequence[float], param: str) -> Vec3:
    """``vec`` normalised; a zero vector is a PARAM_INVALID error naming ``param``."""
    x, y, z = (float(v) for v in vec)
    length = math.sqrt(x * x + y * y + z * z)
    if length < _EPS:
        raise ctx.error(ErrorCode.PARAM_INVALID, "a direction of length zero has no orientation", param=param)
    return (x / length, y / length, z / length)


def point_coords(ctx: KernelContext, value: Any, name: str) -> Vec3:
    """Coordinates of a point given as a tuple / list, a cadquery Vector or a Vertex."""
    m = cq()
    value = shape_of(value)
    if isinstance(value, m.Vertex):
        return (value.X, value.Y, value.Z)
    if isinstance(value, m.Vector):
        return (value.x, value.y, value.z)
    if isinstance(value, dict):
        value = (value.get("x", 0.0), value.get("y", 0.0), value.get("z", 0.0))
    if isinstance(value, (tuple, list)) and len(value) in (2, 3):
        try:
            coords = [float(v) for v in value] + [0.0] * (3 - len(value))
        except (TypeError, ValueError):
            coords = []
        if len(coords) == 3 and all(math.isfinite(c) for c in coords):
            return (coords[0], coords[1], coords[2])
    raise ctx.error(
        ErrorCode.GEOM_INVALID_INPUT,
        f"'{name}' must be a point (x, y, z) or a Sketch::Point, got {type(value).__name__}",
    )


_POINT_SEPARATORS = re.compile(r"[;\n]+")


def parse_points(ctx: KernelContext, text: str, param: str = "points") -> list[Vec3]:
    """Parse a point list written as ``"x,y[,z]; x,y[,z]; ..."``.

    Points are separated by ``;`` or new lines, coordinates by ``,`` (spaces are ignored);
    a point with two coordinates lies on z = 0. Example: ``"0,0; 10,0; 10,5,2"``.
    """
    points: list[Vec3] = []
    for index, chunk in enumerate(part.strip() for part in _POINT_SEPARATORS.split(text)):
        if not chunk:
            continue
        fields = [f.strip() for f in chunk.strip("()[] ").split(",")]
        try:
            coords = [float(f) for f in fields]
        except ValueError:
            coords = []
        if len(coords) not in (2, 3) or not all(math.isfinite(c) for c in coords):
            raise ctx.error(
                ErrorCode.PARAM_INVALID,
                f"point {index + 1} '{chunk}' is not 'x,y' or 'x,y,z'",
                param=param,
                hint="write points as 'x,y[,z]' separated by ';', e.g. '0,0; 10,0; 10,5'",
            )
        coords += [0.0] * (3 - len(coords))
        points.append((coords[0], coords[1], coords[2]))
    return points


def _distance(a: Vec3, b: Vec3) -> float:
    return math.dist(a, b)


def _as_wire(edge_or_wire: Any) -> Any:
    m = cq()
    if isinstance(edge_or_wire, m.Wire):
        return edge_or_wire
    return m.Wire.assembleEdges([edge_or_wire])


# --------------------------------------------------------------------------- sketch curves


def make_point(ctx: KernelContext, xyz: Vec3) -> Any:
    m = cq()
    return m.Vertex.makeVertex(*xyz)


def make_line(ctx: KernelContext, start: Vec3, end: Vec3) -> Any:
    if _distance(start, end) < ctx.tolerance:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"start and end are the same point {start}: a line needs two distinct points",
            param="end",
        )
    m = cq()
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, "could not build the line"):
        return _as_wire(m.Edge.makeLine(m.Vector(*start), m.Vector(*end)))


def make_circle(ctx: KernelContext, center: Vec3, radius: float, normal: Vec3) -> Any:
    m = cq()
    n = unit_vector(ctx, normal, "normal")
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, f"could not build a circle of radius {radius:g}"):
        return m.Wire.makeCircle(radius, m.Vector(*center), m.Vector(*n))


def make_rectangle(ctx: KernelContext, center: Vec3, width: float, height: float) -> Any:
    """Axis-aligned rectangle in the plane z = center.z, centred on ``center``."""
    cx, cy, cz = center
    hw, hh = width / 2.0, height / 2.0
    corners = [(cx - hw, cy - hh, cz), (cx + hw, cy - hh, cz), (cx + hw, cy + hh, cz), (cx - hw, cy + hh, cz)]
    m = cq()
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, "could not build the rectangle"):
        return m.Wire.makePolygon([m.Vector(*p) for p in corners], close=True)


def make_arc(
    ctx: KernelContext,
    center: Vec3,
    radius: float,
    start_angle: float,
    end_angle: float,
    *,
    start: Vec3 | None = None,
    end: Vec3 | None = None,
) -> Any:
    """Circular arc in the XY plane (at ``center.z``), counter-clockwise from start to end angle.

    Angles are in degrees from +X. ``start`` / ``end`` points, when given, override the
    angles (and ``start`` the radius): the arc runs from ``start`` counter-clockwise round
    ``center`` to the direction of ``end``.
    """
    cx, cy, cz = center
    if start is not None:
        dx, dy = start[0] - cx, start[1] - cy
        radius = math.hypot(dx, dy)
        if radius < ctx.tolerance:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the arc's start point coincides with its centre")
        start_angle = math.degrees(math.atan2(dy, dx))
    if end is not None:
        dx, dy = end[0] - cx, end[1] - cy
        if math.hypot(dx, dy) < ctx.tolerance:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the arc's end point coincides with its centre")
        end_angle = math.degrees(math.atan2(dy, dx))
    sweep = (end_angle - start_angle) % 360.0
    if sweep < 1e-9:
        if abs(end_angle - start_angle) < 1e-9:
            raise ctx.error(
                ErrorCode.PARAM_INVALID,
                f"start and end angle are both {start_angle:g}°: the arc would have no length",
                param="endAngle",
                hint="use Sketch::Circle for a full circle",
            )
        sweep = 360.0
    m = cq()
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, f"could not build an arc of radius {radius:g}"):
        if sweep >= 360.0:
            edge = m.Edge.makeCircle(radius, m.Vector(cx, cy, cz), m.Vector(0, 0, 1))
        else:
            edge = m.Edge.makeCircle(radius, m.Vector(cx, cy, cz), m.Vector(0, 0, 1), start_angle, start_angle + sweep)
        return _as_wire(edge)


def make_ellipse(ctx: KernelContext, center: Vec3, major: float, minor: float, normal: Vec3) -> Any:
    """Closed ellipse; ``major`` lies along the plane's x direction (X for the XY plane).

    OCCT needs the major radius to be the larger one; if ``minor`` is larger the ellipse
    is built turned by 90° in its plane, so the radii keep their x / y meaning.

    Radii that differ by less than the model tolerance give a circle: OCCT's ellipse
    with equal radii is a degenerate curve that crashes later operations (a 2D offset of
    it kills the process), while the circle is the same shape and works everywhere.
    """
    m = cq()
    n = unit_vector(ctx, normal, "normal")
    if abs(major - minor) < ctx.tolerance:
        return make_circle(ctx, center, (major + minor) / 2, n)
    plane = m.Plane(origin=m.Vector(*center), normal=m.Vector(*n))
    xdir, ydir = plane.xDir, plane.yDir
    if minor > major:
        major, minor, xdir = minor, major, ydir
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, f"could not build an ellipse {major:g} × {minor:g}"):
        return _as_wire(m.Edge.makeEllipse(major, minor, m.Vector(*center), m.Vector(*n), xdir))


def make_regular_polygon(ctx: KernelContext, center: Vec3, sides: int, radius: float, inscribed: bool) -> Any:
    """Regular polygon in the XY plane, first corner on the +X side of ``center``.

    ``inscribed``: the polygon is inscribed in the circle of ``radius`` (radius = centre to
    corner); otherwise it is circumscribed about it (radius = centre to edge midpoint).
    """
    if sides < 3:
        raise ctx.error(ErrorCode.PARAM_INVALID, f"a polygon needs at least 3 sides, got {sides}", param="sides")
    corner = radius if inscribed else radius / math.cos(math.pi / sides)
    cx, cy, cz = center
    points = [
        (cx + corner * math.cos(2 * math.pi * i / sides), cy + corner * math.sin(2 * math.pi * i / sides), cz)
        for i in range(sides)
    ]
    return make_polyline(ctx, points, closed=True)


def _check_point_list(ctx: KernelContext, points: Sequence[Vec3], closed: bool, param: str, what: str) -> None:
    needed = 3 if closed else 2
    if len(points) < needed:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"a {'closed ' if closed else ''}{what} needs at least {needed} points, got {len(points)}",
            param=param,
        )
    for i in range(1, len(points)):
        if _distance(points[i - 1], points[i]) < ctx.tolerance:
            raise ctx.error(
                ErrorCode.PARAM_INVALID,
                f"points {i} and {i + 1} are the same point {points[i]}; consecutive points must differ",
                param=param,
            )
    if closed and _off_line(points) < ctx.tolerance:
        raise ctx.error(
            ErrorCode.PARAM_INVALID,
            f"all {len(points)} points of this closed {what} lie on one straight line, so the closed {what} "
            "would run out and fold back onto itself, enclosing no area",
            param=param,
            hint=f"move a point off the line, or set closed=false for an open {what}",
        )


def _off_line(points: Sequence[Vec3]) -> float:
    """The largest distance of a point from the line through the two points furthest apart."""
    first = points[0]
    far = max(points, key=lambda p: _distance(first, p))
    other = max(points, key=lambda p: _distance(far, p))
    length = _distance(far, other)
    if length < _EPS:
        return 0.0
    d = [(o - f) / length for o, f in zip(other, far, strict=True)]
    worst = 0.0
    for p in points:
        v = [a - b for a, b in zip(p, far, strict=True)]
        along = sum(a * b for a, b in zip(v, d, strict=True))
        worst = max(worst, math.sqrt(max(0.0, sum(a * a for a in v) - along * along)))
    return worst


def make_polyline(ctx: KernelContext, points: Sequence[Vec3], closed: bool, *, param: str = "points") -> Any:
    """Straight segments through ``points``; ``closed`` joins the last point back to the first."""
    pts = list(points)
    if closed and len(pts) > 3 and _distance(pts[0], pts[-1]) < ctx.tolerance:
        pts = pts[:-1]  # the user repeated the first point to close it
    _check_point_list(ctx, pts, closed, param, "polyline")
    m = cq()
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, f"could not build a polyline through {len(pts)} points"):
        return m.Wire.makePolygon([m.Vector(*p) for p in pts], close=closed)


def make_spline(ctx: KernelContext, points: Sequence[Vec3], closed: bool, *, param: str = "points") -> Any:
    """Smooth interpolating B-spline through ``points`` (periodic when ``closed``)."""
    pts = list(points)
    if closed and len(pts) > 3 and _distance(pts[0], pts[-1]) < ctx.tolerance:
        pts = pts[:-1]
    _check_point_list(ctx, pts, closed, param, "spline")
    m = cq()
    with occ_errors(ctx, ErrorCode.GEOM_SKETCH_FAIL, f"could not interpolate a spline through {len(pts)} points"):
        return _as_wire(m.Edge.makeSpline([m.Vector(*p) for p in pts], periodic=closed))


# --------------------------------------------------------------------------- 2D operations


def _single_wire(ctx: KernelContext, curve: Any, name: str) -> Any:
    m = cq()
    curve = shape_of(curve)
    wires = curve.Wires() if not isinstance(curve, m.Wire) else [curve]
    if not wires:
        edges = curve.Edges()
        if not edges:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"input '{name}' contains no curve")
        wires = m.Wire.combine(edges)
    if len(wires) != 1:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"input '{name}' holds {len(wires)} separate curves; this node works on one connected curve",
        )
    return wires[0]


def offset_2d(ctx: KernelContext, curve: Any, distance: float, kind: str) -> Any:
    """Offset a planar wire in its plane: outwards for ``distance`` > 0, inwards for < 0.

    ``kind`` chooses how corners are joined: ``arc`` rounds them, ``intersection``
    extends the neighbouring segments until they meet (sharp corners).
    """
    if abs(distance) < ctx.tolerance:
        raise ctx.error(ErrorCode.PARAM_INVALID, "an offset of 0 gives back the same curve", param="distance")
    m = cq()
    wire = _single_wire(ctx, curve, "curve")
    edges = wire.Edges()
    if len(edges) == 1 and wire.IsClosed():
        circle = _circle_of(edges[0])
        if circle is not None:
            return _offset_circle(ctx, circle, distance)
        # OCCT's offset algorithm crashes (SIGSEGV) on some closed single-edge wires, e.g.
        # ellipses whose radii are (almost) equal; the same curve cut into two halves is safe.
        wire = _split_in_two(wire)
    with occ_errors(
        ctx,
        ErrorCode.GEOM_OFFSET_FAIL,
        f"could not offset the curve by {distance:g}",
        param="distance",
        hint="the curve must be planar; an inward offset cannot exceed the profile's half width",
    ):
        result = wire.offset2D(distance, kind)
    if not result:
        raise ctx.error(
            ErrorCode.GEOM_OFFSET_FAIL,
            f"offsetting by {distance:g} leaves nothing: the profile is narrower than {2 * abs(distance):g}",
            param="distance",
            hint="use a smaller inward (negative) distance",
        )
    if len(result) == 1:
        return result[0]
    return m.Compound.makeCompound(result)


def _circle_of(edge: Any) -> tuple[Vec3, Vec3, float] | None:
    """(centre, normal, radius) of a full-circle edge, also of an ellipse with equal radii."""
    kind = edge.geomType()
    if kind == "CIRCLE":
        circ = edge._geomAdaptor().Circle()
        radius = circ.Radius()
    elif kind == "ELLIPSE":
        elips = edge._geomAdaptor().Ellipse()
        if elips.MajorRadius() - elips.MinorRadius() > 1e-7 * elips.MajorRadius():
            return None
        circ, radius = elips, elips.MajorRadius()
    else:
        return None
    c, n = circ.Location(), circ.Axis().Direction()
    return (c.X(), c.Y(), c.Z()), (n.X(), n.Y(), n.Z()), float(radius)


def _offset_circle(ctx: KernelContext, circle: tuple[Vec3, Vec3, float], distance: float) -> Any:
    """A circle offset in its plane is the concentric circle of radius ``r + distance``.

    Built directly: OCCT's 2D offset (``BRepOffsetAPI_MakeOffset``) crashes the process
    (SIGSEGV) on an inward offset of a circle whose radius is 1 or less.
    """
    center, normal, radius = circle
    new_radius = radius + distance
    if new_radius < ctx.tolerance:
        raise ctx.error(
            ErrorCode.GEOM_OFFSET_FAIL,
            f"offsetting a circle of radius {radius:g} inwards by {-distance:g} leaves nothing",
            param="distance",
            hint=f"an inward offset of this circle must be smaller than its radius {radius:g}",
        )
    m = cq()
    with occ_errors(ctx, ErrorCode.GEOM_OFFSET_FAIL, f"could not offset the circle by {distance:g}", param="distance"):
        return m.Wire.makeCircle(new_radius, m.Vector(*center), m.Vector(*normal))


def _split_in_two(wire: Any) -> Any:
    """The closed one-edge ``wire`` as two edges meeting at the middle of its parameter range."""
    from OCP.BRep import BRep_Tool
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeEdge

    m = cq()
    edge = wire.Edges()[0]
    curve = BRep_Tool.Curve_s(edge.wrapped, 0.0, 0.0)  # with the edge's location applied
    first, last = edge.bounds()
    middle = (first + last) / 2
    halves = [BRepBuilderAPI_MakeEdge(curve, a, b) for a, b in ((first, middle), (middle, last))]
    if not all(h.IsDone() for h in halves):
        return wire
    return m.Wire.assembleEdges([m.Edge(h.Edge()) for h in halves])


def fillet_2d(ctx: KernelContext, curve: Any, radius: float, vertices: Sequence[Vec3] | None = None) -> Any:
    """Round the corners of a planar wire with ``radius``.

    ``vertices`` (points) restrict the fillet to the corners nearest to them; by default
    every corner is rounded (for an open wire: every corner but its two ends).
    """
    wire = _single_wire(ctx, curve, "wire")
    corners = wire.Vertices()
    if not wire.IsClosed():
        ends = {wire.startPoint().toTuple(), wire.endPoint().toTuple()}
        corners = [v for v in corners if min(_distance(v.toTuple(), e) for e in ends) > ctx.tolerance]
    if vertices:
        chosen = []
        for p in vertices:
            best = min(corners, key=lambda v: float(_distance(v.toTuple(), p)), default=None)
            if best is None or _distance(best.toTuple(), p) > 10 * ctx.tolerance:
                raise ctx.error(
                    ErrorCode.GEOM_INVALID_INPUT,
                    f"no corner of the wire lies at {p}",
                    hint="connect points that are corners of the wire",
                )
            chosen.append(best)
        corners = chosen
    if not corners:
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the wire has no corners to round")
    shortest = min(e.Length() for e in wire.Edges())
    message = f"fillet radius {radius:g} is too large for this profile (its shortest edge is {shortest:.4g} long)"
    hint = f"a corner between two edges of length L takes at most about L/2; try a radius below {shortest / 2:.4g}"
    try:
        if wire.IsClosed():
            result = wire.fillet2D(radius, corners)
        else:
            result = wire.fillet(radius, corners)
    except NodeError:
        raise
    except Exception:
        raise ctx.error(ErrorCode.GEOM_SKETCH_FAIL, message, param="radius", hint=hint) from None
    if result is None or not is_valid(result) or len(result.Edges()) < len(wire.Edges()):
        raise ctx.error(ErrorCode.GEOM_SKETCH_FAIL, message, param="radius", hint=hint)
    return result


# --------------------------------------------------------------------------- profiles


def _wires_of(ctx: KernelContext, shape: Any) -> list[Any]:
    m = cq()
    if isinstance(shape, m.Wire):
        return [shape]
    if isinstance(shape, m.Edge):
        return [m.Wire.assembleEdges([shape])]
    wires = shape.Wires()
    loose = [e for e in shape.Edges() if not any(e.isSame(we) for w in wires for we in w.Edges())]
    if loose:
        wires += m.Wire.combine(loose)
    return list(wires)


_OPEN_HINT = (
    "a profile must be a closed curve or a face: use a closed sketch (Rectangle, Circle, Polygon, "
    "Ellipse) or set closed=true on Sketch::Polyline / Sketch::Spline"
)


def _reject_non_profile(ctx: KernelContext, shape: Any, name: str, verb: str) -> None:
    m = cq()
    if shape.Solids():
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"input '{name}' is a solid; {verb} needs a closed curve or a face",
            hint="to use a face of a solid, select it first",
        )
    if isinstance(shape, m.Vertex) or (not shape.Edges() and shape.Vertices()):
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT, f"input '{name}' is a point; {verb} needs a closed curve or a face"
        )


def profile_faces(ctx: KernelContext, profile: Any, *, name: str = "profile", verb: str = "extrude") -> list[Any]:
    """Planar faces to extrude / revolve from a profile input.

    Faces pass through. Closed wires become faces; wires nested inside another become holes
    (one level of nesting, as in a washer outline). An open wire is a GEOM_INVALID_INPUT
    error that says how far apart its ends are.
    """
    m = cq()
    shape = shape_of(profile)
    _reject_non_profile(ctx, shape, name, verb)
    faces = shape.Faces()
    if faces:
        return list(faces)
    wires = _wires_of(ctx, shape)
    if not wires:
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"input '{name}' holds no curve to {verb}")
    for w in wires:
        if not w.IsClosed():
            gap = _distance(w.startPoint().toTuple(), w.endPoint().toTuple())
            raise ctx.error(
                ErrorCode.GEOM_INVALID_INPUT,
                f"cannot {verb} an open curve: the {name}'s ends are {gap:.4g} apart",
                hint=_OPEN_HINT,
            )
    from cadquery.occ_impl.shapes import sortWiresByBuildOrder

    with occ_errors(
        ctx,
        ErrorCode.GEOM_INVALID_INPUT,
        f"the {name} curve is not planar (or self-intersecting), so it cannot bound a face",
        hint="sketch profiles in one plane",
    ):
        # Build from copies: making a face adds curves to the wire's edges in place, so a failed
        # attempt on the upstream node's (cached, shared) wire changed what the next attempt saw:
        # a self-intersecting closed spline failed, then passed, then failed again.
        groups = sortWiresByBuildOrder([w.copy() for w in wires]) if len(wires) > 1 else [[wires[0].copy()]]
        result = [m.Face.makeFromWires(group[0], list(group[1:])) for group in groups]
        for face in result:
            if not is_valid(face):
                raise ValueError("invalid face")
    return result


def profile_section(ctx: KernelContext, profile: Any, *, name: str = "profile", allow_point: bool = False) -> Any:
    """One section for sweeps and lofts: a wire (a face gives its outer wire) or a vertex."""
    m = cq()
    shape = shape_of(profile)
    if allow_point and (isinstance(shape, m.Vertex) or (not shape.Edges() and len(shape.Vertices()) == 1)):
        return shape if isinstance(shape, m.Vertex) else shape.Vertices()[0]
    if shape.Solids():
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"input '{name}' is a solid; a section must be a curve or a face")
    faces = shape.Faces()
    if len(faces) == 1:
        return faces[0].outerWire()
    if len(faces) > 1:
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"input '{name}' holds {len(faces)} faces; use one per section")
    wires = _wires_of(ctx, shape)
    if len(wires) != 1:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            f"input '{name}' holds {len(wires)} separate curves; a section must be one connected curve",
        )
    return wires[0]


# --------------------------------------------------------------------------- inradius


def _loop_segments(face: Any, wires: Sequence[Any]) -> Any:
    """The ``wires`` of planar ``face`` as 2D segments (an (n, 2, 2) array) in the face's plane.

    Curved edges are polygonized finely enough (chord error below about 1e-4 of the face's
    size) that distances measured to the segments are good to that fraction too.
    """
    import numpy as np

    m = cq()
    origin = face.Center()
    normal = face.normalAt(origin)
    helper = m.Vector(1.0, 0.0, 0.0) if abs(normal.x) < 0.9 else m.Vector(0.0, 1.0, 0.0)
    u = normal.cross(helper).normalized()
    v = normal.cross(u)
    size = max(face.BoundingBox().DiagonalLength, _EPS)
    segments = []
    for wire in wires:
        for edge in wire.Edges():
            if edge.geomType() == "LINE":
                count = 1
            else:
                count = int(min(512, max(16, math.ceil(edge.Length() / size * 256))))
            pts = [edge.positionAt(i / count) - origin for i in range(count + 1)]
            xy = np.array([(p.dot(u), p.dot(v)) for p in pts])
            segments.append(np.stack([xy[:-1], xy[1:]], axis=1))
    return np.concatenate(segments) if segments else np.zeros((0, 2, 2))


def _inside(points: Any, segments: Any) -> Any:
    """Even-odd point-in-region test of 2D ``points`` against closed loops of ``segments``."""
    import numpy as np

    px, py = points[:, 0:1], points[:, 1:2]
    x1, y1 = segments[:, 0, 0], segments[:, 0, 1]
    x2, y2 = segments[:, 1, 0], segments[:, 1, 1]
    straddles = (y1 > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
    return crossings % 2 == 1


def _clearance(points: Any, segments: Any) -> Any:
    """Distance of each 2D point to the nearest segment."""
    import numpy as np

    a = segments[:, 0, :][None, :, :]
    d = (segments[:, 1, :] - segments[:, 0, :])[None, :, :]
    p = points[:, None, :]
    length2 = np.maximum((d * d).sum(axis=2), 1e-300)
    t = np.clip(((p - a) * d).sum(axis=2) / length2, 0.0, 1.0)
    nearest = a + t[:, :, None] * d
    return np.sqrt(((p - nearest) ** 2).sum(axis=2)).min(axis=1)


def _region_inradius(segments: Any) -> float:
    """Radius of the largest circle inside the region bounded by ``segments`` (even-odd rule).

    A grid over the bounding box finds the interior points furthest from the boundary;
    the best few are then refined by a shrinking pattern search. Accurate to about
    1e-4 of the region's size — always from below, as the grid only finds real points.
    """
    import numpy as np

    if len(segments) == 0:
        return 0.0
    flat = segments.reshape(-1, 2)
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    span = hi - lo
    for n in (48, 160):
        gx = np.linspace(lo[0], hi[0], n + 2)[1:-1]
        gy = np.linspace(lo[1], hi[1], n + 2)[1:-1]
        grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        grid = grid[_inside(grid, segments)]
        if len(grid) >= 20 or n == 160:
            break
    if len(grid) == 0:
        return 0.0
    clear = _clearance(grid, segments)
    order = np.argsort(clear)[::-1][:8]
    best_points, best = grid[order], clear[order]
    offsets = np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if i or j], dtype=float)
    floor = 1e-7 * float(span.max())
    for k in range(len(best_points)):  # pattern search: longer steps after a gain, shorter after none
        step = span / (n + 1)
        for _ in range(200):
            candidates = best_points[k] + offsets * step
            candidates = candidates[_inside(candidates, segments)]
            values = _clearance(candidates, segments) if len(candidates) else np.zeros(0)
            if len(values) and values.max() > best[k]:
                top = int(np.argmax(values))
                best_points[k], best[k] = candidates[top], values[top]
                step = np.minimum(step * 1.5, span)
            else:
                step = step * 0.5
                if float(step.max()) < floor:
                    break
    return float(best.max())


def face_inradius(face: Any) -> tuple[float, list[float]]:
    """Radius of the largest circle inside planar ``face`` (holes count as outside), and the
    same for each hole on its own (the largest circle that fits inside the hole).

    An inward draft of ``s`` shrinks the face by ``s`` everywhere, so the face vanishes once
    ``s`` reaches its inradius; an outward draft shrinks the holes the same way.
    """
    outer = face.outerWire()
    holes = list(face.innerWires())
    radius = _region_inradius(_loop_segments(face, [outer, *holes]))
    return radius, [_region_inradius(_loop_segments(face, [hole])) for hole in holes]
