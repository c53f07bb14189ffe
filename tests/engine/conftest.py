from __future__ import annotations

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache, SyncExecutor

from .demo_nodes import calls, make_registry

EXECUTORS = {"sync": SyncExecutor}


@pytest.fixture
def registry():
    return make_registry()


@pytest.fixture(params=sorted(EXECUTORS))
def make_graph(request, registry):
    """Graphs on the demo catalogue, one run per executor (the conformance suite)."""
    calls.clear()

    def make(units: str = "mm", cache: MemoryCache | None = None) -> Graph:
        g = Graph.new(units=units)
        g.registry = registry
        g.evaluator = Evaluator(
            registry, cache=cache if cache is not None else MemoryCache(), executor=EXECUTORS[request.param]()
        )
        return g

    return make
