"""The benchmark corpus builds the same shapes through the engine as its hand-written scripts.

Every graph in ``benchmarks/models`` is evaluated cold through the engine and compared with
its cadquery script (``build()``): both valid, same volume (rel 1e-6), same face count.
Behaviour, not timing: the timings live in ``benchmarks/bench_engine.py``. Large models run
in the smaller variant their script names (``TEST_PARAMETERS``; the STEP part with 8 × 8
pockets instead of 20 × 20).
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402

MODELS = corpus.load_models()


def test_the_corpus_has_models_of_every_kind():
    names = {m.name for m in MODELS}
    assert len(names) >= 8
    assert {"hole_grid_fillet", "perforated_plate", "enclosure", "loft_sweep", "pin_array"} <= names
    assert {"imported_step", "sketch_plate", "chamfered_block"} <= names
    # the STEP file is generated at run time, never committed
    assert not list(corpus.MODELS_DIR.glob("*.step"))


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_script_parameters_are_the_graphs(model: corpus.Model):
    """``build()`` takes the graph's global parameters, with the graph's values as defaults."""
    graph_parameters = {
        k: v["value"] for k, v in json.loads(model.graph_path.read_text()).get("parameters", {}).items()
    }
    defaults = {
        name: p.default
        for name, p in inspect.signature(model.script.build).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    assert defaults == graph_parameters
    assert set(model.test_parameters) <= set(graph_parameters)


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_engine_matches_the_hand_written_script(model: corpus.Model, tmp_path: Path):
    model.prepare(tmp_path, test=True)
    graph = model.graph(tmp_path)
    graph.evaluator = corpus.fresh_evaluator()
    result = graph.evaluate(parameters=model.test_parameters or None)
    assert result.ok, result.errors
    engine_shape = result[model.result_node]["shape"]
    script_shape = model.build(tmp_path, model.test_parameters)
    assert corpus.compare(engine_shape, script_shape) == []
