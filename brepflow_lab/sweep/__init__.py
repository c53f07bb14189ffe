"""Parameter sweeps: evaluate many variants of one graph, in parallel, into one table.

>>> table = g.sweep([{"L": 100}, {"L": 120, "wall": 3}])      # doctest: +SKIP
>>> table.to_dataframe()                                      # doctest: +SKIP

The matrix is a list of dicts, a pandas DataFrame or a CSV file (header = parameter names,
``@`` optional; an empty cell keeps the graph's value). Each row is one variant: its
global parameter overrides. The result is a :class:`SweepResult`, one row per variant in
matrix order: the parameters, status, error (code, node, message), volume, area, bounding
box, the canonical shape fingerprint, seconds and the exported files.

What a variant's result is. ``target`` names a node (``"enclosure"``, or
``"node.socket"``); by default the graph's *terminal shapes* are measured: shape outputs
that no other (non-export) node consumes, as ``brepflow-lab render`` exports them. Several
terminal shapes are measured and exported together, as one compound. Only the target's
upstream is evaluated: ``IO::Export*`` nodes of the graph do not run in a sweep (every
variant would overwrite the same file) — ask for ``export=`` instead, which writes one
file per variant and format. A graph with no shape output at all is evaluated whole and
only its status is reported.

Why whole variants go to the workers (not node tasks). A sweep's variants are
independent, so the unit of parallel work is the variant: each worker evaluates a
variant with its own :class:`~brepflow_lab.engine.Evaluator` and cache, then measures,
fingerprints and exports the result *there*, and sends back a few hundred bytes of
summary (plus the files, and the shape only if ``keep_shapes=True``). Node-level tasks
would ship every intermediate shape between processes and make this process schedule
every node of every variant; whole variants cost one task each, use the workers' caches
(variants that share upstream nodes — same ``L``, other ``inset`` — reuse them on that
worker), and keep this process idle. One variant runs per worker thread at a time, which
is also what isolates a crash to its own variant (KERNEL_CRASH, the worker is replaced,
the sweep goes on). A failing variant never stops the sweep. Ctrl-C (KeyboardInterrupt)
cancels the remaining variants: :class:`SweepInterrupted` (a KeyboardInterrupt) carries
the partial table, which the graph also keeps as ``g.last_sweep``.

The time limit per node (``BREPFLOW_MAX_NODE_SECONDS``, or the executor's
``max_node_seconds``) holds inside variants too: a variant announces each node it runs
(then measuring and exporting) and each of those phases gets the limit, counted on the
worker. A variant whose node passes it is a failed row with TIMEOUT naming that node; its
worker is stopped and replaced, and the sweep goes on. With ``executor="sync"`` variants
run in this process, where nothing can be stopped and the limit does not apply.

Files are written by this process from bytes the workers return, so a remote cluster
(another machine, dask-gateway) needs no shared file system.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from brepflow_lab import provenance
from brepflow_lab.core.errors import ErrorCode, GraphError
from brepflow_lab.engine.dask_pool import JobTimeout
from brepflow_lab.engine.limits import NodeTimeLimit
from brepflow_lab.graph import bflow
from brepflow_lab.graph.resolve import param_references
from brepflow_lab.nodes.registry import catalogue
from brepflow_lab.render import FORMATS, QUALITY, result_targets
from brepflow_lab.runners import resolve_executor, warm_worker
from brepflow_lab.session import GraphSession
from brepflow_lab.sweep.matrix import MatrixError, load_matrix
from brepflow_lab.sweep.table import (
    RESULT_COLUMNS,
    Progress,
    SweepInterrupted,
    SweepResult,
    VariantResult,
    write_atomically,
)
from brepflow_lab.sweep.variant import run_variant

__all__ = [
    "RESULT_COLUMNS",
    "MatrixError",
    "Progress",
    "SweepInterrupted",
    "SweepResult",
    "VariantResult",
    "load_matrix",
    "resolve_executor",
    "result_targets",
    "run_sweep",
    "run_variant",
    "warm_worker",
]

#: problems that no parameter value can fix: a sweep of such a graph is refused up front
_STRUCTURAL = {
    ErrorCode.FILE_MALFORMED,
    ErrorCode.SCHEMA_INVALID,
    ErrorCode.UNKNOWN_NODE_TYPE,
    ErrorCode.UNKNOWN_SOCKET,
    ErrorCode.DUPLICATE_ID,
    ErrorCode.DANGLING_EDGE,
    ErrorCode.PORT_TYPE_MISMATCH,
    ErrorCode.CYCLE,
}


# --------------------------------------------------------------------------- running


def _check_formats(export: str | Sequence[str] | None) -> list[str]:
    if export is None:
        return []
    items = export.split(",") if isinstance(export, str) else list(export)
    formats = [f.strip().lower().lstrip(".") for f in items if f and f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown export format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def _payload(graph: GraphSession) -> dict[str, Any]:
    text = graph.dumps()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    specs = None
    if graph.registry is not catalogue:
        specs = list(graph.registry)
        digest += f"-{id(graph.registry)}-{os.getpid()}-{time.time_ns()}"
    return {
        "graph": text,
        "key": digest,
        "specs": specs,
        "path": str(graph.path.resolve()) if graph.path is not None else None,
    }


def run_sweep(
    graph: GraphSession,
    matrix: Any,
    *,
    target: Any = None,
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    export: str | Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    quality: str = "medium",
    keep_shapes: bool = False,
    progress: bool | str = True,
    allow_unsafe_paths: bool = False,
    on_variant: Callable[[VariantResult], None] | None = None,
) -> SweepResult:
    """Evaluate every variant of ``matrix`` (see the module docstring); never stops on a failure."""
    known = set(graph.document.parameters)
    for n in graph.document.nodes:
        for raw in n.params.values():
            known |= param_references(raw)
    variants = load_matrix(matrix, known)
    structural = [p for p in graph.validate() if p.severity == "error" and p.code in _STRUCTURAL]
    if structural:
        raise GraphError(structural, str(graph.path) if graph.path else None)
    targets = result_targets(graph, target)
    formats = _check_formats(export)
    if quality not in QUALITY:
        raise ValueError(f"quality must be one of {', '.join(QUALITY)}; got {quality!r}")
    out_dir = Path(out).resolve() if out is not None else None
    if formats and out_dir is None:
        raise ValueError("export= needs out= (the folder to write the files to)")
    names: list[str] = []
    for v in variants:
        names.extend(k for k in v if k not in names)
    width = max(3, len(str(len(variants) - 1)))
    stem = targets[0][0] if len(targets) == 1 else "result"
    runner = resolve_executor(executor, workers=workers, scheduler=scheduler)
    payload = _payload(graph)
    made_by = _provenance(graph, targets, formats, quality)

    def options(index: int) -> dict[str, Any]:
        return {
            "targets": targets,
            "formats": formats,
            "quality": QUALITY[quality],
            "stem": f"{index:0{width}d}_{stem}",
            "keep_shapes": keep_shapes,
            "allow_unsafe_paths": allow_unsafe_paths,
            "columns": names,
        }

    results = [VariantResult(i, dict(v)) for i, v in enumerate(variants)]
    bar = Progress(len(results), progress)
    start = time.perf_counter()
    finished = 0
    failed = 0

    limit = getattr(runner, "node_time_limit", None) if hasattr(runner, "pool") else None

    def record(index: int, ok: bool, value: Any) -> None:
        nonlocal finished, failed
        vr = results[index]
        if not ok:
            vr.status = "failed"
            code = ErrorCode.INTERNAL_ERROR
            if isinstance(value, JobTimeout):
                code = ErrorCode.TIMEOUT
                within = limit if limit is not None else NodeTimeLimit(value.limit)
                message = (
                    f"{value.describe()} ran longer than {within.describe()}; the worker process evaluating this "
                    "variant was stopped (a fresh worker replaces it)"
                )
                vr.error_node = value.node_id
            elif type(value).__name__ == "WorkerCrash":
                code = ErrorCode.KERNEL_CRASH
                message = (
                    f"the worker process evaluating this variant crashed ({value}); OCCT may have aborted on "
                    "these parameters, or the worker ran out of memory. The worker was replaced"
                )
            else:
                message = f"the variant could not be run on the cluster: {type(value).__name__}: {value}"
            vr.error_code, vr.error_message = code.value, message
        else:
            _fill(vr, value, names, out_dir)
        finished += 1
        failed += vr.status == "failed"
        bar.update(finished, failed)
        if on_variant is not None:
            on_variant(vr)

    pool = None
    try:
        if hasattr(runner, "pool"):
            pool = runner.pool()
            queue_ = list(range(len(results)))
            in_flight: dict[int, int] = {}
            while queue_ or in_flight:
                while queue_ and len(in_flight) < pool.capacity:
                    index = queue_.pop(0)
                    token = pool.submit(
                        run_variant, payload, index, variants[index], options(index), name="brepflow-variant"
                    )
                    in_flight[token] = index
                for done in pool.wait(0.1):
                    record(in_flight.pop(done.token), done.ok, done.value)
        else:
            for index in range(len(results)):
                record(index, True, run_variant(payload, index, variants[index], options(index)))
    except KeyboardInterrupt:
        if pool is not None:
            pool.cancel()
        for vr in results:
            if vr.status == "pending":
                vr.status = "cancelled"
        bar.close(interrupted=True)
        table = _table(results, names, start, runner, out_dir, made_by, interrupted=True)
        raise SweepInterrupted(table) from None
    finally:
        if pool is not None:
            pool.close()
    bar.close()
    return _table(results, names, start, runner, out_dir, made_by)


def _provenance(
    graph: GraphSession, targets: list[tuple[str, str]], formats: list[str], quality: str
) -> dict[str, Any]:
    """The sweep's manifest.json head: how it was made (brepflow_lab.provenance) and its options."""
    defaults = {name: p.value for name, p in graph.document.parameters.items()}
    made = provenance.record(graph_path=graph.path, document_json=bflow.to_json(graph.document), parameters=defaults)
    made["defaults"] = made.pop("parameters")
    made["options"] = {"targets": [f"{n}.{s}" for n, s in targets], "export": formats, "quality": quality}
    return made


