"""Typed errors: the public import path of :mod:`brepflow_lab.core.errors`.

The errors live in the bottom layer (:mod:`brepflow_lab.core`), which every layer may use;
``from brepflow_lab.errors import NodeError`` keeps working for notebooks and node packs.
"""

from __future__ import annotations

from brepflow_lab.core.errors import BrepFlowError, ErrorCode, GraphError, LimitError, NodeError, Problem

__all__ = [
    "BrepFlowError",
    "ErrorCode",
    "GraphError",
    "LimitError",
    "NodeError",
    "Problem",
]
