"""Measuring shapes: bounding boxes, volume / area / length, centres, mass properties,
and the viewer's Measure tool (one picked entity, or two).

All values are in graph units (lengths, areas, volumes) except mass, which is in grams:
densities are in g/cm³ (the unit material tables use), and the graph unit tells how many
cm³ one cubic graph unit is (1 mm³ = 0.001 cm³, so mass[g] = volume[mm³] × ρ[g/cm³] / 1000).

The centre of a shape is its centre of mass with uniform density, taken over the highest
dimension present: solids by volume, else faces by area, else edges by length, else the
mean of the vertices.

The viewer's Measure tool (:func:`entity_properties`, :func:`pair_properties`) reads every
value from the B-Rep through OCCT — GProp for areas, lengths, volumes and centres,
BRepAdaptor for the exact surface or curve (a cylinder's radius is the radius of its
``gp_Cylinder``, never a fit to mesh points) and BRepExtrema_DistShapeShape for distances
— so a 40 mm box measures 40, not 39.98. Angles are in degrees; the rest in graph units.

What the Measure tool reports for two entities:

* ``distance``: the minimum distance between them, with the two closest points (0 when
  they touch or intersect);
* ``angle`` for two planar faces: the angle between their outward normals, 0°..180°
  (0° parallel and facing the same way, 180° the opposite faces of a box). When the two
  faces share an edge, ``interior_angle`` is the angle between them inside the material:
  180° − ``angle`` at a convex edge, 180° + ``angle`` at a concave one. A 45° chamfer on a
  box edge thus makes ``angle`` 45° and ``interior_angle`` 135° with either face it joins,
  and ``angle`` 135° (no interior angle) with the face opposite one of them;
* ``angle`` for two straight edges: between their directions pointed away from the vertex
  they share, 0°..180°; for edges that share no vertex, between the lines, 0°..90°;
* ``angle`` for a straight edge and a planar face: between the line and the plane, 0°..90°;
* ``center_distance`` for two "centred" entities — circles and arcs (a centre point and an
  axis), cylinder and cone faces (an axis line), spheres (a centre point): between two
  points, their distance; between a point and an axis, the point's distance to the line;
  between two parallel axes, the distance between the lines (holes in a plate measure
  the same from their cylindrical walls as from their rims). Axes that are not parallel
  have no centre distance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.core.units import CM3_PER_CUBIC_UNIT  # re-exported: grams from volumes
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.context import KernelContext
from brepflow_lab.kernel.part import shape_of

__all__ = [
    "CM3_PER_CUBIC_UNIT",
    "MeasureError",
    "Vector3",
    "bounds",
    "entity_properties",
    "face_centroid",
    "mass_of",
    "mass_properties",
    "measure",
    "nearest_vertex",
    "pair_properties",
    "solid_containing",
]

Vector3 = tuple[float, float, float]

#: cm³ in one cubic graph unit


def _vec(p: Any) -> Vector3:
    return (float(p.X()) + 0.0, float(p.Y()) + 0.0, float(p.Z()) + 0.0)  # + 0.0: no -0.0


def bounds(ctx: KernelContext, value: Any) -> dict[str, Any]:
    """Tight axis-aligned bounds: min, max, center, size (vectors) and diagonal (number)."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    shape = shape_of(value)
    box = Bnd_Box()
    try:
        BRepBndLib.AddOptimal_s(shape.wrapped, box, False, False)
    except Exception:  # optimal boxes need geometry OCCT can evaluate; fall back to the fast one
        box = Bnd_Box()
        BRepBndLib.Add_s(shape.wrapped, box, True)
    if box.IsVoid():
        raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the shape is empty: it has no bounding box")
    lo, hi = _vec(box.CornerMin()), _vec(box.CornerMax())
    size = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
    center = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)
    return {"min": lo, "max": hi, "center": center, "size": size, "diagonal": math.hypot(*size)}


def _props(shape: Any, kind: str) -> Any:
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    props = GProp_GProps()
    if kind == "volume":
        BRepGProp.VolumeProperties_s(shape.wrapped, props)
    elif kind == "area":
        BRepGProp.SurfaceProperties_s(shape.wrapped, props)
    else:
        BRepGProp.LinearProperties_s(shape.wrapped, props)
    return props


