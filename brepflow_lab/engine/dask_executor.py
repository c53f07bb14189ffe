"""Run node tasks on a ``dask.distributed`` cluster: parallel branches and crash isolation.

Where the cluster comes from (:func:`default_executor`, first match wins):

1. ``BREPFLOW_DASK_SCHEDULER=tcp://host:8786`` — connect to an existing scheduler;
2. ``BREPFLOW_DASK_GATEWAY=1`` (or a gateway URL) — a new dask-gateway cluster, e.g. the
   gateway behind the team's JupyterHub (its address and auth come from dask's own config,
   which the hub sets: ``DASK_GATEWAY__ADDRESS``...);
3. otherwise a :class:`~distributed.LocalCluster` of worker *processes* on this machine.

Graphs do not change: the same file evaluates on any of them, with the same results.

How a node crosses the process boundary. The evaluator (in this process) decides what
runs, resolves params and computes keys; the cache is consulted here, before anything is
submitted, and results come back into it. A task ships the node's spec (built-in node
functions pickle by reference; a pack's functions are imported on the worker), its params,
its inputs and a :class:`~brepflow_lab.nodes.spec.NodeContext` without the local cancel
hook. Shapes travel as BREP (cadquery ``Shape`` objects pickle through BREP; raw OCP
objects do not, and a node returning one gets a clear error). Inputs are uploaded with
each task rather than referenced as futures on the cluster: results are in this process
anyway (the cache needs them), and a future kept alive for a later task would be
recomputed — or stranded — when its worker dies (see :mod:`.dask_pool`). Errors come
back as plain data and are rebuilt as typed :class:`~brepflow_lab.errors.NodeError`.

Crash isolation. OCCT can abort its process. Our LocalCluster runs one thread per worker
process and the scheduler is told to give up on a task the first time its worker dies
(``allowed-failures = 0``: an OCCT crash is deterministic, retrying it only kills more
workers). Jobs go through a :class:`~.dask_pool.FuturePool`, which keeps at most one of
our jobs on each worker thread, so the node whose worker died fails alone with
KERNEL_CRASH; the nanny starts a fresh worker and the next evaluation works.

Limits. On the team hub the spawner sets ``BREPFLOW_MAX_DASK_WORKERS`` (how many worker
processes a user may start) and ``BREPFLOW_DASK_MEMORY_LIMIT`` (the memory of *each*
worker, e.g. ``2GiB``; per worker because the nanny restarts a worker that passes it,
before the server's own memory limit kills the notebook kernel with it). A request beyond
them raises :class:`DaskLimitError`; without a request the limits are the defaults.

It also sets ``BREPFLOW_MAX_NODE_SECONDS``, the longest one node may run (see
:mod:`.limits`), and this executor enforces it: each node task gets a deadline counted
from when it starts *running* on its worker (not from when it was queued — a fresh worker
still importing cadquery does not count). A node still running at its deadline fails
with TIMEOUT ("node 'fillet' (Features::Fillet): ran longer than the 5 s limit per node
(BREPFLOW_MAX_NODE_SECONDS); ..."), reported at once; the worker process running it is
killed through its nanny, which starts a fresh one (an OCCT call cannot be interrupted
any other way). Nodes on other workers carry on, nodes downstream are skipped as after
any failure, and the next evaluation works. ``max_node_seconds=`` (on
:meth:`DaskExecutor.local`, :func:`local_executor`...) overrides the environment for one
executor (``math.inf``: no limit); without it the environment is read at each evaluation,
and a value that is not a positive number of seconds raises :class:`~.limits.LimitError`.
Sweeps run whole variants as jobs: a variant announces each node it runs, so the same
limit applies to each node of a variant (and to measuring and exporting its result); a
variant past it is a failed row with TIMEOUT and the sweep goes on. How the mechanism
works: :mod:`.dask_pool`.

Workers are warm: a worker plugin runs ``warmup`` (the API passes one that imports
cadquery and loads the node catalogue) when each worker starts, restarts included, so no
node pays the ~3 s import. Nothing here imports OCP, cadquery or the kernel.
"""

from __future__ import annotations

import atexit
import html
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

