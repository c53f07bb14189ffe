"""The results table of a sweep, and its progress bar."""

from __future__ import annotations

import csv
import html
import io
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RESULT_COLUMNS", "Progress", "SweepInterrupted", "SweepResult", "VariantResult"]

_BBOX_COLUMNS = ("bbox_min_x", "bbox_min_y", "bbox_min_z", "bbox_max_x", "bbox_max_y", "bbox_max_z")
RESULT_COLUMNS = (
    "status",
    "error_code",
    "error_node",
    "error_message",
    "volume",
    "area",
    *_BBOX_COLUMNS,
    "fingerprint",
    "seconds",
    "exports",
)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    mkstemp makes the file 0600; it gets the mode an ordinary ``open()`` would give (0666 less
    the umask), so teammates can read sweep results in a team folder.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- results


@dataclass
class VariantResult:
    """One row of a sweep."""

    index: int
    parameters: dict[str, Any]
    status: str = "pending"  # ok | failed | cancelled
    error_code: str | None = None
    error_node: str | None = None
    error_message: str | None = None
    volume: float | None = None
    area: float | None = None
    bbox: tuple[float, float, float, float, float, float] | None = None
    fingerprint: str | None = None
    seconds: float | None = None
    exports: list[str] = field(default_factory=list)
    shape: Any = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_row(self, parameter_names: Sequence[str]) -> dict[str, Any]:
        row: dict[str, Any] = {"variant": self.index}
        for name in parameter_names:
            row[name] = self.parameters.get(name)
        bbox = self.bbox or (None,) * 6
        row.update(
            {
                "status": self.status,
                "error_code": self.error_code,
                "error_node": self.error_node,
                "error_message": self.error_message,
                "volume": self.volume,
                "area": self.area,
                **dict(zip(_BBOX_COLUMNS, bbox)),
                "fingerprint": self.fingerprint,
                "seconds": self.seconds,
                "exports": ";".join(self.exports),
            }
        )
        return row


