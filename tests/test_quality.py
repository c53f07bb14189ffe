"""Lint, format and type checks are part of the suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean():
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_kernel_imports_occt():
    """Belt and braces for ruff's TID251: no OCP/cadquery import outside kernel/."""
    offenders = []
    for path in (ROOT / "brepflow_lab").rglob("*.py"):
        if "kernel" in path.relative_to(ROOT / "brepflow_lab").parts:
            continue
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import OCP", "from OCP", "import cadquery", "from cadquery")):
                offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert offenders == []


def test_importing_the_package_does_not_import_cadquery():
    code = "import sys, brepflow_lab; brepflow_lab.catalogue.types(); print('cadquery' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_design_notebooks_store_small_outputs():
    """No megabytes of mesh data or widget state (incl. the front-end bundle) in .ipynb files."""
    import json

    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 7
    for path in notebooks:
        assert path.stat().st_size < 100_000, f"{path.name} is {path.stat().st_size} bytes"
        assert "widgets" not in json.loads(path.read_text())["metadata"], f"{path.name} stores widget state"


def test_ci_runs_readmes_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    command = "pip install -r locks/test.txt && pip install --no-deps --no-build-isolation -e . && python -m pytest"
    assert f"<!-- test-command -->\n```bash\n{command}\n```" in readme
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
