"""Render outputs: measure a result's shapes, export them, describe every file written.

One path shared by ``brepflow-lab render``, ``brepflow-lab reproduce`` and sweeps (formats and
mesh quality), so a manifest means the same thing whichever command wrote it.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

    The result shapes are the sweep's (:func:`brepflow_lab.sweep.matrix.result_targets`): shape
    outputs no shape-making node consumes, so a shape that only feeds an ``IO::Export*`` node is
    a result (BrepFlow's ``simple-box`` ends in an export). Each ``exports`` entry names the
    shape it came from: for the files an export node wrote, the shape on its input.
    """
    from brepflow_lab.kernel import exchange, hashing
    from brepflow_lab.sweep.matrix import result_targets

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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
