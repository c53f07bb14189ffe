"""Third-party node packs through the real entry-point machinery (no mocks).

Each test builds a tiny installed distribution in a temporary folder — the pack's module
(copied from ``tests/plugin_pack/``) plus ``<name>-0.1.dist-info/`` with ``METADATA`` and
an ``entry_points.txt`` in the group ``brepflow_lab.nodes`` — and puts the folder on
``sys.path`` (for subprocesses: on ``PYTHONPATH``). ``importlib.metadata`` then finds the
entry point exactly as it would for a pip-installed pack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from brepflow_lab import Evaluator, Graph, MemoryCache, catalogue
from brepflow_lab.errors import ErrorCode
from brepflow_lab.nodes import ENTRY_POINT_GROUP, Registry

PACK_DIR = Path(__file__).resolve().parent.parent / "plugin_pack"
PACK_MODULES = ("bfl_testpack", "bfl_modpack", "bfl_brokenpack")
BUILTIN_TYPES = frozenset(catalogue.types())  # also loads the process-wide catalogue now


def make_distribution(root: Path, name: str, module: str, entry_points: dict[str, str]) -> Path:
    """Install ``module`` (from tests/plugin_pack) as distribution ``name`` into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PACK_DIR / f"{module}.py", root / f"{module}.py")
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"  # dist-info folders use the normalised name
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{ep} = {value}" for ep, value in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for distributions; forgets the pack modules afterwards."""
    assert catalogue.types()  # the global catalogue is loaded before our packs are visible
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for module in PACK_MODULES:
        sys.modules.pop(module, None)
    catalogue.unregister("ModPack::Triple")


