"""In a real browser: a save past the disk quota shows a clear message in JupyterLab.

The hub is the one of ``test_isolation`` (BrepFlowSpawner, one Unix account per user, a
48M loop-mounted ext4 home each; its ``hub`` fixture is imported, so this module gets a hub
of its own, stopped at the end of the module). alice logs in through the hub's login page
in Debian's Chromium (Playwright) and lands in the JupyterLab her server runs as
``bfq-alice``. Everything she saves goes through the JupyterLab UI (launcher → text file,
typing or pasting, Ctrl+S, the "Rename file" dialog of a first save); only the filler that
brings her home close to its limit is written from a kernel of hers, as a big export would
be. The second test goes on from the files the first one saved (they share one page).

What the user sees is read from the page: the "File Save Error for draft.txt" dialog with the
server's 507 message (jupyter_server sends it as the reply's ``message``, which JupyterLab
shows as is). A failed step adds a screenshot of the page (in the test's tmp dir) to the error.

Playwright lives in a module-scoped fixture that is fully closed at the end of the module:
a live sync-Playwright loop would break ``asyncio.run()`` in the hub tests that run later.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import CHROMIUM, chromium

if os.geteuid() != 0 or not Path("/sys/fs/cgroup").is_dir():
    pytest.skip(
        "the BrepFlow spawner needs root (Unix accounts, loop mounts, cgroups under /sys/fs/cgroup): run the tests as root",
        allow_module_level=True,
    )
if shutil.which("mkfs.ext4") is None or not Path("/dev/loop-control").exists():
    pytest.skip(
        "disk quotas need mkfs.ext4 and loop devices: `apt-get install e2fsprogs` and a host with /dev/loop-control",
        allow_module_level=True,
    )
if shutil.which("configurable-http-proxy") is None:
    pytest.skip(
        "configurable-http-proxy is missing (a real hub needs its proxy): npm install -g configurable-http-proxy",
        allow_module_level=True,
    )
if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-liberation (never `playwright install`)",
        allow_module_level=True,
    )

from tests.hub import test_isolation as isolation
from tests.hub.test_isolation import PASSWORD, Hub, Kernel

hub = isolation.hub  # the same real hub fixture (module-scoped: this module gets its own hub)

pytestmark = pytest.mark.browser

USER = "alice"
NOTES = "precious design notes\nbracket v3: wall 2 mm, fillet 1 mm\n"
DRAFT = "draft v1: hinge pin 4 mm\n"
LEFT_FREE = 256 * 1024  # what the filler leaves free in alice's home
EDIT = "".join(f"{i:06d} more hinge notes, more hinge notes, more hinge notes, more!\n" for i in range(12_000))


@dataclass
class Lab:
    """alice's JupyterLab in Chromium, reached through the hub's login page."""

    hub: Hub
    page: Any
    home: Path
    errors: list[str] = field(default_factory=list)

    def dialog(self) -> Any:
        return self.page.locator(".jp-Dialog").last

    def current_tab(self) -> Any:
        return self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")

    def new_text_file(self, text: str, name: str) -> None:
        """Launcher → "Text File", type ``text``, Ctrl+S, name it ``name`` in the first-save dialog."""
        page = self.page
        with step(f"{name}: open a launcher and create a text file"):
            page.locator(".lm-DockPanel-tabBar .lm-TabBar-addButton").first.click()  # the tab bar's "+"
            page.locator('.jp-LauncherCard[title="Create a new text file"]:visible').first.click()
            self.current_tab().filter(has_text=re.compile(r"untitled.*\.txt")).wait_for()
            content = page.locator(".jp-FileEditor:visible .cm-content")
            content.click()
            page.locator(".jp-FileEditor:visible .cm-editor.cm-focused").wait_for()
        with step(f"{name}: type the text"):
            page.keyboard.type(text)
            self.current_tab().and_(page.locator(".jp-mod-dirty")).wait_for()
        with step(f"{name}: Ctrl+S and name the file in the first-save dialog"):
            page.keyboard.press("Control+s")
            dialog = self.dialog()
            dialog.wait_for()
            dialog.locator("input").first.fill(name)
            dialog.locator("button.jp-mod-accept").click()
            dialog.wait_for(state="detached")
        with step(f"{name}: wait for it on disk"):
            self.wait_saved(name, text)

    def wait_saved(self, name: str, text: str, timeout: float = 30) -> None:
        path = self.home / name
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.read_text() == text:
                return
            time.sleep(0.1)
        raise AssertionError(
            f"{path} does not hold what was typed: {path.read_text() if path.exists() else 'missing'!r}"
        )


@pytest.fixture(scope="module")
def lab(hub: Hub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        session = Lab(hub, page, hub.layout.home(USER))
        page.on("pageerror", lambda exc: session.errors.append(str(exc)))
        try:
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", USER)
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            # the hub spawns alice's server (BrepFlowSpawner) and sends her to her JupyterLab
            page.wait_for_url(f"**/user/{USER}/lab**", timeout=240_000)
            page.locator(".jp-LabShell").wait_for()
            page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=120_000)  # restored
            page.locator(".jp-LauncherCard").first.wait_for()
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path_factory.mktemp("failure") / "login.png"))
            raise
        yield session


def paste(target: Any, text: str) -> None:
    """Paste ``text`` into ``target`` as Ctrl+V does: a ``paste`` event carrying the text.

    (Typing or ``keyboard.insert_text`` of a few hundred KiB makes CodeMirror re-read the
    DOM for minutes under software rendering; its paste handler takes the text at once.)
    """
    target.evaluate(
        """(el, text) => {
          const data = new DataTransfer();
          data.setData('text/plain', text);
          el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        text,
    )


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Name the step a failure happened in (a Playwright timeout only names its locator)."""
    try:
        yield
    except BaseException as exc:
        exc.add_note(f"while: {what}")
        raise


@contextlib.contextmanager
def screenshot_on_failure(lab: Lab, tmp_path: Path) -> Iterator[None]:
    """On a failure, save what the page showed into the test's tmp dir (and say where)."""
    try:
        yield
    except BaseException as exc:
        path = tmp_path / "failure.png"
        with contextlib.suppress(Exception):
            lab.page.screenshot(path=str(path))
            exc.add_note(f"screenshot of the page: {path}; page errors: {lab.errors}")
        raise