from brepflow_lab.core import env as brepflow_env
from brepflow_lab.core.errors import ErrorCode, LimitError, NodeError
from brepflow_lab.engine.dask_pool import Completion, FuturePool, JobCancelled, JobTimeout, WorkerCrash
from brepflow_lab.engine.executors import NodeOutcome, NodeTask, run_task
from brepflow_lab.engine.limits import ENV_MAX_NODE_SECONDS, NodeTimeLimit, node_time_limit, parse_seconds

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "ENV_GATEWAY",
    "ENV_MAX_NODE_SECONDS",
    "ENV_MAX_WORKERS",
    "ENV_MEMORY_LIMIT",
    "ENV_SCHEDULER",
    "DaskExecutor",
    "DaskLimitError",
    "DaskLimits",
    "close_shared",
    "default_executor",
    "local_executor",
    "scheduler_executor",
]

log = logging.getLogger(__name__)

# the names, from the one environment contract (brepflow_lab.core.env)
ENV_MAX_WORKERS = brepflow_env.MAX_DASK_WORKERS
ENV_MEMORY_LIMIT = brepflow_env.DASK_MEMORY_LIMIT
ENV_SCHEDULER = brepflow_env.DASK_SCHEDULER
ENV_GATEWAY = brepflow_env.DASK_GATEWAY


# --------------------------------------------------------------------------- limits


class DaskLimitError(LimitError):
    """A request for Dask workers or memory beyond what this user may use (or an unreadable limit)."""


def _check_max_node_seconds(value: float | None) -> float | None:
    """An explicit ``max_node_seconds=``: None (the environment's), ``math.inf`` (none) or seconds."""
    if value is None or (isinstance(value, float) and value == math.inf):
        return value
    return parse_seconds(value, "max_node_seconds")


def _parse_bytes(text: str | int, what: str) -> int:
    try:
        return brepflow_env.parse_size(text, what)
    except LimitError as exc:
        raise DaskLimitError(str(exc)) from None


def _format_bytes(n: int) -> str:
    from dask.utils import format_bytes

    return str(format_bytes(n))


@dataclass(frozen=True)
class DaskLimits:
    """What this user may start: worker processes, and memory per worker (bytes)."""

    max_workers: int | None = None
    memory_limit: int | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DaskLimits:
        """The hub's ``BREPFLOW_MAX_DASK_WORKERS`` / ``BREPFLOW_DASK_MEMORY_LIMIT`` (see :mod:`brepflow_lab.core.env`)."""
        try:
            return cls(brepflow_env.dask_workers(environ), brepflow_env.dask_memory(environ))
        except LimitError as exc:
            raise DaskLimitError(str(exc)) from None

    def workers(self, requested: int | None) -> int:
        """The number of workers to start: ``requested`` checked, or a default within the limit."""
        if self.max_workers == 0:
            raise DaskLimitError(
                f"your hub quota allows no Dask workers of your own ({ENV_MAX_WORKERS}=0): run in this process "
                "(executor='sync') or on your team's cluster (scheduler=ADDRESS); ask an admin to raise dask_workers"
            )
        if requested is None:
            default = max(1, os.cpu_count() or 1)
            return min(default, self.max_workers) if self.max_workers else default
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise ValueError(f"workers must be a whole number >= 1, got {requested!r}")
        if self.max_workers is not None and requested > self.max_workers:
            raise DaskLimitError(
                f"{requested} Dask workers requested, but your limit is {self.max_workers} "
                f"(set by the hub in {ENV_MAX_WORKERS}); ask for at most {self.max_workers}"
            )
        return requested

    def memory(self, requested: str | int | None) -> int | None:
        """Memory per worker in bytes: ``requested`` checked, or the limit (None = dask's default)."""
        if requested is None:
            return self.memory_limit
        value = _parse_bytes(requested, "memory_limit")
        if self.memory_limit is not None and value > self.memory_limit:
            raise DaskLimitError(
                f"{_format_bytes(value)} of memory per Dask worker requested, but your limit is "
                f"{_format_bytes(self.memory_limit)} per worker (set by the hub in {ENV_MEMORY_LIMIT})"
            )
        return value


# --------------------------------------------------------------------------- node tasks


def _error_to_dict(error: NodeError) -> dict[str, Any]:
    return {
        "code": error.code.value,
        "message": error.message,
        "node_id": error.node_id,
        "node_type": error.node_type,
        "param": error.param,
        "hint": error.hint,
    }


