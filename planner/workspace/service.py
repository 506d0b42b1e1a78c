"""Workspace operations shared by the CLI and the web app: register, publish, pin, record.

Each function takes an open :class:`~planner.workspace.store.Workspace` and does its work in
one transaction (``ws.transaction()``): it either all lands or none of it does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.model.errors import InputError, Problem
from planner.model.plan import Plan
from planner.model.plan_io import plan_from_dict
from planner.workspace.db import Audit, Closure, DatasetVersion, Pin, PlanRecord, Restock, Visit, utcnow
from planner.workspace.sheet import (
    COUNT_FIELDS,
    HELD_SYNONYMS,
    as_date,
    blank,
    planned_rows,
    read_sheet,
    write_visit_sheet,
)
from planner.workspace.store import Workspace, WorkspaceError, audit

SHEET_NAME = "visit_sheet.xlsx"


# --------------------------------------------------------------------------- runs and datasets


def load_run_plan(run_dir: Path) -> Plan:
    """The plan of a run folder (its ``plan.json``)."""
    path = Path(run_dir) / "plan.json"
    if not path.is_file():
        raise InputError([Problem(str(path), "file", "-", None, "no plan.json: not a run folder")])
    return plan_from_dict(json.loads(path.read_text(encoding="utf-8")))


def run_config(run_dir: Path) -> dict:
    """The configuration a run was planned with (its ``config.json``)."""
    path = Path(run_dir) / "config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


META = "workspace.json"


def run_meta(run_dir: Path) -> dict:
    """What the workspace knows of a run beyond its configuration (``workspace.json``): the cycle's
    ``window`` when it differs from the configuration's dates (a re-plan), the ``replan`` request."""
    path = Path(run_dir) / META
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_meta(folder: Path, meta: dict) -> None:
    """Write ``workspace.json`` atomically (a temporary file, then a rename)."""
    path = Path(folder) / META
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


def closures_meta(roads: dict[str, tuple[dt.date, dt.date | None]] | set[str], places: set[str]) -> dict:
    """The closures a plan was made with, as ``workspace.json`` keeps them (see :func:`meta_closures`)."""
    dated = roads if isinstance(roads, dict) else {}
    return {
        "close_roads": sorted(roads),
        "road_closures": {r: [a.isoformat(), b.isoformat() if b else None] for r, (a, b) in sorted(dated.items())},
        "close_places": sorted(places),
    }


def meta_closures(meta: dict) -> tuple[dict[str, tuple[dt.date, dt.date | None]] | set[str], set[str]]:
    """The closures a run was made with (a re-plan's, or those ``planner plan`` took from the workspace)."""
    rec = meta.get("replan") or meta.get("closures") or {}
    roads: dict[str, tuple[dt.date, dt.date | None]] | set[str] = set(rec.get("close_roads", []))
    if "road_closures" in rec:
        roads = {
            r: (dt.date.fromisoformat(a), dt.date.fromisoformat(b) if b else None)
            for r, (a, b) in rec["road_closures"].items()
        }
    return roads, set(rec.get("close_places", []))


def plan_dates(plan: Plan, config: dict, meta: dict | None = None) -> tuple[dt.date, dt.date]:
    """First and last date of a plan's cycle (its window, else its configuration, else its days)."""
    window = (meta or {}).get("window")
    if window:
        return dt.date.fromisoformat(window[0]), dt.date.fromisoformat(window[1])
    p = config.get("plan", {})
    if p.get("start_date") and p.get("weeks"):
        start = dt.date.fromisoformat(str(p["start_date"]))
        return start, start + dt.timedelta(days=7 * int(p["weeks"]) - 1)
    dates = [d.date for d in plan.days] or [dt.date.today()]
    return min(dates), max(dates)


