"""``brepflow-lab render`` as a whole process against a hand-written cadquery script.

Both pay for starting Python and importing cadquery (~3 s of OCP here); the budget (issue 16)
is render <= 1.10x the script that builds and exports the same model. Runs alternate
(script, render, script, ...) so a busy machine slows both alike; medians are compared.

    python benchmarks/bench_render_process.py [--repeat 7]

Models: BrepFlow's simple-box (Box -> Fillet -> IO::ExportSTEP) and the example enclosure
(15 nodes: shell, fillets, bosses, holes), each exported to STEP.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIMPLE_BOX = """
import cadquery as cq
box = cq.Workplane("XY").box(100, 60, 40, centered=False).edges().fillet(5)
assert box.val().isValid()
cq.exporters.export(box, OUT + "/script.step")
"""

ENCLOSURE = """
import cadquery as cq
L, W, H, t, r, inset = 120.0, 80.0, 40.0, 2.0, 6.0, 9.0
body = cq.Workplane("XY").box(L, W, H, centered=False).edges("|Z").fillet(r).faces(">Z").shell(-t)
pts = [(inset, inset), (L - inset, inset), (inset, W - inset), (L - inset, W - inset)]
bosses = cq.Workplane("XY").pushPoints(pts).circle(3.5).extrude(H - t)
holes = cq.Workplane("XY").workplane(offset=t).pushPoints(pts).circle(1.25).extrude(H - 2 * t)
part = body.union(bosses).cut(holes)
assert part.val().isValid()
cq.exporters.export(part, OUT + "/script.step")
"""

MODELS = {
    "simple-box": (ROOT / "tests" / "data" / "simple_box.bflow.json", SIMPLE_BOX),
    "enclosure": (ROOT / "examples" / "enclosure.bflow.json", ENCLOSURE),
}


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores)")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, (graph, source) in MODELS.items():
            script = Path(tmp) / f"{name}.py"
            script.write_text(f"OUT = {tmp!r}\n" + source)
            render = [sys.executable, "-m", "brepflow_lab.cli", "render", str(graph), "--out", str(Path(tmp) / name)]
            baseline = [sys.executable, str(script)]
            run(baseline), run(render)  # warm the page cache
            times: dict[str, list[float]] = {"script": [], "render": []}
            for _ in range(args.repeat):
                times["script"].append(run(baseline))
                times["render"].append(run(render))
            s, r = statistics.median(times["script"]), statistics.median(times["render"])
            ok = r / s <= 1.10
            failed |= not ok
            print(
                f"  [{'PASS' if ok else 'FAIL'}] {name}: render {r:.2f} s, script {s:.2f} s, "
                f"ratio {r / s:.2f} (budget 1.10; medians of {args.repeat})"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
