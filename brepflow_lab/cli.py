"""``brepflow-lab``: render, sweep, validate, info and nodes from the terminal.

Exit codes (stable, for scripts and CI):

* 0 — everything evaluated (render) / the file is valid (validate)
* 2 — some nodes failed; everything else was still evaluated and exported
* 10 — the file (or a sweep's parameter matrix) is invalid: every problem is listed on stderr, no traceback. For a file
  that parses but has semantic errors (unknown node type, missing ``@param``, cycle...)
  ``render`` still evaluates and exports the parts that are fine before exiting 10.

``reproduce MANIFEST`` (see :mod:`brepflow_lab.reproduce`): 0 every shape identical, 1 some
shape differs, 10 the graph file is missing or changed since the render.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brepflow_lab.core.errors import GraphError
from brepflow_lab.core.version import __version__
from brepflow_lab.render import FORMATS, MANIFEST_FORMAT, QUALITY, render_outputs

EXIT_OK = 0
EXIT_NODE_FAILED = 2
EXIT_INVALID = 10
EXIT_USAGE = 64


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text  # an expression such as "10 in" or "@L/2"


def _parse_sets(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"brepflow-lab: --set expects NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        out[name.strip().lstrip("@")] = _parse_value(value)
    return out


def _print_problems(problems: Sequence[Any], stream: Any = None) -> None:
    stream = stream or sys.stderr
    for p in problems:
        print(f"  {p}", file=stream)


def _load(path: str) -> Any:
    from brepflow_lab.api import Graph

    return Graph.load(path)


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        g = _load(args.graph)
        problems = g.validate(_parse_sets(args.set))
    except GraphError as exc:
        print(f"{args.graph}: invalid", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if args.json:
        print(json.dumps({"valid": not errors, "problems": [p.to_dict() for p in problems]}, indent=2))
    if errors:
        print(f"{args.graph}: {len(errors)} error(s), {len(warnings)} warning(s)", file=sys.stderr)
        _print_problems(problems)
        return EXIT_INVALID
    if not args.json:
        print(f"{args.graph}: valid ({len(g.document.nodes)} nodes, {len(warnings)} warning(s))")
        _print_problems(warnings, sys.stdout)
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    try:
        g = _load(args.graph)
    except GraphError as exc:
        print(f"{args.graph}: invalid", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    doc = g.document
    info = {
        "file": args.graph,
        "version": doc.version,
        "units": doc.units,
        "tolerance": doc.tolerance,
        "metadata": dict(doc.metadata or {}),
        "parameters": {
            k: {kk: vv for kk, vv in vars(p).items() if vv is not None and kk != "extra"}
            for k, p in doc.parameters.items()
        },
        "nodes": [{"id": n.id, "type": n.type, "label": n.label, "params": dict(n.params)} for n in doc.nodes],
        "edges": len(doc.edges),
    }
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return EXIT_OK
    print(f"{args.graph}: BrepFlow graph v{doc.version}, units {doc.units}, tolerance {doc.tolerance}")
    if doc.metadata:
        for key in ("description", "author", "created", "modified"):
            if key in doc.metadata:
                print(f"  {key}: {doc.metadata[key]}")
    print(f"parameters ({len(doc.parameters)}):")
    for name, p in doc.parameters.items():
        limits = "".join([f" min={p.min}" if p.min is not None else "", f" max={p.max}" if p.max is not None else ""])
        unit = f" {p.unit}" if p.unit else ""
        print(f"  @{name} = {p.value}{unit}{limits}" + (f"  — {p.description}" if p.description else ""))
    print(f"nodes ({len(doc.nodes)}), edges ({len(doc.edges)}):")
    for n in doc.nodes:
        params = ", ".join(f"{k}={json.dumps(v)}" for k, v in n.params.items())
        print(f"  {n.id:<16} {n.type:<24} {params}")
    return EXIT_OK


def cmd_nodes(args: argparse.Namespace) -> int:
    from brepflow_lab.nodes.registry import catalogue

    if args.json:
        print(json.dumps(catalogue.to_dict(), indent=2))
        return EXIT_OK
    current = None
    for spec in catalogue:
        if spec.category != current:
            current = spec.category
            print(f"{current}:")
        ins = ", ".join(f"{i.name}{'[]' if i.multiple else ''}:{i.type}" for i in spec.inputs)
        outs = ", ".join(f"{o.name}{'[]' if o.multiple else ''}:{o.type}" for o in spec.outputs)
        params = ", ".join(f"{p.name}={p.default!r}" for p in spec.params)
        print(f"  {spec.type:<26} ({ins}) -> ({outs})  [{params}]")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    formats = [f.strip().lower() for f in args.export.split(",") if f.strip()] if args.export else ["step"]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        print(
            f"brepflow-lab: unknown export format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        g = _load(args.graph)
    except GraphError as exc:
        print(f"{args.graph}: invalid", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    overrides = _parse_sets(args.set)
    problems = g.validate(overrides)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        print(f"{args.graph}: {len(errors)} error(s); evaluating the rest", file=sys.stderr)
        _print_problems(errors)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    result = g.evaluate(
        parameters=overrides or None,
        cache=not args.no_cache,
        output_dir=out_dir,
        allow_unsafe_paths=args.allow_unsafe_paths,
    )
    failed = [r for r in result.nodes.values() if r.status in ("failed", "skipped")]
    for r in failed:
        if r.status == "failed":
            print(f"failed: {r.error}", file=sys.stderr)
    shapes, exports, export_failed = render_outputs(g, result, out_dir, formats, args.quality)
    manifest = {
        "format": MANIFEST_FORMAT,
        "brepflow_lab": result.provenance["brepflow_lab"],
        "environment": result.provenance["environment"],
        "graph": result.provenance["graph"],
        "units": g.document.units,
        "parameters": result.parameters,
        "overrides": overrides,
        "options": {"export": formats, "quality": args.quality, "allow_unsafe_paths": args.allow_unsafe_paths},
        "nodes": {nid: nr.to_dict() for nid, nr in result.nodes.items()},
        "shapes": shapes,
        "exports": exports,
        "stats": result.stats.to_dict(),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    s = result.stats
    print(
        f"{args.graph}: {s.ran} ran, {s.cached} cached, {s.failed} failed, {s.skipped} skipped; "
        f"{len(exports)} file(s) in {out_dir}"
    )
    if errors:
        return EXIT_INVALID
    if failed or export_failed:
        return EXIT_NODE_FAILED
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """Evaluate one variant per matrix row; exit 0 all ok, 2 some failed, 10 bad graph/matrix."""
    from brepflow_lab.engine.dask_executor import DaskLimitError, close_shared
    from brepflow_lab.sweep import MatrixError, SweepInterrupted, run_sweep

    try:
        g = _load(args.graph)
    except GraphError as exc:
        print(f"{args.graph}: invalid", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    out_dir = Path(args.out).resolve()
    try:
        table = run_sweep(
            g,
            args.matrix,
            target=args.target,
            workers=args.workers,
            scheduler=args.scheduler,
            export=args.export,
            out=out_dir,
            quality=args.quality,
            allow_unsafe_paths=args.allow_unsafe_paths,
        )
    except MatrixError as exc:
        print(f"{args.matrix}: invalid parameter matrix", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INVALID
    except GraphError as exc:
        print(f"{args.graph}: cannot be swept", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    except SweepInterrupted as exc:
        print(f"\n{exc}; partial results in {out_dir / 'results.csv'}", file=sys.stderr)
        return 130
    except (DaskLimitError, ValueError) as exc:
        print(f"brepflow-lab sweep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ConnectionError, RuntimeError) as exc:
        print(f"brepflow-lab sweep: {exc}", file=sys.stderr)
        return 1
    finally:
        close_shared()
    for v in table.failed:
        params = ", ".join(f"{k}={v.parameters.get(k)!r}" for k in table.parameter_names)
        print(f"variant {v.index} ({params}) failed: [{v.error_code}] {v.error_message}", file=sys.stderr)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(table.counts().items()))
    print(
        f"{args.graph}: {len(table)} variants ({counts}) in {table.seconds:.1f} s; results in {out_dir / 'results.csv'}"
    )
    return EXIT_OK if table.ok else EXIT_NODE_FAILED


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Re-render a manifest's graph with its recorded parameters and compare the shapes."""
    from brepflow_lab.reproduce import reproduce

    return reproduce(args.manifest, args.out, as_json=args.json)


