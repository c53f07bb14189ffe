"""README's main command: ``brepflow-lab lab`` serves JupyterLab on 127.0.0.1 with the
design notebooks and the BrepFlow extension, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_lab_serves_the_design_notebooks_with_the_extension_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["brepflow-lab", "lab", str(ROOT), "--port", str(port), "--no-browser"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        token = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and token is None:
            assert proc.poll() is None, log.read_text()[-3000:]
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\S*\?token=(\w+)", log.read_text())
            token = found.group(1) if found else None
            time.sleep(0.3)
        assert token, log.read_text()[-3000:]
        auth = {"Authorization": f"token {token}"}
        base = f"http://127.0.0.1:{port}"
        listing = requests.get(f"{base}/api/contents/notebooks", headers=auth, timeout=30).json()
        names = {item["name"] for item in listing["content"]}
        assert {"01-quickstart.ipynb", "04-variant-sweep.ipynb", "07-team-hub.ipynb"} <= names
        # the lab extension is there and enabled, with no `jupyter lab build`
        extensions = requests.get(f"{base}/lab/api/extensions", headers=auth, timeout=30).json()
        ours = [e for e in extensions if e["name"] == "brepflow-lab"]
        assert ours and ours[0]["enabled"] and ours[0]["installed"], [e["name"] for e in extensions]
        # it lands in the design notebooks
        landing = requests.get(f"{base}/", headers=auth, timeout=30, allow_redirects=False)
        assert landing.status_code in (301, 302) and landing.headers["Location"].rstrip("?").endswith(
            "/lab/tree/notebooks"
        )
        # only on the loopback interface
        assert "127.0.0.1" in log.read_text()
        # SIGTERM to the command stops JupyterLab itself (nothing left serving the port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) is not None
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{base}/api/status", headers=auth, timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
