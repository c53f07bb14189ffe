"""Sketch nodes: points, lines, arcs, closed profiles, polylines, splines, 2D offset and fillet.

Type, socket and parameter names follow BrepFlow (``packages/nodes-core/src/sketch.ts`` and its
generated Polygon / Polyline / Spline / Fillet2D nodes). Sketches lie in the XY plane unless a
``center`` / ``normal`` says otherwise; a connected input socket wins over the parameter of
the same name. Curves come out as wires (port type Curve); closed ones (Circle, Rectangle,
Ellipse, Polygon, closed Polyline / Spline) can feed Solid::Extrude / Revolve / Sweep / Loft
directly. Sketch::Point gives a vertex (port type Point).

Point lists (Polyline, Spline) travel in a graph file as a text parameter
``"x,y[,z]; x,y[,z]; ..."`` — points separated by ``;`` (or new lines), coordinates by
``,``; a missing z is 0. Connecting Sketch::Point nodes to the ``points`` input instead
overrides the text.

Checks: the curves come straight from OCCT's edge and polygon builders (after the kernel
refused repeated points, points on one line for closed curves and zero radii), which either
build a valid wire or raise, so these nodes are ``trusted_output`` and skip the generic
BRepCheck of their result (a null or empty result is still refused). Fillet2D's kernel
function checks its wire itself; Offset2D's result is checked by the generic output check.
A face made from any of these curves is checked where it is made
(:func:`brepflow_lab.kernel.curves.profile_faces`): that is where a self-intersecting
polyline or spline is found.
"""

from __future__ import annotations

from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.kernel import curves
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__: list[str] = []

_CURVE = OutputSpec("curve", "Curve", help="the sketch curve (a wire)")

_POINTS_HELP = (
    "points as text 'x,y[,z]; x,y[,z]; ...' — ';' or new lines between points, ',' between coordinates, "
    "z defaults to 0; e.g. '0,0; 10,0; 10,5'. Ignored when the 'points' input is connected"
)


def _vec_input(name: str, help: str) -> InputSpec:
    return InputSpec(name, "Vector", optional=True, help=help)


def _vec_param(name: str, default: tuple[float, float, float], help: str, label: str, length: bool = True) -> ParamSpec:
    return ParamSpec(
        name, kind="vector", default=default, dimension="length" if length else "none", help=help, label=label
    )


def _pick(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any], name: str) -> Any:
    value = inputs.get(name)
    if value is not None:
        return curves.point_coords(ctx, value, name)
    return params[name]


