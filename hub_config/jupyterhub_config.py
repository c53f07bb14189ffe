"""JupyterHub configuration of BrepFlow Lab — thin on purpose.

Every setting lives in ``hub.yaml`` beside this file (or the file named by $BREPFLOW_HUB_CONFIG),
documented key by key; ``brepflow_lab.hub.config`` checks it and ``brepflow_lab.hub.wiring``
applies it. Start with::

    brepflow-lab hub --config hub_config/hub.yaml
or  jupyterhub -f hub_config/jupyterhub_config.py
"""

from pathlib import Path

from brepflow_lab.hub.wiring import configure

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - provided by JupyterHub
configure(c, default_dir=Path(__file__).resolve().parent)
