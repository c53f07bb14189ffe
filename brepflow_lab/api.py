"""The notebook-facing API: a mutable :class:`Graph` over immutable snapshots.

>>> g = Graph.new(units="mm")
>>> box = g.add("Solid::Box", width="@L", height=60, depth=40)
>>> g.parameters["L"] = 120
>>> shell = g.add("Features::Shell", thickness=2)
>>> g.connect(box, "shape", shell, "shape")
>>> r = g.evaluate()
>>> r[shell.id]["shape"].isValid()
True

Every edit replaces ``g.document`` (a frozen :class:`~brepflow_lab.graph.model.GraphDocument`)
with a new snapshot, keeping node and edge lists in the BrepFlow file in step (both the
node's ``inputs`` and the ``edges`` list). The graph owns an :class:`~brepflow_lab.engine.Evaluator`
sharing the process-wide cache, so graphs that contain the same sub-graph share results.

Editing and evaluating live in :mod:`brepflow_lab.session` (:class:`~brepflow_lab.session.GraphSession`);
:class:`Graph` adds parameter sweeps (:mod:`brepflow_lab.sweep`), which are themselves built on
a session. :func:`executor_for_time_limit` (:mod:`brepflow_lab.runners`) is re-exported for the Studio.
"""

from __future__ import annotations

import os
from typing import Any

from brepflow_lab.runners import executor_for_time_limit
from brepflow_lab.session import Endpoint, GraphSession, NodeHandle
from brepflow_lab.sweep import SweepInterrupted, SweepResult, run_sweep

__all__ = ["Endpoint", "Graph", "NodeHandle", "executor_for_time_limit"]


class Graph(GraphSession):
    """A BrepFlow graph you can edit, evaluate, sweep and save."""

    #: the table of the last :meth:`sweep` (also when it was interrupted)
    last_sweep: SweepResult | None = None

    def sweep(
        self,
        matrix: Any,
        *,
        target: Any = None,
        executor: Any = None,
        workers: int | None = None,
        scheduler: str | None = None,
        export: str | list[str] | None = None,
        out: str | os.PathLike[str] | None = None,
        quality: str = "medium",
        keep_shapes: bool = False,
        progress: bool | str = True,
        allow_unsafe_paths: bool = False,
    ) -> SweepResult:
        """Evaluate one variant per row of ``matrix`` and return the results table.

        ``matrix``: a list of dicts, a pandas DataFrame or a CSV path of global parameter
        values. Variants run in parallel on Dask (``workers=N`` for a local cluster of N
        processes, ``scheduler=ADDRESS`` for an existing one, ``executor="sync"`` for this
        process). ``target`` names the node whose shape is measured (default: the terminal
        shapes). ``export="step,stl"`` with ``out=DIR`` writes one file per variant and
        format plus ``DIR/results.csv``. A failing variant never stops the sweep; Ctrl-C
        cancels the rest (the partial table is kept in ``g.last_sweep``). See
        :mod:`brepflow_lab.sweep`.
        """
        try:
            table = run_sweep(
                self,
                matrix,
                target=target,
                executor=executor,
                workers=workers,
                scheduler=scheduler,
                export=export,
                out=out,
                quality=quality,
                keep_shapes=keep_shapes,
                progress=progress,
                allow_unsafe_paths=allow_unsafe_paths,
            )
        except SweepInterrupted as exc:
            self.last_sweep = exc.result
            raise
        self.last_sweep = table
        return table
