"""The worker side of a sweep: evaluate, measure and export one variant.

These functions run in Dask worker processes (or in this process with ``executor="sync"``).
A worker keeps the last few graphs it was sent (parsed, with their evaluator) so that the
variants of one sweep reuse its param resolution and cache.

A variant evaluates in the worker's own thread, node after node, and announces each node
(and then measuring and exporting) to the sweep's pool, which applies the time limit per
node (``BREPFLOW_MAX_NODE_SECONDS``) to each of them: see :mod:`brepflow_lab.engine.dask_pool`.
"""

from __future__ import annotations

import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from brepflow_lab.core.errors import BrepFlowError, ErrorCode
from brepflow_lab.engine.dask_pool import phase_started
from brepflow_lab.engine.executors import NodeOutcome, NodeTask, run_task
from brepflow_lab.kernel import exchange, hashing
from brepflow_lab.nodes.registry import Registry, catalogue
from brepflow_lab.runners import warm_worker  # re-exported: the sweep's workers run it first
from brepflow_lab.session import GraphSession

__all__ = ["run_variant", "warm_worker"]


_WORKER_GRAPHS: OrderedDict[str, Any] = OrderedDict()
_WORKER_GRAPHS_MAX = 4


class _AnnouncingExecutor:
    """Runs nodes in this thread, as the sync executor does, announcing each one first.

    The announcement restarts the time limit of the sweep job (a no-op outside one), so
    the limit applies per node inside a variant.
    """

    name = "sync"

    def execute(self, task: NodeTask) -> NodeOutcome:
        phase_started(node_id=task.ctx.node_id, node_type=task.ctx.node_type)
        return run_task(task)


_ANNOUNCING = _AnnouncingExecutor()


def _worker_graph(payload: dict[str, Any]) -> GraphSession:
    key = payload["key"]
    graph = _WORKER_GRAPHS.get(key)
    if graph is not None:
        _WORKER_GRAPHS.move_to_end(key)
        return graph
    specs = payload["specs"]
    registry = catalogue
    if specs is not None:
        registry = Registry()
        registry._loaded = True  # exactly the specs of the sweeping graph's registry
        for spec in specs:
            registry.register(spec, replace=True)
    graph = GraphSession.from_json(payload["graph"], registry=registry)
    if payload["path"]:
        graph.path = Path(payload["path"])
    _WORKER_GRAPHS[key] = graph
    while len(_WORKER_GRAPHS) > _WORKER_GRAPHS_MAX:
        _WORKER_GRAPHS.popitem(last=False)
    return graph


def run_variant(
    payload: dict[str, Any], index: int, overrides: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """Evaluate, measure and export one variant (in a worker, or in this process)."""
    start = time.perf_counter()
    row: dict[str, Any] = {"index": index, "status": "failed", "exports": {}, "shape": None}
    try:
        graph = _worker_graph(payload)
        with tempfile.TemporaryDirectory(prefix="brepflow-variant-") as tmp:
            result = graph.evaluate(
                parameters=overrides or None,
                targets=sorted({node for node, _ in options["targets"]}) or None,
                output_dir=Path(tmp),
                allow_unsafe_paths=options["allow_unsafe_paths"],
                executor=_ANNOUNCING,  # in this process (thread), whatever the environment asks
            )
            row["resolved"] = {k: v for k, v in result.parameters.items() if k in overrides or k in options["columns"]}
            failed = next((nr for nr in result.nodes.values() if nr.status == "failed"), None)
            if failed is None:
                failed = next((nr for nr in result.nodes.values() if not nr.ok), None)
            if failed is not None:
                error = failed.error
                row["error_code"] = error.code.value if error is not None else ErrorCode.INTERNAL_ERROR.value
                row["error_node"] = failed.node_id
                row["error_message"] = str(error) if error is not None else f"node '{failed.node_id}' {failed.status}"
            else:
                phase_started(what="measuring and exporting the result")
                _measure_and_export(row, result, tmp, options)
    except BrepFlowError as exc:
        row["status"] = "failed"
        row["error_code"] = exc.code.value
        row["error_node"] = getattr(exc, "node_id", None)
        row["error_message"] = str(exc)
    except Exception as exc:  # a bug must not stop the sweep: report it on this variant
        row["status"] = "failed"
        row["error_code"] = ErrorCode.INTERNAL_ERROR.value
        row["error_message"] = f"unexpected {type(exc).__name__}: {exc}"
    row["seconds"] = time.perf_counter() - start
    return row


def _measure_and_export(row: dict[str, Any], result: Any, tmp: str, options: dict[str, Any]) -> None:
    if not options["targets"]:  # a graph without shapes: its status is the result
        row["status"] = "ok"
        return
    items: list[Any] = []
    for node, socket in options["targets"]:
        value = result.nodes[node].outputs.get(socket)
        items.extend(value if isinstance(value, list) else [value])
    if not items or any(item is None for item in items):
        row["error_code"] = ErrorCode.GEOM_EMPTY_RESULT.value
        row["error_message"] = "the result has no shape"
        return
    shape = items[0] if len(items) == 1 else exchange.combine_parts(items)
    summary = hashing.shape_summary(shape)
    row["volume"] = summary["volume"]
    row["area"] = summary["area"]
    row["bbox"] = [*summary["bbox"]["min"], *summary["bbox"]["max"]]
    row["fingerprint"] = summary["fingerprint"]
    diagonal = max(summary.get("diagonal") or 1.0, 1e-6)
    for fmt in options["formats"]:
        path = Path(tmp) / "export" / f"{options['stem']}.{fmt}"
        path.parent.mkdir(exist_ok=True)
        try:
            exchange.export_shape(shape, path, fmt, tolerance=diagonal * options["quality"])
        except Exception as exc:
            row["error_code"] = ErrorCode.EXPORT_ERROR.value
            row["error_message"] = f"export as {fmt} failed: {exc}"
            return
        for written in sorted(path.parent.iterdir()):  # glTF may write a .bin next to it
            if written.name not in row["exports"]:
                row["exports"][written.name] = written.read_bytes()
    if options["keep_shapes"]:
        row["shape"] = shape
    row["status"] = "ok"
