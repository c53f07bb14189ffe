"""The editable graph: a mutable :class:`GraphSession` over immutable snapshots.

Every edit replaces ``g.document`` (a frozen :class:`~brepflow_lab.graph.model.GraphDocument`)
with a new snapshot, keeping node and edge lists in the BrepFlow file in step (both the
node's ``inputs`` and the ``edges`` list). The graph owns an :class:`~brepflow_lab.engine.Evaluator`
sharing the process-wide cache, so graphs that contain the same sub-graph share results.

This is everything of the notebook's ``Graph`` but sweeps: :class:`brepflow_lab.api.Graph`
adds :meth:`~brepflow_lab.api.Graph.sweep` on top. Sweeps (:mod:`brepflow_lab.sweep`) are
built on a ``GraphSession`` (a sweep's workers evaluate one), so the session sits below
them and the public ``Graph`` above them: no import cycle (see ``tests/test_layers.py``).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from brepflow_lab import provenance
from brepflow_lab.core.errors import ErrorCode, GraphError, Problem
from brepflow_lab.core.ports import port_accepts
from brepflow_lab.core.units import GRAPH_UNITS
from brepflow_lab.engine import EvaluationResult, Evaluator, EventBus, default_cache
from brepflow_lab.engine.executors import is_concurrent
from brepflow_lab.engine.limits import node_time_limit
from brepflow_lab.graph import bflow
from brepflow_lab.graph.algorithms import downstream
from brepflow_lab.graph.model import Edge, GraphDocument, InputLinks, Node, Parameter, SocketRef
from brepflow_lab.graph.validate import validate
from brepflow_lab.kernel import cq
from brepflow_lab.kernel.sizing import outputs_nbytes
from brepflow_lab.nodes.registry import Registry, catalogue
from brepflow_lab.runners import executor_for_time_limit, resolve_executor, warn_slow_nodes

__all__ = ["Endpoint", "GraphSession", "NodeHandle"]

_ID_RE = re.compile(r"[^A-Za-z0-9_]+")


def _sizeof(outputs: dict[str, Any]) -> int:
    return outputs_nbytes(outputs)


class NodeHandle:
    """A reference to a node of a :class:`Graph`: ``h.id``, ``h.type``, ``h.params["radius"] = 3``."""

    def __init__(self, graph: GraphSession, node_id: str) -> None:
        self._graph = graph
        self.id = node_id

    @property
    def node(self) -> Node:
        node = self._graph.document.node(self.id)
        if node is None:
            raise KeyError(f"node '{self.id}' was removed from the graph")
        return node

    @property
    def type(self) -> str:
        return self.node.type

    @property
    def params(self) -> _NodeParams:
        return _NodeParams(self._graph, self.id)

    def set(self, **params: Any) -> NodeHandle:
        for name, value in params.items():
            self._graph.set_param(self.id, name, value)
        return self

    def __getitem__(self, socket: str) -> tuple[NodeHandle, str]:
        return (self, socket)

    def __repr__(self) -> str:
        return f"<node {self.id!r} {self.type}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeHandle) and other._graph is self._graph and other.id == self.id

    def __hash__(self) -> int:
        return hash((id(self._graph), self.id))


class _NodeParams(MutableMapping[str, Any]):
    def __init__(self, graph: GraphSession, node_id: str) -> None:
        self._graph = graph
        self._id = node_id

    def _params(self) -> Mapping[str, Any]:
        node = self._graph.document.node(self._id)
        assert node is not None
        return node.params

    def __getitem__(self, key: str) -> Any:
        return self._params()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._graph.set_param(self._id, key, value)

    def __delitem__(self, key: str) -> None:
        node = self._graph.document.node(self._id)
        assert node is not None
        params = dict(node.params)
        del params[key]
        self._graph._replace_node(replace(node, params=params))

    def __iter__(self) -> Iterator[str]:
        return iter(self._params())

    def __len__(self) -> int:
        return len(self._params())

    def __repr__(self) -> str:
        return repr(dict(self._params()))


class _Parameters(MutableMapping[str, Any]):
    """``g.parameters["L"] = 120`` sets a global parameter's value (creating it if needed)."""

    def __init__(self, graph: GraphSession) -> None:
        self._graph = graph

    def __getitem__(self, key: str) -> Any:
        return self._graph.document.parameters[key].value

    def __setitem__(self, key: str, value: Any) -> None:
        existing = self._graph.document.parameters.get(key)
        self.define(key, value) if existing is None else self._set(key, existing.with_value(value))

    def __delitem__(self, key: str) -> None:
        params = dict(self._graph.document.parameters)
        del params[key]
        self._graph._set_document(replace(self._graph.document, parameters=params))

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph.document.parameters)

    def __len__(self) -> int:
        return len(self._graph.document.parameters)

    def _set(self, key: str, parameter: Parameter) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"parameter name {key!r} must be an identifier (letters, digits, _)")
        if isinstance(parameter.value, (int, float)) and not isinstance(parameter.value, bool):
            if parameter.min is not None and parameter.value < parameter.min:
                raise ValueError(f"parameter '@{key}' = {parameter.value} is below its minimum {parameter.min}")
            if parameter.max is not None and parameter.value > parameter.max:
                raise ValueError(f"parameter '@{key}' = {parameter.value} is above its maximum {parameter.max}")
        params = dict(self._graph.document.parameters)
        params[key] = parameter
        self._graph._set_document(replace(self._graph.document, parameters=params))

    def define(
        self,
        name: str,
        value: Any,
        *,
        min: float | None = None,
        max: float | None = None,
        step: float | None = None,
        unit: str | None = None,
        description: str | None = None,
    ) -> None:
        """Create or redefine a global parameter with its limits and help."""
        self._set(name, Parameter(value, min=min, max=max, step=step, unit=unit, description=description))

    def spec(self, name: str) -> Parameter:
        return self._graph.document.parameters[name]

    def __repr__(self) -> str:
        return repr({k: v.value for k, v in self._graph.document.parameters.items()})


