"""The Studio widget itself: bundle, traits as in PROTOCOL.md, lifecycle, robustness."""

from __future__ import annotations

from pathlib import Path

import pytest

from brepflow_lab import Graph, catalogue
from brepflow_lab.widgets import STATIC_DIR, FrontendNotBuiltError, Studio
from brepflow_lab.widgets import studio as studio_module

PROTOCOL_TRAITS = {
    "graph",
    "catalogue",
    "status",
    "evaluating",
    "selected",
    "pick",
    "pick_info",
    "view",
    "dirty",
    "title",
    "message",
    "height",
}


def test_the_bundle_is_served_from_the_package_static_folder() -> None:
    assert Path(studio_module.__file__).parent / "static" == STATIC_DIR


def test_a_missing_front_end_build_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(studio_module, "STATIC_DIR", tmp_path / "static")
    with pytest.raises(FrontendNotBuiltError) as info:
        Studio(Graph.new())
    text = str(info.value)
    assert "the Studio front-end was not built: studio.js, studio.css missing" in text
    assert "pip install -e ." in text


def test_traits_follow_the_protocol(make_studio, frontend_bundle: Path) -> None:
    d = make_studio(Graph.new(), height=720)
    studio = d.studio
    synced = {name for name in studio.keys if not name.startswith("_") and name not in studio_synced_base()}
    assert synced >= PROTOCOL_TRAITS
    assert studio._esm == (frontend_bundle / "studio.js").read_text()
    assert studio._css == (frontend_bundle / "studio.css").read_text()
    assert studio.height == 720 and studio.title == "untitled" and studio.evaluating is False
    assert studio.graph == {"version": "0.1.0", "units": "mm", "tolerance": 0.001, "nodes": [], "edges": []}
    assert {s["type"] for s in studio.catalogue} == set(catalogue.types())
    box = next(s for s in studio.catalogue if s["type"] == "Solid::Box")
    assert box == catalogue["Solid::Box"].to_dict()
    view = studio.view
    assert view["projection"] == "perspective" and view["hidden"] == [] and view["quality"] == "preview"
    assert set(view["clip"]) == {"enabled", "normal", "offset"}


def studio_synced_base() -> set[str]:
    import anywidget

    class Bare(anywidget.AnyWidget):
        _esm = "export default {}"

    bare = Bare()
    try:
        return set(bare.keys)
    finally:
        bare.close()


def test_bad_arguments_are_refused(make_studio) -> None:
    with pytest.raises(ValueError, match="quality must be one of preview, medium, high"):
        make_studio(Graph.new(), quality="ultra")
    with pytest.raises(ValueError, match="at least 200"):
        make_studio(Graph.new(), height=50)


def test_unknown_and_malformed_messages_become_notices(make_studio) -> None:
    d = make_studio(Graph.new())
    d.custom({"type": "launch"})
    assert d.studio.message["level"] == "error" and "unknown message type 'launch'" in d.studio.message["text"]
    d.custom({"type": "preview", "node": 3})
    assert "'on' (true or false)" in d.studio.message["text"]
    d.custom(["not", "an", "object"])  # type: ignore[arg-type]
    assert "not an object" in d.studio.message["text"]
    seqs = []
    for _ in range(2):
        d.custom({"type": "launch"})
        seqs.append(d.studio.message["seq"])
    assert seqs[1] == seqs[0] + 1  # the same notice twice still changes the trait


def test_initial_evaluation_reports_status(make_studio) -> None:
    g = Graph.new()
    g.add("Solid::Box", id="box", width=2, height=2, depth=2)
    g.add("Solid::Sphere", id="ball", radius=-1)
    d = make_studio(g, evaluate=True)
    d.wait()
    status = d.studio.status
    assert list(status) == ["box", "ball"]
    assert status["box"]["status"] in ("ok", "cached") and status["box"]["seconds"] >= 0
    assert status["ball"] == {
        "status": "failed",
        "seconds": status["ball"]["seconds"],
        "error": {"code": "PARAM_INVALID", "message": status["ball"]["error"]["message"], "param": "radius"},
    }
    assert "radius" in status["ball"]["error"]["message"]


def test_a_burst_of_python_edits_is_synced_once(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    syncs = []
    d.studio.observe(lambda change: syncs.append(change["new"]), names="graph")
    for i in range(40):
        g.add("Solid::Box", id=f"b{i}", position=(i * 10.0, 0.0))
    d.wait()
    assert len(syncs) <= 3 and len(syncs[-1]["nodes"]) == 40
    assert len(d.studio.status) == 40  # evaluated (once or a few times, superseded)


def test_close_stops_the_thread_and_forgets_the_graph(make_studio) -> None:
    g = Graph.new()
    d = make_studio(g)
    studio = d.studio
    loop = studio._loop
    studio.close()
    assert not loop.alive
    studio.close()  # twice is harmless
    g.add("Solid::Box", id="box")  # the closed Studio no longer listens
    assert studio.graph["nodes"] == []


def test_repr_summarises_the_studio(make_studio, tmp_path: Path) -> None:
    g = Graph.new()
    g.add("Solid::Box", id="box")
    g.add("Solid::Sphere", id="ball", radius=-2)
    path = g.save(tmp_path / "p.bflow.json")
    d = make_studio(Graph.load(path), evaluate=True)
    d.wait()
    text = repr(d.studio)
    assert text.startswith(f"<Studio {path}: 2 nodes")
    assert "1 failed" in text and "1 shown" in text and "unsaved" not in text
    bundle = d.studio._repr_mimebundle_()
    assert bundle is not None
