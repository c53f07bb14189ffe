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

Time limit (``time_limit=`` seconds, the per-node limit of :mod:`.limits`). The clock of a
job starts when it starts *running* on its worker, not when it is submitted: a job first
tells the scheduler it started (a short round trip from the worker thread, made before the
job's own code runs, so a node that then holds the interpreter in an OCCT call cannot
delay it) and the scheduler forwards that to this client (a Dask event topic). Time spent
waiting for a worker — a fresh worker still importing cadquery, say — is not counted. A
job may announce *phases* with :func:`phase_started` (a sweep variant announces each
node): each phase restarts the clock and names what was running. A job still running when
its clock passes the limit is reported as a :class:`JobTimeout` at once; its future is
cancelled and the worker process running it is killed through its nanny (``SIGKILL``:
the node's thread cannot be interrupted), which starts a fresh worker as it does after a
crash (``Client.restart_workers`` is the fallback when that fails). Until the worker has
gone, no job is pinned to it; a job of ours that died with it anyway is a bystander and
is restarted once. A job cancelled while running (a superseded evaluation, an interrupted
sweep) is still watched: its worker gets no new job while it runs, and is stopped if it
runs past the limit — otherwise it would hold that worker for ever.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["Completion", "FuturePool", "JobCancelled", "JobTimeout", "WorkerCrash", "phase_started"]

log = logging.getLogger(__name__)

_CRASH_GRACE = 0.25  # s to collect the other jobs a dying worker took down with it
_REFRESH = 1.0  # s between looks at the scheduler's worker list
_STRANDED_AFTER = 2.0  # s a pinned worker must have been gone before its job is restarted
_START_ALLOWANCE = 120.0  # s a timed job may go unannounced (its worker never said it started)
_SUBSCRIBE_WAIT = 10.0  # s to wait for the scheduler to confirm our event subscription
_ANNOUNCE_TIMEOUT = 10.0  # s a worker waits for the scheduler to take a start announcement
_STOPPED_FOR = 120.0  # s a stopped worker is kept out of use unless it is seen gone sooner
_TIMED_WAIT = 0.25  # s: longest wait() of a pool with a time limit, so deadlines are checked


class WorkerCrash(Exception):
    """The worker process running a job died (OCCT abort, segfault, killed for memory...)."""

    def __init__(self, worker: str, detail: str = "") -> None:
        self.worker = worker
        self.detail = detail
        super().__init__(f"the worker process {worker} died while running it" + (f"; {detail}" if detail else ""))


class JobCancelled(Exception):
    """The job was cancelled on the cluster by someone else (another client, a restart)."""


class JobTimeout(Exception):
    """The job (or its current phase) ran longer than the pool's time limit; its worker was stopped.

    ``node_id`` / ``node_type`` / ``what`` describe the phase that was running, when the
    job announced one (a sweep variant announces each node).
    """

    def __init__(
        self,
        limit: float,
        ran: float,
        worker: str,
        *,
        node_id: str | None = None,
        node_type: str | None = None,
        what: str | None = None,
    ) -> None:
        self.limit = limit
        self.ran = ran
        self.worker = worker
        self.node_id = node_id
        self.node_type = node_type
        self.what = what
        super().__init__(
            f"{self.describe()} ran longer than {limit:g} s; the worker process {worker} running it was stopped"
        )

    def describe(self) -> str:
        """What was running: ``"node 'fillet' (Features::Fillet)"``, a phase, or ``"the job"``."""
        if self.node_id:
            return f"node '{self.node_id}'" + (f" ({self.node_type})" if self.node_type else "")
        return self.what or "the job"


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
    key: str = ""  # of its current future
    submitted: float = 0.0  # time.monotonic() when its current future was submitted


# --------------------------------------------------------------------------- the worker side

_current = threading.local()  # the announcer of the timed job running in this (worker) thread


class _Announcer:
    """Worker side of a timed job: tells this client (through the scheduler) when a phase starts."""

    def __init__(self, topic: str, key: str) -> None:
        self.topic = topic
        self.key = key
        try:
            from distributed import get_worker

            self.worker: Any = get_worker()
        except Exception:  # not in a Dask worker: nothing to tell
            self.worker = None

    def phase(self, **what: str | None) -> None:
        """Announce a start and wait until the scheduler has it (before the phase's code runs)."""
        worker = self.worker
        if worker is None:
            return
        msg: dict[str, Any] = {"key": self.key, "worker": worker.address, "pid": os.getpid()}
        msg.update({k: v for k, v in what.items() if v is not None})
        try:
            from distributed.utils import sync

            sync(worker.loop, worker.scheduler.log_event, topic=self.topic, msg=msg, callback_timeout=_ANNOUNCE_TIMEOUT)
        except Exception:  # the pool then counts from submission, with an allowance
            log.debug("could not announce the start of %s", self.key, exc_info=True)

    def done(self) -> None:
        if self.worker is not None:
            try:
                self.worker.log_event(self.topic, {"key": self.key, "done": True})
            except Exception:
                log.debug("could not announce the end of %s", self.key, exc_info=True)


def _timed_call(topic: str, key: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Worker side: announce the start, then run ``fn(*args)`` (which may announce phases)."""
    announcer = _Announcer(topic, key)
    announcer.phase()
    previous = getattr(_current, "announcer", None)
    _current.announcer = announcer
    try:
        return fn(*args)
    finally:
        _current.announcer = previous
        announcer.done()


def phase_started(*, node_id: str | None = None, node_type: str | None = None, what: str | None = None) -> None:
    """From inside a job: a new phase starts now (its time limit restarts). A no-op elsewhere."""
    announcer = getattr(_current, "announcer", None)
    if announcer is not None:
        announcer.phase(node_id=node_id, node_type=node_type, what=what)


def _kill_worker_process(pid: int | None, dask_worker: Any = None) -> str:
    """Run on a worker's *nanny*: kill its worker process (if it is still ``pid``); the nanny restarts it."""
    current = getattr(dask_worker, "pid", None)
    if current is None or (pid is not None and current != pid):
        return "gone"  # already dead, or already replaced: nothing of ours runs there
    os.kill(current, getattr(signal, "SIGKILL", signal.SIGTERM))
    return "killed"


# --------------------------------------------------------------------------- the client side


class _Watch:
    """One per client: when our timed jobs started, jobs cancelled while running, workers we stopped.

    Event handlers run on the client's event loop thread; pools read from their own thread.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self.topic = f"brepflow-jobs-{uuid.uuid4().hex}"
        self._lock = threading.Lock()
        self._started: dict[str, tuple[float, dict[str, Any]]] = {}
        self._orphans: dict[str, float] = {}  # key -> time limit, for jobs cancelled while running
        self._stopped: dict[str, tuple[float, bool]] = {}  # worker -> (when, seen gone since)
        self._confirmed = threading.Event()
        client.subscribe_topic(self.topic, self._on_event)
        # the subscription travels on another connection than log_event: wait until it is live
        deadline = time.monotonic() + _SUBSCRIBE_WAIT
        while not self._confirmed.is_set() and time.monotonic() < deadline:
            try:
                client.log_event(self.topic, {"ping": True})
            except Exception:
                log.debug("could not confirm the subscription to %s", self.topic, exc_info=True)
                break
            self._confirmed.wait(0.05)
        if not self._confirmed.is_set():
            log.warning("the Dask scheduler did not confirm our job events: time limits count from submission")

    def _on_event(self, event: Any) -> None:
        _, msg = event
        if not isinstance(msg, dict) or msg.get("ping"):
            self._confirmed.set()
            return
        key = str(msg.get("key"))
        with self._lock:
            if msg.get("done"):
                self._started.pop(key, None)
                self._orphans.pop(key, None)
            else:
                self._started[key] = (time.monotonic(), msg)

    def started(self, key: str) -> tuple[float, dict[str, Any]] | None:
        with self._lock:
            return self._started.get(key)

    def forget(self, key: str) -> None:
        with self._lock:
            self._started.pop(key, None)

    # -- jobs cancelled while running -----------------------------------------------------
    def adopt(self, key: str, limit: float) -> None:
        """Keep watching a job that was cancelled while running: stop its worker at its deadline."""
        with self._lock:
            started = self._started.get(key)
            if started is None:
                return  # not started (it never will), or already done
            self._orphans[key] = limit
        timer = threading.Timer(max(0.0, started[0] + limit - time.monotonic()) + 0.05, self.reap)
        timer.daemon = True
        timer.start()

    def reap(self) -> None:
        """Stop the workers of cancelled jobs that are still running past their limit."""
        now = time.monotonic()
        late: list[dict[str, Any]] = []
        with self._lock:
            for key, limit in list(self._orphans.items()):
                started = self._started.get(key)
                if started is None:
                    del self._orphans[key]
                elif now - started[0] > limit:
                    del self._orphans[key]
                    del self._started[key]
                    late.append(started[1])
        for info in late:
            log.debug("a cancelled job still ran past its limit on %s", info.get("worker"))
            self.stop_worker(str(info.get("worker")), info.get("pid"))

    # -- workers --------------------------------------------------------------------------
    def unavailable(self) -> set[str]:
        """Workers not to give jobs to: being stopped, or still running a cancelled job of ours."""
        now = time.monotonic()
        with self._lock:
            out = {w for w, (when, gone) in self._stopped.items() if not gone and now - when < _STOPPED_FOR}
            out.update(str(self._started[k][1].get("worker")) for k in self._orphans if k in self._started)
        return out

    def was_stopped(self, worker: str) -> bool:
        """True if we stopped ``worker`` lately (jobs that died with it were bystanders)."""
        with self._lock:
            entry = self._stopped.get(worker)
        return entry is not None and time.monotonic() - entry[0] < _STOPPED_FOR

    def settle(self, workers: dict[str, int]) -> None:
        """Note which stopped workers have left the scheduler (a new one may reuse the address)."""
        now = time.monotonic()
        with self._lock:
            for worker, (when, gone) in list(self._stopped.items()):
                if now - when > 10 * _STOPPED_FOR:
                    del self._stopped[worker]
                elif not gone and worker not in workers:
                    self._stopped[worker] = (when, True)

    def stop_worker(self, worker: str, pid: int | None, futures: list[Any] | None = None) -> None:
        """Cancel ``futures`` and kill ``worker``'s process, in the background (the nanny replaces it)."""
        with self._lock:
            entry = self._stopped.get(worker)
            already = entry is not None and not entry[1] and time.monotonic() - entry[0] < _STOPPED_FOR
            if not already:
                self._stopped[worker] = (time.monotonic(), False)
        thread = threading.Thread(
            target=self._stop, args=(worker, pid, futures or [], already), name="brepflow-stop-worker", daemon=True
        )
        thread.start()

    def _stop(self, worker: str, pid: int | None, futures: list[Any], already: bool) -> None:
        client = self._client
        if futures:
            try:  # first, so that no cluster retries the job elsewhere when its worker dies
                client.cancel(futures)
            except Exception:
                log.debug("cancelling a job past its time limit failed", exc_info=True)
        if already:
            return
        try:
            if worker not in {str(w) for w in client.nthreads()}:
                return  # it has gone already (died, or was replaced): nothing left to stop
            answer = client.run(_kill_worker_process, pid, workers=[worker], nanny=True, on_error="return")
            result = answer.get(worker) if isinstance(answer, dict) else answer
            if result in ("killed", "gone"):
                log.info("stopped the Dask worker %s (%s): a job ran past its time limit", worker, result)
                return
            log.debug("the nanny of %s did not kill it: %r", worker, result)
        except Exception:
            log.debug("asking the nanny of %s to kill it failed", worker, exc_info=True)
        try:
            client.restart_workers([worker], timeout=120, raise_for_error=False)
        except Exception:
            log.warning(
                "could not stop the Dask worker %s, which runs a job past its time limit", worker, exc_info=True
            )


_watch_lock = threading.Lock()


def _watch_of(client: Client, *, create: bool) -> _Watch | None:
    with _watch_lock:
        watch: _Watch | None = getattr(client, "_brepflow_watch", None)
        if watch is None and create:
            watch = _Watch(client)
            client._brepflow_watch = watch  # type: ignore[attr-defined]
        return watch


def _status(future: Any) -> str:
    return "raised" if future is None or isinstance(future, BaseException) else str(future.status)


class FuturePool:
    """See the module docstring. Not thread-safe: one thread submits and waits."""

    def __init__(self, client: Client, capacity: int | None = None, *, time_limit: float | None = None) -> None:
        self._client = client
        self._fixed_capacity = capacity
        self._limit = time_limit
        # the client's watch: made by the first pool with a time limit, then seen by every pool
        self._watch = _watch_of(client, create=time_limit is not None)
        self._held: list[int] = []  # jobs waiting for a worker (every worker busy or being stopped)
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
            if self._watch is not None:
                self._watch.settle(self._threads)
        return self._threads

    def _unavailable(self) -> set[str]:
        return self._watch.unavailable() if self._watch is not None else set()

    @property
    def capacity(self) -> int:
        """How many jobs to keep in flight: the cluster's threads (at least 1), less workers being stopped."""
        if self._fixed_capacity is not None:
            return self._fixed_capacity
        unavailable = self._unavailable()
        return max(1, sum(n for w, n in self._workers().items() if w not in unavailable))

    def _free_worker(self) -> str | None:
        best, best_free = None, 0
        unavailable = self._unavailable()
        for address, threads in self._workers().items():
            if address in unavailable:
                continue
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
        if job.key and self._watch is not None:
            self._watch.forget(job.key)
        if pin and worker is None and self._unavailable():
            # every worker is busy or being stopped: wait for one rather than queue on a dying worker
            job.future, job.worker = None, None
            if token not in self._held:
                self._held.append(token)
            return
        where: dict[str, Any] = {"workers": [worker], "allow_other_workers": False} if worker else {}
        call: tuple[Any, ...] = (job.fn, *job.args)
        if self._limit is not None and self._watch is not None:
            call = (_timed_call, self._watch.topic, key, *call)
        try:
            future = self._client.submit(*call, key=key, pure=False, retries=0, **where)
        except Exception as exc:  # e.g. an argument that cannot be pickled
            job.future = exc
            self._done.put(token)
            return
        job.future = future
        job.worker = worker
        job.key = key
        job.submitted = time.monotonic()
        log.debug("job %d (%s) started as %s on %s", token, job.name, key, worker)
        if worker is not None:
            self._busy[worker] = self._busy.get(worker, 0) + 1
        future.add_done_callback(lambda _f, t=token: self._done.put(t))

    # -- collecting -----------------------------------------------------------------------
    def _start_held(self) -> None:
        held, self._held = self._held, []
        for token in held:
            job = self._jobs.get(token)
            if job is not None:
                self._start(token, job)

    def wait(self, timeout: float) -> list[Completion]:
        """What completed since the last call, waiting up to ``timeout`` s for the first."""
        if self._held:
            self._start_held()
        if self._watch is not None:
            self._watch.reap()
        if self._limit is not None:
            timeout = min(timeout, _TIMED_WAIT)
        out = self._wait(timeout)
        if self._limit is not None:
            out.extend(self._expire())
        return out

    def _wait(self, timeout: float) -> list[Completion]:
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
                self._forget(job)
                out.append(Completion(token, False, exc))
        else:
            del self._jobs[token]
            self._forget(job)
            out.append(Completion(token, False, JobCancelled("the job was cancelled on the cluster")))

    def _settle_crashes(self, killed: list[int], out: list[Completion]) -> None:
        by_worker: dict[str, list[int]] = {}
        for token in killed:
            exc = self._jobs[token].future.exception()
            last = exc.last_worker if hasattr(exc, "last_worker") else None
            worker = str(getattr(last, "address", last) or "?")
            by_worker.setdefault(worker, []).append(token)
        for worker, tokens in by_worker.items():
            # several jobs died together, or we stopped that worker (a job past its time limit)
            shared = len(tokens) > 1 or (self._watch is not None and self._watch.was_stopped(worker))
            log.debug("worker %s died with jobs %s", worker, tokens)
            for token in tokens:
                job = self._jobs[token]
                if shared and not job.retried:
                    job.retried = True  # it may have been a bystander: try once more
                    self._start(token, job)
                    continue
                del self._jobs[token]
                self._forget(job)
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
            self._forget(job)

    def _forget(self, job: _Job) -> None:
        if job.key and self._watch is not None:
            self._watch.forget(job.key)

    # -- the time limit -------------------------------------------------------------------
    def _expire(self) -> list[Completion]:
        """Report the jobs running past the time limit, and stop the workers running them."""
        limit, watch = self._limit, self._watch
        if limit is None or watch is None or not self._jobs:
            return []
        now = time.monotonic()
        out: list[Completion] = []
        for token, job in list(self._jobs.items()):
            if job.future is None or isinstance(job.future, BaseException):
                continue  # held, or failed to submit
            started = watch.started(job.key)
            if started is not None:
                since, info = started
                if now - since <= limit:
                    continue
            else:  # its start was never announced: count from submission, with an allowance
                since, info = job.submitted, {}
                if now - since <= limit + _START_ALLOWANCE:
                    continue
            if _status(job.future) != "pending":
                continue  # it finished in time; the next wait() reports it
            worker = str(info.get("worker") or job.worker or "?")
            del self._jobs[token]
            self._release(job)
            watch.forget(job.key)
            log.debug("job %d (%s) passed its %g s limit on %s", token, job.name, limit, worker)
            watch.stop_worker(worker, info.get("pid"), [job.future])
            job.future = None
            timeout = JobTimeout(
                limit,
                now - since,
                worker,
                node_id=info.get("node_id"),
                node_type=info.get("node_type"),
                what=info.get("what"),
            )
            out.append(Completion(token, False, timeout))
        return out

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
                self._forget(job)
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
        """Cancel every job still in flight; their outcomes are never reported.

        With a time limit, jobs that already run stay watched (see the module docstring).
        """
        futures = [
            j.future for j in self._jobs.values() if j.future is not None and not isinstance(j.future, BaseException)
        ]
        if self._limit is not None and self._watch is not None:
            for job in self._jobs.values():
                if job.key:
                    self._watch.adopt(job.key, self._limit)
        self._jobs.clear()
        self._busy.clear()
        self._held.clear()
        if futures:
            try:
                self._client.cancel(futures)
            except Exception:  # the client may be closing: nothing left to cancel then
                log.debug("cancelling %d futures failed", len(futures), exc_info=True)

    def close(self) -> None:
        self.cancel()
