"""Read and write BrepFlow's ``.bflow.json`` graph files.

Loading is two steps: JSON Schema validation of the structure (the schema ships in the
package: ``bflow.schema.json``), then conversion to the frozen model. Every structural
problem is collected before anything is raised.

The schema file is the single source of both validators. A file that is valid (the common
case) is confirmed by the schema compiled once with ``fastjsonschema`` (~15 ms for 1,000
nodes; it is present wherever JupyterLab is, through nbformat). Only a file with problems,
or a Python without fastjsonschema, goes through ``jsonschema``, which collects every
problem with its path: ``import jsonschema`` costs ~1.2-1.9 s because its format module
compiles rfc3987-syntax's lark grammars at import, so a valid file never pays for it. Semantic checks (node types, sockets,
cycles, parameters) live in :mod:`brepflow_lab.graph.validate`.

Writing is the inverse and keeps unknown keys. Saves are atomic — written to a
temporary file in the same folder, flushed and fsync'ed, then renamed over the target —
so a crash mid-save leaves either the old file or the new one, never half of one.

Files saved by someone else can still be cut short: JupyterLab (File → Save on a Studio
tab, or its text editor) writes in place after copying the old file to ``.~NAME``, and
keeps that copy only when the write did not finish. :func:`load` of a file that is not
valid JSON therefore names the copies a user can recover from — JupyterLab's ``.~NAME``
and the newest Studio autosave version in ``.brepflow-history/`` — when they exist.

Version migrations: files carry ``version`` "x.y.z". :data:`MIGRATIONS` maps a major
version to a function that upgrades the raw dict one step; files from a newer major
version than we know are refused with a clear message instead of being misread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from brepflow_lab.core.errors import ErrorCode, GraphError, Problem
from brepflow_lab.graph.model import Edge, GraphDocument, InputLinks, Node, Parameter, SocketRef

__all__ = [
    "FORMAT_VERSION",
    "HISTORY_DIR",
    "MIGRATIONS",
    "dump",
    "dumps",
    "load",
    "loads",
    "parse",
    "save_atomic",
    "schema",
    "to_json",
    "version_path",
]

FORMAT_VERSION = "0.1.0"
HISTORY_DIR = ".brepflow-history"  # the Studio's autosave versions (brepflow_lab.widgets.autosave)
SUPPORTED_MAJOR = 0
#: major version -> upgrade one step (raw dict in, raw dict out)
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_NODE_KEYS = {"id", "type", "label", "position", "inputs", "params"}
_EDGE_KEYS = {"id", "source", "sourceHandle", "target", "targetHandle"}
_PARAM_KEYS = {"value", "min", "max", "step", "unit", "description"}
_TOP_KEYS = {"version", "units", "tolerance", "metadata", "parameters", "nodes", "edges"}


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the format (a dict)."""
    text = resources.files("brepflow_lab.graph").joinpath("bflow.schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


@functools.cache
def _validator() -> Any:
    """The full validator (every problem, with paths). Imported only for files with problems."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


@functools.cache
def _fast_validator() -> Callable[[Any], Any] | None:
    """The schema compiled to Python by fastjsonschema, or None when it is not installed.

    No defaults are filled in and no formats are asserted (the full validator asserts none
    either), so it only says yes or no: the data is never changed."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    try:
        compiled: Callable[[Any], Any] = fastjsonschema.compile(schema(), use_default=False, use_formats=False)
    except Exception:  # a schema construct it cannot compile: the full validator decides alone
        return None
    return compiled


def _passes_fast_check(data: Any) -> bool:
    check = _fast_validator()
    if check is None:
        return False
    try:
        check(data)
    except Exception:  # JsonSchemaValueException, or anything else: let the full validator explain
        return False
    return True


def _json_path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _node_for_path(data: Any, parts: list[Any]) -> str | None:
    if len(parts) >= 2 and parts[0] == "nodes" and isinstance(parts[1], int):
        try:
            node_id = data["nodes"][parts[1]].get("id")
            return node_id if isinstance(node_id, str) else None
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return None


def schema_problems(data: Any) -> list[Problem]:
    """Every structural problem of ``data`` against the schema (empty when it is valid)."""
    if _passes_fast_check(data):
        return []
    problems = []
    for err in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        parts = list(err.absolute_path)
        path = _json_path(parts)
        param = parts[3] if len(parts) >= 4 and parts[2] == "params" else None
        message = err.message
        if err.validator in ("oneOf", "anyOf"):
            message = f"{path} has an unexpected form: {json.dumps(err.instance)[:80]}"
        problems.append(
            Problem(
                ErrorCode.SCHEMA_INVALID,
                f"{path}: {message}" if not message.startswith(path) else message,
                node_id=_node_for_path(data, parts),
                param=str(param) if param is not None else None,
                path=path,
            )
        )
    return problems


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = data.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version):
        return data  # the schema reports a malformed version
    try:
        major = int(version.split(".")[0])
    except ValueError:
        return data
    if major > SUPPORTED_MAJOR:
        raise GraphError(
            [
                Problem(
                    ErrorCode.SCHEMA_INVALID,
                    f"file format version {version} is newer than this BrepFlow Lab understands "
                    f"({SUPPORTED_MAJOR}.x); upgrade brepflow-lab",
                    path="version",
                )
            ]
        )
    while major in MIGRATIONS and major < SUPPORTED_MAJOR:
        data = MIGRATIONS[major](data)
        major += 1
    return data


def _extra(obj: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in known}


def _ref(obj: Mapping[str, Any]) -> SocketRef:
    return SocketRef(str(obj["nodeId"]), str(obj["socketId"]))


