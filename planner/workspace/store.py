"""Open, create and migrate the workspace database; one transaction per command.

The database is an SQLite file by default (``workspace/planner.db``; ``--db`` or the
environment variable ``PLANNER_DB`` name another file or a URL such as
``postgresql+psycopg://user:pw@host/db``). SQLite runs in WAL mode with foreign keys on and
every write transaction starts with ``BEGIN IMMEDIATE``; PostgreSQL writers take one
transaction-level advisory lock. Either way two processes writing at once are serialised:
neither loses a write.

Errors (:class:`WorkspaceError`, exit code 5): no workspace yet, a schema newer than this
program, a file that is not a database, a database locked for longer than the timeout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, sessionmaker

from planner.model.errors import PlannerError
from planner.workspace.db import Audit

DEFAULT_DB = Path("workspace") / "planner.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def lock_timeout_s() -> float:
    """Seconds a writer waits for another one (``PLANNER_DB_TIMEOUT``, default 30)."""
    return float(os.environ.get("PLANNER_DB_TIMEOUT", "30"))


ADVISORY_KEY = 0x504C414E  # "PLAN"


class WorkspaceError(PlannerError):
    """The workspace database cannot be used as it is (exit code 5)."""

    exit_code = 5


def db_url(db: str | Path | None = None) -> str:
    """The database URL from ``--db``, else ``PLANNER_DB``, else ``workspace/planner.db``.

    Parameters
    ----------
    db : str or path, optional
        A file path or an SQLAlchemy URL.

    Returns
    -------
    str
        An SQLAlchemy URL.
    """
    value = str(db) if db else os.environ.get("PLANNER_DB") or str(DEFAULT_DB)
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).resolve()}"


def sqlite_path(url: str) -> Path | None:
    return Path(url.split("sqlite:///", 1)[1]) if url.startswith("sqlite:///") else None


def make_engine(url: str) -> Engine:
    """An engine with the workspace's connection rules (WAL, foreign keys, immediate writes)."""
    if url.startswith("sqlite"):
        timeout = lock_timeout_s()
        engine = create_engine(url, connect_args={"timeout": timeout})

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # let the "begin" hook below open transactions
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    timeout_ms = int(lock_timeout_s() * 1000)
    return create_engine(url, pool_pre_ping=True, connect_args={"options": f"-c lock_timeout={timeout_ms}"})


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def translate(err: Exception, url: str) -> WorkspaceError:
    """A clear message for a database error (locked, corrupt, unreachable)."""
    msg = str(getattr(err, "orig", err) or err)
    where = sqlite_path(url) or url.split("@")[-1]
    if "locked" in msg or "busy" in msg or "lock timeout" in msg:
        return WorkspaceError(
            f"the workspace database {where} is locked by another process for more than {lock_timeout_s():.0f} s; "
            "try again when it has finished (or raise PLANNER_DB_TIMEOUT)"
        )
    if "not a database" in msg or "malformed" in msg or "file is encrypted" in msg:
        return WorkspaceError(
            f"{where} is not a readable workspace database ({msg}); restore it from a backup "
            "(*.bak-* beside it) or run 'planner init --db NEW_FILE'"
        )
    return WorkspaceError(f"the workspace database {where} cannot be used: {msg.splitlines()[0] if msg else err!r}")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass
class Workspace:
    """An open workspace database: one engine, one session per unit of work."""

    url: str
    engine: Engine

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.url)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything inside commits together or not at all.

        Writers are serialised (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so two
        processes writing at once both land, one after the other.
        """
        maker = sessionmaker(self.engine, expire_on_commit=False)
        try:
            with maker() as session, session.begin():
                if self.engine.dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
                yield session
        except exc.DBAPIError as err:
            raise translate(err, self.url) from err

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def audit(session: Session, action: str, entity: str, entity_id, before=None, after=None, detail: str = "") -> None:
    """Add one line to the audit trail (who = ``PLANNER_USER`` or the login name)."""
    who = os.environ.get("PLANNER_USER") or getpass.getuser()
    session.add(
        Audit(
            who=who,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            detail=detail,
        )
    )


def backup_sqlite(path: Path) -> Path:
    """Copy an SQLite file (with its WAL checkpointed) beside it as ``NAME.bak-<UTC time>``."""
    import sqlite3

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    dest = path.with_name(f"{path.name}.bak-{stamp}")
    src = sqlite3.connect(str(path))
    try:
        out = sqlite3.connect(str(dest))
        with out:
            src.backup(out)
        out.close()
    finally:
        src.close()
    return dest


def migrate(engine: Engine, url: str) -> str | None:
    """Upgrade the schema to the newest revision; back up an SQLite file first.

    Returns
    -------
    str or None
        The backup file written, if any.
    """
    rev = current_revision(engine)
    if rev is not None and rev not in known_revisions():
        raise WorkspaceError(
            f"the workspace database has schema revision {rev!r}, newer than this planner knows "
            f"(newest {head_revision()!r}); upgrade planner to use it"
        )
    if rev == head_revision():
        return None
    backup = None
    path = sqlite_path(url)
    if rev is not None and path is not None and path.exists():
        backup = str(backup_sqlite(path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return backup


def init_workspace(db: str | Path | None = None) -> tuple[Workspace, bool]:
    """Create (or upgrade) the workspace database.

    Parameters
    ----------
    db : str or path, optional
        File or URL (see :func:`db_url`).

    Returns
    -------
    (Workspace, bool)
        The open workspace and whether it was created now.
    """
    url = db_url(db)
    path = sqlite_path(url)
    created = path is not None and not path.exists()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        if path is None:
            created = current_revision(engine) is None
        migrate(engine, url)
    except exc.DBAPIError as err:
        engine.dispose()
        raise translate(err, url) from err
    except WorkspaceError:
        engine.dispose()
        raise
    return Workspace(url, engine), created


def open_workspace(db: str | Path | None = None, *, required: bool = True) -> Workspace | None:
    """Open an existing workspace, upgrading an older schema (after a backup).

    Parameters
    ----------
    db : str or path, optional
        File or URL (see :func:`db_url`).
    required : bool
        Raise when there is no workspace; else return None.

    Returns
    -------
    Workspace or None

    Raises
    ------
    WorkspaceError
        No workspace (``planner init`` first), a newer schema, a corrupt or locked database.
    """
    url = db_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        if not required:
            return None
        raise WorkspaceError(f"no workspace database at {path}; run 'planner init' first (or pass --db)")
    engine = make_engine(url)
    try:
        rev = current_revision(engine)
        if rev is None:
            if not required:
                engine.dispose()
                return None
            raise WorkspaceError(f"{path or url} holds no workspace schema; run 'planner init' first")
        migrate(engine, url)
    except exc.DBAPIError as err:
        engine.dispose()
        raise translate(err, url) from err
    except WorkspaceError:
        engine.dispose()
        raise
    return Workspace(url, engine)
