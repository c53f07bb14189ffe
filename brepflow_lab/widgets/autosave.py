"""Autosave with a version history, for graphs that came from a file.

Editing a graph in the Studio saves it back to its file a moment after the last edit
(default 1 s: a slider drag makes one save, not fifty). Every save is atomic
(:func:`brepflow_lab.graph.bflow.save_atomic`: temp file, fsync, rename), so a crash or a
full disk leaves the old file or the new one, never half of one.

Before each save the file's current content is kept in a history folder beside it::

    part.bflow.json
    .brepflow-history/
        part.bflow.json.~1~     the version before the last save (newest)
        part.bflow.json.~2~
        ...
        part.bflow.json.~10~    the oldest kept (``versions``, default 10)

``~1~`` is always the newest: older versions move up one number per save and the one
past ``versions`` is deleted. A version is only added when the content differs from
``~1~``. Copies are written atomically too. If the file was changed on disk by someone
else since it was opened or last saved here, that outside version is what lands in
``~1~`` — nothing is lost — and the Studio says so.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from brepflow_lab.graph.bflow import HISTORY_DIR, save_atomic, version_path

if TYPE_CHECKING:
    from brepflow_lab.api import Graph

__all__ = ["HISTORY_DIR", "Autosaver", "backup", "history_versions", "version_path"]

_VERSION_RE = re.compile(r"\.~(\d+)~$")


def history_versions(path: str | os.PathLike[str]) -> list[Path]:
    """The kept versions of ``path``, newest first."""
    target = Path(path)
    folder = target.parent / HISTORY_DIR
    if not folder.is_dir():
        return []
    found = []
    for item in folder.iterdir():
        if item.name.startswith(target.name + ".~"):
            match = _VERSION_RE.search(item.name)
            if match and item.name == f"{target.name}.~{match.group(1)}~":
                found.append((int(match.group(1)), item))
    return [item for _, item in sorted(found)]


def backup(path: str | os.PathLike[str], versions: int) -> Path | None:
    """Keep the current content of ``path`` as its newest version; returns that copy."""
    target = Path(path)
    if versions <= 0 or not target.is_file():
        return None
    content = target.read_bytes()
    newest = version_path(target, 1)
    if newest.is_file() and newest.read_bytes() == content:
        return None
    for old in history_versions(target):  # versions past the limit (e.g. the limit was lowered)
        match = _VERSION_RE.search(old.name)
        if match and int(match.group(1)) >= versions:
            old.unlink(missing_ok=True)
    for number in range(versions - 1, 0, -1):
        source = version_path(target, number)
        if source.exists():
            os.replace(source, version_path(target, number + 1))
    save_atomic(newest, content.decode("utf-8", errors="surrogateescape"))
    return newest


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class Autosaver:
    """Saves ``graph`` to ``graph.path`` ``delay`` seconds after the last :meth:`schedule`."""

    def __init__(
        self,
        graph: Graph,
        *,
        versions: int = 10,
        delay: float = 1.0,
        on_saved: Callable[[Path, bool], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        if versions < 0:
            raise ValueError(f"versions must be 0 or more, got {versions}")
        if delay < 0:
            raise ValueError(f"delay must be 0 or more seconds, got {delay}")
        self.graph = graph
        self.versions = versions
        self.delay = delay
        self.on_saved = on_saved
        self.on_error = on_error
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._known = _stamp(graph.path) if graph.path is not None else None

    def schedule(self) -> None:
        """Save after ``delay`` seconds without further calls (now if ``delay`` is 0)."""
        if self.graph.path is None:
            return
        if self.delay == 0:
            self.save()
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self.save)
            self._timer.daemon = True
            self._timer.start()

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._timer is not None and self._timer.is_alive()

    def flush(self) -> Path | None:
        """Save now if a save is pending."""
        with self._lock:
            pending = self._timer is not None
            self.cancel()
        return self.save() if pending else None

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def save(self, *, force: bool = False) -> Path | None:
        """Back up the file, then save the graph over it atomically. Errors go to ``on_error``."""
        with self._lock:
            self._timer = None
            path = self.graph.path
            if path is None or (not force and not self.graph.dirty):
                return None
            try:
                changed_outside = self._known is not None and _stamp(path) not in (self._known, None)
                backup(path, self.versions)
                written = self.graph.save()
                self._known = _stamp(written)
            except Exception as exc:
                if self.on_error is not None:
                    self.on_error(exc)
                    return None
                raise
        if self.on_saved is not None:
            self.on_saved(written, changed_outside)
        return written
