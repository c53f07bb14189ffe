"""Jobs in flight on a Dask cluster, one per worker thread, reported as they complete.

:class:`FuturePool` is what the Dask executor (node tasks) and sweeps (whole variants)
submit through. Three rules make a crashing job fail alone:

* at most :attr:`FuturePool.capacity` jobs are in flight — the cluster's thread count;
* each job is pinned to a worker with a thread free of our other jobs, so a worker holds
  at most one of ours. The scheduler alone, placing by occupancy, was seen to put two on
  one worker, and work stealing moves *loosely* restricted tasks, so the pin is strict;
* results are gathered as soon as a job finishes and its future is then released, so a
  worker that dies later loses nothing we still need (nothing to recompute).

When a worker dies (``KilledWorker``), the job it ran is reported as a :class:`WorkerCrash`.
If several of our jobs died with the same worker (possible on clusters we do not configure,
with several threads per worker) each is retried once, and only one that dies again is
reported. A job whose pinned worker vanished while it waited or ran (on clusters that
retry such tasks it would wait in ``no-worker`` for a worker that never comes back) is
restarted once on another worker; if that worker dies too, it is reported as a crash.
"""

from __future__ import annotations

import itertools
import logging
import queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["Completion", "FuturePool", "JobCancelled", "WorkerCrash"]

log = logging.getLogger(__name__)

_CRASH_GRACE = 0.25  # s to collect the other jobs a dying worker took down with it
_REFRESH = 1.0  # s between looks at the scheduler's worker list
_STRANDED_AFTER = 2.0  # s a pinned worker must have been gone before its job is restarted


class WorkerCrash(Exception):
    """The worker process running a job died (OCCT abort, segfault, killed for memory...)."""

    def __init__(self, worker: str, detail: str = "") -> None:
        self.worker = worker
        self.detail = detail
        super().__init__(f"the worker process {worker} died while running it" + (f"; {detail}" if detail else ""))


class JobCancelled(Exception):
    """The job was cancelled on the cluster by someone else (another client, a restart)."""


@dataclass
class Completion:
    """One finished job: ``value`` is the result, or the exception when ``ok`` is False."""

    token: int
    ok: bool
    value: Any


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    name: str
    future: Any = None
    worker: str | None = None  # where we pinned it
    retried: bool = False


def _status(future: Any) -> str:
    return "raised" if future is None or isinstance(future, BaseException) else str(future.status)


