"""Validation collects every problem before anything runs."""

from __future__ import annotations

from brepflow_lab import Graph
from brepflow_lab.errors import ErrorCode
from brepflow_lab.graph import bflow
from brepflow_lab.graph.validate import validate


def _doc(nodes, edges, parameters=None):
    data = {"version": "0.1.0", "units": "mm", "tolerance": 0.001, "nodes": nodes, "edges": edges}
    if parameters is not None:
        data["parameters"] = parameters
    return bflow.parse(data)


def ref(node, socket="value"):
    return {"nodeId": node, "socketId": socket}


def edge(i, s, t, th, sh="value"):
    return {"id": i, "source": s, "sourceHandle": sh, "target": t, "targetHandle": th}


def test_every_kind_of_problem_is_reported_together(registry):
    doc = bflow.loads(
        """{
      "version": "0.1.0", "units": "mm", "tolerance": 0.001,
      "parameters": {"L": {"value": 600, "max": 500}},
      "nodes": [
        {"id": "u", "type": "Demo::Unknown", "inputs": {}, "params": {}},
        {"id": "a", "type": "Demo::Const", "inputs": {}, "params": {"value": 1}},
        {"id": "badsock", "type": "Demo::Add", "inputs": {"a": {"nodeId": "a", "socketId": "nope"}, "zz": {"nodeId": "a", "socketId": "value"}}, "params": {}},
        {"id": "dangle", "type": "Demo::Add", "inputs": {"a": {"nodeId": "ghost", "socketId": "value"}}, "params": {}},
        {"id": "p", "type": "Demo::Add", "inputs": {"a": {"nodeId": "q", "socketId": "value"}}, "params": {}},
        {"id": "q", "type": "Demo::Add", "inputs": {"a": {"nodeId": "p", "socketId": "value"}}, "params": {}},
        {"id": "miss", "type": "Demo::Radius", "inputs": {}, "params": {"radius": "@wall"}},
        {"id": "range", "type": "Demo::Radius", "inputs": {}, "params": {"radius": -2}},
        {"id": "nan", "type": "Demo::Radius", "inputs": {}, "params": {"radius": NaN}},
        {"id": "wrong", "type": "Demo::Radius", "inputs": {}, "params": {"radius": "abc", "flag": 3, "offset": {"x": 1, "y": "two", "z": 0}}},
        {"id": "inject", "type": "Demo::Radius", "inputs": {}, "params": {"radius": "__import__('os').getcwd()"}},
        {"id": "usesL", "type": "Demo::Radius", "inputs": {}, "params": {"radius": "@L"}},
        {"id": "extra", "type": "Demo::Const", "inputs": {}, "params": {"color": "red"}}
      ],
      "edges": [
        {"id": "e1", "source": "q", "sourceHandle": "value", "target": "p", "targetHandle": "a"},
        {"id": "e2", "source": "p", "sourceHandle": "value", "target": "q", "targetHandle": "a"},
        {"id": "e3", "source": "a", "sourceHandle": "value", "target": "nowhere", "targetHandle": "a"},
        {"id": "e4", "source": "a", "sourceHandle": "value", "target": "extra", "targetHandle": "a"}
      ]
    }"""
    )
    problems = validate(doc, registry)
    found = {(p.code, p.node_id) for p in problems if p.severity == "error"}
    expected = {
        (ErrorCode.UNKNOWN_NODE_TYPE, "u"),
        (ErrorCode.UNKNOWN_SOCKET, "badsock"),
        (ErrorCode.DANGLING_EDGE, "dangle"),
        (ErrorCode.CYCLE, "p"),
        (ErrorCode.PARAM_MISSING, "miss"),
        (ErrorCode.PARAM_INVALID, "range"),
        (ErrorCode.PARAM_INVALID, "nan"),
        (ErrorCode.PARAM_INVALID, "wrong"),
        (ErrorCode.PARAM_INVALID, "inject"),
        (ErrorCode.EDGE_MISMATCH, "extra"),
    }
    assert expected <= found, expected - found
    texts = [str(p) for p in problems]
    assert any("no input 'zz'" in t for t in texts)
    assert any("has no output 'nope'" in t for t in texts)
    assert any("cycle through nodes p -> q -> p" in t for t in texts)
    assert any("'@wall' is not set" in t for t in texts)
    assert any("greater than 0" in t and "range" in t for t in texts)
    assert any("finite" in t for t in texts)
    assert any("above its maximum 500" in t for t in texts)  # global parameter out of its range
    assert any(p.code is ErrorCode.DANGLING_EDGE and "e3" in p.message for p in problems)
    wrong = [p for p in problems if p.node_id == "wrong"]
    assert {p.param for p in wrong} == {"radius", "flag", "offset"}
    assert any(p.severity == "warning" and p.code is ErrorCode.UNKNOWN_PARAM and p.param == "color" for p in problems)
    assert any(p.code is ErrorCode.UNKNOWN_NODE_TYPE and "Demo::Unknown" in p.message for p in problems)


