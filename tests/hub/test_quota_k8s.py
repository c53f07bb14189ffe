"""The Kubernetes example: generated Helm values, the per-user hook, dask-gateway options, Dockerfile.

No cluster is available here, so these tests check what can be checked without one: the
files load as YAML, they are exactly what hub.yaml generates (no drift), their limits match
the quota table, the embedded Python runs and resolves every user like
:func:`brepflow_lab.hub.quota.resolve` (against stand-in spawner/user objects, as KubeSpawner
is not installed), dask-gateway's real ``Options`` accepts the generated options handler,
and the Dockerfile builds the wheel (lab extension included) and checks the extension.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from traitlets.config import Config

from brepflow_lab.hub import k8s
from brepflow_lab.hub.disk import parse_size
from brepflow_lab.hub.quota import resolve, validate_table

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "hub_config" / "examples" / "kubernetes"
HUB_YAML = ROOT / "hub_config" / "hub.yaml"

TABLE: dict[str, Any] = {
    "default": {"memory": "2G", "cpu": 1.0, "disk": "2G", "named_servers": 2, "dask_workers": 2},
    "teams": {"sim": {"memory": "8G", "cpu": 4, "dask_workers": 8}, "interns": {"memory": "1G", "named_servers": 0}},
    "users": {"ada": {"memory": "3G", "disk": "20G", "dask_memory": "4GiB"}},
}


def _table_from_hub_yaml() -> Any:
    return (yaml.safe_load(HUB_YAML.read_text()) or {}).get("quotas") if HUB_YAML.exists() else None


def test_committed_values_are_exactly_what_hub_yaml_generates() -> None:
    assert k8s.main(["--check", "--hub-yaml", str(HUB_YAML), "--out", str(EXAMPLE)]) == 0


def test_values_load_and_carry_the_default_quota() -> None:
    values = yaml.safe_load((EXAMPLE / "values.yaml").read_text())
    default = validate_table(_table_from_hub_yaml())["default"]
    single = values["singleuser"]
    assert parse_size(single["memory"]["limit"]) == default["memory"]
    assert single["cpu"]["limit"] == default["cpu"]
    assert parse_size(single["storage"]["capacity"]) == default["disk"]
    assert single["extraEnv"]["BREPFLOW_MAX_NODE_SECONDS"] == f"{default['node_seconds']:g}"
    assert single["extraEnv"]["BREPFLOW_DASK_MEMORY_LIMIT"] == str(default["dask_memory"])
    assert values["hub"]["config"]["JupyterHub"]["named_server_limit_per_user"] == default["named_servers"]
    [profile] = single["profileList"]
    image = f"{single['image']['name']}:{single['image']['tag']}"
    assert profile["kubespawner_override"] == {"image": image}  # the profile never overrides limits
    assert (
        "c.KubeSpawner.pre_spawn_hook = brepflow_pre_spawn_hook" in values["hub"]["extraConfig"]["10-brepflow-quotas"]
    )
    gateway = yaml.safe_load((EXAMPLE / "dask-gateway-values.yaml").read_text())["gateway"]
    assert gateway["backend"]["image"] == single["image"]
    assert parse_size(gateway["backend"]["worker"]["memory"]["limit"]) == default["dask_memory"]
    assert gateway["auth"]["type"] == "jupyterhub"


def test_quantities_are_exact_kubernetes_units() -> None:
    assert k8s.k8s_quantity(2 * 1024**3) == "2Gi"
    assert k8s.k8s_quantity(300 * 1024**2) == "300Mi"
    assert k8s.k8s_quantity(1536 * 1024**2) == "1536Mi"
    assert k8s.k8s_quantity(1000) == "1000"


def _group(name: str, kind: str = "team", roles: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(name=name, properties={"kind": kind}, roles=[SimpleNamespace(name=r) for r in roles])


def _user(name: str, teams: list[str], role: str = "designer") -> SimpleNamespace:
    groups = [_group(t) for t in teams] + [_group(role + "s", "role", (role,))]
    return SimpleNamespace(name=name, groups=groups, roles=[], admin=False)


def _run_hook_source(table: Any) -> tuple[Config, dict[str, Any]]:
    c = Config()
    namespace: dict[str, Any] = {"c": c}
    exec(compile(k8s.quota_hook_source(table), "extraConfig", "exec"), namespace)  # what z2jh does with extraConfig
    return c, namespace


@pytest.mark.parametrize(
    ("name", "teams"),
    [("zed", []), ("bo", ["interns"]), ("bo", ["interns", "sim"]), ("ada", ["sim"]), ("ada", []), ("cy", ["other"])],
)
def test_the_pre_spawn_hook_resolves_like_the_hub(name: str, teams: list[str]) -> None:
    c, ns = _run_hook_source(TABLE)
    assert c.KubeSpawner.pre_spawn_hook is ns["brepflow_pre_spawn_hook"]
    spawner = SimpleNamespace(user=_user(name, teams), environment={"KEEP": "1"}, volumes=[], volume_mounts=[])
    ns["brepflow_pre_spawn_hook"](spawner)
    q = resolve(TABLE, name, teams)
    assert spawner.mem_limit == q.memory and spawner.cpu_limit == q.cpu
    assert spawner.storage_capacity == f"{q.disk // 1024**2}Mi"
    assert spawner.environment["KEEP"] == "1"
    assert spawner.environment["BREPFLOW_MAX_DASK_WORKERS"] == str(q.dask_workers)
    assert spawner.environment["BREPFLOW_DASK_MEMORY_LIMIT"] == str(q.dask_memory)
    assert [v["persistentVolumeClaim"]["claimName"] for v in spawner.volumes] == [
        f"brepflow-team-{t}" for t in sorted(teams)
    ]
    assert all(m["readOnly"] is False for m in spawner.volume_mounts)
    handler = SimpleNamespace(current_user=spawner.user)
    assert c.JupyterHub.named_server_limit_per_user(handler) == q.named_servers


def test_viewers_get_their_team_folders_read_only() -> None:
    _, ns = _run_hook_source(TABLE)
    spawner = SimpleNamespace(user=_user("vi", ["sim"], role="viewer"), environment={}, volumes=[], volume_mounts=[])
    ns["brepflow_pre_spawn_hook"](spawner)
    assert spawner.volume_mounts == [{"name": "team-sim", "mountPath": "/home/jovyan/teams/sim", "readOnly": True}]


def test_dask_gateway_options_cap_each_user_by_their_quota() -> None:
    import dask_gateway_server.options as options_mod  # in the [test] extra
    from dask_gateway_server.backends.base import ClusterConfig

    source = k8s.dask_gateway_values(TABLE)["gateway"]["extraConfig"]["10-brepflow"]
    c = Config()
    ns: dict[str, Any] = {"c": c}
    exec(compile(source, "extraConfig", "exec"), ns)
    assert c.ClusterConfig.scheduler_cmd == ["dask", "scheduler"]
    assert c.ClusterConfig.worker_cmd == ["dask", "worker"]
    options = c.Backend.cluster_options
    assert isinstance(options, options_mod.Options)
    user = SimpleNamespace(name="ada", groups=["sim"], admin=False)
    conf = options.get_configuration(options.parse_options({"workers": 50}), user)
    assert conf["cluster_max_workers"] == 8  # sim's dask_workers, though 50 were asked for
    assert conf["worker_memory"] == 4 * 1024**3  # ada's own dask_memory
    assert set(conf) <= set(ClusterConfig.class_trait_names())  # only real ClusterConfig settings
    intern = options.get_configuration(options.parse_options({}), SimpleNamespace(name="bo", groups=["interns"]))
    assert intern["cluster_max_workers"] == 2


def test_dockerfile_builds_the_wheel_and_installs_brepflow_lab_with_its_lab_extension() -> None:
    text = (EXAMPLE / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.MULTILINE)
    assert stages[0] == ("node:20-bookworm", "wheel") and stages[-1][0].startswith("quay.io/jupyter/")
    # both stages install from the project's lock, hash-checked; the wheel builds with the locked tools
    assert text.count("--require-hashes -r") == 2 and "locks/lab.txt" in text
    assert "pip wheel --no-deps --no-build-isolation" in text
    assert "COPY --from=wheel /dist/" in text
    assert re.search(r"pip install [^\n]*brepflow_lab-\*\.whl", text)
    assert 'jupyter labextension list 2>&1 | grep -E "brepflow-lab .*enabled.*OK"' in text
    assert "import brepflow_lab, cadquery" in text
    assert "ENV JUPYTER_WIDGETS_ECHO=0" in text
    assert "jupyterhub==${JUPYTERHUB_VERSION}" in text
    pvc = yaml.safe_load((EXAMPLE / "team-pvc.yaml").read_text())
    assert pvc["kind"] == "PersistentVolumeClaim" and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["metadata"]["name"].startswith("brepflow-team-")
