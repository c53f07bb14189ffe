"""A tiny third-party node pack, entry-point style ``bfl_testpack:register``.

The test copies this file into a temporary folder next to a ``bfl_testpack-0.1.dist-info``
that declares the entry point, so it loads through the real ``importlib.metadata``
machinery: the registry calls :func:`register` with itself.
"""

from __future__ import annotations

from typing import Any

from brepflow_lab import InputSpec, NodeContext, OutputSpec, ParamSpec, node
from brepflow_lab.errors import ErrorCode
from brepflow_lab.nodes import Registry


def register(registry: Registry) -> None:
    @node(
        "TestPack::Double",
        inputs=[InputSpec("value", "Number", optional=True, help="added before doubling")],
        outputs=[OutputSpec("value", "Number", help="2 × (x + value)")],
        params=[ParamSpec("x", "number", default=1.0, min=-1000, max=1000, help="the number to double")],
        description="Twice x (plus the optional input).",
        registry=registry,
    )
    def double(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        return {"value": 2 * (params["x"] + (inputs["value"] or 0.0))}

    @node(
        "TestPack::Volume",
        inputs=[InputSpec("solid", "Solid", help="the solid to measure")],
        outputs=[OutputSpec("volume", "Number")],
        params=[ParamSpec("minimum", "number", default=0.0, min=0, help="fail below this volume")],
        registry=registry,
    )
    def volume(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        value = float(inputs["solid"].Volume())
        if value < params["minimum"]:
            raise ctx.error(ErrorCode.GEOM_INVALID_INPUT, f"volume {value:g} is below {params['minimum']:g}")
        return {"volume": value}