def _load_document(path: str) -> Any:
    from brepflow_lab.graph import bflow

    return bflow.load(path)


def cmd_diff(args: argparse.Namespace) -> int:
    """Semantic diff of two graph files: exit 0 equal, 1 different, 10 unreadable."""
    from brepflow_lab.graph.merge import diff

    try:
        a, b = _load_document(args.a), _load_document(args.b)
    except GraphError as exc:
        print(f"{exc.source or 'graph'}: invalid", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    result = diff(a, b, positions=not args.ignore_positions)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    elif result.equal:
        print(f"{args.a} and {args.b}: the same graph")
    else:
        for line in result.lines():
            print(line)
    return 0 if result.equal else 1


def cmd_merge(args: argparse.Namespace) -> int:
    """Three-way merge: exit 0 clean, 1 conflicts (ours kept in each, listed), 10 unreadable."""
    from brepflow_lab.graph import bflow
    from brepflow_lab.graph.merge import merge

    try:
        base, ours, theirs = (_load_document(p) for p in (args.base, args.ours, args.theirs))
    except GraphError as exc:
        print(f"{exc.source or 'graph'}: invalid", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_INVALID
    result = merge(base, ours, theirs)
    bflow.dump(result.document, args.out)
    for link in result.dropped_links:
        print(f"link dropped (its source node was deleted): {link}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "clean": result.clean,
                    "conflicts": [c.to_json() for c in result.conflicts],
                    "dropped_links": result.dropped_links,
                },
                indent=2,
                default=str,
            )
        )
    for conflict in result.conflicts:
        print(f"conflict: {conflict.text()}", file=sys.stderr)
    summary = "merged cleanly" if result.clean else f"merged with {len(result.conflicts)} conflict(s)"
    print(f"{args.out}: {summary}", file=sys.stderr)
    return 0 if result.clean else 1


