"""The Studio: node editor + 3D viewer + inspector for one graph, as one anywidget.

>>> from brepflow_lab.widgets import Studio, open
>>> studio = open("part.bflow.json")     # or Studio(graph) for a Graph you already have
>>> studio                               # shows the editor and viewer in the notebook
>>> studio.model.parameters["L"] = 150   # Python edits appear in the editor at once

Wire protocol: PROTOCOL.md next to this file. The Python side:

* **Edits** from the browser go through :mod:`.editor` (one ``edit`` message = one undo
  step, all-or-nothing, every op answered by an ``ack``). Edits made in Python
  (``g.add`` in a cell) reach the editor through ``Graph.on_change``; a burst of them
  (a loop in a cell) is synced once, 30 ms after the last.
* **Evaluation** runs on a background thread (:class:`.runner.TaskLoop`), so the kernel
  keeps answering the browser. A lone param edit evaluates at once; edits that come in
  a burst (a slider drag) are debounced (150 ms); structure edits evaluate at once. A newer change supersedes a running evaluation: it stops at the
  next node boundary (engine ``supersede()``). The Studio has its own
  :class:`~brepflow_lab.engine.Evaluator` sharing the graph's cache, catalogue and
  executor: a ``g.evaluate()`` in a notebook cell is then never cancelled by the
  Studio's background runs (nor the other way round), and the evaluator's internal
  memo is never used by two threads at once — while cached results are shared.
* **Status** comes from the engine's events (node started → ``running``), pushed at
  most every 100 ms while an evaluation runs and once at its end. A node cancelled by
  supersession keeps the status it had.
* **Meshes** (:mod:`.viewer`) go out after each evaluation in ONE binary custom message,
  only for shown nodes whose mesh changed; failing nodes keep their last good mesh.
  The level of detail is ``view["quality"]`` (preview / medium / high), bounded by the
  hub's ``BREPFLOW_MAX_PREVIEW_TRIANGLES``.
* **Autosave** (:mod:`.autosave`): a graph that came from a file is saved back a second
  after the last edit, atomically, keeping the last versions in ``.brepflow-history/``.
* **Time limit**: with the hub's ``BREPFLOW_MAX_NODE_SECONDS`` set, evaluations run on Dask
  workers (as ``Graph.evaluate`` does), so a runaway node fails with TIMEOUT instead of
  freezing the kernel.
* **Measure** (:mod:`.measuring`): the viewer's Measure mode sends ``measure`` messages
  (one or two picked entities); a background thread of its own, started on first use,
  measures them with OCCT and sets ``measurement`` (also ``studio.measurement`` in
  Python), so a measurement never waits for an evaluation, nor the browser for either.
* **Errors stay local**: a node's error shows on that node; anything else the user
  should know arrives in the ``message`` trait. No exception escapes into the kernel's
  message loop.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from brepflow_lab.api import Graph
from brepflow_lab.collab.replica import NotJoinedError, Replica
from brepflow_lab.engine import (
    EvaluationFinished,
    EvaluationResult,
    EvaluationStarted,
    Evaluator,
    Event,
    EventBus,
    NodeFailed,
    NodeFinished,
    NodeStarted,
)
from brepflow_lab.errors import ErrorCode, GraphError, Problem
from brepflow_lab.graph import bflow
from brepflow_lab.graph.model import GraphDocument
from brepflow_lab.widgets.autosave import Autosaver
from brepflow_lab.widgets.editor import EditRefused, History, apply_edit, change_kind
from brepflow_lab.widgets.runner import TaskLoop
from brepflow_lab.widgets.viewer import ViewerState

if TYPE_CHECKING:
    from brepflow_lab.kernel.tessellate import Mesh

__all__ = ["STATIC_DIR", "FrontendNotBuiltError", "Studio", "open"]

#: where the built front-end lives (``pip install -e .`` builds it from labextension/)
STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_VIEW: dict[str, Any] = {
    "projection": "perspective",
    "edges": True,
    "grid": True,
    "axes": True,
    "clip": {"enabled": False, "normal": [0.0, 0.0, -1.0], "offset": 0.0},
    "opacity": 1.0,
    "hidden": [],
    "quality": "preview",
}
_STATUS_INTERVAL = 0.1  # s between status pushes during an evaluation
_SYNC_DELAY = 0.03  # s: coalesces a burst of Python-side edits into one graph sync
_EXTERNAL_STRUCTURE_DELAY = 0.05  # s: a cell that adds 50 nodes evaluates once
_SHARED_FLUSH_DELAY = 0.04  # s: a shared Studio sends its edit on before it evaluates


class FrontendNotBuiltError(RuntimeError):
    """The Studio's JavaScript bundle is missing (the package was installed without building it)."""


