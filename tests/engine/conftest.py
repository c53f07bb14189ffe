"""Fixtures of the engine conformance suite: every test runs once per executor.

``EXECUTORS`` names each executor and how to get it. The Dask one is a LocalCluster of two
worker *processes* (``dask_executor`` in ``tests/conftest.py``), started once per test module
and closed in teardown.
Demo nodes run in those processes, so tests never count runs with a counter inside the
nodes (a worker's counter is not ours): ``calls`` counts ``NodeStarted`` events, which the
evaluator emits for exactly the nodes it hands to the executor, and outputs/statuses
prove what ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, Executor, MemoryCache, NodeStarted, SyncExecutor
from brepflow_lab.nodes import Registry

from .demo_nodes import make_registry


def _sync(request: pytest.FixtureRequest) -> Executor:
    return SyncExecutor()


def _dask(request: pytest.FixtureRequest) -> Executor:
    return request.getfixturevalue("dask_executor")


EXECUTORS: dict[str, Callable[[pytest.FixtureRequest], Executor]] = {"sync": _sync, "dask": _dask}


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> Executor:
    return EXECUTORS[request.param](request)


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def calls() -> Counter[str]:
    """node id -> how many times it was handed to the executor (from NodeStarted events)."""
    return Counter()


@pytest.fixture
def make_graph(executor: Executor, registry: Registry, calls: Counter[str]) -> Callable[..., Graph]:
    """Graphs on the demo catalogue, one run per executor (the conformance suite)."""

    def count(event: object) -> None:
        if isinstance(event, NodeStarted):
            calls[event.node_id] += 1

    def make(units: str = "mm", cache: MemoryCache | None = None) -> Graph:
        g = Graph.new(units=units)
        g.registry = registry
        g.evaluator = Evaluator(registry, cache=cache if cache is not None else MemoryCache(), executor=executor)
        g.on(count)
        return g

    return make