def measure(ctx: KernelContext, value: Any) -> dict[str, Any]:
    """volume (solids), area (faces), length (total edge length), centroid."""
    shape = shape_of(value)
    solids = shape.Solids()
    volume = sum(_props(s, "volume").Mass() for s in solids) if solids else 0.0
    faces = shape.Faces()
    area = _props(shape, "area").Mass() if faces else 0.0
    edges = shape.Edges()
    # per distinct edge: LinearProperties of a solid would count every edge once per face
    length = sum(_props(e, "length").Mass() for e in edges)
    if solids and volume > 0:
        centroid = _weighted_centre([(_props(s, "volume")) for s in solids])
    elif faces and area > 0:
        centroid = _vec(_props(shape, "area").CentreOfMass())
    elif edges and length > 0:
        centroid = _vec(_props(shape, "length").CentreOfMass())
    else:
        points = [v.toTuple() for v in shape.Vertices()]
        if not points:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, "the shape is empty: nothing to measure")
        n = len(points)
        centroid = (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n, sum(p[2] for p in points) / n)
    return {"volume": volume, "area": area, "length": length, "centroid": centroid}


def face_centroid(value: Any) -> Vector3:
    """Area centroid of a shape's faces."""
    return _vec(_props(shape_of(value), "area").CentreOfMass())


def _weighted_centre(props: list[Any]) -> Vector3:
    total = sum(p.Mass() for p in props)
    sums = [0.0, 0.0, 0.0]
    for p in props:
        c = _vec(p.CentreOfMass())
        for i in range(3):
            sums[i] += c[i] * p.Mass()
    return (sums[0] / total, sums[1] / total, sums[2] / total)


def mass_of(volume: float, density: float, units: str) -> float:
    """Mass in grams of ``volume`` cubic graph units at ``density`` g/cm³."""
    return volume * CM3_PER_CUBIC_UNIT.get(units, 1e-3) * density


def mass_properties(ctx: KernelContext, value: Any, density: float) -> dict[str, Any]:
    """Volume, area, mass (g), centroid, inertia tensor about the centroid (g·unit²),
    principal moments and principal axes. Solids only (volume-based)."""
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    shape = shape_of(value)
    solids = shape.Solids()
    if not solids:
        raise ctx.error(
            ErrorCode.GEOM_INVALID_INPUT,
            "mass properties need a solid; the input has no solids",
            hint="close the surface into a solid (e.g. Thicken or Extrude) first",
        )
    props = GProp_GProps()
    compound = solids[0] if len(solids) == 1 else cq().Compound.makeCompound(solids)
    BRepGProp.VolumeProperties_s(compound.wrapped, props)
    volume = props.Mass()
    scale = CM3_PER_CUBIC_UNIT.get(ctx.units, 1e-3) * density  # grams per cubic graph unit
    matrix = props.MatrixOfInertia()  # about the centre of mass, unit density
    inertia = tuple(tuple(matrix.Value(r, c) * scale for c in (1, 2, 3)) for r in (1, 2, 3))
    principal = props.PrincipalProperties()
    moments = principal.Moments()
    axes = [
        _vec(principal.FirstAxisOfInertia()),
        _vec(principal.SecondAxisOfInertia()),
        _vec(principal.ThirdAxisOfInertia()),
    ]
    area = _props(shape, "area").Mass()
    return {
        "volume": volume,
        "area": area,
        "mass": volume * scale,
        "centroid": _vec(props.CentreOfMass()),
        "inertia": inertia,
        "momentOfInertia": (moments[0] * scale, moments[1] * scale, moments[2] * scale),
        "principalAxes": axes,
    }


# -- the viewer's Measure tool: one entity, or two -------------------------------------------------
class MeasureError(ValueError):
    """The entities cannot be measured as asked (an empty shape, no solid under a face...)."""


