"""Executors run one node task; the evaluator decides what runs and when.

:class:`SyncExecutor` runs in the calling thread (the default). Every executor returns a
:class:`NodeOutcome` and never raises for a node's failure: a node error becomes the
outcome's ``error`` so one failing node never stops its siblings. Exceptions that are not
our typed errors (a bug, or an OCCT exception the kernel did not translate) become
INTERNAL_ERROR / GEOM_OPERATION_FAIL with the node named.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from brepflow_lab.errors import ErrorCode, NodeError

if TYPE_CHECKING:
    from brepflow_lab.nodes.spec import NodeContext, NodeSpec

__all__ = ["Executor", "NodeOutcome", "NodeTask", "SyncExecutor", "run_task"]


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
