"""Pure graph algorithms over ``{node: set(upstream nodes)}`` maps.

All functions are iterative (no recursion limit on 10,000-node graphs) and
deterministic: ties are broken by the order nodes appear in the file, so the same graph
always evaluates in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

__all__ = ["downstream", "find_cycles", "topological_order", "upstream"]

Deps = Mapping[str, Iterable[str]]  # node -> the nodes it depends on


def _dependents(deps: Deps) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n: [] for n in deps}
    for node, ups in deps.items():
        for u in ups:
            if u in out:
                out[u].append(node)
    return out


def topological_order(deps: Deps) -> list[str]:
    """Kahn's algorithm; raises ValueError listing the cycles if there are any."""
    order_index = {n: i for i, n in enumerate(deps)}
    indegree = {n: sum(1 for u in set(ups) if u in deps) for n, ups in deps.items()}
    dependents = _dependents({n: set(u) for n, u in deps.items()})
    ready = deque(n for n in deps if indegree[n] == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        released = []
        for d in dependents[node]:
            indegree[d] -= 1
            if indegree[d] == 0:
                released.append(d)
        ready.extend(sorted(released, key=order_index.__getitem__))
    if len(order) != len(indegree):
        cycles = find_cycles(deps)
        raise ValueError("cycle: " + "; ".join(" -> ".join(c) for c in cycles))
    return order


def find_cycles(deps: Deps) -> list[list[str]]:
    """Strongly connected components with more than one node (or a self-loop), each as
    the list of nodes on it in file order (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    graph = {n: [u for u in ups if u in deps] for n, ups in deps.items()}
    order_index = {n: i for i, n in enumerate(deps)}
    for root in deps:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in graph[node]:
                    result.append(sorted(comp, key=order_index.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(result, key=lambda c: order_index[c[0]])


def downstream(deps: Deps, roots: Iterable[str]) -> set[str]:
    """``roots`` and everything that depends on them, transitively."""
    dependents = _dependents(deps)
    seen = set()
    todo = [r for r in roots if r in dependents]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(dependents[n])
    return seen


def upstream(deps: Deps, roots: Iterable[str]) -> set[str]:
    """``roots`` and everything they depend on, transitively."""
    seen = set()
    todo = [r for r in roots if r in deps]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(u for u in deps[n] if u in deps)
    return seen
