"""Feature nodes: Fillet, Chamfer, Shell, Draft, Offset (BrepFlow's ``Features::*`` types).

BrepFlow picks edges and faces through optional ``edges`` / ``faces`` input ports that
need topology references; a graph cannot keep those stable across parameter changes, so
here the choice is a CadQuery selector string parameter re-applied to whatever shape
arrives (see :mod:`brepflow_lab.kernel.selectors`).
"""

from __future__ import annotations

from typing import Any

from brepflow_lab.kernel import ops
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__: list[str] = []

_SYNTAX = (
    "CadQuery selector: '>Z' top, '<Z' bottom, '|Z' parallel to Z, '#Z' perpendicular to Z, "
    "'%CIRCLE' / '%LINE' / '%PLANE' by geometry type, '>Z[-2]' second group from the top; combine "
    "with 'and', 'or', 'not', 'exc', e.g. '>Z or <Z', 'not <Z', '|Z and >X'"
)
_EDGES_HELP = (
    "which edges to treat, as a " + _SYNTAX + ". Examples: '|Z' the vertical edges of a box, "
    "'>Z' the top edges, 'not <Z' all but the bottom edges. Ignored when 'All Edges' is on."
)
_SELECT_ALL_HELP = "treat every edge of the shape (the edge selector is ignored)"


def _edge_params(size_name: str, size_label: str, default: float, size_help: str) -> list[ParamSpec]:
    return [
        ParamSpec(
            size_name,
            default=default,
            min=0,
            min_exclusive=True,
            dimension="length",
            label=size_label,
            help=size_help,
        ),
        ParamSpec("selectAll", kind="boolean", default=False, label="All Edges", help=_SELECT_ALL_HELP),
        ParamSpec("edges", kind="string", default="", label="Edges", help=_EDGES_HELP),
    ]


@node(
    "Features::Fillet",
    trusted_output=True,
    inputs=[InputSpec("shape", "Solid", help="the solid whose edges are rounded")],
    outputs=[OutputSpec("shape", "Shape", help="the filleted solid")],
    params=_edge_params("radius", "Radius", 5.0, "fillet radius"),
    description="Round the selected edges of a solid with a constant radius.",
)
def fillet(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    shape = ops.fillet(ctx, inputs["shape"], params["radius"], edges=params["edges"], select_all=params["selectAll"])
    return {"shape": shape}


@node(
    "Features::Chamfer",
    trusted_output=True,
    inputs=[InputSpec("shape", "Solid", help="the solid whose edges are bevelled")],
    outputs=[OutputSpec("shape", "Shape", help="the chamfered solid")],
    params=_edge_params("distance", "Distance", 3.0, "chamfer distance, measured on both faces of each edge"),
    description="Bevel the selected edges of a solid by an equal distance on both faces.",
)
def chamfer(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    shape = ops.chamfer(ctx, inputs["shape"], params["distance"], edges=params["edges"], select_all=params["selectAll"])
    return {"shape": shape}


@node(
    "Features::Shell",
    trusted_output=True,
    inputs=[InputSpec("shape", "Solid", help="the solid to hollow out")],
    outputs=[OutputSpec("shape", "Shape", help="the hollow solid")],
    params=[
        ParamSpec(
            "thickness",
            default=2.0,
            min=0,
            min_exclusive=True,
            dimension="length",
            label="Thickness",
            help="wall thickness",
        ),
        ParamSpec(
            "inside",
            kind="boolean",
            default=True,
            label="Inside",
            help="on: keep the outer dimensions and thicken the walls inward; "
            "off: keep the solid as the cavity and thicken outward (the part grows by the thickness)",
        ),
        ParamSpec(
            "faces",
            kind="string",
            default=">Z",
            label="Open Faces",
            help="faces removed to open the shell, as a " + _SYNTAX + ". Default '>Z' opens the top, "
            "like BrepFlow's open shells; '>Z or <Z' opens top and bottom (a tube); "
            "an empty string makes a closed hollow solid with an inner void.",
        ),
    ],
    description="Hollow a solid into walls of constant thickness, opening the selected faces.",
)
def shell(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    shape = ops.shell(ctx, inputs["shape"], params["thickness"], inside=params["inside"], faces=params["faces"])
    return {"shape": shape}


@node(
    "Features::Draft",
    trusted_output=True,
    inputs=[
        InputSpec("shape", "Solid", help="the solid whose side faces are tilted"),
        InputSpec(
            "neutralPlane",
            "Surface",
            optional=True,
            help="planar face where the drafted faces keep their size (default: the plane through "
            "the solid's lowest point across the pull direction)",
        ),
    ],
    outputs=[OutputSpec("shape", "Shape", help="the drafted solid")],
    params=[
        ParamSpec(
            "angle",
            default=3.0,
            min=-45,
            max=45,
            dimension="angle",
            label="Angle",
            help="draft angle; positive makes the part narrower along the pull direction (mould release)",
        ),
        ParamSpec(
            "pullDirection",
            kind="vector",
            default=(0.0, 0.0, 1.0),
            label="Pull Direction",
            help="the direction the part leaves the mould",
        ),
        ParamSpec(
            "faces",
            kind="string",
            default="",
            label="Faces",
            help="faces to draft, as a " + _SYNTAX + ". Empty: every planar or cylindrical face that "
            "runs along the pull direction (the sides of a box pulled along Z, i.e. '#Z').",
        ),
        ParamSpec(
            "neutralOrigin",
            kind="vector",
            default=None,
            optional=True,
            label="Neutral Plane Point",
            help="a point of the neutral plane (perpendicular to the pull direction) when no "
            "neutralPlane face is connected; empty: the solid's lowest point along the pull direction",
        ),
    ],
    description="Tilt side faces by a draft angle relative to a pull direction and a neutral plane.",
)
def draft(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    shape = ops.draft(
        ctx,
        inputs["shape"],
        params["angle"],
        pull_direction=params["pullDirection"],
        faces=params["faces"],
        neutral_plane=inputs.get("neutralPlane"),
        neutral_origin=params["neutralOrigin"],
    )
    return {"shape": shape}


@node(
    "Features::Offset",
    trusted_output=True,
    inputs=[InputSpec("shape", "Shape", help="the solid (or surface) to offset")],
    outputs=[OutputSpec("shape", "Shape", help="the offset shape")],
    params=[
        ParamSpec(
            "distance",
            default=2.0,
            min=-100,
            max=100,
            dimension="length",
            label="Distance",
            help="offset distance; positive grows a solid, negative shrinks it",
        ),
        ParamSpec(
            "join",
            kind="enum",
            default="arc",
            choices=("arc", "intersection"),
            label="Join Type",
            help="'arc' rounds the grown edges and corners (true constant distance); "
            "'intersection' extends the faces until they meet (sharp edges)",
        ),
    ],
    description="Offset every face of a solid outward or inward by a constant distance.",
)
def offset(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": ops.offset(ctx, inputs["shape"], params["distance"], join=params["join"])}
