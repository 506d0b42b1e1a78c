"""``planner serve`` (the web app) and ``planner user add`` (its accounts)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
import webbrowser
from pathlib import Path

from planner.app.store import ROLES, Store

DEFAULT_DB = Path("workspace") / "planner.db"
ENV_DB = "PLANNER_DB"


def workspace_root(db: str | os.PathLike | None) -> Path:
    """The workspace folder of a database path (``--db``, else ``PLANNER_DB``, else ``workspace/planner.db``).

    A database URL (PostgreSQL) keeps the app's files in ``workspace/``.
    """
    value = str(db or os.environ.get(ENV_DB) or DEFAULT_DB)
    if "://" in value:
        return Path("workspace")
    return Path(value).parent


def add_serve_parsers(sub) -> None:
    """Register ``serve`` and ``user`` on the CLI's sub-command parsers."""
    s = sub.add_parser("serve", help="start the web app in the browser (http://127.0.0.1:8000)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--db", default=None, help=f"workspace database (default: {DEFAULT_DB} or ${ENV_DB})")
    s.add_argument("--no-browser", action="store_true", help="do not open a browser")
    u = sub.add_parser("user", help="manage the web app's accounts")
    usub = u.add_subparsers(dest="user_command", required=True)
    a = usub.add_parser("add", help="create an account (or reset its password and role)")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--db", default=None)
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the app; refuse a non-loopback address while no account exists (exit 2)."""
    import uvicorn

    from planner.app.auth import is_loopback
    from planner.app.server import create_app

    root = workspace_root(args.db)
    store = Store(root / "app.db")
    if not is_loopback(args.host) and store.count_users() == 0:
        print(
            f"error: refusing to listen on {args.host} with no accounts: anyone on the network could change the plan.\n"
            f"  create one first:  planner user add NAME --role admin" + (f" --db {args.db}" if args.db else ""),
            file=sys.stderr,
        )
        return 2
    app = create_app(root, host=args.host, db=args.db or os.environ.get(ENV_DB))
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"planner: serving workspace {root.resolve()} at {url} (Ctrl-C stops)", file=sys.stderr)
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    """``planner user add NAME --role ROLE``: ask the password twice (or read it from stdin)."""
    from planner.app.auth import add_user

    store = Store(workspace_root(args.db) / "app.db")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            print("error: the passwords differ", file=sys.stderr)
            return 2
    try:
        add_user(store, args.name, args.role, password)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"account {args.name} ({args.role}) saved in {store.path}")
    return 0
