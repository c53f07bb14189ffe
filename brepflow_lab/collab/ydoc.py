"""The shared graph document: a ``.bflow.json`` graph as a CRDT (pycrdt / Yjs) that several people edit at once.

Why fine-grained: jupyter-collaboration's default for an unknown file is one shared *text*;
two people editing a JSON text concurrently can produce text that is not JSON, let alone a
valid graph. Here every thing two people may change independently is its own shared value,
so concurrent edits of different things merge, and concurrent edits of the same thing end
with one value on every replica (Yjs' last-writer-wins per map key).

Schema (the browser's ``YGraph`` in labextension/ must use the same root names and kinds)::

    meta        Map   version, units, tolerance, metadata (JSON text), extra (JSON text)
    nodes       Map   node id -> Map {type, label, x, y, order, extra (JSON text),
                                       params: Map {name -> JSON text}}
    links       Map   link key -> Map {source, socket, order, edge}
    parameters  Map   name -> Map {value (JSON text), min, max, step, unit, description,
                                   order, extra (JSON text)}
    state       Map   jupyter-ydoc's: dirty, hash, path

* Values that are JSON in the file (param values, metadata) are stored as JSON *text*: a CRDT
  number is a float, and ``12`` must stay ``12`` in the file.
* Link keys name the input they fill: ``"<target>\\x1f<socket>"`` for a single input (so two
  people connecting the same input concurrently end with one link: the last writer's) and
  ``"<target>\\x1f<socket>\\x1f<unique>"`` for one link of a multi-input (concurrent adds
  both survive, ordered by ``order`` then key).
* Map iteration order is not the same on every replica, so nodes, links and parameters carry
  an ``order`` number and the projection sorts by it (ties by key).

The projection (:meth:`YGraph.document`) is what every replica shows and what is saved; it
keeps the graph valid whatever was merged: a link whose source or target node is gone (one
person deleted a node while another linked to it) is left out, and a link that would close a
cycle (two people each adding one half of a loop) is left out, deterministically (links are
taken in key order, and a link is skipped if it would close a cycle). Replicas with the same
state therefore show the same valid graph.

:meth:`YGraph.set` takes a file's text and applies only the differences (atom by atom), so a
write from outside (``git checkout``, a notebook's ``g.save()``) merges into the open
document instead of replacing it; a text that is not a valid graph is refused with a
:class:`~brepflow_lab.errors.GraphError` and the document is left as it was.

Outside writes are merged three ways when the document knows what the file last held (the
text it loaded, or the one the server saved: :attr:`dirty` set to False after a save): base =
the file as last seen, ours = the file's new text, theirs = the document. So edits made in the
room that the server had not saved yet when the write came (its save delay) survive the write,
and the write's own changes all land; only the same atom changed both ways takes the file's
value (the newest intent), as :func:`brepflow_lab.graph.merge.merge` keeps "ours".

pycrdt documents are not thread-safe: touch a YGraph on one thread (the server's event loop);
hand other threads a :class:`GraphDocument` snapshot.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar, cast

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Awareness, Doc, Map

from brepflow_lab.graph import bflow
from brepflow_lab.graph.merge import merge
from brepflow_lab.graph.model import Edge, GraphDocument, InputLinks, Node, Parameter, SocketRef

SEP = "\x1f"
ROOTS = ("meta", "nodes", "links", "parameters")
_PARAM_FIELDS = ("min", "max", "step", "unit", "description")


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _load(text: Any, default: Any = None) -> Any:
    if not isinstance(text, str):
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def single_key(target: str, socket: str) -> str:
    return f"{target}{SEP}{socket}"


def multi_key(target: str, socket: str, unique: str | None = None) -> str:
    return f"{target}{SEP}{socket}{SEP}{unique or uuid.uuid4().hex[:12]}"


_F = TypeVar("_F", bound=Callable[..., Any])


def _edit(method: _F) -> _F:
    """Run a person's edit in one transaction with this replica's origin (undoable by them only)."""

    @functools.wraps(method)
    def wrapper(self: YGraph, *args: Any, **kwargs: Any) -> Any:
        with self._ydoc.transaction(origin=self.origin):
            return method(self, *args, **kwargs)

    return cast(_F, wrapper)


class YGraph(YBaseDoc):
    """A graph document shared through pycrdt (see the module docstring)."""

    def __init__(self, ydoc: Doc | None = None, awareness: Awareness | None = None) -> None:
        super().__init__(ydoc, awareness)
        self._meta: Map = self._ydoc.get("meta", type=Map)
        self._nodes: Map = self._ydoc.get("nodes", type=Map)
        self._links: Map = self._ydoc.get("links", type=Map)
        self._parameters: Map = self._ydoc.get("parameters", type=Map)
        for root in (self._meta, self._nodes, self._links, self._parameters):
            self.undo_manager.expand_scope(root)
        # Undo is per person: this replica's edits carry its own origin and its undo manager
        # tracks only that origin, so updates from others (applied with another origin) and
        # file reloads are never undone here.
        self.origin = f"brepflow-{uuid.uuid4().hex[:8]}"
        self.undo_manager.include_origin(self.origin)
        # the graph as the file last held it (loaded, or saved by the server), and the last
        # graph handed out as file text: the base of a three-way merge of an outside write
        self._file_doc: GraphDocument | None = None
        self._last_text_doc: GraphDocument | None = None

    @property
    def version(self) -> str:
        return "1.0.0"

    # -- jupyter-ydoc's contract: file text in and out -------------------------------

    def get(self) -> str:
        doc = self.document()
        self._last_text_doc = doc
        return bflow.dumps(doc)

    def set(self, value: str) -> None:
        """A file's text (the server loading or reloading it): not undoable by anyone.

        Merged three ways with the document's own unsaved edits when the file's previous
        content is known (see the module docstring).
        """
        theirs = bflow.loads(value)
        target = theirs
        base = self._file_doc
        if base is not None:
            current = self.document()
            if current != base:  # the document has edits the file has not seen
                target = merge(base, theirs, current).document
        self.apply_document(target, origin="file")
        self._file_doc = self._last_text_doc = theirs

    @property
    def dirty(self) -> bool | None:
        return cast("bool | None", self._ystate.get("dirty"))

    @dirty.setter
    def dirty(self, value: bool) -> None:
        # the server clears ``dirty`` after it saved the text it last got from get(), and
        # after it loaded the file: either way the file now holds that graph
        self._ystate["dirty"] = value
        if not value and self._last_text_doc is not None:
            self._file_doc = self._last_text_doc
        elif not value and self._file_doc is None:  # just loaded (by a helper document)
            self._file_doc = self.document()

    def observe(self, callback: Callable[[str, Any], None]) -> None:
        self.unobserve()
        self._subscriptions[self._ystate] = self._ystate.observe(partial(callback, "state"))
        for name, root in zip(ROOTS, (self._meta, self._nodes, self._links, self._parameters)):
            self._subscriptions[root] = root.observe_deep(partial(callback, name))

    # -- projection: the valid graph every replica shows ------------------------------

    def document(self) -> GraphDocument:
        meta = self._meta
        nodes_raw = sorted(
            ((key, value) for key, value in self._nodes.items() if isinstance(value, Map)),
            key=lambda kv: (float(kv[1].get("order", 0.0) or 0.0), kv[0]),
        )
        present = {key for key, _ in nodes_raw}
        # links: drop dangling ones, then any that would close a cycle (in key order)
        candidates = []
        for key, value in sorted(self._links.items()):
            if not isinstance(value, Map):
                continue
            parts = key.split(SEP)
            if len(parts) not in (2, 3):
                continue
            target, socket = parts[0], parts[1]
            source, source_socket = value.get("source"), value.get("socket")
            if target not in present or source not in present or not isinstance(source_socket, str):
                continue
            candidates.append((key, target, socket, str(source), source_socket, len(parts) == 3, value))
        kept = []
        deps: dict[str, set[str]] = {n: set() for n in present}  # node -> the nodes it depends on
        for item in candidates:
            _, target, _, source, *_ = item
            if source == target or _reaches(deps, source, target):
                continue  # would close a cycle: left out on every replica alike
            deps[target].add(source)
            kept.append(item)
        # (ref, edge id, edge extras) per input; edge ids are the file's where known
        singles: dict[tuple[str, str], tuple[SocketRef, str, Any]] = {}
        multis: dict[tuple[str, str], list[tuple[float, str, SocketRef, str, Any]]] = {}
        for key, target, socket, source, source_socket, multi, value in kept:
            ref = SocketRef(source, source_socket)
            edge_id = value.get("edge")
            if not isinstance(edge_id, str):
                edge_id = f"e-{key.rsplit(SEP, 1)[-1]}" if multi else f"e-{target}-{socket}"
            entry_extra = value.get("edge_extra")
            if multi:
                order = float(value.get("order", 0.0) or 0.0)
                multis.setdefault((target, socket), []).append((order, key, ref, edge_id, entry_extra))
            else:
                singles[(target, socket)] = (ref, edge_id, entry_extra)
        nodes: list[Node] = []
        edges: list[Edge] = []
        for node_id, value in nodes_raw:
            inputs: dict[str, InputLinks] = {}
            node_edges: list[Edge] = []
            for (target, socket), (ref, edge_id, entry_extra) in singles.items():
                if target == node_id:
                    inputs[socket] = ref
                    node_edges.append(
                        Edge(edge_id, ref.node_id, ref.socket, node_id, socket, _load(entry_extra, {}) or {})
                    )
            for (target, socket), entries in multis.items():
                if target == node_id and socket not in inputs:
                    ordered = sorted(entries, key=lambda t: (t[0], t[1]))
                    inputs[socket] = tuple(t[2] for t in ordered)
                    node_edges += [
                        Edge(edge_id, ref.node_id, ref.socket, node_id, socket, _load(entry_extra, {}) or {})
                        for _, _, ref, edge_id, entry_extra in ordered
                    ]
            edges += node_edges
            params_map = value.get("params")
            params = (
                {k: _load(v) for k, v in sorted(params_map.items(), key=lambda kv: _param_order(value, kv[0]))}
                if isinstance(params_map, Map)
                else {}
            )
            label = value.get("label")
            nodes.append(
                Node(
                    id=node_id,
                    type=str(value.get("type", "")),
                    position=(float(value.get("x", 0.0) or 0.0), float(value.get("y", 0.0) or 0.0)),
                    inputs=inputs,
                    params=params,
                    label=label if isinstance(label, str) else None,
                    extra=_load(value.get("extra"), {}) or {},
                )
            )
        parameters: dict[str, Parameter] = {}
        for name, value in sorted(
            ((k, v) for k, v in self._parameters.items() if isinstance(v, Map)),
            key=lambda kv: (float(kv[1].get("order", 0.0) or 0.0), kv[0]),
        ):
            fields = {f: _load(value.get(f)) for f in _PARAM_FIELDS}
            parameters[name] = Parameter(
                value=_load(value.get("value")),
                min=fields["min"],
                max=fields["max"],
                step=fields["step"],
                unit=fields["unit"],
                description=fields["description"],
                extra=_load(value.get("extra"), {}) or {},
            )
        tolerance = meta.get("tolerance")
        return GraphDocument(
            version=str(meta.get("version") or "0.1.0"),
            units=str(meta.get("units") or "mm"),
            tolerance=float(tolerance) if isinstance(tolerance, (int, float)) else 0.001,
            nodes=tuple(nodes),
            edges=_unique_edge_ids(edges),
            parameters=parameters,
            metadata=_load(meta.get("metadata")),
            extra=_load(meta.get("extra"), {}) or {},
        )

    # -- writing: whole documents (a file) and single edits (a person) ---------------

    def apply_document(self, doc: GraphDocument, *, origin: Any = None) -> None:
        """Make the shared state equal ``doc``, touching only the atoms that differ.

        ``origin`` defaults to this replica's own (an edit this person may undo).
        """
        with self._ydoc.transaction(origin=self.origin if origin is None else origin):
            self._set_if("version", doc.version, self._meta)
            self._set_if("units", doc.units, self._meta)
            self._set_if("tolerance", float(doc.tolerance), self._meta)
            self._set_if("metadata", _dump(doc.metadata) if doc.metadata is not None else None, self._meta)
            self._set_if("extra", _dump(dict(doc.extra)), self._meta)
            wanted = {n.id for n in doc.nodes}
            for node_id in [k for k in list(self._nodes.keys()) if k not in wanted]:
                del self._nodes[node_id]
            for index, n in enumerate(doc.nodes):
                self._write_node(n, float(index))
            edge_ids = {(e.source, e.source_handle, e.target, e.target_handle): e.id for e in doc.edges}
            edge_extra = {e.id: _dump(dict(e.extra)) for e in doc.edges if e.extra}
            wanted_links: dict[str, tuple[SocketRef, float, str | None]] = {}
            for n in doc.nodes:
                for name, value in n.inputs.items():
                    if isinstance(value, tuple):
                        for i, ref in enumerate(value):
                            wanted_links[multi_key(n.id, name, f"{i:04d}")] = (
                                ref,
                                float(i),
                                edge_ids.get((ref.node_id, ref.socket, n.id, name)),
                            )
                    else:
                        wanted_links[single_key(n.id, name)] = (
                            value,
                            0.0,
                            edge_ids.get((value.node_id, value.socket, n.id, name)),
                        )
            # an existing multi-input link that already says the same keeps its key
            existing = {k: v for k, v in self._links.items() if isinstance(v, Map)}
            for key, (ref, order, edge) in list(wanted_links.items()):
                if key.count(SEP) == 2:
                    prefix = key.rsplit(SEP, 1)[0] + SEP
                    same = [
                        k
                        for k, v in existing.items()
                        if k.startswith(prefix)
                        and v.get("source") == ref.node_id
                        and v.get("socket") == ref.socket
                        and k not in wanted_links
                    ]
                    if same:
                        del wanted_links[key]
                        wanted_links[same[0]] = (ref, order, edge)
            for key in [k for k in list(self._links.keys()) if k not in wanted_links]:
                del self._links[key]
            for key, (ref, order, edge) in wanted_links.items():
                current = self._links.get(key) if key in self._links else None
                fields: dict[str, Any] = {"source": ref.node_id, "socket": ref.socket, "order": order}
                if edge is not None:
                    fields["edge"] = edge
                    if edge in edge_extra:
                        fields["edge_extra"] = edge_extra[edge]
                if isinstance(current, Map):
                    for f, v in fields.items():
                        self._set_if(f, v, current)
                else:
                    self._links[key] = Map(fields)
            for name in [k for k in list(self._parameters.keys()) if k not in doc.parameters]:
                del self._parameters[name]
            for index, (name, p) in enumerate(doc.parameters.items()):
                self._write_parameter(name, p, float(index))

    def _write_node(self, n: Node, order: float) -> None:
        current = self._nodes.get(n.id) if n.id in self._nodes else None
        fields = {
            "type": n.type,
            "label": n.label,
            "x": float(n.position[0]),
            "y": float(n.position[1]),
            "extra": _dump(dict(n.extra)),
        }
        if not isinstance(current, Map):
            self._nodes[n.id] = Map(
                {
                    **{k: v for k, v in fields.items() if v is not None},
                    "order": order,
                    "params": Map({k: _dump(v) for k, v in n.params.items()}),
                }
            )
            self._nodes[n.id]["params_order"] = _dump(list(n.params))
            return
        for f, v in fields.items():
            self._set_if(f, v, current)
        if not isinstance(current.get("order"), (int, float)):
            current["order"] = order
        params = current.get("params")
        if not isinstance(params, Map):
            current["params"] = Map({k: _dump(v) for k, v in n.params.items()})
        else:
            for key in [k for k in list(params.keys()) if k not in n.params]:
                del params[key]
            for key, value in n.params.items():
                self._set_if(key, _dump(value), params)
        self._set_if("params_order", _dump(list(n.params)), current)

    def _write_parameter(self, name: str, p: Parameter, order: float) -> None:
        fields = {"value": _dump(p.value), "extra": _dump(dict(p.extra))}
        fields.update({f: _dump(getattr(p, f)) for f in _PARAM_FIELDS})
        current = self._parameters.get(name) if name in self._parameters else None
        if not isinstance(current, Map):
            self._parameters[name] = Map({**fields, "order": order})
            return
        for f, v in fields.items():
            self._set_if(f, v, current)

    @staticmethod
    def _set_if(key: str, value: Any, target: Map) -> None:
        if value is None:
            if key in target:
                del target[key]
            return
        if key not in target or target.get(key) != value:
            target[key] = value

    # single edits, as a person makes them (the Studio does the same in the browser)

    @_edit
    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self._nodes.get(node_id) if node_id in self._nodes else None
        if not isinstance(node, Map):
            raise KeyError(f"no node '{node_id}' in the shared graph")
        params = node.get("params")
        if not isinstance(params, Map):
            node["params"] = Map({name: _dump(value)})
        else:
            params[name] = _dump(value)

    @_edit
    def set_parameter(self, name: str, value: Any) -> None:
        current = self._parameters.get(name) if name in self._parameters else None
        if isinstance(current, Map):
            current["value"] = _dump(value)
        else:
            self._parameters[name] = Map({"value": _dump(value), "order": self._next_order(self._parameters)})

    @_edit
    def add_node(
        self,
        node_id: str,
        node_type: str,
        *,
        params: dict[str, Any] | None = None,
        x: float = 0.0,
        y: float = 0.0,
        label: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "type": node_type,
            "x": float(x),
            "y": float(y),
            "order": self._next_order(self._nodes),
            "params": Map({k: _dump(v) for k, v in (params or {}).items()}),
        }
        if label is not None:
            fields["label"] = label
        self._nodes[node_id] = Map(fields)

    @_edit
    def remove_node(self, node_id: str) -> None:
        with self._ydoc.transaction():
            if node_id in self._nodes:
                del self._nodes[node_id]
            for key in [
                k
                for k, v in self._links.items()
                if k.split(SEP)[0] == node_id or (isinstance(v, Map) and v.get("source") == node_id)
            ]:
                del self._links[key]

    @_edit
    def move(self, node_id: str, x: float, y: float) -> None:
        node = self._nodes.get(node_id) if node_id in self._nodes else None
        if not isinstance(node, Map):
            raise KeyError(f"no node '{node_id}' in the shared graph")
        with self._ydoc.transaction():
            node["x"], node["y"] = float(x), float(y)

    @_edit
    def connect(self, source: str, socket: str, target: str, target_socket: str, *, multiple: bool = False) -> str:
        key = multi_key(target, target_socket) if multiple else single_key(target, target_socket)
        order = self._next_order(self._links) if multiple else 0.0
        self._links[key] = Map({"source": source, "socket": socket, "order": order})
        return key

    @_edit
    def disconnect(self, source: str, socket: str, target: str, target_socket: str) -> None:
        prefix = single_key(target, target_socket)
        with self._ydoc.transaction():
            for key in [
                k
                for k, v in self._links.items()
                if (k == prefix or k.startswith(prefix + SEP))
                and isinstance(v, Map)
                and v.get("source") == source
                and v.get("socket") == socket
            ]:
                del self._links[key]

    @staticmethod
    def _next_order(root: Map) -> float:
        orders = [v.get("order") for v in root.values() if isinstance(v, Map)]
        return max([float(o) for o in orders if isinstance(o, (int, float))], default=-1.0) + 1.0


def _reaches(deps: dict[str, set[str]], start: str, goal: str) -> bool:
    """Whether ``goal`` is upstream of ``start`` (so a link goal -> ... -> start exists)."""
    stack, seen = [start], {start}
    while stack:
        for up in deps.get(stack.pop(), ()):
            if up == goal:
                return True
            if up not in seen:
                seen.add(up)
                stack.append(up)
    return False


def _param_order(node: Map, key: str) -> tuple[int, str]:
    order = _load(node.get("params_order"), []) or []
    return (order.index(key) if key in order else len(order), key)


def _unique_edge_ids(edges: Iterable[Edge]) -> tuple[Edge, ...]:
    seen: set[str] = set()
    out = []
    for e in edges:
        edge_id = e.id
        n = 2
        while edge_id in seen:
            edge_id = f"{e.id}-{n}"
            n += 1
        seen.add(edge_id)
        out.append(
            e if edge_id == e.id else Edge(edge_id, e.source, e.source_handle, e.target, e.target_handle, e.extra)
        )
    return tuple(out)


def sync(*docs: YGraph) -> None:
    """Exchange updates until every replica has every other's state (tests, notebooks)."""
    for a in docs:
        for b in docs:
            if a is not b:
                b.ydoc.apply_update(a.ydoc.get_update(b.ydoc.get_state()))


__all__ = ["ROOTS", "YGraph", "multi_key", "single_key", "sync"]
