"""Where nodes and sweep variants run: choosing an executor, and the time limit per node.

* :func:`resolve_executor` turns what a caller asks for (``"sync"``, ``"dask"``, an
  executor, ``workers=N``, ``scheduler=ADDRESS``) into an executor; ``"dask"`` without more
  is the environment's cluster (:mod:`brepflow_lab.engine.dask_executor`), whose workers are
  warmed up by :func:`warm_worker`.
* :func:`executor_for_time_limit` is where an evaluation must run for the hub's
  ``BREPFLOW_MAX_NODE_SECONDS`` to be enforced (only a worker process can be stopped);
  ``Graph.evaluate`` and the Studio both ask it. Where it cannot be enforced, nodes that ran
  too long are reported (:class:`~brepflow_lab.engine.limits.NodeTimeWarning`).

This sits above the engine (it warms workers up with the kernel and the catalogue, which
the engine never imports) and below the notebook session and sweeps, which both use it.
The Dask executor module is imported only when a Dask executor is asked for: it pulls in
``distributed``.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

from brepflow_lab.engine import EvaluationResult
from brepflow_lab.engine.executors import Executor, SyncExecutor, is_concurrent
from brepflow_lab.engine.limits import NodeTimeLimit, NodeTimeWarning, node_time_limit

__all__ = ["executor_for_time_limit", "resolve_executor", "warm_worker", "warn_slow_nodes"]

log = logging.getLogger(__name__)


def warm_worker() -> None:
    """Run once per worker process: import cadquery and everything a variant needs.

    The slow imports (cadquery ~3 s, OCCT's exchange modules, jsonschema for reading
    graphs) happen here, when the worker starts, not in the first node or variant.
    """
    # imported here on purpose: this function *is* the worker's import step
    from brepflow_lab.graph import bflow
    from brepflow_lab.kernel import cq, exchange, hashing
    from brepflow_lab.nodes.registry import catalogue

    cq()
    catalogue.types()
    bflow.loads('{"version": "0.1.0", "units": "mm", "tolerance": 0.001, "nodes": [], "edges": []}')
    del exchange, hashing  # imported for their OCP modules


def resolve_executor(executor: Any = None, *, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """An executor from a name, an instance, ``workers=N`` or ``scheduler=ADDRESS``.

    ``None`` / ``"dask"``: the environment's Dask cluster (see
    :func:`brepflow_lab.engine.dask_executor.default_executor`); ``"sync"`` or
    ``workers=0``: this process, one variant after another. ``None`` also means this
    process when the hub's quota allows no Dask workers of one's own and no scheduler or
    gateway is configured (``"dask"`` then fails with that reason).
    """
    if workers is not None and scheduler is not None:
        raise ValueError("pass workers= (a local cluster) or scheduler= (an existing one), not both")
    if executor is not None and not isinstance(executor, str):
        if workers is not None or scheduler is not None:
            raise ValueError("pass either an executor or workers=/scheduler=, not both")
        return executor
    if executor not in (None, "dask", "sync"):
        raise ValueError(f"executor must be 'dask', 'sync' or an Executor; got {executor!r}")
    if executor == "sync" or workers == 0:
        return SyncExecutor()
    from brepflow_lab.engine import dask_executor  # imports distributed: only when Dask is asked for

    if scheduler is not None:
        return dask_executor.scheduler_executor(scheduler, warmup=warm_worker)
    if workers is not None:
        return dask_executor.local_executor(workers, warmup=warm_worker)
    if executor is None and dask_executor.no_workers_allowed():
        log.warning(
            "your hub quota allows no Dask workers of your own (%s=0): running in this process",
            dask_executor.ENV_MAX_WORKERS,
        )
        return SyncExecutor()
    return dask_executor.default_executor(warmup=warm_worker)


def _in_dask_worker() -> bool:
    if "distributed" not in sys.modules:
        return False
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


_warned_no_isolation = False


def _can_isolate() -> bool:
    """Whether an evaluation may move to Dask workers to have its time limit enforced."""
    global _warned_no_isolation
    if _in_dask_worker():
        return False  # a sweep variant: the sweep's pool enforces the limit
    from brepflow_lab.engine.dask_executor import ENV_MAX_WORKERS, no_workers_allowed  # imports distributed

    if no_workers_allowed():
        if not _warned_no_isolation:
            _warned_no_isolation = True
            log.warning(
                "BREPFLOW_MAX_NODE_SECONDS is set, but this server may not start Dask workers (%s=0): "
                "nodes run in this process, where a node past the limit can only be reported",
                ENV_MAX_WORKERS,
            )
        return False
    return True


def executor_for_time_limit(executor: Any) -> Any | None:
    """Where nodes must run for ``BREPFLOW_MAX_NODE_SECONDS`` to be enforced, or None.

    None when no limit is set, when ``executor`` already runs nodes in worker processes, or
    when this server may not start any (see :func:`_can_isolate`); else the environment's
    Dask executor (started on first use). Shared by :meth:`Graph.evaluate` and the Studio.
    """
    if node_time_limit() is None or is_concurrent(executor) or not _can_isolate():
        return None
    return resolve_executor("dask")


def warn_slow_nodes(result: EvaluationResult, limit: NodeTimeLimit, *, stacklevel: int = 3) -> None:
    """Report nodes that ran in this process for longer than the limit (nothing could stop them).

    ``stacklevel`` 3 points the warning at the caller of ``Graph.evaluate``."""
    if _in_dask_worker():
        return
    for nr in result.nodes.values():
        if nr.status in ("ok", "failed") and nr.seconds > limit.seconds:
            warnings.warn(
                NodeTimeWarning(
                    f"node '{nr.node_id}' ({nr.node_type}) ran {nr.seconds:.1f} s in this process, longer than "
                    f"{limit.describe()}; a node cannot be stopped in this process — evaluate with "
                    "isolated=True (worker processes) to have the limit enforced"
                ),
                stacklevel=stacklevel,
            )
