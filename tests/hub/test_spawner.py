"""The spawner's building blocks on the real system, without a hub: Unix accounts, team ACLs,
loop-mounted disk images, the quota-aware contents manager on a real full disk, and cgroup v1
limits with real processes (this machine's layout). Needs root, e2fsprogs and cgroups.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado import web

if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None or shutil.which("useradd") is None:
    pytest.skip(
        "Unix accounts and loop mounts need root, mkfs.ext4 and useradd: run as root after `apt-get install e2fsprogs passwd`",
        allow_module_level=True,
    )

from brepflow_lab.hub import disk
from brepflow_lab.hub import quota as quotas
from brepflow_lab.hub.users import Layout, ensure_user, remove_team, remove_user, team_group, unix_name

PY = "/usr/bin/python3"  # every account can run it (the pyenv Python under /root is 0700)


@pytest.fixture(scope="module")
def layout() -> Iterator[Layout]:
    root = Path(tempfile.mkdtemp(prefix="brepflow-spawnertest-"))
    os.chmod(root, 0o755)
    lay = Layout(
        home_root=root / "home",
        team_root=root / "teams",
        disk_root=root / "disks",
        user_prefix="bfs-",
        team_prefix="bfst-",
    )
    yield lay
    for user in ("alice", "vic", "bob", "Dora.Smith@example.com"):
        with contextlib.suppress(Exception):
            remove_user(user, layout=lay, delete_data=True)
    for team in ("t1", "t2"):
        with contextlib.suppress(Exception):
            remove_team(team, layout=lay, delete_data=True)
    shutil.rmtree(root, ignore_errors=True)


def run_as(account: str, code: str) -> subprocess.CompletedProcess[str]:
    entry = pwd.getpwnam(account)
    return subprocess.run(
        [PY, "-c", code],
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=os.getgrouplist(account, entry.pw_gid),
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": entry.pw_dir},
        timeout=60,
    )


# --------------------------------------------------------------------------- accounts
def test_unix_names_never_land_on_system_accounts() -> None:
    assert unix_name("alice") == "bf-alice"
    assert unix_name("root") == "bf-root"
    odd = unix_name("Dora.Smith@example.com")
    assert odd.startswith("bf-dora-smith-example-com-") and len(odd) <= 32
    assert unix_name("dora.smith@example.com") != odd  # the hash keeps distinct hub names apart
    assert len(unix_name("x" * 80)) <= 32
    assert team_group("t1") == "bft-t1" and team_group("t1", readonly=True) == "bft-t1-ro"
    with pytest.raises(ValueError, match="must differ"):
        Layout(user_prefix="x-", team_prefix="x-")
    with pytest.raises(ValueError, match="absolute"):
        Layout(home_root=Path("relative"))


def test_an_existing_system_account_is_refused(layout: Layout) -> None:
    unprefixed = Layout(
        home_root=layout.home_root, team_root=layout.team_root, disk_root=layout.disk_root, user_prefix=""
    )
    with pytest.raises(PermissionError, match="system account 'daemon'"):
        ensure_user("daemon", [], layout=unprefixed, disk_size="16M")


def test_accounts_homes_and_team_folders(layout: Layout) -> None:
    alice = ensure_user("alice", {"t1": "designer"}, layout=layout, disk_size="32M")
    vic = ensure_user("vic", {"t1": "viewer"}, layout=layout, disk_size="16M")
    bob = ensure_user("bob", [], layout=layout, disk_size="16M")
    assert alice.uid >= 1000 and alice.name == "bfs-alice"
    assert alice.groups == ("bfst-t1",) and vic.groups == ("bfst-t1-ro",) and bob.groups == ()
    home = os.stat(alice.home)
    assert (home.st_uid, oct(home.st_mode & 0o7777)) == (alice.uid, "0o700")
    assert disk.mounted_image(alice.home) == layout.user_image("alice")
    assert not (alice.home / "lost+found").exists()
    team = layout.team_dir("t1")
    st = os.stat(team)
    assert oct(st.st_mode & 0o7777) == "0o2770" and st.st_gid == grp.getgrnam("bfst-t1").gr_gid
    assert os.readlink(alice.home / "teams" / "t1") == str(team)

    part = team / "part.bflow.json"
    r = run_as(
        "bfs-alice",
        f"import os; os.umask(0o077); open({str(alice.home / 'teams/t1/part.bflow.json')!r}, 'w').write('v1')",
    )
    assert r.returncode == 0, r.stderr
    assert part.stat().st_gid == grp.getgrnam("bfst-t1").gr_gid  # setgid folder
    # default ACLs: even with umask 077 the team can write and viewers can read
    r = run_as("bfs-vic", f"print(open({str(part)!r}).read())")
    assert r.stdout.strip() == "v1", r.stderr
    for target, mode in ((part, "a"), (team / "new.json", "w")):
        r = run_as("bfs-vic", f"open({str(target)!r}, {mode!r}).write('x')")
        assert "PermissionError" in r.stderr
    r = run_as("bfs-bob", f"open({str(part)!r}).read()")
    assert "PermissionError" in r.stderr
    r = run_as("bfs-bob", f"import os; os.listdir({str(alice.home)!r})")
    assert "PermissionError" in r.stderr


def test_ensure_user_converges_teams_and_grows_the_home(layout: Layout) -> None:
    alice = ensure_user("alice", {"t1": "designer", "t2": "designer"}, layout=layout, disk_size="32M")
    (alice.home / "keep.txt").write_text("saved before the quota was raised")
    before = disk.disk_usage(alice.home)["total"]
    alice = ensure_user("alice", {"t2": "designer"}, layout=layout, disk_size="64M")  # left t1, quota raised
    assert alice.groups == ("bfst-t2",)
    assert sorted(os.listdir(alice.home / "teams")) == ["t2"]
    after = disk.disk_usage(alice.home)["total"]
    assert after > before + 28 * 1024**2  # grown online, while mounted
    assert (alice.home / "keep.txt").read_text() == "saved before the quota was raised"
    # shrinking is refused: the image keeps its size
    ensure_user("alice", {"t2": "designer"}, layout=layout, disk_size="32M")
    assert disk.disk_usage(alice.home)["total"] == after


def test_mount_all_brings_homes_and_team_folders_back_after_a_reboot(layout: Layout) -> None:
    alice = ensure_user("alice", {"t1": "designer"}, layout=layout, disk_size="64M")
    (alice.home / "after-reboot.txt").write_text("still here")
    disk.unmount(alice.home)
    disk.unmount(layout.team_dir("t1"))  # what a reboot does to loop mounts
    assert not (alice.home / "after-reboot.txt").exists()
    mounted = disk.mount_all(layout.disk_root)
    assert set(mounted) >= {alice.home, layout.team_dir("t1")}
    assert (alice.home / "after-reboot.txt").read_text() == "still here"
    assert oct(os.stat(layout.team_dir("t1")).st_mode & 0o7777) == "0o2770"  # kept in the image
    assert disk.mount_all(layout.disk_root) == []  # idempotent


def test_team_links_never_follow_a_link_the_user_planted(layout: Layout) -> None:
    alice = ensure_user("alice", {"t1": "designer"}, layout=layout, disk_size="64M")
    decoy = Path(tempfile.mkdtemp(prefix="brepflow-decoy-"))
    try:
        shutil.rmtree(alice.home / "teams")
        os.symlink(decoy, alice.home / "teams")
        ensure_user("alice", {"t1": "designer"}, layout=layout, disk_size="64M")
        assert list(decoy.iterdir()) == []  # root wrote nothing through the user's link
    finally:
        (alice.home / "teams").unlink()
        shutil.rmtree(decoy)
    ensure_user("alice", {"t1": "designer"}, layout=layout, disk_size="64M")
    assert (alice.home / "teams" / "t1").is_symlink()


def test_disk_sizes_are_parsed_like_jupyterhub_and_dask() -> None:
    assert disk.parse_size("300M") == 300 * 1024**2
    assert disk.parse_size("2G") == disk.parse_size("2GiB") == disk.parse_size("2Gi") == 2 * 1024**3
    assert disk.parse_size("500MB") == 500 * 1000**2
    assert disk.parse_size("1.5g") == int(1.5 * 1024**3)
    assert disk.parse_size(1024) == 1024
    for bad in ("lots", "-1G", "2X", True):
        with pytest.raises(ValueError):
            disk.parse_size(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least"):
        disk.ensure_mounted(Path("/nonexistent.img"), Path("/nonexistent"), 1024)


# --------------------------------------------------------------------------- contents manager
@pytest.fixture
def small_disk() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="brepflow-fulldisk-"))
    mnt = root / "mnt"
    disk.ensure_mounted(root / "disk.img", mnt, 16 * 1024**2)
    try:
        yield mnt
    finally:
        disk.unmount(mnt)
        shutil.rmtree(root)


def _manager(root: Path, precheck: bool) -> disk.QuotaContentsManager:
    return disk.QuotaContentsManager(root_dir=str(root), precheck=precheck)


def _listing(folder: Path) -> list[str]:
    return sorted(set(os.listdir(folder)) - {"lost+found"})


def _b64(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode()


@pytest.mark.parametrize("precheck", [False, True], ids=["enospc", "precheck"])
def test_a_save_past_the_disk_limit_is_refused_and_loses_nothing(small_disk: Path, precheck: bool) -> None:
    cm = _manager(small_disk, precheck)
    free = disk.disk_usage(small_disk)["free"]

    async def scenario() -> None:
        await cm.save({"type": "file", "format": "text", "content": "saved design\n"}, "design.txt")
        big = {"type": "file", "format": "base64", "content": _b64(free + 1024**2)}
        for name in ("new.bin", "design.txt"):
            with pytest.raises(web.HTTPError) as err:
                await cm.save(dict(big), name)
            assert err.value.status_code == 507
            assert err.value.log_message.startswith("Disk quota exceeded: could not save")
            assert "your home folder is full" in err.value.log_message
        model = await cm.get("design.txt")
        assert model["content"] == "saved design\n"

    asyncio.run(scenario())
    assert _listing(small_disk) == ["design.txt"]  # no partial file, no .~ backup left
    assert disk.disk_usage(small_disk)["free"] > free - 1024**2


def test_a_chunked_upload_that_runs_out_of_space_keeps_the_previous_version(small_disk: Path) -> None:
    cm = _manager(small_disk, precheck=False)
    chunk = 4 * 1024**2

    async def scenario() -> None:
        await cm.save({"type": "file", "format": "text", "content": "version 1\n"}, "model.step")
        with pytest.raises(web.HTTPError) as err:
            for number in range(1, 20):
                await cm.save(
                    {"type": "file", "format": "base64", "content": _b64(chunk), "chunk": number}, "model.step"
                )
        assert err.value.status_code == 507
        assert (await cm.get("model.step"))["content"] == "version 1\n"
        # and an upload that fits replaces it as usual, with no backup left behind
        await cm.save({"type": "file", "format": "text", "content": "v2 ", "chunk": 1}, "model.step")
        await cm.save({"type": "file", "format": "text", "content": "done", "chunk": -1}, "model.step")
        assert (await cm.get("model.step"))["content"] == "v2 done"

    asyncio.run(scenario())
    assert _listing(small_disk) == ["model.step"]


def test_a_copy_that_does_not_fit_leaves_no_partial_file(small_disk: Path) -> None:
    cm = _manager(small_disk, precheck=False)
    (small_disk / "big.bin").write_bytes(os.urandom(9 * 1024**2))

    async def scenario() -> None:
        with pytest.raises(web.HTTPError) as err:
            await cm.copy("big.bin", "")
        assert err.value.status_code == 507

    asyncio.run(scenario())
    assert _listing(small_disk) == ["big.bin"]


# --------------------------------------------------------------------------- cgroups v1 (this machine)
@pytest.fixture
def cgroups() -> Iterator[quotas.Cgroups]:
    cg = quotas.detect_cgroups(parent=f"brepflow-unit-{os.getpid()}")
    if cg is None:
        pytest.skip(
            "no writable cgroup hierarchy under /sys/fs/cgroup: run as root on a host (or a --privileged container) "
            "that mounts cgroups read-write"
        )
    yield cg
    for d in cg.user_dirs("u1"):
        with contextlib.suppress(Exception):
            cg.remove_server("u1", "")
        with contextlib.suppress(OSError):
            d.parent.rmdir()


def _quota(**overrides: object) -> quotas.Quota:
    table = {"default": {"memory": "256M", "cpu": 0.5, "pids": 40, **overrides}}
    return quotas.resolve(table, "u1")


def _start_in(procs_files: list[Path], code: str) -> subprocess.Popen[str]:
    def join() -> None:
        for path in procs_files:
            with open(path, "w") as fh:
                fh.write(str(os.getpid()))

    return subprocess.Popen(
        [PY, "-c", code], preexec_fn=join, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_limits_are_written_and_a_started_process_is_inside(cgroups: quotas.Cgroups) -> None:
    procs = cgroups.create_server("u1", "", _quota())
    proc = _start_in(
        procs, "import time; print(open('/proc/self/cgroup').read().replace(chr(10), ' '), flush=True); time.sleep(30)"
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert f"brepflow-unit-{os.getpid()}/u1/server" in line
        stats = cgroups.stats("u1")
        assert stats["memory"]["limit"] == 256 * 1024**2
        assert stats["cpu"]["limit"] == 0.5
        assert stats["pids"]["limit"] == 40
        assert stats["pids"]["current"] >= 1 and stats["memory"]["used"] > 0
        assert proc.pid in cgroups.procs("u1", "")
    finally:
        proc.kill()
        proc.wait()


def test_process_limit_stops_a_fork_storm_and_is_reported(cgroups: quotas.Cgroups) -> None:
    procs = cgroups.create_server("u1", "", _quota())
    watcher = quotas.BreachWatcher(cgroups, "u1", "hub-u1", _quota(), on_breach=lambda **kw: seen.append(kw))
    seen: list[dict[str, object]] = []
    storm = (
        "import subprocess\nkids = []\n"
        "try:\n    for _ in range(100):\n        kids.append(subprocess.Popen(['sleep', '30']))\n"
        "except OSError as e:\n    print('refused after', len(kids), e.errno, flush=True)\n"
        "import time; time.sleep(30)"
    )
    proc = _start_in(procs, storm)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("refused after"), line
        assert int(line.split()[2]) < 40
        breaches = watcher.check()
        assert breaches and breaches[0]["resource"] == "pids" and seen == [{"user": "hub-u1", **breaches[0]}]
        # stop(): everything in the leaf dies (the sleeps were never children of ours), then the cgroup goes
        assert len(cgroups.procs("u1", "")) > 30
        killed = cgroups.kill_server("u1", "")
        assert killed > 30
        proc.wait(10)
        cgroups.remove_server("u1", "")
        assert not any(d.exists() for d in cgroups.server_dirs("u1", ""))
        assert not any(d.exists() for d in cgroups.user_dirs("u1"))  # last server gone: user level removed
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def test_memory_limit_kills_the_process_that_allocates(cgroups: quotas.Cgroups) -> None:
    procs = cgroups.create_server("u1", "", _quota(memory="64M"))
    bystander = _start_in(procs, "import time; time.sleep(30)")
    hog = _start_in(procs, "x = b'1' * (200 * 1024 * 1024); print('survived')")
    try:
        assert hog.wait(30) == -signal.SIGKILL
        assert bystander.poll() is None  # only the allocating process was picked
        deadline = time.monotonic() + 5
        while sum(cgroups.oom_kills("u1").values()) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sum(cgroups.oom_kills("u1").values()) >= 1
    finally:
        bystander.kill()
        bystander.wait()
