"""Page-side helpers for the Studio browser tests (and the browser benchmark).

Pixels are read in the page from the viewer's WebGL canvas (it keeps its drawing buffer)
and summarised as: the share of pixels that differ from the background, and a coarse
16×16 colour grid to compare two frames. Waits poll in the page once per animation
frame, so "it changed" is seen on the frame it happened, not at the next poll.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.browser.lab import Kernel, Lab

CANVAS = ".bfl-canvas"

# summary of the canvas: {w, h, covered (0..1), grid: [[r,g,b] x 256]}
CANVAS_STATS_JS = """
(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width || !canvas.height) return null;
  // read a 128x128 downscale: cheap enough to run on every animation frame
  const S = 128;
  const tmp = window.__bflStatsCanvas || (window.__bflStatsCanvas = document.createElement('canvas'));
  tmp.width = S; tmp.height = S;
  const ctx = tmp.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0, S, S);
  const data = ctx.getImageData(0, 0, S, S).data;
  const bg = [data[0], data[1], data[2]];
  const grid = Array.from({ length: 256 }, () => [0, 0, 0, 0]);
  let covered = 0;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const o = 4 * (y * S + x);
      const r = data[o], g = data[o + 1], b = data[o + 2];
      if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 40) covered++;
      const cell = grid[(y >> 3) * 16 + (x >> 3)];
      cell[0] += r; cell[1] += g; cell[2] += b; cell[3]++;
    }
  }
  return {
    w: canvas.width, h: canvas.height, background: bg, covered: covered / (S * S),
    grid: grid.map(c => [c[0] / c[3], c[1] / c[3], c[2] / c[3]]),
    frame: Number(canvas.dataset.frame || 0), parts: canvas.dataset.parts || ''
  };
}
"""

# resolves with the time (ms, page clock) of the first animation frame on which the canvas
# grid differs from `before` by more than `threshold` (mean absolute channel difference)
WAIT_CANVAS_CHANGE_JS = """
async ([selector, before, threshold, timeoutMs]) => {
  const stats = window.__bflCanvasStats;
  const start = performance.now();
  return await new Promise((resolve) => {
    const tick = () => {
      const now = stats(selector);
      if (now) {
        let diff = 0;
        for (let i = 0; i < 256; i++) for (let k = 0; k < 3; k++) diff += Math.abs(now.grid[i][k] - before.grid[i][k]);
        diff /= 768;
        if (diff > threshold) { resolve({ changed: true, ms: performance.now() - start, diff, stats: now }); return; }
      }
      if (performance.now() - start > timeoutMs) { resolve({ changed: false, ms: performance.now() - start, stats: now }); return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""


# page coordinates of the model pixel nearest the canvas centre (null if none)
MODEL_POINT_JS = """
(selector) => {
  const canvas = document.querySelector(selector);
  const w = canvas.width, h = canvas.height;
  const tmp = document.createElement('canvas');
  tmp.width = w; tmp.height = h;
  const ctx = tmp.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0);
  const data = ctx.getImageData(0, 0, w, h).data;
  const bg = [data[0], data[1], data[2]];
  let best = null, bestD = Infinity;
  for (let y = 2; y < h - 2; y += 3) {
    for (let x = 2; x < w - 2; x += 3) {
      const o = 4 * (y * w + x);
      // inside a face: this pixel and its neighbours all differ from the background and are bluish
      const blue = data[o + 2] > data[o] + 40;
      if (!blue || Math.abs(data[o] - bg[0]) + Math.abs(data[o + 1] - bg[1]) + Math.abs(data[o + 2] - bg[2]) < 60) continue;
      const d = (x - w / 2) ** 2 + (y - h / 2) ** 2;
      if (d < bestD) { bestD = d; best = [x, y]; }
    }
  }
  if (!best) return null;
  const rect = canvas.getBoundingClientRect();
  return { x: rect.left + (best[0] * rect.width) / w, y: rect.top + (best[1] * rect.height) / h };
}
"""


def model_point(page: Any, selector: str = CANVAS) -> dict[str, float]:
    """Where to click to hit the model (a face pixel nearest the canvas centre)."""
    point: dict[str, float] | None = page.evaluate(MODEL_POINT_JS, selector)
    assert point is not None, "no model pixel on the canvas"
    return point


def run_command(page: Any, command: str, args: dict[str, Any] | None = None) -> None:
    """Start a JupyterLab command without awaiting it: a command that opens a dialog (say,
    "file changed on disk") would otherwise block forever; tests wait on what it does."""
    page.evaluate("([c, a]) => { void window.jupyterapp.commands.execute(c, a || {}); }", [command, args])


def install_page_helpers(page: Any) -> None:
    page.evaluate(f"() => {{ window.__bflCanvasStats = {CANVAS_STATS_JS}; }}")


def canvas_stats(page: Any, selector: str = CANVAS) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(CANVAS_STATS_JS, selector)
    return result


def grid_difference(a: dict[str, Any], b: dict[str, Any]) -> float:
    total = 0.0
    for ca, cb in zip(a["grid"], b["grid"]):
        total += sum(abs(x - y) for x, y in zip(ca, cb))
    return total / 768


def wait_for_model(
    page: Any, selector: str = CANVAS, min_covered: float = 0.01, timeout: float = 90.0
) -> dict[str, Any]:
    """Wait until the viewer canvas shows something other than background."""
    deadline = time.monotonic() + timeout
    stats = None
    while time.monotonic() < deadline:
        stats = canvas_stats(page, selector)
        if stats and stats["covered"] >= min_covered:
            return stats
        page.wait_for_timeout(200)
    raise AssertionError(f"the viewer showed no model within {timeout:g} s (last: {_brief(stats)})")


def wait_canvas_change(
    page: Any, before: dict[str, Any], selector: str = CANVAS, threshold: float = 0.5, timeout: float = 60.0
) -> dict[str, Any]:
    install_page_helpers(page)
    result: dict[str, Any] = page.evaluate(WAIT_CANVAS_CHANGE_JS, [selector, before, threshold, timeout * 1000])
    if not result["changed"]:
        raise AssertionError(f"the viewer did not change within {timeout:g} s (last: {_brief(result['stats'])})")
    return result


def _brief(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "no canvas"
    return f"{stats['w']}x{stats['h']} covered={stats['covered']:.4f} frame={stats['frame']} parts={stats['parts']}"


def notebook_json(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
            for source in cells
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def wait_kernel_idle(page: Any, path: str, timeout: float = 90.0) -> None:
    page.wait_for_function(
        """(path) => {
          const app = window.jupyterapp;
          if (!app) return false;
          const w = app.shell.currentWidget;
          return !!w && w.context && w.context.path === path &&
            !!w.sessionContext && !!w.sessionContext.session &&
            w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle';
        }""",
        arg=path,
        timeout=timeout * 1000,
    )


class NotebookRunner:
    """Write a notebook into the lab's root, open it in the page, run it, talk to its kernel."""

    def __init__(self, lab: Lab, page: Any) -> None:
        self.lab = lab
        self.page = page
        self.kernels: list[Kernel] = []

    def open(self, name: str, cells: list[str], *, run: bool = True) -> Kernel:
        path = self.lab.root / name
        path.write_text(json.dumps(notebook_json(cells)))
        self.page.goto(f"{self.lab.url}/lab/tree/{name}?reset")
        wait_kernel_idle(self.page, name)
        install_page_helpers(self.page)
        if run:
            run_command(self.page, "notebook:run-all-cells")
        kernel = self.lab.connect(name)
        self.kernels.append(kernel)
        return kernel

    def close(self) -> None:
        for kernel in self.kernels:
            kernel.close()


def write_graph(path: Path, nodes: list[dict[str, Any]], parameters: dict[str, Any] | None = None) -> Path:
    """A .bflow.json with ``nodes`` (links given as node ``inputs``; the edges list follows)."""
    edges = []
    for node in nodes:
        for socket, ref in (node.get("inputs") or {}).items():
            for r in ref if isinstance(ref, list) else [ref]:
                edges.append(
                    {
                        "id": f"e_{r['nodeId']}_{node['id']}_{socket}",
                        "source": r["nodeId"],
                        "sourceHandle": r["socketId"],
                        "target": node["id"],
                        "targetHandle": socket,
                    }
                )
    graph: dict[str, Any] = {"version": "0.1.0", "units": "mm", "tolerance": 0.001, "nodes": nodes, "edges": edges}
    if parameters:
        graph["parameters"] = parameters
    path.write_text(json.dumps(graph, indent=2) + "\n")
    return path


def box_shell_fillet_nodes(width: float = 40) -> list[dict[str, Any]]:
    return [
        {
            "id": "box",
            "type": "Solid::Box",
            "position": {"x": 0, "y": 0},
            "inputs": {},
            "params": {"width": width, "height": 30, "depth": 20},
        },
        {
            "id": "shell",
            "type": "Features::Shell",
            "position": {"x": 280, "y": 0},
            "inputs": {"shape": {"nodeId": "box", "socketId": "shape"}},
            "params": {"thickness": 2},
        },
        {
            "id": "fillet",
            "type": "Features::Fillet",
            "position": {"x": 560, "y": 0},
            "inputs": {"shape": {"nodeId": "shell", "socketId": "shape"}},
            "params": {"radius": 1, "edges": "|Z"},
        },
    ]


STUDIO_CELL = """\
from brepflow_lab import Graph
from brepflow_lab.widgets import Studio
g = Graph.new()
g.parameters.define("W", 40, min=20, max=120, step=1, unit="mm", description="box width")
box = g.add("Solid::Box", id="box", width="@W", height=30, depth=20, position=(0, 0))
shell = g.add("Features::Shell", id="shell", thickness=2, position=(280, 0))
fillet = g.add("Features::Fillet", id="fillet", radius=1, edges="|Z", position=(560, 0))
g.connect(box, "shape", shell, "shape")
g.connect(shell, "shape", fillet, "shape")
studio = Studio(g, height=620)
studio"""


def node(page: Any, node_id: str, scope: str = "") -> Any:
    return page.locator(f'{scope} .react-flow__node[data-id="{node_id}"]'.strip())


def handle(page: Any, node_id: str, kind: str, name: str, scope: str = "") -> Any:
    return page.locator(
        f'{scope} .react-flow__node[data-id="{node_id}"] .react-flow__handle.{kind}[data-handleid="{name}"]'.strip()
    )


def drag(page: Any, source: Any, target: Any, steps: int = 12) -> None:
    """Press on ``source``, move to ``target`` in steps, release (a real pointer drag)."""
    a = source.bounding_box()
    b = target.bounding_box()
    assert a and b, "drag endpoints must be visible"
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=steps)
    page.mouse.up()
