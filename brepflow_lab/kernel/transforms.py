"""Rigid transforms, scaling, mirroring and arrays of shapes.

Every function takes a *bare* cadquery shape and returns a new one; the node layer
re-wraps results with :func:`brepflow_lab.kernel.part.with_shape` so material tags ride
along. All transforms go through ``BRepBuilderAPI_Transform`` without copying geometry:
for a rigid motion OCCT only sets a location on the shared topology (cheap, which
matters for arrays of hundreds of copies); a scale or a mirror makes OCCT rebuild the
geometry, with orientation fixed up for the mirror so solids keep a positive volume.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from brepflow_lab.core.errors import ErrorCode
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.context import KernelContext

__all__ = ["array_circular", "array_linear", "mirror", "move", "rotate", "scale"]

Vec = Sequence[float]
MirrorPlane = Literal["XY", "XZ", "YZ"]
_PLANE_NORMALS: dict[str, tuple[float, float, float]] = {"XY": (0, 0, 1), "XZ": (0, 1, 0), "YZ": (1, 0, 0)}


def _apply(ctx: KernelContext, shape: Any, trsf: Any, what: str) -> Any:
    from OCP.BRepBuilderAPI import BRepBuilderAPI_Transform

    try:
        builder = BRepBuilderAPI_Transform(shape.wrapped, trsf, False)
        if not builder.IsDone():
            raise RuntimeError("not done")
        return cq().Shape.cast(builder.Shape())
    except Exception:
        raise ctx.error(ErrorCode.GEOM_OPERATION_FAIL, f"OCCT could not {what} the shape") from None


def _translation(vector: Vec) -> Any:
    from OCP.gp import gp_Trsf, gp_Vec

    trsf = gp_Trsf()
    trsf.SetTranslation(gp_Vec(*vector))
    return trsf


def _rotation(ctx: KernelContext, axis: Vec, angle: float, origin: Vec, param: str = "axis") -> Any:
    from OCP.gp import gp_Ax1, gp_Dir, gp_Pnt, gp_Trsf

    if math.sqrt(sum(c * c for c in axis)) < 1e-12:
        raise ctx.error(ErrorCode.PARAM_INVALID, "the rotation axis must not be the zero vector", param=param)
    trsf = gp_Trsf()
    trsf.SetRotation(gp_Ax1(gp_Pnt(*origin), gp_Dir(*axis)), math.radians(angle))
    return trsf


def move(ctx: KernelContext, shape: Any, offset: Vec) -> Any:
    """``shape`` translated by ``offset``."""
    if not any(offset):
        return shape
    return _apply(ctx, shape, _translation(offset), "move")


def rotate(ctx: KernelContext, shape: Any, angle: float, axis: Vec = (0, 0, 1), origin: Vec = (0, 0, 0)) -> Any:
    """``shape`` rotated by ``angle`` degrees about the axis through ``origin`` (right-hand rule)."""
    trsf = _rotation(ctx, axis, angle, origin)
    if angle % 360 == 0:
        return shape
    return _apply(ctx, shape, trsf, "rotate")


def scale(ctx: KernelContext, shape: Any, factor: float, origin: Vec = (0, 0, 0)) -> Any:
    """``shape`` scaled uniformly by ``factor`` about ``origin``."""
    from OCP.gp import gp_Pnt, gp_Trsf

    if factor <= 0:
        raise ctx.error(ErrorCode.PARAM_INVALID, f"the scale factor must be positive, got {factor:g}", param="scale")
    if factor == 1:
        return shape
    trsf = gp_Trsf()
    trsf.SetScale(gp_Pnt(*origin), factor)
    return _apply(ctx, shape, trsf, "scale")


def mirror(ctx: KernelContext, shape: Any, plane: MirrorPlane = "XY", origin: Vec = (0, 0, 0)) -> Any:
    """``shape`` reflected in the plane ``plane`` (XY, XZ or YZ) moved to pass through ``origin``."""
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt, gp_Trsf

    if plane not in _PLANE_NORMALS:
        raise ctx.error(ErrorCode.PARAM_INVALID, f"unknown mirror plane '{plane}' (use XY, XZ or YZ)", param="plane")
    trsf = gp_Trsf()
    trsf.SetMirror(gp_Ax2(gp_Pnt(*origin), gp_Dir(*_PLANE_NORMALS[plane])))
    return _apply(ctx, shape, trsf, "mirror")


def array_linear(ctx: KernelContext, shape: Any, count: int, spacing: Vec) -> list[Any]:
    """``count`` copies; copy ``i`` (0-based) moved by ``i * spacing``. Copy 0 is the original."""
    if count < 1:
        raise ctx.error(ErrorCode.PARAM_INVALID, f"count must be at least 1, got {count}", param="count")
    copies = [shape]
    for i in range(1, count):
        ctx.check_cancelled()
        copies.append(_apply(ctx, shape, _translation([i * c for c in spacing]), "move"))
    return copies


def array_circular(
    ctx: KernelContext,
    shape: Any,
    count: int,
    angle: float = 360.0,
    axis: Vec = (0, 0, 1),
    center: Vec = (0, 0, 0),
) -> list[Any]:
    """``count`` copies rotated about the axis through ``center``; copy ``i`` by ``i * angle / count`` degrees."""
    if count < 1:
        raise ctx.error(ErrorCode.PARAM_INVALID, f"count must be at least 1, got {count}", param="count")
    _rotation(ctx, axis, 0.0, center)  # validates the axis even for count == 1
    step = angle / count
    copies = [shape]
    for i in range(1, count):
        ctx.check_cancelled()
        copies.append(_apply(ctx, shape, _rotation(ctx, axis, i * step, center), "rotate"))
    return copies