def test_port_types_solid_refuses_curve():
    from brepflow_lab.nodes.spec import port_accepts

    assert port_accepts("Shape", "Curve")
    assert port_accepts("Shape", "Solid")
    assert not port_accepts("Solid", "Curve")
    assert not port_accepts("Solid", "Number")
    assert port_accepts("Solid", "Shape")  # only known at run time


def test_valid_graph_has_no_errors(registry):
    g = Graph.new()
    g.registry = registry
    a = g.add("Demo::Const", value=2)
    s = g.add("Demo::Add")
    g.connect(a, "value", s, "a")
    assert [p for p in g.validate() if p.severity == "error"] == []


def test_unknown_type_suggests_the_close_name(registry):
    doc = _doc([{"id": "a", "type": "Demo::Cosnt", "inputs": {}, "params": {}}], [])
    (p,) = [p for p in validate(doc, registry) if p.code is ErrorCode.UNKNOWN_NODE_TYPE]
    assert "did you mean 'Demo::Const'" in p.message


def test_global_parameter_cycle_is_reported(registry):
    doc = _doc(
        [{"id": "a", "type": "Demo::Const", "inputs": {}, "params": {"value": "@x"}}],
        [],
        parameters={"x": {"value": "@y + 1"}, "y": {"value": "@x * 2"}},
    )
    problems = validate(doc, registry)
    assert any("cycle" in p.message for p in problems)


def test_global_parameters_can_be_expressions(registry):
    doc = _doc(
        [{"id": "a", "type": "Demo::Const", "inputs": {}, "params": {"value": "@inner"}}],
        [],
        parameters={"outer": {"value": 100}, "wall": {"value": "2 mm"}, "inner": {"value": "@outer - 2*@wall"}},
    )
    g = Graph(doc, registry=registry)
    assert g.evaluate()["a"]["value"] == 96.0


def test_single_input_with_several_links(registry):
    doc = _doc(
        [
            {"id": "a", "type": "Demo::Const", "inputs": {}, "params": {}},
            {"id": "s", "type": "Demo::Add", "inputs": {"a": [ref("a"), ref("a")]}, "params": {}},
        ],
        [edge("e1", "a", "s", "a")],
    )
    assert any("takes one link but has 2" in p.message for p in validate(doc, registry))


def test_input_without_edge_is_a_mismatch(registry):
    doc = _doc(
        [
            {"id": "a", "type": "Demo::Const", "inputs": {}, "params": {}},
            {"id": "b", "type": "Demo::Const", "inputs": {}, "params": {}},
            {"id": "s", "type": "Demo::Add", "inputs": {"a": ref("a"), "b": ref("b")}, "params": {}},
        ],
        [edge("e1", "a", "s", "a")],
    )
    problems = [p for p in validate(doc, registry) if p.code is ErrorCode.EDGE_MISMATCH]
    assert len(problems) == 1 and "no edge" in problems[0].message
