"""The benchmark corpus: models of different character, each as a graph and as a hand-written script.

``benchmarks/models/NAME.bflow.json`` is the graph a user would build (regenerate them with
``python benchmarks/models/make_graphs.py``); ``benchmarks/models/NAME.py`` is the same
model written by hand with cadquery, doing the same OCCT operations. A script module has:

* ``build(**parameters)`` returning the shape; its keyword arguments are the graph's global
  parameters, with the same defaults;
* ``RESULT_NODE``: the id of the graph node whose ``shape`` output is the model;
* ``TEST_PARAMETERS``: overrides that make a smaller variant for the tests (may be empty);
* optionally ``prepare(folder, test=False)``, which writes the files the graph reads (the
  STEP file of ``imported_step``) into ``folder``; ``build`` then also takes ``folder``.

Used by ``benchmarks/bench_engine.py`` (timings) and ``tests/test_benchmark_models.py``
(behaviour: the engine's result matches the script's).
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

MODELS_DIR = Path(__file__).resolve().parent / "models"
VOLUME_REL_TOL = 1e-6


@dataclass
class Model:
    name: str
    graph_path: Path
    script: ModuleType

    @property
    def result_node(self) -> str:
        return str(self.script.RESULT_NODE)

    @property
    def test_parameters(self) -> dict[str, Any]:
        return dict(getattr(self.script, "TEST_PARAMETERS", {}))

    @property
    def needs_files(self) -> bool:
        return hasattr(self.script, "prepare")

    def prepare(self, folder: Path, *, test: bool = False) -> None:
        """Write the files the graph reads into ``folder`` (nothing for most models)."""
        if self.needs_files:
            self.script.prepare(folder, test=test)

    def graph(self, folder: Path | None = None) -> Any:
        """The graph, loaded from ``folder`` (a copy, beside its prepared files) when it reads files."""
        from brepflow_lab import Graph

        path = self.graph_path
        if self.needs_files:
            if folder is None:
                raise ValueError(f"model {self.name} reads files: give the folder they were prepared in")
            path = Path(shutil.copyfile(self.graph_path, Path(folder) / self.graph_path.name))
        return Graph.load(path)

    def build(self, folder: Path | None = None, parameters: dict[str, Any] | None = None) -> Any:
        """The hand-written script's shape."""
        kwargs = dict(parameters or {})
        if self.needs_files:
            kwargs["folder"] = folder
        return self.script.build(**kwargs)


def _import_script(path: Path) -> ModuleType:
    if str(MODELS_DIR) not in sys.path:
        sys.path.insert(0, str(MODELS_DIR))  # scripts may import each other (hole_grid_fillet.holes)
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_models(names: list[str] | None = None) -> list[Model]:
    """Every ``NAME.bflow.json`` in ``benchmarks/models`` with its ``NAME.py`` (only ``names`` if given)."""
    models = []
    for graph_path in sorted(MODELS_DIR.glob("*.bflow.json")):
        name = graph_path.name.removesuffix(".bflow.json")
        if names and not any(n in name for n in names):
            continue
        script = graph_path.with_name(f"{name}.py")
        if not script.exists():
            raise FileNotFoundError(f"{graph_path.name} has no hand-written script {script.name}")
        models.append(Model(name, graph_path, _import_script(script)))
    return models


def fresh_evaluator() -> Any:
    """An evaluator with its own empty cache (sized like the one Graph uses): a cold evaluation."""
    from brepflow_lab.engine import Evaluator, MemoryCache
    from brepflow_lab.kernel.sizing import outputs_nbytes
    from brepflow_lab.nodes import catalogue

    return Evaluator(catalogue, cache=MemoryCache(sizeof=outputs_nbytes))


def describe(shape: Any) -> dict[str, Any]:
    return {"valid": shape.isValid(), "volume": shape.Volume(), "faces": len(shape.Faces())}


def compare(engine: Any, script: Any) -> list[str]:
    """What differs between the engine's shape and the script's: validity, volume (rel 1e-6), face count."""
    e, s = describe(engine), describe(script)
    problems = []
    if not e["valid"]:
        problems.append("the engine's shape is INVALID")
    if not s["valid"]:
        problems.append("the script's shape is INVALID")
    if not math.isclose(e["volume"], s["volume"], rel_tol=VOLUME_REL_TOL):
        problems.append(f"volume engine {e['volume']:.6f} != script {s['volume']:.6f}")
    if e["faces"] != s["faces"]:
        problems.append(f"faces engine {e['faces']} != script {s['faces']}")
    return problems
