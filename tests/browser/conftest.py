"""Fixtures for browser tests: a real JupyterLab server and a real Chromium (Playwright).

* ``lab`` (session): ``jupyter lab`` on a free 127.0.0.1 port in a temporary, isolated
  folder with ``JUPYTER_WIDGETS_ECHO=0`` for its kernels (see :mod:`tests.browser.lab`);
  stopped in teardown, even on failure.
* ``browser`` (session) / ``page`` (per test): the system Chromium (/usr/bin/chromium),
  never a downloaded one, with the flags that work on this machine.
* ``notebook``: writes a notebook into the server's root, opens and runs it in the page,
  and connects a second client to its kernel so a test can ask the Python side what the
  browser did.

On a failure, a screenshot of the page goes to tests/browser/screenshots/failure-*.png.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import helpers
from tests.browser.lab import CHROMIUM, Kernel, Lab, chromium, extension_installed, running_lab

__all__ = ["Kernel", "Lab"]

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not extension_installed():
        pytest.fail("the brepflow-lab JupyterLab extension is not installed: `pip install -e .` builds and installs it")
    with running_lab(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-liberation (never `playwright install`)"
        )
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any, lab: Lab) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 950}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def notebook(lab: Lab, page: Any) -> Iterator[helpers.NotebookRunner]:
    runner = helpers.NotebookRunner(lab, page)
    try:
        yield runner
    finally:
        runner.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failure, save what the browser showed (tests/browser/screenshots/failure-*.png)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    page = funcargs.get("page") or next((value.page for value in funcargs.values() if hasattr(value, "page")), None)
    if page is None:
        return
    with contextlib.suppress(Exception):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"failure-{item.name}.png"), full_page=False)