def parse(data: Any, *, source: str | None = None) -> GraphDocument:
    """Build a :class:`GraphDocument` from parsed JSON; raises GraphError with all problems."""
    if not isinstance(data, dict):
        raise GraphError([Problem(ErrorCode.SCHEMA_INVALID, "a graph file must hold a JSON object")], source)
    data = _migrate(data)
    problems = schema_problems(data)
    if problems:
        raise GraphError(problems, source)
    nodes = []
    for raw in data["nodes"]:
        inputs: dict[str, InputLinks] = {}
        for name, value in (raw.get("inputs") or {}).items():
            inputs[name] = tuple(_ref(v) for v in value) if isinstance(value, list) else _ref(value)
        pos = raw.get("position") or {"x": 0, "y": 0}
        nodes.append(
            Node(
                id=raw["id"],
                type=raw["type"],
                position=(float(pos["x"]), float(pos["y"])),
                inputs=inputs,
                params=dict(raw.get("params") or {}),
                label=raw.get("label"),
                extra=_extra(raw, _NODE_KEYS) | ({"position": None} if "position" not in raw else {}),
            )
        )
    edges = [
        Edge(e["id"], e["source"], e["sourceHandle"], e["target"], e["targetHandle"], _extra(e, _EDGE_KEYS))
        for e in data["edges"]
    ]
    parameters = {
        name: Parameter(
            value=p["value"],
            min=p.get("min"),
            max=p.get("max"),
            step=p.get("step"),
            unit=p.get("unit"),
            description=p.get("description"),
            extra=_extra(p, _PARAM_KEYS),
        )
        for name, p in (data.get("parameters") or {}).items()
    }
    return GraphDocument(
        version=data["version"],
        units=data["units"],
        tolerance=float(data["tolerance"]),
        nodes=tuple(nodes),
        edges=tuple(edges),
        parameters=parameters,
        metadata=data.get("metadata"),
        extra=_extra(data, _TOP_KEYS),
    )


def loads(text: str | bytes, *, source: str | None = None) -> GraphDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphError(
            [Problem(ErrorCode.FILE_MALFORMED, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")],
            source,
        ) from None
    except UnicodeDecodeError as exc:
        raise GraphError([Problem(ErrorCode.FILE_MALFORMED, f"not UTF-8 text: {exc}")], source) from None
    return parse(data, source=source)


def load(path: str | os.PathLike[str]) -> GraphDocument:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise GraphError([Problem(ErrorCode.FILE_NOT_FOUND, f"no such graph file: {p}")], str(p)) from None
    except OSError as exc:
        raise GraphError([Problem(ErrorCode.FILE_NOT_FOUND, f"cannot read {p}: {exc.strerror}")], str(p)) from None
    try:
        return loads(raw, source=str(p))
    except GraphError as exc:
        copies = _recoverable_copies(p) if exc.code is ErrorCode.FILE_MALFORMED else []
        if not copies:
            raise
        hint = "; ".join(copies)
        problems = [dataclasses.replace(q, message=f"{q.message}; {hint}") for q in exc.problems]
        raise GraphError(problems, str(p)) from None


def version_path(path: Path, number: int) -> Path:
    """Where the Studio keeps autosave version ``number`` (1 = newest) of ``path``."""
    return path.parent / HISTORY_DIR / f"{path.name}.~{number}~"


def _recoverable_copies(path: Path) -> list[str]:
    """Readable earlier versions of ``path`` that a user can restore from, described."""
    found = []
    candidates = (
        (path.parent / f".~{path.name}", "JupyterLab kept the previous version of an interrupted save in {}"),
        (version_path(path, 1), "the newest autosaved version is {}"),
    )
    for copy, text in candidates:
        try:
            loads(copy.read_bytes(), source=str(copy))
        except (OSError, GraphError):
            continue
        found.append(text.format(copy))
    return found


def to_json(doc: GraphDocument) -> dict[str, Any]:
    """The JSON form of a document (runtime state never enters the model, so none leaks)."""
    out: dict[str, Any] = {"version": doc.version, "units": doc.units, "tolerance": doc.tolerance}
    if doc.metadata is not None:
        out["metadata"] = dict(doc.metadata)
    if doc.parameters:
        params: dict[str, Any] = {}
        for name, p in doc.parameters.items():
            entry: dict[str, Any] = {"value": p.value}
            for key in ("min", "max", "step", "unit", "description"):
                value = getattr(p, key)
                if value is not None:
                    entry[key] = value
            entry.update(p.extra)
            params[name] = entry
        out["parameters"] = params
    nodes = []
    for n in doc.nodes:
        node: dict[str, Any] = {"id": n.id, "type": n.type}
        if n.label is not None:
            node["label"] = n.label
        extra = dict(n.extra)
        if extra.pop("position", 0) is not None:
            node["position"] = {"x": _num(n.position[0]), "y": _num(n.position[1])}
        inputs: dict[str, Any] = {}
        for name, value in n.inputs.items():
            inputs[name] = [r.to_json() for r in value] if isinstance(value, tuple) else value.to_json()
        node["inputs"] = inputs
        node["params"] = dict(n.params)
        node.update(extra)
        nodes.append(node)
    out["nodes"] = nodes
    out["edges"] = [
        {
            "id": e.id,
            "source": e.source,
            "sourceHandle": e.source_handle,
            "target": e.target,
            "targetHandle": e.target_handle,
            **e.extra,
        }
        for e in doc.edges
    ]
    out.update(doc.extra)
    return out


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def dumps(doc: GraphDocument, *, indent: int | None = 2) -> str:
    return json.dumps(to_json(doc), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def save_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file + fsync + rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump(doc: GraphDocument, path: str | os.PathLike[str]) -> Path:
    return save_atomic(path, dumps(doc))
