"""Canonical shape fingerprints for manifests and regression checks.

The BREP text of a shape is not a content hash: building the same filleted, shelled box
twice in one process gives two BREP texts (OCCT writes its geometry tables in whatever
order its maps hold them). :func:`fingerprint` hashes a canonical, order-independent
description of the geometry instead:

* topology counts: solids, shells, faces, wires, edges, vertices (distinct sub-shapes);
* volume, area, centre of mass and the tight axis-aligned bounding box;
* the sorted multiset of faces, each as (surface type, area, area centroid);
* the sorted multiset of edges, each as (curve type, length, midpoint of its length).

Rounding. Let ``U`` be the power of ten nearest the bounding-box diagonal ``D``
(``U = 10**round(log10(D))``, so the switch between two values of ``U`` happens at
3.16×10^k, never at a round number a designer types). With ``q = 10**-digits``, lengths and
coordinates are rounded to multiples of ``U·q``, areas to ``U²·q`` and volumes to ``U³·q``
(integers are hashed, so no float formatting is involved). With the default ``digits=6``
a 30 mm part is resolved to 0.00001 mm.

What this guarantees:

* the same geometry gives the same fingerprint however it was built, in this process or
  another, whatever order OCCT enumerates faces and edges in (the lists are sorted);
* a change of any dimension by more than about one rounding step (``U·10**-digits``)
  changes the fingerprint, and so does moving the shape (bbox and centres change);
* values are rounded to the nearest step, so a value lying within floating-point noise
  (~1e-12 relative) of a half-step could flip; for designed dimensions (round numbers) this
  does not happen, and for irrational ones its probability is about noise/step ≈ 1e-6.

The fingerprint ignores tags (name, colour), tolerances and the parametrisation of
surfaces; two shapes that differ only there have the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from brepflow_lab.kernel import cq
from brepflow_lab.kernel.checks import is_valid
from brepflow_lab.kernel.part import shape_of

__all__ = ["FINGERPRINT_VERSION", "canonical_form", "fingerprint", "shape_summary"]

FINGERPRINT_VERSION = 1


def _bbox(shape: Any) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    try:
        BRepBndLib.AddOptimal_s(shape.wrapped, box, False, False)
    except Exception:  # fall back to the fast (looser) box
        box = Bnd_Box()
        BRepBndLib.Add_s(shape.wrapped, box, True)
    if box.IsVoid():
        return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
    lo, hi = box.CornerMin(), box.CornerMax()
    return (lo.X(), lo.Y(), lo.Z()), (hi.X(), hi.Y(), hi.Z())


def _props(shape: Any, kind: str) -> tuple[float, tuple[float, float, float]]:
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    props = GProp_GProps()
    if kind == "volume":
        BRepGProp.VolumeProperties_s(shape.wrapped, props)
    elif kind == "area":
        BRepGProp.SurfaceProperties_s(shape.wrapped, props)
    else:
        BRepGProp.LinearProperties_s(shape.wrapped, props)
    c = props.CentreOfMass()
    return props.Mass(), (c.X(), c.Y(), c.Z())


def _counts(shape: Any) -> dict[str, int]:
    return {
        "solids": len(shape.Solids()),
        "shells": len(shape.Shells()),
        "faces": len(shape.Faces()),
        "wires": len(shape.Wires()),
        "edges": len(shape.Edges()),
        "vertices": len(shape.Vertices()),
    }


def _edge_midpoint(edge: Any) -> tuple[float, float, float]:
    from OCP.BRep import BRep_Tool

    if BRep_Tool.Degenerated_s(edge.wrapped):
        p = edge.startPoint()
    else:
        p = edge.positionAt(0.5, mode="length")
    return (p.x, p.y, p.z)


def canonical_form(value: Any, *, digits: int = 6) -> dict[str, Any]:
    """The canonical, order-independent description that :func:`fingerprint` hashes."""
    shape = shape_of(value)
    if not isinstance(shape, cq().Shape) or shape.wrapped is None or shape.wrapped.IsNull():
        raise TypeError(f"fingerprint needs a shape, got {type(value).__name__}")
    if digits < 1 or digits > 12:
        raise ValueError(f"digits must be between 1 and 12, got {digits}")
    lo, hi = _bbox(shape)
    diagonal = math.dist(lo, hi)
    exponent = round(math.log10(diagonal)) if diagonal > 0 else 0
    step = 10.0 ** (exponent - digits)
    area_step = 10.0 ** (2 * exponent - digits)
    volume_step = 10.0 ** (3 * exponent - digits)

    def length(x: float) -> int:
        return round(x / step) + 0  # + 0 turns -0 into 0

    def point(p: tuple[float, float, float]) -> list[int]:
        return [length(c) for c in p]

    solids = shape.Solids()
    faces = shape.Faces()
    edges = shape.Edges()
    volume, volume_centre = _props(shape, "volume") if solids else (0.0, (0.0, 0.0, 0.0))
    area, area_centre = _props(shape, "area") if faces else (0.0, (0.0, 0.0, 0.0))
    if solids:
        centre = volume_centre
    elif faces:
        centre = area_centre
    elif edges:
        centre = _props(shape, "length")[1]
    else:
        centre = lo
    face_keys = []
    for face in faces:
        face_area, face_centre = _props(face, "area")
        face_keys.append([face.geomType(), round(face_area / area_step), *point(face_centre)])
    edge_keys = []
    for edge in edges:
        edge_length = _props(edge, "length")[0]
        edge_keys.append([edge.geomType(), length(edge_length), *point(_edge_midpoint(edge))])
    return {
        "version": FINGERPRINT_VERSION,
        "digits": digits,
        "unit_exponent": exponent,
        "counts": _counts(shape),
        "volume": round(volume / volume_step),
        "area": round(area / area_step),
        "centre": point(centre),
        "bbox": [point(lo), point(hi)],
        "faces": sorted(face_keys),
        "edges": sorted(edge_keys),
    }


def fingerprint(shape: Any, *, digits: int = 6) -> str:
    """SHA-256 hex digest of :func:`canonical_form` (see the module docstring)."""
    text = json.dumps(canonical_form(shape, digits=digits), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shape_summary(value: Any) -> dict[str, Any]:
    """JSON-ready summary for manifests: valid, volume, area, bbox, diagonal, counts, fingerprint."""
    shape = shape_of(value)
    lo, hi = _bbox(shape)
    return {
        "valid": is_valid(shape),
        "volume": _props(shape, "volume")[0] if shape.Solids() else 0.0,
        "area": _props(shape, "area")[0] if shape.Faces() else 0.0,
        "bbox": {"min": list(lo), "max": list(hi)},
        "diagonal": math.dist(lo, hi),
        "counts": _counts(shape),
        "fingerprint": fingerprint(shape),
    }
