"""Semantic diff and three-way merge of graphs, and both as CLI commands (git merge driver included)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brepflow_lab import Graph
from brepflow_lab.graph import bflow
from brepflow_lab.graph.merge import diff, merge
from brepflow_lab.graph.model import GraphDocument

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "enclosure.bflow.json"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brepflow_lab.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def base_graph() -> Graph:
    g = Graph.new(units="mm")
    g.parameters.define("L", 120, min=40, max=400, unit="mm")
    box = g.add("Solid::Box", id="box", width="@L", height=80, depth=40)
    shell = g.add("Features::Shell", id="shell", thickness=2)
    fillet = g.add("Features::Fillet", id="fillet", radius=1, edges="|Z")
    g.connect(box, "shape", shell, "shape")
    g.connect(shell, "shape", fillet, "shape")
    return g


def errors(doc: GraphDocument) -> list:
    """The validation problems of a document, severity error only (catalogue and all)."""
    return [p for p in Graph.from_json(bflow.to_json(doc)).validate() if p.severity == "error"]


def edit(doc: GraphDocument, fn) -> GraphDocument:
    g = Graph.from_json(bflow.to_json(doc))
    fn(g)
    return g.document


def test_diff_names_what_changed_from_to():
    a = base_graph().document

    def change(g):
        g.node("fillet").params["radius"] = 3
        g.parameters["L"] = 150
        chamfer = g.add("Features::Chamfer", id="chamfer", distance=0.5)
        g.connect("fillet", "shape", chamfer, "shape")
        g.remove("shell")

    b = edit(a, change)
    d = diff(a, b)
    assert not d.equal
    assert d.nodes_added == [{"id": "chamfer", "type": "Features::Chamfer", "label": None}]
    assert d.nodes_removed == [{"id": "shell", "type": "Features::Shell", "label": None}]
    assert {"node": "fillet", "what": "params.radius", "from": 1, "to": 3} in d.changes
    assert "fillet.shape → chamfer.shape" in d.links_added
    assert "box.shape → shell.shape" in d.links_removed and "shell.shape → fillet.shape" in d.links_removed
    assert {"name": "L", "change": "changed", "field": "value", "from": 120, "to": 150} in d.parameters
    lines = d.lines()
    assert "~ fillet.params.radius: 1 → 3" in lines and "+ node chamfer (Features::Chamfer)" in lines
    assert diff(a, a).equal and diff(a, bflow.loads(bflow.dumps(a))).equal


def test_concurrent_edits_of_different_atoms_merge_cleanly():
    base = base_graph().document
    ours = edit(base, lambda g: g.node("fillet").params.__setitem__("radius", 3))

    def theirs_edit(g):
        g.node("fillet").params["edges"] = ">Z"
        g.parameters["L"] = 160
        hole = g.add("Solid::Cylinder", id="hole", radius=3, height=50)
        cut = g.add("Boolean::Subtract", id="cut")
        g.connect("fillet", "shape", cut, "base")
        g.connect(hole, "shape", cut, "tools")

    theirs = edit(base, theirs_edit)
    result = merge(base, ours, theirs)
    assert result.clean, [c.text() for c in result.conflicts]
    doc = result.document
    assert doc.node("fillet").params == {"radius": 3, "edges": ">Z"}
    assert doc.parameters["L"].value == 160
    assert doc.node("cut") is not None and doc.node("hole") is not None
    assert not errors(doc)
    # the edges list agrees with the inputs (the file stores links twice)
    assert {(e.source, e.target) for e in doc.edges} == {(r.node_id, n.id) for n in doc.nodes for _, r in n.links()}
    assert len({e.id for e in doc.edges}) == len(doc.edges)


def test_the_same_atom_changed_both_ways_is_a_conflict_and_ours_is_kept():
    base = base_graph().document
    ours = edit(base, lambda g: g.node("fillet").params.__setitem__("radius", 3))
    theirs = edit(base, lambda g: g.node("fillet").params.__setitem__("radius", 4))
    result = merge(base, ours, theirs)
    [conflict] = result.conflicts
    assert conflict.where == "fillet.params.radius" and (conflict.base, conflict.ours, conflict.theirs) == (1, 3, 4)
    assert result.document.node("fillet").params["radius"] == 3
    # both sides made the same change: no conflict
    assert merge(base, ours, ours).clean


def test_a_delete_and_a_link_to_the_deleted_node_converge_to_a_valid_graph():
    base = base_graph().document
    ours = edit(base, lambda g: g.remove("fillet"))

    def theirs_edit(g):
        step = g.add("IO::ExportSTEP", id="step", filepath="out.step")
        g.connect("fillet", "shape", step, "shapes")

    theirs = edit(base, theirs_edit)
    result = merge(base, ours, theirs)
    assert result.clean
    assert result.document.node("fillet") is None and result.document.node("step") is not None
    assert result.dropped_links == ["fillet.shape → step.shapes"]
    assert not [p for p in errors(result.document) if p.code.value != "INPUT_MISSING"]
    # the other way round (we link, they delete) converges to the same graph
    other = merge(base, theirs, ours)
    assert {n.id for n in other.document.nodes} == {n.id for n in result.document.nodes}
    assert diff(other.document, result.document, positions=False).equal


def test_a_node_deleted_on_one_side_and_edited_on_the_other_is_kept_and_reported():
    base = base_graph().document
    ours = edit(base, lambda g: g.remove("fillet"))
    theirs = edit(base, lambda g: g.node("fillet").params.__setitem__("radius", 2))
    result = merge(base, ours, theirs)
    [conflict] = result.conflicts
    assert conflict.where == "node fillet"
    assert result.document.node("fillet").params["radius"] == 2  # nothing of the edit is lost


def test_links_that_only_together_make_a_cycle_are_a_conflict():
    g = Graph.new()
    g.add("Transform::Move", id="a")
    g.add("Transform::Move", id="b")
    base = g.document
    ours = edit(base, lambda x: x.connect("a", "shape", "b", "shape"))
    theirs = edit(base, lambda x: x.connect("b", "shape", "a", "shape"))
    result = merge(base, ours, theirs)
    assert any(c.where.startswith("links ") for c in result.conflicts)


ATOM_EDITS = {
    "radius": lambda g: g.node("fillet").params.__setitem__("radius", 2.5),
    "edges": lambda g: g.node("fillet").params.__setitem__("edges", ">Z"),
    "thickness": lambda g: g.node("shell").params.__setitem__("thickness", 3),
    "L": lambda g: g.parameters.__setitem__("L", 99),
    "label": lambda g: g._replace_node(replace(g.document.node("box"), label="base plate")),
    "move": lambda g: g._replace_node(replace(g.document.node("shell"), position=(400.0, 50.0))),
    "add": lambda g: g.add("Solid::Sphere", id="ball", radius=5),
    "units": lambda g: g._set_document(replace(g.document, units="in")),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sets(st.sampled_from(sorted(ATOM_EDITS)), max_size=4), st.sets(st.sampled_from(sorted(ATOM_EDITS)), max_size=4)
)
def test_property_disjoint_edits_merge_to_both_and_either_order_agrees(mine, yours):
    """Edits of different atoms never conflict, all of them survive, and the merge is symmetric."""
    yours = yours - mine
    base = base_graph().document

    def apply(names):
        def fn(g):
            for name in sorted(names):
                ATOM_EDITS[name](g)

        return fn

    ours, theirs = edit(base, apply(mine)), edit(base, apply(yours))
    both = edit(base, apply(mine | yours))
    forward, backward = merge(base, ours, theirs), merge(base, theirs, ours)
    assert forward.clean and backward.clean
    assert diff(forward.document, both).equal, diff(forward.document, both).lines()
    assert diff(backward.document, both, positions=True).equal


def test_cli_diff_and_merge_exit_codes_and_json(tmp_path):
    base = base_graph()
    base.save(tmp_path / "base.bflow.json")
    ours = edit(base.document, lambda g: g.node("fillet").params.__setitem__("radius", 3))
    theirs = edit(base.document, lambda g: g.parameters.__setitem__("L", 150))
    bflow.dump(ours, tmp_path / "ours.bflow.json")
    bflow.dump(theirs, tmp_path / "theirs.bflow.json")
    same = cli("diff", str(tmp_path / "base.bflow.json"), str(tmp_path / "base.bflow.json"))
    assert same.returncode == 0 and "the same graph" in same.stdout
    changed = cli("diff", str(tmp_path / "base.bflow.json"), str(tmp_path / "ours.bflow.json"))
    assert changed.returncode == 1 and "~ fillet.params.radius: 1 → 3" in changed.stdout
    as_json = json.loads(
        cli("diff", str(tmp_path / "base.bflow.json"), str(tmp_path / "ours.bflow.json"), "--json").stdout
    )
    assert as_json["equal"] is False and as_json["changes"][0]["to"] == 3
    out = tmp_path / "merged.bflow.json"
    merged = cli("merge", *(str(tmp_path / f"{n}.bflow.json") for n in ("base", "ours", "theirs")), "-o", str(out))
    assert merged.returncode == 0, merged.stderr
    doc = Graph.load(out).document
    assert doc.node("fillet").params["radius"] == 3 and doc.parameters["L"].value == 150
    bad = cli("diff", str(tmp_path / "base.bflow.json"), str(tmp_path / "missing.bflow.json"))
    assert bad.returncode == 10


def test_git_uses_merge_as_its_merge_driver(tmp_path):
    """Two branches edit one graph: git merges it with brepflow-lab merge (clean, then a conflict)."""
    if shutil.which("git") is None:  # pragma: no cover - git is on every CI machine (Debian)
        raise AssertionError("git is needed for this test (apt-get install git)")
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "a@example.com")
    git("config", "user.name", "A")
    driver = f"{sys.executable} -m brepflow_lab.cli merge %O %A %B -o %A"
    git("config", "merge.brepflow.driver", driver)
    (repo / ".gitattributes").write_text("*.bflow.json merge=brepflow\n")
    base_graph().save(repo / "part.bflow.json")
    git("add", ".")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "alice")
    g = Graph.load(repo / "part.bflow.json")
    g.node("fillet").params["radius"] = 3
    g.save()
    git("commit", "-qam", "alice: radius 3")
    git("checkout", "-q", "main")
    g = Graph.load(repo / "part.bflow.json")
    g.parameters["L"] = 150
    g.node("fillet").params["edges"] = ">Z"
    g.save()
    git("commit", "-qam", "bob: L 150, top edges")
    merged = git("merge", "-q", "alice", "-m", "merge alice")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    doc = Graph.load(repo / "part.bflow.json").document
    assert doc.parameters["L"].value == 150 and doc.node("fillet").params == {"radius": 3, "edges": ">Z"}
    # a real conflict: both change the radius
    git("checkout", "-qb", "carol")
    g = Graph.load(repo / "part.bflow.json")
    g.node("fillet").params["radius"] = 4
    g.save()
    git("commit", "-qam", "carol: radius 4")
    git("checkout", "-q", "main")
    g = Graph.load(repo / "part.bflow.json")
    g.node("fillet").params["radius"] = 5
    g.save()
    git("commit", "-qam", "main: radius 5")
    conflicted = git("merge", "carol", "-m", "merge carol")
    assert conflicted.returncode != 0
    assert "fillet.params.radius" in conflicted.stdout + conflicted.stderr
    # the file is still a valid graph (ours kept) and git lists it as unmerged
    assert Graph.load(repo / "part.bflow.json").document.node("fillet").params["radius"] == 5
    assert "part.bflow.json" in git("diff", "--name-only", "--diff-filter=U").stdout
