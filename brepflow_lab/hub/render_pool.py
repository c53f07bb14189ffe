"""A warm process for the viewer's renders: imports paid once, every render still in its own child.

Why
---
The viewer evaluated each graph in a fresh ``python -m brepflow_lab.cli render`` child: every render
paid the interpreter start and the imports (cadquery/OCP, the engine, the node catalogue: 2-5 s
here), and a viewer's first graph after a start paid them on a cold disk cache too (15.4 s seen in
the team trial, 5.4 s for the next one).

How
---
A *zygote* (``python -m brepflow_lab.hub.render_pool``, started by the viewer service when it
starts) imports what a render needs, then waits for jobs on stdin (one JSON line each). For a job
it forks; the child does exactly what the old child process did — new session, the same rlimits
(address space, CPU seconds, no core), the file owner's uid/gid/groups when the service runs as
root, its own working folder, environment and stdout/stderr files — and then runs
``brepflow_lab.cli.main(argv)``, so the untrusted graph is evaluated only in the child, after it
dropped privileges. The zygote never reads a graph. It reports ``{"id", "pid"}`` at fork and
``{"id", "exit"}`` when the child ends (single-threaded: ``select`` on stdin plus ``waitpid``).

Forking is safe only from a single-threaded process: the zygote keeps BLAS/OpenMP pools at one
thread before importing anything and reports its thread count; :class:`RenderPool` refuses a
zygote with more than one thread. Whenever the zygote is missing, not ready in time or dead, the
viewer falls back to the fresh child process, so a render never depends on the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import resource
import select
import sys
from typing import Any

__all__ = ["RenderPool", "serve"]

log = logging.getLogger("brepflow_lab.hub.render_pool")

#: environment of the zygote: thread pools of numerical libraries stay at one thread (fork safety)
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# -- the zygote (its own process) -------------------------------------------------------------------


def _write(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())  # raw fd: no Python lock a fork could inherit


def _child(job: dict[str, Any]) -> None:
    """In the forked child: limits, identity, folder, environment, output files; then the render."""
    code = 1
    try:
        os.setsid()
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(job[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - fresh objects, no inherited locks
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        memory, cpu = int(job["memory"]), int(job["cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        uid, gid = job.get("uid"), job.get("gid")
        if uid is not None and gid is not None:
            os.setgid(gid)
            os.setgroups(job.get("groups") or [gid])
            os.setuid(uid)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        from brepflow_lab.cli import main

        code = main(list(job["argv"]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _warm() -> None:
    """Import what a render imports (measured: cadquery, OCP, VTK and the kernel modules cost ~3 s of
    a first render; a render in a warmed process then takes ~0.2 s for a small part). Only
    imports: evaluating anything here would start OCCT's worker threads, and fork needs one thread."""
    import importlib
    import pkgutil

    import brepflow_lab.cli
    import brepflow_lab.hub.cli
    import brepflow_lab.kernel
    import brepflow_lab.nodes
    import brepflow_lab.render

    for name in ("cadquery", "OCP", "fastjsonschema"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    for module in pkgutil.walk_packages(brepflow_lab.kernel.__path__, "brepflow_lab.kernel."):
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # a module that cannot load here is loaded (or fails) in the render
            log.debug("not warmed: %s (%s)", module.name, exc)


def serve() -> None:
    """The zygote's loop: warm imports, then fork one child per job line until stdin closes."""
    os.environ.update(SINGLE_THREADED)
    _warm()
    _write({"ready": True, "threads": len(os.listdir("/proc/self/task")), "pid": os.getpid()})
    children: dict[int, str] = {}
    buffer = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.1)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            _write({"id": children.pop(pid, ""), "exit": os.waitstatus_to_exitcode(status)})
        if not readable:
            continue
        data = os.read(0, 1 << 16)
        if not data:
            break  # the viewer service closed our stdin (stopped or died): children finish alone
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            job = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _child(job)
            children[pid] = job["id"]
            _write({"id": job["id"], "pid": pid})


# -- the viewer service's side ----------------------------------------------------------------------


class RenderPool:
    """One zygote process, started with the viewer service; ``run`` renders through it."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        self.python = python
        self.env = {**env, **SINGLE_THREADED}
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.usable = False
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pids: dict[str, asyncio.Future[int]] = {}
        self._counter = 0
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            "brepflow_lab.hub.render_pool",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self.env,
            cwd="/",
            limit=1 << 20,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    break
                message = json.loads(line)
                if message.get("ready"):
                    self.usable = message.get("threads") == 1
                    if not self.usable:
                        log.warning("render zygote has %s threads: not forking from it", message.get("threads"))
                    self.ready.set()
                elif "pid" in message:
                    future = self._pids.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_result(int(message["pid"]))
                elif "exit" in message:
                    done = self._waiting.pop(message["id"], None)
                    if done is not None and not done.done():
                        done.set_result(message)
        finally:
            self.usable = False
            self.ready.set()
            pending: list[asyncio.Future[Any]] = [*self._waiting.values(), *self._pids.values()]
            for future in pending:
                if not future.done():
                    future.set_exception(RuntimeError("the render zygote ended"))

    async def wait_ready(self, timeout: float) -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        return self.usable and self.proc is not None and self.proc.returncode is None

    async def run(self, job: dict[str, Any], timeout: float) -> int:
        """Fork a render child for ``job``; its exit code, or ``TimeoutError`` (the child killed)."""
        assert self.proc is not None and self.proc.stdin is not None
        self._counter += 1
        key = str(self._counter)
        loop = asyncio.get_running_loop()
        pid_future: asyncio.Future[int] = loop.create_future()
        exit_future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pids[key], self._waiting[key] = pid_future, exit_future
        self.proc.stdin.write((json.dumps({**job, "id": key}) + "\n").encode())
        await self.proc.stdin.drain()
        pid = await asyncio.wait_for(pid_future, 30)
        try:
            message = await asyncio.wait_for(exit_future, timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, 9)  # the child leads its own session
            self._waiting.pop(key, None)
            raise
        return int(message["exit"])

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader


if __name__ == "__main__":
    serve()