def dataset_hash(data_dir: Path) -> tuple[str, dict]:
    """SHA-256 of every input file of a data folder (top level), and of them together."""
    files = {}
    for f in sorted(Path(data_dir).iterdir()):
        if f.is_file() and not f.name.startswith("."):
            files[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
    total = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return total, files


def dataset_version(session: Session, data_dir: Path) -> DatasetVersion:
    """The dataset row of a data folder's current files (added when new)."""
    sha, files = dataset_hash(data_dir)
    row = session.scalar(select(DatasetVersion).where(DatasetVersion.sha256 == sha))
    if row is None:
        row = DatasetVersion(sha256=sha, data_dir=str(Path(data_dir).resolve()), files=files)
        session.add(row)
        session.flush()
        audit(session, "load", "dataset", row.id, after={"sha256": sha, "files": len(files)}, detail=str(data_dir))
    return row


def get_plan(session: Session, run: str) -> PlanRecord:
    rec = session.scalar(select(PlanRecord).where(PlanRecord.run == run))
    if rec is None:
        known = session.scalars(select(PlanRecord.run).order_by(PlanRecord.id)).all()
        raise InputError(
            [
                Problem(
                    "workspace",
                    f"run={run}",
                    "run",
                    run,
                    f"not a run of this workspace (known: {', '.join(known) or 'none'})",
                )
            ]
        )
    return rec


def is_registered(ws: Workspace, run: str) -> bool:
    """Whether a run of this name is in the workspace."""
    return plan_status(ws, run) is not None


def plan_status(ws: Workspace, run: str) -> str | None:
    """The status of a registered run (draft, published, superseded), or None."""
    with ws.transaction() as s:
        return s.scalar(select(PlanRecord.status).where(PlanRecord.run == run))


def published_plan(session: Session, on: dt.date | None = None) -> PlanRecord | None:
    """The published plan (covering ``on`` if given; else the latest published)."""
    q = select(PlanRecord).where(PlanRecord.status == "published")
    if on is not None:
        q = q.where(PlanRecord.start_date <= on, PlanRecord.end_date >= on)
    return session.scalars(q.order_by(PlanRecord.start_date.desc(), PlanRecord.id.desc())).first()


def register_run(
    ws: Workspace,
    run_dir: Path,
    *,
    kind: str = "plan",
    parent: str | None = None,
    data_dir: Path | None = None,
) -> PlanRecord:
    """Record a run folder in the workspace as a draft plan.

    Parameters
    ----------
    ws : Workspace
    run_dir : path
        A complete run folder (``plan.json``, ``config.json``).
    kind : str
        ``plan``, ``replan``, ``edit`` or ``next_cycle``.
    parent : str, optional
        The run it was made from.
    data_dir : path, optional
        Input folder, hashed into a dataset version.

    Returns
    -------
    PlanRecord
    """
    run_dir = Path(run_dir).resolve()
    plan = load_run_plan(run_dir)
    config = run_config(run_dir)
    start, end = plan_dates(plan, config, run_meta(run_dir))
    with ws.transaction() as s:
        rec = s.scalar(select(PlanRecord).where(PlanRecord.run == run_dir.name))
        before = None
        if rec is not None:  # re-planned into the same folder (--force): a fresh draft
            before = {"status": rec.status, "run_dir": rec.run_dir}
        else:
            rec = PlanRecord(run=run_dir.name)
            s.add(rec)
        rec.run_dir, rec.config, rec.kind, rec.status = str(run_dir), config, kind, "draft"
        rec.start_date, rec.end_date = start, end
        rec.parent_id = get_plan(s, parent).id if parent else None
        if data_dir is not None and Path(data_dir).is_dir():
            rec.dataset_id = dataset_version(s, Path(data_dir)).id
        s.flush()
        audit(
            s,
            "register",
            "plan",
            rec.run,
            before=before,
            after={"status": "draft", "kind": kind, "start": str(start), "end": str(end)},
        )
    return rec


def publish(ws: Workspace, run: str) -> dict:
    """Make a run the current plan for its dates and write its fillable visit sheet.

    Published plans whose dates overlap are marked superseded.

    Parameters
    ----------
    ws : Workspace
    run : str
        Name of a registered run.

    Returns
    -------
    dict
        ``{"plan": PlanRecord, "sheet": Path, "superseded": [run names]}``.
    """
    with ws.transaction() as s:
        rec = get_plan(s, run)
        if rec.status == "superseded":
            raise InputError(
                [
                    Problem(
                        "workspace",
                        f"run={run}",
                        "status",
                        rec.status,
                        "a superseded plan cannot be published again; re-plan instead",
                    )
                ]
            )
        old = s.scalars(
            select(PlanRecord).where(
                PlanRecord.status == "published",
                PlanRecord.id != rec.id,
                PlanRecord.start_date <= rec.end_date,
                PlanRecord.end_date >= rec.start_date,
            )
        ).all()
        for o in old:
            o.status, o.superseded_at = "superseded", utcnow()
            audit(
                s,
                "supersede",
                "plan",
                o.run,
                before={"status": "published"},
                after={"status": "superseded"},
                detail=f"by {run}",
            )
        before = rec.status
        rec.status, rec.published_at = "published", utcnow()
        audit(s, "publish", "plan", run, before={"status": before}, after={"status": "published"})
        plan = load_run_plan(Path(rec.run_dir))
        sheet = write_visit_sheet(planned_rows(plan, run), Path(rec.run_dir) / SHEET_NAME)
        return {"plan": rec, "sheet": sheet, "superseded": [o.run for o in old]}


# --------------------------------------------------------------------------- pins


def parse_time(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(value, "%H:%M").strftime("%H:%M")
    except ValueError as exc:
        raise InputError([Problem("command line", "time", "time", value, "must be HH:MM")]) from exc


def add_pin(ws: Workspace, village_id: str, date: dt.date, time: str | None = None, note: str = "", known=None) -> Pin:
    """Fix a village's visit to a date (and optionally a time); replaces a pin of that day.

    Parameters
    ----------
    known : collection of str, optional
        Village ids of the area; an unknown id is refused.

    Returns
    -------
    Pin
    """
    if known is not None and village_id not in known:
        raise InputError(
            [
                Problem(
                    "command line",
                    f"village={village_id}",
                    "village",
                    village_id,
                    "no village with this id in the data",
                )
            ]
        )
    time = parse_time(time)
    with ws.transaction() as s:
        pin = s.scalar(select(Pin).where(Pin.village_id == village_id, Pin.date == date))
        before = None
        if pin is None:
            pin = Pin(village_id=village_id, date=date)
            s.add(pin)
        else:
            before = {"time": pin.time, "note": pin.note}
        pin.time, pin.note = time, note
        s.flush()
        audit(s, "pin", "pin", f"{village_id}@{date}", before=before, after={"time": time, "note": note})
    return pin


def remove_pin(ws: Workspace, village_id: str, date: dt.date) -> bool:
    """Delete a pin; True if there was one."""
    with ws.transaction() as s:
        pin = s.scalar(select(Pin).where(Pin.village_id == village_id, Pin.date == date))
        if pin is None:
            return False
        audit(s, "unpin", "pin", f"{village_id}@{date}", before={"time": pin.time, "note": pin.note})
        s.delete(pin)
    return True


def pins_between(ws: Workspace, start: dt.date, end: dt.date) -> list[dict]:
    """Pins from ``start`` to ``end`` as the planner's ``config.pins`` entries."""
    with ws.transaction() as s:
        rows = s.scalars(select(Pin).where(Pin.date >= start, Pin.date <= end).order_by(Pin.date, Pin.village_id)).all()
        return [
            {"village": p.village_id, "date": p.date.isoformat(), **({"time": p.time} if p.time else {})} for p in rows
        ]


def closures_between(
    ws: Workspace, start: dt.date, end: dt.date
) -> tuple[dict[str, tuple[dt.date, dt.date | None]], set[str]]:
    """Roads closed at some time from ``start`` to ``end`` with their dates, and closed places.

    A road closed more than once gets one span, from its earliest start to its latest end
    (``None``: open-ended). Places have no dates: they are closed for the whole plan.
    """
    with ws.transaction() as s:
        return fold_closures(stored_closures(s, start, end))


def stored_closures(s: Session, start: dt.date, end: dt.date) -> list[Closure]:
    """The workspace's closures in force at some time from ``start`` to ``end``."""
    return list(
        s.scalars(
            select(Closure).where(
                Closure.date_from <= end, (Closure.date_until.is_(None)) | (Closure.date_until >= start)
            )
        ).all()
    )


def fold_closures(rows) -> tuple[dict[str, tuple[dt.date, dt.date | None]], set[str]]:
    """Closed roads with one date span each (see :func:`road_span`), and closed places.

    ``rows`` carry ``kind``, ``target_id``, ``date_from`` and ``date_until``.
    """
    out: dict[str, tuple[dt.date, dt.date | None]] = {}
    for c in rows:
        if c.kind == "road":
            out[c.target_id] = road_span(out.get(c.target_id), (c.date_from, c.date_until))
    return out, {c.target_id for c in rows if c.kind == "place"}


def road_span(
    a: tuple[dt.date, dt.date | None] | None, b: tuple[dt.date, dt.date | None]
) -> tuple[dt.date, dt.date | None]:
    """The span holding both closures (``None`` as the end: open-ended)."""
    if a is None:
        return b
    until = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return min(a[0], b[0]), until


def pins_supported(config) -> bool:
    """Whether this planner's configuration has a ``pins`` section (the solver honours pins)."""
    return any(f.name == "pins" for f in dataclasses.fields(config))


def config_pins(config) -> list[dict]:
    """The pins of a configuration as plain ``{"village", "date", "time"?}`` entries."""
    return list(config.to_dict().get("pins", [])) if pins_supported(config) else []


def with_pins(config, pins: list[dict]):
    """The configuration with ``pins`` added to its own; unchanged when this planner has no pins."""
    if not pins or not pins_supported(config):
        return config
    return config.replace(pins=config_pins(config) + pins)


def unmet_pins(plan: Plan, pins: list[dict]) -> list[dict]:
    """The pins a plan does not honour (no stop serving the village on the pinned date)."""
    served: dict[tuple[str, str], str] = {}
    for day in plan.days:
        for s in day.stops:
            if s.kind == "village":
                served[(s.stop_id, day.date.isoformat())] = s.arrival.strftime("%H:%M")
    out = []
    for p in pins:
        t = served.get((p["village"], str(p["date"])))
        if t is None or (p.get("time") and abs(_minutes(t) - _minutes(p["time"])) > 15):
            out.append(p)
    return out


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


# --------------------------------------------------------------------------- record


def validate_rows(path: Path, rows, plans: dict[str, tuple]) -> tuple[list[dict], list[Problem]]:
    """Check every row of a visit sheet; return the clean records and every problem.

    ``plans`` maps run name -> (record, {(date, stop_id): planned row}, village ids of the plan).
    """
    problems: list[Problem] = []
    clean: list[dict] = []
    seen: dict[tuple, int] = {}
    f = str(path)
    for r in rows:
        v, where = r.values, f"row {r.row}"
        bad = len(problems)

        def err(field, value, rule, where=where):
            problems.append(Problem(f, where, field, value, rule))

        run = str(v.get("run") or "").strip()
        stop_id = str(v.get("stop_id") or "").strip()
        date = as_date(v.get("date"))
        where = f"row {r.row} ({stop_id or '?'} {v.get('date')})"
        if run not in plans:
            err("run", run, f"not a run of this workspace (known: {', '.join(sorted(plans)) or 'none'})", where)
            continue
        rec, planned, village_ids = plans[run]
        known = {sid for (_, sid) in planned} | set(village_ids)
        if date is None:
            err("date", v.get("date"), "must be a date YYYY-MM-DD", where)
        elif not (rec.start_date <= date <= rec.end_date):
            err("date", v.get("date"), f"outside the plan {run} ({rec.start_date} to {rec.end_date})", where)
        if stop_id not in known:
            err("stop_id", stop_id, f"unknown village: not a village or fixed point of the plan {run}", where)
        elif date is not None and rec.start_date <= date <= rec.end_date and (date, stop_id) not in planned:
            err("stop_id", stop_id, f"no visit of this village on {date} in the plan {run}; edit the plan first", where)
        held_raw = v.get("held")
        held = HELD_SYNONYMS.get(str(held_raw).strip().lower()) if not blank(held_raw) else None
        counts: dict[str, int | None] = {}
        for k in COUNT_FIELDS:
            x = v.get(k)
            if blank(x):
                counts[k] = None
                continue
            try:
                num = float(str(x).strip().replace(",", "."))
            except ValueError:
                err(k, x, "must be a whole number", where)
                continue
            if num != int(num):
                err(k, x, "must be a whole number", where)
            elif num < 0:
                err(k, x, "must not be negative", where)
            else:
                counts[k] = int(num)
        if blank(held_raw):
            if any(c for c in counts.values()):
                err("held", held_raw, "counts given but 'held' is empty: write có, không or hủy", where)
            continue  # not filled in yet
        if held is None:
            err("held", held_raw, "must be có/không/hủy (yes/no/cancelled)", where)
        people, children = counts.get("people"), counts.get("children")
        if people is not None and children is not None and children > people:
            err("children", children, f"more children than people ({people})", where)
        if held == "yes" and (people is None or people == 0) and "people" not in {p.field for p in problems[bad:]}:
            err("people", v.get("people"), "a held visit needs its counts: how many people came", where)
        if held in ("no", "cancelled"):
            if blank(v.get("reason")):
                err("reason", v.get("reason"), "a visit not held needs a reason", where)
            if any(c for c in counts.values()):
                err("people", people, "a visit not held cannot have readers or books", where)
        km_raw = v.get("km")
        km = None
        if not blank(km_raw):
            try:
                km = float(str(km_raw).replace(",", "."))
                if km < 0:
                    err("km", km_raw, "must not be negative", where)
            except ValueError:
                err("km", km_raw, "must be a number of km", where)
        if date is not None:
            key = (date, stop_id)
            if key in seen:
                err("stop_id", stop_id, f"the same visit is also on row {seen[key]}", where)
            seen[key] = r.row
        if len(problems) > bad:
            continue
        p = planned[(date, stop_id)]
        clean.append(
            {
                "plan_id": rec.id,
                "date": date,
                "vehicle": p["vehicle"],
                "kind": p["kind"],
                "stop_id": stop_id,
                "name": p["stop_name"],
                "commune": p["commune"],
                "held": held,
                "reason": "" if blank(v.get("reason")) else str(v.get("reason")).strip(),
                **{k: counts.get(k) or 0 for k in COUNT_FIELDS},
                "km": round(km if km is not None else float(p["km"]), 2),
                "notes": "" if blank(v.get("notes")) else str(v.get("notes")).strip(),
            }
        )
    return clean, problems


RECORD_FIELDS = ("plan_id", "vehicle", "held", "reason", *COUNT_FIELDS, "km", "notes")


def record(ws: Workspace, path: Path) -> dict:
    """Load a filled visit sheet (``.xlsx`` or ``.csv``) into the visit log.

    Every row is checked first; a file with any bad row is refused whole, listing every
    problem. Loading the same file again changes nothing; a corrected file replaces the
    earlier values of its visits, and the audit trail keeps the values before and after.

    Parameters
    ----------
    ws : Workspace
    path : path
        The filled sheet.

    Returns
    -------
    dict
        Counts: ``added``, ``replaced``, ``unchanged``, ``blank`` (rows not filled in yet).

    Raises
    ------
    InputError
        Listing every bad row (file, row, field, value, rule).
    """
    path = Path(path)
    rows = read_sheet(path)
    with ws.transaction() as s:
        names = {str(r.values.get("run") or "").strip() for r in rows}
        plans: dict[str, tuple] = {}
        for rec in s.scalars(select(PlanRecord).where(PlanRecord.run.in_(names))).all():
            plan = load_run_plan(Path(rec.run_dir))
            planned = {(dt.date.fromisoformat(r["date"]), r["stop_id"]): r for r in planned_rows(plan, rec.run)}
            plans[rec.run] = (rec, planned, [v.village_id for v in plan.villages])
        clean, problems = validate_rows(path, rows, plans)
        if problems:
            raise InputError(problems)
        counts = {"added": 0, "replaced": 0, "unchanged": 0, "blank": len(rows) - len(clean)}
        for c in clean:
            model: type[Visit] | type[Restock] = Visit if c["kind"] == "village" else Restock
            key_field = "village_id" if model is Visit else "site_id"
            existing = cast(
                "Visit | Restock | None",
                s.scalar(select(model).where(model.date == c["date"], getattr(model, key_field) == c["stop_id"])),
            )
            new = {k: c[k] for k in RECORD_FIELDS}
            ident = f"{c['stop_id']}@{c['date']}"
            if existing is None:
                row = model(date=c["date"], commune=c["commune"], source=path.name, **new)
                setattr(row, key_field, c["stop_id"])
                setattr(row, "village_name" if model is Visit else "site_name", c["name"])
                s.add(row)
                audit(s, "record", model.__tablename__[:-1], ident, after=_jsonable(new), detail=path.name)
                counts["added"] += 1
                continue
            old = {k: getattr(existing, k) for k in RECORD_FIELDS}
            if old == new:
                counts["unchanged"] += 1
                continue
            for k, val in new.items():
                setattr(existing, k, val)
            existing.source, existing.recorded_at = path.name, utcnow()
            changed = {k for k in new if old[k] != new[k]}
            audit(
                s,
                "record-replace",
                model.__tablename__[:-1],
                ident,
                before=_jsonable({k: old[k] for k in changed}),
                after=_jsonable({k: new[k] for k in changed}),
                detail=path.name,
            )
            counts["replaced"] += 1
    return counts


def _jsonable(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items()}


def require_published(session: Session) -> PlanRecord:
    rec = published_plan(session)
    if rec is None:
        raise WorkspaceError("no published plan in the workspace; run 'planner publish RUN' first")
    return rec


def audit_lines(ws: Workspace, *, entity: str | None = None, limit: int = 50) -> list[str]:
    """The latest audit entries, newest first, one line each: when, who, what, before -> after."""
    with ws.transaction() as s:
        q = select(Audit).order_by(Audit.id.desc()).limit(limit)
        if entity:
            q = q.where(Audit.entity == entity)
        out = []
        for a in s.scalars(q):
            keys = sorted(set(a.before or {}) | set(a.after or {}))
            change = ", ".join(f"{k}: {(a.before or {}).get(k)} -> {(a.after or {}).get(k)}" for k in keys)
            detail = f" ({a.detail})" if a.detail else ""
            out.append(f"{a.at:%Y-%m-%d %H:%M:%S} {a.who} {a.action} {a.entity} {a.entity_id}{detail}: {change}")
        return out