def _table(
    results: list[VariantResult],
    names: list[str],
    start: float,
    runner: Any,
    out_dir: Path | None,
    made_by: dict[str, Any] | None = None,
    *,
    interrupted: bool = False,
) -> SweepResult:
    table = SweepResult(
        results,
        names,
        seconds=time.perf_counter() - start,
        executor=getattr(runner, "name", type(runner).__name__),
        dashboard_link=getattr(runner, "dashboard_link", None),
        interrupted=interrupted,
        out_dir=out_dir,
    )
    if out_dir is not None:
        table.to_csv(out_dir / "results.csv")
        if made_by is not None:
            manifest = {
                "format": 2,
                "kind": "sweep",
                **made_by,
                "executor": table.executor,
                "seconds": round(table.seconds, 3),
                "interrupted": interrupted,
                "counts": table.counts(),
                "variants": [
                    {
                        "index": v.index,
                        "parameters": v.parameters,
                        "status": v.status,
                        "error_code": v.error_code,
                        "fingerprint": v.fingerprint,
                        "volume": v.volume,
                        "area": v.area,
                        "exports": list(v.exports),
                    }
                    for v in results
                ],
            }
            write_atomically(out_dir / "manifest.json", (json.dumps(manifest, indent=2, default=str) + "\n").encode())
    return table


def _fill(vr: VariantResult, row: dict[str, Any], names: list[str], out_dir: Path | None) -> None:
    resolved = row.get("resolved") or {}
    for name in names:
        if name not in vr.parameters and name in resolved:
            vr.parameters[name] = resolved[name]
    vr.status = row["status"]
    vr.error_code = row.get("error_code")
    vr.error_node = row.get("error_node")
    vr.error_message = row.get("error_message")
    vr.volume = row.get("volume")
    vr.area = row.get("area")
    bbox = row.get("bbox")
    vr.bbox = (bbox[0], bbox[1], bbox[2], bbox[3], bbox[4], bbox[5]) if bbox else None
    vr.fingerprint = row.get("fingerprint")
    vr.seconds = row.get("seconds")
    vr.shape = row.get("shape")
    if out_dir is not None:
        for filename, data in row.get("exports", {}).items():
            write_atomically(out_dir / filename, data)
            vr.exports.append(filename)