_SURFACE_TYPES = {
    "GeomAbs_Plane": "plane",
    "GeomAbs_Cylinder": "cylinder",
    "GeomAbs_Cone": "cone",
    "GeomAbs_Sphere": "sphere",
    "GeomAbs_Torus": "torus",
    "GeomAbs_BezierSurface": "bezier",
    "GeomAbs_BSplineSurface": "bspline",
    "GeomAbs_SurfaceOfRevolution": "revolution",
    "GeomAbs_SurfaceOfExtrusion": "extrusion",
    "GeomAbs_OffsetSurface": "offset",
}
_CURVE_TYPES = {
    "GeomAbs_Line": "line",
    "GeomAbs_Circle": "circle",
    "GeomAbs_Ellipse": "ellipse",
    "GeomAbs_Hyperbola": "hyperbola",
    "GeomAbs_Parabola": "parabola",
    "GeomAbs_BezierCurve": "bezier",
    "GeomAbs_BSplineCurve": "bspline",
    "GeomAbs_OffsetCurve": "offset",
}
_PARALLEL = 1e-9  # |sin| below which two directions count as parallel


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value)).split(".")[-1]


def _dir(d: Any) -> Vector3:
    return _vec(d)


def _sub(a: Vector3, b: Vector3) -> Vector3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Vector3, b: Vector3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vector3, b: Vector3) -> Vector3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: Vector3) -> float:
    return math.sqrt(_dot(a, a))


def _unit(a: Vector3) -> Vector3:
    n = _norm(a)
    return (a[0] / n + 0.0, a[1] / n + 0.0, a[2] / n + 0.0) if n > 0 else a


def _angle(a: Vector3, b: Vector3) -> float:
    """Angle between two directions in degrees (atan2: exact near 0° and 180° too)."""
    return math.degrees(math.atan2(_norm(_cross(a, b)), _dot(a, b)))


def _kind(shape: Any) -> str:
    from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_VERTEX

    kind = shape.wrapped.ShapeType()
    if kind == TopAbs_FACE:
        return "face"
    if kind == TopAbs_EDGE:
        return "edge"
    if kind == TopAbs_VERTEX:
        return "vertex"
    return "solid"


def _point_to_line(point: Vector3, origin: Vector3, direction: Vector3) -> float:
    return _norm(_cross(_sub(point, origin), _unit(direction)))


def _face_normal_at(face: Any, u: float, v: float) -> tuple[Vector3, Vector3]:
    """Point and outward unit normal (the face's orientation applied) at (u, v)."""
    from OCP.BRepGProp import BRepGProp_Face
    from OCP.gp import gp_Pnt, gp_Vec

    p, n = gp_Pnt(), gp_Vec()
    BRepGProp_Face(face.wrapped).Normal(u, v, p, n)
    return _vec(p), _unit(_vec(n))


def _face_uv(face: Any, point: Vector3 | None) -> tuple[float, float]:
    """(u, v) of ``point`` projected on the face's surface, else the middle of its bounds."""
    from OCP.BRep import BRep_Tool
    from OCP.BRepTools import BRepTools
    from OCP.gp import gp_Pnt
    from OCP.ShapeAnalysis import ShapeAnalysis_Surface

    if point is not None:
        uv = ShapeAnalysis_Surface(BRep_Tool.Surface_s(face.wrapped)).ValueOfUV(gp_Pnt(*point), 1e-7)
        return float(uv.X()), float(uv.Y())
    u0, u1, v0, v1 = BRepTools.UVBounds_s(face.wrapped)
    return (u0 + u1) / 2, (v0 + v1) / 2


