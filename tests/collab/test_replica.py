"""Kernel replicas of a shared graph (brepflow_lab.collab.replica): relay, per-person undo, no echo."""

from __future__ import annotations

from pathlib import Path

import pytest

from brepflow_lab.collab.replica import NotJoinedError, Replica
from brepflow_lab.collab.ydoc import YGraph
from brepflow_lab.graph import bflow
from brepflow_lab.graph.model import GraphDocument

ROOT = Path(__file__).resolve().parents[2]


class Room:
    """A stand-in for the server's room: a YGraph loaded from the file that relays updates."""

    def __init__(self, text: str) -> None:
        self.doc = YGraph()
        self.doc.set(text)
        self.members: list[Replica] = []

    def join(self) -> Replica:
        replica = Replica()
        replica.receive(self.doc.ydoc.get_update())
        self.members.append(replica)
        return replica

    def send(self, sender: Replica, update: bytes | None) -> None:
        assert update
        self.doc.ydoc.apply_update(update)
        for member in self.members:
            if member is not sender:
                member.receive(update)


def with_param(doc: GraphDocument, node_id: str, name: str, value: object) -> GraphDocument:
    data = bflow.to_json(doc)
    for node in data["nodes"]:
        if node["id"] == node_id:
            node["params"][name] = value
    return bflow.parse(data)


def numeric_params(doc: GraphDocument) -> list[tuple[str, str]]:
    return [
        (n.id, k)
        for n in doc.nodes
        for k, v in n.params.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]


def test_edits_cross_and_undo_is_per_person() -> None:
    room = Room((ROOT / "examples" / "enclosure.bflow.json").read_text())
    alice, bob = room.join(), room.join()
    assert alice.document() == bob.document() == room.doc.document()
    params = numeric_params(alice.document())
    a_node, a_name = params[0]
    b_node, b_name = next(p for p in params if p[0] != a_node)
    room.send(alice, alice.commit(with_param(alice.document(), a_node, a_name, 111)))
    room.send(bob, bob.commit(with_param(bob.document(), b_node, b_name, 222)))
    for replica in (alice, bob):
        doc = replica.document()
        assert doc.node(a_node).params[a_name] == 111
        assert doc.node(b_node).params[b_name] == 222
    # alice's undo takes back her edit only
    room.send(alice, alice.undo())
    for replica in (alice, bob):
        doc = replica.document()
        assert doc.node(a_node).params[a_name] != 111
        assert doc.node(b_node).params[b_name] == 222
    assert bob.undo() is not None  # bob still has his own step
    assert alice.undo() is None  # nothing more of alice's


def test_no_edit_before_joining() -> None:
    replica = Replica()
    with pytest.raises(NotJoinedError):
        replica.commit(bflow.loads((ROOT / "examples" / "enclosure.bflow.json").read_text()))


def test_an_outside_write_keeps_edits_the_server_had_not_saved_yet() -> None:
    text = (ROOT / "examples" / "enclosure.bflow.json").read_text()
    room = Room(text)
    room.doc.dirty = False  # the server loaded the file
    alice = room.join()
    params = numeric_params(alice.document())
    (a_node, a_name), (f_node, f_name) = params[0], next(p for p in params if p[0] != params[0][0])
    # alice edits; the room has not saved it yet when another program writes the file
    room.send(alice, alice.commit(with_param(alice.document(), a_node, a_name, 123)))
    outside = with_param(bflow.loads(text), f_node, f_name, 456)
    room.doc.set(bflow.dumps(outside))
    merged = room.doc.document()
    assert merged.node(a_node).params[a_name] == 123  # alice's unsaved edit survived
    assert merged.node(f_node).params[f_name] == 456  # and the outside write landed
    # after the server saved, the file is the base: the next outside write is taken as is
    room.doc.get()
    room.doc.dirty = False
    again = with_param(merged, f_node, f_name, 789)
    room.doc.set(bflow.dumps(again))
    assert room.doc.document().node(f_node).params[f_name] == 789
    assert room.doc.document().node(a_node).params[a_name] == 123