@functools.cache
def _read_asset(path: Path, mtime_ns: int) -> str:
    return path.read_text(encoding="utf-8")


def _bundle() -> tuple[str, str]:
    """The built ``studio.js`` / ``studio.css`` (re-read when they change on disk)."""
    js, css = STATIC_DIR / "studio.js", STATIC_DIR / "studio.css"
    missing = [p.name for p in (js, css) if not p.is_file()]
    if missing:
        raise FrontendNotBuiltError(
            f"the Studio front-end was not built: {', '.join(missing)} missing in {STATIC_DIR}. "
            "Install the package with `pip install -e .` (it builds labextension/ with npm; Node.js >= 20 "
            "is needed), or run `npm install && npm run build` in labextension/."
        )
    return _read_asset(js, js.stat().st_mtime_ns), _read_asset(css, css.stat().st_mtime_ns)


class Studio(anywidget.AnyWidget):
    """Node editor + viewer + inspector for a :class:`~brepflow_lab.Graph`."""

    # -- synced traits (PROTOCOL.md) -------------------------------------------------------
    graph = traitlets.Dict().tag(sync=True)
    catalogue: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    status = traitlets.Dict().tag(sync=True)
    evaluating = traitlets.Bool(False).tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    pick = traitlets.Dict().tag(sync=True)
    pick_info = traitlets.Dict().tag(sync=True)
    #: the Measure tool's answer (PROTOCOL.md): the picked entities' values, ``rows``, ``text``
    measurement = traitlets.Dict().tag(sync=True)
    view = traitlets.Dict().tag(sync=True)
    dirty = traitlets.Bool(False).tag(sync=True)
    title = traitlets.Unicode("untitled").tag(sync=True)
    message = traitlets.Dict().tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)
    #: how editor and viewer share the Studio (two-way: the Layout control in the toolbar);
    #: "auto" puts them side by side in a wide output and stacks them in a narrow one.
    #: (Not ``layout``: every ipywidgets DOMWidget has that trait, a Layout widget.)
    panes = traitlets.Enum(("auto", "side-by-side", "stacked", "editor", "viewer"), "auto").tag(sync=True)

    def __init__(
        self,
        graph: Graph | str | os.PathLike[str] | None = None,
        *,
        height: int = 640,
        quality: str = "preview",
        autosave: bool = True,
        versions: int = 10,
        autosave_delay: float = 1.0,
        debounce: float = 0.15,
        evaluate: bool = True,
        collaborative: bool = False,
        **kwargs: Any,
    ) -> None:
        from brepflow_lab.kernel.tessellate import LODS

        esm, css = _bundle()
        if graph is None:
            graph = Graph.new()
        elif not isinstance(graph, Graph):
            graph = Graph.load(graph)
        if quality not in LODS:
            raise ValueError(f"quality must be one of {', '.join(LODS)}; got {quality!r}")
        if height < 200:
            raise ValueError(f"height is in pixels and must be at least 200, got {height}")
        if debounce < 0:
            raise ValueError(f"debounce must be 0 or more seconds, got {debounce}")
        self._esm = esm
        self._css = css
        self._model = graph
        self._debounce = debounce
        self._doc: GraphDocument = graph.document  # the snapshot the Studio last saw
        self._graph_sent: GraphDocument | None = None
        self._history = History()
        # a Studio tab on a shared document: the graph follows the room (brepflow_lab.collab.replica)
        self._replica: Replica | None = Replica() if collaborative else None
        self._room_link: Any = None  # a notebook's Studio joined to the room (brepflow_lab.collab.link)
        self._viewer = ViewerState()
        self._applying = False
        self._closed = True  # until everything below exists
        self._lock = threading.RLock()
        self._graph_lock = threading.Lock()
        self._message_lock = threading.Lock()
        self._message_seq = 0
        self._status: dict[str, dict[str, Any]] = {}
        self._status_pushed = 0.0
        self._status_timer: threading.Timer | None = None
        self._status_lock = threading.Lock()
        self._run_id: int | None = None
        self._evaluation_running = False
        self._last_param_edit = float("-inf")  # monotonic time of the last param edit
        self._limit_fallback = False  # True once Dask workers could not be started for the time limit
        self._result: EvaluationResult | None = None
        self._result_doc: GraphDocument | None = None
        self._resend = False
        self._measure_request: dict[str, Any] | None = None
        self._measure_loop: TaskLoop | None = None  # started on the first measure message
        self._events = EventBus()
        self._evaluator = self._make_evaluator()
        view = dict(DEFAULT_VIEW)
        view["quality"] = quality
        super().__init__(
            graph=bflow.to_json(graph.document),
            catalogue=[spec.to_dict() for spec in graph.registry],
            view=view,
            height=height,
            title=self._title(),
            dirty=self._is_dirty(),
            **kwargs,
        )
        self._graph_sent = graph.document
        self._autosaver = (
            Autosaver(
                graph,
                versions=versions,
                delay=autosave_delay,
                on_saved=self._saved,
                on_error=lambda exc: self.notify("error", f"autosave failed: {exc}"),
            )
            if autosave
            else None
        )
        self._loop = TaskLoop(
            {"sync": self._sync_task, "evaluate": self._evaluate_task, "publish": self._publish_task},
            ["sync", "evaluate", "publish"],
            on_error=self._task_failed,
        )
        self._unsubscribe_events = self._events.subscribe(self._on_engine_event)
        graph.on_change(self._on_graph_change)
        self.on_msg(self._on_message)
        self._closed = False
        if evaluate:
            self._request_evaluation(0.0)

    # -- the Python-side handles --------------------------------------------------------------
    @property
    def model(self) -> Graph:
        """The :class:`~brepflow_lab.Graph` being edited (edit it in Python too)."""
        return self._model

    @property
    def result(self) -> EvaluationResult | None:
        """The last complete evaluation."""
        return self._result

    def mesh(self, node_id: str) -> Mesh | None:
        """The mesh of ``node_id`` the viewer currently shows (None if not shown)."""
        item = self._viewer.sent.get(node_id)
        return item.mesh if item is not None else None

    @property
    def can_undo(self) -> bool:
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._history.can_redo

    def _make_evaluator(self) -> Evaluator:
        shared = self._model.evaluator
        return Evaluator(self._model.registry, cache=shared.cache, executor=shared.executor, events=self._events)

    def _title(self) -> str:
        return self._model.path.name if self._model.path is not None else "untitled"

    def _is_dirty(self) -> bool:
        if self._replica is not None:
            return False  # the server's room saves the shared document
        if self._model.path is None:
            doc = self._model.document
            return bool(doc.nodes or doc.parameters)
        return self._model.dirty

    # -- messages to the user --------------------------------------------------------------------
    def notify(self, level: str, text: str) -> None:
        """Show a notice in the Studio (``level``: info, warning or error)."""
        if level not in ("info", "warning", "error"):
            raise ValueError(f"level must be info, warning or error, got {level!r}")
        with self._message_lock:
            self._message_seq += 1
            self.message = {"level": level, "text": text, "seq": self._message_seq}

    def _task_failed(self, task: str, exc: BaseException) -> None:
        if task == "evaluate":
            self._evaluation_running = False
            self.evaluating = False
        self.notify("error", f"the Studio's {task} step failed: {type(exc).__name__}: {exc}")

    # -- browser -> Python ------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, Mapping):
            self.notify("error", f"ignored a message that is not an object: {content!r}")
            return
        kind = content.get("type")
        try:
            if kind == "edit":
                self._on_edit(content)
            elif kind == "y-update":
                self._on_y_update(buffers)
            elif kind == "ready":
                self._resend = True
                self._loop.request("publish")
            elif kind == "undo":
                self.undo()
            elif kind == "redo":
                self.redo()
            elif kind == "evaluate":
                self.evaluate()
            elif kind == "save":
                self._on_save()
            elif kind == "preview":
                self._on_preview(content)
            elif kind == "measure":
                self._on_measure(content)
            else:
                self.notify("error", f"ignored an unknown message type {kind!r} from the browser")
        except Exception as exc:  # never let an exception into the kernel's message loop
            self.notify("error", f"could not handle the browser's {kind!r} message: {type(exc).__name__}: {exc}")

    def _on_edit(self, content: Mapping[str, Any]) -> None:
        seq = content.get("seq")
        if self._replica is not None and not self._replica.joined:
            self.send(
                {
                    "type": "ack",
                    "seq": seq,
                    "ok": False,
                    "error": str(
                        NotJoinedError("the Studio is still joining the shared document; try again in a moment")
                    ),
                }
            )
            return
        with self._lock:
            self._applying = True
            try:
                before = apply_edit(self._model, content.get("ops"))
            except EditRefused as exc:
                ack: dict[str, Any] = {"type": "ack", "seq": seq, "ok": False, "error": str(exc)}
                if exc.op_index is not None:
                    ack["op"] = exc.op_index
                if exc.code is not None:
                    ack["code"] = exc.code
                self.send(ack)
                return
            finally:
                self._applying = False
            after = self._model.document
            kind = change_kind(before, after)
            if kind != "none":
                self._history.record(before)
                self._share(after)
            self._doc = after
        self._push_graph()
        self.send({"type": "ack", "seq": seq, "ok": True})
        self._changed(kind, external=False)

    def _on_save(self) -> None:
        if self._model.path is None:
            self.notify(
                "warning",
                "this graph has no file yet: save it from Python with studio.save('part.bflow.json')",
            )
            return
        self.save()

    def _on_preview(self, content: Mapping[str, Any]) -> None:
        node, on = content.get("node"), content.get("on")
        if not isinstance(node, str) or not isinstance(on, bool):
            self.notify("error", "a preview message needs 'node' (an id) and 'on' (true or false)")
            return
        self._viewer.preview[node] = on
        self._loop.request("publish")

    def _on_measure(self, content: Mapping[str, Any]) -> None:
        picks, seq = content.get("picks"), content.get("seq")
        if not isinstance(picks, list) or not all(isinstance(p, Mapping) for p in picks):
            self.notify("error", "a measure message needs 'picks': a list of picks")
            return
        with self._lock:
            self._measure_request = {"picks": picks, "seq": seq}
            if self._measure_loop is None:
                self._measure_loop = TaskLoop(
                    {"measure": self._measure_task}, ["measure"], on_error=self._task_failed, name="brepflow-measure"
                )
        self._measure_loop.request("measure")

    def _measure_task(self) -> None:
        from brepflow_lab.widgets.measuring import measurement

        with self._lock:
            request, self._measure_request = self._measure_request, None
        if request is None:
            return
        answer = measurement(self._viewer, request["picks"], self._model.document.units)
        if answer and request["seq"] is not None:
            answer["seq"] = request["seq"]
        self.measurement = answer

    @traitlets.observe("pick")
    def _on_pick(self, change: Mapping[str, Any]) -> None:
        pick = change["new"]
        if not pick:
            return
        try:
            self.pick_info = self._viewer.pick(pick)
        except Exception as exc:
            self.pick_info = {**pick, "error": f"{type(exc).__name__}: {exc}"}

    @traitlets.observe("view")
    def _on_view(self, change: Mapping[str, Any]) -> None:
        old, new = change["old"] or {}, change["new"] or {}
        changed = old.get("hidden") != new.get("hidden") or old.get("quality") != new.get("quality")
        if changed and hasattr(self, "_loop"):  # not during __init__
            self._loop.request("publish")

    # -- Python-side graph changes --------------------------------------------------------------
    def _on_graph_change(self, graph: Graph) -> None:
        if self._applying or self._closed:
            return
        with self._lock:
            before, after = self._doc, graph.document
            kind = change_kind(before, after)
            if kind == "none":
                return
            self._history.record(before)
            self._doc = after
            if self._replica is not None and self._replica.joined:
                self._share(after)
        self._loop.request("sync", _SYNC_DELAY)
        self._changed(kind, external=True)

    def _changed(self, kind: str, *, external: bool) -> None:
        if kind == "params":
            self._request_evaluation(self._param_delay())
        elif kind == "structure":
            self._request_evaluation(_EXTERNAL_STRUCTURE_DELAY if external else 0.0)
        if kind != "none" and self._autosaver is not None:
            self._autosaver.schedule()

    def _push_graph(self) -> None:
        with self._graph_lock:
            doc = self._model.document
            if doc is self._graph_sent:
                return
            with self.hold_sync():
                self.graph = bflow.to_json(doc)
                self.dirty = self._is_dirty()
                self.title = self._title()
            self._graph_sent = doc

    def _sync_task(self) -> None:
        self._push_graph()

    def _saved(self, path: Path, changed_outside: bool) -> None:
        self.dirty = self._is_dirty()
        self.title = self._title()
        if changed_outside:
            self.notify(
                "warning",
                f"{path.name} had been changed on disk by someone else; that version is kept as "
                f".brepflow-history/{path.name}.~1~",
            )

    # -- undo / redo / save ---------------------------------------------------------------------
    def _restore(self, doc: GraphDocument) -> None:
        self._adopt(doc, external=False)

    def _adopt(self, doc: GraphDocument, *, external: bool) -> None:
        """Make ``doc`` the Studio's graph (undo/redo, or the shared document moving on)."""
        with self._lock:
            before = self._doc
            if external and doc == before:
                return
            self._applying = True
            try:
                self._model._set_document(doc)
            finally:
                self._applying = False
            self._doc = doc
        self._push_graph()
        self._changed(change_kind(before, doc), external=external)

    # -- the shared document (collaborative Studio tabs; brepflow_lab.collab.replica) -------------
    def _share(self, doc: GraphDocument) -> None:
        """This person's edit into the shared document; the update goes to the room via the tab."""
        if self._replica is None:
            return
        update = self._replica.commit(doc)
        if update:
            self._send_update(update)

    def _send_update(self, update: bytes) -> None:
        if self._room_link is not None:
            self._room_link.send(update)
        else:
            self.send({"type": "y-update"}, [update])

    def join_room(self, path: str) -> None:
        """A notebook's Studio: join the file's live document if JupyterLab offers it (collab/link.py)."""
        from brepflow_lab.collab.link import RoomLink

        def joined() -> None:
            self._replica = Replica()
            if self._autosaver is not None:  # the room saves the file from now on
                self._autosaver.cancel()
                self._autosaver = None
            self.notify("info", "joined the live document: edits are shared with its Studio tabs")

        self._room_link = RoomLink(path, on_joined=joined, on_update=self._on_y_update)

    def _on_y_update(self, buffers: Any) -> None:
        """Updates from the room (relayed by the tab): the graph follows the projection."""
        if self._replica is None:
            self.notify("error", "this Studio is not collaborative: ignored a shared-document update")
            return
        for buffer in buffers or ():
            self._replica.receive(bytes(buffer))
        if self._replica.joined:
            self._follow(self._replica.document())

    def _follow(self, doc: GraphDocument) -> None:
        self._adopt(doc, external=True)

    def _shared_step(self, redo: bool) -> bool:
        assert self._replica is not None
        update = self._replica.redo() if redo else self._replica.undo()
        if update is None:
            self.notify("info", f"nothing of yours to {'redo' if redo else 'undo'}")
            return False
        self._send_update(update)
        self._follow(self._replica.document())
        return True

    def undo(self) -> bool:
        """Undo the last edit (browser or Python); False if there is nothing to undo."""
        if self._replica is not None:
            return self._shared_step(redo=False)
        with self._lock:
            doc = self._history.undo(self._model.document)
        if doc is None:
            self.notify("info", "nothing to undo")
            return False
        self._restore(doc)
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; False if there is nothing to redo."""
        if self._replica is not None:
            return self._shared_step(redo=True)
        with self._lock:
            doc = self._history.redo(self._model.document)
        if doc is None:
            self.notify("info", "nothing to redo")
            return False
        self._restore(doc)
        return True

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save now (atomically, keeping the previous version); ``path`` saves under a new name."""
        if path is not None:
            self._model.path = Path(path)
        if self._model.path is None:
            raise ValueError("this graph has no file yet: pass a path, e.g. studio.save('part.bflow.json')")
        if self._autosaver is not None:
            self._autosaver.cancel()
            written = self._autosaver.save(force=True)
            if written is None:
                raise OSError(f"could not save {self._model.path} (see the Studio's message)")
        else:
            written = self._model.save()
        self.dirty = self._is_dirty()
        self.title = self._title()
        self.notify("info", f"saved {written.name}")
        return written

    # -- evaluation --------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Evaluate now (in the background); :meth:`wait` blocks until it is done."""
        self._request_evaluation(0.0)

    def _param_delay(self) -> float:
        """How long a param edit waits before it is evaluated: leading edge, then debounce.

        A lone edit (a number typed and Enter, a dropdown, one slider step) evaluates at
        once: waiting 150 ms first would be most of the 250 ms a change may take to reach
        the screen. Only an edit that comes while a burst is on — the last edit less than
        ``debounce`` ago, or an evaluation still pending or running — waits ``debounce``,
        so a slider drag still evaluates once after the thumb stops (plus the first step).
        """
        now = time.monotonic()
        last, self._last_param_edit = self._last_param_edit, now
        busy = self._evaluation_running or self._loop.pending("evaluate")
        if self._debounce == 0 or (not busy and now - last >= self._debounce):
            return 0.0
        return self._debounce

    def _request_evaluation(self, delay: float) -> None:
        if self._replica is not None:
            # a shared Studio: let the Y update and the graph leave the kernel first (an
            # evaluation holds the GIL in OCCT, and the other screens wait on those messages)
            delay = max(delay, _SHARED_FLUSH_DELAY)
        if self._evaluation_running:
            self._evaluator.supersede()  # the running evaluation is stale: stop at the next node
        self._loop.request("evaluate", delay)

    def wait(self, timeout: float = 60.0) -> None:
        """Block until pending edits are evaluated, meshes sent and measurements made; raises TimeoutError."""
        end = time.monotonic() + timeout
        if not self._loop.wait_idle(timeout):
            raise TimeoutError(f"the Studio was still busy after {timeout:g} s")
        measuring = self._measure_loop
        if measuring is not None and not measuring.wait_idle(max(0.0, end - time.monotonic())):
            raise TimeoutError(f"the Studio was still measuring after {timeout:g} s")

    def _evaluate_task(self) -> None:
        graph = self._model
        doc = graph.document
        if graph.evaluator.cache is not self._evaluator.cache or graph.registry is not self._evaluator.catalogue:
            self._evaluator = self._make_evaluator()  # the graph was given another cache/catalogue
        base_dir = graph.path.parent.resolve() if graph.path is not None else Path.cwd()
        self._evaluation_running = True
        self.evaluating = True
        try:
            if doc.nodes:
                from brepflow_lab.kernel import cq

                cq()  # import the kernel before the clock starts, as Graph.evaluate does
            result = self._evaluator.evaluate(
                doc,
                base_dir=base_dir,
                output_dir=base_dir,
                executor=self._limit_executor(),
                # a newer request (even one still in its debounce) makes this run stale
                should_stop=lambda: self._closed or self._loop.pending("evaluate"),
            )
        finally:
            self._evaluation_running = False
        if result.superseded:
            if not self._loop.pending("evaluate"):
                self.evaluating = False
            return
        self._result, self._result_doc = result, doc
        self._push_status(doc)
        try:
            self._publish(doc, result)
        finally:
            if not self._loop.pending("evaluate"):
                self.evaluating = False

    def _limit_executor(self) -> Any:
        """Where nodes run when the hub's ``BREPFLOW_MAX_NODE_SECONDS`` must be enforced, else None.

        As in :meth:`Graph.evaluate`: a node stuck in an OCCT call can only be stopped in a
        worker process, and here it would also freeze this kernel (the call holds the
        interpreter), so with the limit set and the graph's evaluator running nodes in this
        process, the Studio evaluates on the Dask executor of the environment (a local
        cluster started on first use — the first evaluation waits a few seconds for it).
        Results come back into the shared cache, and the viewer meshes them here. When no
        worker can be started, nodes run here and a notice says the limit cannot be enforced.
        """
        from brepflow_lab.api import executor_for_time_limit
        from brepflow_lab.engine.limits import LimitError

        if self._limit_fallback:
            return None
        try:
            return executor_for_time_limit(self._evaluator.executor)
        except LimitError:
            raise  # a bad BREPFLOW_MAX_NODE_SECONDS: reported as it is
        except Exception as exc:
            self._limit_fallback = True
            self.notify(
                "warning",
                f"could not start Dask workers ({type(exc).__name__}: {exc}); nodes run in this kernel, where the "
                "time limit per node (BREPFLOW_MAX_NODE_SECONDS) cannot stop a runaway node",
            )
            return None

    def _on_engine_event(self, event: Event) -> None:
        with self._status_lock:
            if isinstance(event, EvaluationStarted):
                self._run_id = event.run_id
                return
            if event.run_id != self._run_id:
                return
            if isinstance(event, NodeStarted):
                self._status[event.node_id] = {"status": "running"}
            elif isinstance(event, NodeFinished):
                self._status[event.node_id] = {"status": event.status, "seconds": round(event.seconds, 6)}
            elif isinstance(event, NodeFailed):
                if event.status == "cancelled" or event.error.get("code") == ErrorCode.CANCELLED.value:
                    previous = self._status.get(event.node_id)
                    if previous is None or previous.get("status") == "running":
                        self._status[event.node_id] = {"status": "cancelled"}
                else:
                    entry: dict[str, Any] = {"status": event.status, "seconds": 0.0}
                    error = {k: v for k, v in event.error.items() if k in ("code", "message", "param")}
                    if error:
                        entry["error"] = error
                    self._status[event.node_id] = entry
            elif isinstance(event, EvaluationFinished):
                return
            wait = _STATUS_INTERVAL - (time.monotonic() - self._status_pushed)
            if wait > 0 and self._status_timer is None:  # throttled: push when the interval ends
                self._status_timer = threading.Timer(wait, self._deferred_status)
                self._status_timer.daemon = True
                self._status_timer.start()
        if wait <= 0:
            self._push_status(None)

    def _deferred_status(self) -> None:
        with self._status_lock:
            self._status_timer = None
        if not self._closed:
            self._push_status(None)

    def _push_status(self, doc: GraphDocument | None) -> None:
        with self._status_lock:
            if doc is not None:  # drop nodes that are gone, keep file order
                seconds = {}
                if self._result is not None:
                    seconds = {k: r.seconds for k, r in self._result.nodes.items()}
                current = {}
                for n in doc.nodes:
                    entry = self._status.get(n.id)
                    if entry is not None:
                        if entry.get("status") == "failed" and n.id in seconds:
                            entry = {**entry, "seconds": round(seconds[n.id], 6)}
                        current[n.id] = entry
                self._status = current
            snapshot = {k: dict(v) for k, v in self._status.items()}
            self._status_pushed = time.monotonic()
        self.status = snapshot

    # -- meshes -----------------------------------------------------------------------------------
    def _publish_task(self) -> None:
        if self._result is not None and self._result_doc is not None:
            self._publish(self._model.document, self._result)

    def _publish(self, doc: GraphDocument, result: EvaluationResult) -> None:
        from brepflow_lab.kernel.tessellate import max_preview_triangles

        if self._resend:
            self._resend = False
            self._viewer.forget()
        view = self.view or {}
        quality = view.get("quality", "preview")
        from brepflow_lab.kernel.tessellate import LODS

        if quality not in LODS:
            self.notify("warning", f"unknown viewer quality {quality!r}; showing 'preview'")
            quality = "preview"
        hidden = [h for h in view.get("hidden", []) if isinstance(h, str)]
        try:
            limit = max_preview_triangles()
        except ValueError as exc:
            self.notify("error", f"{exc}; no triangle limit applied")
            limit = None
        content, buffers, notices = self._viewer.update(
            doc, self._model.registry, result, hidden=hidden, lod=quality, max_triangles=limit
        )
        for notice in notices:
            self.notify(notice.level, notice.text)
        if content is not None:
            self.send(content, buffers)

    # -- lifecycle ----------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the background thread, save what is pending, and close the widget."""
        if getattr(self, "_closed", True) is False:  # fully constructed and not closed yet
            self._closed = True
            with self._status_lock:
                if self._status_timer is not None:
                    self._status_timer.cancel()
            self._evaluator.supersede()
            self._loop.stop()
            if self._measure_loop is not None:
                self._measure_loop.stop()
            self._unsubscribe_events()
            listeners = getattr(self._model, "_listeners", None)
            if listeners is not None and self._on_graph_change in listeners:
                listeners.remove(self._on_graph_change)
            if self._autosaver is not None:
                self._autosaver.flush()
        # ipywidgets gives every DOMWidget a Layout widget of its own and does not close it
        # with its parent: without this, each closed Studio left one comm behind
        # (benchmarks/bench_soak.py counts them)
        layout = getattr(self, "layout", None)
        if layout is not None:
            layout.close()
        super().close()

    def __repr__(self) -> str:
        doc = self._model.document
        where = f" {self._model.path}" if self._model.path is not None else " (untitled)"
        counts: dict[str, int] = {}
        for entry in self.status.values():
            counts[entry.get("status", "?")] = counts.get(entry.get("status", "?"), 0) + 1
        state = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        busy = ", evaluating" if self.evaluating else ""
        return (
            f"<Studio{where}: {len(doc.nodes)} nodes{', ' + state if state else ''}, "
            f"{len(self._viewer.sent)} shown{busy}{', unsaved' if self.dirty else ''}>"
        )


