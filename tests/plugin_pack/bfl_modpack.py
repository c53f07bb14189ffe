"""A module-style node pack: the entry point names this module; importing it registers
``ModPack::Triple`` into the process-wide catalogue through ``@node``."""

from __future__ import annotations

from typing import Any

from brepflow_lab import NodeContext, OutputSpec, ParamSpec, node


@node(
    "ModPack::Triple",
    outputs=[OutputSpec("value", "Number")],
    params=[ParamSpec("x", "number", default=1.0, help="the number to triple")],
)
def triple(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {"value": 3 * params["x"]}
