"""Browser tests of the Studio (JupyterLab + Chromium); run with `pytest -m browser`."""