def open(path: str | os.PathLike[str], *, create: bool = False, document_mode: bool = False, **kwargs: Any) -> Studio:
    """Open a ``.bflow.json`` file in a Studio; edits are autosaved back to it.

    ``document_mode=True`` is used by the JupyterLab document tab: JupyterLab owns the file
    (File → Save, the dirty indicator, revert), so the Studio never writes it itself.

    ``collaborative=True`` (a document tab with real-time collaboration on): the graph follows
    the server's shared document, relayed by the tab (:mod:`brepflow_lab.collab.replica`).

    ``create=True`` starts a new, empty graph when the file does not exist yet (it is
    written on the first edit). Other keyword arguments go to :class:`Studio`.
    """
    if document_mode:
        kwargs["autosave"] = False
    elif not kwargs.get("collaborative") and Path(path).exists():
        studio = Studio(Graph.load(Path(path)), **kwargs)
        studio.join_room(str(path))  # a notebook on a live document joins it (collab/link.py)
        return studio
    target = Path(path)
    if not target.exists():
        if not create:
            raise GraphError(
                [
                    Problem(
                        ErrorCode.FILE_NOT_FOUND,
                        f"no such graph file: {target} (pass create=True to start a new graph there)",
                    )
                ],
                str(target),
            )
        graph = Graph.new()
        graph.path = target
        return Studio(graph, **kwargs)
    return Studio(Graph.load(target), **kwargs)
