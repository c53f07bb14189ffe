"""The graph model: immutable values for nodes, edges, parameters and the document.

A :class:`GraphDocument` is a frozen snapshot of a ``.bflow.json`` file. Edits make a new
snapshot (``dataclasses.replace``); the mutable, notebook-friendly :class:`brepflow_lab.Graph`
holds the current snapshot. Snapshots make evaluation safe while the user keeps editing
(the engine works on the snapshot it was given), make undo/redo trivial, and make
"did anything change?" an equality test.

Params are stored as the JSON values the file holds (numbers, booleans, strings,
``{"x", "y", "z"}`` vectors, ``"@name"`` references, expression strings) — resolution
happens at evaluation time, so a load → save round trip keeps them exactly. Keys this
model does not know are kept in ``extra`` and written back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "Edge",
    "GraphDocument",
    "InputLinks",
    "Node",
    "Parameter",
    "SocketRef",
]

JSON = Any


@dataclass(frozen=True)
class SocketRef:
    """``{"nodeId": ..., "socketId": ...}``: an output socket of another node."""

    node_id: str
    socket: str

    def to_json(self) -> dict[str, str]:
        return {"nodeId": self.node_id, "socketId": self.socket}


#: an input holds one link, or (multi-inputs) a list of links
InputLinks = SocketRef | tuple[SocketRef, ...]


def links_of(value: InputLinks) -> tuple[SocketRef, ...]:
    return value if isinstance(value, tuple) else (value,)


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    position: tuple[float, float] = (0.0, 0.0)
    inputs: Mapping[str, InputLinks] = field(default_factory=dict)
    params: Mapping[str, JSON] = field(default_factory=dict)
    label: str | None = None
    extra: Mapping[str, JSON] = field(default_factory=dict)

    def links(self) -> Iterator[tuple[str, SocketRef]]:
        """Every (input name, source) pair, multi-inputs expanded in order."""
        for name, value in self.inputs.items():
            for ref in links_of(value):
                yield name, ref

    def upstream_ids(self) -> set[str]:
        return {ref.node_id for _, ref in self.links()}


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    source_handle: str
    target: str
    target_handle: str
    extra: Mapping[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class Parameter:
    """A global parameter (``@name``): BrepFlow files lack these, we add a ``parameters`` block."""

    value: JSON
    min: float | None = None
    max: float | None = None
    step: float | None = None
    unit: str | None = None
    description: str | None = None
    extra: Mapping[str, JSON] = field(default_factory=dict)

    def with_value(self, value: JSON) -> Parameter:
        return replace(self, value=value)


@dataclass(frozen=True)
class GraphDocument:
    version: str = "0.1.0"
    units: str = "mm"
    tolerance: float = 0.001
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    metadata: Mapping[str, JSON] | None = None
    extra: Mapping[str, JSON] = field(default_factory=dict)

    def node(self, node_id: str) -> Node | None:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    def node_map(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    def with_node(self, node: Node) -> GraphDocument:
        """Replace the node with ``node.id`` (or append it)."""
        nodes = list(self.nodes)
        for i, existing in enumerate(nodes):
            if existing.id == node.id:
                nodes[i] = node
                break
        else:
            nodes.append(node)
        return replace(self, nodes=tuple(nodes))
