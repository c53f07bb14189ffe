"""The per-node time limit, ``BREPFLOW_MAX_NODE_SECONDS``: reading it, and what it means.

The team hub sets ``BREPFLOW_MAX_NODE_SECONDS`` in every kernel's environment (the quota
``node_seconds``). It bounds how long one node may run. It is a guard for the designer
against a runaway node (a fillet that never converges, a boolean on a huge import), not
the machine's fairness: CPU, memory and process counts are enforced by the user's cgroup
on the hub whatever runs.

An OCCT call cannot be interrupted inside a Python process (it holds the interpreter and
offers no cancellation hook we can use), so the limit is *enforced* only where a node runs
in a separate worker process: the Dask executor stops the worker running a node that
passes its deadline and fails that node with TIMEOUT (:mod:`.dask_executor`,
:mod:`.dask_pool`). In this process the limit can only be reported after the fact
(:meth:`brepflow_lab.api.Graph.evaluate` warns). Nothing here imports Dask. The variable is
read by :mod:`brepflow_lab.core.env`, the one source of every ``BREPFLOW_*`` name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from brepflow_lab.core import env
from brepflow_lab.core.env import parse_seconds
from brepflow_lab.core.errors import LimitError

__all__ = [
    "ENV_MAX_NODE_SECONDS",
    "LimitError",
    "NodeTimeLimit",
    "NodeTimeWarning",
    "node_time_limit",
    "parse_seconds",
]

ENV_MAX_NODE_SECONDS = env.MAX_NODE_SECONDS


class NodeTimeWarning(RuntimeWarning):
    """A node ran in this process for longer than the limit per node (nothing could stop it)."""


@dataclass(frozen=True)
class NodeTimeLimit:
    """How long one node may run (``seconds``), and where that number came from (``source``)."""

    seconds: float
    source: str = ENV_MAX_NODE_SECONDS

    def describe(self) -> str:
        """``"the 5 s limit per node (BREPFLOW_MAX_NODE_SECONDS)"``."""
        return f"the {self.seconds:g} s limit per node ({self.source})"


def node_time_limit(environ: Mapping[str, str] | None = None) -> NodeTimeLimit | None:
    """The limit the environment sets (None when ``BREPFLOW_MAX_NODE_SECONDS`` is unset or empty).

    >>> node_time_limit({"BREPFLOW_MAX_NODE_SECONDS": "120"})
    NodeTimeLimit(seconds=120.0, source='BREPFLOW_MAX_NODE_SECONDS')
    """
    seconds = env.node_seconds(environ)
    return None if seconds is None else NodeTimeLimit(seconds)
