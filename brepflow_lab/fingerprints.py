"""Recorded fingerprints: a notebook (or a test, or a CI job) asserts its key shapes are still the same geometry.

::

    from brepflow_lab.fingerprints import check_fingerprints
    check_fingerprints({"housing": shape}, book="03-parametric-enclosure")

compares each shape's canonical fingerprint (:func:`brepflow_lab.kernel.hashing.fingerprint`,
coordinates rounded to 6 digits, independent of OCCT's table order) with the value recorded
under ``book`` in ``fingerprints.json`` (beside the notebook: the current folder). A value may
also be a fingerprint string already computed (a sweep's ``table.fingerprint`` column).

When a shape differs the call raises :class:`FingerprintMismatch`, naming each shape with the
recorded and current fingerprints, and the versions of cadquery, cadquery-ocp (OCCT) and
Python here, so an upgrade that changes geometry fails ``nbval`` loudly instead of drifting.

Re-recording is deliberate: with ``BREPFLOW_RECORD_FINGERPRINTS=1`` in the environment the
call writes the current values (atomically, other books kept) instead of comparing; run
``BREPFLOW_RECORD_FINGERPRINTS=1 python -m pytest notebooks`` and commit the diff.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brepflow_lab.core.env import RECORD_FINGERPRINTS
from brepflow_lab.kernel import hashing
from brepflow_lab.provenance import environment

RECORD_ENV = RECORD_FINGERPRINTS
DEFAULT_FILE = "fingerprints.json"


class FingerprintMismatch(AssertionError):
    """A key shape is no longer the recorded geometry (or was never recorded)."""


def _fingerprint(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64:
        return value
    return hashing.fingerprint(hashing.shape_of(value))


def check_fingerprints(
    shapes: Mapping[str, Any], *, book: str, record_file: str | os.PathLike[str] = DEFAULT_FILE
) -> dict[str, str]:
    """Compare (or, with BREPFLOW_RECORD_FINGERPRINTS=1, record) the fingerprints of ``shapes``."""
    path = Path(record_file)
    current = {name: _fingerprint(value) for name, value in shapes.items()}
    try:
        records: dict[str, dict[str, str]] = json.loads(path.read_text())
    except FileNotFoundError:
        records = {}
    if os.environ.get(RECORD_ENV) == "1":
        # the same line as a check that passes: they match the record now, and nbval's
        # stored output stays valid (the evidence of re-recording is the file's diff)
        records[book] = dict(sorted(current.items()))
        _write(path, records)
        print(f"fingerprints: {len(current)} key shape(s) of {book} match {path.name}")
        return current
    recorded = records.get(book, {})
    problems = []
    for name, value in current.items():
        if name not in recorded:
            problems.append(f"  {name}: no recorded fingerprint (now {value[:16]}…)")
        elif recorded[name] != value:
            problems.append(f"  {name}: recorded {recorded[name][:16]}…, now {value[:16]}…")
    if problems:
        env = environment()
        versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if k in ("cadquery", "cadquery-ocp"))
        raise FingerprintMismatch(
            f"{book}: {len(problems)} key shape(s) are not the recorded geometry (in {path}):\n"
            + "\n".join(problems)
            + f"\nhere: {versions}, OCCT {env['occt']}, Python {env['python']}.\n"
            f"If the change is intended, re-record with {RECORD_ENV}=1 python -m pytest notebooks "
            "and commit the diff."
        )
    print(f"fingerprints: {len(current)} key shape(s) of {book} match {path.name}")
    return current


def _write(path: Path, records: dict[str, dict[str, str]]) -> None:
    text = json.dumps(dict(sorted(records.items())), indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