def cmd_lab(args: argparse.Namespace) -> int:
    """Start JupyterLab on the design notebooks (or FOLDER), on 127.0.0.1."""
    import os

    folder = Path(args.folder) if args.folder else Path.cwd()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={folder.resolve()}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={args.port}",
        # says in the server log whether graph files are shared live (brepflow_lab/collab/server.py)
        "--ServerApp.jpserver_extensions=brepflow_lab.collab.server=True",
        # bound the shared documents' update store (jupyter-collaboration #430): a document's
        # history is squashed into one update after an hour without edits
        "--SQLiteYStore.squash_after_inactivity_of=3600",
    ]
    if (folder / "notebooks").is_dir():  # the project checkout: land in the design notebooks
        command.append("--LabApp.default_url=/lab/tree/notebooks")
    if os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to start as root without it
    if args.no_browser:
        command.append("--no-browser")
    env = dict(os.environ)
    env.setdefault("JUPYTER_WIDGETS_ECHO", "0")  # browser edits are not echoed back in full
    print(f"JupyterLab on {folder.resolve()} at http://127.0.0.1:{args.port}/lab", file=sys.stderr)
    sys.stderr.flush()
    if os.name == "posix":
        # become JupyterLab: signals (Ctrl-C, a supervisor's SIGTERM) reach it directly and
        # no parent is left behind whose death would orphan the server
        os.execve(sys.executable, command, env)
    return subprocess.call(command, env=env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brepflow-lab", description="BrepFlow graphs on real OCCT")
    parser.add_argument("--version", action="version", version=f"brepflow-lab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("render", help="evaluate a graph and export its terminal shapes")
    p.add_argument("graph")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a global parameter")
    p.add_argument("--export", default="step", help=f"comma-separated formats: {','.join(FORMATS)} (default step)")
    p.add_argument("--out", default="out", help="output folder (default ./out)")
    p.add_argument("--quality", choices=sorted(QUALITY), default="medium", help="mesh quality for stl/glb/3mf")
    p.add_argument("--no-cache", action="store_true", help="do not read the result cache")
    p.add_argument(
        "--allow-unsafe-paths",
        action="store_true",
        help="let IO nodes use absolute paths and '..' (trusted graphs only)",
    )
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "sweep",
        help="evaluate one variant per row of a parameter matrix (in parallel on Dask) into results.csv",
        description="Exit 0 when every variant succeeds, 2 when some failed (the rest are still in "
        "results.csv), 10 when the graph or the matrix is invalid.",
    )
    p.add_argument("graph")
    p.add_argument("--matrix", required=True, help="CSV file: a header of parameter names, one variant per row")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local Dask worker processes (0: run in this process)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--target", help="node (or node.socket) whose shape is measured (default: the terminal shapes)")
    p.add_argument("--export", default="", help=f"comma-separated formats per variant: {','.join(FORMATS)}")
    p.add_argument("--out", default="out", help="output folder for results.csv and exports (default ./out)")
    p.add_argument("--quality", choices=sorted(QUALITY), default="medium", help="mesh quality for stl/glb/3mf")
    p.add_argument(
        "--allow-unsafe-paths",
        action="store_true",
        help="let IO nodes use absolute paths and '..' (trusted graphs only)",
    )
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "reproduce",
        help="re-render a manifest.json's graph with its recorded parameters; compare every shape",
        description="Exit 0 when every shape is identical to the recorded one, 1 when any differs, "
        "10 when the graph file is missing or changed since the render (sha256).",
    )
    p.add_argument("manifest", help="a manifest.json written by brepflow-lab render")
    p.add_argument("--out", help="also write the exports and a new manifest.json into this folder")
    p.add_argument("--json", action="store_true", help="the comparison as JSON")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser(
        "diff",
        help="semantic diff of two graph files: nodes, params (from -> to), links, parameters",
        description="Exit 0 when the graphs are equal, 1 when they differ, 10 when a file is invalid.",
    )
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true")
    p.add_argument("--ignore-positions", action="store_true", help="node moves are not differences")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser(
        "merge",
        help="three-way merge of graph files (usable as a git merge driver)",
        description="Writes the merged graph to -o. Exit 0 when it merged cleanly, 1 when there are "
        "conflicts (each listed; ours is kept in the output), 10 when a file is invalid. As a git merge "
        "driver: git config merge.brepflow.driver 'brepflow-lab merge %%O %%A %%B -o %%A' and "
        "'*.bflow.json merge=brepflow' in .gitattributes.",
    )
    p.add_argument("base")
    p.add_argument("ours")
    p.add_argument("theirs")
    p.add_argument("-o", "--out", required=True, help="where to write the merged graph (may be OURS)")
    p.add_argument("--json", action="store_true", help="conflicts as JSON on stdout")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("validate", help="check a graph file; exit 0 if valid, 10 if not")
    p.add_argument("graph")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("info", help="nodes, parameters and units of a graph")
    p.add_argument("graph")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("nodes", help="the node catalogue")
    p.add_argument("--json", action="store_true", help="every spec as JSON")
    p.set_defaults(func=cmd_nodes)

    p = sub.add_parser("lab", help="start JupyterLab on the design notebooks (127.0.0.1)")
    p.add_argument("folder", nargs="?", help="root folder (default: the current one; opens its notebooks/)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=cmd_lab)

    from brepflow_lab.hub.cli import add_parser as add_hub_parser

    add_hub_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except GraphError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
