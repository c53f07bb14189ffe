"""Refresh or check the locked Python environment (``locks/``).

Why a compiled requirements file with hashes, made by ``uv pip compile``, rather than
``uv.lock``: every consumer of the lock here is pip — README's two commands, CI, the hub's
shared user environment (a venv of Debian's Python) and the Kubernetes image — and pip reads a
requirements file natively, checks every hash, and needs nothing new on a fresh machine.
``uv.lock`` is only readable by uv (``uv sync``), which would have to be installed first in
every one of those places and would install into a ``.venv`` rather than the environment the
user runs ``brepflow-lab`` from. ``uv pip compile`` still does the resolving (in about 2 s,
universal: one lock for Linux, macOS and Windows, x86_64 and arm64, Python 3.11+).

Two files from ONE resolution, so they never disagree on a version:

- ``locks/test.txt`` — the package, every extra (hub, build, test, dev): README's test command,
  CI, and the hub's Dockerfile build stage.
- ``locks/lab.txt`` — the package, the hub and the build tools: README's start command, the hub's
  shared user environment and the single-user image. Compiled with ``locks/test.txt`` as
  constraints, so each version is the one the tests ran against.

Each file starts with ``# input-sha256:``, a digest of the parts of ``pyproject.toml`` the
resolution read (requires-python, dependencies, optional dependencies, build requires). A
test (``tests/test_lock.py``) fails when that digest or any version range disagrees with the
lock, so a change to ``pyproject.toml`` without a refresh cannot land.

Usage::

    python tools/lock.py            # refresh: keep locked versions where still allowed
    python tools/lock.py --upgrade  # refresh to the newest allowed versions (CI_LATEST)
    python tools/lock.py --check    # exit 1 if pyproject.toml and the locks disagree

The packages are installed from the lock with::

    pip install -r locks/lab.txt && pip install --no-deps --no-build-isolation -e .

(``--no-deps`` because everything is already installed from the lock, and
``--no-build-isolation`` so the build uses the locked hatchling/hatch-jupyter-builder instead
of downloading whatever is newest into an isolated build environment.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "locks"
PYTHON = "3.11"
UV_VERSION = "0.13.8"
DIGEST_PREFIX = "# input-sha256: "

# lock file -> extras it installs ("all" = every extra)
FILES = {"test.txt": "all", "lab.txt": ["hub", "build"]}


def input_digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """sha256 of what a resolution reads from pyproject.toml (nothing else in it matters)."""

    data = tomllib.loads(pyproject.read_text())
    project = data["project"]
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-requires": data.get("build-system", {}).get("requires", []),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def pinned_versions(lock: Path) -> dict[str, list[tuple[str, str]]]:
    """{normalised name: [(version, marker)]} read from a compiled requirements file."""

    pins: dict[str, list[tuple[str, str]]] = {}
    for line in lock.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if m:
            pins.setdefault(_normalise(m.group(1)), []).append((m.group(2), (m.group(3) or "").strip()))
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"], check=True)
    return [sys.executable, "-m", "uv"]


def refresh(upgrade: bool = False) -> None:
    LOCKS.mkdir(exist_ok=True)
    digest = input_digest()
    for name, extras in FILES.items():
        out = LOCKS / name
        cmd = [
            *_uv(),
            "pip",
            "compile",
            str(ROOT / "pyproject.toml"),
            "--universal",
            "--python-version",
            PYTHON,
            "--generate-hashes",
            "--no-header",
            "--quiet",
            "-o",
            str(out),
        ]
        cmd += ["--all-extras"] if extras == "all" else [arg for extra in extras for arg in ("--extra", extra)]
        if name != "test.txt":
            cmd += ["--constraint", str(LOCKS / "test.txt")]
        elif upgrade:
            cmd.append("--upgrade")
        subprocess.run(cmd, check=True, cwd=ROOT)
        body = out.read_text()
        header = (
            f"# Locked environment for brepflow-lab: {'every extra' if extras == 'all' else ', '.join(extras)}.\n"
            "# Generated by `python tools/lock.py` (uv pip compile, universal, hashes); do not edit.\n"
            "# Install: pip install -r locks/" + name + " && pip install --no-deps --no-build-isolation -e .\n"
            f"{DIGEST_PREFIX}{digest}\n"
        )
        out.write_text(header + body)
        print(f"wrote {out.relative_to(ROOT)} ({len(pinned_versions(out))} packages)")


def problems(root: Path = ROOT) -> list[str]:
    """Every way ``root``'s pyproject.toml and its locks disagree (empty when they agree)."""

    from packaging.requirements import Requirement
    from packaging.version import Version

    found: list[str] = []
    locks = root / "locks"
    digest = input_digest(root / "pyproject.toml")
    data = tomllib.loads((root / "pyproject.toml").read_text())
    project = data["project"]
    for name, extras in FILES.items():
        lock = locks / name
        if not lock.exists():
            found.append(f"{lock.relative_to(root)} is missing: run python tools/lock.py")
            continue
        recorded = next(
            (
                line[len(DIGEST_PREFIX) :].strip()
                for line in lock.read_text().splitlines()
                if line.startswith(DIGEST_PREFIX)
            ),
            None,
        )
        if recorded != digest:
            found.append(
                f"{name}: pyproject.toml changed since the lock was made (input-sha256 {recorded} != {digest}); run python tools/lock.py"
            )
        pins = pinned_versions(lock)
        chosen = list(project.get("optional-dependencies", {})) if extras == "all" else list(extras)
        requirements = list(project.get("dependencies", []))
        for extra in chosen:
            requirements += project["optional-dependencies"][extra]
        if name == "test.txt" or "build" in chosen:
            requirements += data.get("build-system", {}).get("requires", [])
        for text in requirements:
            req = Requirement(text)
            if _normalise(req.name) == _normalise(project["name"]):
                continue  # the project's own extras, expanded above
            versions = pins.get(_normalise(req.name))
            if not versions:
                found.append(f"{name}: {req.name} is required by pyproject.toml but not in the lock")
                continue
            for version, _marker in versions:
                if not req.specifier.contains(Version(version), prereleases=True):
                    found.append(f"{name}: {req.name}=={version} does not satisfy pyproject.toml's {text!r}")
    # one resolution: the two files agree on every version they share
    if all((locks / name).exists() for name in FILES):
        test_pins = pinned_versions(locks / "test.txt")
        for pkg, versions in pinned_versions(locks / "lab.txt").items():
            if pkg in test_pins and sorted(versions) != sorted(test_pins[pkg]):
                found.append(f"lab.txt pins {pkg} {versions} but test.txt pins {test_pins[pkg]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="newest allowed versions instead of keeping locked ones")
    parser.add_argument("--check", action="store_true", help="only check that pyproject.toml and the locks agree")
    args = parser.parse_args(argv)
    if not args.check:
        refresh(upgrade=args.upgrade)
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
