"""The app's own record: accounts, login attempts and the job queue, in ``app.db`` (SQLite).

The workspace database of :mod:`planner.workspace` holds the plans and the visit log; this
small file holds only what the web app needs to run. Every call opens its own connection
(one unit of work, WAL mode) so the server, its threads and the worker process can share it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

ROLES = ("viewer", "planner", "admin")
JOB_KINDS = ("plan", "compare", "replan")
#: States of a job: queued -> running -> done | failed | cancelled.
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'planner', 'admin')),
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    created_by TEXT NOT NULL,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def now_iso() -> str:
    """The current UTC time as an ISO string (seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Store:
    """Accounts, login attempts, settings and jobs of one workspace.

    Parameters
    ----------
    path : path
        The SQLite file (created with its tables when missing).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def connect(self):
        """One connection and transaction: committed on success, rolled back on error."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as con:
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA busy_timeout=30000")
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # ------------------------------------------------------------ settings
    def secret_key(self) -> str:
        """The key that signs session cookies, made once per workspace."""
        with self.connect() as con:
            row = con.execute("SELECT value FROM settings WHERE key='secret_key'").fetchone()
            if row:
                return row["value"]
            key = secrets.token_urlsafe(32)
            con.execute("INSERT INTO settings(key, value) VALUES('secret_key', ?)", (key,))
            return key

    # ------------------------------------------------------------ users
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        """Create or replace an account."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO users(name, role, password_hash, created) VALUES(?, ?, ?, ?)",
                (name, role, password_hash, now_iso()),
            )

    def user(self, name: str) -> dict | None:
        """The account ``name`` as a dict, or None."""
        with self.connect() as con:
            row = con.execute("SELECT name, role, password_hash FROM users WHERE name=?", (name,)).fetchone()
        return dict(row) if row else None

    def count_users(self) -> int:
        """How many accounts exist."""
        with self.connect() as con:
            return con.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    # ------------------------------------------------------------ rate limit
    def note_failed_login(self, key: str, at: float) -> None:
        """Remember a failed login for ``key`` (a user name or a client address)."""
        with self.connect() as con:
            con.execute("INSERT INTO login_attempts(key, at) VALUES(?, ?)", (key, at))

    def failed_logins(self, key: str, since: float) -> int:
        """Failed logins for ``key`` after ``since`` (a time.time())."""
        with self.connect() as con:
            con.execute("DELETE FROM login_attempts WHERE at < ?", (since - 3600,))
            return con.execute("SELECT COUNT(*) FROM login_attempts WHERE key=? AND at>=?", (key, since)).fetchone()[0]

    # ------------------------------------------------------------ jobs
    def add_job(self, kind: str, params: dict, user: str) -> int:
        """Queue a job; returns its id."""
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        with self.connect() as con:
            cur = con.execute(
                "INSERT INTO jobs(kind, params, created_by, created) VALUES(?, ?, ?, ?)",
                (kind, json.dumps(params, ensure_ascii=False), user, now_iso()),
            )
            return int(cur.lastrowid)

    def job(self, job_id: int) -> dict | None:
        """One job, with ``params`` and ``result`` decoded."""
        with self.connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _decode(row) if row else None

    def jobs(self, limit: int = 50, kind: str | None = None) -> list[dict]:
        """The latest jobs, newest first."""
        sql = "SELECT * FROM jobs" + (" WHERE kind=?" if kind else "") + " ORDER BY id DESC LIMIT ?"
        with self.connect() as con:
            rows = con.execute(sql, ((kind, limit) if kind else (limit,))).fetchall()
        return [_decode(r) for r in rows]

    def claim_next(self) -> dict | None:
        """Mark the oldest queued job running and return it (None when the queue is empty or busy)."""
        with self.connect() as con:
            if con.execute("SELECT 1 FROM jobs WHERE state='running'").fetchone():
                return None
            row = con.execute("SELECT * FROM jobs WHERE state='queued' ORDER BY id LIMIT 1").fetchone()
            if not row:
                return None
            con.execute("UPDATE jobs SET state='running', started=? WHERE id=?", (now_iso(), row["id"]))
        return self.job(row["id"])

    def update_job(self, job_id: int, **fields) -> None:
        """Set columns of a job (``result`` is JSON-encoded)."""
        if "result" in fields:
            fields["result"] = json.dumps(fields["result"], ensure_ascii=False, default=str)
        if fields.get("state") in ("done", "failed", "cancelled"):
            fields.setdefault("finished", now_iso())
        cols = ", ".join(f"{k}=?" for k in fields)
        with self.connect() as con:
            con.execute(f"UPDATE jobs SET {cols} WHERE id=?", (*fields.values(), job_id))

    def request_cancel(self, job_id: int) -> None:
        """Ask for a job to stop: a queued one is cancelled at once, a running one by the dispatcher."""
        with self.connect() as con:
            con.execute(
                "UPDATE jobs SET state='cancelled', finished=?, message='cancelled before it started' "
                "WHERE id=? AND state='queued'",
                (now_iso(), job_id),
            )
            con.execute("UPDATE jobs SET cancel_requested=1 WHERE id=? AND state='running'", (job_id,))

    def fail_unfinished(self, reason: str) -> int:
        """Mark every queued or running job failed (a restarted server); returns how many."""
        with self.connect() as con:
            cur = con.execute(
                "UPDATE jobs SET state='failed', message=?, finished=? WHERE state IN ('queued', 'running')",
                (reason, now_iso()),
            )
            return cur.rowcount


def _decode(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["params"] = json.loads(d["params"]) if d["params"] else {}
    d["result"] = json.loads(d["result"]) if d.get("result") else None
    return d
