"""The evaluator: plan, dirty propagation, per-node status, timing and errors.

One evaluation walks the graph in topological order (file order breaks ties). For each
node it resolves params, computes the node's content key (:mod:`.keys`) from its type,
version, resolved params and the keys of what feeds it, and then either takes the
outputs from the cache (status ``cached``) or runs the node (``ok`` / ``failed``).
Dirty propagation falls out of the keys: change one parameter and only the nodes whose
key changes — the ones downstream of it — run again; everything else is a cache hit.

Failures stay local. A node that fails records a typed error; nodes that need its
outputs are ``skipped`` (UPSTREAM_FAILED, naming the failed node); independent
branches carry on. Validation problems that concern one node (unknown type, unknown
socket, dangling link, missing ``@param``, bad param, cycle) fail that node alone, so a
partly broken file still evaluates everything else.

Re-evaluating an unchanged graph must be cheap (≤ 50 ms for 1,000 nodes): validation is
memoised per document snapshot, and each node's resolved params and key are memoised
against (node object, values of the globals it uses, upstream keys), so an unchanged
node costs a few dictionary look-ups.

A newer ``evaluate`` call supersedes a running one at the next node boundary: the
older run stops, marks the rest ``cancelled`` and returns ``superseded=True``.

Two ways to run the plan, one set of rules. With an ordinary executor (the default
:class:`~.executors.SyncExecutor`) nodes run one after another in topological order. With
a concurrent executor (it has ``open_pool``, e.g. the Dask executor) the evaluator keeps a
ready set: a node becomes ready when everything it links to is finished; ready nodes are
prepared in topological order (params, key, cache look-up — a cache hit never leaves this
process), the misses are submitted up to the pool's capacity, and each completion releases
its dependents. Both paths share :meth:`Evaluator._prepare` and :meth:`Evaluator._finish`,
so statuses, errors, keys, cache writes and events are the same; only the interleaving
of independent branches differs. ``NodeStarted`` means "handed to the executor".
"""

from __future__ import annotations

import heapq
import html
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brepflow_lab.core.errors import ErrorCode, NodeError, Problem
from brepflow_lab.engine.cache import Cache, default_cache
from brepflow_lab.engine.events import (
    EvaluationFinished,
    EvaluationStarted,
    EventBus,
    NodeFailed,
    NodeFinished,
    NodeStarted,
)
from brepflow_lab.engine.executors import Executor, NodeOutcome, NodeTask, SyncExecutor, is_concurrent
from brepflow_lab.engine.keys import node_key
from brepflow_lab.graph.algorithms import find_cycles, topological_order, upstream
from brepflow_lab.graph.model import GraphDocument, Node
from brepflow_lab.graph.resolve import ParamProblem, param_references, resolve_globals, resolve_param
from brepflow_lab.graph.validate import validate
from brepflow_lab.nodes.spec import NodeContext

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import NodeSpec

__all__ = ["EvaluationResult", "Evaluator", "NodeResult", "Stats"]

_NOT_FATAL = {ErrorCode.EDGE_MISMATCH}


@dataclass
class NodeResult:
    node_id: str
    node_type: str
    status: str = "pending"  # ok | cached | failed | skipped | cancelled
    seconds: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)
    error: NodeError | None = None
    key: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "cached")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "seconds": round(self.seconds, 6),
            "cache": "hit" if self.status == "cached" else ("miss" if self.status == "ok" else None),
        }
        if self.error is not None:
            out["error"] = {"code": self.error.code.value, "message": str(self.error)}
        return out


@dataclass
class Stats:
    ran: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.ran + self.cached + self.failed + self.skipped + self.cancelled

    def to_dict(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "cached": self.cached,
            "failed": self.failed,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 6),
        }


