from __future__ import annotations

import pytest

from brepflow_lab.graph.algorithms import downstream, find_cycles, topological_order, upstream


def test_topological_order_is_stable_in_file_order():
    deps = {"c": {"a"}, "a": set(), "b": set(), "d": {"b", "c"}}
    assert topological_order(deps) == ["a", "b", "c", "d"]


def test_cycles_found_with_their_nodes():
    deps = {"a": set(), "b": {"a", "d"}, "c": {"b"}, "d": {"c"}, "s": {"s"}, "z": {"d"}}
    assert find_cycles(deps) == [["b", "c", "d"], ["s"]]
    with pytest.raises(ValueError, match="cycle"):
        topological_order(deps)


def test_up_and_downstream():
    deps = {"a": set(), "b": {"a"}, "c": {"b"}, "x": set()}
    assert downstream(deps, ["a"]) == {"a", "b", "c"}
    assert upstream(deps, ["c"]) == {"a", "b", "c"}


def test_deep_chain_has_no_recursion_limit():
    n = 20_000
    deps = {f"n{i}": ({f"n{i - 1}"} if i else set()) for i in range(n)}
    assert len(topological_order(deps)) == n
    assert find_cycles(deps) == []
