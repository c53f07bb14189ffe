"""Start-up benchmarks: what a fresh process pays to read and validate a graph.

    python benchmarks/bench_startup.py            # 7 runs of each
    python benchmarks/bench_startup.py --quick    # 3 runs

Every figure is the median over fresh processes, printed with its ratio to the bare
interpreter (``python -c pass``) measured in the same run.

(a) ``import brepflow_lab``
(b) import + load + validate a 1,000-node file (budget: <= 200 ms, measured inside the
    process from before the first import, so the interpreter's own start is not counted)
(c) ``brepflow-lab validate`` of the 15-node example, whole process (budget: <= 0.5 s wall)
and which heavy modules (jsonschema's format checkers, lark, cadquery, OCP, dask) each
path imported: none is expected.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"
HEAVY = ["jsonschema._format", "rfc3987_syntax", "lark", "jsonschema", "cadquery", "OCP", "dask"]

LOAD_AND_VALIDATE = """
import time
t = time.perf_counter()
import json, sys
import brepflow_lab
g = brepflow_lab.load(sys.argv[1])
errors = [p for p in g.validate() if p.severity == "error"]
assert not errors, errors[:3]
print(json.dumps({"seconds": time.perf_counter() - t, "heavy": [m for m in %r if m in sys.modules]}))
"""

RESULTS: list[tuple[str, bool, str]] = []


def budget(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, ok, detail))
    print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")


def wall(cmd: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        out.append(time.perf_counter() - t)
    return out


def thousand_nodes() -> Path:
    data = json.loads(EXAMPLE.read_text())
    boxes = [n for n in data["nodes"] if n["type"] == "Solid::Box"]
    data["nodes"] = [
        {**boxes[0], "id": f"box{i}", "inputs": {}, "position": {"x": i % 40 * 200, "y": i // 40 * 150}}
        for i in range(1000)
    ]
    data["edges"] = []
    path = Path(tempfile.mkdtemp()) / "thousand.bflow.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    py = sys.executable
    bare = statistics.median(wall([py, "-c", "pass"], repeat))
    print(f"bare interpreter (python -c pass): {bare * 1000:.0f} ms wall (median of {repeat})")

    print("(a) import brepflow_lab")
    imp = statistics.median(wall([py, "-c", "import brepflow_lab"], repeat))
    print(f"  {imp * 1000:.0f} ms wall ({imp / bare:.1f}x the bare interpreter)")

    print("(b) import + load + validate a 1,000-node file, fresh process")
    path = thousand_nodes()
    inside, heavy = [], set()
    for _ in range(repeat):
        out = subprocess.run(
            [py, "-c", LOAD_AND_VALIDATE % (HEAVY,), str(path)], check=True, capture_output=True, text=True, cwd=ROOT
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        inside.append(report["seconds"])
        heavy |= set(report["heavy"])
    whole = statistics.median(wall([py, "-c", LOAD_AND_VALIDATE % (HEAVY,), str(path)], repeat))
    t = statistics.median(inside)
    print(
        f"  {t * 1000:.0f} ms inside the process, {whole * 1000:.0f} ms whole process "
        f"({whole / bare:.1f}x the bare interpreter); heavy modules imported: {sorted(heavy) or 'none'}"
    )
    budget("1,000-node load + validate <= 200 ms (package import included)", t <= 0.200, f"{t * 1000:.0f} ms")
    budget("no heavy module on the load + validate path", not heavy, ", ".join(sorted(heavy)) or "none")

    print("(c) brepflow-lab validate of the 15-node example")
    cli = shutil.which("brepflow-lab")
    cmd = [cli, "validate", str(EXAMPLE)] if cli else [py, "-m", "brepflow_lab.cli", "validate", str(EXAMPLE)]
    v = statistics.median(wall(cmd, repeat))
    print(f"  {v * 1000:.0f} ms wall ({v / bare:.1f}x the bare interpreter)")
    budget("brepflow-lab validate <= 0.5 s wall", v <= 0.5, f"{v:.2f} s")

    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} budgets hold" + (f"; failing: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
