"""Evaluation events. Widgets subscribe; the engine never imports widget code.

Listeners are called synchronously on the evaluating thread, in order; a listener that
raises is logged and removed from nothing — its error never breaks an evaluation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EvaluationFinished",
    "EvaluationStarted",
    "Event",
    "EventBus",
    "NodeFailed",
    "NodeFinished",
    "NodeStarted",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    run_id: int


@dataclass(frozen=True)
class EvaluationStarted(Event):
    node_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeStarted(Event):
    node_id: str = ""
    node_type: str = ""


@dataclass(frozen=True)
class NodeFinished(Event):
    node_id: str = ""
    status: str = "ok"  # ok | cached
    seconds: float = 0.0


@dataclass(frozen=True)
class NodeFailed(Event):
    node_id: str = ""
    status: str = "failed"  # failed | skipped | cancelled
    error: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationFinished(Event):
    stats: dict[str, Any] = field(default_factory=dict)
    superseded: bool = False


Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        if not self._listeners:
            return
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break evaluation
                log.exception("event listener %r failed on %s", listener, type(event).__name__)