Endpoint = NodeHandle | str | tuple[NodeHandle, str]
_G = TypeVar("_G", bound="GraphSession")


class GraphSession:
    """A BrepFlow graph you can edit, evaluate and save (``brepflow_lab.Graph`` adds sweeps)."""

    def __init__(
        self,
        document: GraphDocument | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        registry: Registry | None = None,
        evaluator: Evaluator | None = None,
    ) -> None:
        self._doc = document or GraphDocument()
        self.path = Path(path) if path is not None else None
        self.registry = registry if registry is not None else catalogue
        self.evaluator = evaluator or Evaluator(self.registry, cache=default_cache(_sizeof), events=EventBus())
        self.last_result: EvaluationResult | None = None
        self._saved_doc: GraphDocument | None = self._doc if path is not None else None
        self._listeners: list[Any] = []

    # -- construction -------------------------------------------------------------------
    @classmethod
    def new(cls: type[_G], units: str = "mm", tolerance: float = 0.001, **metadata: Any) -> _G:
        if units not in GRAPH_UNITS:
            raise ValueError(f"units must be one of {', '.join(GRAPH_UNITS)}; got {units!r}")
        return cls(
            GraphDocument(version=bflow.FORMAT_VERSION, units=units, tolerance=tolerance, metadata=metadata or None)
        )

    @classmethod
    def load(cls: type[_G], path: str | os.PathLike[str], **kwargs: Any) -> _G:
        return cls(bflow.load(path), path=path, **kwargs)

    @classmethod
    def from_json(cls: type[_G], data: str | bytes | Mapping[str, Any], **kwargs: Any) -> _G:
        doc = bflow.loads(data) if isinstance(data, (str, bytes)) else bflow.parse(dict(data))
        return cls(doc, **kwargs)

    # -- document -----------------------------------------------------------------------
    @property
    def document(self) -> GraphDocument:
        return self._doc

    def _set_document(self, doc: GraphDocument) -> None:
        self._doc = doc
        for listener in list(self._listeners):
            listener(self)

    def on_change(self, listener: Any) -> Callable[[], None]:
        """Call ``listener(graph)`` after every edit (widgets use it); returns an unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def dirty(self) -> bool:
        """True when there are edits not yet saved."""
        return self._saved_doc is not self._doc

    @property
    def units(self) -> str:
        return self._doc.units

    @property
    def parameters(self) -> _Parameters:
        return _Parameters(self)

    @property
    def nodes(self) -> list[NodeHandle]:
        return [NodeHandle(self, n.id) for n in self._doc.nodes]

    def node(self, node_id: str) -> NodeHandle:
        if self._doc.node(node_id) is None:
            raise KeyError(f"no node '{node_id}' in the graph")
        return NodeHandle(self, node_id)

    def __getitem__(self, node_id: str) -> NodeHandle:
        return self.node(node_id)

    def __contains__(self, node_id: object) -> bool:
        return isinstance(node_id, str) and self._doc.node(node_id) is not None

    def __len__(self) -> int:
        return len(self._doc.nodes)

    def _replace_node(self, node: Node) -> None:
        self._set_document(self._doc.with_node(node))

    # -- editing ------------------------------------------------------------------------
    def _new_id(self, node_type: str) -> str:
        base = _ID_RE.sub("_", node_type.split("::")[-1]).strip("_").lower() or "node"
        existing = {n.id for n in self._doc.nodes}
        i = 1
        while f"{base}{i}" in existing:
            i += 1
        return f"{base}{i}"

    def add(
        self,
        node_type: str,
        *,
        id: str | None = None,
        label: str | None = None,
        position: tuple[float, float] | None = None,
        **params: Any,
    ) -> NodeHandle:
        """Add a node; params not given use the spec's defaults at evaluation time."""
        spec = self.registry.get(node_type)
        if spec is None:
            import difflib

            close = difflib.get_close_matches(node_type, self.registry.types(), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise GraphError([Problem(ErrorCode.UNKNOWN_NODE_TYPE, f"unknown node type '{node_type}'{hint}")])
        for name in params:
            if spec.param(name) is None:
                known = ", ".join(p.name for p in spec.params)
                raise GraphError(
                    [Problem(ErrorCode.UNKNOWN_PARAM, f"{node_type} has no parameter '{name}' (params: {known})")]
                )
        node_id = id or self._new_id(node_type)
        if self._doc.node(node_id) is not None:
            raise GraphError([Problem(ErrorCode.DUPLICATE_ID, f"a node with id '{node_id}' already exists")])
        if position is None:
            position = (200.0 * (len(self._doc.nodes) % 6), 150.0 * (len(self._doc.nodes) // 6))
        json_params = {k: _to_json_value(v) for k, v in params.items()}
        self._set_document(
            replace(
                self._doc,
                nodes=(
                    *self._doc.nodes,
                    Node(id=node_id, type=node_type, position=position, params=json_params, label=label),
                ),
            )
        )
        return NodeHandle(self, node_id)

    def set_param(self, node: Endpoint, name: str, value: Any) -> None:
        node_id = _node_id(node)
        current = self._doc.node(node_id)
        if current is None:
            raise KeyError(f"no node '{node_id}' in the graph")
        spec = self.registry.get(current.type)
        if spec is not None and spec.param(name) is None:
            known = ", ".join(p.name for p in spec.params)
            raise GraphError(
                [
                    Problem(
                        ErrorCode.UNKNOWN_PARAM, f"{current.type} has no parameter '{name}' (params: {known})", node_id
                    )
                ]
            )
        params = dict(current.params)
        params[name] = _to_json_value(value)
        self._replace_node(replace(current, params=params))

    def remove(self, node: Endpoint) -> None:
        """Remove a node and every link and edge touching it."""
        node_id = _node_id(node)
        if self._doc.node(node_id) is None:
            raise KeyError(f"no node '{node_id}' in the graph")
        nodes = []
        for n in self._doc.nodes:
            if n.id == node_id:
                continue
            inputs: dict[str, InputLinks] = {}
            for name, value in n.inputs.items():
                if isinstance(value, tuple):
                    kept = tuple(r for r in value if r.node_id != node_id)
                    if kept:
                        inputs[name] = kept
                elif value.node_id != node_id:
                    inputs[name] = value
            nodes.append(replace(n, inputs=inputs) if inputs != dict(n.inputs) else n)
        edges = tuple(e for e in self._doc.edges if node_id not in (e.source, e.target))
        self._set_document(replace(self._doc, nodes=tuple(nodes), edges=edges))

    def connect(self, source: Endpoint, source_socket: str, target: Endpoint, target_socket: str) -> None:
        """Link ``source.source_socket`` → ``target.target_socket`` (appends on multi-inputs)."""
        src_id, dst_id = _node_id(source), _node_id(target)
        src, dst = self._doc.node(src_id), self._doc.node(dst_id)
        if src is None or dst is None:
            raise KeyError(f"no node '{src_id if src is None else dst_id}' in the graph")
        src_spec, dst_spec = self.registry.get(src.type), self.registry.get(dst.type)
        out_spec = src_spec.output(source_socket) if src_spec else None
        in_spec = dst_spec.input(target_socket) if dst_spec else None
        problems = []
        if src_spec is not None and out_spec is None:
            names = ", ".join(o.name for o in src_spec.outputs)
            problems.append(
                Problem(ErrorCode.UNKNOWN_SOCKET, f"{src.type} has no output '{source_socket}' ({names})", src_id)
            )
        if dst_spec is not None and in_spec is None:
            names = ", ".join(i.name for i in dst_spec.inputs)
            problems.append(
                Problem(ErrorCode.UNKNOWN_SOCKET, f"{dst.type} has no input '{target_socket}' ({names})", dst_id)
            )
        if out_spec is not None and in_spec is not None and not port_accepts(in_spec.type, out_spec.type):
            problems.append(
                Problem(
                    ErrorCode.PORT_TYPE_MISMATCH,
                    f"cannot connect {src_id}.{source_socket} ({out_spec.type}) to {dst_id}.{target_socket} "
                    f"({in_spec.type}): a {in_spec.type} input does not take a {out_spec.type}",
                    dst_id,
                )
            )
        if src_id == dst_id or src_id in self._downstream_of(dst_id):
            problems.append(Problem(ErrorCode.CYCLE, f"connecting {src_id} to {dst_id} would create a cycle", dst_id))
        if problems:
            raise GraphError(problems)
        ref = SocketRef(src_id, source_socket)
        inputs = dict(dst.inputs)
        edges = list(self._doc.edges)
        multiple = in_spec.multiple if in_spec is not None else isinstance(inputs.get(target_socket), tuple)
        if multiple:
            existing = inputs.get(target_socket)
            current = existing if isinstance(existing, tuple) else ((existing,) if existing else ())
            if ref in current:
                return
            inputs[target_socket] = (*current, ref)
        else:
            old = inputs.get(target_socket)
            if old is not None:
                for o in old if isinstance(old, tuple) else (old,):
                    edges = [
                        e
                        for e in edges
                        if not (
                            e.source == o.node_id
                            and e.source_handle == o.socket
                            and e.target == dst_id
                            and e.target_handle == target_socket
                        )
                    ]
            inputs[target_socket] = ref
        edge_ids = {e.id for e in edges}
        i = len(edges) + 1
        while f"e{i}" in edge_ids:
            i += 1
        edges.append(Edge(f"e{i}", src_id, source_socket, dst_id, target_socket))
        nodes = tuple(replace(n, inputs=inputs) if n.id == dst_id else n for n in self._doc.nodes)
        self._set_document(replace(self._doc, nodes=nodes, edges=tuple(edges)))

    def disconnect(self, source: Endpoint, source_socket: str, target: Endpoint, target_socket: str) -> None:
        src_id, dst_id = _node_id(source), _node_id(target)
        dst = self._doc.node(dst_id)
        if dst is None:
            raise KeyError(f"no node '{dst_id}' in the graph")
        ref = SocketRef(src_id, source_socket)
        inputs = dict(dst.inputs)
        value = inputs.get(target_socket)
        if value is None:
            raise KeyError(f"{dst_id}.{target_socket} is not connected")
        if isinstance(value, tuple):
            kept = tuple(r for r in value if r != ref)
            if kept:
                inputs[target_socket] = kept
            else:
                del inputs[target_socket]
        elif value == ref:
            del inputs[target_socket]
        else:
            raise KeyError(f"{dst_id}.{target_socket} is not connected to {src_id}.{source_socket}")
        edges = tuple(
            e
            for e in self._doc.edges
            if not (
                e.source == src_id
                and e.source_handle == source_socket
                and e.target == dst_id
                and e.target_handle == target_socket
            )
        )
        nodes = tuple(replace(n, inputs=inputs) if n.id == dst_id else n for n in self._doc.nodes)
        self._set_document(replace(self._doc, nodes=nodes, edges=edges))

    def _downstream_of(self, node_id: str) -> set[str]:
        return downstream({n.id: n.upstream_ids() for n in self._doc.nodes}, [node_id])

    # -- checking and evaluating --------------------------------------------------------
    def validate(self, overrides: Mapping[str, Any] | None = None) -> list[Problem]:
        return validate(self._doc, self.registry, overrides=overrides)

    def evaluate(
        self,
        *,
        cache: bool = True,
        parameters: Mapping[str, Any] | None = None,
        targets: list[str] | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        allow_unsafe_paths: bool = False,
        isolated: bool | None = None,
        executor: Any = None,
    ) -> EvaluationResult:
        """Evaluate the graph. ``cache=False`` runs every node (the cache is not read).

        ``isolated=True`` runs the nodes in Dask worker processes (the environment's
        cluster, or a local one started on first use), so an OCCT crash fails that node
        with KERNEL_CRASH instead of killing this kernel. ``executor`` picks where nodes
        run for this call: ``"sync"`` (this process), ``"dask"``, or an executor such as
        :class:`~brepflow_lab.engine.dask_executor.DaskExecutor`; independent branches then
        run in parallel. The cache is this graph's either way.

        Time limit per node. When ``BREPFLOW_MAX_NODE_SECONDS`` is set (the team hub sets
        it for every kernel, from the quota ``node_seconds``) and this call chooses neither
        ``isolated`` nor ``executor`` (and the graph's evaluator runs nodes in this
        process), the graph is evaluated isolated: only a worker process can be stopped,
        since an OCCT call cannot be interrupted in this one. A node still running at the
        limit then fails with TIMEOUT naming the node and the limit, its worker is
        replaced, and the rest of the graph carries on (see
        :mod:`brepflow_lab.engine.dask_executor`). ``isolated=False`` or
        ``executor="sync"`` opts out and runs in this process: a node that took longer
        than the limit is then only reported, with a :class:`~brepflow_lab.engine.limits.NodeTimeWarning`.
        The same happens when this server may not start Dask workers
        (``BREPFLOW_MAX_DASK_WORKERS=0`` and no scheduler or gateway) and inside a Dask
        worker (a sweep variant: the sweep enforces the limit there). The limit guards the
        designer against a runaway node; the machine's fairness (CPU, memory, processes) is
        enforced by the user's cgroup on the hub, wherever nodes run.

        The Studio (:mod:`brepflow_lab.widgets.studio`) evaluates on its own evaluator and
        makes the same choice for its background evaluations (a stuck node would also
        freeze the kernel there): with the limit set, its nodes run on the Dask executor.
        """
        limit = node_time_limit()  # a bad BREPFLOW_MAX_NODE_SECONDS raises LimitError, whatever runs where
        base_dir = self.path.parent.resolve() if self.path is not None else Path.cwd()
        run_on = None
        if isolated or executor is not None:
            run_on = resolve_executor("dask" if executor is None else executor)
            if isolated and not is_concurrent(run_on):
                raise ValueError(
                    f"isolated=True runs nodes in worker processes, but executor={executor!r} runs them in "
                    "this process: pass executor='dask', a DaskExecutor, or no executor"
                )
        elif isolated is None and limit is not None:
            run_on = executor_for_time_limit(self.evaluator.executor)  # None: stays in this process
        if self._doc.nodes:
            cq()  # import the geometry kernel up front, so node timings stay honest
        result = self.evaluator.evaluate(
            self._doc,
            overrides=parameters,
            use_cache=cache,
            targets=[_node_id(t) for t in targets] if targets else None,
            base_dir=base_dir,
            output_dir=Path(output_dir).resolve() if output_dir is not None else base_dir,
            allow_unsafe_paths=allow_unsafe_paths,
            executor=run_on,
        )
        result.provenance = provenance.record(
            graph_path=self.path, document_json=bflow.to_json(self._doc), parameters=result.parameters
        )
        self.last_result = result
        if limit is not None and not is_concurrent(run_on if run_on is not None else self.evaluator.executor):
            warn_slow_nodes(result, limit)
        return result

    def on(self, listener: Any) -> Any:
        """Subscribe to engine events; returns an unsubscribe function."""
        return self.evaluator.events.subscribe(listener)

    # -- saving -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return bflow.to_json(self._doc)

    def dumps(self) -> str:
        return bflow.dumps(self._doc)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save atomically (temp file + rename). Without ``path``, saves where it was loaded."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("this graph has no file yet: pass a path, e.g. g.save('part.bflow.json')")
        written = bflow.dump(self._doc, target)
        self.path = written
        self._saved_doc = self._doc
        return written

    # -- display ------------------------------------------------------------------------
    def __repr__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"<Graph{where}: {len(self._doc.nodes)} nodes, {len(self._doc.edges)} edges, units={self._doc.units}>"

    def _repr_html_(self) -> str:
        r = self.last_result
        rows = []
        for n in self._doc.nodes:
            status, seconds, error = "", "", ""
            if r is not None and n.id in r.nodes:
                nr = r.nodes[n.id]
                status, seconds = nr.status, f"{nr.seconds * 1000:.1f} ms"
                error = html.escape(str(nr.error)) if nr.error else ""
            params = ", ".join(f"{k}={v!r}" for k, v in n.params.items())
            rows.append(
                f"<tr><td><code>{html.escape(n.id)}</code></td><td>{html.escape(n.type)}</td>"
                f"<td>{html.escape(params)}</td><td>{status}</td><td style='text-align:right'>{seconds}</td>"
                f"<td>{error}</td></tr>"
            )
        params = ", ".join(f"@{k}={p.value!r}" for k, p in self._doc.parameters.items())
        return (
            f"<p><b>BrepFlow graph</b> {html.escape(str(self.path or ''))} &mdash; {len(self._doc.nodes)} nodes, "
            f"units {self._doc.units}{'; parameters: ' + html.escape(params) if params else ''}</p>"
            "<table><thead><tr><th>node</th><th>type</th><th>params</th><th>status</th><th>time</th><th>error</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )


def _node_id(endpoint: Endpoint) -> str:
    if isinstance(endpoint, NodeHandle):
        return endpoint.id
    if isinstance(endpoint, tuple):
        return endpoint[0].id
    return str(endpoint)


def _to_json_value(value: Any) -> Any:
    """Accept Python-friendly values: tuples become {x, y, z} vectors."""
    if isinstance(value, tuple) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
        return {"x": value[0], "y": value[1], "z": value[2]}
    if isinstance(value, Path):
        return str(value)
    return value
