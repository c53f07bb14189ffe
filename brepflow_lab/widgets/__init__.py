"""Jupyter widgets: the Studio (node editor + 3D viewer + inspector in one anywidget).

>>> from brepflow_lab.widgets import Studio, open
>>> studio = open("part.bflow.json")   # edits autosave back to the file
>>> studio = Studio(graph)              # a Graph you built in Python

The wire protocol between this package and the browser is PROTOCOL.md in this folder.
"""

from brepflow_lab.widgets.studio import STATIC_DIR, FrontendNotBuiltError, Studio, open

__all__ = ["STATIC_DIR", "FrontendNotBuiltError", "Studio", "open"]
