"""The quota table, its resolution, the cgroup v2 layer and the report (no root needed).

cgroup v2 cannot be mounted on this machine (its hierarchy is v1; the unified mount has no
memory controller), so :class:`CgroupsV2` is exercised against a *fake* cgroupfs: a
directory tree with the files the kernel would show. That checks what we write and how we
parse what the kernel reports; the real kernel behaviour (limits, OOM kills, fork refusals)
is tested with cgroup v1 in test_spawner.py and test_isolation.py.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from brepflow_lab.hub import quota as quotas
from brepflow_lab.hub.quota import CgroupsV1, CgroupsV2, Quota, detect_cgroups, resolve, validate_table

TABLE: dict[str, Any] = {
    "default": {"memory": "2G", "cpu": 1.0, "named_servers": 2, "disk": "2G"},
    "teams": {
        "interns": {"memory": "1G", "cpu": 0.5, "named_servers": 0},
        "sim": {"memory": "8G", "cpu": 4, "dask_workers": 8, "team_disk": "50G"},
        "cad": {"memory": "4G", "disk": "10G"},
    },
    "users": {"ada": {"memory": "3G", "pids": 2048}},
}


# --------------------------------------------------------------------------- resolution
def test_default_fills_every_limit_from_the_builtins() -> None:
    q = resolve(TABLE, "zed", [])
    assert q.memory == 2 * 1024**3 and q.cpu == 1.0 and q.named_servers == 2
    assert q.pids == 512 and q.node_seconds == 120 and q.preview_triangles == 2_000_000
    assert q.dask_workers == 2 and q.dask_memory == 1024**3
    assert q.team_disk == q.disk == 2 * 1024**3
    assert set(q.origin.values()) == {"default"}
    assert resolve(None, "zed") == resolve({}, "zed")


def test_a_team_override_applies_to_its_members() -> None:
    q = resolve(TABLE, "bo", ["interns"])
    assert q.memory == 1024**3 and q.cpu == 0.5 and q.named_servers == 0
    assert q.origin["memory"] == "teams.interns" and q.origin["pids"] == "default"


def test_over_several_teams_the_most_generous_value_wins_key_by_key() -> None:
    q = resolve(TABLE, "bo", ["interns", "cad", "sim"])
    assert q.memory == 8 * 1024**3 and q.origin["memory"] == "teams.sim"
    assert q.disk == 10 * 1024**3 and q.origin["disk"] == "teams.cad"
    assert q.cpu == 4.0 and q.dask_workers == 8
    assert q.named_servers == 2  # interns' 0 does not shrink a member of other teams
    # a restrictive team does not shrink someone also in a team without an override
    assert resolve(TABLE, "bo", ["interns", "unlisted"]).memory == 2 * 1024**3


def test_a_user_override_wins_over_teams() -> None:
    q = resolve(TABLE, "ada", ["sim"])
    assert q.memory == 3 * 1024**3 and q.origin["memory"] == "users.ada"
    assert q.pids == 2048 and q.cpu == 4.0


def test_team_folder_size_comes_from_team_disk_else_disk() -> None:
    assert quotas.team_folder_size(TABLE, "sim") == 50 * 1024**3
    assert quotas.team_folder_size(TABLE, "cad") == 10 * 1024**3
    assert quotas.team_folder_size(TABLE, "other") == 2 * 1024**3


def test_the_kernel_environment_carries_the_brepflow_limits() -> None:
    env = resolve({"default": {"node_seconds": 45.5, "preview_triangles": 10000, "dask_memory": "1GiB"}}, "x").env()
    assert env == {
        "BREPFLOW_MAX_NODE_SECONDS": "45.5",
        "BREPFLOW_MAX_PREVIEW_TRIANGLES": "10000",
        "BREPFLOW_MAX_DASK_WORKERS": "2",
        "BREPFLOW_DASK_MEMORY_LIMIT": str(1024**3),
    }


def test_a_bad_table_is_refused_with_every_problem_listed() -> None:
    bad = {
        "default": {"memory": "lots", "cpu": -1, "pids": 3, "colour": "red"},
        "teams": {"t": {"named_servers": 1.5}},
        "users": ["not", "a", "mapping"],
        "extra": {},
    }
    with pytest.raises(ValueError) as err:
        validate_table(bad)
    text = str(err.value)
    for expected in (
        "quotas.default.memory: not a size: 'lots'",
        "quotas.default.cpu: -1 is below the smallest allowed value",
        "quotas.default.pids: 3 is below",
        "quotas.default.colour: unknown limit",
        "quotas.teams.t.named_servers: 1.5 is not a whole number",
        "quotas.users: expected a mapping",
        "quotas.extra: unknown section",
    ):
        assert expected in text, text
    with pytest.raises(ValueError, match=r"quotas\.default\.memory"):
        resolve({"default": {"memory": True}}, "x")


def test_named_server_limit_reads_the_current_users_quota() -> None:
    team = SimpleNamespace(name="sim", properties={}, roles=[])
    role_group = SimpleNamespace(name="designers", properties={"kind": "role"}, roles=[])
    spawner = SimpleNamespace(quota_table={**TABLE, "teams": {"sim": {"named_servers": 5}}})
    user = SimpleNamespace(name="bo", groups=[team, role_group], spawner=spawner)
    assert quotas.named_server_limit(SimpleNamespace(current_user=user)) == 5
    assert quotas.named_server_limit(user) == 5
    assert quotas.named_server_limit(SimpleNamespace(current_user=None)) == 0
    assert quotas.is_team(team) and not quotas.is_team(role_group)
    assert not quotas.is_team(SimpleNamespace(name="viewers", properties={}, roles=[object()]))


def test_format_report_shows_limits_next_to_usage() -> None:
    q = resolve(TABLE, "ada")
    use = {
        "user": "ada",
        "memory": {"used": 512 * 1024**2, "oom_kills": 1},
        "cpu": {"seconds": 12.5},
        "pids": {"current": 30},
        "disk": {"used": 1024**3},
        "servers": [""],
    }
    text = quotas.format_report([(q, use), (resolve(TABLE, "zed"), {"user": "zed"})])
    lines = text.splitlines()
    assert lines[0].split()[0] == "user" and len(lines) == 3
    assert "512 MiB / 3.0 GiB" in lines[1] and "12.50 (1)" in lines[1] and "30 / 2048" in lines[1]
    assert "1.0 GiB / 2.0 GiB" in lines[1] and "1 / 2" in lines[1]
    assert lines[2].startswith("zed") and "- / 2.0 GiB" in lines[2]


# --------------------------------------------------------------------------- cgroup v2 on a fake tree
def _fake_v2(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


class FakeKernel:
    """Adds the files the kernel creates in every new cgroup directory of the fake tree."""

    @staticmethod
    def populate(d: Path, controllers: str = "cpu memory pids") -> None:
        (d / "cgroup.controllers").write_text(controllers + "\n")
        for name in ("cgroup.subtree_control", "cgroup.procs", "memory.max", "memory.swap.max", "cpu.max", "pids.max"):
            (d / name).touch()


def test_v2_is_detected_and_limits_are_written_down_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _fake_v2(tmp_path)
    cg = detect_cgroups(root, parent="brepflow")
    assert isinstance(cg, CgroupsV2) and cg.version == 2
    made: list[Path] = []
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:  # the kernel fills new cgroup dirs
        existed = self.exists()
        real_mkdir(self, *args, **kwargs)
        if not existed and str(self).startswith(str(root)):
            FakeKernel.populate(self)
            made.append(self)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    q = resolve({"default": {"memory": "300M", "cpu": 0.5, "pids": 256}}, "alice")
    procs = cg.create_server("bf-alice", "", q)
    user = root / "brepflow" / "bf-alice"
    assert procs == [user / "server" / "cgroup.procs"]
    assert made == [root / "brepflow", user, user / "server"]
    assert (root / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (root / "brepflow" / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (user / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (user / "memory.max").read_text() == str(300 * 1024**2)
    assert (user / "memory.swap.max").read_text() == "0"
    assert (user / "cpu.max").read_text() == "50000 100000"
    assert (user / "pids.max").read_text() == "256"
    named = cg.create_server("bf-alice", "render", q)
    assert named == [user / "server-render" / "cgroup.procs"]


def test_v2_stats_and_breach_counters_are_read_from_the_kernel_files(tmp_path: Path) -> None:
    root = _fake_v2(tmp_path)
    user = root / "brepflow" / "bf-alice"
    for leaf in ("server", "server-render"):
        (user / leaf).mkdir(parents=True)
        (user / leaf / "cgroup.procs").write_text("")
    (user / "memory.current").write_text("157286400\n")
    (user / "memory.peak").write_text("209715200\n")
    (user / "memory.max").write_text("314572800\n")
    (user / "memory.events").write_text("low 0\nhigh 0\nmax 17\noom 2\noom_kill 2\noom_group_kill 0\n")
    (user / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_throttled 12\n")
    (user / "cpu.max").write_text("50000 100000\n")
    (user / "pids.current").write_text("23\n")
    (user / "pids.max").write_text("256\n")
    (user / "pids.events").write_text("max 0\n")
    (user / "server" / "memory.events").write_text("oom_kill 2\n")
    (user / "server-render" / "memory.events").write_text("oom_kill 0\n")
    (user / "server-render" / "pids.events").write_text("max 3\n")
    cg = CgroupsV2(root)
    stats = cg.stats("bf-alice")
    assert stats["memory"] == {
        "used": 157286400,
        "peak": 209715200,
        "limit": 314572800,
        "limit_hits": 17,
        "oom_kills": 2,
    }
    assert stats["cpu"] == {"seconds": 2.5, "limit": 0.5, "throttled": 12}
    assert stats["pids"] == {"current": 23, "limit": 256, "limit_hits": 3}
    assert cg.oom_kills("bf-alice") == {"server": 2, "server-render": 0}
    # the watcher reports what changed since it last looked, naming the server
    seen: list[dict[str, Any]] = []
    q = resolve({"default": {"memory": "300M"}}, "alice")
    watcher = quotas.BreachWatcher(cg, "bf-alice", "alice", q, on_breach=lambda **kw: seen.append(kw))
    assert watcher.check() == []
    (user / "server-render" / "memory.events").write_text("oom_kill 1\n")
    (user / "server-render" / "pids.events").write_text("max 5\n")
    found = watcher.check()
    assert found == [
        {"resource": "memory", "server": "render", "limit": 300 * 1024**2, "killed": 1},
        {"resource": "pids", "limit": 512, "refused_forks": 2},
    ]
    assert seen == [{"user": "alice", **b} for b in found]
    assert watcher.check() == []
    # "max" limits read as None, and an absent user reads as empty
    (user / "memory.max").write_text("max\n")
    assert cg.stats("bf-alice")["memory"]["limit"] is None
    assert cg.oom_kills("nobody") == {} and cg.pids_limit_hits("nobody") == 0


def test_v2_stop_uses_cgroup_kill(tmp_path: Path) -> None:
    root = _fake_v2(tmp_path)
    leaf = root / "brepflow" / "bf-alice" / "server"
    leaf.mkdir(parents=True)
    (leaf / "cgroup.kill").write_text("")
    (leaf / "cgroup.procs").write_text("")
    cg = CgroupsV2(root)
    assert cg.kill_server("bf-alice", "") == 0  # empty leaf: nothing to do, cgroup.kill untouched
    assert (leaf / "cgroup.kill").read_text() == ""
    with pytest.raises(ValueError, match="relative"):
        CgroupsV2(root, parent="/abs")


def test_v1_is_detected_on_a_v1_tree_and_nothing_on_an_empty_one(tmp_path: Path) -> None:
    v1 = tmp_path / "v1"
    for controller, files in {
        "memory": ["memory.limit_in_bytes"],
        "cpu": ["cpu.cfs_quota_us"],
        "cpuacct": ["cpuacct.usage"],
        "pids": ["pids.max"],
    }.items():
        (v1 / controller).mkdir(parents=True)
        for name in files:
            (v1 / controller / name).write_text("")
    (v1 / "unified").mkdir()
    (v1 / "unified" / "cgroup.controllers").write_text("hugetlb\n")  # this machine's hybrid layout
    cg = detect_cgroups(v1)
    assert isinstance(cg, CgroupsV1)
    assert cg.user_dirs("u") == [v1 / c / "brepflow" / "u" for c in ("memory", "cpu", "cpuacct", "pids")]
    assert detect_cgroups(tmp_path / "nothing") is None


def test_quota_to_dict_is_readable() -> None:
    q: Quota = resolve({"default": {"memory": "300M"}}, "x")
    readable = q.to_dict(readable=True)
    assert readable["memory"] == "300 MiB" and readable["disk"] == "2.0 GiB" and "origin" not in readable
    assert quotas.quota_dict(q)["origin"]["memory"] == "default"


def test_quotas_whose_dask_workers_cannot_fit_in_memory_are_flagged() -> None:
    # the built-in defaults hold together: 2 workers x 1 GiB + the server and kernel < 4 GiB
    assert quotas.table_warnings({}) == []
    table = {
        "default": {"memory": "2G", "dask_workers": 2, "dask_memory": "2GiB"},
        "teams": {"cad": {"memory": "16G"}, "lean": {"dask_workers": 0}},
        "users": {"ada": {"memory": "1G", "dask_workers": 1, "dask_memory": "512M"}},
    }
    warnings = quotas.table_warnings(table)
    assert len(warnings) == 2, warnings  # default and ada; cad has room, lean starts no workers
    assert warnings[0].startswith("quotas.default: 2 Dask workers x 2.0 GiB plus about")
    assert "is more than memory 2.0 GiB" in warnings[0] and "KERNEL_CRASH" in warnings[0]
    assert warnings[1].startswith("quotas.users.ada: 1 Dask workers x 512 MiB")


def test_hub_config_prints_the_warnings(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "hub.yaml"
    config.write_text("quotas:\n  default:\n    memory: 1G\n")
    out = subprocess.run(
        [sys.executable, "-m", "brepflow_lab.hub.cli", "hub", "config", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "memory: 1G" in out.stdout
    assert "warning: quotas.default: 2 Dask workers x 1.0 GiB" in out.stderr
