"""Typed errors shared by every layer (no OCP, no Jupyter; part of :mod:`brepflow_lab.core`).

Every failure a user can see carries an :class:`ErrorCode`, the node and parameter it
concerns, and a message in words a CAD user understands. Two shapes of error exist:

* :class:`NodeError` — one node could not produce its outputs. The engine records it on
  that node (status ``failed``), marks what depends on it ``skipped`` and carries on with
  independent branches.
* :class:`GraphError` — the graph itself is unusable (bad file, schema violation, unknown
  node type, cycle, ...). Validation collects *all* problems into one GraphError before
  anything runs.

:class:`LimitError` is a limit from the environment (``BREPFLOW_*``, see
:mod:`brepflow_lab.core.env`) that cannot be read, or a request beyond such a limit.
``brepflow_lab.errors`` re-exports this module (the public import path).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "BrepFlowError",
    "ErrorCode",
    "GraphError",
    "LimitError",
    "NodeError",
    "Problem",
]


class ErrorCode(str, Enum):
    """Stable error codes; they appear in manifests, events and the UI."""

    # graph / file level
    FILE_NOT_FOUND = "FILE_NOT_FOUND"
    FILE_MALFORMED = "FILE_MALFORMED"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    UNKNOWN_NODE_TYPE = "UNKNOWN_NODE_TYPE"
    UNKNOWN_SOCKET = "UNKNOWN_SOCKET"
    UNKNOWN_PARAM = "UNKNOWN_PARAM"
    DUPLICATE_ID = "DUPLICATE_ID"
    DANGLING_EDGE = "DANGLING_EDGE"
    EDGE_MISMATCH = "EDGE_MISMATCH"
    PORT_TYPE_MISMATCH = "PORT_TYPE_MISMATCH"
    CYCLE = "CYCLE"
    PARAM_MISSING = "PARAM_MISSING"
    # node level
    PARAM_INVALID = "PARAM_INVALID"
    INPUT_MISSING = "INPUT_MISSING"
    GEOM_INVALID_INPUT = "GEOM_INVALID_INPUT"
    GEOM_INVALID_RESULT = "GEOM_INVALID_RESULT"
    GEOM_EMPTY_RESULT = "GEOM_EMPTY_RESULT"
    GEOM_BOOLEAN_FAIL = "GEOM_BOOLEAN_FAIL"
    GEOM_FILLET_FAIL = "GEOM_FILLET_FAIL"
    GEOM_CHAMFER_FAIL = "GEOM_CHAMFER_FAIL"
    GEOM_SHELL_FAIL = "GEOM_SHELL_FAIL"
    GEOM_OFFSET_FAIL = "GEOM_OFFSET_FAIL"
    GEOM_DRAFT_FAIL = "GEOM_DRAFT_FAIL"
    GEOM_SWEEP_FAIL = "GEOM_SWEEP_FAIL"
    GEOM_LOFT_FAIL = "GEOM_LOFT_FAIL"
    GEOM_SKETCH_FAIL = "GEOM_SKETCH_FAIL"
    GEOM_OPERATION_FAIL = "GEOM_OPERATION_FAIL"
    MESH_TOO_LARGE = "MESH_TOO_LARGE"
    IMPORT_ERROR = "IMPORT_ERROR"
    EXPORT_ERROR = "EXPORT_ERROR"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    KERNEL_CRASH = "KERNEL_CRASH"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class BrepFlowError(Exception):
    """Base class of every error this package raises on purpose."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": str(self)}


class NodeError(BrepFlowError):
    """A node could not produce its outputs.

    Raise it from a node's ``execute`` (or from the kernel) with the most specific code;
    the engine fills in ``node_id`` / ``node_type`` if they are not set yet, so the final
    message always names the node.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        node_id: str | None = None,
        node_type: str | None = None,
        param: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.node_id = node_id
        self.node_type = node_type
        self.param = param
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.node_id is not None:
            where = f"node '{self.node_id}'"
            if self.node_type:
                where += f" ({self.node_type})"
        if self.param is not None:
            where += (", " if where else "") + f"parameter '{self.param}'"
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" Hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code.value, "message": str(self)}
        if self.node_id is not None:
            out["node"] = self.node_id
        if self.param is not None:
            out["param"] = self.param
        return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph, found by validation."""

    code: ErrorCode
    message: str
    node_id: str | None = None
    param: str | None = None
    path: str | None = None  # JSON path in the file, e.g. "nodes[3].params.radius"
    severity: str = "error"  # "error" stops evaluation; "warning" is reported only

    def __str__(self) -> str:
        where = []
        if self.node_id is not None:
            where.append(f"node '{self.node_id}'")
        if self.param is not None:
            where.append(f"parameter '{self.param}'")
        if not where and self.path:
            where.append(self.path)
        prefix = ", ".join(where)
        tag = self.code.value if self.severity == "error" else f"{self.severity}: {self.code.value}"
        return f"[{tag}] {prefix}: {self.message}" if prefix else f"[{tag}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.severity != "error":
            out["severity"] = self.severity
        for key in ("node_id", "param", "path"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class GraphError(BrepFlowError):
    """The graph is unusable; ``problems`` lists every problem found, not just the first."""

    code = ErrorCode.SCHEMA_INVALID

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        if self.problems:
            self.code = self.problems[0].code
        head = f"{source}: " if source else ""
        lines = [f"{head}{len(self.problems)} problem(s) in graph"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "problems": [p.to_dict() for p in self.problems]}


class LimitError(BrepFlowError, ValueError):
    """A limit from the hub that cannot be read, or a request beyond a limit."""
