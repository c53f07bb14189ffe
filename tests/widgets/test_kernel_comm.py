"""The Studio in a real IPython kernel, spoken to over its real comm (ZMQ on 127.0.0.1).

This is the path a browser uses, minus the browser: the kernel opens the widget's comm,
the client sends ``comm_msg``s as the front-end does, and meshes sent from the Studio's
background thread must arrive on IOPub as binary buffers. (The browser tests drive the
same path from Chromium.)
"""

from __future__ import annotations

import queue
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kernel(frontend_bundle: Path) -> Iterator[Any]:
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(ROOT), env={**__import__("os").environ, "JUPYTER_WIDGETS_ECHO": "0"})
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive(
            f"from brepflow_lab.widgets import studio as _m; from pathlib import Path; "
            f"_m.STATIC_DIR = Path({str(frontend_bundle)!r})",
            timeout=60,
        )
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def iopub_until(client: Any, predicate: Any, timeout: float = 60.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            msg = client.get_iopub_msg(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            break
        if predicate(msg):
            return msg
    raise AssertionError("expected message did not arrive on IOPub")


def is_custom(kind: str) -> Any:
    def check(msg: dict[str, Any]) -> bool:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        return data.get("method") == "custom" and data.get("content", {}).get("type") == kind

    return check


def test_meshes_and_acks_travel_over_the_real_comm(kernel: Any) -> None:
    code = textwrap.dedent(
        """
        from brepflow_lab import Graph
        from brepflow_lab.widgets import Studio
        g = Graph.new()
        g.add("Solid::Box", id="box", width=10, height=20, depth=30)
        studio = Studio(g)
        """
    )
    kernel.execute(code)
    opened = iopub_until(  # the Studio's comm (its Layout child opens one first)
        kernel, lambda m: m["msg_type"] == "comm_open" and "graph" in m["content"]["data"].get("state", {})
    )
    comm_id = opened["content"]["comm_id"]
    state = opened["content"]["data"]["state"]
    assert state["graph"]["nodes"][0]["id"] == "box" and state["height"] == 640
    meshes = iopub_until(kernel, is_custom("meshes"))
    entry = meshes["content"]["data"]["content"]["nodes"][0]
    assert entry["id"] == "box" and len(meshes["buffers"]) == 6
    positions = np.frombuffer(meshes["buffers"][entry["buffers"]["positions"]], dtype=np.float32)
    assert positions.size == 3 * entry["counts"]["vertices"] and positions.max() == 30

    def browser(content: dict[str, Any]) -> None:
        msg = kernel.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}})
        kernel.shell_channel.send(msg)

    browser({"type": "edit", "seq": 7, "ops": [{"op": "set_param", "id": "box", "name": "width", "value": 40}]})
    ack = iopub_until(kernel, is_custom("ack"))
    assert ack["content"]["data"]["content"] == {"type": "ack", "seq": 7, "ok": True}
    meshes = iopub_until(kernel, is_custom("meshes"))  # sent from the Studio's worker thread
    entry = meshes["content"]["data"]["content"]["nodes"][0]
    assert entry["bbox"][1] == [40.0, 20.0, 30.0]
    browser({"type": "edit", "seq": 8, "ops": [{"op": "add_node", "type": "Solid::Bx", "position": {"x": 0, "y": 0}}]})
    ack = iopub_until(kernel, is_custom("ack"))["content"]["data"]["content"]
    assert ack["ok"] is False and "did you mean 'Solid::Box'" in ack["error"]
