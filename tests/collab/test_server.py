"""The server's start-up check of live collaboration (brepflow_lab.collab.server)."""

from __future__ import annotations

import pytest
from jupyter_ydoc import ydocs

from brepflow_lab.collab.server import collaboration_state


def test_off_when_the_ydoc_server_is_not_enabled() -> None:
    level, message = collaboration_state({})
    assert level == "warning" and "OFF" in message


def test_on_when_bflow_is_our_ygraph() -> None:
    assert collaboration_state({"jupyter_server_ydoc": True})[0] == "info"


def test_loud_when_the_entry_point_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ydocs, "bflow")
    level, message = collaboration_state({"jupyter_server_ydoc": True})
    assert level == "error" and "'bflow' is missing" in message and "plain text" in message