def _error_from_dict(data: dict[str, Any]) -> NodeError:
    return NodeError(
        ErrorCode(data["code"]),
        data["message"],
        node_id=data.get("node_id"),
        node_type=data.get("node_type"),
        param=data.get("param"),
        hint=data.get("hint"),
    )


def run_node_remote(task: NodeTask) -> tuple[dict[str, Any] | None, dict[str, Any] | None, float]:
    """Worker side: run one node; returns (outputs, error as data, seconds)."""
    outcome = run_task(task)
    if outcome.error is not None:
        return None, _error_to_dict(outcome.error), outcome.seconds
    return outcome.outputs, None, outcome.seconds


class _NodePool:
    """The :class:`~brepflow_lab.engine.executors.TaskPool` of one evaluation on Dask."""

    def __init__(self, executor: DaskExecutor) -> None:
        self._limit = executor.node_time_limit  # read once per evaluation
        seconds = self._limit.seconds if self._limit is not None else None
        self._pool = FuturePool(executor.client, executor.capacity, time_limit=seconds)
        self._tasks: dict[int, NodeTask] = {}

    @property
    def capacity(self) -> int:
        return self._pool.capacity

    def submit(self, task: NodeTask) -> int:
        shipped = replace(task, ctx=replace(task.ctx, cancelled=None))  # the cancel hook stays here
        token = self._pool.submit(run_node_remote, shipped, name=task.spec.type.replace("::", "."))
        self._tasks[token] = task
        return token

    def wait(self, timeout: float) -> list[tuple[int, NodeOutcome]]:
        return [
            (done.token, _outcome(self._tasks.pop(done.token), done, self._limit)) for done in self._pool.wait(timeout)
        ]

    def cancel(self) -> None:
        self._pool.cancel()
        self._tasks.clear()

    def close(self) -> None:
        self.cancel()


def timeout_message(limit: NodeTimeLimit, stopped: str = "the worker process running it") -> str:
    """The message of a TIMEOUT error (after the node's name)."""
    return f"ran longer than {limit.describe()}; {stopped} was stopped (a fresh worker replaces it)"


def _timeout_hint(limit: NodeTimeLimit) -> str:
    if limit.source == ENV_MAX_NODE_SECONDS:
        return (
            "make this node's work smaller (simpler inputs, fewer edges, a coarser tolerance); the limit is set by "
            "your hub (quota node_seconds)"
        )
    return "make this node's work smaller, or give the executor a larger max_node_seconds"


def _outcome(task: NodeTask, done: Completion, limit: NodeTimeLimit | None = None) -> NodeOutcome:
    ctx = task.ctx
    value = done.value
    if done.ok:
        outputs, error_data, seconds = value
        if error_data is not None:
            return NodeOutcome(error=_error_from_dict(error_data), seconds=seconds)
        return NodeOutcome(outputs=outputs, seconds=seconds)
    if isinstance(value, JobTimeout):
        limit = limit if limit is not None else NodeTimeLimit(value.limit)
        error = ctx.error(ErrorCode.TIMEOUT, timeout_message(limit), hint=_timeout_hint(limit))
        return NodeOutcome(error=error, seconds=value.ran)
    if isinstance(value, WorkerCrash):
        error = ctx.error(
            ErrorCode.KERNEL_CRASH,
            f"the process evaluating this node crashed ({value}); OCCT may have aborted on these inputs, "
            "or the worker ran out of memory. The worker was replaced; the rest of the graph is unaffected",
            hint="change this node's inputs or params",
        )
    elif isinstance(value, JobCancelled):
        error = ctx.error(ErrorCode.CANCELLED, str(value))
    else:
        text = str(value).strip().splitlines()[0] if str(value).strip() else type(value).__name__
        error = ctx.error(
            ErrorCode.INTERNAL_ERROR,
            f"this node's data could not cross to or from the worker process ({text}); node inputs and "
            "outputs must pickle — cadquery shapes and Parts do (as BREP), raw OCP objects do not",
        )
    return NodeOutcome(error=error)


# --------------------------------------------------------------------------- the executor


