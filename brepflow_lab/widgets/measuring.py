"""The Studio's Measure tool: picks in the viewer → exact values from the kernel → a panel.

The browser sends ``{"type": "measure", "seq", "picks": [pick, pick?]}`` (PROTOCOL.md);
:func:`measurement` resolves each pick to its exact B-Rep entity through the shape the
browser's mesh was made from (:meth:`.viewer.ViewerState.entity`), measures it with
:mod:`brepflow_lab.kernel.measure` (OCCT's GProp, BRepAdaptor and BRepExtrema — never the
mesh), and returns what the Studio publishes as its ``measurement`` trait: the raw
values, plus ``rows`` (label, value, unit, display text) and ``text`` (what the panel's
Copy button puts on the clipboard). The display text is made here, once, so the panel,
the clipboard and Python show the same numbers; lengths are in the graph's units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brepflow_lab.widgets.viewer import ViewerState

__all__ = ["MAX_PICKS", "format_number", "measurement"]

MAX_PICKS = 2
DIGITS = 6  # decimals shown (trailing zeros dropped); the raw values keep full precision

_SURFACE_NAMES = {
    "plane": "Plane",
    "cylinder": "Cylinder",
    "cone": "Cone",
    "sphere": "Sphere",
    "torus": "Torus",
    "bspline": "B-spline surface",
    "bezier": "Bézier surface",
    "revolution": "Surface of revolution",
    "extrusion": "Extruded surface",
    "offset": "Offset surface",
    "other": "Surface",
}
_CURVE_NAMES = {
    "line": "Line",
    "circle": "Circle",
    "ellipse": "Ellipse",
    "hyperbola": "Hyperbola",
    "parabola": "Parabola",
    "bspline": "B-spline curve",
    "bezier": "Bézier curve",
    "offset": "Offset curve",
    "other": "Curve",
}


def format_number(value: float) -> str:
    """``40`` for 40.0, ``1.414214`` for √2: six decimals at most, no trailing zeros, no -0."""
    text = f"{round(float(value), DIGITS):.{DIGITS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _display(value: Any, unit: str) -> str:
    if isinstance(value, (list, tuple)):
        text = "(" + ", ".join(format_number(v) for v in value) + ")"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = format_number(value)
    else:
        text = str(value)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "°" else f"{text} {unit}"


def _row(label: str, value: Any, unit: str = "") -> dict[str, Any]:
    if isinstance(value, tuple):
        value = list(value)
    return {"label": label, "value": value, "unit": unit, "text": _display(value, unit)}


def describe(props: Mapping[str, Any]) -> str:
    """A short name for a measured entity: "Plane face", "Cylinder face (hole)", "Circle edge"..."""
    entity, kind = props["entity"], props["type"]
    if entity == "face":
        name = f"{_SURFACE_NAMES.get(kind, kind)} face"
        return f"{name} (hole)" if kind == "cylinder" and props.get("concave") else name
    if entity == "edge":
        if kind == "circle" and props.get("arc"):
            return "Arc edge"
        return f"{_CURVE_NAMES.get(kind, kind)} edge"
    if entity == "vertex":
        return "Vertex"
    return "Solid" if kind == "solid" else f"Solid ({kind})"


def _entity_rows(props: Mapping[str, Any], units: str) -> list[dict[str, Any]]:
    rows = [_row("Type", describe(props))]
    entity = props["entity"]
    if entity == "face":
        rows.append(_row("Area", props["area"], f"{units}²"))
        for key, label in (("radius", "Radius"), ("diameter", "Diameter")):
            if key in props:
                rows.append(_row(label, props[key], units))
        if "semi_angle" in props:
            rows.append(_row("Half angle", props["semi_angle"], "°"))
        for key, label in (("major_radius", "Major radius"), ("minor_radius", "Minor radius")):
            if key in props:
                rows.append(_row(label, props[key], units))
        if "normal" in props:
            rows.append(_row("Normal", props["normal"]))
        if "axis" in props:
            rows.append(_row("Axis", props["axis"]["direction"]))
        rows.append(_row("Centroid", props["center"], units))
    elif entity == "edge":
        rows.append(_row("Length", props["length"], units))
        for key, label in (("radius", "Radius"), ("diameter", "Diameter")):
            if key in props:
                rows.append(_row(label, props[key], units))
        if "sweep_angle" in props:
            rows.append(_row("Arc angle", props["sweep_angle"], "°"))
        for key, label in (("major_radius", "Major radius"), ("minor_radius", "Minor radius")):
            if key in props:
                rows.append(_row(label, props[key], units))
        if "circle_center" in props:
            rows.append(_row("Centre", props["circle_center"], units))
        if "direction" in props:
            rows.append(_row("Direction", props["direction"]))
        if "start" in props:
            rows.append(_row("Start", props["start"], units))
            rows.append(_row("End", props["end"], units))
    elif entity == "vertex":
        rows.append(_row("Position", props["position"], units))
    else:
        rows.append(_row("Volume", props["volume"], f"{units}³"))
        rows.append(_row("Area", props["area"], f"{units}²"))
        rows.append(_row("Centre of mass", props["center_of_mass"], units))
    return rows


def _pair_rows(pair: Mapping[str, Any], units: str) -> list[dict[str, Any]]:
    first, second = pair["entities"]
    rows = [_row("Distance", pair["distance"], units)]
    if "angle" in pair:
        rows.append(_row("Angle", pair["angle"], "°"))
    if "interior_angle" in pair:
        rows.append(_row("Interior angle", pair["interior_angle"], "°"))
    if "center_distance" in pair:
        rows.append(_row("Centre distance", pair["center_distance"], units))
    rows.append(_row("Δ (x, y, z)", pair["delta"], units))
    rows.append(_row("From", pair["points"][0], units))
    rows.append(_row("To", pair["points"][1], units))
    rows.append(_row("First", _summary(first, units)))
    rows.append(_row("Second", _summary(second, units)))
    return rows


def _summary(props: Mapping[str, Any], units: str) -> str:
    """One entity in a line: its name and its main value."""
    name = describe(props)
    for key, label in (("diameter", "⌀"), ("length", "length"), ("area", "area"), ("volume", "volume")):
        if key in props:
            unit = {"area": f"{units}²", "volume": f"{units}³"}.get(key, units)
            return f"{name}, {label} {_display(props[key], unit)}"
    if "position" in props:
        return f"{name} at {_display(props['position'], units)}"
    return name


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value + 0.0
    return value


def measurement(viewer: ViewerState, picks: Sequence[Mapping[str, Any]], units: str) -> dict[str, Any]:
    """The ``measurement`` trait for one or two picks (``{}`` for none).

    Keys: ``picks`` (as given), ``units``, ``entities`` (each entity's values from
    :func:`brepflow_lab.kernel.measure.entity_properties`, with its ``node`` and
    ``index``); for two picks also ``distance``, ``points``, ``delta`` and, when they
    apply, ``angle``, ``interior_angle`` and ``center_distance``
    (:func:`brepflow_lab.kernel.measure.pair_properties`); ``rows`` and ``text`` for the
    panel and the clipboard. When a pick cannot be measured: ``error`` (a message for
    the user) instead of the values.
    """
    from brepflow_lab.kernel.measure import entity_properties, pair_properties

    picks = list(picks)
    if not picks:
        return {}
    out: dict[str, Any] = {"picks": [dict(p) for p in picks], "units": units}
    if len(picks) > MAX_PICKS:
        out["error"] = f"Measure takes one or two entities, got {len(picks)}"
        return out
    try:
        resolved = [viewer.entity(p) for p in picks]
        if len(resolved) == 1:
            shape, point = resolved[0]
            entities = [entity_properties(shape, point=point)]
            rows = _entity_rows(entities[0], units)
        else:
            (a, pa), (b, pb) = resolved
            pair = pair_properties(a, b, points=(pa, pb))
            entities = pair.pop("entities")
            out.update(pair)
            rows = _pair_rows({**pair, "entities": entities}, units)
    except Exception as exc:  # a message for the user, never an exception in the kernel
        out["error"] = str(exc) or type(exc).__name__
        return _jsonable(out)
    for props, pick in zip(entities, picks):
        props["node"], props["index"] = pick.get("node"), pick.get("index")
    out["entities"] = entities
    out["rows"] = rows
    out["text"] = "\n".join(f"{r['label']}\t{r['text']}" for r in rows)
    return _jsonable(out)
