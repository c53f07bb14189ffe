"""Build the corpus graphs with the Python API and save them next to their scripts.

    python benchmarks/models/make_graphs.py

Each ``NAME.bflow.json`` is built here from the nodes a user would pick; ``NAME.py`` is the
same model written by hand with cadquery (``build()``). The hole-grid graphs come from
``benchmarks/bench_checks.py``; ``enclosure.bflow.json`` is a copy of
``examples/enclosure.bflow.json`` (copied, so that the benchmark keeps measuring the model
its script builds when the example changes).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_checks import chamfered, fillet_plate, perforated  # noqa: E402

from brepflow_lab import Graph  # noqa: E402


def loft_sweep() -> Graph:
    g = Graph.new(description="lofts and sweeps fused with a base plate")
    g.parameters.define("twist", 90.0, min=0, max=180, unit="deg", description="twist of the square column")
    plate = g.add("Solid::Box", id="plate", width=120, height=120, depth=5, center=(0.0, 0.0, -1.5))
    base = g.add("Sketch::Rectangle", id="bottle_base", width=40, height=30, center=(0.0, 0.0, 0.0))
    mid = g.add("Sketch::Circle", id="bottle_mid", radius=14, center=(0.0, 0.0, 30.0))
    top = g.add("Sketch::Circle", id="bottle_top", radius=6, center=(0.0, 0.0, 60.0))
    bottle = g.add("Solid::Loft", id="bottle")
    for section in (base, mid, top):
        g.connect(section, "curve", bottle, "profiles")
    hexagon = g.add("Sketch::Polygon", id="post_base", sides=6, radius=12, center=(35.0, -35.0, 0.0))
    round_top = g.add("Sketch::Circle", id="post_top", radius=6, center=(35.0, -35.0, 25.0))
    post = g.add("Solid::Loft", id="post")
    g.connect(hexagon, "curve", post, "profiles")
    g.connect(round_top, "curve", post, "profiles")
    square = g.add("Sketch::Rectangle", id="column_profile", width=10, height=10, center=(35.0, 35.0, 0.0))
    axis = g.add("Sketch::Line", id="column_path", start=(35.0, 35.0, 0.0), end=(35.0, 35.0, 40.0))
    column = g.add("Solid::Sweep", id="column", twist="@twist")
    g.connect(square, "curve", column, "profile")
    g.connect(axis, "curve", column, "path")
    rod = g.add("Sketch::Circle", id="arch_profile", radius=3, center=(-40.0, -40.0, 0.0))
    arch_path = g.add(
        "Sketch::Polyline", id="arch_path", points="-40,-40,0; -40,-40,30; -40,40,30; -40,40,0", closed=False
    )
    arch = g.add("Solid::Sweep", id="arch")
    g.connect(rod, "curve", arch, "profile")
    g.connect(arch_path, "wire", arch, "path")
    union = g.add("Boolean::Union", id="all")
    for part in (plate, bottle, post, column, arch):
        g.connect(part, "shape", union, "shapes")
    return g


def pin_array() -> Graph:
    rows = 10
    g = Graph.new(description="500 pins fused with their plate in one boolean")
    g.parameters.define("cols", 50, min=1, max=100, step=1, description="pins per row (10 rows)")
    g.parameters.define("pitch", 5.0, min=3.5, max=20, unit="mm", description="distance between pins")
    plate = g.add("Solid::Box", id="plate", width="@cols * @pitch", height=f"{rows} * @pitch", depth=3)
    pin = g.add("Solid::Cylinder", id="pin", radius=1.5, height=6)
    union = g.add("Boolean::Union", id="all")
    g.connect(plate, "shape", union, "shapes")
    for j in range(rows):
        move = g.add(
            "Transform::Move", id=f"row{j}", offset={"x": "@pitch / 2", "y": f"@pitch / 2 + {j} * @pitch", "z": 1}
        )
        row = g.add("Transform::ArrayLinear", id=f"pins{j}", count="@cols", spacing={"x": "@pitch", "y": 0, "z": 0})
        g.connect(pin, "shape", move, "shape")
        g.connect(move, "shape", row, "shape")
        g.connect(row, "shapes", union, "shapes")
    return g


def sketch_plate() -> Graph:
    import sketch_plate as script

    g = Graph.new(description="a plate drawn from 2D sketches, each extruded")
    g.parameters.define("fillet", 5.0, min=0.5, max=10, unit="mm", description="outline corner radius")
    g.parameters.define("hole", 3.2, min=1, max=4, unit="mm", description="round hole radius")
    thick, depth, inset = script.THICK, script.POCKET_DEPTH, script.INSET
    points = "; ".join(f"{x},{y}" for x, y in script.OUTLINE)
    outline = g.add("Sketch::Polyline", id="outline", points=points, closed=True)
    rounded = g.add("Sketch::Fillet2D", id="outline_rounded", radius="@fillet")
    g.connect(outline, "wire", rounded, "wire")
    body = g.add("Solid::Extrude", id="body", distance=thick)
    g.connect(rounded, "filleted", body, "profile")
    cut = g.add("Boolean::Subtract", id="plate")
    g.connect(body, "shape", cut, "base")

    def tool(curve: object, socket: str, name: str, distance: float) -> None:
        solid = g.add("Solid::Extrude", id=f"{name}_solid", distance=distance)
        g.connect(curve, socket, solid, "profile")
        g.connect(solid, "shape", cut, "tools")

    inner = g.add("Sketch::Offset2D", id="pocket_outline", distance=-inset, kind="arc")
    g.connect(rounded, "filleted", inner, "curve")
    lifted = g.add("Transform::Move", id="pocket_level", offset=(0.0, 0.0, thick - depth))
    g.connect(inner, "curve", lifted, "shape")
    tool(lifted, "shape", "pocket", 2 * depth)
    for k, (x, y) in enumerate(script.HOLES):
        circle = g.add("Sketch::Circle", id=f"hole{k}", radius="@hole", center=(float(x), float(y), -1.0))
        tool(circle, "curve", f"hole{k}", thick + 2)
    for k, (x, y) in enumerate(script.HEXES):
        hexagon = g.add("Sketch::Polygon", id=f"nut{k}", sides=6, radius=4, center=(float(x), float(y), -1.0))
        tool(hexagon, "curve", f"nut{k}", 4)
    for k, (x, y) in enumerate(script.SLOTS):
        rect = g.add("Sketch::Rectangle", id=f"slot{k}", width=20, height=6, center=(float(x), float(y), -1.0))
        ends = g.add("Sketch::Fillet2D", id=f"slot{k}_ends", radius=2.9)
        g.connect(rect, "curve", ends, "wire")
        tool(ends, "filleted", f"slot{k}", thick + 2)
    window = g.add(
        "Sketch::Ellipse", id="window", majorRadius=14, minorRadius=6, center=(80.0, 30.0, -1.0), normal=(0.0, 0.0, 1.0)
    )
    tool(window, "curve", "window", thick + 2)
    blob = g.add("Sketch::Spline", id="blob", points="; ".join(f"{x},{y},-1" for x, y in script.SPLINE), closed=True)
    tool(blob, "curve", "blob", thick + 2)
    return g


def imported_step() -> Graph:
    import imported_step as script

    g = Graph.new(description="an imported STEP part with thousands of faces, one hole cut through it")
    g.parameters.define("cx", 52.5, unit="mm", description="hole centre X")
    g.parameters.define("cy", 52.5, unit="mm", description="hole centre Y")
    g.parameters.define("radius", 12.0, min=1, max=50, unit="mm", description="hole radius")
    part = g.add("IO::ImportSTEP", id="part", filepath=script.STEP_NAME)
    drill = g.add("Solid::Cylinder", id="drill", radius="@radius", height=20, center={"x": "@cx", "y": "@cy", "z": -5})
    cut = g.add("Boolean::Subtract", id="cut")
    g.connect(part, "shape", cut, "base")
    g.connect(drill, "shape", cut, "tools")
    return g


def from_bench_checks(build: Callable[[], tuple[Graph, str]]) -> Callable[[], Graph]:
    return lambda: build()[0]


GRAPHS: dict[str, Callable[[], Graph]] = {
    "hole_grid_fillet": from_bench_checks(fillet_plate),
    "perforated_plate": from_bench_checks(perforated),
    "loft_sweep": loft_sweep,
    "pin_array": pin_array,
    "imported_step": imported_step,
    "sketch_plate": sketch_plate,
    "chamfered_block": from_bench_checks(chamfered),
}


def main() -> int:
    sys.path.insert(0, str(HERE))
    for name, build in GRAPHS.items():
        path = build().save(HERE / f"{name}.bflow.json")
        print(f"wrote {path.relative_to(HERE.parent.parent)}")
    shutil.copyfile(HERE.parent.parent / "examples" / "enclosure.bflow.json", HERE / "enclosure.bflow.json")
    print("wrote benchmarks/models/enclosure.bflow.json (copy of examples/enclosure.bflow.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
