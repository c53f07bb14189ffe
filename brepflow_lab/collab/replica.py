"""One person's replica of a shared graph, in the kernel behind their Studio tab.

Design (why the browser does not re-implement the projection): the rules that turn the
merged CRDT state into a valid graph (dangling links dropped, cycle-closing links left out,
orders, JSON-typed values) live in :class:`~brepflow_lab.collab.ydoc.YGraph`, in Python.
Rewriting them in TypeScript would give two copies that must agree bit for bit, or two
screens would show two graphs. So each Studio tab's kernel holds a pycrdt replica of the
room's document, and the tab's front end only *relays* binary Y updates between the room
(jupyter-collaboration's websocket) and this replica (the Studio widget's comm), as
JupyterCAD's ypywidgets / yjs-widgets do for its notebook API.

    local edit:  Studio -> kernel Graph -> :meth:`Replica.commit` (this person's origin)
                 -> update bytes -> front end -> room -> every other replica
    remote edit: room -> front end -> :meth:`Replica.receive` -> projection -> kernel Graph
                 -> Studio (and the evaluator)

The replica starts empty and takes its first state from the room (the front end sends the
room's whole state when the Studio appears); until then local edits are refused, so this
kernel never writes a second copy of the file into the room. The server's room saves the
file (jupyter-collaboration's save loop); the kernel never writes it.

Updates are computed from state vectors (``get_update(state_before)``), not collected by an
observer: a commit returns exactly what it changed, and updates received from the room are
never sent back (no echo loop).

Undo is per person: :meth:`undo` / :meth:`redo` go through the YGraph's Y UndoManager, which
tracks only this replica's origin, so Ctrl+Z in one tab never undoes another person's edit;
the undo's own changes are sent to the room like any other edit.

pycrdt documents are not thread-safe: the Studio calls this only on the kernel's main thread
(comm messages and cell code); evaluation threads get :class:`GraphDocument` snapshots.
"""

from __future__ import annotations

from brepflow_lab.collab.ydoc import YGraph
from brepflow_lab.graph.model import GraphDocument


class NotJoinedError(RuntimeError):
    """A local edit before the replica has received the room's state."""


class Replica:
    """A kernel's replica of one shared graph (see the module docstring)."""

    def __init__(self) -> None:
        self.ygraph = YGraph()
        self.joined = False

    @property
    def origin(self) -> str:
        return self.ygraph.origin

    def document(self) -> GraphDocument:
        """The projection: the valid graph every replica with this state shows."""
        return self.ygraph.document()

    def receive(self, update: bytes) -> GraphDocument:
        """Apply an update from the room; returns the projection afterwards."""
        self.ygraph.ydoc.apply_update(bytes(update))
        self.joined = True
        return self.document()

    def state(self) -> bytes:
        """This replica's state vector (what it has seen)."""
        return self.ygraph.ydoc.get_state()

    def missing(self, state: bytes) -> bytes:
        """The update another replica with ``state`` lacks."""
        return self.ygraph.ydoc.get_update(state)

    def commit(self, doc: GraphDocument) -> bytes:
        """Make the shared state equal ``doc`` as this person's edit; returns the update to send.

        Only the atoms that differ are written, so concurrent edits of other things survive.
        """
        if not self.joined:
            raise NotJoinedError("the Studio is still joining the shared document; try again in a moment")
        before = self.state()
        self.ygraph.apply_document(doc)
        return self.missing(before)

    def undo(self) -> bytes | None:
        """Undo this person's last edit; the update to send, or None when there was nothing."""
        return self._step(self.ygraph.undo_manager.undo)

    def redo(self) -> bytes | None:
        return self._step(self.ygraph.undo_manager.redo)

    def _step(self, action: object) -> bytes | None:
        before = self.state()
        if not action():  # type: ignore[operator]
            return None
        update = self.missing(before)
        return update or None


__all__ = ["NotJoinedError", "Replica"]
