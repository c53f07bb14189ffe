"""A real JupyterLab server and kernel clients, for the browser tests and the browser benchmark.

:func:`running_lab` starts ``jupyter lab`` on a free 127.0.0.1 port with the flags that work
on this machine (docs/browser-testing.md), rooted in a temporary folder, with its config,
runtime, settings and workspace folders isolated there too (a theme change never leaks
into the user's JupyterLab) and ``JUPYTER_WIDGETS_ECHO=0`` for its kernels; it stops the
server (and its kernels) on exit, even after an error. :class:`Kernel` is a second client
on a kernel a page already runs, so code can ask the Python side what the browser did.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("BREPFLOW_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def extension_installed() -> bool:
    """Is the prebuilt brepflow-lab JupyterLab extension where JupyterLab looks for it?"""
    from jupyter_core.paths import jupyter_path

    return any((Path(p) / "labextensions" / "brepflow-lab" / "package.json").exists() for p in jupyter_path())


class Kernel:
    """A blocking client on a kernel a page already uses (a second frontend, like a console)."""

    def __init__(self, connection_file: Path) -> None:
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=30)

    def run(self, code: str, timeout: float = 120.0) -> str:
        """Execute ``code``; return its stdout. Raises with the traceback if it fails."""
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind = msg["msg_type"]
            if kind == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
            elif kind == "error":
                errors.append("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(
            code, store_history=False, output_hook=hook, timeout=timeout, stop_on_error=True
        )
        if reply["content"]["status"] != "ok" or errors:
            raise AssertionError(f"kernel code failed:\n{code}\n{''.join(errors)}")
        return "".join(out)

    def value(self, expression: str, timeout: float = 120.0) -> Any:
        """The JSON value of a Python expression evaluated in the kernel."""
        text = self.run(f"import json as _j; print(_j.dumps({expression}))", timeout=timeout)
        return json.loads(text.strip().splitlines()[-1])

    def wait_for(self, expression: str, expected: Any, timeout: float = 30.0) -> Any:
        """Poll ``expression`` until it equals ``expected`` (returns the last value)."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.value(expression)
            if value == expected:
                return value
            time.sleep(0.2)
        raise AssertionError(f"{expression} = {value!r}, expected {expected!r} within {timeout:g} s")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()


@dataclass
class Lab:
    url: str
    root: Path
    runtime: Path
    log: Path

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def kernel_for(self, path: str, timeout: float = 60.0) -> str:
        """The id of the kernel of the session on ``path`` (a notebook or a graph file)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("/api/sessions"):
                if session.get("path") == path and session.get("kernel"):
                    return str(session["kernel"]["id"])
            time.sleep(0.2)
        raise TimeoutError(f"no kernel session for {path} after {timeout:g} s")

    def connect(self, path: str) -> Kernel:
        kernel_id = self.kernel_for(path)
        connection = self.runtime / f"kernel-{kernel_id}.json"
        deadline = time.monotonic() + 30
        while not connection.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return Kernel(connection)


@contextlib.contextmanager
def running_lab(base: Path | None = None, app: str = "lab") -> Iterator[Lab]:
    """Start ``jupyter lab`` (or ``app="notebook"``: Notebook 7) in a fresh temporary folder;
    stop it (and its kernels) on exit."""
    with contextlib.ExitStack() as stack:
        if base is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="brepflow-lab-")))
        root, runtime, config = base / "root", base / "runtime", base / "config"
        for folder in (root, runtime, config, base / "settings", base / "workspaces", config / "labconfig"):
            folder.mkdir(parents=True, exist_ok=True)
        # no "get notified about Jupyter news?" toast over the Studio in screenshots
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
        )
        env = dict(os.environ)
        env.update(
            {
                "JUPYTER_WIDGETS_ECHO": "0",
                "JUPYTER_RUNTIME_DIR": str(runtime),
                "JUPYTER_CONFIG_DIR": str(config),
                "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
            }
        )
        log = base / "jupyter.log"
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            *(["jupyter", "lab"] if app == "lab" else ["notebook"]),
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            "--allow-root",
            f"--ServerApp.root_dir={root}",
        ]
        if app == "lab":
            cmd += [
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True",
            ]
        with log.open("w") as log_file:
            process = subprocess.Popen(cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        server = Lab(url=f"http://127.0.0.1:{port}", root=root, runtime=runtime, log=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    server.api("/api/status")
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"jupyter lab did not answer in 60 s:\n{log.read_text()[-3000:]}") from None
                    time.sleep(0.2)
            yield server
        finally:
            with contextlib.suppress(Exception):
                for kernel in server.api("/api/kernels"):
                    server.api(f"/api/kernels/{kernel['id']}", method="DELETE")
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """The system Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
