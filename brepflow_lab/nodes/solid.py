"""Solid nodes: primitives (Box, Cylinder, Sphere, Cone, Torus) and Extrude / Revolve / Sweep / Loft.

Type, socket and parameter names follow BrepFlow (``packages/nodes-core/src/solid.ts`` and its
generated Cone / Torus primitives), so ``.bflow.json`` files load unchanged. Where BrepFlow
takes a placement both as an optional input socket and as a parameter (e.g. ``center``), a
connected input wins. Every solid comes out on the ``shape`` socket.

Placement follows OCCT's primitive defaults (as BrepFlow does): Box spans [0,w]×[0,h]×[0,d]
unless ``center`` is given; Cylinder and Cone stand on z = 0 around +Z; Sphere and Torus are
centred on the origin.
"""

from __future__ import annotations

from typing import Any

from brepflow_lab.kernel import curves, primitives
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__: list[str] = []

_SHAPE = OutputSpec("shape", "Solid", help="the resulting solid")


def _positive(name: str, default: float, help: str, label: str | None = None) -> ParamSpec:
    return ParamSpec(name, default=default, min=0, min_exclusive=True, dimension="length", help=help, label=label)


def _angle(default: float = 360.0, help: str = "sweep angle about the axis; 360 for a full solid") -> ParamSpec:
    return ParamSpec(
        "angle", default=default, min=0, min_exclusive=True, max=360, dimension="angle", help=help, label="Angle"
    )


def _center_param(help: str) -> ParamSpec:
    return ParamSpec("center", kind="vector", default=None, optional=True, dimension="length", help=help)


def _vector_input(name: str, help: str) -> InputSpec:
    return InputSpec(name, "Vector", optional=True, help=help)


def _vec(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any], name: str) -> Any:
    """A vector from the input socket if connected, else from the param (may be None)."""
    value = inputs.get(name)
    if value is not None:
        return curves.point_coords(ctx, value, name)
    return params.get(name)


def _xyz_params() -> list[ParamSpec]:
    return [
        ParamSpec(
            axis_name,
            default=0.0,
            dimension="length",
            help=f"{axis_name[-1]} coordinate of the base centre",
            label=f"Center {axis_name[-1]}",
        )
        for axis_name in ("centerX", "centerY", "centerZ")
    ]


# --------------------------------------------------------------------------- primitives


