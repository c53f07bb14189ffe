"""One background thread running named, debounced tasks for a Studio.

The Studio must never block the kernel's message loop on geometry: evaluation,
tessellation and mesh publishing run here. Tasks are named (``"sync"``, ``"evaluate"``,
``"publish"``); requesting a task that is already pending moves its due time to
``now + delay`` — that *is* the debounce (a slider drag fires many requests, the task
runs once, ``delay`` after the last one). Tasks that are due run in a fixed order, so a
graph sync always reaches the browser before the meshes of the evaluation it caused.

A task that raises is reported to ``on_error`` and the loop carries on: one bad
evaluation must not leave a Studio that no longer evaluates anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

__all__ = ["TaskLoop"]

log = logging.getLogger(__name__)


class TaskLoop:
    def __init__(
        self,
        tasks: dict[str, Callable[[], None]],
        order: Sequence[str],
        *,
        on_error: Callable[[str, BaseException], None] | None = None,
        name: str = "brepflow-studio",
    ) -> None:
        unknown = set(order) ^ set(tasks)
        if unknown:
            raise ValueError(f"order and tasks must name the same tasks; mismatch: {sorted(unknown)}")
        self._tasks = dict(tasks)
        self._order = list(order)
        self._on_error = on_error
        self._due: dict[str, float] = {}
        self._cond = threading.Condition()
        self._current: str | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def request(self, task: str, delay: float = 0.0) -> None:
        """Run ``task`` ``delay`` seconds from now (replacing its pending due time)."""
        if task not in self._tasks:
            raise KeyError(f"unknown task {task!r}")
        with self._cond:
            if self._stopped:
                return
            self._due[task] = time.monotonic() + max(0.0, delay)
            self._cond.notify_all()

    def pending(self, task: str) -> bool:
        with self._cond:
            return task in self._due

    @property
    def current(self) -> str | None:
        """The task running right now, if any."""
        return self._current

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._stopped or (not self._due and self._current is None), timeout)

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopped = True
            self._due.clear()
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _next(self) -> list[str] | None:
        with self._cond:
            while not self._stopped:
                if self._due:
                    wait = min(self._due.values()) - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            if self._stopped:
                return None
            now = time.monotonic()
            ready = [t for t in self._order if self._due.get(t, now + 1) <= now]
            for task in ready:
                del self._due[task]
            return ready

    def _run(self) -> None:
        while True:
            ready = self._next()
            if ready is None:
                return
            for task in ready:
                with self._cond:
                    if self._stopped:
                        return
                    self._current = task
                try:
                    self._tasks[task]()
                except BaseException as exc:
                    if self._on_error is not None:
                        try:
                            self._on_error(task, exc)
                        except Exception:
                            log.exception("error handler failed for task %s", task)
                    else:
                        log.exception("studio task %s failed", task)
                finally:
                    with self._cond:
                        self._current = None
                        self._cond.notify_all()
