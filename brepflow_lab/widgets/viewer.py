"""Viewer side of the Studio: which nodes are shown, their meshes, and picks.

After each evaluation the Studio asks :meth:`ViewerState.update` for ONE ``meshes``
message (PROTOCOL.md): the nodes shown whose mesh changed, with their arrays as binary
buffers, plus the ids of nodes no longer shown. A mesh is identified by the node's
cache key, its output socket, the level of detail and the triangle limit: a node whose
key did not change is not sent again (the browser keeps it). A node that failed is not
sent and not removed — the browser keeps its last good mesh while the error shows in the
editor.

Which nodes are shown. By default the *terminal* shape nodes: nodes with a shape output
that feeds no other node producing a shape (a Box feeding only an Export or a Measure
node is still the part you are making, so it shows). The browser's ``preview`` message
forces a node on or off; ``view.hidden`` hides nodes. A node that stops being shown is
listed in ``removed``; when it is shown again it is sent anew (tessellations are cached,
so that is cheap).

Picks. The browser reports ``{node, kind, index}`` in the numbering of the mesh it
displays. Face order changes between rebuilds of the same model, so the index is
resolved through the exact shape that mesh was made from (kept with it), never through a
newer result; the answer is a selector string for Fillet/Chamfer ``edges`` or Shell
``faces`` (:func:`brepflow_lab.kernel.selectors.selector_for`). The Measure tool's picks
(:meth:`ViewerState.entity`) resolve the same way, to the exact face, edge, vertex or solid.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brepflow_lab.graph.model import GraphDocument
from brepflow_lab.nodes.spec import SHAPE_TYPES, NodeSpec

if TYPE_CHECKING:
    from brepflow_lab.engine import EvaluationResult
    from brepflow_lab.kernel.tessellate import Mesh
    from brepflow_lab.nodes.registry import Registry

__all__ = ["DEFAULT_COLOR", "SentMesh", "ViewerState", "shape_socket", "visible_nodes"]

DEFAULT_COLOR = "#4a90d9"
BUFFER_NAMES = ("positions", "normals", "indices", "edges", "face_ranges", "edge_ranges")


def shape_socket(spec: NodeSpec) -> str | None:
    """The output a node shows in the viewer: ``shape`` if it has one, else its first shape output."""
    shapes = [o for o in spec.outputs if o.type in SHAPE_TYPES]
    if not shapes:
        return None
    for output in shapes:
        if output.name == "shape":
            return output.name
    single = [o for o in shapes if not o.multiple]
    return (single or shapes)[0].name


def visible_nodes(
    doc: GraphDocument,
    registry: Registry,
    *,
    hidden: Iterable[str] = (),
    preview: Mapping[str, bool] | None = None,
) -> list[str]:
    """Ids of the nodes shown, in file order (see the module docstring for the rule)."""
    specs: dict[str, NodeSpec] = {}
    for n in doc.nodes:
        spec = registry.get(n.type)
        if spec is not None and shape_socket(spec) is not None:
            specs[n.id] = spec
    fed: set[str] = set()
    for n in doc.nodes:
        if n.id not in specs:
            continue  # only consumers that make shapes themselves hide their inputs
        for _, ref in n.links():
            source = specs.get(ref.node_id)
            output = source.output(ref.socket) if source is not None else None
            if output is not None and output.type in SHAPE_TYPES:
                fed.add(ref.node_id)
    hidden_set = set(hidden)
    overrides = preview or {}
    return [nid for nid in specs if nid not in hidden_set and overrides.get(nid, nid not in fed)]


def _color(value: Any) -> str:
    color = getattr(value, "color", None)
    if isinstance(color, (tuple, list)) and len(color) >= 3:
        try:
            r, g, b = (max(0, min(255, round(float(c) * 255))) for c in color[:3])
        except (TypeError, ValueError):
            return DEFAULT_COLOR
        return f"#{r:02x}{g:02x}{b:02x}"
    return DEFAULT_COLOR


@dataclass(frozen=True)
class SentMesh:
    node_id: str
    signature: tuple[Any, ...] | None  # None: always re-send (non-deterministic node)
    mesh: Mesh
    version: int
    color: str


@dataclass
class Notice:
    level: str
    text: str


class ViewerState:
    """The meshes the browser holds, and how to update them. Used by one worker thread."""

    def __init__(self) -> None:
        self.sent: dict[str, SentMesh] = {}
        self.preview: dict[str, bool] = {}
        self._version = 0
        self._lock = threading.Lock()

    def forget(self) -> None:
        """The browser lost its scene (a new view): everything is sent again next time."""
        with self._lock:
            self.sent = {}

    def update(
        self,
        doc: GraphDocument,
        registry: Registry,
        result: EvaluationResult | None,
        *,
        hidden: Iterable[str] = (),
        lod: str = "preview",
        max_triangles: int | None = None,
    ) -> tuple[dict[str, Any] | None, list[memoryview], list[Notice]]:
        """The ``meshes`` message for the current state (None if nothing changed)."""
        from brepflow_lab.kernel.tessellate import MeshTooLarge, tessellate

        shown = visible_nodes(doc, registry, hidden=hidden, preview=self.preview)
        shown_set = set(shown)
        entries: list[dict[str, Any]] = []
        buffers: list[memoryview] = []
        notices: list[Notice] = []
        sent = dict(self.sent)
        for nid in shown:
            node_result = result.nodes.get(nid) if result is not None else None
            if node_result is None or not node_result.ok:
                continue  # failed/skipped: the browser keeps the last good mesh
            node = doc.node(nid)
            spec = registry.get(node.type) if node is not None else None
            socket = shape_socket(spec) if spec is not None else None
            if spec is None or socket is None:
                continue
            value = node_result.outputs.get(socket)
            if value is None or (isinstance(value, list) and not value):
                continue
            signature = (node_result.key, socket, lod, max_triangles) if spec.cacheable else None
            previous = sent.get(nid)
            if previous is not None and signature is not None and previous.signature == signature:
                continue
            try:
                mesh = tessellate(
                    value,
                    lod,
                    max_triangles=max_triangles,
                    key=f"{node_result.key}/{socket}" if spec.cacheable and node_result.key else None,
                )
            except MeshTooLarge as exc:
                notices.append(Notice("warning", f"node '{nid}': {exc}"))
                continue
            except Exception as exc:
                notices.append(Notice("error", f"node '{nid}' could not be tessellated for the viewer: {exc}"))
                continue
            if mesh.coarsened:
                notices.append(
                    Notice(
                        "info",
                        f"node '{nid}' is shown coarser than requested ({mesh.triangle_count:,} triangles) "
                        "to stay within this server's preview limit",
                    )
                )
            with self._lock:
                self._version += 1
                version = self._version
            item = SentMesh(nid, signature, mesh, version, _color(value))
            sent[nid] = item
            entries.append(self._entry(item, len(buffers)))
            buffers.extend(mesh.buffers())
        removed = [nid for nid in sent if nid not in shown_set]
        for nid in removed:
            del sent[nid]
        with self._lock:
            self.sent = sent
        if not entries and not removed:
            return None, [], notices
        return {"type": "meshes", "nodes": entries, "removed": removed}, buffers, notices

    @staticmethod
    def _entry(item: SentMesh, first_buffer: int) -> dict[str, Any]:
        mesh = item.mesh
        return {
            "id": item.node_id,
            "version": item.version,
            "color": item.color,
            "visible": True,
            "bbox": [list(mesh.bbox[0]), list(mesh.bbox[1])],
            "buffers": {name: first_buffer + i for i, name in enumerate(BUFFER_NAMES)},
            "counts": {
                "vertices": mesh.vertex_count,
                "triangles": mesh.triangle_count,
                "segments": mesh.segment_count,
                "faces": mesh.face_count,
                "edges": mesh.edge_count,
            },
            "lod": mesh.lod,
            "coarsened": mesh.coarsened,
        }

    # -- picks -------------------------------------------------------------------------
    def pick(self, pick: Mapping[str, Any]) -> dict[str, Any]:
        """``pick_info`` for a browser pick; ``{"error": ...}`` when it cannot be resolved."""
        from brepflow_lab.kernel.selectors import selector_for

        node_id, kind, index = pick.get("node"), pick.get("kind"), pick.get("index")
        answer: dict[str, Any] = {"node": node_id, "kind": kind, "index": index}
        if "version" in pick:
            answer["version"] = pick["version"]
        if not isinstance(node_id, str) or kind not in ("face", "edge"):
            answer["error"] = "a pick needs 'node' (a node id) and 'kind' ('face' or 'edge')"
            return answer
        if isinstance(index, bool) or not isinstance(index, int):
            answer["error"] = f"a pick needs 'index' as a whole number, got {index!r}"
            return answer
        with self._lock:
            item = self.sent.get(node_id)
        if item is None:
            answer["error"] = f"node '{node_id}' has no mesh in the viewer"
            return answer
        version = pick.get("version")
        if version is not None and version != item.version:
            answer["error"] = "the model changed since this pick was made; pick again"
            return answer
        mesh = item.mesh
        try:
            element = mesh.face(index) if kind == "face" else mesh.edge(index)
            hints = _hints(mesh, kind, index, pick.get("point"))
            chosen = selector_for(mesh.shape, element, kind, hints=hints)
        except IndexError as exc:
            answer["error"] = str(exc)
            return answer
        except Exception as exc:
            answer["error"] = f"could not make a selector for this {kind}: {exc}"
            return answer
        answer.update(
            {
                "version": item.version,
                "selector": chosen.selector,
                "alternatives": list(chosen.alternatives),
                "param": "edges" if kind == "edge" else "faces",
                "center": list(chosen.center),
                "type": chosen.geom_type,
                "size": chosen.size,
            }
        )
        if chosen.radius is not None:
            answer["radius"] = chosen.radius
        if chosen.normal is not None:
            answer["normal"] = list(chosen.normal)
        return answer

    def entity(self, pick: Mapping[str, Any]) -> tuple[Any, tuple[float, float, float] | None]:
        """The exact B-Rep entity a Measure pick names, and the picked point (if given).

        ``kind`` is ``face`` / ``edge`` (``index`` in the mesh's numbering), ``vertex`` (the
        end of edge ``index`` nearest ``point``) or ``solid`` (the solid bounded by face
        ``index``). Resolved through the exact shape the browser's mesh was made from;
        raises ValueError with a message for the user when it cannot be.
        """
        from brepflow_lab.kernel.measure import nearest_vertex, solid_containing

        node_id, kind, index = pick.get("node"), pick.get("kind"), pick.get("index")
        if not isinstance(node_id, str) or kind not in ("face", "edge", "vertex", "solid"):
            raise ValueError("a measure pick needs 'node' (a node id) and 'kind' ('face', 'edge', 'vertex' or 'solid')")
        if isinstance(index, bool) or not isinstance(index, int):
            raise ValueError(f"a measure pick needs 'index' as a whole number, got {index!r}")
        point = pick.get("point")
        where: tuple[float, float, float] | None = None
        if isinstance(point, (list, tuple)) and len(point) == 3 and all(isinstance(v, (int, float)) for v in point):
            where = (float(point[0]), float(point[1]), float(point[2]))
        with self._lock:
            item = self.sent.get(node_id)
        if item is None:
            raise ValueError(f"node '{node_id}' has no mesh in the viewer")
        version = pick.get("version")
        if version is not None and version != item.version:
            raise ValueError("the model changed since this pick was made; pick again")
        mesh = item.mesh
        if kind == "face":
            return mesh.face(index), where
        if kind == "solid":
            return solid_containing(mesh.shape, mesh.face(index)), None
        edge = mesh.edge(index)
        if kind == "edge":
            return edge, where
        if where is None:
            raise ValueError("a vertex pick needs 'point' (near the end of the edge it names)")
        return nearest_vertex(edge, where), None


def _hints(mesh: Mesh, kind: str, index: int, point: Any) -> list[tuple[float, float, float]]:
    """Points near the picked element: the browser's hit point, then a point of its mesh."""
    import numpy as np

    hints: list[tuple[float, float, float]] = []
    if isinstance(point, (list, tuple)) and len(point) == 3 and all(isinstance(v, (int, float)) for v in point):
        hints.append((float(point[0]), float(point[1]), float(point[2])))
    if kind == "face":
        first, count = (int(v) for v in mesh.face_ranges[index])
        if count:
            triangles = mesh.indices[first : first + count].astype(np.int64)
            corners = mesh.positions[triangles].astype(np.float64)  # (count, 3, 3)
            areas = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
            centre = corners[int(np.argmax(areas))].mean(axis=0)
            hints.append((float(centre[0]), float(centre[1]), float(centre[2])))
    else:
        first, count = (int(v) for v in mesh.edge_ranges[index])
        if count:
            middle = mesh.edges[first + count // 2].astype(np.float64).mean(axis=0)
            hints.append((float(middle[0]), float(middle[1]), float(middle[2])))
    return hints
