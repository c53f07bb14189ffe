"""Run OCCT calls that used to crash or hang in child processes, so a regression fails one
test instead of killing the test session. Shared by the sketch and solid node tests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

Children = tuple[float, float, dict[str, subprocess.Popen[str]]]


def start_children(template: str, cases: Mapping[str, str], deadline: float) -> Iterator[Children]:
    """Start every case in parallel (``template % code``); kill leftovers afterwards."""
    children = {
        name: subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-c", template % code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, code in cases.items()
    }
    yield time.monotonic() + deadline, deadline, children
    for child in children.values():
        if child.poll() is None:
            child.kill()
            child.communicate()


def child_results(case: str, children: Children) -> dict[str, Any]:
    """The JSON a child printed last; fails the test if it crashed or hung."""
    deadline, budget, running = children
    child = running[case]
    try:
        out, err = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"{case}: did not finish within {budget:g} s (the kernel hangs)")
    trace = err.split("Extension modules:")[0].strip()[-1500:]
    assert child.returncode == 0, f"{case} crashed the process (exit code {child.returncode}):\n{trace}"
    results: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return results
