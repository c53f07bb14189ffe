"""One version: brepflow_lab/core/version.py, checked against every other place that states it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import brepflow_lab
from brepflow_lab import provenance
from brepflow_lab.core.version import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_the_public_version_is_the_core_one():
    assert brepflow_lab.__version__ == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", __version__)


def test_the_labextension_has_the_python_version():
    package = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert package["version"] == __version__


def test_the_build_reads_the_version_from_the_one_source():
    """hatch's ``[tool.hatch.version] path`` names the file that writes ``__version__`` literally."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^dynamic = \["version"\]', pyproject, re.M)
    section = re.search(r'^\[tool\.hatch\.version\]\npath = "([^"]+)"$', pyproject, re.M)
    assert section is not None, "pyproject.toml has no [tool.hatch.version] path"
    path = ROOT / section.group(1)
    literal = re.search(r'^__version__ = "([^"]+)"$', path.read_text(), re.M)
    assert literal is not None, f"{path.relative_to(ROOT)} does not write __version__ = '...'"
    assert literal.group(1) == __version__


def test_cli_and_provenance_report_it():
    out = subprocess.run(
        [sys.executable, "-m", "brepflow_lab.cli", "--version"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.stdout.strip() == f"brepflow-lab {__version__}", out.stderr
    assert provenance.software()["version"] == __version__


def test_open_does_not_shadow_the_builtin_under_import_star():
    assert "open" not in brepflow_lab.__all__
    namespace: dict[str, object] = {}
    exec("from brepflow_lab import *", namespace)
    assert "open" not in namespace
    assert callable(brepflow_lab.open)  # still there, by name