def _face_properties(face: Any, point: Vector3 | None) -> dict[str, Any]:
    from OCP.BRepAdaptor import BRepAdaptor_Surface

    props = _props(face, "area")
    surface = BRepAdaptor_Surface(face.wrapped, True)
    kind = _SURFACE_TYPES.get(_enum_name(surface.GetType()), "other")
    out: dict[str, Any] = {"entity": "face", "type": kind, "area": props.Mass(), "center": _vec(props.CentreOfMass())}
    u, v = _face_uv(face, point)
    at, normal = _face_normal_at(face, u, v)
    if point is not None:
        out["point"] = at
    if kind == "plane":
        out["normal"] = normal
    elif kind in ("cylinder", "cone"):
        geometry = surface.Cylinder() if kind == "cylinder" else surface.Cone()
        axis = geometry.Axis()
        origin, direction = _vec(axis.Location()), _dir(axis.Direction())
        # radius: of the cylinder, or of the cone where it was picked (its distance to the axis)
        radius = float(geometry.Radius()) if kind == "cylinder" else _point_to_line(at, origin, direction)
        out.update({"radius": radius, "diameter": 2 * radius, "axis": {"origin": origin, "direction": direction}})
        if kind == "cone":
            out["semi_angle"] = math.degrees(abs(float(geometry.SemiAngle())))
            out["apex"] = _vec(geometry.Apex())
        # a hole: the outward normal points at the axis
        radial = _sub(at, origin)
        radial = _sub(radial, tuple(_dot(radial, direction) * c for c in direction))  # type: ignore[arg-type]
        out["concave"] = _dot(normal, radial) < 0
    elif kind == "sphere":
        sphere = surface.Sphere()
        centre = _vec(sphere.Location())
        out.update({"radius": float(sphere.Radius()), "diameter": 2 * float(sphere.Radius()), "sphere_center": centre})
        out["concave"] = _dot(normal, _sub(at, centre)) < 0
    elif kind == "torus":
        torus = surface.Torus()
        axis = torus.Axis()
        out.update(
            {
                "major_radius": float(torus.MajorRadius()),
                "minor_radius": float(torus.MinorRadius()),
                "axis": {"origin": _vec(axis.Location()), "direction": _dir(axis.Direction())},
            }
        )
    return out


def _edge_ends(edge: Any) -> tuple[Vector3, Vector3]:
    """Start and end of the edge in its orientation."""
    from OCP.BRep import BRep_Tool
    from OCP.TopExp import TopExp

    first = TopExp.FirstVertex_s(edge.wrapped, True)
    last = TopExp.LastVertex_s(edge.wrapped, True)
    return _vec(BRep_Tool.Pnt_s(first)), _vec(BRep_Tool.Pnt_s(last))


def _edge_properties(edge: Any) -> dict[str, Any]:
    from OCP.BRepAdaptor import BRepAdaptor_Curve
    from OCP.GCPnts import GCPnts_AbscissaPoint

    props = _props(edge, "length")
    curve = BRepAdaptor_Curve(edge.wrapped)
    kind = _CURVE_TYPES.get(_enum_name(curve.GetType()), "other")
    # the length by adaptive integration: GProp's fixed Gauss rule is exact on lines and
    # circles only (a 10 × 5 ellipse came out 0.13 % long, a B-spline 1e-5 short)
    length = float(GCPnts_AbscissaPoint.Length_s(curve, 1e-9))
    out: dict[str, Any] = {"entity": "edge", "type": kind, "length": length, "center": _vec(props.CentreOfMass())}
    start, end = _edge_ends(edge)
    if kind == "line":
        out.update({"start": start, "end": end, "direction": _unit(_sub(end, start))})
    elif kind == "circle":
        circle = curve.Circle()
        radius = float(circle.Radius())
        axis = circle.Axis()
        span = abs(curve.LastParameter() - curve.FirstParameter())
        closed = abs(span - 2 * math.pi) < 1e-9 or curve.IsClosed()
        out.update(
            {
                "radius": radius,
                "diameter": 2 * radius,
                "circle_center": _vec(axis.Location()),
                "axis": {"origin": _vec(axis.Location()), "direction": _dir(axis.Direction())},
                "arc": not closed,
            }
        )
        if not closed:
            out["sweep_angle"] = math.degrees(span)
    elif kind == "ellipse":
        ellipse = curve.Ellipse()
        out.update(
            {
                "major_radius": float(ellipse.MajorRadius()),
                "minor_radius": float(ellipse.MinorRadius()),
                "circle_center": _vec(ellipse.Location()),
            }
        )
    if kind != "line" and not curve.IsClosed():
        out.update({"start": start, "end": end})
    return out


def _solid_properties(shape: Any) -> dict[str, Any]:
    solids = shape.Solids()
    if not solids:
        raise MeasureError("this shape has no solid: pick a face, edge or vertex of it instead")
    volumes = [_props(s, "volume") for s in solids]
    return {
        "entity": "solid",
        "type": "solid" if len(solids) == 1 else f"{len(solids)} solids",
        "volume": sum(p.Mass() for p in volumes),
        "area": _props(shape, "area").Mass(),
        "center_of_mass": _weighted_centre(volumes),
    }


