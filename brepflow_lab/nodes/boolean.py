"""Boolean nodes: Union, Subtract, Intersect (BrepFlow's ``Boolean::*`` types).

Each runs ONE OCCT boolean over all of its inputs (see :mod:`brepflow_lab.kernel.ops`),
so a plate with fifty holes is one cut, not fifty.
"""

from __future__ import annotations

from typing import Any

from brepflow_lab.kernel import ops
from brepflow_lab.nodes.registry import node
from brepflow_lab.nodes.spec import InputSpec, NodeContext, OutputSpec, ParamSpec

__all__: list[str] = []

_SIMPLIFY = ParamSpec(
    "simplify",
    kind="boolean",
    default=True,
    label="Simplify",
    help="merge the coplanar faces and collinear edges the boolean leaves behind (ShapeUpgrade_UnifySameDomain)",
)


@node(
    "Boolean::Union",
    trusted_output=True,
    inputs=[InputSpec("shapes", "Shape", multiple=True, help="the shapes to join; all are fused in one operation")],
    outputs=[OutputSpec("shape", "Shape", help="the fused shape")],
    params=[_SIMPLIFY],
    description="Boolean union of multiple shapes, computed in one OCCT operation.",
)
def union(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": ops.union(ctx, inputs["shapes"], simplify=params["simplify"])}


@node(
    "Boolean::Subtract",
    trusted_output=True,
    inputs=[
        InputSpec("base", "Shape", help="the shape to cut from"),
        InputSpec("tools", "Shape", multiple=True, optional=True, help="the shapes to remove; all are cut at once"),
    ],
    outputs=[OutputSpec("shape", "Shape", help="the base with the tools removed")],
    params=[_SIMPLIFY],
    description="Boolean subtraction: removes every tool from the base in one OCCT operation.",
)
def subtract(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": ops.subtract(ctx, inputs["base"], inputs["tools"], simplify=params["simplify"])}


@node(
    "Boolean::Intersect",
    trusted_output=True,
    inputs=[InputSpec("shapes", "Shape", multiple=True, help="the shapes whose common volume is kept")],
    outputs=[OutputSpec("shape", "Shape", help="the part inside every input shape")],
    params=[_SIMPLIFY],
    description="Boolean intersection: the volume shared by all input shapes.",
)
def intersect(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"shape": ops.intersect(ctx, inputs["shapes"], simplify=params["simplify"])}
