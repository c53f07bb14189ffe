"""Live collaboration: edit -> other screen latency between two Chromium contexts.

    python benchmarks/bench_collab.py            # 100 edits
    python benchmarks/bench_collab.py --edits 20

Two browser contexts (two people) open one `.bflow.json` in Studio tabs on one JupyterLab
server with jupyter-collaboration. Person A types a new box width in the inspector and presses
Enter; the time runs from that key press (``Date.now()`` in A's page, just before Enter) to
the animation frame on which person B's inspector shows the new value (``Date.now()`` in B's
page, checked every frame; both pages share this machine's clock). The path measured is the
whole one: A's Studio -> A's kernel (Graph edit, Y commit) -> A's tab -> the room's websocket
-> B's tab -> B's kernel (replica, projection) -> B's Studio (graph trait) -> B's screen.
Both kernels also evaluate the model after each edit, as they would in use.

Prints p50 and p95 (budget: p95 <= 200 ms on this machine, 2 cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import helpers as h  # noqa: E402
from tests.browser.lab import Kernel, Lab, chromium, running_lab  # noqa: E402

STUDIO = ".bfl-DocumentPanel .bfl-studio"
FILE = "bench.bflow.json"
WIDTH = f'{STUDIO} .bfl-inspector [data-param="width"] input.bfl-input--number'
BUDGET_P95_MS = 200.0
PAUSE = 0.15  # s between edits: the next edit comes after this one started evaluating

WATCH_JS = """
([selector, expected]) => {
  window.__bflSeen = null;
  const tick = () => {
    const el = document.querySelector(selector);
    if (el && el.value === expected) { window.__bflSeen = Date.now(); return; }
    requestAnimationFrame(tick);
  };
  tick();
}
"""


def open_tab(browser: Any, lab: Lab, known: set[str]) -> tuple[Any, str]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{lab.url}/lab?reset")
    page.wait_for_function("() => !!window.jupyterapp && window.jupyterapp.shell.currentWidget !== undefined")
    page.locator(".jp-DirListing-item", has_text=FILE).dblclick()
    page.locator(f"{STUDIO} .react-flow__node").nth(2).wait_for(state="attached")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ids = {str(s["kernel"]["id"]) for s in lab.api("/api/sessions") if s.get("path") == FILE and s.get("kernel")}
        if ids - known:
            kernel_id = (ids - known).pop()
            break
        time.sleep(0.2)
    else:
        raise TimeoutError("no kernel for the tab")
    connection = lab.runtime / f"kernel-{kernel_id}.json"
    while not connection.exists():
        time.sleep(0.1)
    kernel = Kernel(connection)
    try:
        kernel.wait_for("'_brepflow_studio' in globals() and _brepflow_studio._replica.joined", True, timeout=60)
    finally:
        kernel.close()
    page.locator(f'{STUDIO} .react-flow__node[data-id="box"] .bfl-node__title').click()
    page.locator(WIDTH).wait_for()
    return page, kernel_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()
    with running_lab() as lab, chromium() as browser:
        h.write_graph(lab.root / FILE, h.box_shell_fillet_nodes(width=40))
        a, a_kernel = open_tab(browser, lab, set())
        b, _ = open_tab(browser, lab, {a_kernel})
        field = a.locator(WIDTH)
        latencies: list[float] = []
        for i in range(args.edits + 3):  # the first 3 warm up
            value = str(41 + i)
            field.fill(value)
            b.evaluate(WATCH_JS, [WIDTH, value])
            start = a.evaluate("Date.now()")
            field.press("Enter")
            b.wait_for_function("() => window.__bflSeen !== null", timeout=30_000, polling=20)
            seen = b.evaluate("window.__bflSeen")
            if i >= 3:
                latencies.append(float(seen - start))
            time.sleep(PAUSE)
        latencies.sort()
        p50 = statistics.median(latencies)
        p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
        verdict = "within budget" if p95 <= BUDGET_P95_MS else "OVER BUDGET"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"edit -> other screen over {len(latencies)} edits, two Chromium contexts, one JupyterLab "
            f"(load average {load:.1f} on {os.cpu_count()} cores):"
        )
        print(
            f"  p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms (budget p95 <= {BUDGET_P95_MS:.0f} ms: {verdict})"
        )
        return 0 if p95 <= BUDGET_P95_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
