"""Editor side of the Studio: browser edit ops applied to a :class:`~brepflow_lab.Graph`.

An ``edit`` message carries a list of ops (PROTOCOL.md) applied in order as ONE undo
step: if any op is refused, the graph is put back to the snapshot it had before the
message and the whole edit is refused — the browser never has to undo half an edit.
Each op goes through the public :class:`~brepflow_lab.Graph` API, so the browser gets
exactly the checks a notebook user gets (unknown node type with a "did you mean",
incompatible port types, cycles, parameter limits). ``move_node`` has no API of its own:
it swaps the node snapshot for one with the new position.

Undo/redo are stacks of :class:`~brepflow_lab.graph.model.GraphDocument` snapshots —
they are immutable, so a snapshot *is* the state; nothing is replayed.

:func:`change_kind` classifies the difference between two snapshots so the Studio knows
what to do: ``layout`` (positions, labels: save, do not evaluate), ``params`` (values of
node params or global parameters: evaluate after a debounce) or ``structure`` (nodes,
links, units: evaluate at once).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from brepflow_lab.core.ports import is_subtype
from brepflow_lab.errors import GraphError
from brepflow_lab.graph.model import GraphDocument, Parameter
from brepflow_lab.graph.resolve import param_references

if TYPE_CHECKING:
    from brepflow_lab.api import Graph

__all__ = ["ChangeKind", "EditRefused", "History", "apply_edit", "change_kind"]

ChangeKind = Literal["none", "layout", "params", "structure"]


class EditRefused(Exception):
    """An edit op the graph cannot take; ``str()`` is the hint shown to the user."""

    def __init__(self, message: str, *, op_index: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.op_index = op_index
        self.code = code


# --------------------------------------------------------------------------- ops


def _text(value: Any, op: Mapping[str, Any], key: str) -> str:
    if not isinstance(value, str) or not value:
        raise EditRefused(f"edit op '{op.get('op')}' needs '{key}' as a non-empty string, got {value!r}")
    return value


def _position(op: Mapping[str, Any]) -> tuple[float, float]:
    raw = op.get("position")
    if not isinstance(raw, Mapping):
        raise EditRefused(f"edit op '{op.get('op')}' needs 'position' as {{\"x\": number, \"y\": number}}")
    x, y = raw.get("x"), raw.get("y")
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise EditRefused(f"edit op '{op.get('op')}': position x and y must be finite numbers, got {dict(raw)!r}")
    return (float(x), float(y))  # type: ignore[arg-type]


def _add_node(graph: Graph, op: Mapping[str, Any]) -> None:
    node_type = _text(op.get("type"), op, "type")
    params = op.get("params") or {}
    if not isinstance(params, Mapping):
        raise EditRefused("edit op 'add_node': 'params' must be an object of name: value")
    node_id = op.get("id")
    if node_id is not None:
        node_id = _text(node_id, op, "id")
    position = _position(op) if "position" in op else None
    graph.add(node_type, id=node_id, position=position, **dict(params))


def _remove_node(graph: Graph, op: Mapping[str, Any]) -> None:
    graph.remove(_text(op.get("id"), op, "id"))


def _move_node(graph: Graph, op: Mapping[str, Any]) -> None:
    node_id = _text(op.get("id"), op, "id")
    node = graph.document.node(node_id)
    if node is None:
        raise EditRefused(f"cannot move node '{node_id}': there is no such node")
    extra = {k: v for k, v in node.extra.items() if k != "position"}  # a position is now known
    graph._replace_node(replace(node, position=_position(op), extra=extra))


def _link(op: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        _text(op.get("source"), op, "source"),
        _text(op.get("sourceHandle"), op, "sourceHandle"),
        _text(op.get("target"), op, "target"),
        _text(op.get("targetHandle"), op, "targetHandle"),
    )


_is_a = is_subtype  # strict subtyping (a Solid is a Shape), the one rule in core.ports


def _converters(graph: Graph, source_type: str, target_type: str, limit: int = 4) -> list[str]:
    """Node types that take a ``source_type`` and make a ``target_type`` (for hints)."""
    found = []
    for spec in graph.registry:
        takes = any(i.type != "Any" and _is_a(source_type, i.type) for i in spec.inputs)
        makes = any(o.type != "Any" and _is_a(o.type, target_type) for o in spec.outputs)
        if takes and makes:
            found.append(spec.type)
    return found[:limit]


def _connect(graph: Graph, op: Mapping[str, Any]) -> None:
    source, source_handle, target, target_handle = _link(op)
    try:
        graph.connect(source, source_handle, target, target_handle)
    except GraphError as exc:
        mismatch = next((p for p in exc.problems if p.code.value == "PORT_TYPE_MISMATCH"), None)
        if mismatch is None:
            raise
        src, dst = graph.document.node(source), graph.document.node(target)
        src_spec = graph.registry.get(src.type) if src is not None else None
        dst_spec = graph.registry.get(dst.type) if dst is not None else None
        out = src_spec.output(source_handle) if src_spec is not None else None
        inp = dst_spec.input(target_handle) if dst_spec is not None else None
        message = mismatch.message
        if out is not None and inp is not None:
            via = _converters(graph, out.type, inp.type)
            if via:
                message += f". Put a node in between that turns a {out.type} into a {inp.type}: {', '.join(via)}"
        raise EditRefused(message, code="PORT_TYPE_MISMATCH") from None


def _disconnect(graph: Graph, op: Mapping[str, Any]) -> None:
    graph.disconnect(*_link(op))


def _set_param(graph: Graph, op: Mapping[str, Any]) -> None:
    node_id = _text(op.get("id"), op, "id")
    name = _text(op.get("name"), op, "name")
    if "value" not in op:
        raise EditRefused("edit op 'set_param' needs 'value' (null resets the parameter to its default)")
    value = op["value"]
    node = graph.document.node(node_id)
    if node is None:
        raise EditRefused(f"cannot set '{name}' on node '{node_id}': there is no such node")
    if value is None:  # back to the spec's default
        spec = graph.registry.get(node.type)
        if spec is not None and spec.param(name) is None:
            known = ", ".join(p.name for p in spec.params)
            raise EditRefused(f"{node.type} has no parameter '{name}' (params: {known})", code="UNKNOWN_PARAM")
        params = {k: v for k, v in node.params.items() if k != name}
        graph._replace_node(replace(node, params=params))
        return
    graph.set_param(node_id, name, value)


_GLOBAL_FIELDS = ("min", "max", "step", "unit", "description")


def _set_global(graph: Graph, op: Mapping[str, Any]) -> None:
    name = _text(op.get("name"), op, "name")
    if "value" not in op:
        raise EditRefused(f"edit op 'set_global' for '@{name}' needs a 'value'")
    value = op["value"]
    if value is None or not isinstance(value, (bool, int, float, str)):
        raise EditRefused(f"'@{name}' must be a number, true/false or an expression, got {value!r}")
    existing = graph.document.parameters.get(name) or Parameter(value=None)
    changes: dict[str, Any] = {"value": value}
    for key in _GLOBAL_FIELDS:
        if key in op:
            given = op[key]
            number = not isinstance(given, bool) and isinstance(given, (int, float)) and math.isfinite(given)
            if key in ("min", "max", "step") and given is not None and not number:
                raise EditRefused(f"'{key}' of '@{name}' must be a finite number or null, got {given!r}")
            if key in ("unit", "description") and given is not None and not isinstance(given, str):
                raise EditRefused(f"'{key}' of '@{name}' must be text or null, got {given!r}")
            changes[key] = given
    parameter = replace(existing, **changes)
    if parameter.min is not None and parameter.max is not None and parameter.min > parameter.max:
        raise EditRefused(f"'@{name}': min {parameter.min:g} is above max {parameter.max:g}")
    graph.parameters._set(name, parameter)


def _remove_global(graph: Graph, op: Mapping[str, Any]) -> None:
    name = _text(op.get("name"), op, "name")
    doc = graph.document
    if name not in doc.parameters:
        raise EditRefused(f"there is no global parameter '@{name}'")
    users = [n.id for n in doc.nodes if any(name in param_references(v) for v in n.params.values())]
    users += [f"@{other}" for other, p in doc.parameters.items() if other != name and name in param_references(p.value)]
    if users:
        raise EditRefused(
            f"'@{name}' is still used by {', '.join(users)}: replace those references first",
            code="PARAM_MISSING",
        )
    del graph.parameters[name]


OPS: dict[str, Callable[[Graph, Mapping[str, Any]], None]] = {
    "add_node": _add_node,
    "remove_node": _remove_node,
    "move_node": _move_node,
    "connect": _connect,
    "disconnect": _disconnect,
    "set_param": _set_param,
    "set_global": _set_global,
    "remove_global": _remove_global,
}


def _explain(exc: Exception) -> tuple[str, str | None]:
    if isinstance(exc, EditRefused):
        return str(exc), exc.code
    if isinstance(exc, GraphError):
        return "; ".join(p.message for p in exc.problems) or str(exc), exc.code.value
    if isinstance(exc, KeyError):  # Graph raises KeyError("no node 'x' in the graph")
        return str(exc.args[0]) if exc.args else "no such node", None
    return str(exc) or type(exc).__name__, None


def apply_edit(graph: Graph, ops: Any) -> GraphDocument:
    """Apply ``ops`` in order; on any refusal restore the graph and raise :class:`EditRefused`.

    Returns the snapshot the graph had before (the undo point).
    """
    before = graph.document
    if not isinstance(ops, list) or not ops:
        raise EditRefused("an edit needs 'ops': a non-empty list of edit operations")
    for index, op in enumerate(ops):
        try:
            if not isinstance(op, Mapping):
                raise EditRefused(f"edit op #{index + 1} is not an object: {op!r}")
            handler = OPS.get(op.get("op"))  # type: ignore[arg-type]
            if handler is None:
                raise EditRefused(f"unknown edit op {op.get('op')!r}: use one of {', '.join(OPS)}")
            handler(graph, op)
        except Exception as exc:
            if graph.document is not before:
                graph._set_document(before)
            message, code = _explain(exc)
            if len(ops) > 1:
                message = f"op #{index + 1} ({op.get('op') if isinstance(op, Mapping) else '?'}): {message}"
            raise EditRefused(message, op_index=index, code=code) from None
    return before


# --------------------------------------------------------------------------- change classification


def _structure(doc: GraphDocument) -> tuple[Any, ...]:
    return (
        doc.units,
        doc.tolerance,
        tuple((n.id, n.type, tuple(sorted((k, v) for k, v in n.inputs.items()))) for n in doc.nodes),
    )


def _values(doc: GraphDocument) -> tuple[Any, ...]:
    return (
        tuple((n.id, dict(n.params)) for n in doc.nodes),
        {k: (p.value, p.min, p.max, p.unit) for k, p in doc.parameters.items()},
    )


def change_kind(old: GraphDocument | None, new: GraphDocument) -> ChangeKind:
    """What changed from ``old`` to ``new``: none, layout, params or structure."""
    if old is new:
        return "none"
    if old is None or _structure(old) != _structure(new):
        return "structure"
    if _values(old) != _values(new):
        return "params"
    return "layout" if old != new else "none"


# --------------------------------------------------------------------------- undo / redo


@dataclass
class History:
    """Undo/redo stacks of immutable snapshots (bounded: the oldest steps drop off)."""

    limit: int = 200

    def __post_init__(self) -> None:
        self.undo_stack: list[GraphDocument] = []
        self.redo_stack: list[GraphDocument] = []

    def record(self, before: GraphDocument) -> None:
        """A new step was taken from ``before``; the redo branch is gone."""
        self.undo_stack.append(before)
        if len(self.undo_stack) > self.limit:
            del self.undo_stack[0]
        self.redo_stack.clear()

    def undo(self, current: GraphDocument) -> GraphDocument | None:
        if not self.undo_stack:
            return None
        self.redo_stack.append(current)
        return self.undo_stack.pop()

    def redo(self, current: GraphDocument) -> GraphDocument | None:
        if not self.redo_stack:
            return None
        self.undo_stack.append(current)
        return self.redo_stack.pop()

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)
