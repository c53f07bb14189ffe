"""BrepFlow Lab: node-based parametric CAD in Jupyter, on real OCCT.

Public API::

    from brepflow_lab import Graph
    g = Graph.load("enclosure.bflow.json")
    g.parameters["L"] = 120
    r = g.evaluate()
"""

from __future__ import annotations

import os
from typing import Any

from brepflow_lab.api import Graph, NodeHandle
from brepflow_lab.core.version import __version__
from brepflow_lab.engine import EvaluationResult, Evaluator, MemoryCache
from brepflow_lab.errors import BrepFlowError, ErrorCode, GraphError, NodeError, Problem
from brepflow_lab.nodes import InputSpec, NodeContext, NodeSpec, OutputSpec, ParamSpec, catalogue, node

__all__ = [
    "BrepFlowError",
    "ErrorCode",
    "EvaluationResult",
    "Evaluator",
    "Graph",
    "GraphError",
    "InputSpec",
    "MemoryCache",
    "NodeContext",
    "NodeError",
    "NodeHandle",
    "NodeSpec",
    "OutputSpec",
    "ParamSpec",
    "Problem",
    "Studio",
    "__version__",
    "catalogue",
    "evaluate",
    "load",
    "node",
]
# ``brepflow_lab.open(path)`` opens a Studio; it is left out of ``__all__`` so that
# ``from brepflow_lab import *`` does not shadow the builtin ``open``.


def load(path: str | os.PathLike[str]) -> Graph:
    """Load a ``.bflow.json`` graph."""
    return Graph.load(path)


def evaluate(path: str | os.PathLike[str], **parameters: Any) -> EvaluationResult:
    """Load and evaluate a graph file, with optional parameter overrides."""
    return Graph.load(path).evaluate(parameters=parameters or None)


def __getattr__(name: str) -> Any:
    # The widgets pull in anywidget/ipywidgets (0.25-0.6 s): load them only when asked,
    # so the CLI and headless evaluation stay fast.
    if name in ("Studio", "open"):
        from brepflow_lab import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'brepflow_lab' has no attribute {name!r}")
