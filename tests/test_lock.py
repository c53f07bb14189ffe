"""The locked environment (locks/, tools/lock.py): pyproject.toml and the locks agree, and this environment is the lock's."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lock_tool():
    spec = importlib.util.spec_from_file_location("brepflow_lock_tool", ROOT / "tools" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pyproject_and_the_locks_agree():
    problems = _lock_tool().problems()
    assert problems == [], "\n".join(problems) + "\nrefresh with: python tools/lock.py"


def test_a_range_the_lock_does_not_satisfy_is_caught(tmp_path):
    """The check itself can fail: a copy of the project whose pyproject asks for what the lock lacks."""
    tool = _lock_tool()
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "locks", tmp_path / "locks")
    assert tool.problems(tmp_path) == []
    text = (tmp_path / "pyproject.toml").read_text()
    locked = {k: v[0][0] for k, v in tool.pinned_versions(ROOT / "locks" / "test.txt").items()}
    major = int(locked["cadquery"].split(".")[0])
    (tmp_path / "pyproject.toml").write_text(text.replace('"cadquery>=2.5"', f'"cadquery>={major + 1}"'))
    found = tool.problems(tmp_path)
    assert any("cadquery==" in p and "does not satisfy" in p for p in found), found
    assert any("input-sha256" in p for p in found), found  # and the digest says pyproject changed
    # a new dependency that the lock has never heard of
    (tmp_path / "pyproject.toml").write_text(text.replace('"pyyaml>=6",', '"pyyaml>=6",\n  "some-new-package>=1",'))
    assert any(
        "some-new-package is required by pyproject.toml but not in the lock" in p for p in tool.problems(tmp_path)
    )


def test_this_environment_was_installed_from_the_lock():
    """Every locked package that applies here is installed at exactly the locked version.

    Off when BREPFLOW_CI_LATEST=1 (.ci/run then re-resolves the lock to the newest allowed
    versions first, and this still holds against that lock).
    """
    from packaging.markers import Marker

    tool = _lock_tool()
    wrong = []
    for name, versions in tool.pinned_versions(ROOT / "locks" / "test.txt").items():
        for version, marker in versions:
            if marker and not Marker(marker).evaluate():
                continue
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                wrong.append(f"{name}=={version} is locked but not installed")
                continue
            if _canonical(installed) != _canonical(version):
                wrong.append(f"{name}: locked {version}, installed {installed}")
    assert not wrong, "\n".join(wrong) + "\ninstall with README's test command (pip install -r locks/test.txt ...)"


def test_readme_commands_install_from_the_lock():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    main, test = blocks[0], blocks[1]
    assert "pip install -r locks/lab.txt" in main and "--no-deps" in main
    assert "pip install -r locks/test.txt" in test and "--no-deps" in test
    assert "python tools/lock.py" in readme  # the one command that refreshes the lock
    ci = (ROOT / ".ci" / "run").read_text()
    assert "BREPFLOW_CI_LATEST" in ci and "tools/lock.py --upgrade" in ci
    assert os.path.exists(ROOT / "labextension" / "package-lock.json")


def _canonical(version: str) -> str:
    from packaging.version import Version

    return str(Version(version))
