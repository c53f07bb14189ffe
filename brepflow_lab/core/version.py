"""The package version: the one place it is written.

``brepflow_lab.__version__``, ``brepflow-lab --version``, provenance records and the build
(hatch reads this file) all take it from here; ``labextension/package.json`` is checked
against it by the test suite.
"""

__version__ = "0.1.0"
