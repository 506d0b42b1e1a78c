"""Re-plan the rest of a published cycle after a closure or a breakdown, keeping what is done.

How it works, with the planner as it is:

- **Keep.** Every day before ``--from`` stays as published (and, when a vehicle is away on a
  multi-day trip on that date, the rest of that trip too: the crew comes back to the depot
  first). Visits recorded as not held do not count as done.
- **Closures** change the area handed to the planner: a closed road segment (an ``id`` of
  the roads file) is removed; a closed village is left out; a closed site is no longer
  active nor a lodging. Closures stored in the workspace that overlap the window apply too.
- **Remaining visits.** Each village needs its cycle's visits less those done: its
  ``visits_per_cycle`` is set to the remainder and the planner plans the remaining working
  dates only (start = ``--from``, dates after the cycle's end are holidays).
- **Vehicle down.** With a one-vehicle fleet its next N working days become days without
  service; with several vehicles the broken one leaves the fleet for the re-planned window.
- **Pins** of the window (workspace and scenario) are passed on as ``config.pins``.

The result is one plan (kept days + new days), a diff against the published plan and new
printables for the communes whose schedules change.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from planner.io.runs import free_name, run_folder
from planner.model.area import Area
from planner.model.config import Config, make_config
from planner.model.errors import InputError, NoPlanError, PlannerError, Problem
from planner.model.plan import Day, Plan, Unserved
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.costs import plan_costs
from planner.planning.solve import late_visits, solve
from planner.render import calendar, html_schedule, pdf
from planner.render.document import build_document
from planner.runs import write_outputs
from planner.workspace.db import Closure, PlanRecord, Visit
from planner.workspace.service import (
    closures_meta,
    fold_closures,
    load_run_plan,
    pins_between,
    register_run,
    road_span,
    stored_closures,
    with_pins,
    write_meta,
)
from planner.workspace.store import Workspace, WorkspaceError, audit

#: A village unreachable only because of a closure says so in its detail (it is carried over).
CLOSURE_PREFIX = "cut off by a closure:"
CLOSURE_KEY = "__closures__"


@dataclass(frozen=True)
class ReplanRequest:
    """What changed: from which date, which closures, which vehicle is down."""

    date_from: dt.date
    close_roads: tuple[str, ...] = ()
    close_places: tuple[str, ...] = ()
    until: dt.date | None = None
    vehicle_down: str | None = None
    down_days: int = 0
    reason: str = ""
    max_iterations: int | None = None  # work budget of the re-plan (default: the published plan's)
    time_limit_s: float | None = None


@dataclass
class Diff:
    """Visits moved, dropped and added (from the re-plan date on) and the communes that change."""

    moved: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    added: list[dict] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    commune_codes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "moved": self.moved,
            "dropped": self.dropped,
            "added": self.added,
            "communes_changed": self.communes,
            "commune_codes_changed": self.commune_codes,
        }


def visit_keys(plan: Plan, since: dt.date) -> dict[str, list[tuple[str, str, str, str, str]]]:
    """stop id -> sorted (date, arrival HH:MM, vehicle, commune, commune code) of its visits from ``since`` on."""
    out: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for day in plan.days:
        if day.date < since:
            continue
        for s in day.stops:
            if s.kind in ("village", "site"):
                out.setdefault(s.stop_id, []).append(
                    (day.date.isoformat(), s.arrival.strftime("%H:%M"), day.vehicle, s.commune, s.commune_code)
                )
    return {k: sorted(v) for k, v in out.items()}


def plan_diff(old: Plan, new: Plan, since: dt.date) -> Diff:
    """Compare two plans from ``since`` on: a stop whose dates or times differ is *moved*."""
    a, b = visit_keys(old, since), visit_keys(new, since)
    names = {s.stop_id: s.stop_name for p in (old, new) for d in p.days for s in d.stops}
    diff = Diff()
    communes: set[tuple[str, str]] = set()
    for sid in sorted(set(a) | set(b)):
        va, vb = a.get(sid, []), b.get(sid, [])
        if va == vb:
            continue
        row = {
            "stop_id": sid,
            "name": names.get(sid, sid),
            "commune": (va or vb)[0][3],
            "before": [f"{x[0]} {x[1]}" for x in va],
            "after": [f"{x[0]} {x[1]}" for x in vb],
        }
        (diff.dropped if not vb else diff.added if not va else diff.moved).append(row)
        communes.update((x[3], x[4]) for x in va + vb)
    diff.communes = sorted({name for name, _ in communes})
    diff.commune_codes = sorted({code for _, code in communes})
    return diff


def kept_days(plan: Plan, since: dt.date, vehicles: list) -> tuple[list[Day], dict[str, dt.date]]:
    """Days before ``since``, plus the rest of any multi-day trip under way on that date.

    Returns the kept days and, per vehicle, the first date the re-plan may use.
    """
    kept, first_free = [], {}
    for v in vehicles:
        days = sorted((d for d in plan.days if d.vehicle == v), key=lambda d: d.date)
        free = since
        for d in days:
            if d.date < free:
                kept.append(d)
                if d.stops and d.stops[-1].kind == "overnight":
                    nxt = [x.date for x in days if x.date > d.date]
                    if nxt and nxt[0] >= since:
                        free = nxt[0] + dt.timedelta(days=1)
        first_free[v] = free
    return kept, first_free


def apply_closures(
    area: Area, roads: set[str] | dict[str, tuple[dt.date, dt.date | None]], places: set[str]
) -> tuple[Area, list[Problem]]:
    """The area with its closures; unknown ids listed.

    Roads given with dates (``{id: (from, until or None)}``) carry them as their
    ``closed_from``/``closed_until``, so the planner keeps them out of the weeks they touch
    only; a road given without dates, or one with a closure range of its own, is removed.
    Closed villages are left out and closed sites made inactive for the whole plan.
    """
    problems = []
    road_ids = set(area.roads["id"].astype(str))
    village_ids = set(area.villages["id"].astype(str))
    site_ids = set(area.sites["id"].astype(str))
    for r in sorted(set(roads) - road_ids):
        problems.append(
            Problem("command line", f"road={r}", "--close-road", r, "no road with this id in the roads file")
        )
    for p in sorted(places - village_ids - site_ids):
        problems.append(Problem("command line", f"place={p}", "--close-place", p, "no village or site with this id"))
    depots = set(area.sites.loc[area.sites["kind"] == "depot", "id"].astype(str))
    for p in sorted(places & depots):
        problems.append(Problem("command line", f"place={p}", "--close-place", p, "the depot cannot be closed"))
    if problems:
        return area, problems
    vill = area.villages[~area.villages["id"].astype(str).isin(places)].copy()
    sites = area.sites.copy()
    closed_sites = sites["id"].astype(str).isin(places)
    if closed_sites.any():
        sites.loc[closed_sites, "active"] = False
        sites.loc[closed_sites, "lodging"] = False
    rds = area.roads.copy()
    ids = rds["id"].astype(str)
    dated = roads if isinstance(roads, dict) else {}
    own = pd.Series(False, index=rds.index)
    for col in ("closed_from", "closed_until"):
        if col in rds:
            own |= rds[col].notna() & (rds[col].astype(str).str.strip() != "")
    for col in ("closed_from", "closed_until"):
        if col not in rds:
            rds[col] = None
        rds[col] = rds[col].astype(object)
    for rid, (since, until) in dated.items():
        at = (ids == rid) & ~own
        rds.loc[at, "closed_from"] = since.isoformat()
        rds.loc[at, "closed_until"] = until.isoformat() if until else None
    gone = ids.isin(set(roads) - set(dated)) | (ids.isin(set(dated)) & own)
    return replace(area, villages=vill, sites=sites, roads=rds[~gone].copy()), []


def done_counts(days: list[Day], not_held: set[tuple[str, str]]) -> dict[str, int]:
    """Visits each village got on the kept days (its own stop or walking), less those not held."""
    out: dict[str, int] = {}
    for d in days:
        for s in d.stops:
            if s.kind == "village" and (d.date.isoformat(), s.stop_id) not in not_held:
                for v in s.villages_served:
                    out[v] = out.get(v, 0) + 1
    return out


def merge_plans(
    old: Plan, kept: list[Day], new: Plan, start: dt.date, not_held, closed: dict[str, str], problem=None
) -> Plan:
    """One plan of the kept days and the re-planned days, with every village's service recomputed
    (and the costs of all its days, given the ``problem`` the new days were made for)."""
    days = sorted(kept + [d for d in new.days], key=lambda d: (d.date, d.vehicle))
    days = [replace(d, week=(d.date - start).days // 7 + 1) for d in days]
    own: dict[str, list[str]] = {}
    walk: dict[str, list[tuple[str, str]]] = {}
    for d in days:
        for s in d.stops:
            if s.kind != "village" or (d.date.isoformat(), s.stop_id) in not_held:
                continue
            own.setdefault(s.stop_id, []).append(d.date.isoformat())
            for w in s.walkers:
                walk.setdefault(w, []).append((d.date.isoformat(), s.stop_id))
    new_services = {v.village_id: v for v in new.villages}
    new_unserved = {u.village_id: u for u in new.unserved}
    services, unserved = [], []
    for v in old.villages:
        by: tuple[str, ...]
        if v.village_id in own:
            channel, dates, by = "van_stop", own[v.village_id], (v.village_id,)
        elif v.village_id in walk:
            channel, dates = "walk", [x for x, _ in walk[v.village_id]]
            by = tuple(sorted({sid for _, sid in walk[v.village_id]}))
        else:
            ns = new_services.get(v.village_id)
            if ns is not None and ns.channel == "fixed_point":
                channel, dates, by = "fixed_point", list(ns.visit_dates), ns.served_by
            elif ns is None and v.channel == "fixed_point":
                channel, dates, by = "fixed_point", list(v.visit_dates), v.served_by
            else:
                channel, dates, by = "unserved", [], ()
        required = v.visits_required
        got = len(dates)
        services.append(replace(v, channel=channel, visits=got, served_by=by, visit_dates=tuple(sorted(dates))))
        if got < required:
            if v.village_id in closed:
                reason, detail = "unreachable", closed[v.village_id]
            elif v.village_id in new_unserved:
                reason, detail = new_unserved[v.village_id].reason, new_unserved[v.village_id].detail
                was_unreachable = any(u.village_id == v.village_id and u.reason == "unreachable" for u in old.unserved)
                if reason == "unreachable" and not was_unreachable and closed.get(CLOSURE_KEY):
                    detail = f"{CLOSURE_PREFIX} {closed[CLOSURE_KEY]}; {detail}"
            else:
                old_u = next((u for u in old.unserved if u.village_id == v.village_id), None)
                reason = old_u.reason if old_u else "not_enough_time"
                detail = old_u.detail if old_u else "visits recorded as not held; not re-planned in the cycle"
            unserved.append(Unserved(v.village_id, v.name, v.commune, v.population, reason, detail, got, required))
    return Plan(
        status="ok" if not unserved else "partial",
        days=tuple(days),
        villages=tuple(services),
        unserved=tuple(unserved),
        population_total=old.population_total,
        children_total=old.children_total,
        villages_total=old.villages_total,
        run=dict(new.run),
        notices=old.notices,
        costs=merged_costs(days, problem) if problem is not None else {},
        # carried-over villages first visited after the first week (a hand edit of a next-cycle plan)
        late=tuple(late_visits(problem, days, services)) if problem is not None else (),
    )


def merged_costs(days: list[Day], problem) -> dict:
    """The costs of a merged plan's days (a vehicle out of the re-plan's fleet counts as the first one)."""
    first = problem.vehicles[0]
    ids = {d.vehicle for d in days}
    profiles = {v: first.profile for v in ids} | {v.id: v.profile for v in problem.vehicles}
    depots = {v: first.depot for v in ids} | {v.id: v.depot for v in problem.vehicles}
    return plan_costs(days, problem.config, profiles, depots)


def replan_config(base: dict, req: ReplanRequest, start: dt.date, end: dt.date, pins: list[dict]) -> Config:
    """The configuration of the remaining window (start = ``--from``; dates after ``end`` are holidays)."""
    raw = json.loads(json.dumps(base))
    weeks = max(1, math.ceil(((end - req.date_from).days + 1) / 7))
    if weeks > 8:
        raise InputError(
            [
                Problem(
                    "command line",
                    "--from",
                    "--from",
                    str(req.date_from),
                    "more than 8 weeks before the end of the cycle",
                )
            ]
        )
    holidays = set(raw["plan"].get("holidays", []))
    last = req.date_from + dt.timedelta(days=7 * weeks - 1)
    d = end + dt.timedelta(days=1)
    while d <= last:
        holidays.add(d.isoformat())
        d += dt.timedelta(days=1)
    vehicles = raw["vehicles"]
    if req.vehicle_down:
        ids = [str(v["id"]) for v in vehicles]
        if req.vehicle_down not in ids:
            raise InputError(
                [
                    Problem(
                        "command line",
                        f"vehicle={req.vehicle_down}",
                        "--vehicle-down",
                        req.vehicle_down,
                        f"no such vehicle (fleet: {', '.join(ids)})",
                    )
                ]
            )
        if len(vehicles) == 1:
            cfg = make_config(
                dict(
                    raw,
                    plan=dict(
                        raw["plan"], start_date=req.date_from.isoformat(), weeks=weeks, holidays=sorted(holidays)
                    ),
                )
            )
            down = [x for x in cfg.working_dates() if x >= req.date_from][: req.down_days]
            holidays.update(x.isoformat() for x in down)
        else:
            vehicles = [v for v in vehicles if str(v["id"]) != req.vehicle_down]
    raw["plan"] = dict(raw["plan"], start_date=req.date_from.isoformat(), weeks=weeks, holidays=sorted(holidays))
    # the carry-over's first week is the published cycle's, not the window's: the kept days stand
    raw["plan"]["carry_over"] = []
    if req.max_iterations is not None:
        raw["plan"]["max_iterations"] = req.max_iterations
    if req.time_limit_s is not None:
        raw["plan"]["time_limit_s"] = req.time_limit_s
    raw["vehicles"] = vehicles
    return with_pins(make_config(raw), pins)


def replan(
    ws: Workspace, area: Area, req: ReplanRequest, *, out: Path, run: str | None = None, lang: str = "vi"
) -> dict:
    """Re-plan the published cycle from ``req.date_from``; write a draft run with a diff.

    Parameters
    ----------
    ws : Workspace
    area : Area
        The data the published plan was made from.
    req : ReplanRequest
    out : path
        Folder of run folders (``outputs/``).
    run : str, optional
        Name of the new run (default ``<published>-replan-<date>``).
    lang : {"vi", "en"}

    Returns
    -------
    dict
        ``{"path", "plan", "diff", "record"}``.
    """
    with ws.transaction() as s:
        pub = s.scalars(
            select(PlanRecord).where(
                PlanRecord.status == "published",
                PlanRecord.start_date <= req.date_from,
                PlanRecord.end_date >= req.date_from,
            )
        ).first()
        if pub is None:
            raise WorkspaceError(f"no published plan covers {req.date_from}; publish one first ('planner publish RUN')")
        pub_run, pub_dir, pub_cfg = pub.run, Path(pub.run_dir), dict(pub.config)
        start, end = pub.start_date, pub.end_date
        not_held = {
            (v.date.isoformat(), v.village_id)
            for v in s.scalars(
                select(Visit).where(Visit.held.in_(("no", "cancelled")), Visit.date >= start, Visit.date <= end)
            )
        }
        stored = stored_closures(s, req.date_from, end)
        road_dates, stored_places = fold_closures(stored)
        for r in req.close_roads:
            road_dates[r] = road_span(road_dates.get(r), (req.date_from, req.until))
        closed_roads = set(road_dates)
        closed_places = set(req.close_places) | stored_places
        closure_text = {
            c.target_id: f"{CLOSURE_PREFIX} closed from {c.date_from} ({c.reason or 'no reason given'})"
            for c in stored
            if c.kind == "place"
        }
    old = load_run_plan(pub_dir)
    vehicles = sorted({d.vehicle for d in old.days} | {str(v["id"]) for v in pub_cfg.get("vehicles", [])})
    kept, first_free = kept_days(old, req.date_from, vehicles)
    new_from = max(first_free.values()) if first_free else req.date_from
    area2, problems = apply_closures(area, road_dates, closed_places)
    if problems:
        raise InputError(problems)
    done = done_counts(kept, not_held)
    required = {v.village_id: v.visits_required for v in old.villages}
    vill = area2.villages.copy()
    vill["visits_per_cycle"] = [max(0, required.get(str(i), 1) - done.get(str(i), 0)) for i in vill["id"].astype(str)]
    area2 = replace(area2, villages=vill)
    pins = pins_between(ws, new_from, end)
    req2 = replace(req, date_from=new_from)
    if new_from > end:
        raise NoPlanError(
            f"nothing left to re-plan: the cycle ends on {end} and the vehicles are busy until {new_from}"
        )
    cfg = replan_config(pub_cfg, req2, start, end, pins)
    problem = build_problem(area2, cfg)
    # no upper bound: the window's bound is not one of the whole cycle (kept days + window), and it
    # took a third of the re-plan's time
    new = solve(problem, bound=False)
    bad = violations(new, problem)
    if bad:
        raise PlannerError(
            "the re-planned days failed their checks (a bug; please report it):\n  " + "\n  ".join(bad[:30])
        )
    for p in req.close_places:
        closure_text.setdefault(p, f"{CLOSURE_PREFIX} closed from {req.date_from} ({req.reason or 'no reason given'})")
    if closed_roads or closed_places:
        closure_text[CLOSURE_KEY] = ", ".join(sorted(closed_roads | closed_places))
    plan = merge_plans(old, kept, new, start, not_held, closure_text, problem)
    diff = plan_diff(old, plan, req.date_from)
    name = free_name(out, run or f"{pub_run}-replan-{req.date_from:%Y%m%d}")
    with run_folder(Path(out), name) as tmp:
        write_outputs(plan, problem, tmp, lang=lang, printables=False)
        write_meta(
            tmp,
            {
                "window": [start.isoformat(), end.isoformat()],
                "replan": {
                    "from": req.date_from.isoformat(),
                    "replanned_from": new_from.isoformat(),
                    "published": pub_run,
                    **closures_meta(road_dates, closed_places),
                    "vehicle_down": req.vehicle_down,
                    "down_days": req.down_days,
                    "pins": pins,
                },
            },
        )
        write_diff(diff, tmp)
        if diff.communes:
            render_changed(plan, area, tmp, diff.commune_codes, lang)
    path = Path(out) / name
    with ws.transaction() as s:
        for kind, ids in (("road", req.close_roads), ("place", req.close_places)):
            for target in ids:
                c = Closure(
                    kind=kind, target_id=target, date_from=req.date_from, date_until=req.until, reason=req.reason
                )
                s.add(c)
                audit(
                    s,
                    "close",
                    kind,
                    target,
                    after={
                        "from": str(req.date_from),
                        "until": str(req.until) if req.until else None,
                        "reason": req.reason,
                    },
                )
    rec = register_run(ws, path, kind="replan", parent=pub_run)
    notices = []
    if req.until is not None and req.until < end and req.close_places:
        notices.append(
            f"the place closures end on {req.until}, but a place is closed for a whole plan: they apply to the "
            f"whole re-planned window (to {end}); re-plan again from {req.until + dt.timedelta(days=1)} to use them"
        )
    if req.until is not None and req.until < end and req.close_roads:
        notices.append(
            f"road closures until {req.until}: the van keeps off the road in every week that holds a closed day "
            "(a week is one trip)"
        )
    if new_from > req.date_from:
        notices.append(
            f"a vehicle is away on a trip on {req.date_from}: the trip is kept and re-planning starts on {new_from}"
        )
    return {"path": path, "plan": plan, "diff": diff, "record": rec, "replanned_from": new_from, "notices": notices}


def write_diff(diff: Diff, folder: Path) -> None:
    """``diff.json`` and ``diff.csv`` (one row per changed stop)."""
    (folder / "diff.json").write_text(json.dumps(diff.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    with (folder / "diff.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["change", "stop_id", "name", "commune", "before", "after"])
        for kind, rows in (("moved", diff.moved), ("dropped", diff.dropped), ("added", diff.added)):
            for r in rows:
                w.writerow([kind, r["stop_id"], r["name"], r["commune"], "; ".join(r["before"]), "; ".join(r["after"])])


def render_changed(plan: Plan, area: Area, folder: Path, codes: list[str], lang: str) -> list[Path]:
    """Printable schedules (PDF, HTML) and calendars of the communes whose schedules change, only."""
    doc = build_document(plan, area, lang=lang)
    doc.communes = [c for c in doc.communes if str(c.code) in set(codes)]
    written = []
    sched = folder / "schedules"
    sched.mkdir(exist_ok=True)
    for c in doc.communes:
        written.append(pdf.write_pdf(doc, [c], sched / f"{c.slug}.pdf"))
        written.append(html_schedule.write_html(doc, [c], sched / f"{c.slug}.html"))
    cal = folder / "calendars"
    cal.mkdir(exist_ok=True)
    written += [p for p in calendar.write_calendars(plan, area, doc, cal) if p.name != "all.ics"]
    (cal / "all.ics").unlink(missing_ok=True)
    return written
