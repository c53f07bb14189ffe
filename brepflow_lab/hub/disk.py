"""Hard disk limits: one loop-mounted ext4 image per home and per team folder.

Why images: the hub's root filesystem usually has no user or project quotas enabled, and
turning them on needs a remount the hub cannot do. An ext4 image mounted with ``-o loop``
gives a hard limit on any Linux host (writes past it fail with ENOSPC), costs only the
space actually used (the image is sparse) and can grow online with ``resize2fs`` when an
admin raises a quota. Shrinking is refused (it could destroy data); the image keeps its
size and the hub logs a warning. Images are made with ``-m 0`` (no blocks reserved for
root: the user gets the whole quota) and mounted ``nosuid,nodev``.

The second half is :class:`QuotaContentsManager`, the contents manager of every
single-user server (``--ServerApp.contents_manager_class``). Jupyter's atomic writing
already restores an overwritten file when a write fails, but on a full disk it

* reports a bare 500 "Unexpected error",
* leaves a truncated *new* file behind (its restore step fails on the missing backup),
* leaves a truncated ``.~name`` backup when even the backup copy did not fit,
* loses the previous file of a chunked upload (chunk 1 replaces it; chunk 7 fails),
* leaves the chunks that fitted as a truncated file when a later chunk is refused.

The manager turns ENOSPC / EDQUOT into HTTP 507 with a message JupyterLab shows in its
"File Save Error" dialog, removes the partial files, keeps the previous version of a file
being uploaded in chunks until the last chunk landed, refuses up front what clearly cannot
fit, and reports the breach to the hub (which writes the audit record: users cannot write
the audit log themselves, so a breach cannot be forged or suppressed by the user). It also
remembers which versions of each graph it handed out
(:class:`~brepflow_lab.hub.graph_versions.GraphVersionsMixin`), so a save over a newer version is
audited.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_server.services.contents.fileio import path_to_intermediate
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import Bool, Float

from brepflow_lab.hub.graph_versions import GraphVersionsMixin

__all__ = [
    "MIN_IMAGE_SIZE",
    "DiskFullError",
    "QuotaContentsManager",
    "disk_usage",
    "ensure_mounted",
    "filesystem_size",
    "format_size",
    "mount_all",
    "mounted_image",
    "parse_size",
    "unmount",
]

log = logging.getLogger("brepflow_lab.hub.disk")

MIN_IMAGE_SIZE = 16 * 1024**2
_LOCK = threading.RLock()
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?)(b?)\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class DiskFullError(OSError):
    """A disk limit was reached."""


def parse_size(value: int | float | str) -> int:
    """Bytes from ``"300M"``, ``"2G"``, ``"2GiB"``, ``"1.5g"``, ``"500MB"`` or an int.

    ``K/M/G/T`` and ``Ki/Mi/Gi/Ti`` (with or without ``B``) are powers of 1024, as in
    JupyterHub's ``mem_limit``; ``KB/MB/GB/TB`` without ``i`` are powers of 1000, as in Dask.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a size cannot be negative: {value!r}")
        return int(value)
    match = _SIZE_RE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use e.g. 512M, 2G, 2GiB or a number of bytes)")
    number, unit, binary, byte = match.groups()
    base = 1000 if (byte and not binary and unit) else 1024
    return int(float(number) * base ** _POWERS[unit.lower()])


