"""Cache keys from content, not ids (ComfyUI's input signatures, dask's ``tokenize``).

key(node) = sha256 of (node type, node version, normalised resolved params,
for each input in spec order: the keys + socket names of what feeds it). Node ids and
labels never enter the key, so the same sub-graph pasted under other ids — or in another
graph, or another process — hits the same cache entries. Params are normalised after
resolution: ``"@L - 2*@wall"`` with L=100, wall=2 and the literal ``96`` give one key;
floats are written with ``repr`` (exact round trip) and -0.0 becomes 0.0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["node_key", "normalise"]


def normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return 0.0 if value == 0 else value
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return repr(value)


def node_key(
    node_type: str,
    version: int,
    params: Mapping[str, Any],
    upstream: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    *,
    salt: str = "",
) -> str:
    """``upstream`` = [(input name, [(upstream key, socket), ...]), ...] in spec order."""
    payload = [
        node_type,
        version,
        normalise(params),
        [[name, [list(x) for x in refs]] for name, refs in upstream],
        salt,
    ]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()
