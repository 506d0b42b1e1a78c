"""The app's one door to the workspace database (:mod:`planner.workspace`, issue 11).

The pages and the worker call only these functions, which call the same library functions as
the ``planner publish/pin/edit/record/replan/report`` commands. Each opens the database for
one unit of work. The audit trail names the signed-in user: the workspace reads it from
``PLANNER_USER``, so calls that write hold a lock while that variable names them.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import threading
from pathlib import Path

from sqlalchemy import select

from planner.model.area import Area
from planner.workspace.cycle import carry_over, cycle_history
from planner.workspace.db import Closure, PlanRecord
from planner.workspace.edit import EditRequest, edit_run
from planner.workspace.replan import ReplanRequest, replan
from planner.workspace.report import write_report
from planner.workspace.service import add_pin, publish, published_plan, record, register_run
from planner.workspace.sheet import COLUMNS, planned_rows
from planner.workspace.store import init_workspace, open_workspace

USER_LOCK = threading.Lock()


def available() -> bool:
    """Whether the workspace database functions are present (they are, since the merge)."""
    return True


def status() -> dict:
    """What the pages need to know about the workspace API: ``{"available": bool}``."""
    return {"available": available()}


@contextlib.contextmanager
def opened(db: str, user: str | None = None):
    """The workspace database, open for one call; a writing call names its ``user`` for the audit trail."""
    if user is None:  # reads need no name in the audit trail, and no lock
        with open_workspace(db) as ws:
            yield ws
        return
    with USER_LOCK:
        before = os.environ.get("PLANNER_USER")
        os.environ["PLANNER_USER"] = user
        try:
            with open_workspace(db) as ws:
                yield ws
        finally:
            if before is None:
                os.environ.pop("PLANNER_USER", None)
            else:
                os.environ["PLANNER_USER"] = before


def ensure(db: str) -> None:
    """Create or upgrade the workspace database (as ``planner init``)."""
    ws, _ = init_workspace(db)
    ws.close()


def register(db: str, run_dir: Path, *, kind: str = "plan", data_dir: Path | None = None, user: str = "web") -> None:
    """Record a new run folder as a draft plan."""
    with opened(db, user) as ws:
        register_run(ws, run_dir, kind=kind, data_dir=data_dir)


def plans(db: str) -> list[dict]:
    """Every registered plan, newest first: run, status, kind, dates."""
    with opened(db) as ws, ws.transaction() as s:
        recs = s.scalars(select(PlanRecord).order_by(PlanRecord.id.desc())).all()
        return [
            {"run": r.run, "status": r.status, "kind": r.kind, "start": r.start_date, "end": r.end_date} for r in recs
        ]


def published(db: str) -> str | None:
    """The run of the current published plan, if any."""
    with opened(db) as ws, ws.transaction() as s:
        rec = published_plan(s)
        return rec.run if rec else None


def closures(db: str) -> list[dict]:
    """Closures in the database (road or place, from, until, reason)."""
    with opened(db) as ws, ws.transaction() as s:
        rows = s.scalars(select(Closure).order_by(Closure.date_from.desc())).all()
        return [
            {"kind": c.kind, "target": c.target_id, "from": c.date_from, "until": c.date_until, "reason": c.reason}
            for c in rows
        ]


def left_out(db: str, times: int = 2) -> dict[str, int]:
    """Villages short of their visits in at least ``times`` published cycles in a row (id -> cycles)."""
    with opened(db) as ws:
        return {v: n for v, n in carry_over(cycle_history(ws)).items() if n >= times}


def in_force(rows: list[dict], on: dt.date, upcoming: bool = False) -> list[dict]:
    """The closures that apply on ``on`` (with ``upcoming``, also those that start later)."""
    return [c for c in rows if (upcoming or c["from"] <= on) and (c["until"] is None or c["until"] >= on)]


def publish_run(db: str, run: str, user: str) -> dict:
    """Publish a run (``planner publish``); returns the superseded runs and the visit sheet path."""
    with opened(db, user) as ws:
        res = publish(ws, run)
        return {"superseded": res["superseded"], "sheet": Path(res["sheet"])}


def pin(db: str, village: str, date: dt.date, time: str | None, known: set[str], user: str) -> None:
    """Pin a village's visit to a date (``planner pin``)."""
    with opened(db, user) as ws:
        add_pin(ws, village, date, time, known=known)


def edit(db: str, area: Area, run: str, req: EditRequest, out: Path, user: str) -> dict:
    """Apply a hand edit (``planner edit``); raises ``EditRefused`` naming the rule broken."""
    with opened(db, user) as ws:
        return edit_run(ws, area, run, req, out=out)


def record_sheet(db: str, path: Path, user: str) -> dict:
    """Load a visit sheet (``planner record``); raises ``InputError`` listing every bad row."""
    with opened(db, user) as ws:
        return record(ws, path)


def day_rows(run_dir: Path, run: str, date: dt.date, plan) -> list[dict]:
    """The planned visits of one day of a published run (rows of its visit sheet)."""
    return [r for r in planned_rows(plan, run) if r["date"] == date.isoformat()]


def write_day_sheet(rows: list[dict], path: Path) -> Path:
    """A visit sheet CSV (the same columns as ``visit_sheet.xlsx``) from a day's form."""
    keys = [k for k, _, _ in COLUMNS]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def replan_from(db: str, area: Area, req: ReplanRequest, out: Path, user: str, lang: str = "vi") -> dict:
    """Re-plan the published cycle from a date with closures (``planner replan``)."""
    with opened(db, user) as ws:
        res = replan(ws, area, req, out=out, lang=lang)
        return {"run": res["path"].name, "diff": res["diff"].to_dict(), "from": str(res["replanned_from"])}


def report(db: str, date_from: dt.date, date_to: dt.date, folder: Path, area: Area, user: str) -> dict:
    """The directive's report for a period (``planner report``): PDF, XLSX and charts in ``folder``."""
    with opened(db, user) as ws:
        return write_report(ws, date_from, date_to, folder, area=area, force=True)


__all__ = ["EditRequest", "ReplanRequest"]
