from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.demo_nodes import make_registry

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def registry():
    return make_registry()


@pytest.fixture
def data_dir() -> Path:
    return DATA
