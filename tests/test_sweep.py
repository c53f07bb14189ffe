"""Parameter sweeps on real OCCT: in parallel on a Dask LocalCluster, in this process, and
from the command line.

One LocalCluster (2 worker processes, dashboard off) serves the whole module; it is closed
in teardown. The CLI tests reach it with ``--scheduler ADDRESS``, so they exercise that path
without starting another cluster.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from brepflow_lab import Graph
from brepflow_lab.engine import Evaluator, MemoryCache
from brepflow_lab.engine.dask_executor import DaskExecutor, DaskLimitError
from brepflow_lab.errors import GraphError
from brepflow_lab.nodes import catalogue
from brepflow_lab.sweep import (
    RESULT_COLUMNS,
    MatrixError,
    Progress,
    SweepInterrupted,
    load_matrix,
    resolve_executor,
    run_sweep,
)

from .engine.demo_nodes import make_registry
from .test_cli import enclosure_volume

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"
PARAMS = ("L", "W", "H", "wall", "corner", "inset")
FAILING = {"L": 100, "W": 30, "H": 30, "wall": 2, "corner": 20, "inset": 9}  # fillet radius too large


@pytest.fixture(scope="module")
def cluster(dask_executor: DaskExecutor) -> DaskExecutor:
    return dask_executor


def enclosure() -> Graph:
    return Graph.load(EXAMPLE, evaluator=Evaluator(catalogue, cache=MemoryCache()))


def matrix_24() -> list[dict[str, float]]:
    grid = itertools.product([100, 140, 180], [60, 90], [30, 50], [2, 2.5], [4, 6], [8, 9, 10])
    rows = [dict(zip(PARAMS, values)) for values in itertools.islice(grid, 0, None, 6)][:23]
    rows.insert(7, FAILING)
    return rows


def test_sweep_of_24_enclosures_goes_on_past_the_one_that_cannot_be_built(cluster):
    g = enclosure()
    matrix = matrix_24()
    assert len(matrix) == 24
    table = g.sweep(matrix, executor=cluster, progress=False)
    assert len(table) == 24 and [v.index for v in table] == list(range(24))
    assert table.counts() == {"ok": 23, "failed": 1}
    assert not table.ok and g.last_sweep is table
    bad = table[7]
    assert bad.parameters == FAILING
    assert bad.error_code == "GEOM_FILLET_FAIL" and bad.error_node == "round"
    assert "fillet radius 20 mm is too large" in bad.error_message
    assert bad.volume is None and bad.fingerprint is None
    for v, row in zip(table, matrix):
        assert v.parameters == row  # rows in matrix order, with their own parameters
        if not v.ok:
            continue
        assert v.bbox == pytest.approx((0, 0, 0, row["L"], row["W"], row["H"]), abs=1e-6)
        assert len(v.fingerprint) == 64 and v.seconds > 0 and v.area > 0
        if row["inset"] == 9:  # the closed form assumes the bosses stand clear of the walls
            expected = enclosure_volume(L=row["L"], W=row["W"], H=row["H"], t=row["wall"], r=row["corner"])
            assert v.volume == pytest.approx(expected, rel=1e-6)
    # the same variants evaluated in this process give the same geometry, bit for bit
    local = g.sweep(matrix, executor="sync", progress=False)
    assert local.executor == "sync" and table.executor == "dask"
    assert [v.fingerprint for v in local] == [v.fingerprint for v in table]
    assert [v.status for v in local] == [v.status for v in table]
    # the failed variant has no volume: compare it as None, the others within 1e-12
    # (pytest.approx of a list holding None raises TypeError from pytest 9.2 on)
    assert [v.volume is None for v in local] == [v.volume is None for v in table]
    for here, there in zip(local, table):
        if here.volume is not None:
            assert here.volume == pytest.approx(there.volume, rel=1e-12)


def test_the_matrix_may_be_dicts_a_dataframe_or_a_csv_file(cluster, tmp_path):
    import pandas as pd  # the [test] extra

    rows = [{"L": 110, "inset": 9.5}, {"L": 130, "H": 45}, {"W": 70}]
    path = tmp_path / "matrix.csv"
    path.write_text("@L,inset,H,W\n110,9.5,,\n130,,45,\n,,,70\n", encoding="utf-8")
    g = enclosure()
    tables = [
        g.sweep(rows, executor=cluster, progress=False),
        g.sweep(pd.DataFrame(rows), executor=cluster, progress=False),
        g.sweep(path, executor=cluster, progress=False),
    ]
    fingerprints = [[v.fingerprint for v in t] for t in tables]
    assert fingerprints[0] == fingerprints[1] == fingerprints[2] and None not in fingerprints[0]
    # a cell left empty keeps the graph's value; the table shows the value used
    third = tables[2][2]
    assert third.parameters["W"] == 70 and third.parameters["L"] == g.parameters["L"]
    frame = tables[0].to_dataframe()
    assert list(frame.columns) == ["variant", "L", "inset", "H", "W", *RESULT_COLUMNS]
    assert list(frame["status"]) == ["ok", "ok", "ok"]


def test_exports_and_results_csv(cluster, tmp_path):
    out = tmp_path / "out"
    g = enclosure()
    table = g.sweep([{"L": 100}, FAILING, {"L": 160}], executor=cluster, export="step,stl", out=out, progress=False)
    assert [v.status for v in table] == ["ok", "failed", "ok"]
    assert table[0].exports == ["000_enclosure.step", "000_enclosure.stl"]
    assert table[1].exports == []
    assert (out / "002_enclosure.step").read_text(errors="replace").startswith("ISO-10303-21")
    assert (out / "002_enclosure.stl").stat().st_size > 1000
    assert sorted(p.name for p in out.iterdir()) == [
        "000_enclosure.step",
        "000_enclosure.stl",
        "002_enclosure.step",
        "002_enclosure.stl",
        "manifest.json",
        "results.csv",
    ]
    # teammates can read sweep results in a team folder: the umask's mode, not mkstemp's 0600
    assert (out / "results.csv").stat().st_mode & 0o044 == 0o044
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["counts"] == {"ok": 2, "failed": 1}
    assert manifest["environment"]["packages"]["cadquery"] == metadata.version("cadquery")
    assert manifest["brepflow_lab"]["version"] == metadata.version("brepflow-lab")
    assert manifest["graph"]["document_sha256"] and manifest["defaults"]["L"] == 120
    assert [v["parameters"]["W"] for v in manifest["variants"]] == [80, 30, 80]  # resolved, per variant
    assert manifest["variants"][2]["fingerprint"] == table[2].fingerprint
    assert manifest["options"] == {"targets": ["enclosure.shape"], "export": ["step", "stl"], "quality": "medium"}
    with (out / "results.csv").open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["variant", *PARAMS, *RESULT_COLUMNS]
        rows = list(reader)
    assert [r["variant"] for r in rows] == ["0", "1", "2"]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert rows[1]["error_code"] == "GEOM_FILLET_FAIL" and rows[1]["volume"] == ""
    assert float(rows[2]["volume"]) == table[2].volume and float(rows[2]["bbox_max_x"]) == pytest.approx(160)
    assert rows[2]["exports"] == "002_enclosure.step;002_enclosure.stl"
    assert rows[0]["fingerprint"] == table[0].fingerprint


def test_a_parameter_out_of_its_limits_fails_that_variant_with_the_reason(cluster):
    table = enclosure().sweep([{"L": 500}, {"L": 200}], executor=cluster, progress=False)
    bad, good = table
    assert bad.status == "failed" and bad.error_code == "PARAM_INVALID"
    assert "above its maximum 400" in bad.error_message and "@L" in bad.error_message
    assert good.ok and good.bbox[3] == pytest.approx(200)


def test_target_chooses_the_measured_shape(cluster):
    g = enclosure()
    table = g.sweep([{"H": 30}, {"H": 50}], target="boss", executor=cluster, progress=False)
    wall, height = g.parameters["wall"], g.parameters["H"]
    for v, h in zip(table, (30, 50)):
        assert v.volume == pytest.approx(math.pi * 3.5**2 * (h - wall), rel=1e-9)
    pair = g.sweep([{"inset": 9}], target="holes_front.shapes", executor="sync", progress=False)[0]
    assert pair.volume == pytest.approx(2 * math.pi * 1.25**2 * height, rel=1e-9)  # two holes, one compound
    with pytest.raises(GraphError, match="did you mean 'enclosure'"):
        g.sweep([{"L": 100}], target="enclosur", executor="sync")
    with pytest.raises(GraphError, match="no shape output 'volume'"):
        g.sweep([{"L": 100}], target="enclosure.volume", executor="sync")


def test_bad_matrices_are_refused_with_every_problem_named(tmp_path):
    g = enclosure()
    with pytest.raises(MatrixError) as info:
        g.sweep([{"wal": 3, "L": 100}, {"hieght": 4}], executor="sync")
    text = str(info.value)
    assert "'wal' is not a parameter of this graph (did you mean '@wall'?)" in text
    assert "'hieght'" in text and "known: H, L, W, corner, inset, wall" in text
    with pytest.raises(MatrixError, match="no variants"):
        g.sweep([], executor="sync")
    with pytest.raises(MatrixError, match="one dict"):
        g.sweep({"L": 100}, executor="sync")
    with pytest.raises(MatrixError, match="variant 1 is a int"):
        g.sweep([{"L": 100}, 5], executor="sync")
    with pytest.raises(MatrixError, match="does not exist"):
        g.sweep(tmp_path / "missing.csv", executor="sync")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("L,W\n100,60,7\n", encoding="utf-8")
    with pytest.raises(MatrixError, match="line 2 has more cells than the header"):
        g.sweep(ragged, executor="sync")
    with pytest.raises(MatrixError, match="is not a number, boolean or expression"):
        load_matrix([{"L": object()}], {"L"})
    # expressions and booleans are values too; NaN keeps the graph's value
    assert load_matrix([{"L": "100 mm + 1 in", "W": float("nan"), "@H": True}], {"L", "W", "H"}) == [
        {"L": "100 mm + 1 in", "H": True}
    ]


def test_a_graph_that_cannot_run_at_all_is_refused_before_anything_starts():
    g = enclosure()
    doc = g.to_json()
    doc["nodes"][0]["type"] = "Solid::Boxx"
    broken = Graph.from_json(doc)
    with pytest.raises(GraphError, match="unknown node type 'Solid::Boxx'"):
        broken.sweep([{"L": 100}], executor="sync")
    with pytest.raises(ValueError, match="unknown export format"):
        g.sweep([{"L": 100}], executor="sync", export="step,dwg", out="x")
    with pytest.raises(ValueError, match="export= needs out="):
        g.sweep([{"L": 100}], executor="sync", export="step")
    with pytest.raises(ValueError, match="not both"):
        resolve_executor(workers=2, scheduler="tcp://127.0.0.1:1")


def test_limits_refuse_a_larger_local_cluster_before_starting_it(monkeypatch):
    monkeypatch.setenv("BREPFLOW_MAX_DASK_WORKERS", "1")
    with pytest.raises(DaskLimitError, match="3 Dask workers requested, but your limit is 1"):
        enclosure().sweep([{"L": 100}], workers=3)


def slow_graph() -> Graph:
    """Demo nodes (shipped to the workers by value) that sleep ``@t`` seconds: no shapes."""
    registry = make_registry()
    g = Graph.new()
    g.registry = registry
    g.evaluator = Evaluator(registry, cache=MemoryCache())
    g.parameters["t"] = 1.0
    g.add("Demo::Sleep", id="nap", seconds="@t")
    return g


def test_ctrl_c_cancels_the_remaining_variants(cluster, tmp_path):
    g = slow_graph()
    matrix = [{"t": 1.0 + i / 1000} for i in range(12)]  # 6 s on two workers
    seen = []

    def interrupt_after_two(variant):
        seen.append(variant.index)
        if len(seen) == 2:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C (or a notebook interrupt) delivers

    start = time.perf_counter()
    with pytest.raises(SweepInterrupted) as info:
        run_sweep(g, matrix, executor=cluster, out=tmp_path, progress=False, on_variant=interrupt_after_two)
    elapsed = time.perf_counter() - start
    table = info.value.result
    assert isinstance(info.value, KeyboardInterrupt) and table.interrupted
    counts = table.counts()
    assert counts["ok"] >= 2 and counts["cancelled"] >= 8 and sum(counts.values()) == 12
    assert elapsed < 5.5  # it did not wait for the rest
    statuses = [r["status"] for r in csv.DictReader(io.StringIO((tmp_path / "results.csv").read_text()))]
    assert statuses.count("cancelled") == counts["cancelled"]
    # nothing is left running on the cluster, and the next sweep works
    deadline = time.monotonic() + 10
    while any(cluster.client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(cluster.client.processing().values())
    after = g.sweep(matrix[:2], executor=cluster, progress=False)
    assert after.ok and after.counts() == {"ok": 2}
    assert g.last_sweep is after


def test_progress_bar_in_a_notebook_and_on_a_terminal():
    bar = Progress(3, "widget")
    assert bar.bar.max == 3 and bar.bar.value == 0
    bar.update(2, failed=1)
    assert bar.bar.value == 2 and bar.bar.bar_style == "warning" and "2/3 variants, 1 failed" in bar.label.value
    bar.update(3)
    bar.close()
    assert bar.bar.bar_style == "warning"  # finished, with a failure
    stream = io.StringIO()
    text = Progress(2, "text", stream=stream)
    text.update(1)
    text.update(2)
    text.close()
    assert "[##############################] 2/2 variants" in stream.getvalue()
    assert stream.getvalue().endswith("\n")
    assert Progress(5, False).mode == ""
    with pytest.raises(ValueError, match="progress must be"):
        Progress(1, "fancy")


def test_result_table_api(cluster):
    table = enclosure().sweep([{"L": 100}, FAILING], executor=cluster, progress=False)
    assert "2 variants: 1 failed, 1 ok" in repr(table)
    html = table._repr_html_()
    assert "GEOM_FILLET_FAIL" in html and "on dask" in html
    rows = table.rows()
    assert rows[0]["status"] == "ok" and rows[1]["error_node"] == "round"
    assert table.columns == ["variant", *PARAMS, *RESULT_COLUMNS]
    assert [v.index for v in table.failed] == [1]


# --------------------------------------------------------------------------- command line


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brepflow_lab.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_cli_sweep_on_a_scheduler_exits_0_and_writes_results(cluster, tmp_path):
    matrix = tmp_path / "params.csv"
    matrix.write_text("L,W,H,wall,corner,inset\n100,60,30,2,4,9\n150,90,45,2.5,5,10\n", encoding="utf-8")
    address = cluster.client.scheduler.address
    result = cli(
        "sweep",
        str(EXAMPLE),
        "--matrix",
        str(matrix),
        "--scheduler",
        address,
        "--export",
        "step",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 0, result.stderr
    assert "2 variants (2 ok)" in result.stdout
    rows = list(csv.DictReader((tmp_path / "o" / "results.csv").open(newline="")))
    assert [r["status"] for r in rows] == ["ok", "ok"] and rows[1]["L"] == "150"
    assert float(rows[0]["volume"]) == pytest.approx(enclosure_volume(L=100, W=60, H=30, t=2, r=4), rel=1e-6)
    assert (tmp_path / "o" / "001_enclosure.step").is_file()


def test_cli_sweep_exit_codes(tmp_path):
    matrix = tmp_path / "params.csv"
    matrix.write_text("L,W,corner\n100,60,4\n100,30,20\n", encoding="utf-8")
    # some variants failed: exit 2, the failure on stderr, every row in results.csv
    result = cli("sweep", str(EXAMPLE), "--matrix", str(matrix), "--workers", "0", "--out", str(tmp_path / "a"))
    assert result.returncode == 2, result.stderr
    assert "variant 1 (L=100, W=30, corner=20) failed: [GEOM_FILLET_FAIL]" in result.stderr
    assert [r["status"] for r in csv.DictReader((tmp_path / "a" / "results.csv").open())] == ["ok", "failed"]
    # an invalid matrix: exit 10, every problem named, nothing evaluated
    bad = tmp_path / "bad.csv"
    bad.write_text("L,Lenght\n100,3\n", encoding="utf-8")
    result = cli("sweep", str(EXAMPLE), "--matrix", str(bad), "--out", str(tmp_path / "b"))
    assert result.returncode == 10
    assert "invalid parameter matrix" in result.stderr and "'Lenght' is not a parameter" in result.stderr
    assert not (tmp_path / "b").exists()
    # an invalid graph file: exit 10
    broken = tmp_path / "broken.bflow.json"
    broken.write_text("{not json", encoding="utf-8")
    result = cli("sweep", str(broken), "--matrix", str(matrix), "--out", str(tmp_path / "c"))
    assert result.returncode == 10 and "invalid" in result.stderr
    # more workers than the hub allows: a clear error, exit 64, no cluster started
    result = cli(
        "sweep",
        str(EXAMPLE),
        "--matrix",
        str(matrix),
        "--workers",
        "4",
        "--out",
        str(tmp_path / "d"),
        env={"BREPFLOW_MAX_DASK_WORKERS": "2"},
    )
    assert result.returncode == 64
    assert (
        "4 Dask workers requested, but your limit is 2 (set by the hub in BREPFLOW_MAX_DASK_WORKERS)" in result.stderr
    )
