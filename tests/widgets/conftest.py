"""Drive a Studio exactly as its front-end does, without a browser.

The comm to a browser needs a running front-end (the browser tests cover that path), so
here messages enter through the widget's own comm entry point, ``_handle_msg``, with
the message structure ipywidgets receives from the browser (``method: custom`` for
custom messages, ``method: update`` for trait changes), and outgoing custom messages are
captured by wrapping the widget's ``send`` — with their binary buffers.

The Studio's JavaScript bundle is built from labextension/ by ``pip install -e .``;
these tests exercise only the Python side of the protocol, so they point the Studio at a
minimal stand-in bundle (the browser tests use the real one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from brepflow_lab import Graph
from brepflow_lab.widgets import studio as studio_module
from brepflow_lab.widgets.studio import Studio

STUB_ESM = "export default { render({ model, el }) { el.textContent = 'studio'; } };\n"


@pytest.fixture(autouse=True)
def frontend_bundle(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    static = tmp_path_factory.mktemp("static")
    (static / "studio.js").write_text(STUB_ESM)
    (static / "studio.css").write_text(".brepflow-studio {}\n")
    monkeypatch.setattr(studio_module, "STATIC_DIR", static)
    return static


class Driver:
    """A Studio plus the messages it sent, with helpers that speak the protocol."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self._lock = threading.Lock()
        self._seq = 0
        original = studio.send

        def capture(content: dict[str, Any], buffers: list[Any] | None = None) -> None:
            with self._lock:
                self.sent.append((content, [bytes(b) for b in buffers or []]))
            original(content, buffers)

        studio.send = capture  # type: ignore[method-assign]

    # -- browser -> Python ------------------------------------------------------------------
    def custom(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.studio._handle_msg(
            {"content": {"data": {"method": "custom", "content": content}}, "buffers": buffers or []}
        )

    def update(self, **state: Any) -> None:
        self.studio._handle_msg(
            {"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []}
        )

    def edit(self, *ops: dict[str, Any]) -> dict[str, Any]:
        """Send one edit message and return its ack."""
        self._seq += 1
        seq = self._seq
        self.custom({"type": "edit", "ops": list(ops), "seq": seq})
        acks = [c for c, _ in self.messages("ack") if c["seq"] == seq]
        assert len(acks) == 1, acks
        return acks[0]

    # -- Python -> browser --------------------------------------------------------------------
    def messages(self, kind: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        with self._lock:
            return [(c, b) for c, b in self.sent if c.get("type") == kind]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def wait(self, timeout: float = 60.0) -> None:
        self.studio.wait(timeout)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)


def decode_mesh(entry: dict[str, Any], buffers: list[bytes]) -> dict[str, np.ndarray]:
    index = entry["buffers"]
    dtypes = {
        "positions": np.float32,
        "normals": np.float32,
        "indices": np.uint32,
        "edges": np.float32,
        "face_ranges": np.uint32,
        "edge_ranges": np.uint32,
    }
    return {name: np.frombuffer(buffers[index[name]], dtype=dtype) for name, dtype in dtypes.items()}


@pytest.fixture
def make_studio() -> Iterator[Callable[..., Driver]]:
    made: list[Studio] = []

    def make(graph: Graph | None = None, **kwargs: Any) -> Driver:
        kwargs.setdefault("evaluate", False)
        studio = Studio(graph, **kwargs)
        made.append(studio)
        return Driver(studio)

    yield make
    for studio in made:
        studio.close()
