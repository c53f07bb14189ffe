"""``brepflow-lab hub ...``: start the team hub, query its audit log, back it up and restore it.

::

    brepflow-lab hub [--config hub.yaml] [--port 8000]      start JupyterHub + proxy (Ctrl-C stops all)
    brepflow-lab hub audit [--user U] [--since 2h] [--kind login] [--json]
    brepflow-lab hub backup DIR          database (online), hub.yaml, secrets, audit log, all files
    brepflow-lab hub restore DIR [--force]
    brepflow-lab hub passwd USER [--password-stdin]         set a local account's password (bootstrap)
    brepflow-lab hub config [--describe]                    the effective settings / every key's help
    brepflow-lab hub quota show [USER]                      limits and live usage
    brepflow-lab hub setup                                  build the users' shared environment

Without ``--config`` the built-in defaults apply (the same as ``hub_config/hub.yaml``): SQLite
in ``/srv/brepflow/hub``, local accounts, BrepFlowSpawner. ``start`` runs ``jupyterhub`` as a
child in its own session and forwards SIGINT/SIGTERM to it once; JupyterHub then stops the proxy,
every server it started and its managed services before exiting.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from brepflow_lab.hub.config import HubConfigError, Settings, describe, load_settings, to_dict

__all__ = ["add_parser", "main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 64

THIN_CONFIG = '''"""Written by `brepflow-lab hub`: every setting comes from hub.yaml ($BREPFLOW_HUB_CONFIG)."""
from brepflow_lab.hub.wiring import configure

configure(get_config())  # noqa: F821
'''


def _settings(args: argparse.Namespace, overrides: dict[str, Any] | None = None) -> Settings:
    return load_settings(getattr(args, "config", None), overrides)


def _err(message: str) -> int:
    print(f"brepflow-lab hub: {message}", file=sys.stderr)
    return EXIT_ERROR


# -- start ------------------------------------------------------------------------------------------


def cmd_start(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.port is not None:
        overrides = {"hub": {"port": args.port}}
    settings = _settings(args, overrides)
    proxy = shutil.which("configurable-http-proxy")
    if proxy is None:
        return _err("configurable-http-proxy is not installed: npm install -g configurable-http-proxy")
    from brepflow_lab.hub.private import secure_state

    state = secure_state(settings)  # refused here, with the reason, if another account owns it
    from brepflow_lab.hub.wiring import environment_warning

    stale = environment_warning(settings)
    if stale:
        print(f"brepflow-lab hub: warning: {stale}", file=sys.stderr)
    thin = state / "jupyterhub_config.py"
    thin.write_text(THIN_CONFIG)
    os.chmod(thin, 0o600)
    env = dict(os.environ)
    if args.config:
        env["BREPFLOW_HUB_CONFIG"] = str(Path(args.config).resolve())
    else:
        env.pop("BREPFLOW_HUB_CONFIG", None)
    if overrides:
        env["BREPFLOW_HUB_OVERRIDES"] = json.dumps(overrides)
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(thin)]
    print(f"brepflow-lab hub: starting JupyterHub at {settings.public_base()} (state in {state})", flush=True)
    child = subprocess.Popen(cmd, cwd=state, env=env, start_new_session=True)
    forwarded = False

    def forward(signum: int, _frame: Any) -> None:
        nonlocal forwarded
        if not forwarded and child.poll() is None:
            forwarded = True
            child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                code = child.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if child.poll() is None:
            child.kill()
            child.wait()
    return 0 if forwarded and code in (0, -signal.SIGTERM) else code


# -- audit ----------------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from brepflow_lab.hub import audit

    path = Path(args.log) if args.log else _settings(args).audit_log
    since = audit.parse_since(args.since) if args.since else None
    result = audit.read(path, user=args.user, since=since, kinds=args.kind or None)
    for event in result.events:
        if args.json:
            print(json.dumps(event, ensure_ascii=False))
        else:
            rest = {k: v for k, v in event.items() if k not in ("ts", "kind", "user")}
            detail = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in rest.items())
            print(f"{event.get('ts')}  {event.get('kind', '?'):<13} {event.get('user') or '-':<12} {detail}".rstrip())
    if result.bad_lines:
        print(f"{path}: {len(result.bad_lines)} line(s) are not JSON: {result.bad_lines[:10]}", file=sys.stderr)
    return EXIT_OK


# -- backup / restore -----------------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    from brepflow_lab.hub.backup import backup

    settings = _settings(args)
    manifest = backup(settings, args.dir, config_path=args.config, progress=lambda m: print(f"  {m}"))
    parts = manifest["parts"]
    print(
        f"backed up {len(manifest.get('users', {}))} user(s), {len(manifest.get('groups', {}))} group(s), "
        f"{parts['teams.tar']['files']} team file(s), {parts['homes.tar']['files']} home file(s) "
        f"to {args.dir} in {manifest['seconds']} s"
    )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from brepflow_lab.hub.backup import restore

    settings = _settings(args)
    summary = restore(settings, args.dir, config_path=args.config, force=args.force, progress=lambda m: print(f"  {m}"))
    print(
        f"restored {len(summary['users'])} user(s), {len(summary['groups'])} group(s), files {summary['files']}; "
        f"Unix accounts: {len(summary['unix_accounts'])}. Start the hub again: brepflow-lab hub"
        + (f" --config {args.config}" if args.config else "")
    )
    print(
        f"the backup's own hub.yaml is saved as {summary['config_from_backup']} "
        f"({'compare it with ' + args.config + ', which was not changed' if args.config else 'for reference'})"
    )
    return EXIT_OK


# -- accounts ---------------------------------------------------------------------------------------


def cmd_passwd(args: argparse.Namespace) -> int:
    from brepflow_lab.hub import audit
    from brepflow_lab.hub.accounts import USERNAME_HELP, USERNAME_RE, AccountStore, check_password

    settings = _settings(args)
    if settings.authentication.type != "local":
        return _err("passwd sets local account passwords; this hub uses OAuth")
    name = args.user.lower()
    if not USERNAME_RE.match(name):
        return _err(f"user names are {USERNAME_HELP}")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"new password for {name}: ")
        if getpass.getpass("again: ") != password:
            return _err("the passwords differ")
    local = settings.authentication.local
    problems = check_password(
        name, password, min_length=local.min_password_length, check_common=local.check_common_passwords
    )
    if problems:
        return _err("; ".join(problems))
    from brepflow_lab.hub.private import secure_state

    secure_state(settings)  # often the first command on a new hub: it makes the state folder, privately
    audit.configure(settings.audit_log)
    store = AccountStore(settings.db_url)
    try:
        store.set_password(name, password, by="cli")
    finally:
        store.dispose()
    audit.record("password_change", user=name, by=f"cli:{getpass.getuser()}")
    print(f"password set for {name}" + (" (admin)" if name in settings.roles["admin"].members else ""))
    return EXIT_OK


# -- config, quota, setup -------------------------------------------------------------------------


def cmd_config(args: argparse.Namespace) -> int:
    if args.describe:
        for key, default, help_text in describe():
            shown = json.dumps(default) if not isinstance(default, dict) else "{...}"
            print(f"{key} = {shown}\n    {help_text}")
        return EXIT_OK
    import yaml

    from brepflow_lab.hub.quota import table_warnings

    settings = _settings(args)
    print(yaml.safe_dump(to_dict(settings), sort_keys=False), end="")
    for warning in table_warnings(settings.quotas):
        print(f"warning: {warning}", file=sys.stderr)
    from brepflow_lab.hub.wiring import environment_warning

    stale = environment_warning(settings)
    if stale:
        print(f"warning: {stale}", file=sys.stderr)
    return EXIT_OK


def _hub_users(settings: Settings) -> dict[str, list[str]]:
    """User -> group names, read (read-only) from the hub's SQLite database."""
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    if not settings.db_url.startswith("sqlite:///") or not db.is_file():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        users: dict[str, list[str]] = {name: [] for (name,) in con.execute("SELECT name FROM users ORDER BY name")}
        for user, group in con.execute(
            "SELECT u.name, g.name FROM user_group_map m JOIN users u ON u.id = m.user_id "
            "JOIN groups g ON g.id = m.group_id"
        ):
            users[user].append(group)
    finally:
        con.close()
    return users


