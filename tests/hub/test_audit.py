"""The audit log itself: append-only JSON lines from many processes, queries, the CLI."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from brepflow_lab.hub import audit
from brepflow_lab.hub.server_ext import graph_save_event, post_save_hook

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.delenv(audit.ENV_VAR, raising=False)
    path = audit.configure(tmp_path / "audit.log")
    yield path
    audit.configure(None)


def _writer(path: str, worker: int, count: int) -> None:
    audit.configure(path)
    for i in range(count):
        audit.record("graph_save", user=f"u{worker}", i=i, blob="x" * (100 + 37 * i % 3000))


def test_record_appends_one_json_line_per_event(log):
    event = audit.record("login", user="alice", method="password")
    assert event is not None and event["kind"] == "login" and event["ts"].endswith("Z")
    audit.record("logout", user="alice")
    lines = log.read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["login", "logout"]
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_many_processes_append_without_interleaving(log):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(log), w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    result = audit.read(log)
    assert result.bad_lines == [] and len(result.events) == 600
    for w in range(4):
        assert [e["i"] for e in result.events if e["user"] == f"u{w}"] == list(range(150))


def test_bad_kinds_and_reserved_keys_are_refused(log):
    with pytest.raises(ValueError, match="lowercase identifier"):
        audit.record("Login!", user="x")
    with pytest.raises(ValueError, match="reserved"):
        audit.record("login", user="x", ts="forged")


def test_unconfigured_log_records_nothing(monkeypatch):
    monkeypatch.delenv(audit.ENV_VAR, raising=False)
    audit.configure(None)
    assert audit.record("login", user="x") is None


def test_read_filters_and_reports_damaged_lines(log):
    audit.record("login", user="alice")
    audit.record("login_failed", user="bob", reason="bad_password")
    with log.open("a") as fh:
        fh.write("{not json\n")
    audit.record("graph_save", user="alice", path="a.bflow.json")
    result = audit.read(log, user="alice")
    assert [e["kind"] for e in result.events] == ["login", "graph_save"] and result.bad_lines == [3]
    assert [e["user"] for e in audit.read(log, kinds=["login_failed"]).events] == ["bob"]
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert audit.read(log, since=future).events == []


def test_parse_since():
    now = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
    assert audit.parse_since("2h", now=now) == now - timedelta(hours=2)
    assert audit.parse_since("30m", now=now) == now - timedelta(minutes=30)
    assert audit.parse_since("7d", now=now) == now - timedelta(days=7)
    assert audit.parse_since("2026-01-01T10:00") == datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="duration such as"):
        audit.parse_since("yesterday")


def test_cli_queries_by_user_kind_and_time(log):
    audit.record("login", user="alice")
    audit.record("login", user="bob")
    audit.record("graph_save", user="alice", path="p.bflow.json", sha256="a" * 64)
    base = [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "audit", "--log", str(log)]
    out = subprocess.run([*base, "--user", "alice", "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["kind"] for e in events] == ["login", "graph_save"]
    out = subprocess.run(
        [*base, "--kind", "graph_save", "--since", "5m"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert (
        out.returncode == 0 and "graph_save" in out.stdout and "p.bflow.json" in out.stdout and "bob" not in out.stdout
    )
    bad = subprocess.run([*base, "--since", "soon"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 1 and "duration such as" in bad.stderr and "Traceback" not in bad.stderr


def test_post_save_hook_writes_graph_saves_without_a_hub(log, tmp_path, monkeypatch):
    for var in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL"):
        monkeypatch.delenv(var, raising=False)
    team = tmp_path / "teams" / "engineering"
    team.mkdir(parents=True)
    graph = team / "part.bflow.json"
    graph.write_text('{"version": "0.1.0", "nodes": [], "edges": []}')
    monkeypatch.setenv("BREPFLOW_TEAM_ROOT", str(tmp_path / "teams"))
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    post_save_hook({"type": "file", "path": "engineering/part.bflow.json"}, str(graph))
    post_save_hook({"type": "notebook", "path": "n.ipynb"}, str(tmp_path / "n.ipynb"))
    events = audit.read(log).events
    assert len(events) == 1 and events[0]["kind"] == "graph_save" and events[0]["team"] == "engineering"
    assert events[0]["user"] == "alice" and len(events[0]["sha256"]) == 64
    assert graph_save_event({"type": "file"}, str(tmp_path / "x.txt")) is None
    # a failing hub never fails the save: the hook logs and returns
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:9/hub/api")
    post_save_hook({"type": "file", "path": "engineering/part.bflow.json"}, str(graph))
    assert os.path.exists(graph)
