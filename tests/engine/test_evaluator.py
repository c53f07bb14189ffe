"""Engine conformance: ordering, dirty propagation, cache, failures, events, supersession.

Every test taking ``make_graph`` runs once per executor in ``conftest.EXECUTORS`` (in this
process, and on a Dask cluster of worker processes); ``calls`` counts the nodes each
evaluation handed to the executor.
"""

from __future__ import annotations

import threading

import pytest

from brepflow_lab.engine import EvaluationFinished, MemoryCache, NodeFailed, NodeFinished, NodeStarted
from brepflow_lab.errors import ErrorCode, GraphError


def chain(g, n=3):
    a = g.add("Demo::Const", id="a", value=2)
    b = g.add("Demo::Const", id="b", value=3)
    s = g.add("Demo::Add", id="s")
    g.connect(a, "value", s, "a")
    g.connect(b, "value", s, "b")
    return a, b, s


def test_evaluates_in_dependency_order_and_returns_outputs(make_graph):
    g = make_graph()
    _, _, s = chain(g)
    r = g.evaluate()
    assert r[s.id]["value"] == 5.0
    assert r.stats.ran == 3 and r.stats.failed == 0
    assert list(r.nodes) == ["a", "b", "s"]


def test_changing_one_param_reruns_only_downstream(make_graph, calls):
    g = make_graph()
    a = g.add("Demo::Const", id="a", value=1)
    b = g.add("Demo::Const", id="b", value=10)
    a2 = g.add("Demo::Add", id="a2")
    b2 = g.add("Demo::Add", id="b2")
    g.connect(a, "value", a2, "a")
    g.connect(b, "value", b2, "a")
    g.evaluate()
    calls.clear()
    a.params["value"] = 5
    r = g.evaluate()
    assert dict(calls) == {"a": 1, "a2": 1}
    assert r.stats.ran == 2 and r.stats.cached == 2
    assert r.nodes["b2"].status == "cached"
    assert r["a2"]["value"] == 5.0


def test_unchanged_graph_is_all_cache_hits(make_graph, calls):
    g = make_graph()
    chain(g)
    g.evaluate()
    calls.clear()
    r = g.evaluate()
    assert not calls
    assert r.stats.cached == 3 and r.stats.ran == 0


def test_cache_false_runs_everything(make_graph, calls):
    g = make_graph()
    chain(g)
    g.evaluate()
    calls.clear()
    r = g.evaluate(cache=False)
    assert r.stats.ran == 3 and sum(calls.values()) == 3


def test_cache_keys_ignore_node_ids(make_graph, calls):
    cache = MemoryCache()
    g1 = make_graph(cache=cache)
    g1.add("Demo::Const", id="x", value=7)
    g2 = make_graph(cache=cache)
    c = g2.add("Demo::Const", id="totally_other_id", value=7)
    r1 = g1.evaluate()
    calls.clear()
    r2 = g2.evaluate()
    assert r2.nodes[c.id].status == "cached"
    assert r1.nodes["x"].key == r2.nodes[c.id].key
    assert not calls


def test_expression_and_literal_share_a_key(make_graph):
    g = make_graph()
    g.parameters["L"] = 100
    g.parameters["wall"] = 2
    e = g.add("Demo::Const", id="e", value="@L - 2*@wall")
    lit = g.add("Demo::Const", id="lit", value=96)
    r = g.evaluate()
    assert r[e.id]["value"] == 96.0
    assert r.nodes[e.id].key == r.nodes[lit.id].key


def test_changing_a_global_reruns_only_its_users(make_graph, calls):
    g = make_graph()
    g.parameters["L"] = 10
    g.add("Demo::Const", id="uses", value="@L * 2")
    g.add("Demo::Const", id="other", value=1)
    g.evaluate()
    calls.clear()
    g.parameters["L"] = 11
    r = g.evaluate()
    assert dict(calls) == {"uses": 1}
    assert r["uses"]["value"] == 22.0