def format_size(size: float) -> str:
    """``314572800`` → ``"300 MiB"``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def disk_usage(path: str | os.PathLike[str]) -> dict[str, int]:
    """``{"total", "used", "free"}`` in bytes of the filesystem holding ``path``."""
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    free = st.f_bavail * st.f_frsize
    return {"total": total, "used": total - st.f_bfree * st.f_frsize, "free": free}


# --------------------------------------------------------------------------- images
def _check_call(cmd: list[str], ok: tuple[int, ...] = (0,)) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise OSError(f"{cmd[0]} not found: install e2fsprogs (mkfs.ext4, e2fsck, resize2fs) and mount") from None
    if result.returncode not in ok:
        output = (result.stderr.strip() + "\n" + result.stdout.strip()).strip()
        raise OSError(f"{' '.join(cmd)} failed ({result.returncode}): {output}")


def _mount_source(mountpoint: Path) -> str | None:
    target = os.path.realpath(mountpoint)
    source = None
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            sep = fields.index("-")
            if fields[4].encode().decode("unicode_escape") == target:
                source = fields[sep + 2]  # later mounts hide earlier ones: keep the last
    return source


def mounted_image(mountpoint: str | os.PathLike[str]) -> Path | None:
    """The image file loop-mounted at ``mountpoint``, or None if nothing (or no image) is."""
    source = _mount_source(Path(mountpoint))
    if source is None or not source.startswith("/dev/loop"):
        return None
    backing = Path("/sys/block") / Path(source).name / "loop" / "backing_file"
    try:
        return Path(backing.read_text().strip())
    except OSError:
        return None


def _loop_device(mountpoint: Path) -> str | None:
    source = _mount_source(mountpoint)
    return source if source and source.startswith("/dev/loop") else None


def filesystem_size(image: Path) -> int:
    """Size of the ext4 file system inside ``image``, from its superblock (bytes)."""
    with open(image, "rb") as fh:
        fh.seek(1024)
        sb = fh.read(1024)
    if len(sb) < 1024 or int.from_bytes(sb[56:58], "little") != 0xEF53:
        raise OSError(f"{image} does not hold an ext2/3/4 file system")
    blocks = int.from_bytes(sb[4:8], "little")
    if int.from_bytes(sb[96:100], "little") & 0x80:  # INCOMPAT_64BIT: high half of the count
        blocks |= int.from_bytes(sb[0x150:0x154], "little") << 32
    return blocks * (1024 << int.from_bytes(sb[24:28], "little"))


def _mount(image: Path, mountpoint: Path) -> None:
    _check_call(["mount", "-o", "loop,nosuid,nodev", str(image), str(mountpoint)])


def _grow(image: Path, mountpoint: Path, size: int, mounted: bool) -> None:
    if image.stat().st_size < size:
        with open(image, "r+b") as fh:
            fh.truncate(size)
    if not mounted:
        _check_call(["e2fsck", "-f", "-y", str(image)], ok=(0, 1))  # 1: problems fixed
        _check_call(["resize2fs", str(image)])
        return
    device = _loop_device(mountpoint)
    try:
        if device is None:
            raise OSError(f"no loop device behind {mountpoint}")
        _check_call(["losetup", "--set-capacity", device])
        _check_call(["resize2fs", device])  # ext4 grows online where the kernel allows it
        return
    except OSError as exc:
        online_error = exc  # e.g. no CAP_SYS_RESOURCE in a container: grow offline instead
    result = subprocess.run(["umount", str(mountpoint)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        log.warning(
            "%s could not grow online (%s) and is in use (%s); it grows at its next mount",
            image,
            online_error,
            result.stderr.strip(),
        )
        return
    try:
        _check_call(["e2fsck", "-f", "-y", str(image)], ok=(0, 1))  # 1: problems fixed
        _check_call(["resize2fs", str(image)])
    finally:
        _mount(image, mountpoint)


def ensure_mounted(image: Path, mountpoint: Path, size: int) -> None:
    """Create the image (sparse) if missing, grow it to ``size``, and mount it.

    Idempotent. Raises ``OSError`` when something else is mounted at ``mountpoint``.
    """
    if size < MIN_IMAGE_SIZE:
        raise ValueError(f"a disk quota must be at least {format_size(MIN_IMAGE_SIZE)}, got {format_size(size)}")
    with _LOCK:
        image.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(image.parent, 0o700)
        if not image.exists():
            with open(image, "wb") as fh:
                fh.truncate(size)
            os.chmod(image, 0o600)
            try:
                # 4 KiB blocks, one inode per 32 KiB, a journal of size/256 (4-64 MiB), nothing
                # reserved for root: a 2G quota gives the user ~98% of 2 GiB to fill.
                journal = f"size={max(4, min(64, size // (256 * 1024**2)))}"
                options = ["-q", "-F", "-T", "default", "-m", "0", "-i", "32768", "-J", journal]
                _check_call(["mkfs.ext4", *options, "-L", image.stem[:16], str(image)])
            except OSError:
                image.unlink(missing_ok=True)
                raise
        mountpoint.mkdir(parents=True, exist_ok=True)
        current = mounted_image(mountpoint)
        if current is None and os.path.ismount(mountpoint):
            raise OSError(f"{mountpoint} is already a mount point of something else than {image}")
        if current is not None and current != image.resolve():
            raise OSError(f"{mountpoint} has {current} mounted, expected {image}")
        have = filesystem_size(image)
        if size < have - 1024**2:
            log.warning("%s holds %s; its quota is now %s: shrinking is not supported", image, have, size)
        if size > have + 1024**2:
            _grow(image, mountpoint, size, mounted=current is not None)
        if mounted_image(mountpoint) is None:
            _mount(image, mountpoint)
        sidecar = image.with_suffix(".json")
        record = {"mountpoint": str(mountpoint), "size": size}
        with contextlib.suppress(OSError, ValueError):
            if json.loads(sidecar.read_text()) == record:
                return
        sidecar.write_text(json.dumps(record))  # lets mount_all() bring it back after a reboot


def mount_all(disk_root: str | os.PathLike[str]) -> list[Path]:
    """Mount every image under ``disk_root`` at the folder it was last mounted on.

    Loop mounts do not survive a reboot; call this when the hub starts (``brepflow-lab hub
    setup`` does) so team folders are there for the viewer before any member logs in.
    Returns the mount points mounted now.
    """
    mounted = []
    for sidecar in sorted(Path(disk_root).glob("*/*.json")):
        image = sidecar.with_suffix(".img")
        try:
            record = json.loads(sidecar.read_text())
            mountpoint = Path(record["mountpoint"])
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable %s", sidecar)
            continue
        if image.exists() and mounted_image(mountpoint) is None:
            ensure_mounted(image, mountpoint, max(int(record.get("size", 0)), MIN_IMAGE_SIZE))
            mounted.append(mountpoint)
    return mounted


def unmount(mountpoint: str | os.PathLike[str]) -> bool:
    """Unmount ``mountpoint`` if something is mounted there; True when it was."""
    path = Path(mountpoint)
    with _LOCK:
        if not os.path.ismount(path):
            return False
        result = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            log.warning("umount %s failed (%s); detaching lazily", path, result.stderr.strip())
            _check_call(["umount", "-l", str(path)])
        return True


# --------------------------------------------------------------------------- contents manager
def _disk_full_cause(exc: BaseException) -> OSError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None


def _content_bytes(model: dict[str, Any]) -> int | None:
    content = model.get("content")
    if content is None:
        return None
    if model.get("type") == "notebook":
        return len(json.dumps(content).encode())
    if model.get("format") == "base64" and isinstance(content, str):
        return len(content) * 3 // 4
    if isinstance(content, str):
        return len(content.encode())
    return None


def _remove_file(path: str) -> None:
    with contextlib.suppress(OSError):
        if os.path.isfile(path) and not os.path.islink(path):
            os.remove(path)


class QuotaContentsManager(GraphVersionsMixin, AsyncLargeFileManager):  # type: ignore[misc]  # jupyter_server: resolve_path differs between its own bases
    """Jupyter's large-file contents manager with clear, lossless disk-quota errors (and the
    graph versions it handed out, for the audit of saves over a newer version)."""

    precheck = Bool(
        True,
        help="Refuse up front a save whose content clearly does not fit in the free space (ENOSPC is still caught).",
    ).tag(config=True)
    breach_report_interval = Float(
        10.0, help="Seconds between two reports of a refused write in the same folder to the hub (audit log)."
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._last_report: dict[str, float] = {}

    def _quota_message(self, api_path: str, os_path: str, needed: int | None) -> str:
        folder = os.path.dirname(os_path) or "."
        api_folder = os.path.dirname(api_path.strip("/"))
        try:
            usage = disk_usage(folder)
            home = os.stat(self.root_dir).st_dev == os.stat(folder).st_dev
            what = "your home folder is full" if home else f"the folder '{api_folder}' is full"
            where = (
                f"{what} ({format_size(usage['used'])} of {format_size(usage['total'])} used, "
                f"{format_size(usage['free'])} free"
            )
            where += f"; this save needs {format_size(needed)})" if needed else ")"
        except OSError:
            where = "the disk is full"
        return (
            f"Disk quota exceeded: could not save '{api_path}': {where}. "
            "Files already saved were not changed. Delete files or ask a hub admin for more space."
        )

    def _refuse(self, api_path: str, os_path: str, needed: int | None, cause: BaseException | None) -> web.HTTPError:
        message = self._quota_message(api_path, os_path, needed)
        self.log.warning("%s", message)
        self._report_breach(api_path, os_path, needed)
        error = web.HTTPError(507, message)
        error.__cause__ = cause
        return error

    def _report_breach(self, api_path: str, os_path: str, needed: int | None) -> None:
        """Tell the hub (which audits it) that a write was refused; best effort, async."""
        folder = os.path.dirname(os_path)
        now = time.monotonic()
        if now - self._last_report.get(folder, -1e9) < self.breach_report_interval:
            return
        self._last_report[folder] = now
        api_url = os.environ.get("JUPYTERHUB_API_URL")
        token = os.environ.get("JUPYTERHUB_API_TOKEN")
        if not api_url or not token:
            return
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.ioloop import IOLoop

        url = api_url.rstrip("/").removesuffix("/api") + "/brepflow/quotas"
        body = {
            "resource": "disk",
            "path": api_path,
            "needed": needed,
            "server": os.environ.get("JUPYTERHUB_SERVER_NAME", ""),
        }
        try:
            usage = disk_usage(folder)
            body.update(limit=usage["total"], used=usage["used"])
        except OSError:
            pass
        request = HTTPRequest(
            url,
            method="POST",
            body=json.dumps(body),
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            request_timeout=10,
        )

        async def send() -> None:
            try:
                await AsyncHTTPClient().fetch(request, raise_error=True)
            except Exception as exc:  # the refusal itself must never depend on the hub answering
                self.log.warning("could not report the disk quota breach to the hub: %s", exc)

        IOLoop.current().spawn_callback(send)

    def _precheck(self, model: dict[str, Any], api_path: str, os_path: str) -> None:
        if not self.precheck:
            return
        needed = _content_bytes(model)
        if not needed:
            return
        folder = os.path.dirname(os_path) or "."
        try:
            usage = disk_usage(folder)
        except OSError:
            return
        # Atomic writing copies the old file first, so an overwrite briefly needs both.
        old = os.path.getsize(os_path) if os.path.isfile(os_path) and model.get("chunk") is None else 0
        if needed + old > usage["free"]:
            raise self._refuse(api_path, os_path, needed + old, None)

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        path = path.strip("/")
        os_path = self._get_os_path(path)
        if os.path.islink(os_path):
            os_path = os.path.join(os.path.dirname(os_path), os.readlink(os_path))
        chunk = model.get("chunk")
        existed = os.path.lexists(os_path)
        backup = path_to_intermediate(os_path)
        backup_existed = os.path.lexists(backup)
        upload_backup = backup + ".upload"
        try:
            self._precheck(model, path, os_path)
        except web.HTTPError:
            # A chunk refused up front (the next one does not fit): JupyterLab gives the upload up,
            # so the chunks already written would stay behind as a truncated file. Remove them and
            # put back the version the upload was replacing.
            if chunk not in (None, 1):
                _remove_file(os_path)
                if os.path.lexists(upload_backup):
                    os.replace(upload_backup, os_path)
            raise
        if chunk == 1 and existed and os.path.isfile(os_path):
            os.replace(os_path, upload_backup)  # a rename costs no space; restored on failure
            existed = False
        try:
            result: dict[str, Any] = await super().save(model, path)
        except Exception as exc:
            cause = _disk_full_cause(exc)
            if cause is None:
                if chunk is not None and os.path.lexists(upload_backup):
                    _remove_file(os_path)
                    os.replace(upload_backup, os_path)
                raise
            if not existed or chunk is not None:
                _remove_file(os_path)
            if not backup_existed:
                _remove_file(backup)
            if chunk is not None and os.path.lexists(upload_backup):
                os.replace(upload_backup, os_path)
            raise self._refuse(path, os_path, _content_bytes(model), cause) from exc
        if chunk == -1 or (chunk is None and os.path.lexists(upload_backup)):
            _remove_file(upload_backup)
        return result

    async def _dir_model(self, path: str, content: bool = True) -> dict[str, Any]:
        # jupyter_server lists a folder entry by entry (listdir, lstat, get): an entry renamed
        # or removed in between -- JupyterLab renaming "untitled.txt" on its first save, a
        # kernel's temporary export, a partial file removed above -- makes the whole listing
        # a 404, which JupyterLab's file browser shows as a modal "Directory not found". The
        # folder is still there: list it again.
        for attempt in range(3):
            try:
                result: dict[str, Any] = await super()._dir_model(path, content=content)
                return result
            except web.HTTPError as exc:
                if exc.status_code != 404 or not content or attempt == 2:
                    raise
                if not os.path.isdir(self._get_os_path(path)):
                    raise
        raise AssertionError("unreachable")

    async def create_checkpoint(self, path: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await super().create_checkpoint(path)
        except Exception as exc:
            cause = _disk_full_cause(exc)
            if cause is None:
                raise
            checkpoints: Any = self.checkpoints
            with contextlib.suppress(Exception):
                _remove_file(checkpoints.checkpoint_path("checkpoint", path.strip("/")))
            raise self._refuse(path, self._get_os_path(path.strip("/")), None, cause) from exc
        return result

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        target = (to_path or os.path.dirname(from_path.strip("/"))).strip("/")
        if not os.path.isdir(self._get_os_path(target)):
            target = os.path.dirname(target)
        folder = self._get_os_path(target)
        before = set(os.listdir(folder))
        try:
            result: dict[str, Any] = await super().copy(from_path, to_path)
        except Exception as exc:
            cause = _disk_full_cause(exc)
            if cause is None:
                raise
            for name in set(os.listdir(folder)) - before:
                _remove_file(os.path.join(folder, name))
            raise self._refuse(
                target + "/" + os.path.basename(from_path), os.path.join(folder, "x"), None, cause
            ) from exc
        return result
