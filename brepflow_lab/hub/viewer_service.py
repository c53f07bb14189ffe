"""The read-only team viewer: a JupyterHub managed service (tornado + HubOAuth).

What a user sees at ``/services/brepflow-viewer/``: their teams; per team, every ``*.bflow.json``
graph under ``<team_root>/<team>`` (owner, size, time, sha256); per graph, its parameters and nodes
and its 3D model, drawn by a small WebGL viewer (``viewer_static/viewer.js``: GLB parser, orbit,
zoom — no CDN, no three.js bundle to ship). Viewers get exactly this and nothing else: they have no
server of their own and no scope on anyone else's, so they cannot start kernels anywhere.

Read-only by construction: the service implements only GET (every other method answers 405),
it never opens a team file for writing, and graphs are evaluated in a child process
(``brepflow-lab render --export glb``) whose output goes to a private temporary folder. Graph files
are untrusted input: the child has CPU, memory and wall-clock limits, IO nodes may only read
inside the graph's own folder (the engine's rule), and when the service runs as root and the
shared user environment exists, the child runs as the file's owner, not as root. The children
are forked from a warm process started with the service (:mod:`brepflow_lab.hub.render_pool`:
imports paid once, so a first render costs what a next one does); without it, a fresh process.

Access: the hub authenticates (OAuth with the hub; API tokens work too) and checks
``access:services!service=<name>``; the service then allows a team only to its members (admins:
all teams), reading memberships with its own token (``read:users``, ``read:groups``). Models are
cached by the graph's sha256, so the same file is evaluated once.

Environment (set by ``brepflow_lab.hub.config``): ``BREPFLOW_TEAM_ROOT``,
``BREPFLOW_VIEWER_RENDER_TIMEOUT``, ``BREPFLOW_VIEWER_RENDER_MEMORY``, ``BREPFLOW_VIEWER_MAX_GRAPHS``,
``BREPFLOW_VIEWER_STATE`` (GLB cache), ``BREPFLOW_VIEWER_PYTHON`` (python of the shared
environment), plus JupyterHub's ``JUPYTERHUB_*`` service variables.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import os
import pwd
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, web
from tornado.httpserver import HTTPServer

from brepflow_lab.hub import audit
from brepflow_lab.hub.render_pool import RenderPool

__all__ = ["ViewerConfig", "main", "make_app"]

STATIC = Path(__file__).resolve().parent / "viewer_static"
GRAPH_SUFFIX = ".bflow.json"


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(float(t))


@dataclass
class ViewerConfig:
    team_root: Path
    prefix: str = "/services/brepflow-viewer/"
    render_timeout: float = 120.0
    render_memory: int = 2 * 1024**3
    max_graphs: int = 500
    cache_dir: Path = Path(tempfile.gettempdir()) / "brepflow-viewer"
    python: str = ""

    @classmethod
    def from_env(cls) -> ViewerConfig:
        state = os.environ.get("BREPFLOW_VIEWER_STATE") or os.path.join(tempfile.gettempdir(), "brepflow-viewer")
        return cls(
            team_root=Path(os.environ.get("BREPFLOW_TEAM_ROOT", "/srv/brepflow/teams")),
            prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/brepflow-viewer/"),
            render_timeout=float(os.environ.get("BREPFLOW_VIEWER_RENDER_TIMEOUT", "120")),
            render_memory=_size(os.environ.get("BREPFLOW_VIEWER_RENDER_MEMORY", "2G")),
            max_graphs=int(os.environ.get("BREPFLOW_VIEWER_MAX_GRAPHS", "500")),
            cache_dir=Path(state) / "cache",
            python=os.environ.get("BREPFLOW_VIEWER_PYTHON", ""),
        )


# -- teams and files ----------------------------------------------------------------------------


class HubDirectory:
    """Who is in which team, from the hub's REST API (cached for a few seconds)."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.api = os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api").rstrip("/")
        self.token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Any]] = {}

    async def _get(self, path: str) -> Any:
        hit = self._cache.get(path)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        client = httpclient.AsyncHTTPClient()
        response = await client.fetch(
            f"{self.api}{path}", headers={"Authorization": f"token {self.token}"}, request_timeout=10
        )
        data = json.loads(response.body)
        self._cache[path] = (time.monotonic(), data)
        return data

    async def teams_of(self, name: str) -> tuple[list[str], bool]:
        """(team names the user may view, whether the user is an admin)."""
        user = await self._get(f"/users/{quote(name, safe='')}")
        groups = await self._get("/groups")
        role_groups = {g["name"] for g in groups if (g.get("properties") or {}).get("kind") == "role"}
        if user.get("admin"):
            return sorted(g["name"] for g in groups if g["name"] not in role_groups), True
        return sorted(g for g in user.get("groups", []) if g not in role_groups), False


