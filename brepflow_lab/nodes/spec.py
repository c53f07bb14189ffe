"""Declarative node specs: ports, parameters and a pure ``execute``.

A node type is a :class:`NodeSpec` — typed input/output ports, parameters with type,
default, limits, unit and help text — plus ``execute(ctx, inputs, params) -> outputs``.
The engine resolves parameters (``@name`` references, expressions with units, vectors)
*before* calling ``execute``, so ``execute`` receives plain Python values:

=========  ===========================================================
kind       value passed to ``execute``
=========  ===========================================================
number     ``float`` in graph units (length) / degrees (angle)
integer    ``int``
boolean    ``bool``
string     ``str``
enum       ``str``, one of ``choices``
vector     ``tuple[float, float, float]`` (from ``{"x", "y", "z"}``)
=========  ===========================================================

Port types form a hierarchy (see :data:`PORT_PARENTS`): Solid, Surface, Curve and Point
are all Shapes, so a Shape input accepts any of them, while a Solid input refuses a Curve.
``Any`` accepts everything. The hierarchy and the rule (:func:`port_accepts`) live in
:mod:`brepflow_lab.core.ports` and are re-exported here. :meth:`NodeSpec.run` checks what arrives at run time too
(a Shape port may carry a Curve that a Solid port downstream cannot take) and checks
every shape a node returns (valid, not empty), so no node has to remember to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from brepflow_lab.core.errors import ErrorCode, NodeError
from brepflow_lab.core.ports import PORT_PARENTS, SHAPE_TYPES, port_accepts
from brepflow_lab.kernel import checks

__all__ = [
    "PORT_PARENTS",
    "SHAPE_TYPES",
    "InputSpec",
    "NodeContext",
    "NodeSpec",
    "OutputSpec",
    "ParamSpec",
    "port_accepts",
]

ParamKind = Literal["number", "integer", "boolean", "string", "enum", "vector"]
Dimension = Literal["length", "angle", "none"]


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: str = "Shape"
    multiple: bool = False  # a list of links; list outputs are flattened into it
    optional: bool = False
    help: str = ""
    keep_parts: bool = False  # receive Part wrappers (material tags) instead of bare shapes

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "multiple": self.multiple,
            "optional": self.optional,
            "help": self.help,
        }


@dataclass(frozen=True)
class OutputSpec:
    name: str
    type: str = "Shape"
    multiple: bool = False  # the value is a list (e.g. ArrayLinear's ``shapes``)
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "multiple": self.multiple, "help": self.help}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: ParamKind = "number"
    default: Any = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False  # e.g. a radius must be > 0, not >= 0
    step: float | None = None
    dimension: Dimension = "none"  # length values convert to graph units; angles are degrees
    choices: tuple[str, ...] = ()
    help: str = ""
    label: str | None = None
    optional: bool = False  # None allowed (e.g. Box's ``center``)

    @property
    def unit(self) -> str | None:
        return {"length": "graph units", "angle": "deg"}.get(self.dimension)

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.kind == "vector" and default is not None:
            default = {"x": default[0], "y": default[1], "z": default[2]}
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "default": default,
            "dimension": self.dimension,
            "help": self.help,
            "label": self.label or self.name,
        }
        for key in ("min", "max", "step"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.min_exclusive:
            out["minExclusive"] = True
        if self.choices:
            out["choices"] = list(self.choices)
        if self.optional:
            out["optional"] = True
        return out

    def check(self, value: Any) -> Any:
        """Coerce a *resolved* value to this param's kind and check limits.

        Raises ``ValueError`` with a user-facing sentence; the engine turns it into a
        PARAM_INVALID error that names the node and parameter.
        """
        if value is None:
            if self.optional:
                return None
            raise ValueError("a value is required")
        kind = self.kind
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError(f"expected true or false, got {_describe(value)}")
        if kind == "string":
            if isinstance(value, str):
                return value
            raise ValueError(f"expected text, got {_describe(value)}")
        if kind == "enum":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"expected one of {', '.join(self.choices)}; got {_describe(value)}")
        if kind == "vector":
            vec = _as_vector(value)
            if vec is None:
                raise ValueError(f"expected a vector {{x, y, z}}, got {_describe(value)}")
            return vec
        # number / integer
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {_describe(value)}")
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"expected a finite number, got {number}")
        if kind == "integer" and number != int(number):
            raise ValueError(f"expected a whole number, got {number:g}")
        self._check_range(number)
        return int(number) if kind == "integer" else number

    def _check_range(self, number: float) -> None:
        unit = f" {self.unit}" if self.unit else ""
        if self.min is not None:
            if self.min_exclusive and number <= self.min:
                raise ValueError(f"must be greater than {self.min:g}{unit}, got {number:g}")
            if not self.min_exclusive and number < self.min:
                raise ValueError(f"must be at least {self.min:g}{unit}, got {number:g}")
        if self.max is not None and number > self.max:
            raise ValueError(f"must be at most {self.max:g}{unit}, got {number:g}")


def _as_vector(value: Any) -> tuple[float, float, float] | None:
    if isinstance(value, Mapping):
        try:
            parts = [value.get("x", 0.0), value.get("y", 0.0), value.get("z", 0.0)]
        except AttributeError:
            return None
    elif isinstance(value, (list, tuple)) and len(value) in (2, 3):
        parts = list(value) + [0.0] * (3 - len(value))
    else:
        return None
    out = []
    for p in parts:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p):
            return None
        out.append(float(p))
    return (out[0], out[1], out[2])


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


@dataclass(frozen=True)
class NodeContext:
    """What a node may know about where it runs. Passed to every ``execute``.

    It satisfies the kernel's own protocol (:class:`brepflow_lab.kernel.context.KernelContext`),
    so nodes hand it to kernel functions as it is."""

    node_id: str
    node_type: str
    units: str = "mm"
    tolerance: float = 1e-3
    base_dir: Path | None = None  # the graph file's folder: relative import paths resolve here
    output_dir: Path | None = None  # exports resolve here (default: base_dir, then cwd)
    allow_unsafe_paths: bool = False  # absolute paths / '..' escapes allowed only if True
    cancelled: Callable[[], bool] | None = None

    def error(self, code: ErrorCode, message: str, *, param: str | None = None, hint: str | None = None) -> NodeError:
        return NodeError(code, message, node_id=self.node_id, node_type=self.node_type, param=param, hint=hint)

    def check_cancelled(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise self.error(ErrorCode.CANCELLED, "evaluation was superseded by a newer request")

    def resolve_path(self, param: str, value: str, *, for_writing: bool) -> Path:
        """Resolve a file path from a graph param safely.

        Graph files are untrusted: relative paths resolve inside the graph's folder (reads)
        or the output folder (writes); absolute paths and ``..`` escapes are refused unless
        ``allow_unsafe_paths`` is set by the caller.
        """
        code = ErrorCode.EXPORT_ERROR if for_writing else ErrorCode.IMPORT_ERROR
        if not isinstance(value, str) or not value.strip():
            raise self.error(ErrorCode.PARAM_INVALID, "a file path is required", param=param)
        root = (self.output_dir if for_writing else None) or self.base_dir or Path.cwd()
        root = root.resolve()
        raw = Path(value).expanduser() if self.allow_unsafe_paths else Path(value)
        if raw.is_absolute():
            if not self.allow_unsafe_paths:
                raise self.error(
                    code,
                    f"absolute path '{value}' refused: graph files may only use paths relative to "
                    f"{'the output folder' if for_writing else 'their own folder'}",
                    param=param,
                    hint="pass allow_unsafe_paths=True (CLI: --allow-unsafe-paths) if you trust this graph",
                )
            return raw
        resolved = (root / raw).resolve()
        if not self.allow_unsafe_paths and root != resolved and root not in resolved.parents:
            raise self.error(
                code,
                f"path '{value}' escapes {root} and was refused",
                param=param,
                hint="pass allow_unsafe_paths=True (CLI: --allow-unsafe-paths) if you trust this graph",
            )
        return resolved


Execute = Callable[[NodeContext, dict[str, Any], dict[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class NodeSpec:
    type: str  # "Category::Name", BrepFlow's type names
    execute: Execute
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    version: int = 1  # bump when results change: it is part of every cache key
    label: str = ""
    description: str = ""
    deterministic: bool = True  # False opts out of the cache
    side_effects: bool = False  # writes files: always re-run, never cached
    # The kernel already guarantees valid results (primitives, rigid transforms, and
    # operations that run their own validity check): skip the generic, costly
    # BRepCheck of every output. Null/empty results are still refused.
    trusted_output: bool = False
    source: str = "brepflow_lab"  # which package provided it
    _index: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def category(self) -> str:
        return self.type.split("::", 1)[0]

    @property
    def cacheable(self) -> bool:
        return self.deterministic and not self.side_effects

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)

    def output(self, name: str) -> OutputSpec | None:
        return next((o for o in self.outputs if o.name == name), None)

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "version": self.version,
            "category": self.category,
            "label": self.label or self.type.split("::")[-1],
            "description": self.description,
            "inputs": [i.to_dict() for i in self.inputs],
            "outputs": [o.to_dict() for o in self.outputs],
            "params": [p.to_dict() for p in self.params],
            "deterministic": self.deterministic,
            "sideEffects": self.side_effects,
            "source": self.source,
        }

    def run(self, ctx: NodeContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Check inputs, call ``execute``, check outputs. Raises only :class:`NodeError`."""
        prepared: dict[str, Any] = {}
        for spec in self.inputs:
            value = inputs.get(spec.name)
            if value is None or (spec.multiple and value == []):
                if not spec.optional:
                    raise ctx.error(
                        ErrorCode.INPUT_MISSING,
                        f"input '{spec.name}' ({spec.type}) is not connected",
                    )
                prepared[spec.name] = [] if spec.multiple else None
                continue
            if spec.multiple:
                items = value if isinstance(value, list) else [value]
                prepared[spec.name] = [checks.check_input(ctx, spec, item) for item in items]
            else:
                if isinstance(value, list):
                    if len(value) != 1:
                        raise ctx.error(
                            ErrorCode.GEOM_INVALID_INPUT,
                            f"input '{spec.name}' takes one {spec.type} but received a list of {len(value)}",
                            hint="feed the list into a Boolean::Union first, or use a node with a list input",
                        )
                    value = value[0]
                prepared[spec.name] = checks.check_input(ctx, spec, value)
        result = self.execute(ctx, prepared, params)
        outputs: dict[str, Any] = {}
        for spec_out in self.outputs:
            if spec_out.name not in result:
                raise ctx.error(ErrorCode.INTERNAL_ERROR, f"node did not produce its output '{spec_out.name}'")
            outputs[spec_out.name] = checks.check_output(
                ctx, spec_out, result[spec_out.name], full=not self.trusted_output
            )
        return outputs


def sequence_of(value: Any) -> Sequence[Any]:
    return value if isinstance(value, (list, tuple)) else [value]
