"""Bad input on the real catalogue: each problem gets a specific error, the rest evaluates."""

from __future__ import annotations

import math

import pytest

from brepflow_lab import ErrorCode, Graph
from brepflow_lab.graph import bflow

BROKEN = """{
  "version": "0.1.0", "units": "mm", "tolerance": 0.001,
  "parameters": {"r": {"value": 5}},
  "nodes": [
    {"id": "good", "type": "Solid::Cylinder", "inputs": {}, "params": {"radius": "@r", "height": 10}},
    {"id": "negative", "type": "Solid::Sphere", "inputs": {}, "params": {"radius": -3}},
    {"id": "nan", "type": "Solid::Sphere", "inputs": {}, "params": {"radius": NaN}},
    {"id": "wrong_type", "type": "Solid::Box", "inputs": {}, "params": {"width": "wide"}},
    {"id": "bool_as_number", "type": "Solid::Box", "inputs": {}, "params": {"width": true}},
    {"id": "injection", "type": "Solid::Box", "inputs": {}, "params": {"width": "__import__('os').system('echo pwned')"}},
    {"id": "attr", "type": "Solid::Box", "inputs": {}, "params": {"width": "@r.__class__"}},
    {"id": "missing", "type": "Solid::Box", "inputs": {}, "params": {"width": "@nope"}},
    {"id": "unknown", "type": "Solid::Blob", "inputs": {}, "params": {}},
    {"id": "dangling", "type": "Transform::Move", "inputs": {"shape": {"nodeId": "ghost", "socketId": "shape"}}, "params": {}},
    {"id": "cyc_a", "type": "Transform::Move", "inputs": {"shape": {"nodeId": "cyc_b", "socketId": "shape"}}, "params": {}},
    {"id": "cyc_b", "type": "Transform::Move", "inputs": {"shape": {"nodeId": "cyc_a", "socketId": "shape"}}, "params": {}},
    {"id": "small", "type": "Solid::Box", "inputs": {}, "params": {"width": 10, "height": 10, "depth": 10}},
    {"id": "big_fillet", "type": "Features::Fillet", "inputs": {"shape": {"nodeId": "small", "socketId": "shape"}},
     "params": {"radius": 50, "selectAll": true}},
    {"id": "far", "type": "Solid::Box", "inputs": {}, "params": {"width": 1, "height": 1, "depth": 1, "center": {"x": 500, "y": 0, "z": 0}}},
    {"id": "empty", "type": "Boolean::Intersect", "inputs": {"shapes": [{"nodeId": "small", "socketId": "shape"}, {"nodeId": "far", "socketId": "shape"}]}, "params": {}},
    {"id": "line", "type": "Sketch::Line", "inputs": {}, "params": {}},
    {"id": "curve_into_solid", "type": "Features::Shell", "inputs": {"shape": {"nodeId": "line", "socketId": "curve"}}, "params": {}},
    {"id": "bad_selector", "type": "Features::Chamfer", "inputs": {"shape": {"nodeId": "small", "socketId": "shape"}}, "params": {"distance": 1, "edges": ">>>Q("}}
  ],
  "edges": [
    {"id": "e1", "source": "cyc_b", "sourceHandle": "shape", "target": "cyc_a", "targetHandle": "shape"},
    {"id": "e2", "source": "cyc_a", "sourceHandle": "shape", "target": "cyc_b", "targetHandle": "shape"},
    {"id": "e3", "source": "small", "sourceHandle": "shape", "target": "big_fillet", "targetHandle": "shape"},
    {"id": "e4", "source": "small", "sourceHandle": "shape", "target": "empty", "targetHandle": "shapes"},
    {"id": "e5", "source": "far", "sourceHandle": "shape", "target": "empty", "targetHandle": "shapes"},
    {"id": "e6", "source": "line", "sourceHandle": "curve", "target": "curve_into_solid", "targetHandle": "shape"},
    {"id": "e7", "source": "small", "sourceHandle": "shape", "target": "bad_selector", "targetHandle": "shape"}
  ]
}"""

EXPECTED = {
    "negative": ErrorCode.PARAM_INVALID,
    "nan": ErrorCode.PARAM_INVALID,
    "wrong_type": ErrorCode.PARAM_INVALID,
    "bool_as_number": ErrorCode.PARAM_INVALID,
    "injection": ErrorCode.PARAM_INVALID,
    "attr": ErrorCode.PARAM_INVALID,
    "missing": ErrorCode.PARAM_MISSING,
    "unknown": ErrorCode.UNKNOWN_NODE_TYPE,
    "dangling": ErrorCode.DANGLING_EDGE,
    "cyc_a": ErrorCode.CYCLE,
    "cyc_b": ErrorCode.CYCLE,
    "big_fillet": ErrorCode.GEOM_FILLET_FAIL,
    "empty": ErrorCode.GEOM_EMPTY_RESULT,
    "bad_selector": ErrorCode.PARAM_INVALID,
}


@pytest.fixture(scope="module")
def result():
    g = Graph(bflow.loads(BROKEN))
    return g.evaluate()


def test_good_nodes_still_evaluate(result):
    cyl = result["good"]["shape"]
    assert cyl.isValid() and cyl.Volume() == pytest.approx(math.pi * 25 * 10)
    assert result.nodes["small"].status == "ok"
    assert result.nodes["line"].status == "ok"


@pytest.mark.parametrize(("node_id", "code"), sorted(EXPECTED.items()))
def test_each_problem_has_its_specific_error(result, node_id, code):
    node = result.nodes[node_id]
    assert node.status == "failed", node
    assert node.error.code is code, str(node.error)
    assert f"node '{node_id}'" in str(node.error)


def test_messages_name_parameter_and_cause(result):
    assert "radius" in str(result.nodes["negative"].error) and "greater than 0" in str(result.nodes["negative"].error)
    assert "50" in str(result.nodes["big_fillet"].error)
    assert "do not overlap" in str(result.nodes["empty"].error)
    assert "@nope" in str(result.nodes["missing"].error)
    err = result.nodes["curve_into_solid"].error
    assert err.code in (ErrorCode.GEOM_INVALID_INPUT, ErrorCode.PORT_TYPE_MISMATCH) and "Curve" in str(err)


def test_no_internal_errors(result):
    assert not [n for n in result.nodes.values() if n.error is not None and n.error.code is ErrorCode.INTERNAL_ERROR]


def test_validation_lists_every_problem_before_running():
    g = Graph(bflow.loads(BROKEN))
    errors = [p for p in g.validate() if p.severity == "error"]
    flagged = {p.node_id for p in errors}
    static = set(EXPECTED) - {"big_fillet", "empty", "bad_selector", "cyc_b"}  # these only fail when run
    assert static <= flagged, static - flagged
    (cycle,) = [p for p in errors if p.code is ErrorCode.CYCLE]
    assert "cyc_a -> cyc_b -> cyc_a" in cycle.message
    assert "curve_into_solid" in flagged  # Solid input refuses a Curve output, statically
