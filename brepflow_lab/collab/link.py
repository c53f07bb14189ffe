"""A notebook's Python joins the live document of a graph file (issue 13, item 5).

``brepflow_lab.open(path)`` in a notebook makes a Studio whose kernel holds a
:class:`~brepflow_lab.collab.replica.Replica`, like a Studio tab's. The transport differs: a
notebook's Studio is an output, not a document, so its updates travel over a comm of their own
(target ``brepflow-lab:room``) that BrepFlow Lab's JupyterLab extension answers: it opens the
file's shared document (the same room the Studio tabs use, through jupyter-collaboration) and
relays Y updates both ways (labextension/src/collab/link.ts). The kernel never talks to the
room's websocket itself (JupyterCAD's notebook API works the same way through ypywidgets).

The extension answers ``{"type": "joined"}`` and then sends the room's state; until then (and
for good if there is no collaboration: no extension, a classic notebook, the target missing)
the Studio works alone on the file, as before. Once joined, the room saves the file, so the
Studio's own autosave stops.

The path sent is the one given to ``open``, relative to the kernel's working directory (the
notebook's folder); the extension resolves it against the notebook's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TARGET = "brepflow-lab:room"


class RoomLink:
    """One kernel-side comm to the room of one graph file."""

    def __init__(self, path: str, *, on_joined: Callable[[], None], on_update: Callable[[list[bytes]], None]) -> None:
        from comm import create_comm

        self.joined = False
        self.closed = False
        self._on_joined = on_joined
        self._on_update = on_update
        self._comm = create_comm(target_name=TARGET, data={"path": path})
        self._comm.on_msg(self._on_msg)
        self._comm.on_close(self._on_close)

    def send(self, update: bytes) -> None:
        if not self.closed:
            self._comm.send({"type": "y-update"}, buffers=[update])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._comm.close()

    def _on_msg(self, msg: dict[str, Any]) -> None:
        content = msg.get("content", {}).get("data", {}) or {}
        kind = content.get("type")
        if kind == "joined":
            self.joined = True
            self._on_joined()
        elif kind == "y-update":
            self._on_update([bytes(b) for b in msg.get("buffers") or ()])

    def _on_close(self, _msg: dict[str, Any]) -> None:
        self.closed = True


__all__ = ["TARGET", "RoomLink"]