def test_a_file_saved_in_jupyterlab_lands_in_the_users_home(lab: Lab, tmp_path: Path) -> None:
    with screenshot_on_failure(lab, tmp_path):
        assert lab.page.url.startswith(f"{lab.hub.url}/user/{USER}/lab")
        lab.new_text_file(NOTES, "notes.txt")
        lab.new_text_file(DRAFT, "draft.txt")
        for name in ("notes.txt", "draft.txt"):  # written by alice's server, as her account
            assert (lab.home / name).stat().st_uid == lab.home.stat().st_uid


def test_a_save_past_the_disk_quota_shows_the_message_and_keeps_saved_files(lab: Lab, tmp_path: Path) -> None:
    page, hub = lab.page, lab.hub
    if not (lab.home / "draft.txt").exists():
        pytest.fail("draft.txt was not saved: see test_a_file_saved_in_jupyterlab_lands_in_the_users_home")
    kernel = Kernel(hub, USER)
    try:
        with screenshot_on_failure(lab, tmp_path):
            # fill alice's home from her kernel (as a big export would), leaving LEFT_FREE bytes
            out = kernel.execute(
                "import os\nst = os.statvfs('.')\nfree = st.f_bavail * st.f_frsize\n"
                f"with open('filler.bin', 'wb') as f:\n    f.write(b'\\0' * (free - {LEFT_FREE}))\n"
                "os.sync()\nst = os.statvfs('.')\nprint(free, st.f_bavail * st.f_frsize)"
            )
            assert out["error"] is None, out
            before, after = map(int, out["stdout"].split())
            assert before < 48 * 1024**2 and after < len(EDIT) // 2, (before, after)

            # edit the saved draft in its editor so that it needs more space than is left, save
            tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").filter(has_text="draft.txt")
            tab.click()
            content = page.locator(".jp-FileEditor:visible .cm-content")
            content.click()
            page.keyboard.press("Control+End")
            paste(content, EDIT)
            page.keyboard.press("Control+s")

            # JupyterLab says why, in words, with the file's name
            dialog = lab.dialog()
            dialog.wait_for()
            title = dialog.locator(".jp-Dialog-header").inner_text()
            body = dialog.locator(".jp-Dialog-body").inner_text()
            assert title == "File Save Error for draft.txt", title
            assert body.startswith("Disk quota exceeded: could not save 'draft.txt'"), body
            assert "your home folder is full" in body and "Files already saved were not changed" in body, body
            dialog.locator(".jp-Dialog-footer button").last.click()
            dialog.wait_for(state="detached")

            # nothing already saved was lost or changed, and no partial file was left behind
            assert (lab.home / "notes.txt").read_text() == NOTES
            assert (lab.home / "draft.txt").read_text() == DRAFT
            leftovers = sorted(p.name for p in lab.home.iterdir() if p.name.startswith((".~", "~")))
            assert leftovers == [], leftovers
            # the edit itself is still in the editor, unsaved: once space is freed, Ctrl+S keeps it
            assert tab.locator("xpath=self::*[contains(@class, 'jp-mod-dirty')]").count() == 1
            assert hub.server(USER, "/api/contents/filler.bin", method="DELETE").status_code == 204
            content.click()
            page.keyboard.press("Control+s")
            lab.wait_saved("draft.txt", DRAFT + EDIT)
            assert page.locator(".jp-Dialog").count() == 0
    finally:
        with contextlib.suppress(Exception):
            kernel.execute("import os\nif os.path.exists('filler.bin'): os.remove('filler.bin')")
        kernel.close()
    # JupyterLab rethrows the failed save after showing its dialog: the only uncaught error
    assert all(error.startswith("Disk quota exceeded") for error in lab.errors), lab.errors
