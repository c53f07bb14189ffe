"""``Part``: a shape with the tags (name, material, layer, colour, density) exports carry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Part", "shape_of", "with_shape"]


@dataclass(frozen=True)
class Part:
    """A cadquery ``Shape`` plus metadata. Pickles (the shape pickles through BREP)."""

    shape: Any
    name: str | None = None
    material: str | None = None
    layer: str | None = None
    color: tuple[float, float, float, float] | None = None  # RGBA in 0..1
    density: float | None = None  # g/cm^3

    def tags(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("name", self.name),
                ("material", self.material),
                ("layer", self.layer),
                ("color", list(self.color) if self.color else None),
                ("density", self.density),
            )
            if v is not None
        }


def shape_of(value: Any) -> Any:
    """The bare shape of a Part or shape."""
    return value.shape if isinstance(value, Part) else value


def with_shape(original: Any, shape: Any) -> Any:
    """Re-wrap ``shape`` with the tags of ``original`` if it was a Part (used by transforms)."""
    return replace(original, shape=shape) if isinstance(original, Part) else shape
