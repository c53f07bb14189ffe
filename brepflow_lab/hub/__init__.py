"""BrepFlow Lab on JupyterHub: teams share one hub, each member in their own JupyterLab.

Modules (one concept each; none imports JupyterHub at package import time):

* :mod:`~brepflow_lab.hub.config` — ``hub.yaml`` as documented dataclasses (the settings model)
* :mod:`~brepflow_lab.hub.wiring` — applies those settings to JupyterHub (``jupyterhub_config.py``)
* :mod:`~brepflow_lab.hub.auth` — local accounts (sign-up, approval, password policy, lock-out)
  and OAuth2/OIDC (provider groups → teams), both recording to the audit log
* :mod:`~brepflow_lab.hub.accounts` — password policy, scrypt hashes, the local account table
* :mod:`~brepflow_lab.hub.audit` — the append-only JSON-lines audit log
* :mod:`~brepflow_lab.hub.server_ext` — single-user server extension: graph saves → audit
* :mod:`~brepflow_lab.hub.viewer_service` — read-only team graphs with their 3D model
* :mod:`~brepflow_lab.hub.backup` — consistent backup / restore of database, config and files
* :mod:`~brepflow_lab.hub.spawner`, :mod:`~brepflow_lab.hub.quota`, :mod:`~brepflow_lab.hub.users`,
  :mod:`~brepflow_lab.hub.disk` — per-user Unix accounts, cgroups, disk limits and quotas
* :mod:`~brepflow_lab.hub.cli` — ``brepflow-lab hub ...``
"""

from __future__ import annotations

__all__: list[str] = []
