"""A small test-only catalogue of pure-Python nodes (no OCCT), to test the engine alone.

The node functions are local to :func:`make_registry`, so executors that run nodes in
other processes ship them by value (cloudpickle); they must not rely on state of this
process. Runs are counted by the tests from ``NodeStarted`` events (see conftest.py).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

from brepflow_lab.errors import ErrorCode
from brepflow_lab.nodes import InputSpec, OutputSpec, ParamSpec, Registry, node


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
        return {"value": params["value"]}

    @node(
        "Demo::Add",
        inputs=[InputSpec("a", "Number"), InputSpec("b", "Number", optional=True)],
        outputs=[OutputSpec("value", "Number")],
        params=[ParamSpec("offset", default=0.0)],
        registry=reg,
    )
    def add(ctx, inputs, params):
        return {"value": inputs["a"] + (inputs["b"] or 0.0) + params["offset"]}

    @node(
        "Demo::Sum",
        inputs=[InputSpec("values", "Number", multiple=True)],
        outputs=[OutputSpec("value", "Number")],
        registry=reg,
    )
    def total(ctx, inputs, params):
        return {"value": sum(inputs["values"])}

    @node(
        "Demo::Range",
        outputs=[OutputSpec("values", "Number", multiple=True)],
        params=[ParamSpec("count", "integer", default=3, min=0, max=1000)],
        registry=reg,
    )
    def rng(ctx, inputs, params):
        return {"values": [float(i) for i in range(params["count"])]}

    @node(
        "Demo::Fail",
        inputs=[InputSpec("a", "Number", optional=True)],
        outputs=[OutputSpec("value", "Number")],
        registry=reg,
    )
    def fail(ctx, inputs, params):
        raise ctx.error(ErrorCode.GEOM_BOOLEAN_FAIL, "the shapes do not overlap")

    @node("Demo::Boom", outputs=[OutputSpec("value", "Number")], registry=reg)
    def boom(ctx, inputs, params):
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
        return {"value": params["radius"] + sum(params["offset"])}

    @node(
        "Demo::Clock",
        outputs=[OutputSpec("value", "Number")],
        deterministic=False,
        registry=reg,
    )
    def clock(ctx, inputs, params):
        return {"value": float(uuid.uuid4().int % 10**12)}  # a new value every run

    @node(
        "Demo::Sleep",
        inputs=[InputSpec("a", "Number", optional=True)],
        outputs=[OutputSpec("value", "Number"), OutputSpec("trace", "Data")],
        params=[ParamSpec("seconds", default=0.2, min=0, max=30)],
        registry=reg,
    )
    def sleep(ctx, inputs, params):
        start = time.time()
        time.sleep(params["seconds"])
        trace = {"pid": os.getpid(), "start": start, "end": time.time()}
        return {"value": (inputs["a"] or 0.0) + params["seconds"], "trace": trace}

    @node("Demo::Unpicklable", outputs=[OutputSpec("value", "Data")], registry=reg)
    def unpicklable(ctx, inputs, params):
        return {"value": threading.Lock()}  # fine in-process; cannot cross to another process

    return reg
