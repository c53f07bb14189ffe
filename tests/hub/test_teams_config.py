"""hub.yaml is the documentation: every key has help and the shipped file equals the defaults;
bad files fail with every problem listed; apply() wires JupyterHub as documented."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from traitlets.config import Config

from brepflow_lab.hub.config import (
    HubConfigError,
    Settings,
    describe,
    load_settings,
    to_dict,
    user_role,
    user_teams,
)
from brepflow_lab.hub.wiring import apply

from .conftest import ROOT

HUB_YAML = ROOT / "hub_config" / "hub.yaml"


def test_shipped_hub_yaml_equals_the_built_in_defaults():
    assert to_dict(load_settings(HUB_YAML)) == to_dict(Settings())
    assert yaml.safe_load(HUB_YAML.read_text()) == to_dict(Settings())


def test_every_key_has_help_and_a_comment_in_hub_yaml():
    lines = HUB_YAML.read_text().splitlines()
    for key, _default, help_text in describe():
        assert len(help_text) > 10, key
        leaf = key.split(".")[-1]
        depth = key.count(".")
        pattern = re.compile(rf"^{'  ' * depth}{re.escape(leaf)}:")
        found = [i for i, line in enumerate(lines) if pattern.match(line)]
        assert found, f"{key} is missing from hub.yaml"
        above = lines[found[0] - 1].strip()
        assert above.startswith("#"), f"{key} has no comment above it in hub.yaml"


def test_jupyterhub_config_py_stays_thin():
    code = [
        line
        for line in (ROOT / "hub_config" / "jupyterhub_config.py").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert len(code) < 20


def test_settings_model_imports_no_wiring_and_the_old_import_path_still_works():
    # jupyterhub_config.py files written before the split do `from brepflow_lab.hub.config import configure`
    code = (
        "import sys, brepflow_lab.hub.config as config\n"
        "assert 'brepflow_lab.hub.wiring' not in sys.modules\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'jupyterhub'], 'jupyterhub imported'\n"
        "from brepflow_lab.hub.config import apply, configure\n"
        "from brepflow_lab.hub import wiring\n"
        "assert configure is wiring.configure and apply is wiring.apply\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_problem_is_reported_at_once(tmp_path):
    bad = tmp_path / "hub.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "hub": {"prot": 8000, "hub_port": "eighty"},
                "teams": {"designers": {}, "Bad Name": {}},
                "roles": {"viewer": {"group": "viewers", "scopes": ["acess:services"]}},
                "authentication": {"type": "oauth", "oauth": {"client_id": ""}},
                "culler": {"timeout": 5},
            }
        )
    )
    with pytest.raises(HubConfigError) as info:
        load_settings(bad)
    text = str(info.value)
    assert "hub.prot: unknown key (did you mean 'port'?)" in text
    assert "hub.hub_port: expected a whole number" in text
    assert "teams.designers: a team may not be named like a role group" in text
    assert "teams.Bad Name" in text
    assert "unknown or meta scope 'acess:services'" in text and "did you mean 'access:services'" in text
    assert "authentication.oauth.client_id: required" in text
    assert "culler: timeout must be at least 30 s" in text
    assert len(info.value.problems) >= 7


def test_admin_role_cannot_be_redefined(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump({"roles": {"admin": {"scopes": ["admin:users"]}}}))
    with pytest.raises(HubConfigError, match="admin role cannot be changed"):
        load_settings(path)


def test_apply_wires_roles_services_culler_and_spawner(tmp_path):
    settings = load_settings(
        None,
        {
            "hub": {"state_dir": str(tmp_path)},
            "culler": {"timeout": 120},
            "teams": {"engineering": {"members": ["alice"]}},
            "roles": {
                "viewer": {
                    "group": "viewers",
                    "members": ["victor"],
                    "scopes": ["access:services!service=brepflow-viewer"],
                }
            },
        },
    )
    assert settings.activity_interval == 40  # timeout/3: servers in use report often enough not to be culled
    c = Config()
    apply(c, settings)
    hub = c.JupyterHub
    assert hub.spawner_class == "brepflow_lab.hub.spawner.BrepFlowSpawner"
    assert hub.authenticator_class == "brepflow_lab.hub.auth.BrepFlowLocalAuthenticator"
    assert hub.last_activity_interval == 40
    assert c.Spawner.environment["JUPYTERHUB_ACTIVITY_INTERVAL"] == "40"
    assert "--ServerApp.jpserver_extensions=brepflow_lab.hub.server_ext=True" in c.Spawner.args
    roles = {r["name"]: r for r in hub.load_roles}
    assert "admin" not in roles  # JupyterHub's own admin role, given by the admin flag
    assert roles["designer"]["groups"] == ["designers"] and roles["viewer"]["groups"] == ["viewers"]
    assert roles["idle-culler"]["services"] == ["idle-culler"]
    assert set(roles["idle-culler"]["scopes"]) == {
        "list:users",
        "read:users:activity",
        "read:servers",
        "delete:servers",
    }
    services = {s["name"]: s for s in hub.services}
    assert "--timeout=120" in services["idle-culler"]["command"]
    assert services["brepflow-viewer"]["url"].startswith("http://127.0.0.1:")
    groups = hub.load_groups
    assert groups["engineering"] == {"users": ["alice"], "properties": {"kind": "team", "description": ""}}
    assert groups["viewers"]["users"] == ["victor"] and groups["viewers"]["properties"]["kind"] == "role"
    handlers = dict(hub.extra_handlers)
    assert r"/api/brepflow/audit/([^/]+)" in handlers
    assert c.BrepFlowSpawner.quota_table == settings.quotas
    assert hub.db_url == f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"


class _Group:
    def __init__(self, name: str) -> None:
        self.name = name


class _User:
    def __init__(self, groups: list[str], admin: bool = False) -> None:
        self.groups = [_Group(g) for g in groups]
        self.admin = admin


def test_user_teams_and_role():
    s = Settings()
    assert user_teams(_User(["engineering", "designers", "marketing"]), s) == ["engineering", "marketing"]
    assert user_role(_User(["engineering", "viewers"]), s) == "viewer"
    assert user_role(_User(["designers"]), s) == "designer"
    assert user_role(_User(["viewers"], admin=True), s) == "admin"
    assert user_role(_User(["engineering"]), s) == "none"
