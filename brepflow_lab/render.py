"""Render outputs: which shapes are a graph's result, measure them, export them, describe every file.

One path shared by ``brepflow-lab render``, ``brepflow-lab reproduce`` and sweeps (formats and
mesh quality), so a manifest means the same thing whichever command wrote it.
"""

from __future__ import annotations

import difflib
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brepflow_lab.core.errors import ErrorCode, GraphError, Problem
from brepflow_lab.core.ports import SHAPE_TYPES
from brepflow_lab.kernel import exchange, hashing
from brepflow_lab.session import GraphSession

FORMATS = ("step", "stl", "glb", "gltf", "3mf", "brep", "iges")
QUALITY = {"preview": 0.005, "medium": 0.002, "high": 0.001}  # linear deflection / bbox diagonal
MANIFEST_FORMAT = 2  # 2: provenance (brepflow_lab, environment, graph sha256), shapes fed to exports


def _shape_name(node_id: str, socket: str, index: int, count: int) -> str:
    if count > 1:
        return f"{node_id}_{index}"
    return node_id if socket == "shape" else f"{node_id}_{socket}"


def render_outputs(
    g: Any, result: Any, out_dir: Path, formats: Sequence[str], quality: str
) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """Measure the result shapes, export them in ``formats``, and list every file written.

    The result shapes are the sweep's (:func:`result_targets`): shape
    outputs no shape-making node consumes, so a shape that only feeds an ``IO::Export*`` node is
    a result (BrepFlow's ``simple-box`` ends in an export). Each ``exports`` entry names the
    shape it came from: for the files an export node wrote, the shape on its input.
    """
    shapes: dict[str, Any] = {}
    exports: list[dict[str, Any]] = []
    export_failed = False
    names: dict[tuple[str, str], str] = {}
    for node_id, socket in result_targets(g):
        nr = result.nodes.get(node_id)
        if nr is None or not nr.ok:
            continue
        value = nr.outputs.get(socket)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            name = _shape_name(node_id, socket, index, len(items))
            names.setdefault((node_id, socket), name)
            shapes[name] = hashing.shape_summary(item)
            diag = max(shapes[name].get("diagonal") or 1.0, 1e-6)
            for fmt in formats:
                path = out_dir / f"{name}.{fmt}"
                try:
                    written = exchange.export_shape(item, path, fmt, tolerance=diag * QUALITY[quality])
                except Exception as exc:
                    export_failed = True
                    print(f"export failed: {name} as {fmt}: {exc}", file=sys.stderr)
                    continue
                exports.append(
                    {
                        "node": node_id,
                        "shape": name,
                        "format": fmt,
                        "path": str(Path(written).relative_to(out_dir)),
                        "sha256": _sha256(Path(written)),
                        "bytes": Path(written).stat().st_size,
                    }
                )
    for node_id, nr in result.nodes.items():  # files written by IO::Export* nodes
        if nr.ok and isinstance(nr.outputs.get("path"), str) and Path(nr.outputs["path"]).is_file():
            p = Path(nr.outputs["path"])
            try:
                rel = str(p.relative_to(out_dir))
            except ValueError:
                rel = str(p)
            node = g.document.node(node_id)
            sources = [names.get((ref.node_id, ref.socket)) for _, ref in node.links()] if node is not None else []
            shape = next((s for s in sources if s is not None), None)
            exports.append(
                {
                    "node": node_id,
                    "shape": shape,
                    "format": p.suffix.lstrip(".").lower(),
                    "path": rel,
                    "sha256": _sha256(p),
                    "bytes": p.stat().st_size,
                }
            )
    return shapes, exports, export_failed


def result_targets(graph: GraphSession, target: Any = None) -> list[tuple[str, str]]:
    """(node id, socket) of the shapes that make a graph's result.

    By default the terminal shapes: shape outputs that no other (non-export) node consumes
    (see :mod:`brepflow_lab.sweep`); ``target`` names a node (``"enclosure"``) or a socket
    (``"enclosure.shape"``). Used by ``render``, ``reproduce`` and sweeps."""
    doc = graph.document
    registry = graph.registry
    if target is None:
        consumed = set()
        for n in doc.nodes:
            spec = registry.get(n.type)
            if spec is not None and spec.side_effects:
                continue  # an export consuming a shape does not make it intermediate
            consumed |= {(ref.node_id, ref.socket) for _, ref in n.links()}
        out: list[tuple[str, str]] = []
        for n in doc.nodes:
            spec = registry.get(n.type)
            if spec is None or spec.side_effects:
                continue
            out.extend((n.id, o.name) for o in spec.outputs if o.type in SHAPE_TYPES and (n.id, o.name) not in consumed)
        return out  # empty: nothing to measure, the whole graph is evaluated
    node_id = getattr(target, "id", None) or str(target)
    socket: str | None = None
    if getattr(target, "id", None) is None and "." in node_id and node_id not in graph:
        node_id, socket = node_id.rsplit(".", 1)
    node = doc.node(node_id)
    if node is None:
        close = difflib.get_close_matches(node_id, [n.id for n in doc.nodes], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise GraphError([Problem(ErrorCode.INPUT_MISSING, f"target node '{node_id}' is not in the graph{hint}")])
    spec = registry.get(node.type)
    if spec is None:
        raise GraphError([Problem(ErrorCode.UNKNOWN_NODE_TYPE, f"unknown node type '{node.type}'", node_id)])
    shapes = [o.name for o in spec.outputs if o.type in SHAPE_TYPES]
    if socket is not None:
        if socket not in shapes:
            raise GraphError(
                [
                    Problem(
                        ErrorCode.UNKNOWN_SOCKET,
                        f"{node.type} has no shape output '{socket}' (shape outputs: {', '.join(shapes) or 'none'})",
                        node_id,
                    )
                ]
            )
        return [(node_id, socket)]
    if not shapes:
        raise GraphError(
            [Problem(ErrorCode.UNKNOWN_SOCKET, f"target '{node_id}' ({node.type}) has no shape output", node_id)]
        )
    return [(node_id, "shape" if "shape" in shapes else shapes[0])]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
