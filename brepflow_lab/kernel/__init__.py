"""The kernel boundary: the ONLY package that imports OCP or cadquery.

Everything OCCT-specific lives behind this door (CadQuery's ``occ_impl`` idea): shape
construction, operations, exchange formats, measuring, fingerprints. ``import cadquery``
costs ~3 s, so no kernel module imports it at module level: call :func:`cq` (or import
OCP inside the function) so that ``brepflow-lab validate`` and the graph layer stay fast.

Kernel functions raise :class:`brepflow_lab.errors.NodeError` with a specific code and a
message in CAD terms; OCCT's own exceptions never escape.
"""

from __future__ import annotations

import functools
from types import ModuleType

__all__ = ["cq"]


@functools.cache
def cq() -> ModuleType:
    """The ``cadquery`` module, imported once on first use."""
    import cadquery

    return cadquery