class TraversalRefused(web.HTTPError):
    """A graph path that leaves the team's folder (``..``, absolute, a link out): answered like a
    missing graph (404, nothing to probe), recorded in the audit log as ``traversal_refused``."""


def _safe_graph(team_dir: Path, rel: str) -> Path:
    """The graph file ``rel`` inside ``team_dir``; refuses escapes (``..``, absolute, symlinks out)."""
    if rel.startswith("/") or "\\" in rel or ".." in Path(rel).parts:
        raise TraversalRefused(404, f"not a graph: {rel}")
    if not rel.endswith(GRAPH_SUFFIX):
        raise web.HTTPError(404, f"not a graph: {rel}")
    path = (team_dir / rel).resolve()
    if not path.is_relative_to(team_dir.resolve()):
        raise TraversalRefused(404, f"no graph {rel}")
    if not path.is_file():
        raise web.HTTPError(404, f"no graph {rel}")
    return path


def list_graphs(team_dir: Path, limit: int) -> list[dict[str, Any]]:
    """The team's graphs (newest first), skipping hidden folders and checkpoints."""
    out: list[dict[str, Any]] = []
    if not team_dir.is_dir():
        return out
    base = team_dir.resolve()
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in filenames:
            if not fn.endswith(GRAPH_SUFFIX) or fn.startswith("."):
                continue
            path = Path(dirpath) / fn
            if not path.resolve().is_relative_to(base):
                continue
            st = path.stat()
            try:
                owner = pwd.getpwuid(st.st_uid).pw_name
            except KeyError:
                owner = str(st.st_uid)
            out.append(
                {"path": str(path.relative_to(base)), "bytes": st.st_size, "modified": st.st_mtime, "owner": owner}
            )
            if len(out) >= limit:
                break
        if len(out) >= limit:
            break
    out.sort(key=lambda g: -g["modified"])
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- rendering -------------------------------------------------------------------------------------


class RenderError(Exception):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _preexec(memory: int, cpu_seconds: int, uid: int | None, gid: int | None) -> Callable[[], None]:
    groups = os.getgrouplist(pwd.getpwuid(uid).pw_name, gid) if uid is not None and gid is not None else None

    def limit() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None and gid is not None:
            os.setgid(gid)
            os.setgroups(groups or [gid])
            os.setuid(uid)

    return limit


