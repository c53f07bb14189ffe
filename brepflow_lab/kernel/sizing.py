"""Rough memory sizes of node outputs, for the byte-bounded cache."""

from __future__ import annotations

from typing import Any

from brepflow_lab.kernel.part import shape_of

__all__ = ["outputs_nbytes", "value_nbytes"]

_PER_FACE = 4096  # surface + pcurves + triangulation-free topology, measured order of magnitude
_PER_EDGE = 1024
_BASE = 512


def value_nbytes(value: Any) -> int:
    value = shape_of(value)
    if isinstance(value, (list, tuple)):
        return _BASE + sum(value_nbytes(v) for v in value)
    wrapped = getattr(value, "wrapped", None)
    if wrapped is None:
        return 64
    from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    faces, edges = TopTools_IndexedMapOfShape(), TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(wrapped, TopAbs_FACE, faces)
    TopExp.MapShapes_s(wrapped, TopAbs_EDGE, edges)
    return _BASE + faces.Size() * _PER_FACE + edges.Size() * _PER_EDGE


def outputs_nbytes(outputs: dict[str, Any]) -> int:
    return sum(value_nbytes(v) for v in outputs.values())
