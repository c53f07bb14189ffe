"""The bottom layer: what every other layer may use, importing nothing else of ours.

* :mod:`.errors` — typed errors with stable codes (``brepflow_lab.errors`` re-exports them);
* :mod:`.ports` — the port type hierarchy and the one compatibility rule;
* :mod:`.units` — the table of length and angle units;
* :mod:`.env` — the ``BREPFLOW_*`` environment contract (every name; :class:`~.env.KernelLimits`);
* :mod:`.version` — the package version.

``tests/test_layers.py`` checks that nothing here imports another part of brepflow_lab.
"""