class Renderer:
    """Evaluates a graph into GLB parts in a limited child process; caches by content hash."""

    def __init__(self, config: ViewerConfig) -> None:
        self.config = config
        self.cache_dir = config.cache_dir
        self.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(max(1, (os.cpu_count() or 2) // 2))
        self.pool: RenderPool | None = None

    async def start(self) -> None:
        """Start the warm render process (:mod:`brepflow_lab.hub.render_pool`) in the background."""
        python = self.config.python
        if not (os.geteuid() == 0 and python and os.access(python, os.X_OK)):
            python = sys.executable
        self.pool = RenderPool(python, _child_env())
        try:
            await self.pool.start()
        except OSError as exc:
            logging.warning("no warm render process (%s): every render starts a fresh one", exc)
            self.pool = None

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def _pool_ready(self) -> bool:
        """Is the warm process there? Waits for its imports (started with the service) once."""
        if self.pool is None:
            return False
        if await self.pool.wait_ready(self.config.render_timeout / 2):
            return True
        if self.pool.proc is not None and self.pool.proc.returncode is not None:
            logging.warning("the warm render process ended (%s): starting another", self.pool.proc.returncode)
            await self.start()  # for the next render; this one takes the cold path
        return False

    async def _run_warm(
        self, argv: list[str], tmp: str, uid: int | None, gid: int | None, env: dict[str, str], timeout: float
    ) -> tuple[int, bytes, bytes]:
        assert self.pool is not None
        out, err = Path(tmp) / "render.stdout", Path(tmp) / "render.stderr"
        groups = os.getgrouplist(pwd.getpwuid(uid).pw_name, gid) if uid is not None and gid is not None else None
        job = {
            "argv": argv,
            "cwd": tmp,
            "env": env,
            "uid": uid,
            "gid": gid,
            "groups": groups,
            "memory": self.config.render_memory,
            "cpu_seconds": int(timeout) + 5,
            "stdout": str(out),
            "stderr": str(err),
        }
        try:
            code = await self.pool.run(job, timeout)
        except asyncio.TimeoutError:
            raise RenderError(f"evaluating the graph took longer than {timeout:g} s", 504) from None
        read = lambda p: p.read_bytes() if p.is_file() else b""  # noqa: E731
        return code, read(out), read(err)

    def _runner(self, graph: Path) -> tuple[str, int | None, int | None]:
        """(python, uid, gid): the file owner's identity when we are root and can run as them."""
        st = graph.stat()
        python = self.config.python
        if os.geteuid() == 0 and st.st_uid != 0 and python and os.access(python, os.X_OK):
            try:
                pwd.getpwuid(st.st_uid)
            except KeyError:
                return sys.executable, None, None
            return python, st.st_uid, st.st_gid
        return sys.executable, None, None

    async def render(self, graph: Path) -> dict[str, Any]:
        sha = _sha256(graph)
        folder = self.cache_dir / sha
        report = folder / "report.json"
        lock = self._locks.setdefault(sha, asyncio.Lock())
        async with lock:
            if report.is_file():
                return dict(json.loads(report.read_text()))
            async with self._slots:
                result = await self._run(graph, sha, folder)
            report.write_text(json.dumps(result))
            return result

    async def _run(self, graph: Path, sha: str, folder: Path) -> dict[str, Any]:
        """Render into a private temporary folder, then copy the GLB parts into ``folder``."""
        python, uid, gid = self._runner(graph)
        with tempfile.TemporaryDirectory(prefix="bfview-") as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            if uid is not None and gid is not None:
                os.chown(tmp, uid, gid)
                os.chown(out, uid, gid)
            cmd = [python, "-m", "brepflow_lab.cli", "render", str(graph), "--export", "glb", "--quality", "preview"]
            cmd += ["--out", str(out)]
            timeout = self.config.render_timeout
            env = {**_child_env(), "HOME": tmp, "MPLCONFIGDIR": tmp}
            started = time.monotonic()
            warm = None
            if await self._pool_ready():
                try:
                    warm = await self._run_warm(cmd[3:], tmp, uid, gid, env, timeout)
                except RuntimeError as exc:  # the warm process ended under this render: a fresh one
                    logging.warning("%s: rendering %s in a fresh process", exc, graph.name)
            if warm is not None:
                returncode, stdout, stderr = warm
            else:
                proc = await asyncio.create_subprocess_exec(
                    *cmd,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    cwd=tmp,
                    env=env,
                    preexec_fn=_preexec(self.config.render_memory, int(timeout) + 5, uid, gid),
                )
                try:
                    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
                except asyncio.TimeoutError:
                    os.killpg(proc.pid, 9)
                    await proc.wait()
                    raise RenderError(f"evaluating the graph took longer than {timeout:g} s", 504) from None
                returncode = proc.returncode if proc.returncode is not None else -1
            seconds = time.monotonic() - started
            errors = stderr.decode(errors="replace").strip()
            if returncode not in (0, 2):
                raise RenderError(f"the graph could not be evaluated (exit {returncode}): {errors[-2000:]}")
            manifest_path = out / "manifest.json"
            if not manifest_path.is_file():
                raise RenderError(f"the graph produced no model: {errors[-2000:]}")
            manifest = json.loads(manifest_path.read_text())
            parts = []
            for i, e in enumerate(x for x in manifest.get("exports", []) if x["format"] == "glb"):
                name = f"part{i}.glb"
                parts.append({"node": e["node"], "file": name, "bytes": e["bytes"], "tmp": str(out / e["path"])})
            if not parts:
                raise RenderError("the graph has no shape to show (no terminal solid or surface)")
            folder.mkdir(parents=True, exist_ok=True)
            for part in parts:
                shutil.copyfile(part.pop("tmp"), folder / part["file"])
            failed = {
                nid: n.get("error") for nid, n in manifest.get("nodes", {}).items() if n.get("status") == "failed"
            }
            return {
                "sha256": sha,
                "seconds": round(seconds, 3),
                "parts": parts,
                "failed": failed,
                "shapes": manifest.get("shapes", {}),
                "stdout": stdout.decode(errors="replace")[-500:],
            }


def _child_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    return {k: os.environ[k] for k in keep if k in os.environ}


# -- handlers ---------------------------------------------------------------------------------------


class _Base(HubOAuthenticated, web.RequestHandler):
    """GET only; every other method is 405 (tornado's default for methods not defined)."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    @property
    def config(self) -> ViewerConfig:
        return self.settings["viewer_config"]

    @property
    def directory(self) -> HubDirectory:
        return self.settings["directory"]

    async def allowed_team(self, team: str) -> Path:
        user = self.current_user
        teams, _admin = await self.directory.teams_of(user["name"])
        if team not in teams:
            raise web.HTTPError(403, f"{user['name']} is not a member of team {team!r}")
        return self.config.team_root / team

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise web.HTTPError(405, "the team viewer is read-only")

    post = put = patch = delete = _refuse

    def _user_name(self) -> str | None:
        try:
            user = self.current_user
        except Exception:
            return None
        return str(user["name"]) if isinstance(user, dict) and "name" in user else None

    def accessed(self, team: str, **what: Any) -> None:
        """What this request showed (a team's list, a graph, its model): ``viewer_access`` once answered."""
        self._access = {"team": team, **what, "format": self.get_argument("format", "") or "html"}

    def on_finish(self) -> None:
        """Into the hub's audit log: who saw which team list, graph or model (``viewer_access``,
        once answered), and refusals: writes (405), teams one is not in (403), traversal."""
        refused = getattr(self, "_refused", None)
        status = self.get_status()
        access = getattr(self, "_access", None)
        if access is not None and status == 200:
            try:
                audit.record("viewer_access", user=self._user_name(), **access, client=self.request.remote_ip)
            except Exception:  # the audit never breaks an answer
                logging.getLogger("brepflow-viewer").exception("could not record viewer_access")
            return
        if isinstance(refused, TraversalRefused):
            kind = "traversal_refused"
        elif status == 405:
            kind = "viewer_write_refused"
        elif status == 403:
            kind = "viewer_refused"
        else:
            return
        message = refused.log_message if isinstance(refused, web.HTTPError) else self._reason
        try:
            audit.record(
                kind,
                user=self._user_name(),
                method=self.request.method,
                path=self.request.path,
                status=status,
                reason=str(message)[:300],
                client=self.request.remote_ip,
            )
        except Exception:  # the audit never breaks an answer
            logging.getLogger("brepflow-viewer").exception("could not record %s", kind)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason
        exc = kwargs.get("exc_info", (None, None))[1]
        self._refused = exc
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        if isinstance(exc, RenderError):
            message = str(exc)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message}))

    def page(self, title: str, body: str) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_PAGE.format(title=html.escape(title), body=body, prefix=html.escape(self.config.prefix)))


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title} — BrepFlow team viewer</title>
<style>body{{font-family:system-ui,sans-serif;margin:0 2em;color:#222}} a{{color:#1565c0}}
table{{border-collapse:collapse}} td,th{{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}}
#view{{width:100%;max-width:960px;height:560px;border:1px solid #ccc;background:#f4f6f8;display:block}}
.muted{{color:#777}} .err{{color:#b00020}}</style></head>
<body><p class="muted"><a href="{prefix}">Teams</a> · read-only</p><h1>{title}</h1>{body}</body></html>"""


class IndexHandler(_Base):
    @web.authenticated
    async def get(self) -> None:
        teams, admin = await self.directory.teams_of(self.current_user["name"])
        if self.get_argument("format", "") == "json":
            self.finish({"user": self.current_user["name"], "admin": admin, "teams": teams})
            return
        items = "".join(
            f'<li><a class="team" href="{html.escape(self.config.prefix)}teams/{quote(t)}/">{html.escape(t)}</a></li>'
            for t in teams
        )
        self.page(
            f"Teams of {self.current_user['name']}", f"<ul>{items}</ul>" if items else "<p>You are in no team yet.</p>"
        )


class TeamHandler(_Base):
    @web.authenticated
    async def get(self, team: str) -> None:
        team_dir = await self.allowed_team(team)
        graphs = list_graphs(team_dir, self.config.max_graphs)
        self.accessed(team, page="team", graphs=len(graphs))
        if self.get_argument("format", "") == "json":
            self.finish({"team": team, "graphs": graphs})
            return
        rows = "".join(
            f'<tr><td><a class="graph" href="{html.escape(self.config.prefix)}teams/{quote(team)}/graphs/'
            f'{quote(g["path"])}">{html.escape(g["path"])}</a></td><td>{html.escape(g["owner"])}</td>'
            f"<td>{g['bytes']}</td><td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(g['modified']))}</td></tr>"
            for g in graphs
        )
        body = (
            "<table><tr><th>graph</th><th>owner</th><th>bytes</th><th>modified</th></tr>" + rows + "</table>"
            if rows
            else "<p>No graphs in this team's folder yet.</p>"
        )
        self.page(f"Team {team}", body)


def _graph_summary(path: Path) -> dict[str, Any]:
    from brepflow_lab.graph import bflow

    doc = bflow.load(path)
    return {
        "units": doc.units,
        "parameters": {k: p.value for k, p in doc.parameters.items()},
        "nodes": [{"id": n.id, "type": n.type, "params": dict(n.params)} for n in doc.nodes],
        "edges": len(doc.edges),
    }


class GraphHandler(_Base):
    @web.authenticated
    async def get(self, team: str, rel: str) -> None:
        team_dir = await self.allowed_team(team)
        path = _safe_graph(team_dir, rel)
        try:
            summary = _graph_summary(path)
        except Exception as exc:
            raise web.HTTPError(422, f"{rel} is not a valid BrepFlow graph: {exc}") from None
        summary.update({"team": team, "path": rel, "sha256": _sha256(path), "bytes": path.stat().st_size})
        self.accessed(team, page="graph", graph=rel, file=str(path), sha256=summary["sha256"])
        if self.get_argument("format", "") == "json":
            self.finish(summary)
            return
        base = f"{self.config.prefix}teams/{quote(team)}/graphs/{quote(rel)}"
        # the page's fetch() calls are cookie-authenticated, so JupyterHub's XSRF check wants the token
        xsrf = self.xsrf_token.decode("ascii")
        params = "".join(
            f"<tr><td>@{html.escape(k)}</td><td>{html.escape(json.dumps(v))}</td></tr>"
            for k, v in summary["parameters"].items()
        )
        nodes = "".join(
            f"<tr><td>{html.escape(n['id'])}</td><td>{html.escape(n['type'])}</td>"
            f"<td>{html.escape(json.dumps(n['params']))}</td></tr>"
            for n in summary["nodes"]
        )
        body = f"""<p class="muted">sha256 {summary["sha256"][:16]}… · units {html.escape(summary["units"])}</p>
<canvas id="view" data-model="{html.escape(base)}/model" data-xsrf="{html.escape(xsrf)}"></canvas>
<p id="status" class="muted">evaluating the graph…</p>
<h2>Parameters</h2><table>{params or "<tr><td>none</td></tr>"}</table>
<h2>Nodes</h2><table><tr><th>id</th><th>type</th><th>params</th></tr>{nodes}</table>
<script src="{html.escape(self.config.prefix)}static/viewer.js"></script>"""
        self.page(rel, body)


class ModelHandler(_Base):
    """``.../model`` → the render report (parts, timings, failed nodes); ``.../model/<part>.glb`` → bytes."""

    @web.authenticated
    async def get(self, team: str, rel: str, part: str | None = None) -> None:
        team_dir = await self.allowed_team(team)
        path = _safe_graph(team_dir, rel)
        try:
            report = await self.settings["renderer"].render(path)
        except RenderError as exc:
            raise web.HTTPError(exc.status, str(exc)) from None
        self.accessed(team, page="model", graph=rel, file=str(path), sha256=report["sha256"], part=part)
        if part is None:
            base = f"{self.config.prefix}teams/{quote(team)}/graphs/{quote(rel)}/model"
            parts = [{**p, "url": f"{base}/{p['file']}"} for p in report["parts"]]
            self.finish({**report, "parts": parts})
            return
        names = {p["file"] for p in report["parts"]}
        if part not in names:
            raise web.HTTPError(404, f"no part {part}")
        self.set_header("Content-Type", "model/gltf-binary")
        self.set_header("Cache-Control", "private, max-age=3600")
        self.finish((self.settings["renderer"].cache_dir / report["sha256"] / part).read_bytes())


class StaticHandler(web.StaticFileHandler):
    def post(self, *args: Any, **kwargs: Any) -> None:
        raise web.HTTPError(405)


def make_app(config: ViewerConfig | None = None) -> web.Application:
    config = config or ViewerConfig.from_env()
    prefix = config.prefix
    graph = r"teams/([^/]+)/graphs/(.+?\.bflow\.json)"
    return web.Application(
        [
            (prefix, IndexHandler),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            (url_path_join(prefix, r"static/(.*)"), StaticHandler, {"path": str(STATIC)}),
            (url_path_join(prefix, r"teams/([^/]+)/?"), TeamHandler),
            (url_path_join(prefix, graph + r"/model/(part\d+\.glb)"), ModelHandler),
            (url_path_join(prefix, graph + r"/model"), ModelHandler),
            (url_path_join(prefix, graph), GraphHandler),
        ],
        cookie_secret=os.urandom(32),
        viewer_config=config,
        directory=HubDirectory(),
        renderer=Renderer(config),
    )


async def _serve() -> None:
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8091"))
    app = make_app()
    renderer: Renderer = app.settings["renderer"]
    await renderer.start()  # warm before the first viewer asks: a first render costs what a next one does
    server = HTTPServer(app, xheaders=True)
    server.listen(url.port or 8091, url.hostname or "127.0.0.1")
    logging.info("serving %s on %s", app.settings["viewer_config"].prefix, url.geturl())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.stop()
    await renderer.close()
    logging.info("stopped")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s brepflow-viewer] %(message)s")
    asyncio.run(_serve())


if __name__ == "__main__":
    main()
