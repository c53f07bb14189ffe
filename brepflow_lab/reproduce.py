"""``brepflow-lab reproduce MANIFEST``: re-render a recorded design and say whether it still comes out the same.

A render's ``manifest.json`` (format 2, :mod:`brepflow_lab.provenance`) records the graph file's
path and sha256, every resolved global parameter, the environment, and a summary of each
result shape (validity, volume, area, bbox, canonical fingerprint). Reproducing:

1. refuses when the graph file is missing or its sha256 changed (exit 10): comparing shapes of
   a different graph would say nothing about the environment;
2. names every package (cadquery, cadquery-ocp/OCCT, numpy, …) and Python whose version differs
   from the recorded one — the likely cause of any difference found next;
3. evaluates the graph with the recorded parameters (all of them, not only the overrides, so a
   changed default in the file cannot creep in), exports the recorded formats into ``--out``
   when given, and compares each shape's fingerprint; for a shape that differs it prints the
   volume and area deltas, and it lists shapes that appeared or disappeared.

Exit 0 when every shape is identical, 1 when any differs (or a node now fails), 10 when the
graph is missing or changed, 64 when MANIFEST is not a render manifest.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from brepflow_lab import provenance
from brepflow_lab.render import QUALITY, render_outputs

EXIT_IDENTICAL = 0
EXIT_DIFFERENT = 1
EXIT_GRAPH_CHANGED = 10
EXIT_USAGE = 64


@dataclass
class ShapeComparison:
    name: str
    status: str  # identical | different | missing (recorded, not produced now) | new
    volume_delta: float | None = None
    area_delta: float | None = None
    recorded_fingerprint: str | None = None
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def compare_shapes(recorded: dict[str, Any], now: dict[str, Any]) -> list[ShapeComparison]:
    """One row per shape name in either summary, in recorded order then new ones."""
    rows: list[ShapeComparison] = []
    for name in [*recorded, *(n for n in now if n not in recorded)]:
        before, after = recorded.get(name), now.get(name)
        if after is None:
            rows.append(ShapeComparison(name, "missing", recorded_fingerprint=(before or {}).get("fingerprint")))
            continue
        if before is None:
            rows.append(ShapeComparison(name, "new", fingerprint=after.get("fingerprint")))
            continue
        same = before.get("fingerprint") == after.get("fingerprint") and before.get("valid") == after.get("valid")
        row = ShapeComparison(
            name,
            "identical" if same else "different",
            recorded_fingerprint=before.get("fingerprint"),
            fingerprint=after.get("fingerprint"),
        )
        if not same:
            row.volume_delta = _delta(before.get("volume"), after.get("volume"))
            row.area_delta = _delta(before.get("area"), after.get("area"))
        rows.append(row)
    return rows


def _delta(before: Any, after: Any) -> float | None:
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        return float(after) - float(before)
    return None


def _fmt_delta(value: float | None, recorded: Any) -> str:
    if value is None:
        return "-"
    rel = f" ({value / recorded:+.3%})" if isinstance(recorded, (int, float)) and recorded else ""
    return f"{value:+.6g}{rel}"


def print_table(rows: list[ShapeComparison], recorded: dict[str, Any], out: TextIO) -> None:
    width = max([5, *(len(r.name) for r in rows)])
    print(f"{'shape':<{width}}  {'fingerprint':<10}  {'volume Δ':>22}  {'area Δ':>22}", file=out)
    for r in rows:
        base = recorded.get(r.name) or {}
        print(
            f"{r.name:<{width}}  {r.status:<10}  {_fmt_delta(r.volume_delta, base.get('volume')):>22}  "
            f"{_fmt_delta(r.area_delta, base.get('area')):>22}",
            file=out,
        )


def reproduce(
    manifest_path: str | Path,
    out_dir: str | Path | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    as_json: bool = False,
) -> int:
    """Run the check described in the module docstring; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    path = Path(manifest_path)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"{path}: cannot read the manifest: {exc}", file=err)
        return EXIT_USAGE
    graph = manifest.get("graph") if isinstance(manifest, dict) else None
    if not isinstance(graph, dict) or not graph.get("path") or "parameters" not in manifest:
        print(
            f"{path}: not a render manifest with provenance (format 2, written by brepflow-lab render); "
            "render the graph again to record one",
            file=err,
        )
        return EXIT_USAGE
    graph_path = Path(graph["path"])
    if not graph_path.is_file():
        beside = path.parent / graph_path.name
        print(f"{path}: the recorded graph {graph_path} is missing", file=err)
        if beside.is_file():
            print(f"  (a file of that name is beside the manifest: {beside})", file=err)
        return EXIT_GRAPH_CHANGED
    sha = provenance.file_sha256(graph_path)
    if graph.get("sha256") and sha != graph["sha256"]:
        print(
            f"{path}: the graph {graph_path} changed since it was rendered "
            f"(sha256 {sha[:12]}…, recorded {graph['sha256'][:12]}…); nothing to compare",
            file=err,
        )
        return EXIT_GRAPH_CHANGED

    differences = provenance.environment_differences(manifest.get("environment") or {})
    recorded_version = (manifest.get("brepflow_lab") or {}).get("version")
    current_version = provenance.software()["version"]
    if recorded_version and recorded_version != current_version:
        differences.insert(0, f"brepflow-lab: recorded {recorded_version}, here {current_version}")
    if as_json:
        pass  # the differences go into the JSON report
    elif differences:
        print("environment differs from the recorded one:", file=out)
        for line in differences:
            print(f"  {line}", file=out)
    else:
        print("environment: same versions as recorded", file=out)

    from brepflow_lab.api import Graph

    g = Graph.load(graph_path)
    options = manifest.get("options") or {}
    formats = [f for f in options.get("export", []) if f] if out_dir is not None else []
    recorded_quality = options.get("quality")
    quality = recorded_quality if isinstance(recorded_quality, str) and recorded_quality in QUALITY else "medium"
    with tempfile.TemporaryDirectory(prefix="brepflow-reproduce-") as scratch:
        target = Path(out_dir).resolve() if out_dir is not None else Path(scratch)
        target.mkdir(parents=True, exist_ok=True)
        result = g.evaluate(
            parameters=manifest["parameters"],
            cache=False,
            output_dir=target,
            allow_unsafe_paths=bool(options.get("allow_unsafe_paths", False)),
        )
        shapes, exports, _ = render_outputs(g, result, target, formats, quality)
        if out_dir is not None:
            renewed = {
                **manifest,
                "brepflow_lab": result.provenance["brepflow_lab"] if result.provenance else None,
                "environment": result.provenance["environment"] if result.provenance else None,
                "nodes": {nid: nr.to_dict() for nid, nr in result.nodes.items()},
                "shapes": shapes,
                "exports": exports,
                "stats": result.stats.to_dict(),
                "reproduces": str(path.resolve()),
            }
            (target / "manifest.json").write_text(json.dumps(renewed, indent=2, default=str) + "\n")
    failed = [nid for nid, nr in result.nodes.items() if nr.status == "failed"]
    recorded_failed = [nid for nid, n in (manifest.get("nodes") or {}).items() if n.get("status") == "failed"]
    rows = compare_shapes(manifest.get("shapes") or {}, shapes)
    newly_failed = sorted(set(failed) - set(recorded_failed))
    if as_json:
        print(
            json.dumps(
                {"shapes": [r.to_dict() for r in rows], "environment": differences, "failed": newly_failed}, indent=2
            ),
            file=out,
        )
    else:
        print_table(rows, manifest.get("shapes") or {}, out)
    for nid in newly_failed:
        print(f"node {nid} failed now: {result.nodes[nid].error}", file=err)
    different = [r for r in rows if r.status != "identical"] or newly_failed
    if not as_json:
        summary = (
            "identical"
            if not different
            else f"{len([r for r in rows if r.status != 'identical'])} of {len(rows)} shape(s) differ"
        )
        print(f"{path}: {summary}", file=out)
    return EXIT_DIFFERENT if different else EXIT_IDENTICAL
