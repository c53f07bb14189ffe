"""What the kernel needs to know about its caller: a small protocol of its own.

Kernel functions take a ``ctx`` to read the graph's units and tolerance, to raise errors
that name the node (``ctx.error(code, message, param=..., hint=...)``) and to stop when an
evaluation is superseded (``ctx.check_cancelled()``). They are typed against
:class:`KernelContext`, never against ``brepflow_lab.nodes``: the kernel sits below the
nodes, and ``nodes.spec.NodeContext`` (or a test double) satisfies this protocol
structurally. The run-time checks of :mod:`.checks` likewise see ports through
:class:`PortLike` / :class:`InputPortLike`.
"""

from __future__ import annotations

from typing import Protocol

from brepflow_lab.core.errors import ErrorCode, NodeError

__all__ = ["InputPortLike", "KernelContext", "PortLike"]


class KernelContext(Protocol):
    """Where a kernel call runs: the node it serves, the graph's units and tolerance."""

    @property
    def units(self) -> str: ...

    @property
    def tolerance(self) -> float: ...

    def error(self, code: ErrorCode, message: str, *, param: str | None = None, hint: str | None = None) -> NodeError:
        """A :class:`NodeError` naming the node (and ``param``), for the caller to raise."""
        ...

    def check_cancelled(self) -> None:
        """Raise (CANCELLED) when the evaluation was superseded."""
        ...


class PortLike(Protocol):
    """An input or output port: its name, port type and whether it carries a list."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def multiple(self) -> bool: ...


class InputPortLike(PortLike, Protocol):
    """An input port; ``keep_parts`` receives Part wrappers (material tags) instead of bare shapes."""

    @property
    def keep_parts(self) -> bool: ...
