"""Loading and validating a graph stays light: no jsonschema format checkers, no OCCT, no Dask.

``import jsonschema`` compiles rfc3987-syntax's lark grammars (~1.2-1.9 s) and ``import
cadquery`` costs ~3 s, so a valid file must be read and validated without either. These are
behaviour tests (what a fresh process imports); the timings are in benchmarks/bench_startup.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brepflow_lab.graph import bflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"
HEAVY = ("jsonschema._format", "rfc3987_syntax", "lark", "cadquery", "OCP", "dask")

_PROBE = """
import json, sys
import brepflow_lab
from brepflow_lab.cli import main

path = sys.argv[1]
g = brepflow_lab.load(path)
errors = [p for p in g.validate() if p.severity == "error"]
code = main(["validate", path])
print(json.dumps({"errors": len(errors), "code": code, "nodes": len(g.document.nodes),
                  "loaded": [m for m in json.loads(sys.argv[2]) if m in sys.modules]}))
"""


def _probe(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loading_and_validating_imports_nothing_heavy():
    report = _probe(EXAMPLE)
    assert report["errors"] == 0 and report["code"] == 0 and report["nodes"] == 15
    assert report["loaded"] == []


def test_a_thousand_node_file_imports_nothing_heavy(tmp_path):
    data = json.loads(EXAMPLE.read_text())
    template = next(n for n in data["nodes"] if n["type"] == "Solid::Box")
    data["nodes"] = [
        {**copy.deepcopy(template), "id": f"box{i}", "inputs": {}, "position": {"x": i, "y": 0}} for i in range(1000)
    ]
    data["edges"] = []
    path = tmp_path / "big.bflow.json"
    path.write_text(json.dumps(data))
    report = _probe(path)
    assert report["errors"] == 0 and report["code"] == 0 and report["nodes"] == 1000
    assert report["loaded"] == []


def test_a_file_with_problems_still_gets_every_problem_with_its_path():
    data = json.loads(EXAMPLE.read_text())
    data["tolerance"] = "fine"
    data["nodes"][0]["position"] = {"x": "left"}
    data["edges"][0].pop("target")
    problems = bflow.schema_problems(data)
    paths = {p.path for p in problems}
    assert {"tolerance", "nodes[0].position.x", "nodes[0].position", "edges[0]"} <= paths, paths


def _full_verdict(data: object) -> bool:
    return not any(True for _ in bflow._validator().iter_errors(data))


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
    st.sampled_from(["mm", "1.0.0", "x", "Solid::Box", "@L", ""]),
    st.lists(st.integers(0, 2), max_size=3),
    st.dictionaries(st.sampled_from(["x", "y", "z", "value", "nodeId", "socketId"]), st.integers(0, 2), max_size=3),
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


_DOC = json.loads(EXAMPLE.read_text())
_DOC_PATHS = [p for p in _paths(_DOC) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_DOC_PATHS), _VALUES, st.booleans()), min_size=1, max_size=3))
def test_the_fast_check_agrees_with_the_full_validator(mutations):
    """Both validators come from the same schema file; on damaged files they must agree."""
    assert bflow._fast_validator() is not None  # fastjsonschema comes with JupyterLab (nbformat)
    data = copy.deepcopy(_DOC)
    for path, value, delete in mutations:
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    assert bflow._passes_fast_check(data) == _full_verdict(data)