class FuturePool:
    """See the module docstring. Not thread-safe: one thread submits and waits."""

    def __init__(self, client: Client, capacity: int | None = None) -> None:
        self._client = client
        self._fixed_capacity = capacity
        self._threads: dict[str, int] = {}
        self._threads_at = -1.0
        self._busy: dict[str, int] = {}
        self._gone: dict[str, float] = {}  # worker -> when we first saw it missing
        self._done: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._jobs: dict[int, _Job] = {}
        self._tokens = itertools.count()

    # -- workers ------------------------------------------------------------------------
    def _workers(self, *, fresh: bool = False) -> dict[str, int]:
        now = time.monotonic()
        if fresh or now - self._threads_at > _REFRESH:
            try:
                self._threads = {str(k): int(v) for k, v in self._client.nthreads().items()}
            except Exception:  # scheduler busy or reconnecting: keep the last view
                log.debug("could not ask the scheduler for its workers", exc_info=True)
            self._threads_at = now
            for gone in set(self._busy) - set(self._threads):
                del self._busy[gone]
        return self._threads

    @property
    def capacity(self) -> int:
        """How many jobs to keep in flight: the cluster's threads (at least 1)."""
        if self._fixed_capacity is not None:
            return self._fixed_capacity
        return max(1, sum(self._workers().values()))

    def _free_worker(self) -> str | None:
        best, best_free = None, 0
        for address, threads in self._workers().items():
            free = threads - self._busy.get(address, 0)
            if free > best_free:
                best, best_free = address, free
        return best

    def _release(self, job: _Job) -> None:
        if job.worker is not None and self._busy.get(job.worker, 0) > 0:
            self._busy[job.worker] -= 1
        job.worker = None

    # -- submitting -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._jobs)

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "brepflow") -> int:
        """Start ``fn(*args)`` on the cluster; returns the token :meth:`wait` reports it under."""
        token = next(self._tokens)
        job = _Job(fn, args, name)
        self._jobs[token] = job
        self._start(token, job)
        return token

    def _start(self, token: int, job: _Job, *, pin: bool = True) -> None:
        key = f"{job.name}-{uuid.uuid4().hex}"
        worker = self._free_worker() if pin else None
        where: dict[str, Any] = {"workers": [worker], "allow_other_workers": False} if worker else {}
        try:
            future = self._client.submit(job.fn, *job.args, key=key, pure=False, retries=0, **where)
        except Exception as exc:  # e.g. an argument that cannot be pickled
            job.future = exc
            self._done.put(token)
            return
        job.future = future
        job.worker = worker
        log.debug("job %d (%s) started as %s on %s", token, job.name, key, worker)
        if worker is not None:
            self._busy[worker] = self._busy.get(worker, 0) + 1
        future.add_done_callback(lambda _f, t=token: self._done.put(t))

    # -- collecting -----------------------------------------------------------------------
    def wait(self, timeout: float) -> list[Completion]:
        """What completed since the last call, waiting up to ``timeout`` s for the first."""
        try:
            tokens = [self._done.get(timeout=timeout)]
        except queue.Empty:
            # a callback can run while a future is between states ("lost" after its worker
            # died, then "error"): look at every job in flight, not only at the callbacks
            tokens = [t for t, j in self._jobs.items() if _status(j.future) in ("finished", "error", "cancelled")]
            if not tokens:
                return self._rescue_stranded()
        out: list[Completion] = []
        finished: list[int] = []
        killed: list[int] = []
        self._drain(tokens, finished, out, killed)
        if killed:  # a worker died: give its other victims a moment to be reported too
            deadline = time.monotonic() + _CRASH_GRACE
            while time.monotonic() < deadline:
                try:
                    more = [self._done.get(timeout=max(0.0, deadline - time.monotonic()))]
                except queue.Empty:
                    break
                self._drain(more, finished, out, killed)
            self._settle_crashes(killed, out)
        if finished:
            self._gather(finished, out)
        return out

    def _drain(self, tokens: list[int], finished: list[int], out: list[Completion], killed: list[int]) -> None:
        while True:
            try:
                tokens.append(self._done.get_nowait())
            except queue.Empty:
                break
        seen = {c.token for c in out} | set(finished) | set(killed)
        for token in dict.fromkeys(tokens):
            if token not in seen:
                self._collect(token, finished, out, killed)

    def _collect(self, token: int, finished: list[int], out: list[Completion], killed: list[int]) -> None:
        job = self._jobs.get(token)
        if job is None:
            return  # cancelled, or a callback of a future we replaced
        future = job.future
        if isinstance(future, BaseException):
            del self._jobs[token]
            out.append(Completion(token, False, future))
            return
        status = future.status
        log.debug("job %d reported %s", token, status)
        if status not in ("finished", "error", "cancelled"):
            return  # a stale callback: the job was restarted and is running again
        self._release(job)
        if status == "finished":
            finished.append(token)
        elif status == "error":
            exc = future.exception()
            if type(exc).__name__ == "KilledWorker":
                killed.append(token)
            else:
                del self._jobs[token]
                out.append(Completion(token, False, exc))
        else:
            del self._jobs[token]
            out.append(Completion(token, False, JobCancelled("the job was cancelled on the cluster")))

    def _settle_crashes(self, killed: list[int], out: list[Completion]) -> None:
        by_worker: dict[str, list[int]] = {}
        for token in killed:
            exc = self._jobs[token].future.exception()
            last = exc.last_worker if hasattr(exc, "last_worker") else None
            worker = str(getattr(last, "address", last) or "?")
            by_worker.setdefault(worker, []).append(token)
        for worker, tokens in by_worker.items():
            shared = len(tokens) > 1
            log.debug("worker %s died with jobs %s", worker, tokens)
            for token in tokens:
                job = self._jobs[token]
                if shared and not job.retried:
                    job.retried = True  # it may have been a bystander: try once more
                    self._start(token, job)
                    continue
                del self._jobs[token]
                detail = "it killed a second worker when retried" if job.retried else ""
                out.append(Completion(token, False, WorkerCrash(worker, detail)))

    def _gather(self, tokens: list[int], out: list[Completion]) -> None:
        jobs = [self._jobs.pop(t) for t in tokens]
        try:
            values = self._client.gather([j.future for j in jobs])
        except Exception:
            values = None
        if values is not None:
            out.extend(Completion(t, True, v) for t, v in zip(tokens, values))
        else:
            for token, job in zip(tokens, jobs):  # find which one failed to come back
                try:
                    out.append(Completion(token, True, job.future.result()))
                except Exception as exc:
                    out.append(Completion(token, False, exc))
        for job in jobs:
            job.future = None  # release the result on the cluster: we have it now

    def _rescue_stranded(self) -> list[Completion]:
        """Restart (once) a job whose pinned worker is gone; report it if that happens again.

        On clusters that retry a task whose worker died (dask's default), the retry of a
        strictly pinned task waits for the dead worker: restarting it elsewhere is the
        retry. A job stranded a second time has now taken two workers down with it.
        """
        out: list[Completion] = []
        pinned = [(t, j) for t, j in self._jobs.items() if j.worker is not None]
        if not pinned:
            return out
        workers = self._workers()
        now = time.monotonic()
        for token, job in pinned:
            if job.worker in workers or _status(job.future) != "pending":
                continue
            # the scheduler's word that the job failed with its worker may still be on its way
            if now - self._gone.setdefault(job.worker or "?", now) < _STRANDED_AFTER:
                continue
            stale, lost = job.future, job.worker or "?"
            self._release(job)
            if job.retried:
                del self._jobs[token]
                out.append(Completion(token, False, WorkerCrash(lost, "it killed a second worker when retried")))
            else:
                job.retried = True
                log.debug("job %d lost its worker %s before finishing: restarting it", token, lost)
                self._start(token, job)
            try:
                stale.cancel()
            except Exception:  # the client may be reconnecting; the key is ours alone
                log.debug("cancelling a stranded job failed", exc_info=True)
        return out

    # -- stopping -------------------------------------------------------------------------
    def cancel(self) -> None:
        """Cancel every job still in flight; their outcomes are never reported."""
        futures = [
            j.future for j in self._jobs.values() if j.future is not None and not isinstance(j.future, BaseException)
        ]
        self._jobs.clear()
        self._busy.clear()
        if futures:
            try:
                self._client.cancel(futures)
            except Exception:  # the client may be closing: nothing left to cancel then
                log.debug("cancelling %d futures failed", len(futures), exc_info=True)

    def close(self) -> None:
        self.cancel()