class SweepResult(Sequence[VariantResult]):
    """The results table of a sweep, one :class:`VariantResult` per variant, in matrix order."""

    def __init__(
        self,
        variants: list[VariantResult],
        parameter_names: list[str],
        *,
        seconds: float = 0.0,
        executor: str = "sync",
        dashboard_link: str | None = None,
        interrupted: bool = False,
        out_dir: Path | None = None,
    ) -> None:
        self.variants = variants
        self.parameter_names = parameter_names
        self.seconds = seconds
        self.executor = executor
        self.dashboard_link = dashboard_link
        self.interrupted = interrupted
        self.out_dir = out_dir

    def __getitem__(self, index: Any) -> Any:
        return self.variants[index]

    def __len__(self) -> int:
        return len(self.variants)

    @property
    def columns(self) -> list[str]:
        return ["variant", *self.parameter_names, *RESULT_COLUMNS]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.variants) and not self.interrupted

    @property
    def failed(self) -> list[VariantResult]:
        return [v for v in self.variants if v.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.variants:
            out[v.status] = out.get(v.status, 0) + 1
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [v.to_row(self.parameter_names) for v in self.variants]

    def to_dataframe(self) -> Any:
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe() needs pandas: pip install pandas (or use rows() / to_csv())") from None
        return pd.DataFrame(self.rows(), columns=self.columns)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The table as CSV (``path`` given: also written there, atomically)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        text = buffer.getvalue()
        if path is not None:
            write_atomically(Path(path), text.encode("utf-8"))
        return text

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts().items()))
        extra = " (interrupted)" if self.interrupted else ""
        return f"<SweepResult {len(self)} variants: {counts} in {self.seconds:.1f} s on {self.executor}{extra}>"

    def _repr_html_(self) -> str:
        colours = {"ok": "#2e7d32", "failed": "#c62828", "cancelled": "#9e9e9e"}
        head = "".join(
            f"<th>{html.escape(c)}</th>"
            for c in ["#", *self.parameter_names, "status", "volume", "fingerprint", "s", "error"]
        )
        body = []
        for v in self.variants:
            cells = [str(v.index)] + [html.escape(repr(v.parameters.get(n, ""))) for n in self.parameter_names]
            cells += [
                f"<span style='color:{colours.get(v.status, '#000')};font-weight:600'>{v.status}</span>",
                f"{v.volume:.6g}" if v.volume is not None else "",
                f"<code>{v.fingerprint[:12]}</code>" if v.fingerprint else "",
                f"{v.seconds:.2f}" if v.seconds is not None else "",
                html.escape(f"[{v.error_code}] {v.error_message}") if v.error_code else "",
            ]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        counts = ", ".join(f"<b>{n}</b> {s}" for s, n in sorted(self.counts().items()))
        where = f" on {html.escape(self.executor)}"
        if self.dashboard_link:
            where += f" (<a href='{html.escape(self.dashboard_link, quote=True)}' target='_blank'>Dask dashboard</a>)"
        note = " &mdash; <b>interrupted</b>" if self.interrupted else ""
        return (
            f"<p><b>Sweep</b> of {len(self)} variants: {counts} in {self.seconds:.1f} s{where}{note}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the remaining variants were cancelled; ``result`` holds the table."""

    def __init__(self, result: SweepResult) -> None:
        done = sum(1 for v in result.variants if v.status in ("ok", "failed"))
        super().__init__(f"sweep interrupted after {done} of {len(result)} variants; the rest were cancelled")
        self.result = result


# --------------------------------------------------------------------------- progress


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except Exception:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class Progress:
    """A progress bar: an ipywidgets bar in notebooks, a line on a terminal, or nothing."""

    def __init__(self, total: int, mode: bool | str = True, stream: Any = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.start = time.perf_counter()
        self.stream = stream if stream is not None else sys.stderr
        if mode is True:
            mode = "widget" if _in_notebook() else ("text" if getattr(self.stream, "isatty", lambda: False)() else "")
        self.mode = mode or ""
        self.bar: Any = None
        self.label: Any = None
        if self.mode == "widget":
            import ipywidgets as widgets

            self.bar = widgets.IntProgress(value=0, min=0, max=max(1, total), description="sweep", bar_style="info")
            self.label = widgets.HTML(value=self._text())
            self.box = widgets.HBox([self.bar, self.label])
            try:
                from IPython.display import display

                display(self.box)
            except ImportError:  # ipywidgets without IPython: nothing to display into
                pass
        elif self.mode not in ("", "text"):
            raise ValueError(f"progress must be True, False, 'widget' or 'text'; got {mode!r}")
        self._last_text = 0.0
        self.update(0)

    def _text(self) -> str:
        elapsed = time.perf_counter() - self.start
        eta = ""
        if 0 < self.done < self.total:
            eta = f", ~{elapsed / self.done * (self.total - self.done):.0f} s left"
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{self.total} variants{failed} — {elapsed:.1f} s{eta}"

    def update(self, done: int, failed: int | None = None) -> None:
        self.done = done
        if failed is not None:
            self.failed = failed
        if self.mode == "widget":
            self.bar.value = done
            self.bar.bar_style = "warning" if self.failed else "info"
            self.label.value = self._text()
        elif self.mode == "text":
            now = time.perf_counter()
            if done not in (0, self.total) and now - self._last_text < 0.2:
                return
            self._last_text = now
            width = 30
            filled = int(width * done / max(1, self.total))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self._text()}   ")
            self.stream.flush()

    def close(self, interrupted: bool = False) -> None:
        if self.mode == "widget":
            self.bar.bar_style = "danger" if interrupted else ("warning" if self.failed else "success")
            self.label.value = self._text() + (" — interrupted" if interrupted else "")
        elif self.mode == "text":
            self.update(self.done)
            self.stream.write(" interrupted\n" if interrupted else "\n")
            self.stream.flush()