def entity_properties(entity: Any, *, point: Vector3 | None = None) -> dict[str, Any]:
    """What one picked entity measures, from OCCT's exact geometry (module docstring).

    ``entity`` is a cadquery Face, Edge, Vertex or Solid (or a shape holding solids).
    ``point`` (a point on or near a face, e.g. where it was clicked) is where a cone's
    radius is taken; it is projected onto the face first.

    * face: ``type`` (plane, cylinder, cone, sphere, torus, bspline, bezier, revolution,
      extrusion, offset, other), ``area``, ``center`` (area centroid); planes ``normal``
      (outward); cylinders and cones ``radius``/``diameter`` (a cone's where picked),
      ``axis`` and ``concave`` (true for a hole); spheres ``radius``, ``diameter``,
      ``sphere_center``; tori ``major_radius``/``minor_radius``;
    * edge: ``type`` (line, circle, ellipse, bspline...), ``length``, ``center``; lines
      ``start``/``end``/``direction``; circles and arcs ``radius``, ``diameter``,
      ``circle_center``, ``axis``, ``arc`` (and an arc's ``sweep_angle`` in degrees);
    * vertex: ``position``;
    * solid: ``volume``, ``area``, ``center_of_mass``.
    """
    from OCP.BRep import BRep_Tool

    kind = _kind(entity)
    if kind == "face":
        return _face_properties(entity, point)
    if kind == "edge":
        return _edge_properties(entity)
    if kind == "vertex":
        return {"entity": "vertex", "type": "point", "position": _vec(BRep_Tool.Pnt_s(entity.wrapped))}
    return _solid_properties(entity)


def _centre_feature(props: Mapping[str, Any]) -> tuple[str, Vector3, Vector3 | None] | None:
    """("point", centre, axis or None) for circles and spheres, ("line", origin, direction) for axes."""
    if props["entity"] == "edge" and props["type"] in ("circle", "ellipse"):
        axis = props.get("axis")
        return ("point", props["circle_center"], axis["direction"] if axis else None)
    if props["entity"] == "face" and props["type"] in ("cylinder", "cone"):
        return ("line", props["axis"]["origin"], props["axis"]["direction"])
    if props["entity"] == "face" and props["type"] == "sphere":
        return ("point", props["sphere_center"], None)
    if props["entity"] == "vertex":
        return ("point", props["position"], None)
    return None


def _centre_distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
    fa, fb = _centre_feature(a), _centre_feature(b)
    if fa is None or fb is None or (a["entity"] == "vertex" and b["entity"] == "vertex"):
        return None
    if fa[0] == "point" and fb[0] == "point":
        return _norm(_sub(fa[1], fb[1]))
    if fa[0] == "point" and fb[0] == "line":
        return _point_to_line(fa[1], fb[1], fb[2])  # type: ignore[arg-type]
    if fa[0] == "line" and fb[0] == "point":
        return _point_to_line(fb[1], fa[1], fa[2])  # type: ignore[arg-type]
    assert fa[2] is not None and fb[2] is not None
    if _norm(_cross(_unit(fa[2]), _unit(fb[2]))) > _PARALLEL:
        return None  # skew or crossing axes have no centre distance
    return _point_to_line(fa[1], fb[1], fb[2])


def _shared(a: Any, b: Any, kind: str) -> Any | None:
    items_b = b.Edges() if kind == "edge" else b.Vertices()
    for item in a.Edges() if kind == "edge" else a.Vertices():
        for other in items_b:
            if item.wrapped.IsSame(other.wrapped):
                return item
    return None


def _interior_angle(face_a: Any, face_b: Any, angle: float) -> float | None:
    """The angle between two faces inside the material, when they share an edge."""
    from OCP.ChFi3d import ChFi3d
    from OCP.ChFiDS import ChFiDS_Concave, ChFiDS_Convex

    edge = _shared(face_a, face_b, "edge")
    if edge is None:
        return None
    connection = ChFi3d.DefineConnectType_s(edge.wrapped, face_a.wrapped, face_b.wrapped, 1e-9, False)
    if connection == ChFiDS_Convex:
        return 180.0 - angle
    if connection == ChFiDS_Concave:
        return 180.0 + angle
    return 180.0 if angle < 1e-9 else None  # tangent faces continue each other


