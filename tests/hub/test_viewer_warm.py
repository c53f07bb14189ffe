"""The viewer service stays warm: a first render costs about what a next one does (issue 11).

The viewer's Renderer (what ``/model`` calls) with its warm process
(:mod:`brepflow_lab.hub.render_pool`), started as the service starts it. The team trial saw 15.4 s
for a viewer's first graph and 5.4 s for the next: each render was a fresh Python paying the
cadquery/OCP imports. Three different graphs (no cache hit) render here; the first one, after
the service had a few seconds to start (as it has when the hub starts long before a viewer logs
in), must cost about what the others do. A killed warm process costs no render: that one takes
the fresh-process path and the next finds a new warm process.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from brepflow_lab import Graph
from brepflow_lab.hub.viewer_service import Renderer, ViewerConfig


def bracket(length: float) -> str:
    g = Graph.new(units="mm", description="bracket")
    g.parameters.define("L", length, min=10, max=200, unit="mm")
    box = g.add("Solid::Box", width="@L", height=10, depth=8)
    hole = g.add("Solid::Cylinder", radius=2, height=30)
    cut = g.add("Boolean::Subtract")
    g.connect(box, "shape", cut, "base")
    g.connect(hole, "shape", cut, "tools")
    return g.dumps()


def graphs(folder: Path, *lengths: float) -> list[Path]:
    folder.mkdir(exist_ok=True)
    out = []
    for length in lengths:
        path = folder / f"bracket-{length:g}.bflow.json"
        path.write_text(bracket(length))
        out.append(path)
    return out


async def timed(renderer: Renderer, path: Path) -> float:
    started = time.monotonic()
    result = await renderer.render(path)
    assert result["parts"] and result["failed"] == {}, result
    return time.monotonic() - started


def test_a_first_render_costs_about_what_a_warm_one_does(tmp_path: Path) -> None:
    files = graphs(tmp_path / "team", 40, 41, 42)

    async def run() -> list[float]:
        renderer = Renderer(ViewerConfig(team_root=tmp_path, cache_dir=tmp_path / "cache", python=""))
        await renderer.start()
        try:
            assert renderer.pool is not None and await renderer.pool.wait_ready(120)
            return [await timed(renderer, path) for path in files]
        finally:
            await renderer.close()

    first, *warm = asyncio.run(run())
    print(f"first render {first:.2f} s, next {', '.join(f'{w:.2f}' for w in warm)} s")
    # a fresh process paid 2-5 s of imports per render here; warm renders of this part take ~0.2 s
    assert first < 2.0 and first < 3 * max(warm) + 0.5, (first, warm)


def test_a_killed_warm_process_costs_no_render(tmp_path: Path) -> None:
    files = graphs(tmp_path / "team", 50, 51)

    async def run() -> None:
        renderer = Renderer(ViewerConfig(team_root=tmp_path, cache_dir=tmp_path / "cache", python=""))
        await renderer.start()
        try:
            pool = renderer.pool
            assert pool is not None and pool.proc is not None and await pool.wait_ready(120)
            os.kill(pool.proc.pid, 9)
            await pool.proc.wait()
            await timed(renderer, files[0])  # the fresh-process path
            assert renderer.pool is not pool and renderer.pool is not None  # a new warm process
            assert await renderer.pool.wait_ready(120)
            assert await timed(renderer, files[1]) < 2.0
        finally:
            await renderer.close()

    asyncio.run(run())
