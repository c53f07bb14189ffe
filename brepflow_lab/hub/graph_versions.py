"""Which versions of each graph file one single-user server handed out or wrote.

Two people can have one team graph open in two servers. JupyterLab loads a file with its content
and sha256 (``GET /api/contents/PATH?content=1&hash=1``); before each save it asks for the sha256 on
disk again and, when it differs, asks "File Changed: overwrite or revert?". *Overwrite* (or a
client that never checks) then replaces a version its user never saw. The server sees both
halves: :class:`GraphVersionsMixin` (part of every server's contents manager,
:class:`~brepflow_lab.hub.disk.QuotaContentsManager`) remembers the sha256 of every version of a
``*.bflow.json`` file it handed out *with its content* (Jupyter computes it from the very bytes it
sends; JupyterLab's content-less check before a save does not count) or wrote itself;
:meth:`GraphVersions.check_before_save` (a pre-save hook of :mod:`brepflow_lab.hub.server_ext`)
hashes the file on disk just before the write: a version that is not one of them was written
since (by another server, a kernel, a ``git pull``), and the save replaces it.

Only the standard library here, so the contents manager and the server extension both use it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["GRAPH_SUFFIX", "GraphVersions", "GraphVersionsMixin", "file_sha256"]

GRAPH_SUFFIX = ".bflow.json"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class GraphVersions:
    """The versions (sha256, with the file's mtime then) of each graph file that one server handed
    out with their content or wrote; bounded (``files`` files, ``per_file`` versions each)."""

    def __init__(self, files: int = 4096, per_file: int = 64) -> None:
        self.files, self.per_file = files, per_file
        self._known: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()
        self._pending: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def seen(self, os_path: str, sha256: str, mtime: float | None = None) -> None:
        """This server handed out (or wrote) this version of the file."""
        real = os.path.realpath(os_path)
        if mtime is None:
            try:
                mtime = os.stat(real).st_mtime
            except OSError:
                mtime = 0.0
        with self._lock:
            versions = self._known.pop(real, None) or OrderedDict()
            versions.pop(sha256, None)
            versions[sha256] = mtime  # newest last
            while len(versions) > self.per_file:
                versions.popitem(last=False)
            self._known[real] = versions
            while len(self._known) > self.files:
                self._known.popitem(last=False)

    def check_before_save(self, os_path: str) -> dict[str, Any] | None:
        """Just before a save: the version on disk, when this server never handed it out or wrote it
        (so the save replaces a version written since); kept for the post-save report."""
        real = os.path.realpath(os_path)
        try:
            st = os.stat(real)
        except OSError:
            return None  # a new file replaces nothing
        if not stat.S_ISREG(st.st_mode):
            return None
        sha = file_sha256(Path(real))
        with self._lock:
            versions = self._known.get(real) or OrderedDict()
            if sha in versions:
                self._pending.pop(real, None)
                return None
            base = next(reversed(versions.items()), None)
            replaced: dict[str, Any] = {
                "sha256": sha,
                "modified": _iso(st.st_mtime),
                "base_sha256": base[0] if base else None,
                "base_modified": _iso(base[1]) if base else None,
            }
            self._pending[real] = replaced
            return replaced

    def take(self, os_path: str) -> dict[str, Any] | None:
        """What :meth:`check_before_save` found for this save (once)."""
        with self._lock:
            return self._pending.pop(os.path.realpath(os_path), None)


class GraphVersionsMixin:
    """Contents-manager mixin: remembers the versions of ``*.bflow.json`` files handed out with
    their content (the sha256 Jupyter computes from the very bytes it sends), in
    ``graph_versions``; the pre- and post-save hooks of :mod:`brepflow_lab.hub.server_ext` do the rest."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph_versions = GraphVersions()

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        graph = bool(content) and str(path).endswith(GRAPH_SUFFIX)
        model: dict[str, Any] = await super().get(  # type: ignore[misc]
            path, content=content, type=type, format=format, require_hash=require_hash or graph
        )
        if graph and model.get("type") == "file" and model.get("hash_algorithm") == "sha256" and model.get("hash"):
            os_path = self._get_os_path(path.strip("/"))  # type: ignore[attr-defined]
            self.graph_versions.seen(os_path, str(model["hash"]))
        return model