@node(
    "Solid::Box",
    trusted_output=True,
    inputs=[_vector_input("center", "optional centre point; overrides the 'center' parameter")],
    outputs=[_SHAPE],
    params=[
        _positive("width", 100.0, "size along X", "Width"),
        _positive("height", 60.0, "size along Y", "Height"),
        _positive("depth", 40.0, "size along Z", "Depth"),
        _center_param(
            "centre of the box; when empty the box spans [0,width]×[0,height]×[0,depth] (OCCT's and BrepFlow's default)"
        ),
    ],
    description="Box primitive: width along X, height along Y, depth along Z.",
)
def box(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = _vec(ctx, inputs, params, "center")
    return {"shape": primitives.make_box(ctx, params["width"], params["height"], params["depth"], center)}


@node(
    "Solid::Cylinder",
    trusted_output=True,
    inputs=[
        _vector_input("center", "optional base centre; overrides the 'center' parameter"),
        _vector_input("axis", "optional axis direction; overrides the 'axis' parameter"),
    ],
    outputs=[_SHAPE],
    params=[
        _positive("radius", 30.0, "radius of the cylinder", "Radius"),
        _positive("height", 60.0, "length along the axis, measured from the base centre", "Height"),
        _center_param("centre of the base circle (default: the origin, so the cylinder stands on z = 0)"),
        ParamSpec("axis", kind="vector", default=(0.0, 0.0, 1.0), help="direction of the cylinder's axis (default +Z)"),
    ],
    description="Cylinder primitive standing on its base centre along the axis (default: on z = 0 along +Z).",
)
def cylinder(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = _vec(ctx, inputs, params, "center")
    axis = _vec(ctx, inputs, params, "axis")
    return {"shape": primitives.make_cylinder(ctx, params["radius"], params["height"], center, axis)}


@node(
    "Solid::Sphere",
    trusted_output=True,
    inputs=[_vector_input("center", "optional centre; overrides the 'center' parameter")],
    outputs=[_SHAPE],
    params=[
        _positive("radius", 30.0, "radius of the sphere", "Radius"),
        _center_param("centre of the sphere (default: the origin)"),
    ],
    description="Sphere primitive centred on the origin (or on 'center').",
)
def sphere(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": primitives.make_sphere(ctx, params["radius"], _vec(ctx, inputs, params, "center"))}


@node(
    "Solid::Cone",
    trusted_output=True,
    outputs=[_SHAPE],
    params=[
        ParamSpec("radius1", default=50.0, min=0, dimension="length", help="base (bottom) radius", label="Radius1"),
        ParamSpec(
            "radius2",
            default=0.0,
            min=0,
            dimension="length",
            help="top radius; 0 gives a pointed cone, equal radii a cylinder",
            label="Radius2",
        ),
        _positive("height", 100.0, "height along +Z from the base", "Height"),
        *_xyz_params(),
        _angle(),
        ParamSpec(
            "baseRadius",
            default=None,
            optional=True,
            min=0,
            dimension="length",
            help="alias of radius1 used by some BrepFlow files; when set it wins over radius1",
        ),
        ParamSpec(
            "topRadius",
            default=None,
            optional=True,
            min=0,
            dimension="length",
            help="alias of radius2 used by some BrepFlow files; when set it wins over radius2",
        ),
    ],
    description="Cone or truncated cone standing on its base centre along +Z.",
)
def cone(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = (params["centerX"], params["centerY"], params["centerZ"])
    base = params["baseRadius"] if params.get("baseRadius") is not None else params["radius1"]
    top = params["topRadius"] if params.get("topRadius") is not None else params["radius2"]
    return {"shape": primitives.make_cone(ctx, base, top, params["height"], center, angle=params["angle"])}


@node(
    "Solid::Torus",
    trusted_output=True,
    outputs=[_SHAPE],
    params=[
        _positive("majorRadius", 50.0, "radius of the ring: centre to the middle of the tube", "Major Radius"),
        _positive("minorRadius", 10.0, "radius of the tube; must be smaller than majorRadius", "Minor Radius"),
        *_xyz_params(),
        _angle(),
    ],
    description="Torus centred on the origin, its ring in the XY plane around +Z.",
)
def torus(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    center = (params["centerX"], params["centerY"], params["centerZ"])
    return {
        "shape": primitives.make_torus(ctx, params["majorRadius"], params["minorRadius"], center, angle=params["angle"])
    }


# --------------------------------------------------------------------------- profile solids

_PROFILE = InputSpec(
    "profile",
    "Shape",
    help="closed curve (e.g. Sketch::Rectangle, Circle, closed Polyline) or face; curves nested inside "
    "another become holes",
)


@node(
    "Solid::Extrude",
    version=2,  # 2: drafts that close the profile before the full distance are refused
    inputs=[_PROFILE, _vector_input("direction", "optional direction; overrides the 'direction' parameter")],
    outputs=[_SHAPE],
    params=[
        _positive("distance", 25.0, "how far to extrude along the direction", "Distance"),
        ParamSpec(
            "draft",
            default=0.0,
            min=-45,
            max=45,
            dimension="angle",
            help="taper of the side walls: positive narrows the solid towards its end, negative widens it "
            "(convex corners then become rounded); needs the direction perpendicular to the profile. The walls "
            "move by distance·tan(draft), which must stay below the profile's inradius (the radius of the "
            "largest circle inside it; for a negative draft: of each hole)",
            label="Draft Angle",
        ),
        ParamSpec("direction", kind="vector", default=(0.0, 0.0, 1.0), help="extrusion direction (normalised)"),
    ],
    description="Extrude a closed profile into a solid, optionally with drafted walls.",
)
def extrude(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    direction = _vec(ctx, inputs, params, "direction")
    return {"shape": primitives.extrude(ctx, inputs["profile"], direction, params["distance"], params["draft"])}


@node(
    "Solid::Revolve",
    inputs=[
        _PROFILE,
        InputSpec(
            "axis", "Curve", optional=True, help="optional straight line to revolve about; overrides origin/direction"
        ),
    ],
    outputs=[_SHAPE],
    params=[
        _angle(help="revolve angle; 360 for a closed solid of revolution"),
        ParamSpec(
            "origin",
            kind="vector",
            default=(0.0, 0.0, 0.0),
            dimension="length",
            help="a point on the axis",
            label="Axis Origin",
        ),
        ParamSpec(
            "direction",
            kind="vector",
            default=(0.0, 1.0, 0.0),
            help="axis direction (BrepFlow default: +Y)",
            label="Axis Direction",
        ),
    ],
    description="Revolve a closed profile about an axis (default: the Y axis through the origin).",
)
def revolve(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {
        "shape": primitives.revolve(
            ctx, inputs["profile"], params["origin"], params["direction"], params["angle"], inputs.get("axis")
        )
    }


@node(
    "Solid::Sweep",
    version=2,
    trusted_output=True,  # the kernel checks validity and orientation of the swept solid  # 2: mitred corners on paths with sharp corners; degenerate paths refused
    inputs=[
        InputSpec("profile", "Shape", help="closed curve or face placed at the start of the path, across it"),
        InputSpec("path", "Curve", help="the curve to sweep along (one connected wire)"),
    ],
    outputs=[_SHAPE],
    params=[
        ParamSpec(
            "twist",
            default=0.0,
            min=-360,
            max=360,
            dimension="angle",
            help="rotation of the profile about the path from start to end; needs an open path without "
            "sharp corners (e.g. a Sketch::Spline or Arc)",
            label="Twist",
        ),
        ParamSpec(
            "scale",
            default=1.0,
            min=0.1,
            max=10,
            help="size of the end section relative to the start (changes linearly along the path); other than 1 "
            "it needs an open path without sharp corners",
            label="End Scale",
        ),
    ],
    description="Sweep a closed profile along a path, optionally twisting and scaling it.",
)
def sweep(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": primitives.sweep(ctx, inputs["profile"], inputs["path"], params["twist"], params["scale"])}


@node(
    "Solid::Loft",
    trusted_output=True,  # the kernel checks validity and orientation of the lofted solid
    inputs=[
        InputSpec(
            "profiles",
            "Shape",
            multiple=True,
            help="two or more closed section curves (or faces) in order; the first / last may be a point",
        )
    ],
    outputs=[_SHAPE],
    params=[
        ParamSpec(
            "ruled",
            kind="boolean",
            default=False,
            help="join sections with straight lines instead of a smooth surface",
            label="Ruled",
        ),
        ParamSpec(
            "closed",
            kind="boolean",
            default=False,
            help="loft from the last section back to the first (a ring)",
            label="Closed",
        ),
    ],
    description="Loft a solid through two or more section profiles.",
)
def loft(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": primitives.loft(ctx, inputs["profiles"], params["ruled"], params["closed"])}
