"""The parameter matrix of a sweep (dicts, a DataFrame or a CSV file); the measured targets are
:func:`brepflow_lab.render.result_targets`."""

from __future__ import annotations

import contextlib
import csv
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from brepflow_lab.core.errors import BrepFlowError, ErrorCode
from brepflow_lab.render import result_targets  # re-exported: the sweep's targets are render's result shapes

__all__ = ["MatrixError", "load_matrix", "result_targets"]


class MatrixError(BrepFlowError, ValueError):
    """The parameter matrix cannot be used; ``problems`` lists every problem found."""

    code = ErrorCode.PARAM_INVALID

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        head = f"{source}: " if source else ""
        super().__init__(
            f"{head}{len(problems)} problem(s) in the parameter matrix\n" + "\n".join(f"  - {p}" for p in problems)
        )


# --------------------------------------------------------------------------- the matrix


def _parse_cell(text: str) -> Any:
    stripped = text.strip()
    if stripped == "":
        return None
    low = stripped.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return stripped  # an expression, e.g. "10 in" or "@L / 2"


def _plain(value: Any) -> Any:
    """numpy / pandas scalars -> Python values; NaN, None and '' -> None (keep the graph's value)."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return _parse_cell(value)
    return value


def _rows_of(matrix: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    if isinstance(matrix, (str, os.PathLike)):
        path = Path(matrix)
        if not path.is_file():
            raise MatrixError([f"matrix file '{path}' does not exist"])
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                if not reader.fieldnames:
                    raise MatrixError(["the CSV file has no header row (parameter names)"], str(path))
                rows: list[Mapping[str, Any]] = []
                for line, row in enumerate(reader, start=2):
                    if None in row:
                        raise MatrixError([f"line {line} has more cells than the header"], str(path))
                    rows.append({k: v for k, v in row.items() if k is not None})
        except UnicodeDecodeError as exc:
            raise MatrixError([f"not a UTF-8 text file: {exc}"], str(path)) from None
        except csv.Error as exc:
            raise MatrixError([f"not a valid CSV file: {exc}"], str(path)) from None
        return rows, str(path)
    if hasattr(matrix, "to_dict") and hasattr(matrix, "columns"):  # a pandas DataFrame
        return list(matrix.to_dict(orient="records")), None
    if isinstance(matrix, Mapping):
        raise MatrixError(["expected a list of dicts (one per variant), a DataFrame or a CSV path; got one dict"])
    if isinstance(matrix, Iterable) and not isinstance(matrix, (bytes, bytearray)):
        rows = list(matrix)
        bad = [i for i, r in enumerate(rows) if not isinstance(r, Mapping)]
        if bad:
            raise MatrixError([f"variant {i} is a {type(rows[i]).__name__}, not a dict of parameters" for i in bad[:5]])
        return rows, None
    raise MatrixError([f"expected a list of dicts, a DataFrame or a CSV path; got {type(matrix).__name__}"])


def load_matrix(matrix: Any, known: Iterable[str]) -> list[dict[str, Any]]:
    """Variants as override dicts, checked against the graph's parameter names ``known``.

    Raises :class:`MatrixError` listing every problem (unknown names, unusable values,
    an empty matrix).
    """
    rows, source = _rows_of(matrix)
    names = set(known)
    problems: list[str] = []
    if not rows:
        problems.append("the matrix has no variants (no rows)")
    variants: list[dict[str, Any]] = []
    unknown: dict[str, None] = {}
    for i, row in enumerate(rows):
        overrides: dict[str, Any] = {}
        for raw_name, raw_value in row.items():
            if not isinstance(raw_name, str) or not raw_name.strip():
                problems.append(f"variant {i}: a column has no name")
                continue
            name = raw_name.strip().lstrip("@")
            if name not in names:
                unknown[name] = None
                continue
            value = _plain(raw_value)
            if value is None:
                continue
            if isinstance(value, (list, tuple)) and len(value) == 3:
                value = {"x": value[0], "y": value[1], "z": value[2]}
            if not isinstance(value, (bool, int, float, str, dict)):
                problems.append(f"variant {i}: @{name} = {value!r} is not a number, boolean or expression")
                continue
            if isinstance(value, float) and math.isinf(value):
                problems.append(f"variant {i}: @{name} is infinite")
                continue
            overrides[name] = value
        variants.append(overrides)
    if unknown:
        import difflib

        for name in unknown:
            close = difflib.get_close_matches(name, sorted(names), n=1)
            hint = f" (did you mean '@{close[0]}'?)" if close else ""
            problems.append(
                f"'{name}' is not a parameter of this graph{hint}; known: {', '.join(sorted(names)) or 'none'}"
            )
    if problems:
        raise MatrixError(problems, source)
    return variants
