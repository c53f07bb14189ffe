"""Tessellation benchmark: ``brepflow_lab.kernel.tessellate`` vs ``ocp-tessellate``.

    python benchmarks/bench_tessellate.py            # all shapes, 7 repeats
    python benchmarks/bench_tessellate.py --quick    # 3 repeats

Both sides get the same shapes and the same tolerances (the linear deflection of each
level of detail — 0.5 % / 0.2 % / 0.1 % of the bounding-box diagonal — and its angular
tolerance in radians) and produce the same things: positions, normals, triangle
indices, triangles per B-Rep face and line segments per B-Rep edge.

Fairness. BRepMesh stores its mesh inside the shape and reuses it, so every timed run
starts from an unmeshed topology copy: ocp-tessellate gets a fresh copy made *outside*
its timing; ours makes its private copy *inside* the timing (that is what it does in
real use). ocp-tessellate's own result cache is bypassed by calling its ``Tessellator``
directly. The two sides alternate within each repeat and the median is taken, so a busy
machine slows both alike.

Budget (issue #3): ours <= ocp-tessellate's, i.e. the ratio of total times <= 1.00.
Exit status 1 when the budget fails.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cadquery as cq
from OCP.BRepBuilderAPI import BRepBuilderAPI_Copy
from ocp_tessellate.tessellator import Tessellator

from brepflow_lab import Graph
from brepflow_lab.kernel.tessellate import LODS, diagonal, tessellate

ROOT = Path(__file__).resolve().parent.parent


def enclosure() -> cq.Shape:
    result = Graph.load(ROOT / "examples" / "enclosure.bflow.json").evaluate()
    return result["enclosure"]["shape"]


def shapes() -> dict[str, Callable[[], cq.Shape]]:
    return {
        "example enclosure": enclosure,
        "filleted, shelled box": lambda: (
            cq.Workplane().box(100, 80, 40).edges("|Z").fillet(8).faces(">Z").shell(-2).val()
        ),
        "sphere": lambda: cq.Solid.makeSphere(30, angleDegrees1=-90),
        "torus": lambda: cq.Solid.makeTorus(40, 10),
        "loft circle->rect": lambda: cq.Workplane().circle(20).workplane(offset=50).rect(30, 20).loft().val(),
        "plate, 36 holes": lambda: (
            cq.Workplane().box(120, 120, 5).faces(">Z").workplane().rarray(18, 18, 6, 6).hole(5).val()
        ),
        "30 spheres (compound)": lambda: cq.Compound.makeCompound(
            [cq.Solid.makeSphere(5, angleDegrees1=-90).moved(cq.Location(cq.Vector(12 * i, 0, 0))) for i in range(30)]
        ),
        "threaded-looking sweep": lambda: (
            cq.Workplane("XY")
            .circle(2)
            .sweep(cq.Workplane("XY").parametricCurve(lambda t: (10 * math.cos(t * 12), 10 * math.sin(t * 12), 4 * t)))
            .val()
        ),
    }


def fresh(shape: cq.Shape) -> cq.Shape:
    return cq.Shape.cast(BRepBuilderAPI_Copy(shape.wrapped, False, False).Shape())


def run_ours(shape: cq.Shape, deflection: float, angular: float) -> tuple[float, int]:
    start = time.perf_counter()
    mesh = tessellate(shape, deflection=deflection, angular_tolerance=angular, cache=None, max_triangles=None)
    return time.perf_counter() - start, mesh.triangle_count


def run_ocp(shape: cq.Shape, deflection: float, angular: float) -> tuple[float, int]:
    target = fresh(shape).wrapped  # not timed: a mesh-free copy so BRepMesh has work to do
    start = time.perf_counter()
    tess = Tessellator("bench")
    tess.compute(target, deflection, angular, compute_faces=True, compute_edges=True)
    tess.get_vertices()
    tess.get_normals()
    triangles = tess.get_triangles()
    tess.get_triangles_per_face()
    tess.get_edges()
    tess.get_segments_per_edge()
    return time.perf_counter() - start, len(triangles) // 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7

    print("tessellation: brepflow_lab vs ocp-tessellate (median of", repeats, "runs, alternating)")
    print(f"{'shape':24s} {'lod':8s} {'triangles':>10s} {'ours ms':>9s} {'ocp ms':>9s} {'ratio':>6s}")
    total_ours = total_ocp = 0.0
    ratios = []
    for name, build in shapes().items():
        shape = build()
        assert shape.isValid(), name
        diag = diagonal(shape)
        for lod, level in LODS.items():
            deflection, angular = level.relative_deflection * diag, level.angular_tolerance
            run_ours(shape, deflection, angular)  # warm up both (imports, OCCT thread pool)
            run_ocp(shape, deflection, angular)
            ours, theirs = [], []
            for i in range(repeats):
                pair = [("ours", run_ours), ("ocp", run_ocp)]
                if i % 2:
                    pair.reverse()
                for who, fn in pair:
                    seconds, triangles = fn(shape, deflection, angular)
                    (ours if who == "ours" else theirs).append((seconds, triangles))
            t_ours = statistics.median(s for s, _ in ours)
            t_ocp = statistics.median(s for s, _ in theirs)
            tri_ours, tri_ocp = ours[0][1], theirs[0][1]
            if tri_ours != tri_ocp:
                print(f"  note: {name} {lod}: {tri_ours} vs {tri_ocp} triangles")
            total_ours += t_ours
            total_ocp += t_ocp
            ratios.append(t_ours / t_ocp)
            print(f"{name:24s} {lod:8s} {tri_ours:10d} {t_ours * 1000:9.2f} {t_ocp * 1000:9.2f} {t_ours / t_ocp:6.2f}")
    ratio = total_ours / total_ocp
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    ok = ratio <= 1.0
    print()
    print(f"total: ours {total_ours * 1000:.1f} ms, ocp-tessellate {total_ocp * 1000:.1f} ms")
    print(f"ratio of totals {ratio:.2f} (geometric mean of per-case ratios {geomean:.2f})")
    print(f"  [{'PASS' if ok else 'FAIL'}] budget: ours <= ocp-tessellate's (ratio <= 1.00)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
