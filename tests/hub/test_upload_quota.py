"""An upload refused for quota leaves no truncated partial file (issue 11, low item).

JupyterLab uploads files over 15 MB in 1 MB chunks (``chunk`` 1, 2, ..., -1 for the last) through
the contents API; when the home fills up, a chunk is refused with 507 and JupyterLab gives the
upload up. Seen in the team trial: a 53 MB partial file stayed behind. Here the single-user
contents manager (QuotaContentsManager, what every user's server runs) saves into a real
size-limited filesystem (a 4 MB tmpfs, root only), chunk by chunk, as JupyterLab sends them:
whether the refusal comes from the up-front check or from ENOSPC during the write, nothing of the
upload stays, and a file the upload was replacing is back as it was.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado import web

from brepflow_lab.hub.disk import QuotaContentsManager

if os.geteuid() != 0 or shutil.which("mount") is None:
    pytest.skip("a size-limited tmpfs needs root and mount", allow_module_level=True)

CHUNK = 1024 * 1024  # JupyterLab's chunk size


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "home"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(["umount", str(folder)], check=True)


def upload(cm: QuotaContentsManager, name: str, chunks: int) -> tuple[int, web.HTTPError | None]:
    """Send ``chunks`` chunks of 1 MB as JupyterLab does; stop at the first refusal like it does."""
    data = base64.b64encode(os.urandom(CHUNK)).decode()
    for i in range(1, chunks + 1):
        number = -1 if i == chunks else i
        model = {"type": "file", "format": "base64", "content": data, "chunk": number}
        try:
            asyncio.run(cm.save(model, name))
        except web.HTTPError as exc:
            return i, exc
    return chunks, None


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("precheck", [True, False], ids=["refused-up-front", "refused-by-ENOSPC"])
def test_a_refused_chunked_upload_leaves_nothing_behind(full_disk: Path, precheck: bool) -> None:
    (full_disk / "notes.txt").write_text("saved notes\n")
    cm = QuotaContentsManager(root_dir=str(full_disk), precheck=precheck)
    sent, error = upload(cm, "scan.step", 8)
    assert error is not None and error.status_code == 507 and sent > 1, (sent, error)
    assert "Disk quota exceeded" in str(error.log_message)
    assert leftovers(full_disk) == ["notes.txt"]  # no scan.step, no .~scan.step, no .upload
    assert (full_disk / "notes.txt").read_text() == "saved notes\n"


@pytest.mark.parametrize("precheck", [True, False], ids=["refused-up-front", "refused-by-ENOSPC"])
def test_a_refused_upload_over_a_file_puts_the_previous_version_back(full_disk: Path, precheck: bool) -> None:
    previous = os.urandom(300_000)
    (full_disk / "scan.step").write_bytes(previous)
    cm = QuotaContentsManager(root_dir=str(full_disk), precheck=precheck)
    sent, error = upload(cm, "scan.step", 8)
    assert error is not None and error.status_code == 507 and sent > 1, (sent, error)
    assert leftovers(full_disk) == ["scan.step"]
    assert (full_disk / "scan.step").read_bytes() == previous


def test_an_upload_that_fits_lands_whole(full_disk: Path) -> None:
    cm = QuotaContentsManager(root_dir=str(full_disk))
    sent, error = upload(cm, "small.bin", 2)
    assert error is None and sent == 2
    assert (full_disk / "small.bin").stat().st_size == 2 * CHUNK and leftovers(full_disk) == ["small.bin"]