def test_units_convert_expressions_to_graph_units(make_graph):
    g = make_graph(units="cm")
    n = g.add("Demo::Const", value="10 mm + 0.5 in")
    assert g.evaluate()[n.id]["value"] == pytest.approx(2.27)


def test_list_output_is_flattened_into_multi_input(make_graph):
    g = make_graph()
    rng = g.add("Demo::Range", id="r", count=4)  # 0,1,2,3
    c = g.add("Demo::Const", id="c", value=10)
    s = g.add("Demo::Sum", id="s")
    g.connect(rng, "values", s, "values")
    g.connect(c, "value", s, "values")
    assert g.evaluate()[s.id]["value"] == 16.0


def test_failing_node_does_not_stop_siblings(make_graph):
    g = make_graph()
    f = g.add("Demo::Fail", id="f")
    down = g.add("Demo::Add", id="down")
    g.connect(f, "value", down, "a")
    ok = g.add("Demo::Const", id="ok", value=4)
    r = g.evaluate()
    assert r.nodes["f"].status == "failed"
    assert r.nodes["f"].error.code is ErrorCode.GEOM_BOOLEAN_FAIL
    assert "node 'f'" in str(r.nodes["f"].error)
    assert r.nodes["down"].status == "skipped"
    assert r.nodes["down"].error.code is ErrorCode.UPSTREAM_FAILED
    assert "'f'" in str(r.nodes["down"].error)
    assert r[ok.id]["value"] == 4.0
    assert r.stats.failed == 1 and r.stats.skipped == 1 and r.stats.ran == 1
    with pytest.raises(Exception, match="do not overlap"):
        r["f"]


def test_unexpected_exception_is_a_typed_internal_error(make_graph):
    g = make_graph()
    g.add("Demo::Boom", id="boom")
    r = g.evaluate()
    err = r.nodes["boom"].error
    assert err.code is ErrorCode.INTERNAL_ERROR and "kaboom" in str(err) and "boom" in str(err)


def test_failures_are_not_cached(make_graph, calls):
    g = make_graph()
    g.add("Demo::Fail", id="f")
    g.evaluate()
    g.evaluate()
    assert calls["f"] == 2


def test_nondeterministic_nodes_opt_out_of_the_cache(make_graph, calls):
    g = make_graph()
    g.add("Demo::Clock", id="clock")
    first, second = g.evaluate(), g.evaluate()
    assert first.nodes["clock"].status == second.nodes["clock"].status == "ok"
    assert first["clock"]["value"] != second["clock"]["value"]
    assert calls["clock"] == 2


def test_param_problems_fail_only_that_node(make_graph):
    g = make_graph()
    g.add("Demo::Radius", id="neg", radius=-1)
    g.add("Demo::Radius", id="missing", radius="@nope")
    g.add("Demo::Radius", id="inject", radius="__import__('os').system('true')")
    g.add("Demo::Radius", id="wrongtype", radius=True)
    g.add("Demo::Radius", id="badenum", mode="c")
    g.add("Demo::Radius", id="good", radius=2, offset=(1, 2, 3))
    r = g.evaluate()
    assert r.nodes["neg"].error.code is ErrorCode.PARAM_INVALID
    assert "greater than 0" in str(r.nodes["neg"].error) and r.nodes["neg"].error.param == "radius"
    assert r.nodes["missing"].error.code is ErrorCode.PARAM_MISSING
    assert "@nope" in str(r.nodes["missing"].error)
    assert r.nodes["inject"].error.code is ErrorCode.PARAM_INVALID
    assert r.nodes["wrongtype"].error.code is ErrorCode.PARAM_INVALID
    assert r.nodes["badenum"].error.code is ErrorCode.PARAM_INVALID
    assert r["good"]["value"] == 8.0