def _close_gateway(gateway: Any, *, closed: bool = False) -> None:
    """Close a dask-gateway client once. (dask-gateway 2026.3 closes it again when it is
    garbage-collected, which raises once its loop has stopped; without ``_loop_runner``
    its ``__del__`` does nothing.)"""
    if not closed:
        gateway.close()
    gateway.__dict__.pop("_loop_runner", None)


def _exit_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Warmup(WorkerPlugin):
    """Worker plugin: run ``fn`` once when each worker starts (restarted workers too)."""

    name = "brepflow-warmup"

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn

    def setup(self, worker: Any) -> None:
        self.fn()


class _FastExit(WorkerPlugin):
    """Worker plugin for clusters we start: a closed worker process leaves with ``os._exit``.

    With OCCT loaded, finalising the interpreter takes ~3 s — longer than the nanny's 4 s
    grace on a busy machine — so every cluster shutdown ended in SIGKILLs. Distributed has
    already closed the worker when this runs; only the interpreter teardown is skipped.
    """

    name = "brepflow-fast-exit"

    def teardown(self, worker: Any) -> None:
        if worker.status.name in ("closing", "closed", "closing_gracefully"):
            atexit.register(_exit_now)  # runs first (atexit is LIFO), once the worker is down


def _register_plugin(client: Any, plugin: WorkerPlugin, name: str, attempts: int = 5) -> None:
    """``client.register_plugin``, tolerating a worker that dies while it is broadcast.

    The scheduler sends the plugin to every worker it lists; one that is going away (killed
    for a time limit or a crash, not yet removed) fails that broadcast with a closed comm.
    The scheduler keeps the plugin for the workers that join later, so trying again once the
    dead worker has been removed is enough.
    """
    from distributed.comm.core import CommClosedError

    for attempt in range(attempts):
        try:
            client.register_plugin(plugin, name=name)
            return
        except (CommClosedError, OSError):
            if attempt == attempts - 1:
                raise
            log.info("a worker went away while the %s plugin was sent; trying again", name)
            time.sleep(0.2 * (attempt + 1))


