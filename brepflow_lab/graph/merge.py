"""Semantic diff and three-way merge of graph documents (``brepflow-lab diff`` / ``merge``).

A text diff of two ``.bflow.json`` files talks about braces and line numbers; a designer
wants "fillet.radius 5 → 3, node chamfer added, link shell.shape → fillet.shape removed".
This module compares documents as graphs, by stable ids:

* **atoms** — the smallest things two people can change independently: a node's type, its
  label, its position, each of its params, each of its input sockets (the link or the list of
  links it holds), each global parameter's fields, the units, the tolerance, each metadata
  key. Two edits of *different* atoms never conflict.
* **diff(a, b)** lists nodes added and removed, params / labels / types / positions changed
  (from → to), links added and removed, global parameters added, removed or changed.
* **merge(base, ours, theirs)** takes, atom by atom, the side that changed it; when both
  changed the same atom to different values it keeps *ours* and records a conflict. A node
  deleted on one side and edited on the other is a conflict (the edited node is kept, so no
  work is lost). Links to nodes that no longer exist are dropped and reported, and the
  ``edges`` list is rebuilt from the merged inputs (the file stores links twice: node inputs
  are the source of truth here, as in the engine).

Used as a git merge driver (README: *Working together*): ``brepflow-lab merge %O %A %B -o %A``
writes the merged graph, lists conflicts, and exits 1 when there are any (git then marks the
file as conflicted, with *ours* in place of each conflicting atom).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from brepflow_lab.graph.algorithms import find_cycles
from brepflow_lab.graph.model import Edge, GraphDocument, InputLinks, Node, Parameter, SocketRef, links_of

_MISSING = object()


# --------------------------------------------------------------------------- diff


@dataclass
class GraphDiff:
    nodes_added: list[dict[str, Any]] = field(default_factory=list)
    nodes_removed: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # {"node", "what", "from", "to"}
    links_added: list[str] = field(default_factory=list)
    links_removed: list[str] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)  # {"name", "change", "from", "to"}
    document: list[dict[str, Any]] = field(default_factory=list)  # units, tolerance, metadata keys

    @property
    def equal(self) -> bool:
        return not any(
            (
                self.nodes_added,
                self.nodes_removed,
                self.changes,
                self.links_added,
                self.links_removed,
                self.parameters,
                self.document,
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "equal": self.equal,
            "nodes_added": self.nodes_added,
            "nodes_removed": self.nodes_removed,
            "changes": self.changes,
            "links_added": self.links_added,
            "links_removed": self.links_removed,
            "parameters": self.parameters,
            "document": self.document,
        }

    def lines(self) -> list[str]:
        out = []
        for n in self.nodes_added:
            out.append(f"+ node {n['id']} ({n['type']})" + (f" '{n['label']}'" if n.get("label") else ""))
        for n in self.nodes_removed:
            out.append(f"- node {n['id']} ({n['type']})" + (f" '{n['label']}'" if n.get("label") else ""))
        for c in self.changes:
            out.append(f"~ {c['node']}.{c['what']}: {_show(c['from'])} → {_show(c['to'])}")
        for link in self.links_added:
            out.append(f"+ link {link}")
        for link in self.links_removed:
            out.append(f"- link {link}")
        for p in self.parameters:
            if p["change"] == "added":
                out.append(f"+ parameter @{p['name']} = {_show(p['to'])}")
            elif p["change"] == "removed":
                out.append(f"- parameter @{p['name']} (was {_show(p['from'])})")
            else:
                out.append(f"~ parameter @{p['name']}.{p['field']}: {_show(p['from'])} → {_show(p['to'])}")
        for d in self.document:
            out.append(f"~ {d['what']}: {_show(d['from'])} → {_show(d['to'])}")
        return out


def _show(value: Any) -> str:
    if value is _MISSING or value is None:
        return "(none)"
    if isinstance(value, dict) and set(value) <= {"x", "y", "z"}:
        return (
            "("
            + ", ".join(
                f"{value.get(k, 0):g}" if isinstance(value.get(k, 0), (int, float)) else str(value.get(k))
                for k in ("x", "y", "z")
            )
            + ")"
        )
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _link_text(target: str, socket: str, ref: SocketRef) -> str:
    return f"{ref.node_id}.{ref.socket} → {target}.{socket}"


def _links(doc: GraphDocument) -> set[str]:
    return {_link_text(n.id, name, ref) for n in doc.nodes for name, ref in n.links()}


def _param_fields(p: Parameter) -> dict[str, Any]:
    out = {"value": p.value, "min": p.min, "max": p.max, "step": p.step, "unit": p.unit, "description": p.description}
    out.update({f"extra.{k}": v for k, v in p.extra.items()})
    return out


def diff(a: GraphDocument, b: GraphDocument, *, positions: bool = True) -> GraphDiff:
    """What changed from ``a`` to ``b`` (see the module docstring); ``positions=False`` ignores moves."""
    out = GraphDiff()
    before, after = a.node_map(), b.node_map()
    for node_id, n in after.items():
        if node_id not in before:
            out.nodes_added.append({"id": node_id, "type": n.type, "label": n.label})
    for node_id, n in before.items():
        if node_id not in after:
            out.nodes_removed.append({"id": node_id, "type": n.type, "label": n.label})
    for node_id, old in before.items():
        new = after.get(node_id)
        if new is None:
            continue
        if old.type != new.type:
            out.changes.append({"node": node_id, "what": "type", "from": old.type, "to": new.type})
        if old.label != new.label:
            out.changes.append({"node": node_id, "what": "label", "from": old.label, "to": new.label})
        if positions and tuple(old.position) != tuple(new.position):
            out.changes.append(
                {"node": node_id, "what": "position", "from": list(old.position), "to": list(new.position)}
            )
        for key in [*old.params, *(k for k in new.params if k not in old.params)]:
            was, now = old.params.get(key, _MISSING), new.params.get(key, _MISSING)
            if was != now:
                out.changes.append(
                    {
                        "node": node_id,
                        "what": f"params.{key}",
                        "from": None if was is _MISSING else was,
                        "to": None if now is _MISSING else now,
                    }
                )
    links_a, links_b = _links(a), _links(b)
    out.links_added = sorted(links_b - links_a)
    out.links_removed = sorted(links_a - links_b)
    for name in [*a.parameters, *(k for k in b.parameters if k not in a.parameters)]:
        pa, pb = a.parameters.get(name), b.parameters.get(name)
        if pa is None and pb is not None:
            out.parameters.append({"name": name, "change": "added", "from": None, "to": pb.value})
        elif pb is None and pa is not None:
            out.parameters.append({"name": name, "change": "removed", "from": pa.value, "to": None})
        elif pa is not None and pb is not None:
            fa, fb = _param_fields(pa), _param_fields(pb)
            for key in [*fa, *(k for k in fb if k not in fa)]:
                if fa.get(key) != fb.get(key):
                    out.parameters.append(
                        {"name": name, "change": "changed", "field": key, "from": fa.get(key), "to": fb.get(key)}
                    )
    for what, x, y in (("units", a.units, b.units), ("tolerance", a.tolerance, b.tolerance)):
        if x != y:
            out.document.append({"what": what, "from": x, "to": y})
    ma, mb = dict(a.metadata or {}), dict(b.metadata or {})
    for key in [*ma, *(k for k in mb if k not in ma)]:
        if ma.get(key) != mb.get(key):
            out.document.append({"what": f"metadata.{key}", "from": ma.get(key), "to": mb.get(key)})
    return out


# --------------------------------------------------------------------------- merge


@dataclass
class Conflict:
    where: str  # "fillet.params.radius", "@L.value", "node fillet"
    base: Any
    ours: Any
    theirs: Any
    kept: str = "ours"

    def text(self) -> str:
        return (
            f"{self.where}: base {_show(self.base)}, ours {_show(self.ours)}, theirs {_show(self.theirs)} "
            f"(kept {self.kept})"
        )

    def to_json(self) -> dict[str, Any]:
        clean = {k: (None if v is _MISSING else v) for k, v in vars(self).items()}
        return clean


@dataclass
class MergeResult:
    document: GraphDocument
    conflicts: list[Conflict]
    dropped_links: list[str]

    @property
    def clean(self) -> bool:
        return not self.conflicts


def _pick(where: str, base: Any, ours: Any, theirs: Any, conflicts: list[Conflict]) -> Any:
    """The three-way rule for one atom; values may be _MISSING (absent on that side)."""
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    conflicts.append(Conflict(where, base, ours, theirs))
    return ours


def _merge_mapping(
    prefix: str, base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any], conflicts: list[Conflict]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = [*ours, *(k for k in theirs if k not in ours), *(k for k in base if k not in ours and k not in theirs)]
    for key in keys:
        value = _pick(
            f"{prefix}{key}",
            base.get(key, _MISSING),
            ours.get(key, _MISSING),
            theirs.get(key, _MISSING),
            conflicts,
        )
        if value is not _MISSING:
            out[key] = value
    return out


def _merge_node(base: Node | None, ours: Node, theirs: Node, conflicts: list[Conflict]) -> Node:
    """Atom by atom; a node both sides added under one id has no base (every difference conflicts)."""
    where = ours.id
    b_type = base.type if base is not None else _MISSING
    b_label = base.label if base is not None else _MISSING
    b_position = tuple(base.position) if base is not None else _MISSING
    node_type = _pick(f"{where}.type", b_type, ours.type, theirs.type, conflicts)
    label = _pick(f"{where}.label", b_label, ours.label, theirs.label, conflicts)
    position = _pick(f"{where}.position", b_position, tuple(ours.position), tuple(theirs.position), conflicts)
    params = _merge_mapping(f"{where}.params.", base.params if base else {}, ours.params, theirs.params, conflicts)
    inputs = _merge_mapping(f"{where}.inputs.", base.inputs if base else {}, ours.inputs, theirs.inputs, conflicts)
    extra = _merge_mapping(f"{where}.", base.extra if base else {}, ours.extra, theirs.extra, conflicts)
    return Node(
        id=ours.id,
        type=node_type,
        position=position,
        inputs=inputs,
        params=params,
        label=None if label is _MISSING else label,
        extra=extra,
    )


def _merge_parameter(
    name: str, base: Parameter | None, ours: Parameter, theirs: Parameter, conflicts: list[Conflict]
) -> Parameter:
    fb = _param_fields(base) if base is not None else {}
    fo, ft = _param_fields(ours), _param_fields(theirs)
    merged = _merge_mapping(f"@{name}.", fb, fo, ft, conflicts)
    extra = {k[len("extra.") :]: v for k, v in merged.items() if k.startswith("extra.")}
    return Parameter(
        value=merged.get("value"),
        min=merged.get("min"),
        max=merged.get("max"),
        step=merged.get("step"),
        unit=merged.get("unit"),
        description=merged.get("description"),
        extra=extra,
    )


def merge(base: GraphDocument, ours: GraphDocument, theirs: GraphDocument) -> MergeResult:
    """Three-way merge (see the module docstring): the merged document and every conflict."""
    conflicts: list[Conflict] = []
    nb, no, nt = base.node_map(), ours.node_map(), theirs.node_map()
    order = [*no, *(k for k in nt if k not in no)]
    nodes: list[Node] = []
    for node_id in order:
        b, o, t = nb.get(node_id), no.get(node_id), nt.get(node_id)
        if o is not None and t is not None:
            nodes.append(_merge_node(b, o, t, conflicts))
        elif o is not None:  # absent in theirs: added by us, or deleted by them
            if b is None:
                nodes.append(o)
            elif o != b:
                conflicts.append(Conflict(f"node {node_id}", "present", "edited", "deleted"))
                nodes.append(o)
            # else: deleted by them, untouched by us -> gone
        elif t is not None:
            if b is None:
                nodes.append(t)
            elif t != b:
                conflicts.append(Conflict(f"node {node_id}", "present", "deleted", "edited", kept="theirs (edited)"))
                nodes.append(t)
    # links to nodes that are gone (deleted on one side, linked on the other) disappear
    present = {n.id for n in nodes}
    dropped: list[str] = []
    cleaned: list[Node] = []
    for n in nodes:
        inputs: dict[str, InputLinks] = {}
        for name, value in n.inputs.items():
            refs = links_of(value)
            kept = tuple(r for r in refs if r.node_id in present)
            dropped += [_link_text(n.id, name, r) for r in refs if r.node_id not in present]
            if not kept:
                continue
            inputs[name] = kept if isinstance(value, tuple) else kept[0]
        cleaned.append(replace(n, inputs=inputs) if inputs != dict(n.inputs) else n)
    parameters: dict[str, Parameter] = {}
    names = [*ours.parameters, *(k for k in theirs.parameters if k not in ours.parameters)]
    for name in names:
        pb, po, pt = base.parameters.get(name), ours.parameters.get(name), theirs.parameters.get(name)
        if po is not None and pt is not None:
            parameters[name] = _merge_parameter(name, pb, po, pt, conflicts)
        elif po is not None and (pb is None or po != pb):
            if pb is not None:
                conflicts.append(Conflict(f"@{name}", "present", "edited", "deleted"))
            parameters[name] = po
        elif pt is not None and (pb is None or pt != pb):
            if pb is not None:
                conflicts.append(Conflict(f"@{name}", "present", "deleted", "edited", kept="theirs (edited)"))
            parameters[name] = pt
    units = _pick("units", base.units, ours.units, theirs.units, conflicts)
    tolerance = _pick("tolerance", base.tolerance, ours.tolerance, theirs.tolerance, conflicts)
    metadata: dict[str, Any] | None = None
    if ours.metadata is not None or theirs.metadata is not None:
        metadata = _merge_mapping(
            "metadata.", dict(base.metadata or {}), dict(ours.metadata or {}), dict(theirs.metadata or {}), conflicts
        )
    extra = _merge_mapping("", dict(base.extra), dict(ours.extra), dict(theirs.extra), conflicts)
    # each side acyclic, together a cycle (ours links a -> b, theirs b -> a): a conflict
    deps = {n.id: [ref.node_id for _, ref in n.links()] for n in cleaned}
    for cycle in find_cycles(deps):
        conflicts.append(
            Conflict("links " + " → ".join(cycle), "acyclic", "acyclic", "acyclic", kept="both (a cycle: fix by hand)")
        )
    merged = GraphDocument(
        version=ours.version,
        units=units,
        tolerance=tolerance,
        nodes=tuple(cleaned),
        edges=_edges_for(cleaned, [*ours.edges, *theirs.edges]),
        parameters=parameters,
        metadata=metadata,
        extra=extra,
    )
    return MergeResult(merged, conflicts, sorted(set(dropped)))


def _edges_for(nodes: list[Node], known: list[Edge]) -> tuple[Edge, ...]:
    """The ``edges`` list matching the nodes' inputs: existing edge ids kept, new ones numbered."""
    by_link: dict[tuple[str, str, str, str], Edge] = {}
    for e in known:
        by_link.setdefault((e.source, e.source_handle, e.target, e.target_handle), e)
    used: set[str] = set()
    edges: list[Edge] = []
    pending: list[tuple[str, str, str, str]] = []
    for n in nodes:
        for name, ref in n.links():
            key = (ref.node_id, ref.socket, n.id, name)
            edge = by_link.get(key)
            if edge is not None and edge.id not in used:
                used.add(edge.id)
                edges.append(edge)
            else:
                pending.append(key)
    counter = 1
    for source, handle, target, socket in pending:
        while f"e{counter}" in used:
            counter += 1
        used.add(f"e{counter}")
        edges.append(Edge(f"e{counter}", source, handle, target, socket))
    return tuple(edges)