class EvaluationResult(Mapping[str, dict[str, Any]]):
    """``r[node_id]`` → that node's outputs; ``r.nodes[node_id]`` → its :class:`NodeResult`."""

    def __init__(
        self,
        run_id: int,
        nodes: dict[str, NodeResult],
        stats: Stats,
        parameters: dict[str, Any],
        problems: list[Problem],
        superseded: bool = False,
        executor: str = "sync",
        dashboard_link: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.nodes = nodes
        self.stats = stats
        self.parameters = parameters
        self.problems = problems
        self.superseded = superseded
        self.executor = executor  # name of the executor that ran the nodes ("sync", "dask")
        self.dashboard_link = dashboard_link  # the Dask dashboard, when a cluster ran them
        # how this result was made (brepflow_lab.provenance.record); set by Graph.evaluate
        self.provenance: dict[str, Any] | None = None

    def __getitem__(self, node_id: str) -> dict[str, Any]:
        result = self.nodes[node_id]
        if not result.ok:
            if result.error is not None:
                raise result.error
            raise KeyError(f"node '{node_id}' was {result.status}")
        return result.outputs

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.nodes.values()) and not self.superseded

    @property
    def errors(self) -> dict[str, NodeError]:
        return {k: r.error for k, r in self.nodes.items() if r.error is not None and r.status == "failed"}

    def status(self, node_id: str) -> str:
        return self.nodes[node_id].status

    def output(self, node_id: str, socket: str | None = None) -> Any:
        outputs = self[node_id]
        if socket is None:
            if len(outputs) != 1:
                raise KeyError(f"node '{node_id}' has outputs {sorted(outputs)}; name one")
            return next(iter(outputs.values()))
        return outputs[socket]

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"<EvaluationResult {len(self.nodes)} nodes: {s.ran} ran, {s.cached} cached, {s.failed} failed, "
            f"{s.skipped} skipped in {s.seconds * 1000:.1f} ms>"
        )

    def _repr_html_(self) -> str:
        colours = {"ok": "#2e7d32", "cached": "#1565c0", "failed": "#c62828", "skipped": "#9e9e9e"}
        rows = []
        for r in self.nodes.values():
            err = html.escape(str(r.error)) if r.error else ""
            rows.append(
                f"<tr><td><code>{html.escape(r.node_id)}</code></td><td>{html.escape(r.node_type)}</td>"
                f"<td style='color:{colours.get(r.status, '#000')};font-weight:600'>{r.status}</td>"
                f"<td style='text-align:right'>{r.seconds * 1000:.1f} ms</td><td>{err}</td></tr>"
            )
        s = self.stats
        where = ""
        if self.executor != "sync":
            where = f" on {html.escape(self.executor)}"
            if self.dashboard_link:
                link = html.escape(self.dashboard_link, quote=True)
                where += f" (<a href='{link}' target='_blank'>dashboard</a>)"
        head = (
            f"<p><b>{s.ran}</b> ran, <b>{s.cached}</b> cached, <b>{s.failed}</b> failed, "
            f"<b>{s.skipped}</b> skipped &mdash; {s.seconds * 1000:.1f} ms{where}</p>"
        )
        return (
            head + "<table><thead><tr><th>node</th><th>type</th><th>status</th><th>time</th><th>error</th></tr>"
            "</thead><tbody>" + "".join(rows) + "</tbody></table>"
        )


@dataclass
class _Memo:
    node: Node
    refs: tuple[str, ...]
    gsig: tuple[Any, ...]
    units: str
    params: dict[str, Any]
    up_sig: tuple[Any, ...] | None = None
    key: str | None = None


@dataclass
class _Run:
    """The state of one evaluation, shared by the sequential and the concurrent loop."""

    run_id: int
    doc: GraphDocument
    by_id: dict[str, Node]
    duplicates: set[str]
    cycle_nodes: dict[str, list[str]]
    fatal: dict[str, Problem]
    globals_: dict[str, Any]
    global_problems: dict[str, str]
    use_cache: bool
    base_dir: Path | None
    output_dir: Path | None
    allow_unsafe_paths: bool
    stopped: Callable[[], bool]
    results: dict[str, NodeResult]
    stats: Stats = field(default_factory=Stats)


