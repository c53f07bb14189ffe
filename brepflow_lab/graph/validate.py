"""Validation: collect EVERY problem of a graph before anything runs.

Checks, in one pass each: duplicate ids; unknown node types; unknown input/output
sockets; links to missing nodes (dangling); several links on a single input; port type
mismatches (Solid, Surface, Curve and Point are Shapes; a Solid input refuses a Curve);
edges and node ``inputs`` disagreeing (BrepFlow files carry both); cycles (with the nodes
on them); global parameters (unset ``@name``, out of their own min/max, cycles among
them); node params (unknown names — a warning, wrong type, NaN, out of range, bad
expressions, injection attempts).

Problems come back as a list of :class:`~brepflow_lab.errors.Problem`; ``severity``
"warning" marks what does not stop evaluation (an unknown extra param, an unconnected
required input — that node fails alone at run time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from brepflow_lab.core.errors import ErrorCode, GraphError, Problem
from brepflow_lab.core.ports import port_accepts
from brepflow_lab.graph.algorithms import find_cycles
from brepflow_lab.graph.model import GraphDocument
from brepflow_lab.graph.resolve import ParamProblem, resolve_globals, resolve_param

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import NodeSpec

__all__ = ["Catalogue", "check", "validate"]


class Catalogue(Protocol):
    def get(self, node_type: str) -> NodeSpec | None: ...


def validate(
    doc: GraphDocument,
    catalogue: Catalogue,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> list[Problem]:
    """Every problem in ``doc`` (errors and warnings), in file order."""
    problems: list[Problem] = []
    add = problems.append
    nodes = doc.node_map()

    for node_id, count in Counter(n.id for n in doc.nodes).items():
        if count > 1:
            add(Problem(ErrorCode.DUPLICATE_ID, f"{count} nodes share the id '{node_id}'", node_id=node_id))
    for edge_id, count in Counter(e.id for e in doc.edges).items():
        if count > 1:
            add(Problem(ErrorCode.DUPLICATE_ID, f"{count} edges share the id '{edge_id}'", path=f"edges[{edge_id}]"))

    globals_, global_problems = resolve_globals(doc, overrides)
    for name, message in global_problems.items():
        add(Problem(ErrorCode.PARAM_INVALID, message, path=f"parameters.{name}"))

    specs: dict[str, NodeSpec | None] = {}
    for i, n in enumerate(doc.nodes):
        spec = catalogue.get(n.type)
        specs[n.id] = spec
        if spec is None:
            add(
                Problem(
                    ErrorCode.UNKNOWN_NODE_TYPE,
                    f"unknown node type '{n.type}'" + _suggest(n.type, catalogue),
                    node_id=n.id,
                    path=f"nodes[{i}].type",
                )
            )

    link_set: set[tuple[str, str, str, str]] = set()
    for i, n in enumerate(doc.nodes):
        spec = specs[n.id]
        for name, value in n.inputs.items():
            in_spec = spec.input(name) if spec else None
            if spec is not None and in_spec is None:
                known = ", ".join(x.name for x in spec.inputs) or "none"
                add(
                    Problem(
                        ErrorCode.UNKNOWN_SOCKET,
                        f"{n.type} has no input '{name}' (inputs: {known})",
                        node_id=n.id,
                        path=f"nodes[{i}].inputs.{name}",
                    )
                )
            if in_spec is not None and not in_spec.multiple and isinstance(value, tuple) and len(value) > 1:
                add(
                    Problem(
                        ErrorCode.PORT_TYPE_MISMATCH,
                        f"input '{name}' takes one link but has {len(value)}",
                        node_id=n.id,
                        path=f"nodes[{i}].inputs.{name}",
                    )
                )
        for name, ref in n.links():
            link_set.add((ref.node_id, ref.socket, n.id, name))
            source = nodes.get(ref.node_id)
            if source is None:
                add(
                    Problem(
                        ErrorCode.DANGLING_EDGE,
                        f"input '{name}' is linked to node '{ref.node_id}', which does not exist",
                        node_id=n.id,
                        path=f"nodes[{i}].inputs.{name}",
                    )
                )
                continue
            src_spec = specs.get(source.id)
            if src_spec is None:
                continue
            out_spec = src_spec.output(ref.socket)
            if out_spec is None:
                known = ", ".join(o.name for o in src_spec.outputs) or "none"
                add(
                    Problem(
                        ErrorCode.UNKNOWN_SOCKET,
                        f"input '{name}' is linked to '{ref.node_id}.{ref.socket}', but {source.type} has no output "
                        f"'{ref.socket}' (outputs: {known})",
                        node_id=n.id,
                        path=f"nodes[{i}].inputs.{name}",
                    )
                )
                continue
            in_spec = spec.input(name) if spec else None
            if in_spec is not None and not port_accepts(in_spec.type, out_spec.type):
                add(
                    Problem(
                        ErrorCode.PORT_TYPE_MISMATCH,
                        f"input '{name}' takes a {in_spec.type} but '{ref.node_id}.{ref.socket}' gives a {out_spec.type}",
                        node_id=n.id,
                        path=f"nodes[{i}].inputs.{name}",
                    )
                )
            if in_spec is not None and out_spec.multiple and not in_spec.multiple:
                add(
                    Problem(
                        ErrorCode.PORT_TYPE_MISMATCH,
                        f"input '{name}' takes one {in_spec.type} but '{ref.node_id}.{ref.socket}' gives a list",
                        node_id=n.id,
                        path=f"nodes[{i}].inputs.{name}",
                        severity="warning",
                    )
                )
        if spec is not None:
            for in_spec in spec.inputs:
                if not in_spec.optional and in_spec.name not in n.inputs:
                    add(
                        Problem(
                            ErrorCode.INPUT_MISSING,
                            f"required input '{in_spec.name}' ({in_spec.type}) is not connected",
                            node_id=n.id,
                            severity="warning",
                        )
                    )

    edge_set: set[tuple[str, str, str, str]] = set()
    for j, e in enumerate(doc.edges):
        key = (e.source, e.source_handle, e.target, e.target_handle)
        edge_set.add(key)
        missing = [x for x in (e.source, e.target) if x not in nodes]
        if missing:
            add(
                Problem(
                    ErrorCode.DANGLING_EDGE,
                    f"edge '{e.id}' connects node(s) {', '.join(repr(m) for m in missing)} that do not exist",
                    path=f"edges[{j}]",
                )
            )
        elif key not in link_set:
            add(
                Problem(
                    ErrorCode.EDGE_MISMATCH,
                    f"edge '{e.id}' ({e.source}.{e.source_handle} -> {e.target}.{e.target_handle}) has no matching "
                    f"entry in node '{e.target}' inputs",
                    node_id=e.target,
                    path=f"edges[{j}]",
                )
            )
    if doc.edges or link_set:
        for src, sock, tgt, name in sorted(link_set - edge_set):
            if src in nodes:
                add(
                    Problem(
                        ErrorCode.EDGE_MISMATCH,
                        f"input '{name}' is linked to {src}.{sock} but the file has no edge for it",
                        node_id=tgt,
                    )
                )

    deps = {n.id: n.upstream_ids() for n in doc.nodes}
    for cycle in find_cycles(deps):
        add(
            Problem(
                ErrorCode.CYCLE,
                "cycle through nodes " + " -> ".join([*cycle, cycle[0]]),
                node_id=cycle[0],
            )
        )

    for i, n in enumerate(doc.nodes):
        spec = specs[n.id]
        if spec is None:
            continue
        for name, raw in n.params.items():
            p_spec = spec.param(name)
            if p_spec is None:
                add(
                    Problem(
                        ErrorCode.UNKNOWN_PARAM,
                        f"{n.type} has no parameter '{name}'; it is kept but ignored",
                        node_id=n.id,
                        param=name,
                        path=f"nodes[{i}].params.{name}",
                        severity="warning",
                    )
                )
                continue
            try:
                resolve_param(p_spec, raw, globals_, doc.units)
            except ParamProblem as exc:
                if exc.missing is not None and exc.missing in global_problems:
                    continue  # already reported at the parameter itself
                code = ErrorCode.PARAM_MISSING if exc.missing else ErrorCode.PARAM_INVALID
                add(Problem(code, str(exc), node_id=n.id, param=name, path=f"nodes[{i}].params.{name}"))
        for p_spec in spec.params:
            if p_spec.name not in n.params and p_spec.default is None and not p_spec.optional:
                add(
                    Problem(
                        ErrorCode.PARAM_MISSING,
                        f"parameter '{p_spec.name}' has no value and no default",
                        node_id=n.id,
                        param=p_spec.name,
                    )
                )
    return problems


def check(doc: GraphDocument, catalogue: Catalogue, *, overrides: Mapping[str, Any] | None = None) -> list[Problem]:
    """Validate and raise :class:`GraphError` if there is any error; returns the warnings."""
    problems = validate(doc, catalogue, overrides=overrides)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise GraphError(errors)
    return problems


def _suggest(node_type: str, catalogue: Catalogue) -> str:
    import difflib

    types = catalogue.types() if hasattr(catalogue, "types") else []
    close = difflib.get_close_matches(node_type, types, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
