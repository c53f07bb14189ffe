"""A small test-only catalogue of pure-Python nodes (no OCCT), to test the engine alone."""

from __future__ import annotations

from collections import Counter

from brepflow_lab.errors import ErrorCode
from brepflow_lab.nodes import InputSpec, OutputSpec, ParamSpec, Registry, node

calls: Counter[str] = Counter()


def make_registry() -> Registry:
    reg = Registry()
    reg._loaded = True  # no built-ins, no plugins: only what is defined here

    @node(
        "Demo::Const",
        outputs=[OutputSpec("value", "Number")],
        params=[ParamSpec("value", default=1.0, dimension="length")],
        registry=reg,
    )
    def const(ctx, inputs, params):
        calls[ctx.node_id] += 1
        return {"value": params["value"]}

    @node(
        "Demo::Add",
        inputs=[InputSpec("a", "Number"), InputSpec("b", "Number", optional=True)],
        outputs=[OutputSpec("value", "Number")],
        params=[ParamSpec("offset", default=0.0)],
        registry=reg,
    )
    def add(ctx, inputs, params):
        calls[ctx.node_id] += 1
        return {"value": inputs["a"] + (inputs["b"] or 0.0) + params["offset"]}

    @node(
        "Demo::Sum",
        inputs=[InputSpec("values", "Number", multiple=True)],
        outputs=[OutputSpec("value", "Number")],
        registry=reg,
    )
    def total(ctx, inputs, params):
        calls[ctx.node_id] += 1
        return {"value": sum(inputs["values"])}

    @node(
        "Demo::Range",
        outputs=[OutputSpec("values", "Number", multiple=True)],
        params=[ParamSpec("count", "integer", default=3, min=0, max=1000)],
        registry=reg,
    )
    def rng(ctx, inputs, params):
        calls[ctx.node_id] += 1
        return {"values": [float(i) for i in range(params["count"])]}

    @node(
        "Demo::Fail",
        inputs=[InputSpec("a", "Number", optional=True)],
        outputs=[OutputSpec("value", "Number")],
        registry=reg,
    )
    def fail(ctx, inputs, params):
        calls[ctx.node_id] += 1
        raise ctx.error(ErrorCode.GEOM_BOOLEAN_FAIL, "the shapes do not overlap")

    @node("Demo::Boom", outputs=[OutputSpec("value", "Number")], registry=reg)
    def boom(ctx, inputs, params):
        calls[ctx.node_id] += 1
        raise RuntimeError("kaboom")

    @node(
        "Demo::Radius",
        outputs=[OutputSpec("value", "Number")],
        params=[
            ParamSpec("radius", default=5.0, min=0, min_exclusive=True, dimension="length"),
            ParamSpec("angle", default=0.0, dimension="angle"),
            ParamSpec("flag", "boolean", default=False),
            ParamSpec("mode", "enum", default="a", choices=("a", "b")),
            ParamSpec("offset", "vector", default=(0.0, 0.0, 0.0), dimension="length"),
        ],
        registry=reg,
    )
    def radius(ctx, inputs, params):
        calls[ctx.node_id] += 1
        return {"value": params["radius"] + sum(params["offset"])}

    @node(
        "Demo::Clock",
        outputs=[OutputSpec("value", "Number")],
        deterministic=False,
        registry=reg,
    )
    def clock(ctx, inputs, params):
        calls[ctx.node_id] += 1
        return {"value": float(calls[ctx.node_id])}

    return reg
