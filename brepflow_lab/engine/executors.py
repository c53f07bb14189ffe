"""Executors run node tasks; the evaluator decides what runs and when.

Two shapes of executor share one protocol:

* :class:`Executor` — ``execute(task)`` runs one task and returns its outcome.
  :class:`SyncExecutor` runs it in the calling thread (the default, and the fastest path
  for interactive work: no copies, no process hop).
* :class:`ConcurrentExecutor` — an executor that can also run several *ready* tasks at
  once. It opens a :class:`TaskPool`: the evaluator submits ready tasks (at most
  :attr:`TaskPool.capacity` at a time, in topological order) and collects outcomes as
  they complete, then submits what became ready. The Dask executor
  (:mod:`brepflow_lab.engine.dask_executor`) is one.

The pool is *pull*-based (``wait(timeout)`` returns what completed, possibly nothing) so
the evaluator keeps control of the loop: it emits events on its own thread, checks for
supersession between completions, and stops a run promptly even while a long task is
still running elsewhere. Outcomes carry plain data; every executor turns a node's failure
into the outcome's ``error`` and never raises for it, so one failing node never stops its
siblings. Exceptions that are not our typed errors (a bug, or an OCCT exception the kernel
did not translate) become INTERNAL_ERROR / GEOM_OPERATION_FAIL with the node named.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from brepflow_lab.core.errors import ErrorCode, NodeError

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import NodeContext, NodeSpec

__all__ = [
    "ConcurrentExecutor",
    "Executor",
    "NodeOutcome",
    "NodeTask",
    "SyncExecutor",
    "TaskPool",
    "is_concurrent",
    "run_task",
]


@dataclass
class NodeTask:
    spec: NodeSpec
    ctx: NodeContext
    inputs: dict[str, Any]
    params: dict[str, Any]
    key: str = ""


@dataclass
class NodeOutcome:
    outputs: dict[str, Any] = field(default_factory=dict)
    error: NodeError | None = None
    seconds: float = 0.0


class Executor(Protocol):
    name: str

    def execute(self, task: NodeTask) -> NodeOutcome: ...


class TaskPool(Protocol):
    """Tasks in flight for one evaluation (see the module docstring)."""

    @property
    def capacity(self) -> int:
        """How many tasks the pool wants in flight at once (>= 1)."""
        ...

    def submit(self, task: NodeTask) -> int:
        """Start ``task``; returns a token that :meth:`wait` reports it under."""
        ...

    def wait(self, timeout: float) -> list[tuple[int, NodeOutcome]]:
        """Outcomes completed since the last call; waits up to ``timeout`` s for the first one."""
        ...

    def cancel(self) -> None:
        """Forget every task still in flight (their outcomes are never reported)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ConcurrentExecutor(Protocol):
    name: str

    def execute(self, task: NodeTask) -> NodeOutcome: ...

    def open_pool(self) -> TaskPool: ...


def is_concurrent(executor: object) -> bool:
    """True for executors that can run ready tasks concurrently (they have ``open_pool``)."""
    return callable(getattr(executor, "open_pool", None))


def _classify(exc: BaseException) -> ErrorCode:
    module = type(exc).__module__ or ""
    if module.startswith("OCP") or type(exc).__name__.startswith(("Standard_", "StdFail_")):
        return ErrorCode.GEOM_OPERATION_FAIL
    return ErrorCode.INTERNAL_ERROR


def run_task(task: NodeTask) -> NodeOutcome:
    """Run one task, turning every failure into a typed NodeError on the outcome."""
    start = time.perf_counter()
    ctx = task.ctx
    try:
        outputs = task.spec.run(ctx, task.inputs, task.params)
        return NodeOutcome(outputs=outputs, seconds=time.perf_counter() - start)
    except NodeError as exc:
        if exc.node_id is None:
            exc.node_id = ctx.node_id
        if exc.node_type is None:
            exc.node_type = ctx.node_type
        return NodeOutcome(error=exc, seconds=time.perf_counter() - start)
    except RecursionError:
        err = ctx.error(ErrorCode.INTERNAL_ERROR, "recursion too deep while evaluating this node")
        return NodeOutcome(error=err, seconds=time.perf_counter() - start)
    except Exception as exc:
        code = _classify(exc)
        text = str(exc).strip() or type(exc).__name__
        if code is ErrorCode.GEOM_OPERATION_FAIL:
            message = f"the geometry kernel (OCCT) failed: {text}"
        else:
            message = f"unexpected {type(exc).__name__}: {text}"
        return NodeOutcome(error=ctx.error(code, message), seconds=time.perf_counter() - start)


class SyncExecutor:
    name = "sync"

    def execute(self, task: NodeTask) -> NodeOutcome:
        return run_task(task)

    def __repr__(self) -> str:
        return "<SyncExecutor: nodes run in this process, one after another>"
