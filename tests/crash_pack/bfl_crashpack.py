"""A test-only node pack whose node can kill the process it runs in (``os.abort()``).

OCCT can abort its process on some inputs; ``Crash::Fragile`` stands in for such an
operation: it passes a shape through, or aborts the process when ``crash`` is true. The
tests install this module as a real distribution — the module plus a
``bfl_crashpack-0.1.dist-info`` declaring the entry point ``crashpack = bfl_crashpack:register``
in the group ``brepflow_lab.nodes`` — in a temporary folder on ``PYTHONPATH``, so Dask worker
processes import it the way they import a pip-installed pack. The node functions live at
module level: they pickle by reference, and the workers import this module to run them.
"""

from __future__ import annotations

import os
from typing import Any

from brepflow_lab import InputSpec, NodeContext, OutputSpec, ParamSpec, node
from brepflow_lab.nodes import Registry


def fragile(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Return the shape unchanged, or abort the whole process when ``crash`` is true."""
    if params["crash"]:
        os.abort()
    return {"shape": inputs["shape"]}


def pid(ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The id of the process evaluating this node."""
    return {"value": float(os.getpid())}


def register(registry: Registry) -> None:
    node(
        "Crash::Fragile",
        inputs=[InputSpec("shape", "Shape")],
        outputs=[OutputSpec("shape", "Shape")],
        params=[ParamSpec("crash", "boolean", default=True, help="abort the process, as OCCT can")],
        registry=registry,
    )(fragile)
    node("Crash::Pid", outputs=[OutputSpec("value", "Number")], deterministic=False, registry=registry)(pid)
