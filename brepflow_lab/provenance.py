"""How a design was made: the record that lets a result be re-checked later.

A render's ``manifest.json``, a sweep's ``manifest.json`` and every :class:`EvaluationResult`
(``result.provenance``) carry the same record::

    {
      "brepflow_lab": {"version": "0.1.0", "git_commit": "0050401…", "git_dirty": false},
      "environment": {
        "python": "3.11.7", "implementation": "CPython", "platform": "Linux-…-x86_64",
        "machine": "x86_64",
        "packages": {"cadquery": "2.8.0", "cadquery-ocp": "7.9.3.1.1", "numpy": "…", …},
        "occt": "7.9.3"
      },
      "graph": {"path": "/abs/enclosure.bflow.json", "sha256": "…", "document_sha256": "…"},
      "parameters": {"L": 140, …}      # every global parameter, resolved (overrides applied)
    }

``graph.sha256`` is the file on disk as evaluated (``None`` for a graph that was never saved);
``document_sha256`` hashes the graph that was actually evaluated (canonical JSON), which
differs from the file when the graph was edited in memory. ``brepflow-lab reproduce`` refuses
to compare (exit 10) when the file's sha256 no longer matches.

The OCCT version is read from the cadquery-ocp distribution's version, whose first three
components are OCCT's by that project's convention (cadquery-ocp 7.9.3.1.1 wraps OCCT 7.9.3):
OCP exposes no version constant, and reading metadata keeps this module free of the 1.2 s OCP
import (only ``kernel/`` imports OCP). The git commit is read only when the package runs from
a checkout (an editable install), with ``git`` given 2 s at most; it is cached per process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from brepflow_lab.core.version import __version__

#: distributions whose versions can change geometry or results; recorded and compared
PACKAGES = ("brepflow-lab", "cadquery", "cadquery-ocp", "numpy", "dask", "distributed", "ocp-tessellate")


@functools.lru_cache(maxsize=64)
def package_version(name: str) -> str | None:
    """The installed version of a distribution (read once per process: every evaluation asks)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def occt_version(ocp_version: str | None) -> str | None:
    """OCCT's version from cadquery-ocp's (first three components), or None."""
    if not ocp_version:
        return None
    parts = ocp_version.split(".")
    return ".".join(parts[:3]) if len(parts) >= 3 else None


@functools.lru_cache(maxsize=1)
def _git(root: str) -> tuple[str | None, bool | None]:
    if not (Path(root) / ".git").exists():
        return None, None
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=2, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", "brepflow_lab"],
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(status.strip())


def software() -> dict[str, Any]:
    """brepflow-lab's version, plus the git commit (and whether the package is edited) from a checkout."""
    commit, dirty = _git(str(Path(__file__).resolve().parent.parent))
    out: dict[str, Any] = {"version": package_version("brepflow-lab") or __version__}
    if commit is not None:
        out["git_commit"] = commit
        out["git_dirty"] = dirty
    return out


@functools.lru_cache(maxsize=1)
def _environment() -> str:
    packages = {name: package_version(name) for name in PACKAGES if name != "brepflow-lab"}
    env = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {k: v for k, v in packages.items() if v is not None},
        "occt": occt_version(packages.get("cadquery-ocp")),
    }
    return json.dumps(env)


def environment() -> dict[str, Any]:
    """Python, platform and the versions of the packages that shape geometry (a fresh copy)."""
    return dict(json.loads(_environment()))


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def document_sha256(document_json: Any) -> str:
    """sha256 of a graph document's canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(document_json, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(
    *,
    graph_path: str | os.PathLike[str] | None,
    document_json: Any,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """The provenance record (see the module docstring)."""
    path = Path(graph_path).resolve() if graph_path is not None else None
    sha = None
    if path is not None and path.is_file():
        try:
            sha = file_sha256(path)
        except OSError:
            sha = None
    return {
        "brepflow_lab": software(),
        "environment": environment(),
        "graph": {
            "path": str(path) if path is not None else None,
            "sha256": sha,
            "document_sha256": document_sha256(document_json),
        },
        "parameters": dict(parameters),
    }


def environment_differences(recorded: dict[str, Any], current: dict[str, Any] | None = None) -> list[str]:
    """Human-readable lines naming what differs between a recorded environment and this one."""
    now = current if current is not None else environment()
    lines: list[str] = []
    for key in ("python", "implementation", "machine", "occt"):
        if recorded.get(key) != now.get(key):
            lines.append(f"{key}: recorded {recorded.get(key)}, here {now.get(key)}")
    before, after = recorded.get("packages") or {}, now.get("packages") or {}
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            lines.append(f"{name}: recorded {before.get(name) or 'absent'}, here {after.get(name) or 'absent'}")
    return lines


def describe() -> str:
    """A few lines for a notebook's environment cell: versions that shape geometry."""
    soft, env = software(), environment()
    commit = (
        f" (git {soft['git_commit'][:10]}{', edited' if soft.get('git_dirty') else ''})"
        if soft.get("git_commit")
        else ""
    )
    lines = [f"brepflow-lab {soft['version']}{commit}", f"OCCT {env['occt']}"]
    lines += [f"{name} {version}" for name, version in env["packages"].items()]
    lines.append(f"Python {env['python']} ({env['implementation']}) on {env['platform']}")
    return "\n".join(lines)
