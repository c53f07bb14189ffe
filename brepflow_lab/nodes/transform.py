"""Transform nodes: Move, Rotate, Scale, Mirror and the two arrays (``Transform::*``).

The inputs keep their Part wrappers (``keep_parts=True``) and every output is re-wrapped
with the input's tags, so a part's name, material and colour survive a transform.
BrepFlow declares these nodes but its engine has no handler for them; here they work.
"""

from __future__ import annotations

from typing import Any

from brepflow_lab.kernel import transforms
from brepflow_lab.kernel.part import shape_of, with_shape
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__: list[str] = []


def _shape_in(help: str = "the shape to transform (any kind: solid, surface, curve, point)") -> InputSpec:
    return InputSpec("shape", "Shape", keep_parts=True, help=help)


def _origin(help: str) -> ParamSpec:
    return ParamSpec("origin", kind="vector", default=(0.0, 0.0, 0.0), label="Origin", help=help)


_AXIS = ParamSpec(
    "axis",
    kind="vector",
    default=(0.0, 0.0, 1.0),
    label="Axis",
    help="direction of the rotation axis (right-hand rule: thumb along the axis)",
)


@node(
    "Transform::Move",
    trusted_output=True,
    inputs=[_shape_in()],
    outputs=[OutputSpec("shape", "Shape", help="the moved shape")],
    params=[ParamSpec("offset", kind="vector", default=(0.0, 0.0, 0.0), label="Offset", help="translation vector")],
    description="Move a shape by an offset vector.",
)
def move(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    original = inputs["shape"]
    return {"shape": with_shape(original, transforms.move(ctx, shape_of(original), params["offset"]))}


@node(
    "Transform::Rotate",
    trusted_output=True,
    inputs=[_shape_in()],
    outputs=[OutputSpec("shape", "Shape", help="the rotated shape")],
    params=[
        ParamSpec("angle", default=90.0, min=-360, max=360, dimension="angle", label="Angle", help="rotation angle"),
        _AXIS,
        _origin("a point on the rotation axis"),
    ],
    description="Rotate a shape about an axis through a point.",
)
def rotate(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    original = inputs["shape"]
    shape = transforms.rotate(ctx, shape_of(original), params["angle"], params["axis"], params["origin"])
    return {"shape": with_shape(original, shape)}


@node(
    "Transform::Scale",
    trusted_output=True,
    inputs=[_shape_in()],
    outputs=[OutputSpec("shape", "Shape", help="the scaled shape")],
    params=[
        ParamSpec(
            "scale",
            default=1.0,
            min=0.001,
            max=100,
            label="Scale",
            help="uniform scale factor (2 doubles every length, so the volume grows 8 times)",
        ),
        _origin("the fixed point of the scaling"),
    ],
    description="Scale a shape uniformly about a point.",
)
def scale(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    original = inputs["shape"]
    shape = transforms.scale(ctx, shape_of(original), params["scale"], params["origin"])
    return {"shape": with_shape(original, shape)}


@node(
    "Transform::Mirror",
    trusted_output=True,
    inputs=[_shape_in()],
    outputs=[OutputSpec("shape", "Shape", help="the mirrored shape (the original is not kept)")],
    params=[
        ParamSpec(
            "plane",
            kind="enum",
            default="XY",
            choices=("XY", "XZ", "YZ"),
            label="Plane",
            help="mirror plane: XY flips Z, XZ flips Y, YZ flips X",
        ),
        _origin("a point of the mirror plane (moves the plane off the origin)"),
    ],
    description="Mirror a shape across the XY, XZ or YZ plane through a point.",
)
def mirror(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    original = inputs["shape"]
    shape = transforms.mirror(ctx, shape_of(original), params["plane"], params["origin"])
    return {"shape": with_shape(original, shape)}


@node(
    "Transform::ArrayLinear",
    trusted_output=True,
    inputs=[_shape_in("the shape to repeat")],
    outputs=[OutputSpec("shapes", "Shape", multiple=True, help="the copies, the original first")],
    params=[
        ParamSpec(
            "count",
            kind="integer",
            default=5,
            min=1,
            max=100,
            label="Count",
            help="number of copies, the original included",
        ),
        ParamSpec(
            "spacing",
            kind="vector",
            default=(50.0, 0.0, 0.0),
            label="Spacing",
            help="offset between neighbouring copies: copy i sits at i × spacing",
        ),
    ],
    description="Repeat a shape along a line: copy i is moved by i × spacing.",
)
def array_linear(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    original = inputs["shape"]
    copies = transforms.array_linear(ctx, shape_of(original), params["count"], params["spacing"])
    return {"shapes": [with_shape(original, c) for c in copies]}


@node(
    "Transform::ArrayCircular",
    trusted_output=True,
    inputs=[_shape_in("the shape to repeat")],
    outputs=[OutputSpec("shapes", "Shape", multiple=True, help="the copies, the original first")],
    params=[
        ParamSpec(
            "count",
            kind="integer",
            default=6,
            min=1,
            max=100,
            label="Count",
            help="number of copies, the original included",
        ),
        ParamSpec(
            "angle",
            default=360.0,
            min=-360,
            max=360,
            dimension="angle",
            label="Total Angle",
            help="angle spread over the copies: copy i is rotated by i × angle / count "
            "(360 spaces them evenly around a full circle)",
        ),
        _AXIS,
        ParamSpec(
            "center", kind="vector", default=(0.0, 0.0, 0.0), label="Center", help="a point on the rotation axis"
        ),
    ],
    description="Repeat a shape around an axis: copy i is rotated by i × angle / count.",
)
def array_circular(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    original = inputs["shape"]
    copies = transforms.array_circular(
        ctx, shape_of(original), params["count"], params["angle"], params["axis"], params["center"]
    )
    return {"shapes": [with_shape(original, c) for c in copies]}
