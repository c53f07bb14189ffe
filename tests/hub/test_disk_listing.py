"""The single-user contents manager lists a folder even while a file in it is renamed.

jupyter_server builds a listing entry by entry (listdir, lstat, get); a file renamed in
between -- JupyterLab renames ``untitled.txt`` on its first save while its file browser
refreshes -- turned the whole listing into a 404, shown in JupyterLab as a modal
"Directory not found" (seen in tests/hub/test_disk_quota_browser.py). No root needed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from tornado import web

from brepflow_lab.hub.disk import QuotaContentsManager


def _renaming_during_listing(cm: QuotaContentsManager, root: Path) -> None:
    """The first look at ``untitled.txt`` inside a listing finds it renamed to ``draft.txt``."""
    original = cm.get
    renamed: list[bool] = []

    async def get(
        path: str, content: bool = True, type: str | None = None, format: str | None = None, **kw: Any
    ) -> Any:
        if path.strip("/") == "untitled.txt" and not content and not renamed:
            renamed.append(True)
            os.rename(root / "untitled.txt", root / "draft.txt")
        return await original(path, content=content, type=type, format=format, **kw)

    cm.get = get  # type: ignore[method-assign]


def test_a_file_renamed_during_a_listing_does_not_make_the_folder_a_404(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("saved\n")
    (tmp_path / "untitled.txt").write_text("draft v1\n")
    cm = QuotaContentsManager(root_dir=str(tmp_path))
    _renaming_during_listing(cm, tmp_path)
    model = asyncio.run(cm.get(""))
    assert sorted(item["name"] for item in model["content"]) == ["draft.txt", "notes.txt"]


def test_a_missing_folder_is_still_a_404(tmp_path: Path) -> None:
    cm = QuotaContentsManager(root_dir=str(tmp_path))
    with pytest.raises(web.HTTPError) as err:
        asyncio.run(cm.get("nothere"))
    assert err.value.status_code == 404
