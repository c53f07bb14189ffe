"""The evaluation engine (no OCP, no Jupyter): plan, cache keys, caches, executors, events."""

from brepflow_lab.engine.cache import Cache, MemoryCache, default_cache
from brepflow_lab.engine.evaluator import EvaluationResult, Evaluator, NodeResult, Stats
from brepflow_lab.engine.events import (
    EvaluationFinished,
    EvaluationStarted,
    Event,
    EventBus,
    NodeFailed,
    NodeFinished,
    NodeStarted,
)
from brepflow_lab.engine.executors import Executor, NodeOutcome, NodeTask, SyncExecutor

__all__ = [
    "Cache",
    "EvaluationFinished",
    "EvaluationResult",
    "EvaluationStarted",
    "Evaluator",
    "Event",
    "EventBus",
    "Executor",
    "MemoryCache",
    "NodeFailed",
    "NodeFinished",
    "NodeOutcome",
    "NodeResult",
    "NodeStarted",
    "NodeTask",
    "Stats",
    "SyncExecutor",
    "default_cache",
]
