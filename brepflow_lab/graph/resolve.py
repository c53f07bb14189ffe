"""Turn the params written in a graph file into the values a node executes with.

A param may be a literal (number, boolean, string, ``{"x","y","z"}`` vector), a global
parameter reference ``"@name"``, or an expression (``"@L - 2*@wall"``, ``"10 mm + 0.5 in"``,
see :mod:`brepflow_lab.graph.expressions`). Global parameters may themselves be
expressions over other globals; they are resolved in dependency order and a cycle among
them is reported, not looped on.

Lengths end up in the graph's units, angles in degrees. Every failure is a
:class:`ParamProblem` carrying the parameter name and a sentence for the user; the
validator collects them and the engine turns them into PARAM_INVALID node errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brepflow_lab.core.units import LENGTH_UNITS
from brepflow_lab.graph import expressions as expr
from brepflow_lab.graph.model import GraphDocument, Parameter

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import ParamSpec

__all__ = ["InvalidParameter", "ParamProblem", "param_references", "resolve_globals", "resolve_param"]

_REF = re.compile(r"^@([A-Za-z_][A-Za-z0-9_]*)$")
_LENGTH_UNITS = frozenset(LENGTH_UNITS)

Scalar = float | bool


@dataclass(frozen=True)
class InvalidParameter:
    """Stands in the resolved globals for a parameter that could not be resolved, so a node
    using it fails with the real reason instead of "not set"."""

    name: str
    message: str

    def __str__(self) -> str:
        return f"<invalid: {self.message}>"


class ParamProblem(ValueError):
    def __init__(self, message: str, *, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing  # name of an unset @parameter, if that was the problem


def param_references(raw: Any) -> set[str]:
    """Names of the global parameters a raw param value uses (ignores syntax errors)."""
    if isinstance(raw, str):
        if "@" not in raw:
            return set()
        try:
            return set(expr.references(raw))
        except expr.ExpressionError:
            return set(re.findall(r"@([A-Za-z_][A-Za-z0-9_]*)", raw))
    if isinstance(raw, Mapping):
        out: set[str] = set()
        for v in raw.values():
            out |= param_references(v)
        return out
    return set()


def _global_value(name: str, p: Parameter, resolved: Mapping[str, Scalar], units: str) -> Scalar:
    value = p.value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            result = expr.evaluate(
                value, resolved, units=units, dimension="none" if p.unit in ("deg", "rad") else "length"
            )
        except expr.ExpressionError as exc:
            raise ParamProblem(f"parameter '@{name}': {exc}") from None
        if isinstance(result, bool):
            return result
        number = float(result)
    else:
        raise ParamProblem(f"parameter '@{name}' must be a number, boolean or expression, got {value!r}")
    if not math.isfinite(number):
        raise ParamProblem(f"parameter '@{name}' is not a finite number")
    # min/max are written in the parameter's own unit; literals are in that unit too,
    # expression results are already in graph units.
    converts = p.unit in _LENGTH_UNITS and p.unit != units
    own = number
    if converts and not isinstance(value, (int, float)):
        own = expr.convert_length(number, units, str(p.unit))
    unit = f" {p.unit}" if p.unit else ""
    if p.min is not None and own < p.min - 1e-12:
        raise ParamProblem(f"parameter '@{name}' = {own:g}{unit} is below its minimum {p.min:g}{unit}")
    if p.max is not None and own > p.max + 1e-12:
        raise ParamProblem(f"parameter '@{name}' = {own:g}{unit} is above its maximum {p.max:g}{unit}")
    if converts and isinstance(value, (int, float)):
        number = expr.convert_length(number, str(p.unit), units)
    return number


def resolve_globals(
    doc: GraphDocument, overrides: Mapping[str, Any] | None = None
) -> tuple[dict[str, Scalar], dict[str, str]]:
    """Resolve every global parameter. Returns (values, problems by name)."""
    params: dict[str, Parameter] = dict(doc.parameters)
    for name, value in (overrides or {}).items():
        params[name] = params[name].with_value(value) if name in params else Parameter(value=value)
    values: dict[str, Scalar] = {}
    problems: dict[str, str] = {}
    deps = {name: param_references(p.value) for name, p in params.items()}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in values or name in problems:
            return
        if name in visiting:
            problems[name] = f"parameter '@{name}' is defined in terms of itself (cycle)"
            return
        visiting.add(name)
        for dep in sorted(deps[name]):
            if dep not in params:
                problems[name] = f"parameter '@{name}' uses '@{dep}', which is not defined"
            else:
                visit(dep)
                if dep in problems and name not in problems:
                    problems[name] = f"parameter '@{name}' uses '@{dep}', which is invalid"
        visiting.discard(name)
        if name in problems:
            return
        try:
            values[name] = _global_value(name, params[name], values, doc.units)
        except ParamProblem as exc:
            problems[name] = str(exc)

    for name in params:
        visit(name)
    for name, message in problems.items():
        values[name] = InvalidParameter(name, message)  # type: ignore[assignment]
    return values, problems


def _scalar(raw: Any, spec: ParamSpec, globals_: Mapping[str, Scalar], units: str) -> Any:
    if isinstance(raw, str) and spec.kind in ("number", "integer", "boolean"):
        m = _REF.match(raw.strip())
        if m:
            name = m.group(1)
            if name not in globals_:
                raise ParamProblem(f"'@{name}' is not set: add it to the graph's parameters", missing=name)
            _check_valid(globals_[name])
            return globals_[name]
        for ref in param_references(raw):
            _check_valid(globals_.get(ref))
        dimension = spec.dimension if spec.kind != "boolean" else "none"
        try:
            return expr.evaluate(raw, globals_, units=units, dimension=dimension)
        except expr.ExpressionError as exc:
            refs = param_references(raw)
            missing = next((r for r in sorted(refs) if r not in globals_), None)
            raise ParamProblem(f"invalid expression {raw!r}: {exc}", missing=missing) from None
    return raw


def _check_valid(value: Any) -> None:
    if isinstance(value, InvalidParameter):
        raise ParamProblem(f"'@{value.name}' is invalid: {value.message}")


def resolve_param(spec: ParamSpec, raw: Any, globals_: Mapping[str, Scalar], units: str) -> Any:
    """The checked value of one param (``raw`` None means: use the default)."""
    if raw is None:
        raw = spec.default
        if raw is None:
            return spec.check(None) if not spec.optional else None
    if spec.kind == "vector":
        if isinstance(raw, Mapping):
            value: Any = {
                axis: _scalar(raw.get(axis, 0.0), _component(spec), globals_, units) for axis in ("x", "y", "z")
            }
        elif isinstance(raw, str) and _REF.match(raw.strip()):
            raise ParamProblem("a vector parameter takes {x, y, z}; give each component its own '@name'")
        else:
            value = raw
    else:
        value = _scalar(raw, spec, globals_, units)
    try:
        return spec.check(value)
    except ValueError as exc:
        raise ParamProblem(str(exc)) from None


def _component(spec: ParamSpec) -> ParamSpec:
    from dataclasses import replace

    return replace(spec, kind="number", min=None, max=None)