def _point_list(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> list[curves.Vec3]:
    connected = inputs.get("points") or []
    if connected:
        return [curves.point_coords(ctx, p, f"points[{i}]") for i, p in enumerate(connected)]
    return curves.parse_points(ctx, params["points"])


_ORIGIN = (0.0, 0.0, 0.0)
_Z = (0.0, 0.0, 1.0)


@node(
    "Sketch::Line",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[
        _vec_input("start", "optional start point; overrides 'start'"),
        _vec_input("end", "optional end point; overrides 'end'"),
    ],
    outputs=[_CURVE],
    params=[
        _vec_param("start", _ORIGIN, "start point of the line", "Start Point"),
        _vec_param("end", (100.0, 0.0, 0.0), "end point of the line", "End Point"),
    ],
    description="Straight line between two points.",
)
def line(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"curve": curves.make_line(ctx, _pick(ctx, inputs, params, "start"), _pick(ctx, inputs, params, "end"))}


@node(
    "Sketch::Circle",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[
        _vec_input("center", "optional centre; overrides 'center'"),
        _vec_input("normal", "optional plane normal; overrides 'normal'"),
    ],
    outputs=[_CURVE],
    params=[
        _vec_param("center", _ORIGIN, "centre of the circle", "Center"),
        ParamSpec(
            "radius",
            default=50.0,
            min=0,
            min_exclusive=True,
            dimension="length",
            help="radius of the circle",
            label="Radius",
        ),
        _vec_param("normal", _Z, "normal of the circle's plane (default +Z: the XY plane)", "Normal", length=False),
    ],
    description="Closed circle (a profile for Extrude / Revolve / Loft).",
)
def circle(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = _pick(ctx, inputs, params, "center")
    normal = _pick(ctx, inputs, params, "normal")
    return {"curve": curves.make_circle(ctx, center, params["radius"], normal)}


@node(
    "Sketch::Rectangle",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[_vec_input("center", "optional centre; overrides 'center'")],
    outputs=[_CURVE],
    params=[
        _vec_param("center", _ORIGIN, "centre of the rectangle (it lies in the plane z = center.z)", "Center"),
        ParamSpec(
            "width", default=100.0, min=0, min_exclusive=True, dimension="length", help="size along X", label="Width"
        ),
        ParamSpec(
            "height", default=60.0, min=0, min_exclusive=True, dimension="length", help="size along Y", label="Height"
        ),
    ],
    description="Closed axis-aligned rectangle in the XY plane, centred on 'center'.",
)
def rectangle(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = _pick(ctx, inputs, params, "center")
    return {"curve": curves.make_rectangle(ctx, center, params["width"], params["height"])}


@node(
    "Sketch::Arc",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[
        _vec_input("center", "optional centre; overrides 'center'"),
        _vec_input("start", "optional start point: sets the radius and start angle"),
        _vec_input("end", "optional point giving the end direction: sets the end angle"),
    ],
    outputs=[_CURVE],
    params=[
        _vec_param("center", _ORIGIN, "centre of the arc", "Center"),
        ParamSpec(
            "radius",
            default=50.0,
            min=0,
            min_exclusive=True,
            dimension="length",
            help="radius of the arc",
            label="Radius",
        ),
        ParamSpec(
            "startAngle",
            default=0.0,
            min=0,
            max=360,
            dimension="angle",
            help="start angle from +X, counter-clockwise",
            label="Start Angle",
        ),
        ParamSpec(
            "endAngle",
            default=90.0,
            min=0,
            max=360,
            dimension="angle",
            help="end angle from +X; the arc runs counter-clockwise from start to end (wrapping past 360)",
            label="End Angle",
        ),
    ],
    description="Circular arc in the XY plane, counter-clockwise from startAngle to endAngle.",
)
def arc(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = _pick(ctx, inputs, params, "center")
    start = curves.point_coords(ctx, inputs["start"], "start") if inputs.get("start") is not None else None
    end = curves.point_coords(ctx, inputs["end"], "end") if inputs.get("end") is not None else None
    wire = curves.make_arc(
        ctx, center, params["radius"], params["startAngle"], params["endAngle"], start=start, end=end
    )
    return {"curve": wire}


@node(
    "Sketch::Point",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[_vec_input("position", "optional position; overrides x, y, z")],
    outputs=[OutputSpec("point", "Point", help="the point (a vertex)")],
    params=[
        ParamSpec("x", default=0.0, dimension="length", help="X coordinate", label="X"),
        ParamSpec("y", default=0.0, dimension="length", help="Y coordinate", label="Y"),
        ParamSpec("z", default=0.0, dimension="length", help="Z coordinate", label="Z"),
    ],
    description="A point in space (a vertex).",
)
def point(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if inputs.get("position") is not None:
        xyz = curves.point_coords(ctx, inputs["position"], "position")
    else:
        xyz = (params["x"], params["y"], params["z"])
    return {"point": curves.make_point(ctx, xyz)}


@node(
    "Sketch::Ellipse",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    version=2,  # 2: equal radii give a circle
    inputs=[
        _vec_input("center", "optional centre; overrides 'center'"),
        _vec_input("normal", "optional plane normal; overrides 'normal'"),
    ],
    outputs=[_CURVE],
    params=[
        _vec_param("center", _ORIGIN, "centre of the ellipse", "Center"),
        ParamSpec(
            "majorRadius",
            default=50.0,
            min=0,
            min_exclusive=True,
            dimension="length",
            help="semi-axis along X (the plane's x direction)",
            label="Major Radius",
        ),
        ParamSpec(
            "minorRadius",
            default=30.0,
            min=0,
            min_exclusive=True,
            dimension="length",
            help="semi-axis along Y (the plane's y direction)",
            label="Minor Radius",
        ),
        _vec_param("normal", _Z, "normal of the ellipse's plane (default +Z: the XY plane)", "Normal", length=False),
    ],
    description="Closed ellipse; majorRadius along X, minorRadius along Y (equal radii give a circle).",
)
def ellipse(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = _pick(ctx, inputs, params, "center")
    normal = _pick(ctx, inputs, params, "normal")
    return {"curve": curves.make_ellipse(ctx, center, params["majorRadius"], params["minorRadius"], normal)}


@node(
    "Sketch::Polygon",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[
        InputSpec("center", "Point", optional=True, help="optional centre point; overrides 'center'"),
        InputSpec(
            "points",
            "Point",
            multiple=True,
            optional=True,
            help="optional corner points: when connected the polygon runs through them instead of being regular",
        ),
    ],
    outputs=[_CURVE],
    params=[
        ParamSpec(
            "sides",
            kind="integer",
            default=6,
            min=3,
            max=100,
            step=1,
            help="number of sides of the regular polygon",
            label="Sides",
        ),
        ParamSpec(
            "radius",
            default=50.0,
            min=0,
            min_exclusive=True,
            dimension="length",
            help="radius of the reference circle",
            label="Radius",
        ),
        ParamSpec(
            "inscribed",
            kind="boolean",
            default=True,
            help="true: corners lie on the circle (radius = centre to corner); false: edges touch it (radius = centre to edge middle)",
            label="Inscribed",
        ),
        _vec_param("center", _ORIGIN, "centre of the polygon (XY plane at z = center.z)", "Center"),
        ParamSpec(
            "closed",
            kind="boolean",
            default=True,
            help="with connected points: join the last point back to the first",
            label="Closed",
        ),
    ],
    description="Regular polygon in the XY plane (first corner towards +X), or a polygon through connected points.",
)
def polygon(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    connected = inputs.get("points") or []
    if connected:
        points = [curves.point_coords(ctx, p, f"points[{i}]") for i, p in enumerate(connected)]
        return {"curve": curves.make_polyline(ctx, points, params["closed"])}
    center = _pick(ctx, inputs, params, "center")
    return {"curve": curves.make_regular_polygon(ctx, center, params["sides"], params["radius"], params["inscribed"])}


@node(
    "Sketch::Polyline",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[
        InputSpec(
            "points",
            "Point",
            multiple=True,
            optional=True,
            help="optional points (e.g. Sketch::Point); override the 'points' text",
        )
    ],
    outputs=[OutputSpec("wire", "Curve", help="the polyline (a wire)")],
    params=[
        ParamSpec("points", kind="string", default="0,0; 50,0; 25,43.3", help=_POINTS_HELP, label="Points"),
        ParamSpec(
            "closed",
            kind="boolean",
            default=False,
            help="join the last point back to the first (makes a profile; the points must not all lie on one "
            "straight line)",
            label="Closed",
        ),
    ],
    description="Straight segments through a list of points; closed=true makes a profile.",
)
def polyline(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"wire": curves.make_polyline(ctx, _point_list(ctx, inputs, params), params["closed"])}


@node(
    "Sketch::Spline",
    trusted_output=True,  # an OCCT edge / polygon builder: valid or an error
    inputs=[
        InputSpec(
            "points",
            "Point",
            multiple=True,
            optional=True,
            help="optional points to pass through; override the 'points' text",
        )
    ],
    outputs=[_CURVE],
    params=[
        ParamSpec(
            "points", kind="string", default="0,0; 25,20; 50,0; 75,-20; 100,0", help=_POINTS_HELP, label="Points"
        ),
        ParamSpec(
            "closed",
            kind="boolean",
            default=False,
            help="make a smooth closed (periodic) curve; its points must not all lie on one straight line",
            label="Closed",
        ),
    ],
    description="Smooth interpolating B-spline through a list of points.",
)
def spline(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"curve": curves.make_spline(ctx, _point_list(ctx, inputs, params), params["closed"])}


@node(
    "Sketch::Offset2D",
    version=2,  # 2: circles are offset exactly (outwards for positive distances whatever their orientation)
    inputs=[InputSpec("curve", "Curve", help="a planar curve (closed profiles give a parallel profile)")],
    outputs=[_CURVE],
    params=[
        ParamSpec(
            "distance",
            default=5.0,
            dimension="length",
            help="offset distance: positive outwards, negative inwards",
            label="Distance",
        ),
        ParamSpec(
            "kind",
            kind="enum",
            default="arc",
            choices=("arc", "intersection"),
            help="corner joints: 'arc' rounds the outer corners, 'intersection' extends the edges to sharp corners",
            label="Kind",
        ),
    ],
    description="Offset a planar curve in its plane (outwards for positive distances).",
)
def offset_2d(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"curve": curves.offset_2d(ctx, inputs["curve"], params["distance"], params["kind"])}


@node(
    "Sketch::Fillet2D",
    trusted_output=True,  # the kernel checks the filleted wire's validity
    inputs=[
        InputSpec("wire", "Curve", help="a planar wire, e.g. Sketch::Rectangle or a Polyline"),
        InputSpec(
            "vertices",
            "Point",
            multiple=True,
            optional=True,
            help="optional corner points to round (used when allCorners is false)",
        ),
    ],
    outputs=[OutputSpec("filleted", "Curve", help="the wire with rounded corners")],
    params=[
        ParamSpec(
            "radius", default=5.0, min=0, min_exclusive=True, dimension="length", help="fillet radius", label="Radius"
        ),
        ParamSpec(
            "allCorners",
            kind="boolean",
            default=True,
            help="round every corner (the ends of an open wire are not corners); false: only the corners given on 'vertices'",
            label="All Corners",
        ),
    ],
    description="Round the corners of a planar wire.",
)
def fillet_2d(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    chosen = None
    if not params["allCorners"]:
        connected = inputs.get("vertices") or []
        if not connected:
            raise ctx.error(
                ErrorCode.PARAM_INVALID,
                "allCorners is false but no corner points are connected to 'vertices'",
                param="allCorners",
                hint="connect Sketch::Point nodes at the corners to round, or set allCorners to true",
            )
        chosen = [curves.point_coords(ctx, p, f"vertices[{i}]") for i, p in enumerate(connected)]
    return {"filleted": curves.fillet_2d(ctx, inputs["wire"], params["radius"], chosen)}