def test_unknown_type_and_cycle_fail_locally(make_graph, registry):
    from brepflow_lab import Graph

    doc = {
        "version": "0.1.0",
        "units": "mm",
        "tolerance": 0.001,
        "nodes": [
            {"id": "u", "type": "Demo::Nope", "inputs": {}, "params": {}},
            {"id": "p", "type": "Demo::Add", "inputs": {"a": {"nodeId": "q", "socketId": "value"}}, "params": {}},
            {"id": "q", "type": "Demo::Add", "inputs": {"a": {"nodeId": "p", "socketId": "value"}}, "params": {}},
            {"id": "after", "type": "Demo::Add", "inputs": {"a": {"nodeId": "q", "socketId": "value"}}, "params": {}},
            {"id": "fine", "type": "Demo::Const", "inputs": {}, "params": {"value": 3}},
        ],
        "edges": [
            {"id": "e1", "source": "q", "sourceHandle": "value", "target": "p", "targetHandle": "a"},
            {"id": "e2", "source": "p", "sourceHandle": "value", "target": "q", "targetHandle": "a"},
            {"id": "e3", "source": "q", "sourceHandle": "value", "target": "after", "targetHandle": "a"},
        ],
    }
    g0 = make_graph()
    g = Graph.from_json(doc, registry=registry, evaluator=g0.evaluator)
    r = g.evaluate()
    assert r.nodes["u"].error.code is ErrorCode.UNKNOWN_NODE_TYPE
    assert r.nodes["p"].error.code is ErrorCode.CYCLE and r.nodes["q"].error.code is ErrorCode.CYCLE
    assert "p -> q -> p" in str(r.nodes["p"].error)
    assert r.nodes["after"].status == "skipped"
    assert r["fine"]["value"] == 3.0


def test_events_are_emitted_in_order(make_graph):
    g = make_graph()
    chain(g)
    g.add("Demo::Fail", id="f")
    seen = []
    g.on(lambda e: seen.append(type(e).__name__ + ":" + getattr(e, "node_id", "")))
    g.evaluate()
    assert seen[0] == "EvaluationStarted:"
    assert seen[-1] == "EvaluationFinished:"
    assert "NodeStarted:a" in seen and "NodeFinished:a" in seen
    assert "NodeFailed:f" in seen
    assert seen.index("NodeFinished:a") < seen.index("NodeStarted:s")
    seen.clear()
    g.evaluate()
    assert "NodeStarted:a" not in seen and "NodeFinished:a" in seen  # cache hit: finished only


def test_a_broken_listener_does_not_break_evaluation(make_graph):
    g = make_graph()
    chain(g)
    g.on(lambda e: 1 / 0)
    assert g.evaluate().stats.ran == 3


def test_newer_request_supersedes_running_one(make_graph):
    g = make_graph()
    for i in range(20):
        g.add("Demo::Const", id=f"n{i}", value=i)
    started = threading.Event()

    def listener(event):
        if isinstance(event, NodeFinished) and event.node_id == "n3":
            g.evaluator.supersede()  # as a newer evaluation request would
            started.set()

    unsubscribe = g.on(listener)
    r = g.evaluate()
    unsubscribe()
    assert started.is_set()
    assert r.superseded
    assert r.nodes["n3"].status == "ok" and r["n3"]["value"] == 3.0
    assert r.nodes["n19"].status == "cancelled"
    # nothing after the boundary ran: each node finished before it, or was cancelled
    assert {nr.status for nr in r.nodes.values()} == {"ok", "cancelled"}
    assert r.stats.ran + r.stats.cancelled == 20 and r.stats.ran < 20
    assert not r.ok
    r2 = g.evaluate()
    assert not r2.superseded and r2.stats.cancelled == 0
    assert [r2[f"n{i}"]["value"] for i in range(20)] == [float(i) for i in range(20)]


