"""A start-up check in the Jupyter server: is live collaboration on graphs really wired?

jupyter-collaboration falls back silently: a content type with no ``jupyter_ydoc`` entry point
in the *server's* environment becomes a plain text room (``YDOCS.get(type, YFILE)``), and two
people then edit JSON text instead of a graph. This extension says at start-up, in the server
log, which of three states the server is in:

* collaboration on, and ``bflow`` is :class:`~brepflow_lab.collab.ydoc.YGraph`: Studio tabs on
  one file share one live document;
* collaboration on but ``bflow`` missing or another class: an ERROR naming the fix (install
  brepflow-lab in the server's environment); the Studio tab shows the same error and stays
  closed, so nothing is edited as text;
* collaboration off (jupyter-server-ydoc not enabled): each Studio tab edits the file alone.

``brepflow-lab lab`` enables it; for a plain ``jupyter lab`` pass
``--ServerApp.jpserver_extensions=brepflow_lab.collab.server=True`` (or ``jupyter server
extension enable brepflow_lab.collab.server``). The browser side checks for itself in any case.
"""

from __future__ import annotations

from typing import Any

CONTENT_TYPE = "bflow"


def collaboration_state(enabled_extensions: dict[str, bool]) -> tuple[str, str]:
    """(level, message) for the server log: ``info`` when all is well, else ``error``/``warning``."""
    if not enabled_extensions.get("jupyter_server_ydoc", False):
        return (
            "warning",
            "BrepFlow Lab: real-time collaboration is OFF (jupyter-collaboration's jupyter_server_ydoc is not "
            "enabled): each Studio tab edits its file alone",
        )
    from jupyter_ydoc import ydocs

    from brepflow_lab.collab.ydoc import YGraph

    found = ydocs.get(CONTENT_TYPE)
    if found is not YGraph:
        what = "missing" if found is None else f"{found.__module__}.{found.__qualname__}"
        return (
            "error",
            f"BrepFlow Lab: the jupyter_ydoc entry point {CONTENT_TYPE!r} is {what} in this server's environment, "
            "so graph files would open as plain text rooms. Reinstall brepflow-lab here (pip install brepflow-lab) "
            "and restart the server; until then Studio tabs refuse to open shared graphs.",
        )
    return "info", "BrepFlow Lab: real-time collaboration is on; Studio tabs on one graph file share one document"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "brepflow_lab.collab.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    enabled = dict(getattr(serverapp, "jpserver_extensions", {}) or {})
    level, message = collaboration_state(enabled)
    getattr(serverapp.log, level)(message)
