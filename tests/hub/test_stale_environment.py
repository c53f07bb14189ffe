"""A stale shared environment is said clearly at hub start (issue 11, low item).

The environment's marker (``.brepflow-lab-env.json``, written by ``ensure_environment``) records
the project key it was built from; when this project's :func:`environment_key` differs, users'
servers and the viewer run older code than the hub. A real hub started on such an environment
logs the warning; ``brepflow-lab hub config`` prints it; an up-to-date marker gives no warning.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from brepflow_lab.hub.users import environment_key, environment_problem

from .conftest import ROOT, make_hub


def fake_env(folder: Path, key: str) -> Path:
    """What ensure_environment leaves behind, as far as the check looks: bin/python and the marker."""
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to("/usr/bin/python3")
    (folder / ".brepflow-lab-env.json").write_text(json.dumps({"key": key, "extras": [], "jupyterhub": "6.1.1"}))
    return folder


def test_the_check_tells_stale_current_and_missing_apart(tmp_path: Path) -> None:
    stale = fake_env(tmp_path / "stale", "0" * 64)
    problem = environment_problem(stale)
    assert problem is not None and "is stale" in problem and "brepflow-lab hub setup" in problem
    assert str(stale) in problem and "000000000000" in problem
    assert environment_problem(fake_env(tmp_path / "current", environment_key())) is None
    missing = environment_problem(tmp_path / "nothing")
    assert missing is not None and "does not exist" in missing


def test_hub_config_and_a_real_hub_start_warn_about_a_stale_environment(tmp_path: Path) -> None:
    env = fake_env(tmp_path / "env", "f" * 64)
    hub = make_hub(tmp_path / "hub", {"storage": {"env_prefix": str(env)}})
    out = subprocess.run(
        [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "config", "--config", str(hub.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert f"warning: the shared environment {env} is stale" in out.stderr
    try:
        hub.start()
        log = hub.log()
        assert f"the shared environment {env} is stale" in log and "brepflow-lab hub setup" in log
    finally:
        hub.stop()
    # rebuilt (the marker now has this project's key): no warning any more
    marker = env / ".brepflow-lab-env.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "key": environment_key()}))
    out = subprocess.run(
        [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "config", "--config", str(hub.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0 and "shared environment" not in out.stderr, out.stderr
    assert yaml.safe_load(out.stdout)["storage"]["env_prefix"] == str(env)