def cmd_quota(args: argparse.Namespace) -> int:
    from brepflow_lab.hub import quota
    from brepflow_lab.hub.users import Layout

    settings = _settings(args)
    role_groups = set(settings.role_groups().values())
    users = _hub_users(settings)
    names = [args.user] if args.user else sorted(users)
    if not names:
        return _err("no users yet (the hub database is empty or missing)")
    layout = Layout(
        home_root=Path(settings.storage.home_root),
        team_root=Path(settings.storage.team_root),
        disk_root=Path(settings.storage.disk_root),
    )
    rows = []
    for name in names:
        teams = [g for g in users.get(name, []) if g not in role_groups]
        rows.append((quota.resolve(settings.quotas, name, teams), quota.usage(name, layout=layout, teams=teams)))
    if args.json:
        print(json.dumps([{"quota": q.to_dict(), "usage": u} for q, u in rows], indent=2, default=str))
    else:
        print(quota.format_report(rows))
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    from brepflow_lab.hub.users import ensure_environment

    settings = _settings(args)
    prefix = ensure_environment(settings.storage.env_prefix, echo=print)
    print(f"shared environment ready at {prefix}")
    return EXIT_OK


# -- wiring ---------------------------------------------------------------------------------------


def _config_option(p: argparse.ArgumentParser, top: bool = False) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        default=None if top else argparse.SUPPRESS,
        help="hub.yaml (default: built-in defaults, the same as hub_config/hub.yaml)",
    )


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``hub`` and its subcommands to the main ``brepflow-lab`` parser."""
    hub = subparsers.add_parser("hub", help="the team hub: start it, audit, backup, restore")
    _config_option(hub, top=True)
    hub.add_argument("--port", type=int, default=None, help="port users connect to (default from hub.yaml: 8000)")
    hub.set_defaults(func=run, hub_func=cmd_start)
    sub = hub.add_subparsers(dest="hub_command", metavar="{audit,backup,restore,passwd,config,quota,setup}")

    p = sub.add_parser("audit", help="query the audit log")
    _config_option(p)
    p.add_argument("--user", help="only events of this user")
    p.add_argument("--since", help="only events since: 30m, 2h, 7d or an ISO time")
    p.add_argument("--kind", action="append", help="only this kind (repeatable): login, login_failed, graph_save, ...")
    p.add_argument("--log", help="read this file instead of the configured audit log")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(hub_func=cmd_audit)

    p = sub.add_parser("backup", help="back up database, hub.yaml, secrets, audit log and files")
    _config_option(p)
    p.add_argument("dir", help="a new or empty folder")
    p.set_defaults(hub_func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup (stop the hub first)")
    _config_option(p)
    p.add_argument("dir", help="a folder written by `brepflow-lab hub backup`")
    p.add_argument("--force", action="store_true", help="restore even if the hub's pid file names a live process")
    p.set_defaults(hub_func=cmd_restore)

    p = sub.add_parser("passwd", help="create or reset a local account (approved) with a password")
    _config_option(p)
    p.add_argument("user")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(hub_func=cmd_passwd)

    p = sub.add_parser("config", help="print the effective settings")
    _config_option(p)
    p.add_argument("--describe", action="store_true", help="every key with its default and help")
    p.set_defaults(hub_func=cmd_config)

    p = sub.add_parser("quota", help="quotas and usage")
    _config_option(p)
    qsub = p.add_subparsers(dest="quota_command", required=True)
    q = qsub.add_parser("show", help="limits and live usage of every user (or one)")
    _config_option(q)
    q.add_argument("user", nargs="?")
    q.add_argument("--json", action="store_true")
    q.set_defaults(hub_func=cmd_quota)

    p = sub.add_parser("setup", help="build the shared environment users' servers run from")
    _config_option(p)
    p.set_defaults(hub_func=cmd_setup)
    return hub


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed ``brepflow-lab hub ...`` command; problems become messages, not tracebacks."""
    from brepflow_lab.hub.backup import BackupError

    try:
        return int(args.hub_func(args))
    except HubConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except (BackupError, FileNotFoundError, ValueError, PermissionError) as exc:
        return _err(str(exc))


def main(argv: list[str] | None = None) -> int:
    """``python -m brepflow_lab.hub.cli ...`` (the same as ``brepflow-lab hub ...``)."""
    parser = argparse.ArgumentParser(prog="brepflow-lab")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