class DaskExecutor:
    """Evaluate on a Dask cluster. Build one with :meth:`local`, :meth:`connect` or :meth:`gateway`.

    >>> ex = DaskExecutor.local(workers=2)          # doctest: +SKIP
    >>> g.evaluate(executor=ex)                     # doctest: +SKIP
    >>> ex.close()                                  # doctest: +SKIP

    ``max_node_seconds``: the time limit per node (see the module docstring); None reads
    ``BREPFLOW_MAX_NODE_SECONDS`` at each evaluation, ``math.inf`` switches it off.
    """

    name = "dask"

    def __init__(
        self,
        client: Client,
        *,
        cluster: Any = None,
        owns: bool = False,
        kind: str = "scheduler",
        warmup: Callable[[], Any] | None = None,
        capacity: int | None = None,
        memory_limit: int | None = None,
        dashboard: bool | None = None,
        max_node_seconds: float | None = None,
    ) -> None:
        self._max_node_seconds = _check_max_node_seconds(max_node_seconds)
        if self._max_node_seconds is None:
            node_time_limit()  # a bad BREPFLOW_MAX_NODE_SECONDS fails here, clearly, not mid-evaluation
        self.client = client
        self.cluster = cluster
        self.kind = kind
        self.capacity = capacity
        self.memory_limit = memory_limit
        self._dashboard = dashboard  # None: as the scheduler reports it
        self._owns = owns
        self._closed = False
        self._view = False  # made by limited(): the client belongs to another executor
        if kind == "local" and owns:
            _register_plugin(client, _FastExit(), _FastExit.name)
        if warmup is not None:
            _register_plugin(client, _Warmup(warmup), _Warmup.name)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def local(
        cls,
        workers: int | None = None,
        *,
        memory_limit: str | int | None = None,
        dashboard: bool | None = None,
        warmup: Callable[[], Any] | None = None,
        limits: DaskLimits | None = None,
        max_node_seconds: float | None = None,
    ) -> DaskExecutor:
        """A LocalCluster of ``workers`` processes (one thread each), within the user's limits."""
        import dask
        from distributed import Client, LocalCluster

        max_node_seconds = _check_max_node_seconds(max_node_seconds)
        if max_node_seconds is None:
            node_time_limit()  # before starting anything
        limits = limits if limits is not None else DaskLimits.from_env()
        n = limits.workers(workers)
        memory = limits.memory(memory_limit)
        import importlib.util

        has_bokeh = importlib.util.find_spec("bokeh") is not None
        dashboard = has_bokeh if dashboard is None else (dashboard and has_bokeh)
        env = {}
        if memory is not None and brepflow_env.CACHE_MB not in os.environ:
            env[brepflow_env.CACHE_MB] = str(max(64, memory // 4 // (1 << 20)))  # sweeps cache on workers
        with dask.config.set(
            {
                "distributed.scheduler.allowed-failures": 0,  # a crash is deterministic: no retries
                "distributed.scheduler.work-stealing": False,  # jobs stay on the worker they were given
            }
        ):
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory if memory is not None else "auto",
                dashboard_address=":0" if dashboard else None,
                scheduler_kwargs={"dashboard_address": ":0"},  # its HTTP server (health, metrics) on any free port
                host="127.0.0.1",
                env=env,
            )
        try:
            client = Client(cluster, set_as_default=False)
            return cls(
                client,
                cluster=cluster,
                owns=True,
                kind="local",
                warmup=warmup,
                memory_limit=memory,
                dashboard=bool(dashboard),
                max_node_seconds=max_node_seconds,
            )
        except BaseException:
            cluster.close()
            raise

    @classmethod
    def connect(
        cls,
        address: str,
        *,
        warmup: Callable[[], Any] | None = None,
        timeout: float = 30,
        max_node_seconds: float | None = None,
    ) -> DaskExecutor:
        """An existing scheduler, e.g. ``tcp://10.0.0.5:8786`` (the workers need brepflow-lab).

        The time limit per node needs workers started with a nanny (``dask worker``'s default).
        """
        from distributed import Client

        max_node_seconds = _check_max_node_seconds(max_node_seconds)
        try:
            client = Client(address, set_as_default=False, timeout=timeout)
        except OSError as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            return cls(client, owns=True, kind="scheduler", warmup=warmup, max_node_seconds=max_node_seconds)
        except BaseException:
            client.close()
            raise

    @classmethod
    def gateway(
        cls,
        address: str | None = None,
        *,
        workers: int | None = None,
        memory_limit: str | int | None = None,
        auth: Any = None,
        warmup: Callable[[], Any] | None = None,
        limits: DaskLimits | None = None,
        max_node_seconds: float | None = None,
        **cluster_options: Any,
    ) -> DaskExecutor:
        """A new cluster from dask-gateway, shut down by :meth:`close`.

        ``address`` and ``auth`` default to dask's config (``gateway.address``,
        ``gateway.auth``), which JupyterHub deployments set for their users. ``workers``
        defaults to the user's limit (or 2); ``memory_limit`` goes to the gateway's
        ``worker_memory`` option (GiB) when the gateway offers one. Other keyword
        arguments are gateway cluster options.
        """
        try:
            import dask_gateway
        except ImportError:
            raise RuntimeError(
                "dask-gateway is not installed in this environment: pip install dask-gateway "
                f"(or unset {ENV_GATEWAY} to use a local cluster)"
            ) from None
        max_node_seconds = _check_max_node_seconds(max_node_seconds)
        if max_node_seconds is None:
            node_time_limit()
        limits = limits if limits is not None else DaskLimits.from_env()
        n = limits.workers(workers if workers is not None else (limits.max_workers or 2))
        memory = limits.memory(memory_limit)
        gateway = dask_gateway.Gateway(address, auth=auth)
        try:
            options = gateway.cluster_options()
            if memory is not None:
                if "worker_memory" not in options:
                    raise DaskLimitError(
                        "this dask-gateway offers no 'worker_memory' option, so memory_limit cannot be applied"
                    )
                options.worker_memory = memory / 2**30  # dask-gateway's usual option, in GiB
            for key, value in cluster_options.items():
                options[key] = value
            cluster = gateway.new_cluster(options, shutdown_on_close=True)
        finally:
            _close_gateway(gateway)
        try:
            cluster.scale(n)
            client = cluster.get_client(set_as_default=False)
            return cls(
                client,
                cluster=cluster,
                owns=True,
                kind="gateway",
                warmup=warmup,
                memory_limit=memory,
                max_node_seconds=max_node_seconds,
            )
        except BaseException:
            cluster.shutdown()
            raise

    # -- running ------------------------------------------------------------------------
    def open_pool(self) -> _NodePool:
        if self._closed:
            raise RuntimeError("this Dask executor was closed")
        return _NodePool(self)

    def execute(self, task: NodeTask) -> NodeOutcome:
        pool = self.open_pool()
        try:
            token = pool.submit(task)
            while True:
                for done, outcome in pool.wait(0.1):
                    if done == token:
                        return outcome
        finally:
            pool.close()

    def pool(self) -> FuturePool:
        """A :class:`FuturePool` for whole jobs (sweeps submit one job per variant).

        With a time limit per node, it applies to each phase a job announces
        (:func:`~.dask_pool.phase_started`; a variant announces each node it runs).
        """
        if self._closed:
            raise RuntimeError("this Dask executor was closed")
        limit = self.node_time_limit
        return FuturePool(self.client, self.capacity, time_limit=limit.seconds if limit is not None else None)

    # -- the time limit per node ----------------------------------------------------------
    @property
    def node_time_limit(self) -> NodeTimeLimit | None:
        """The limit this executor enforces now: its ``max_node_seconds``, or the environment's."""
        seconds = self._max_node_seconds
        if seconds is None:
            return node_time_limit()
        if seconds == math.inf:
            return None
        return NodeTimeLimit(seconds, f"max_node_seconds={seconds:g}")

    def limited(self, max_node_seconds: float | None) -> DaskExecutor:
        """This executor's cluster with another time limit per node (closing it closes nothing)."""
        view = DaskExecutor(
            self.client,
            cluster=self.cluster,
            owns=False,
            kind=self.kind,
            capacity=self.capacity,
            memory_limit=self.memory_limit,
            dashboard=self._dashboard,
            max_node_seconds=max_node_seconds,
        )
        view._view = True
        return view

    # -- information --------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed or self.client.status in ("closed", "closing")

    @property
    def dashboard_link(self) -> str | None:
        """The cluster's dashboard (None when it has none)."""
        if self._dashboard is False:
            return None  # the scheduler still serves /health and /metrics there, not a dashboard
        try:
            info = self.client.scheduler_info(n_workers=0)
            if "dashboard" not in info.get("services", {}):
                return None
            return str(self.client.dashboard_link) or None
        except Exception:
            return None

    def workers(self) -> dict[str, int]:
        """Worker address -> threads, as the scheduler sees them now."""
        return {str(k): int(v) for k, v in self.client.nthreads().items()}

    def wait_for_workers(self, n: int = 1, timeout: float = 60) -> None:
        self.client.wait_for_workers(n, timeout=timeout)

    def __repr__(self) -> str:
        if self.closed:
            return f"<DaskExecutor {self.kind}: closed>"
        try:
            workers = self.workers()
        except Exception:
            workers = {}
        return (
            f"<DaskExecutor {self.kind} {self.client.scheduler.address if self.client.scheduler else ''}: "
            f"{len(workers)} workers, {sum(workers.values())} threads>"
        )

    def _repr_html_(self) -> str:
        if self.closed:
            return f"<p><b>Dask executor</b> ({html.escape(self.kind)}): closed</p>"
        try:
            workers = self.workers()
        except Exception:
            workers = {}
        memory = f", {_format_bytes(self.memory_limit)} per worker" if self.memory_limit else ""
        try:
            limit = self.node_time_limit
        except LimitError:
            limit = None
        if limit is not None:
            memory += f", at most {limit.seconds:g} s per node"
        address = str(self.client.scheduler.address or "") if self.client.scheduler else ""
        link = self.dashboard_link
        if link:
            dashboard = f" &mdash; <a href='{html.escape(link, quote=True)}' target='_blank'>dashboard</a>"
        else:
            import importlib.util

            hint = "" if importlib.util.find_spec("bokeh") else " (install bokeh to get one)"
            dashboard = f" &mdash; no dashboard{hint}"
        return (
            f"<p><b>Dask executor</b> ({html.escape(self.kind)} cluster <code>{html.escape(address)}</code>): "
            f"{len(workers)} workers, {sum(workers.values())} threads{memory}{dashboard}</p>"
        )

    # -- closing ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the client, and the cluster if this executor started it."""
        if self._closed:
            return
        self._closed = True
        if self._view:
            return
        try:
            self.client.close()
        finally:
            if self._owns and self.cluster is not None:
                self.cluster.close()  # a LocalCluster stops; a gateway cluster shuts down
                if self.kind == "gateway":
                    _close_gateway(self.cluster.gateway, closed=True)

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- shared executors

_shared: dict[tuple[Any, ...], DaskExecutor] = {}
_shared_lock = threading.Lock()


def close_shared() -> None:
    """Close the shared executors (and the local clusters they started) of this process."""
    with _shared_lock:
        executors = list(_shared.values())
        _shared.clear()
    for executor in executors:
        try:
            executor.close()
        except Exception:  # interpreter shutdown: best effort
            log.debug("closing a shared Dask executor failed", exc_info=True)


atexit.register(close_shared)


def _shared_executor(key: tuple[Any, ...], make: Callable[[], DaskExecutor]) -> DaskExecutor:
    with _shared_lock:
        executor = _shared.get(key)
        if executor is not None and not executor.closed:
            return executor
        executor = make()
        _shared[key] = executor
        return executor


def _with_limit(executor: DaskExecutor, max_node_seconds: float | None) -> DaskExecutor:
    max_node_seconds = _check_max_node_seconds(max_node_seconds)
    if max_node_seconds is None:
        node_time_limit()  # a bad BREPFLOW_MAX_NODE_SECONDS fails here
        return executor
    return executor.limited(max_node_seconds)


def local_executor(
    workers: int | None = None,
    *,
    memory_limit: str | int | None = None,
    warmup: Callable[[], Any] | None = None,
    max_node_seconds: float | None = None,
) -> DaskExecutor:
    """The process-wide LocalCluster executor with these settings (started on first use).

    ``max_node_seconds`` overrides ``BREPFLOW_MAX_NODE_SECONDS`` for the executor returned
    (the cluster is shared all the same).
    """
    max_node_seconds = _check_max_node_seconds(max_node_seconds)
    if max_node_seconds is None:
        node_time_limit()
    limits = DaskLimits.from_env()
    n = limits.workers(workers)
    memory = limits.memory(memory_limit)
    shared = _shared_executor(
        ("local", n, memory), lambda: DaskExecutor.local(n, memory_limit=memory, warmup=warmup, limits=limits)
    )
    return _with_limit(shared, max_node_seconds)


def scheduler_executor(
    address: str, *, warmup: Callable[[], Any] | None = None, max_node_seconds: float | None = None
) -> DaskExecutor:
    """The process-wide executor connected to the scheduler at ``address``."""
    shared = _shared_executor(("scheduler", address), lambda: DaskExecutor.connect(address, warmup=warmup))
    return _with_limit(shared, max_node_seconds)


def no_workers_allowed(environ: dict[str, str] | None = None) -> bool:
    """True when the hub's quota allows no Dask workers of one's own and no cluster is configured."""
    env = os.environ if environ is None else environ
    gateway = env.get(ENV_GATEWAY, "").strip().lower()
    if env.get(ENV_SCHEDULER, "").strip() or gateway not in ("", "0", "false", "no"):
        return False
    return DaskLimits.from_env(dict(env)).max_workers == 0


def default_executor(*, warmup: Callable[[], Any] | None = None, max_node_seconds: float | None = None) -> DaskExecutor:
    """The executor the environment asks for (see the module docstring), shared per process."""
    address = os.environ.get(ENV_SCHEDULER, "").strip()
    if address:
        return scheduler_executor(address, warmup=warmup, max_node_seconds=max_node_seconds)
    gateway = os.environ.get(ENV_GATEWAY, "").strip()
    if gateway and gateway.lower() not in ("0", "false", "no"):
        url = None if gateway.lower() in ("1", "true", "yes") else gateway
        shared = _shared_executor(("gateway", url), lambda: DaskExecutor.gateway(url, warmup=warmup))
        return _with_limit(shared, max_node_seconds)
    return local_executor(warmup=warmup, max_node_seconds=max_node_seconds)
