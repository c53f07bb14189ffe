"""The ``BREPFLOW_*`` environment contract: every variable name, and the kernel limits.

This module is the single source of the names of the environment variables brepflow_lab
reads or sets. Two groups:

* **Kernel limits** (:class:`KernelLimits`): what the team hub puts in every user kernel's
  environment and the engine, kernel and Studio obey — the time limit per node, the
  triangle limit of a preview mesh, the Dask workers and memory a user may start, and the
  result cache's size. ``KernelLimits.to_env()`` is what a spawner sets;
  ``KernelLimits.from_env()`` is what a kernel reads. Each field also has its own reader
  (:func:`node_seconds`, :func:`preview_triangles`, ...) so that a module that needs one
  limit is not failed by an unreadable other one.
* **Where things are** (:data:`DASK_SCHEDULER`, :data:`AUDIT_LOG`, the hub's and the
  viewer service's variables): plain names, read where they are used.

A value that cannot be read raises :class:`~brepflow_lab.core.errors.LimitError` (a
``ValueError``) naming the variable; an unset or blank variable means "no limit" (or the
default). Nothing here imports anything of ours but :mod:`brepflow_lab.core.errors`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from brepflow_lab.core.errors import LimitError

__all__ = [
    "ALL_NAMES",
    "AUDIT_LOG",
    "CACHE_MB",
    "DASK_GATEWAY",
    "DASK_MEMORY_LIMIT",
    "DASK_SCHEDULER",
    "DEFAULT_CACHE_MB",
    "DEFAULT_MESH_CACHE_MB",
    "HUB_CONFIG",
    "HUB_OVERRIDES",
    "MAX_DASK_WORKERS",
    "MAX_NODE_SECONDS",
    "MAX_PREVIEW_TRIANGLES",
    "MESH_CACHE_MB",
    "RECORD_FINGERPRINTS",
    "TEAM_DIRS",
    "TEAM_ROOT",
    "VIEWER_MAX_GRAPHS",
    "VIEWER_PYTHON",
    "VIEWER_RENDER_MEMORY",
    "VIEWER_RENDER_TIMEOUT",
    "VIEWER_STATE",
    "KernelLimits",
    "cache_mb",
    "dask_memory",
    "dask_workers",
    "mesh_cache_mb",
    "node_seconds",
    "parse_seconds",
    "parse_size",
    "preview_triangles",
]

# -- kernel limits (set by the hub's spawner from the user's quota) -----------------------
#: the longest one node may run, in seconds (quota ``node_seconds``)
MAX_NODE_SECONDS = "BREPFLOW_MAX_NODE_SECONDS"
#: the most triangles one preview mesh may have (quota ``preview_triangles``)
MAX_PREVIEW_TRIANGLES = "BREPFLOW_MAX_PREVIEW_TRIANGLES"
#: how many Dask worker processes a user may start (quota ``dask_workers``; 0: none)
MAX_DASK_WORKERS = "BREPFLOW_MAX_DASK_WORKERS"
#: the memory of each Dask worker a user starts (quota ``dask_memory``)
DASK_MEMORY_LIMIT = "BREPFLOW_DASK_MEMORY_LIMIT"
#: the engine's result cache, in MB (default :data:`DEFAULT_CACHE_MB`)
CACHE_MB = "BREPFLOW_CACHE_MB"
#: the viewer's mesh cache, in MB (default :data:`DEFAULT_MESH_CACHE_MB`)
MESH_CACHE_MB = "BREPFLOW_MESH_CACHE_MB"

DEFAULT_CACHE_MB = 1024
DEFAULT_MESH_CACHE_MB = 256

# -- where nodes run ----------------------------------------------------------------------
#: ``tcp://host:8786``: evaluate on an existing Dask scheduler
DASK_SCHEDULER = "BREPFLOW_DASK_SCHEDULER"
#: ``1`` or a gateway URL: a new dask-gateway cluster
DASK_GATEWAY = "BREPFLOW_DASK_GATEWAY"

# -- tests and notebooks ------------------------------------------------------------------
#: ``1``: re-record the shape fingerprints of the design notebooks
RECORD_FINGERPRINTS = "BREPFLOW_RECORD_FINGERPRINTS"

# -- the team hub and its services --------------------------------------------------------
#: the hub's settings file (hub.yaml)
HUB_CONFIG = "BREPFLOW_HUB_CONFIG"
#: JSON merged over hub.yaml (``brepflow-lab hub --port``, tests)
HUB_OVERRIDES = "BREPFLOW_HUB_OVERRIDES"
#: the audit log a server (or the hub) appends to
AUDIT_LOG = "BREPFLOW_AUDIT_LOG"
#: the folder holding every team's folder
TEAM_ROOT = "BREPFLOW_TEAM_ROOT"
#: a user's team folders, ``os.pathsep``-separated
TEAM_DIRS = "BREPFLOW_TEAM_DIRS"
VIEWER_RENDER_TIMEOUT = "BREPFLOW_VIEWER_RENDER_TIMEOUT"
VIEWER_RENDER_MEMORY = "BREPFLOW_VIEWER_RENDER_MEMORY"
VIEWER_MAX_GRAPHS = "BREPFLOW_VIEWER_MAX_GRAPHS"
VIEWER_STATE = "BREPFLOW_VIEWER_STATE"
VIEWER_PYTHON = "BREPFLOW_VIEWER_PYTHON"

#: every variable of the contract
ALL_NAMES: frozenset[str] = frozenset(
    {
        MAX_NODE_SECONDS,
        MAX_PREVIEW_TRIANGLES,
        MAX_DASK_WORKERS,
        DASK_MEMORY_LIMIT,
        CACHE_MB,
        MESH_CACHE_MB,
        DASK_SCHEDULER,
        DASK_GATEWAY,
        RECORD_FINGERPRINTS,
        HUB_CONFIG,
        HUB_OVERRIDES,
        AUDIT_LOG,
        TEAM_ROOT,
        TEAM_DIRS,
        VIEWER_RENDER_TIMEOUT,
        VIEWER_RENDER_MEMORY,
        VIEWER_MAX_GRAPHS,
        VIEWER_STATE,
        VIEWER_PYTHON,
    }
)


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def parse_seconds(value: object, what: str) -> float:
    """``value`` as a positive, finite number of seconds, or a :class:`LimitError` naming ``what``."""
    if isinstance(value, bool):
        seconds = math.nan
    elif isinstance(value, (int, float)):
        seconds = float(value)
    else:
        try:
            seconds = float(str(value).strip())
        except ValueError:
            seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise LimitError(f"{what} must be a positive number of seconds, got {value!r}")
    return seconds


def parse_size(text: str | int, what: str) -> int:
    """A positive size in bytes from ``2GiB``, ``512MB``, ``1073741824`` (dask's notation)."""
    from dask.utils import parse_bytes  # dask is a dependency; imported only when a size is read

    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        try:
            value = int(parse_bytes(str(text)))
        except (ValueError, TypeError):
            raise LimitError(f"{what}: cannot read {text!r} as a size (e.g. '2GiB', '512MB')") from None
    if value <= 0:
        raise LimitError(f"{what}: must be a positive size, got {text!r}")
    return value


def node_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """``BREPFLOW_MAX_NODE_SECONDS`` (None when unset or blank)."""
    raw = _environ(environ).get(MAX_NODE_SECONDS, "")
    if not raw.strip():
        return None
    return parse_seconds(raw, MAX_NODE_SECONDS)


def preview_triangles(environ: Mapping[str, str] | None = None) -> int | None:
    """``BREPFLOW_MAX_PREVIEW_TRIANGLES`` (None when unset or blank; ``1_000_000`` is read)."""
    raw = _environ(environ).get(MAX_PREVIEW_TRIANGLES, "").strip()
    if not raw:
        return None
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise LimitError(f"{MAX_PREVIEW_TRIANGLES}={raw!r} is not a whole number of triangles") from None
    if value <= 0:
        raise LimitError(f"{MAX_PREVIEW_TRIANGLES}={raw!r} must be a positive number of triangles")
    return value


def dask_workers(environ: Mapping[str, str] | None = None) -> int | None:
    """``BREPFLOW_MAX_DASK_WORKERS`` (None when unset or blank; 0 means no workers of one's own)."""
    raw = _environ(environ).get(MAX_DASK_WORKERS, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise LimitError(f"{MAX_DASK_WORKERS}={raw!r} is not a whole number of workers") from None
    if value < 0:
        raise LimitError(f"{MAX_DASK_WORKERS}={raw!r} must be 0 (no workers of your own) or more")
    return value


def dask_memory(environ: Mapping[str, str] | None = None) -> int | None:
    """``BREPFLOW_DASK_MEMORY_LIMIT`` in bytes (None when unset or blank)."""
    raw = _environ(environ).get(DASK_MEMORY_LIMIT, "").strip()
    if not raw:
        return None
    return parse_size(raw, DASK_MEMORY_LIMIT)


def _megabytes(environ: Mapping[str, str] | None, name: str) -> int | None:
    raw = _environ(environ).get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise LimitError(f"{name}={raw!r} is not a whole number of megabytes") from None


def cache_mb(environ: Mapping[str, str] | None = None) -> int:
    """``BREPFLOW_CACHE_MB``, the engine's result cache in MB (default 1024)."""
    value = _megabytes(environ, CACHE_MB)
    return DEFAULT_CACHE_MB if value is None else value


def mesh_cache_mb(environ: Mapping[str, str] | None = None) -> int:
    """``BREPFLOW_MESH_CACHE_MB``, the viewer's mesh cache in MB (default 256)."""
    value = _megabytes(environ, MESH_CACHE_MB)
    return DEFAULT_MESH_CACHE_MB if value is None else value


@dataclass(frozen=True)
class KernelLimits:
    """The limits a hub sets in a user kernel's environment (None: not set, no limit).

    >>> KernelLimits(node_seconds=120, dask_workers=2).to_env()
    {'BREPFLOW_MAX_NODE_SECONDS': '120', 'BREPFLOW_MAX_DASK_WORKERS': '2'}
    >>> KernelLimits.from_env({"BREPFLOW_MAX_NODE_SECONDS": "120"}).node_seconds
    120.0
    """

    node_seconds: float | None = None
    preview_triangles: int | None = None
    dask_workers: int | None = None
    dask_memory: int | None = None  # bytes per worker
    cache_mb: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KernelLimits:
        """Read every limit; the first unreadable one raises :class:`LimitError`."""
        env = _environ(environ)
        return cls(
            node_seconds=node_seconds(env),
            preview_triangles=preview_triangles(env),
            dask_workers=dask_workers(env),
            dask_memory=dask_memory(env),
            cache_mb=_megabytes(env, CACHE_MB),
        )

    def to_env(self) -> dict[str, str]:
        """The variables to set (only the limits that are set), as a hub's spawner writes them."""
        out: dict[str, str] = {}
        if self.node_seconds is not None:
            out[MAX_NODE_SECONDS] = f"{self.node_seconds:g}"
        if self.preview_triangles is not None:
            out[MAX_PREVIEW_TRIANGLES] = str(int(self.preview_triangles))
        if self.dask_workers is not None:
            out[MAX_DASK_WORKERS] = str(int(self.dask_workers))
        if self.dask_memory is not None:
            out[DASK_MEMORY_LIMIT] = str(int(self.dask_memory))
        if self.cache_mb is not None:
            out[CACHE_MB] = str(int(self.cache_mb))
        return out
