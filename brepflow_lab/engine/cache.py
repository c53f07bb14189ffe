"""Result caches behind one protocol.

:class:`MemoryCache` is an LRU bounded by *bytes*, not entries: a cache of 1,000 fillets
and a cache of 1,000 numbers weigh very differently. Sizes come from a ``sizeof``
callable supplied by whoever wires the engine to the kernel (the engine itself never
imports OCP). Thread-safe: the Studio evaluates on a worker thread while the notebook
may evaluate too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from brepflow_lab.core import env

__all__ = ["Cache", "CacheStats", "MemoryCache", "default_cache"]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0
    max_bytes: int = 0


class Cache(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, outputs: dict[str, Any]) -> None: ...
    def clear(self) -> None: ...
    def __contains__(self, key: object) -> bool: ...


def _default_sizeof(outputs: dict[str, Any]) -> int:
    return 1024


class MemoryCache:
    def __init__(self, max_bytes: int = 1 << 30, sizeof: Callable[[dict[str, Any]], int] | None = None) -> None:
        self.max_bytes = max_bytes
        self.sizeof = sizeof or _default_sizeof
        self._data: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats(max_bytes=max_bytes)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.stats.misses += 1
                return None
            self._data.move_to_end(key)
            self.stats.hits += 1
            return item[0]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: str, outputs: dict[str, Any]) -> None:
        size = max(1, int(self.sizeof(outputs)))
        if size > self.max_bytes:
            return  # larger than the whole cache: do not flush everything for it
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (outputs, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._data:
                _, (_, evicted) = self._data.popitem(last=False)
                self._bytes -= evicted
                self.stats.evictions += 1
            self.stats.entries = len(self._data)
            self.stats.bytes = self._bytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
            self.stats.entries = 0
            self.stats.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        return self._bytes


_default: MemoryCache | None = None
_default_lock = threading.Lock()


def default_cache(sizeof: Callable[[dict[str, Any]], int] | None = None) -> MemoryCache:
    """The process-wide cache (``BREPFLOW_CACHE_MB``, default 1024 MB)."""
    global _default
    with _default_lock:
        if _default is None:
            mb = env.cache_mb()
            _default = MemoryCache(mb * 1024 * 1024, sizeof)
        elif sizeof is not None and _default.sizeof is _default_sizeof:
            _default.sizeof = sizeof
        return _default