def test_supersession_stops_at_a_node_boundary_in_a_chain(make_graph):
    g = make_graph()
    prev = g.add("Demo::Const", id="c0", value=1)
    for i in range(1, 10):
        nxt = g.add("Demo::Add", id=f"c{i}", offset=1)
        g.connect(prev, "value", nxt, "a")
        prev = nxt

    def listener(event):
        if isinstance(event, NodeFinished) and event.node_id == "c4":
            g.evaluator.supersede()

    g.on(listener)
    r = g.evaluate()
    assert r.superseded
    assert [r.nodes[f"c{i}"].status for i in range(10)] == ["ok"] * 5 + ["cancelled"] * 5
    assert r["c4"]["value"] == 5.0


def test_the_same_subgraph_twice_runs_once(make_graph, calls):
    g = make_graph()
    for side in ("left", "right"):
        a = g.add("Demo::Const", id=f"{side}_a", value=2)
        s = g.add("Demo::Add", id=f"{side}_s", offset=1)
        g.connect(a, "value", s, "a")
    r = g.evaluate()
    assert r.stats.ran == 2 and r.stats.cached == 2
    assert r["left_s"]["value"] == r["right_s"]["value"] == 3.0
    assert sum(calls.values()) == 2
    assert r.nodes["left_s"].key == r.nodes["right_s"].key


def test_list_outputs_feed_downstream_nodes_element_by_element(make_graph):
    g = make_graph()
    rng = g.add("Demo::Range", id="r", count=3)  # 0, 1, 2
    first = g.add("Demo::Sum", id="first")
    g.connect(rng, "values", first, "values")
    again = g.add("Demo::Sum", id="again")
    g.connect(rng, "values", again, "values")
    g.connect(first, "value", again, "values")
    r = g.evaluate()
    assert r["first"]["value"] == 3.0 and r["again"]["value"] == 6.0


def test_lru_is_bounded_by_bytes():
    cache = MemoryCache(max_bytes=3000, sizeof=lambda outputs: outputs["size"])
    cache.put("a", {"size": 1000})
    cache.put("b", {"size": 1000})
    cache.put("c", {"size": 1000})
    assert cache.get("a") is not None  # a is now most recently used
    cache.put("d", {"size": 1000})
    assert "b" not in cache and "a" in cache and "d" in cache
    assert cache.nbytes == 3000
    cache.put("huge", {"size": 10_000})
    assert "huge" not in cache and len(cache) == 3


def test_targets_limit_evaluation_to_upstream(make_graph):
    g = make_graph()
    chain(g)
    g.add("Demo::Const", id="unrelated", value=1)
    r = g.evaluate(targets=["a"])
    assert set(r.nodes) == {"a"}


def test_result_repr_html_lists_status(make_graph):
    g = make_graph()
    g.add("Demo::Fail", id="f")
    r = g.evaluate()
    html = r._repr_html_()
    assert "failed" in html and "do not overlap" in html
    assert "failed" in g._repr_html_()


def test_connect_refuses_bad_sockets_and_cycles(make_graph):
    g = make_graph()
    a, _, s = chain(g)
    with pytest.raises(GraphError, match="no output 'nope'"):
        g.connect(a, "nope", s, "a")
    s2 = g.add("Demo::Add", id="s2")
    g.connect(s, "value", s2, "a")
    with pytest.raises(GraphError, match="cycle"):
        g.connect(s2, "value", s, "b")


def test_node_failed_event_carries_error(make_graph):
    g = make_graph()
    g.add("Demo::Fail", id="f")
    failed = []
    g.on(lambda e: failed.append(e) if isinstance(e, NodeFailed) else None)
    g.evaluate()
    assert failed[0].error["code"] == "GEOM_BOOLEAN_FAIL"


def test_started_and_finished_counts(make_graph):
    g = make_graph()
    chain(g)
    kinds = []
    g.on(lambda e: kinds.append(type(e)))
    g.evaluate()
    assert kinds.count(NodeStarted) == 3 and kinds.count(EvaluationFinished) == 1
