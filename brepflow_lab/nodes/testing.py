"""Run one node in isolation — for node tests and for authors of node packs.

>>> from brepflow_lab.nodes.testing import run_node
>>> out = run_node("Solid::Box", width=10, height=20, depth=30)
>>> round(out["shape"].Volume())
6000
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.nodes.registry import Registry, catalogue
from brepflow_lab.nodes.spec import NodeContext

__all__ = ["run_node"]


def run_node(
    node_type: str,
    inputs: dict[str, Any] | None = None,
    *,
    base_dir: Path | None = None,
    output_dir: Path | None = None,
    allow_unsafe_paths: bool = False,
    units: str = "mm",
    registry: Registry | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Fill defaults, check params with their specs, run the node (with its checks)."""
    spec = (registry if registry is not None else catalogue)[node_type]
    unknown = set(params) - {p.name for p in spec.params}
    if unknown:
        raise TypeError(f"{node_type} has no parameter(s) {sorted(unknown)}")
    resolved: dict[str, Any] = {}
    ctx = NodeContext(
        node_id="node",
        node_type=node_type,
        units=units,
        base_dir=base_dir,
        output_dir=output_dir,
        allow_unsafe_paths=allow_unsafe_paths,
    )
    for p in spec.params:
        value = params.get(p.name, p.default)
        try:
            resolved[p.name] = p.check(value)
        except ValueError as exc:
            raise ctx.error(ErrorCode.PARAM_INVALID, str(exc), param=p.name) from None
    return spec.run(ctx, dict(inputs or {}), resolved)