def _edge_angle(edge_a: Any, edge_b: Any, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Between two straight edges: at their shared vertex 0..180, else between the lines 0..90."""
    from OCP.BRep import BRep_Tool

    da, db = a["direction"], b["direction"]
    vertex = _shared(edge_a, edge_b, "vertex")
    if vertex is not None:
        p = _vec(BRep_Tool.Pnt_s(vertex.wrapped))
        # point each direction away from the shared vertex
        if _norm(_sub(a["end"], p)) < _norm(_sub(a["start"], p)):
            da = tuple(-c for c in da)
        if _norm(_sub(b["end"], p)) < _norm(_sub(b["start"], p)):
            db = tuple(-c for c in db)
        return _angle(da, db)
    angle = _angle(da, db)
    return min(angle, 180.0 - angle)


def pair_properties(
    first: Any, second: Any, *, points: tuple[Vector3 | None, Vector3 | None] = (None, None)
) -> dict[str, Any]:
    """What two picked entities measure together (the rules are in the module docstring).

    Always ``distance`` (minimum, BRepExtrema_DistShapeShape), ``points`` (the closest
    point on each) and ``delta`` (second point minus first); ``angle`` (degrees) for two
    planar faces, two straight edges, or a straight edge and a planar face, and
    ``interior_angle`` for two planar faces that share an edge; ``center_distance`` for
    two circles/arcs, cylinders, cones or spheres (or one of them and a vertex).
    ``entities`` holds :func:`entity_properties` of each (``points`` are the pick points).
    """
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape

    a = entity_properties(first, point=points[0])
    b = entity_properties(second, point=points[1])
    extrema = BRepExtrema_DistShapeShape(first.wrapped, second.wrapped)
    if not extrema.IsDone() or extrema.NbSolution() < 1:
        raise MeasureError("OCCT could not compute the distance between these two entities")
    p, q = _vec(extrema.PointOnShape1(1)), _vec(extrema.PointOnShape2(1))
    out: dict[str, Any] = {
        "entities": [a, b],
        "distance": float(extrema.Value()),
        "points": [p, q],
        "delta": _sub(q, p),
    }
    kinds = (a["entity"], a["type"], b["entity"], b["type"])
    if kinds == ("face", "plane", "face", "plane"):
        out["angle"] = _angle(a["normal"], b["normal"])
        interior = _interior_angle(first, second, out["angle"])
        if interior is not None:
            out["interior_angle"] = interior
    elif kinds == ("edge", "line", "edge", "line"):
        out["angle"] = _edge_angle(first, second, a, b)
    elif (a["type"], b["type"]) in (("line", "plane"), ("plane", "line")) and a["entity"] != b["entity"]:
        line, plane = (a, b) if a["entity"] == "edge" else (b, a)
        to_normal = _angle(line["direction"], plane["normal"])
        out["angle"] = abs(90.0 - to_normal)
    centre = _centre_distance(a, b)
    if centre is not None:
        out["center_distance"] = centre
    return out


def nearest_vertex(edge: Any, point: Vector3) -> Any:
    """The vertex of ``edge`` nearest to ``point`` (a click near an edge's end)."""
    vertices = edge.Vertices()
    if not vertices:
        raise MeasureError("this edge has no vertices")
    return min(vertices, key=lambda v: _norm(_sub(_vec_of(v), point)))


def _vec_of(vertex: Any) -> Vector3:
    from OCP.BRep import BRep_Tool

    return _vec(BRep_Tool.Pnt_s(vertex.wrapped))


def solid_containing(shape: Any, face: Any) -> Any:
    """The solid of ``shape`` that ``face`` bounds (a click on a face, measuring its solid)."""
    from OCP.TopAbs import TopAbs_FACE
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    for solid in shape.Solids():
        faces = TopTools_IndexedMapOfShape()
        TopExp.MapShapes_s(solid.wrapped, TopAbs_FACE, faces)
        if faces.Contains(face.wrapped):
            return solid
    raise MeasureError("this face bounds no solid (a surface or an open shell): pick faces, edges or vertices")