class Evaluator:
    """Evaluates graph snapshots against one catalogue, cache and executor."""

    def __init__(
        self,
        catalogue: Any,
        *,
        cache: Cache | None = None,
        executor: Executor | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.cache: Cache = cache if cache is not None else default_cache()
        self.executor: Executor = executor or SyncExecutor()
        self.events = events or EventBus()
        self._generation = 0
        self._lock = threading.Lock()
        self._memo: dict[str, _Memo] = {}
        self._validated: tuple[GraphDocument, tuple[Any, ...], list[Problem], dict[str, Any], dict[str, str]] | None = (
            None
        )

    # -- supersession -------------------------------------------------------------------
    def supersede(self) -> None:
        """Ask a running evaluation to stop at the next node boundary."""
        with self._lock:
            self._generation += 1

    def _check(
        self, doc: GraphDocument, overrides: Mapping[str, Any] | None
    ) -> tuple[list[Problem], dict[str, Any], dict[str, str]]:
        sig = tuple(sorted((overrides or {}).items(), key=lambda kv: kv[0]))
        cached = self._validated
        if cached is not None and cached[0] is doc and cached[1] == sig:
            return cached[2], cached[3], cached[4]
        problems = validate(doc, self.catalogue, overrides=overrides)
        globals_, global_problems = resolve_globals(doc, overrides)
        self._validated = (doc, sig, problems, globals_, global_problems)
        return problems, globals_, global_problems

    def evaluate(
        self,
        doc: GraphDocument,
        *,
        overrides: Mapping[str, Any] | None = None,
        use_cache: bool = True,
        targets: list[str] | None = None,
        base_dir: Path | None = None,
        output_dir: Path | None = None,
        allow_unsafe_paths: bool = False,
        should_stop: Callable[[], bool] | None = None,
        executor: Executor | None = None,
    ) -> EvaluationResult:
        """Evaluate ``doc``; ``executor`` overrides this evaluator's executor for this run."""
        executor = executor if executor is not None else self.executor
        with self._lock:
            self._generation += 1
            generation = self._generation
            run_id = generation
        start = time.perf_counter()
        problems, globals_, global_problems = self._check(doc, overrides)

        def stopped() -> bool:
            return self._generation != generation or (should_stop is not None and should_stop())

        by_id: dict[str, Node] = {}
        duplicates: set[str] = set()
        for n in doc.nodes:
            if n.id in by_id:
                duplicates.add(n.id)
            by_id[n.id] = n
        deps = {nid: n.upstream_ids() for nid, n in by_id.items()}
        cycle_nodes: dict[str, list[str]] = {}
        for cycle in find_cycles(deps):
            for nid in cycle:
                cycle_nodes[nid] = cycle
        # Nodes on a cycle wait for nothing (they fail at once); everything else waits for
        # every existing node it links to — including cycle nodes, so that a node fed by a
        # cycle is always reported as skipped because of it, in either loop.
        plan: dict[str, set[str]] = {}
        for nid, ups in deps.items():
            plan[nid] = set() if nid in cycle_nodes else {u for u in ups if u in by_id}
        order = topological_order(plan)
        if targets is not None:
            wanted = upstream(deps, targets)
            order = [nid for nid in order if nid in wanted]

        fatal: dict[str, Problem] = {}
        for p in problems:
            if p.severity == "error" and p.node_id is not None and p.code not in _NOT_FATAL and p.node_id not in fatal:
                fatal[p.node_id] = p

        run = _Run(
            run_id=run_id,
            doc=doc,
            by_id=by_id,
            duplicates=duplicates,
            cycle_nodes=cycle_nodes,
            fatal=fatal,
            globals_=globals_,
            global_problems=global_problems,
            use_cache=use_cache,
            base_dir=base_dir,
            output_dir=output_dir,
            allow_unsafe_paths=allow_unsafe_paths,
            stopped=stopped,
            results={nid: NodeResult(nid, by_id[nid].type) for nid in order},
        )
        self.events.emit(EvaluationStarted(run_id, tuple(order)))
        if is_concurrent(executor):
            superseded = self._run_concurrent(run, order, plan, executor)
        else:
            superseded = self._run_sequential(run, order, executor)

        # forget memos of nodes that no longer exist
        if len(self._memo) > len(by_id):
            for stale in set(self._memo) - set(by_id):
                del self._memo[stale]
        stats = run.stats
        stats.seconds = time.perf_counter() - start
        self.events.emit(EvaluationFinished(run_id, stats.to_dict(), superseded))
        return EvaluationResult(
            run_id,
            run.results,
            stats,
            dict(globals_),
            problems,
            superseded,
            executor=getattr(executor, "name", type(executor).__name__),
            dashboard_link=getattr(executor, "dashboard_link", None),
        )

    # -- the two loops --------------------------------------------------------------------
    def _run_sequential(self, run: _Run, order: list[str], executor: Executor) -> bool:
        results, stats, stopped = run.results, run.stats, run.stopped
        superseded = False
        for nid in order:
            if superseded or stopped():
                superseded = True
                results[nid].status = "cancelled"
                stats.cancelled += 1
                continue
            task = self._prepare(run, nid)
            if task is not None:
                self.events.emit(NodeStarted(run.run_id, nid, task.ctx.node_type))
                self._finish(run, nid, task, executor.execute(task))
        return superseded

    def _run_concurrent(self, run: _Run, order: list[str], plan: dict[str, set[str]], executor: Any) -> bool:
        position = {nid: i for i, nid in enumerate(order)}
        waiting: dict[str, int] = {}
        dependents: dict[str, list[str]] = {nid: [] for nid in order}
        ready: list[tuple[int, str]] = []
        for nid in order:
            ups = [u for u in plan[nid] if u in position]
            waiting[nid] = len(ups)
            for u in ups:
                dependents[u].append(nid)
            if not ups:
                ready.append((position[nid], nid))
        heapq.heapify(ready)

        def release(nid: str) -> None:
            for d in dependents[nid]:
                waiting[d] -= 1
                if waiting[d] == 0:
                    heapq.heappush(ready, (position[d], d))

        in_flight: dict[int, tuple[str, NodeTask]] = {}
        # A node whose key is already in flight (the same sub-graph twice) waits for it and
        # is then prepared again — a cache hit, as it would be in the sequential loop.
        flying: set[str] = set()
        parked: dict[str, list[str]] = {}
        superseded = False
        pool = executor.open_pool()
        try:
            while ready or in_flight:
                if run.stopped():
                    superseded = True
                    break
                while ready and len(in_flight) < pool.capacity and not run.stopped():
                    _, nid = heapq.heappop(ready)
                    task = self._prepare(run, nid)
                    if task is None:  # failed before running, or a cache hit
                        release(nid)
                        continue
                    shared = task.spec.cacheable and run.use_cache
                    if shared and task.key in flying:
                        parked.setdefault(task.key, []).append(nid)
                        continue
                    self.events.emit(NodeStarted(run.run_id, nid, task.ctx.node_type))
                    in_flight[pool.submit(task)] = (nid, task)
                    if shared:
                        flying.add(task.key)
                if not in_flight:
                    continue
                for token, outcome in pool.wait(0.05):
                    entry = in_flight.pop(token, None)
                    if entry is None:
                        continue
                    nid, task = entry
                    self._finish(run, nid, task, outcome)
                    flying.discard(task.key)
                    for waiter in parked.pop(task.key, ()):
                        heapq.heappush(ready, (position[waiter], waiter))
                    release(nid)
                    if run.stopped():  # supersession at the next node boundary
                        break
        finally:
            if superseded or in_flight:
                pool.cancel()
            pool.close()
        for nid in order:
            result = run.results[nid]
            if result.status == "pending":
                result.status = "cancelled"
                run.stats.cancelled += 1
        return superseded

    # -- one node -------------------------------------------------------------------------
    def _prepare(self, run: _Run, nid: str) -> NodeTask | None:
        """Params, key and cache look-up for one node whose upstream is finished.

        Returns the task to run (the caller emits ``NodeStarted`` when it hands it over),
        or None when the node is already settled (failed before running, or a cache hit) —
        its result and events are recorded here.
        """
        n = run.by_id[nid]
        result = run.results[nid]
        stats = run.stats
        results = run.results
        error = self._precheck(n, nid, run.duplicates, run.cycle_nodes, run.fatal, run.by_id, results)
        spec: NodeSpec | None = None
        if error is None:
            spec = self.catalogue.get(n.type)
            if spec is None:  # validation reports it; keep the guard for safety
                error = NodeError(ErrorCode.UNKNOWN_NODE_TYPE, f"unknown node type '{n.type}'")
        if error is not None:
            self._fail(result, error, n, stats, run.run_id)
            return None
        assert spec is not None
        doc = run.doc
        globals_ = run.globals_
        # params (memoised against node object + values of the globals it uses)
        memo = self._memo.get(nid)
        if memo is None or memo.node is not n or memo.units != doc.units:
            refs = set()
            for raw in n.params.values():
                refs |= param_references(raw)
            memo = _Memo(n, tuple(sorted(refs)), (), doc.units, {})
            memo.gsig = (object(),)  # force resolution
        gsig = tuple(globals_.get(r) for r in memo.refs)
        if gsig != memo.gsig:
            try:
                memo.params = self._resolve_params(spec, n, globals_, doc.units, run.global_problems)
            except NodeError as exc:
                self._memo.pop(nid, None)
                self._fail(result, exc, n, stats, run.run_id)
                return None
            memo.gsig = gsig
            memo.key = None
        self._memo[nid] = memo
        # inputs and key
        upstream_refs: list[tuple[str, list[tuple[str, str]]]] = []
        inputs: dict[str, Any] = {}
        for in_spec in spec.inputs:
            value = n.inputs.get(in_spec.name)
            if value is None:
                continue
            refs_ = value if isinstance(value, tuple) else (value,)
            collected: list[Any] = []
            key_refs: list[tuple[str, str]] = []
            for ref in refs_:
                up = results[ref.node_id]
                key_refs.append((up.key or "", ref.socket))
                out = up.outputs.get(ref.socket)
                if isinstance(out, list):
                    collected.extend(out)
                else:
                    collected.append(out)
            upstream_refs.append((in_spec.name, key_refs))
            if in_spec.multiple or isinstance(value, tuple) or len(collected) != 1:
                inputs[in_spec.name] = collected
            else:
                inputs[in_spec.name] = collected[0]
        up_sig = tuple((name, tuple(r)) for name, r in upstream_refs)
        if memo.key is None or memo.up_sig != up_sig:
            memo.key = node_key(spec.type, spec.version, memo.params, upstream_refs)
            memo.up_sig = up_sig
        key = memo.key
        result.key = key
        if spec.cacheable and run.use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                result.outputs = hit
                result.status = "cached"
                stats.cached += 1
                self.events.emit(NodeFinished(run.run_id, nid, "cached", 0.0))
                return None
        ctx = NodeContext(
            node_id=nid,
            node_type=n.type,
            units=doc.units,
            tolerance=doc.tolerance,
            base_dir=run.base_dir,
            output_dir=run.output_dir,
            allow_unsafe_paths=run.allow_unsafe_paths,
            cancelled=run.stopped,
        )
        return NodeTask(spec, ctx, inputs, dict(memo.params), key)

    def _finish(self, run: _Run, nid: str, task: NodeTask, outcome: NodeOutcome) -> None:
        result = run.results[nid]
        result.seconds = outcome.seconds
        if outcome.error is not None:
            self._fail(result, outcome.error, run.by_id[nid], run.stats, run.run_id)
            return
        result.outputs = outcome.outputs
        result.status = "ok"
        run.stats.ran += 1
        if task.spec.cacheable:
            self.cache.put(task.key, outcome.outputs)
        self.events.emit(NodeFinished(run.run_id, nid, "ok", outcome.seconds))

    # -- helpers ------------------------------------------------------------------------
    def _precheck(
        self,
        n: Node,
        nid: str,
        duplicates: set[str],
        cycle_nodes: dict[str, list[str]],
        fatal: dict[str, Problem],
        by_id: dict[str, Node],
        results: dict[str, NodeResult],
    ) -> NodeError | None:
        if nid in duplicates:
            return NodeError(ErrorCode.DUPLICATE_ID, f"several nodes share the id '{nid}'")
        if nid in cycle_nodes:
            cycle = cycle_nodes[nid]
            return NodeError(ErrorCode.CYCLE, "node is on a cycle: " + " -> ".join([*cycle, cycle[0]]))
        problem = fatal.get(nid)
        if problem is not None:
            return NodeError(problem.code, problem.message, param=problem.param)
        for _, ref in n.links():
            up = results.get(ref.node_id)
            if up is None or up.status == "pending":
                if ref.node_id not in by_id:
                    return NodeError(ErrorCode.INPUT_MISSING, f"linked node '{ref.node_id}' does not exist")
                return NodeError(ErrorCode.UPSTREAM_FAILED, f"upstream node '{ref.node_id}' did not run")
            if not up.ok:
                reason = up.error.code.value if up.error is not None and up.status == "failed" else up.status
                err = NodeError(ErrorCode.UPSTREAM_FAILED, f"upstream node '{ref.node_id}' {up.status} ({reason})")
                err.skipped = True  # type: ignore[attr-defined]
                return err
        return None

    def _resolve_params(
        self,
        spec: NodeSpec,
        n: Node,
        globals_: Mapping[str, Any],
        units: str,
        global_problems: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for p in spec.params:
            try:
                params[p.name] = resolve_param(p, n.params.get(p.name), globals_, units)
            except ParamProblem as exc:
                if exc.missing and global_problems and exc.missing in global_problems:
                    # the global exists but its value is unusable (out of its limits, a bad
                    # expression...): say that, not "not set"
                    message = global_problems[exc.missing]
                    raise NodeError(
                        ErrorCode.PARAM_INVALID, message, node_id=n.id, node_type=n.type, param=p.name
                    ) from None
                code = ErrorCode.PARAM_MISSING if exc.missing else ErrorCode.PARAM_INVALID
                raise NodeError(code, str(exc), node_id=n.id, node_type=n.type, param=p.name) from None
        return params

    def _fail(self, result: NodeResult, error: NodeError, n: Node, stats: Stats, run_id: int) -> None:
        if error.node_id is None:
            error.node_id = n.id
        if error.node_type is None:
            error.node_type = n.type
        result.error = error
        if getattr(error, "skipped", False):
            result.status = "skipped"
            stats.skipped += 1
        else:
            result.status = "failed"
            stats.failed += 1
        self.events.emit(NodeFailed(run_id, n.id, result.status, error.to_dict()))