def cli(*args: str, pythonpath: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``brepflow-lab`` console script (same interpreter) in a subprocess."""
    script = Path(sys.executable).with_name("brepflow-lab")
    command = [str(script)] if script.is_file() else [sys.executable, "-c", "from brepflow_lab.cli import main; main()"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)


# --------------------------------------------------------------------------- callable packs


def test_callable_pack_registers_into_a_fresh_registry(site: Path) -> None:
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    reg = Registry()
    assert "TestPack::Double" in reg  # the lazy load runs the entry point
    spec = reg["TestPack::Double"]
    assert spec.source == "bfl_testpack"
    assert spec.description == "Twice x (plus the optional input)."
    assert [p.name for p in spec.params] == ["x"]
    assert "TestPack::Volume" in reg
    assert reg.plugin_errors == []
    # the pack registered into the registry it was given, not into the global catalogue
    assert "TestPack::Double" not in catalogue


def test_plugin_node_evaluates_in_a_graph(site: Path) -> None:
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    reg = Registry()
    g = Graph(registry=reg, evaluator=Evaluator(reg, cache=MemoryCache()))
    g.parameters["k"] = 4
    a = g.add("TestPack::Double", x=3)
    b = g.add("TestPack::Double", x="@k + 1")
    g.connect(a, "value", b, "value")
    r = g.evaluate()
    assert r.ok, r.errors
    assert r.output(a.id) == 6
    assert r.output(b.id) == 2 * (5 + 6)
    # edits re-run only what changed; the rest comes from the cache
    g.parameters["k"] = 0
    r = g.evaluate()
    assert r.output(b.id) == 2 * (1 + 6)
    assert (r.status(a.id), r.status(b.id)) == ("cached", "ok")
    # the spec's limits apply to plugin params like to built-in ones
    a.params["x"] = 5000
    r = g.evaluate()
    assert r.status(a.id) == "failed" and r.status(b.id) == "skipped"
    assert r.nodes[a.id].error is not None and r.nodes[a.id].error.code is ErrorCode.PARAM_INVALID


def test_plugin_survives_the_file_form(site: Path, tmp_path: Path) -> None:
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    reg = Registry()
    g = Graph(registry=reg, evaluator=Evaluator(reg, cache=MemoryCache()))
    g.add("TestPack::Double", id="d", x=2.5)
    path = g.save(tmp_path / "pack.bflow.json")
    loaded = Graph.load(path, registry=reg, evaluator=Evaluator(reg, cache=MemoryCache()))
    assert loaded.validate() == []
    assert loaded.evaluate().output("d") == 5.0


def test_fresh_registry_has_builtins_next_to_plugins(site: Path) -> None:
    """``Registry()`` loads lazily: built-ins first, then plugins (registry docstring)."""
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    reg = Registry()
    assert "TestPack::Double" in reg
    missing = sorted(BUILTIN_TYPES - set(reg.types()))
    assert not missing, f"a fresh Registry() lacks {len(missing)} built-in node types, e.g. {missing[:5]}"


def test_pack_installed_into_a_running_process_loads_on_reload(site: Path) -> None:
    reg = Registry()
    assert "TestPack::Double" not in reg  # loaded before the pack exists
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    assert "TestPack::Double" not in reg  # plugins load once...
    assert reg.reload_plugins() == ["TestPack::Double", "TestPack::Volume"]  # ...until asked again
    assert "TestPack::Double" in reg
    assert reg.reload_plugins() == []


# --------------------------------------------------------------------------- broken packs


def test_broken_pack_warns_and_is_recorded(site: Path) -> None:
    make_distribution(site, "bfl-brokenpack", "bfl_brokenpack", {"brokenpack": "bfl_brokenpack:register"})
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    reg = Registry()
    with pytest.warns(RuntimeWarning, match=r"node pack 'brokenpack' \(bfl_brokenpack:register\) failed to load"):
        types = reg.types()
    assert len(reg.plugin_errors) == 1
    assert "brokenpack" in reg.plugin_errors[0]
    assert "no-such-dependency" in reg.plugin_errors[0]  # the cause is in the message
    assert "TestPack::Double" in types  # the other pack still loads
    # plugins load once: asking again neither warns nor records the error twice
    assert "TestPack::Volume" in reg
    assert len(reg.plugin_errors) == 1


def test_broken_pack_does_not_hide_the_builtin_catalogue(site: Path) -> None:
    make_distribution(site, "bfl-brokenpack", "bfl_brokenpack", {"brokenpack": "bfl_brokenpack"})
    reg = Registry()
    with pytest.warns(RuntimeWarning, match="brokenpack"):
        types = set(reg.types())
    missing = sorted(BUILTIN_TYPES - types)
    assert not missing, f"with a broken pack installed, a fresh Registry() lacks {missing[:5]} ..."


def test_entry_point_naming_a_missing_attribute_is_reported(site: Path) -> None:
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"typo": "bfl_testpack:regster"})
    reg = Registry()
    with pytest.warns(RuntimeWarning, match="typo"):
        len(reg)
    assert len(reg.plugin_errors) == 1 and "regster" in reg.plugin_errors[0]


# --------------------------------------------------------------------------- module packs


def test_module_pack_registers_into_the_catalogue_at_import(site: Path) -> None:
    make_distribution(site, "bfl-modpack", "bfl_modpack", {"modpack": "bfl_modpack"})
    assert "ModPack::Triple" not in catalogue
    reg = Registry()
    len(reg)  # the lazy load imports the module; its @node registers into the global catalogue
    assert reg.plugin_errors == []
    assert "bfl_modpack" in sys.modules
    assert "ModPack::Triple" in catalogue
    spec = catalogue["ModPack::Triple"]
    assert spec.source == "bfl_modpack"
    g = Graph.new()
    g.evaluator = Evaluator(catalogue, cache=MemoryCache())
    t = g.add("ModPack::Triple", x=7)
    assert g.evaluate().output(t.id) == 21
    # (the site fixture unregisters ModPack::Triple again)


# --------------------------------------------------------------------------- command line


def test_cli_nodes_json_lists_the_plugin_with_its_spec(site: Path, tmp_path: Path) -> None:
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    proc = cli("nodes", "--json", pythonpath=site, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = {n["type"]: n for n in json.loads(proc.stdout)["nodes"]}
    expected = Registry()["TestPack::Double"].to_dict()
    assert listed["TestPack::Double"] == expected
    assert listed["TestPack::Double"]["source"] == "bfl_testpack"
    assert listed["TestPack::Double"]["params"][0] == {
        "name": "x",
        "kind": "number",
        "default": 1.0,
        "dimension": "none",
        "help": "the number to double",
        "label": "x",
        "min": -1000,
        "max": 1000,
    }
    assert set(listed) >= BUILTIN_TYPES  # the process-wide catalogue: built-ins and the pack


def test_cli_nodes_with_a_broken_pack_still_lists_the_builtins(site: Path, tmp_path: Path) -> None:
    make_distribution(site, "bfl-brokenpack", "bfl_brokenpack", {"brokenpack": "bfl_brokenpack"})
    proc = cli("nodes", "--json", pythonpath=site, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "brokenpack" in proc.stderr and "RuntimeWarning" in proc.stderr
    listed = {n["type"] for n in json.loads(proc.stdout)["nodes"]}
    assert listed == BUILTIN_TYPES


def test_cli_renders_a_graph_mixing_plugin_and_builtin_nodes(site: Path, tmp_path: Path) -> None:
    make_distribution(site, "bfl-testpack", "bfl_testpack", {"testpack": "bfl_testpack:register"})
    graph = {
        "version": "0.1.0",
        "units": "mm",
        "tolerance": 0.001,
        "parameters": {"L": {"value": 10}},
        "nodes": [
            {"id": "box", "type": "Solid::Box", "inputs": {}, "params": {"width": "@L", "height": 2, "depth": 3}},
            {"id": "vol", "type": "TestPack::Volume", "inputs": {"solid": {"nodeId": "box", "socketId": "shape"}}},
        ],
        "edges": [{"id": "e1", "source": "box", "sourceHandle": "shape", "target": "vol", "targetHandle": "solid"}],
    }
    path = tmp_path / "mixed.bflow.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    proc = cli("render", str(path), "--set", "L=20", "--export", "brep", "--out", "out", pythonpath=site, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["nodes"]["box"]["status"] == "ok"
    assert manifest["nodes"]["vol"]["status"] == "ok"
    assert manifest["parameters"]["L"] == 20
