"""Hand edits of a run: move, drop or add one village visit, re-time the day, referee the result.

The edited day keeps its order of stops; the new stop goes at its time (or, without a time,
where it adds the least driving). Arrivals and departures are recomputed from the travel
matrices from the start of the shift; lunch is taken where the van is, inside the lunch
window. The whole plan then goes through the checker
(:func:`planner.planning.checker.violations`); an edit that breaks a rule the plan did not
break before is refused, naming the rule and where.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from planner.io.runs import free_name, run_folder
from planner.model.area import Area
from planner.model.config import make_config
from planner.model.errors import InputError, Problem
from planner.model.matrices import UNREACHABLE
from planner.model.plan import Day, Plan, Stop
from planner.model.problem import books_for
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.runs import write_outputs
from planner.workspace.db import Edit
from planner.workspace.replan import apply_closures, merge_plans
from planner.workspace.service import (
    get_plan,
    load_run_plan,
    meta_closures,
    parse_time,
    register_run,
    run_config,
    run_meta,
    write_meta,
)
from planner.workspace.store import Workspace, audit


@dataclass(frozen=True)
class EditRequest:
    """``move`` a village's visit to a date (and time), ``drop`` it from a date, or ``add`` one."""

    action: str  # move, drop, add
    village: str
    date: dt.date
    time: str | None = None


class EditRefused(InputError):
    """The edit breaks a rule; the message says which and where (exit code 2)."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        n = len(self.problems)
        lines = "\n".join(f"  - {p.feature}: {p.rule}" for p in self.problems)
        self.args = (f"the edit is refused: it breaks {n} rule{'s' if n != 1 else ''} of the plan:\n{lines}",)


def refuse(req: EditRequest, rule: str) -> EditRefused:
    return EditRefused([Problem("edit", f"{req.action} {req.village} {req.date}", req.action, req.village, rule)])


def at(date: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=round(minutes))


def retime(day: Day, problem, vehicle, fixed: dict[str, int], req: EditRequest) -> Day:
    """The day's stops (lunch aside) re-timed from the shift start; lunch where the van is.

    ``fixed`` maps a stop id to the minute of the day it must not arrive before (a pinned time).
    """
    cfg = problem.config
    m = problem.matrix_for(vehicle, day.date)
    shift = (cfg.vehicle_hours(vehicle, day.date) or (cfg.minutes("shift_start"), 0))[0]
    lunch_lo, lunch_hi = cfg.minutes("lunch_earliest"), cfg.minutes("lunch_latest_end")
    lunch_len = cfg.service.lunch_min
    core = [s for s in day.stops if s.kind != "lunch"]
    has_visits = any(s.kind in ("village", "site") for s in core)

    def service(s: Stop) -> float:
        if s.kind not in ("village", "site"):
            return 0.0
        span = (s.departure - s.arrival).total_seconds() / 60
        return span or float(cfg.service.village_service_min if s.kind == "village" else cfg.service.site_service_min)

    t = float(shift) if core[0].kind == "start" else core[0].departure.hour * 60 + core[0].departure.minute
    out = [replace(core[0], seq=0, arrival=at(day.date, t), departure=at(day.date, t), travel_min=0.0, travel_km=0.0)]
    lunch_done = not has_visits
    for i, nxt in enumerate(core[1:], start=1):
        cur = out[-1]
        a, b = m.index(cur.stop_id), m.index(nxt.stop_id)
        if m.time_s[a, b] >= UNREACHABLE:
            raise refuse(req, f"[road] {day.vehicle} {day.date}: no road from {cur.stop_name} to {nxt.stop_name}")
        travel = m.time_s[a, b] / 60
        last = i == len(core) - 1
        if not lunch_done and (t >= lunch_lo or t + travel + service(nxt) + lunch_len > lunch_hi or last):
            start = max(t, lunch_lo)
            out.append(
                replace(cur, seq=len(out), kind="lunch", arrival=at(day.date, start), departure=at(day.date, start + lunch_len),
                        travel_min=0.0, travel_km=0.0, books=0, population_served=0, children_served=0, villages_served=(), walkers=())
            )  # fmt: skip
            t = start + lunch_len
            lunch_done = True
        arrival = t + travel
        if nxt.stop_id in fixed:
            want = fixed[nxt.stop_id]
            if arrival > want + 15:
                raise refuse(
                    req,
                    f"[time] {day.vehicle} {day.date}: {nxt.stop_name} cannot be reached by {want // 60:02d}:{want % 60:02d}; "
                    f"earliest arrival {int(arrival) // 60:02d}:{int(arrival) % 60:02d}",
                )
            arrival = max(arrival, want)
        departure = arrival + service(nxt)
        out.append(
            replace(nxt, seq=len(out), arrival=at(day.date, arrival), departure=at(day.date, departure),
                    travel_min=round(travel, 1), travel_km=round(m.dist_m[a, b] / 1000, 2))
        )  # fmt: skip
        t = departure
    legs = []
    for x, y in zip(out, out[1:]):
        a, b = m.index(x.stop_id), m.index(y.stop_id)
        path = m.path_lonlat(a, b) if a != b else [(x.lon, x.lat), (y.lon, y.lat)]
        legs.append(tuple(tuple(p) for p in (path or [(x.lon, x.lat), (y.lon, y.lat)])))
    return replace(day, stops=tuple(out), legs=tuple(legs))


def new_stop(problem, village_id: str) -> Stop:
    v = next(x for x in problem.villages if x.id == village_id)
    now = dt.datetime(2000, 1, 1)
    return Stop(
        seq=0, kind="village", stop_id=v.id, stop_name=v.name, commune=v.commune, commune_code=v.commune_code,
        lon=v.lon, lat=v.lat, arrival=now, departure=now, books=books_for(v.population, problem),
        population_served=v.population, children_served=v.children, villages_served=(v.id,),
    )  # fmt: skip


def insert(day: Day, stop: Stop, problem, vehicle, when: int | None) -> Day:
    """``day`` with ``stop`` inserted at its time, or where it adds the least driving."""
    core = [s for s in day.stops if s.kind != "lunch"]
    m = problem.matrix_for(vehicle, day.date)
    if when is not None:
        pos = next(
            (
                k
                for k, s in enumerate(core)
                if k > 0 and (s.kind in ("end", "overnight") or s.arrival.hour * 60 + s.arrival.minute > when)
            ),
            len(core) - 1,
        )
    else:
        j = m.index(stop.stop_id)

        def extra(k):
            a, b = m.index(core[k - 1].stop_id), m.index(core[k].stop_id)
            return int(m.time_s[a, j]) + int(m.time_s[j, b]) - int(m.time_s[a, b])

        pos = min(range(1, len(core)), key=extra)
    return replace(day, stops=tuple(core[:pos] + [stop] + core[pos:]))


def apply_edit(plan: Plan, problem, req: EditRequest) -> Plan:
    """The plan with the edit applied and the touched days re-timed (not yet refereed)."""
    vehicles = {v.id: v for v in problem.vehicles}
    known = {v.id for v in problem.villages}
    if req.village not in known:
        raise refuse(req, "[village] no village with this id in the data")
    when = None
    t = parse_time(req.time)
    if t is not None:
        when = int(t[:2]) * 60 + int(t[3:])
    days = list(plan.days)
    visits = [(k, s) for k, d in enumerate(days) for s in d.stops if s.kind == "village" and s.stop_id == req.village]
    touched: set[int] = set()
    moving = None
    if req.action == "drop":
        hit = [(k, s) for k, s in visits if days[k].date == req.date]
        if not hit:
            raise refuse(req, f"[plan] {req.village} has no visit on {req.date}")
    elif req.action == "move":
        if not visits:
            raise refuse(req, f"[plan] {req.village} has no visit to move; use --add")
        hit = [min(visits, key=lambda ks: abs((days[ks[0]].date - req.date).days))]
        moving = hit[0][1]
    else:
        hit = []
        if any(days[k].date == req.date for k, _ in visits):
            raise refuse(req, f"[plan] {req.village} is already visited on {req.date}")
    for k, s in hit:
        days[k] = replace(days[k], stops=tuple(x for x in days[k].stops if x is not s))
        touched.add(k)
    if req.action in ("move", "add"):
        if req.date not in problem.dates:
            raise refuse(req, f"[calendar] {req.date} is not a working date of the plan")
        target = [k for k, d in enumerate(days) if d.date == req.date]
        if moving is not None:
            same = [k for k in target if days[k].vehicle == days[hit[0][0]].vehicle]
            target = same or target
        if not target:
            raise refuse(req, f"[calendar] no vehicle works on {req.date} in this plan")
        k = target[0]
        stop = moving if moving is not None else new_stop(problem, req.village)
        veh = vehicles[days[k].vehicle]
        days[k] = insert(days[k], stop, problem, veh, when)
        touched.add(k)
    fixed = {req.village: when} if when is not None else {}
    for k in touched:
        d = days[k]
        days[k] = retime(
            d, problem, vehicles[d.vehicle], fixed if req.village in {s.stop_id for s in d.stops} else {}, req
        )
    start = min(problem.dates)
    empty = Plan(
        status=plan.status,
        days=(),
        villages=(),
        unserved=(),
        population_total=0,
        children_total=0,
        villages_total=0,
        run=dict(plan.run),
    )
    return merge_plans(plan, days, empty, start, set(), {}, problem)


def edit_run(
    ws: Workspace, area: Area, run: str, req: EditRequest, *, out: Path, name: str | None = None, lang: str = "vi"
) -> dict:
    """Apply a hand edit to a run and write the edited run as a new draft.

    Parameters
    ----------
    ws : Workspace
    area : Area
        The data the run was made from.
    run : str
        A registered run.
    req : EditRequest
    out : path
        Folder of run folders.
    name : str, optional
        Name of the new run (default ``RUN-edit``, ``RUN-edit-2`` …).
    lang : {"vi", "en"}

    Returns
    -------
    dict
        ``{"path", "plan"}``.

    Raises
    ------
    EditRefused
        The edit breaks a rule (the message quotes the checker: rule and where).
    """
    with ws.transaction() as s:
        rec = get_plan(s, run)
        run_dir, plan_id = Path(rec.run_dir), rec.id
    raw = run_config(run_dir)
    meta = run_meta(run_dir)
    plan = load_run_plan(run_dir)
    roads, places = meta_closures(meta)  # the closures the plan was made with
    area2, problems = apply_closures(area, roads, places)
    if problems:
        raise InputError(problems)
    problem = build_problem(area2, make_config(raw))
    before = set(violations(plan, problem))
    edited = apply_edit(plan, problem, req)
    broken = [v for v in violations(edited, problem) if v not in before]
    if broken:
        raise EditRefused(
            [Problem("edit", f"{req.action} {req.village} {req.date}", "checker", req.village, b) for b in broken]
        )
    new_name = free_name(out, name or f"{run}-edit")
    with run_folder(Path(out), new_name) as tmp:
        write_outputs(edited, problem, tmp, lang=lang)
        write_meta(tmp, dict(meta, edit={"from": run, "action": req.action, "village": req.village, "date": req.date}))
    path = Path(out) / new_name
    new_rec = register_run(ws, path, kind="edit", parent=run)
    with ws.transaction() as s:
        s.add(
            Edit(
                plan_id=plan_id,
                result_plan_id=new_rec.id,
                action=req.action,
                village_id=req.village,
                date=req.date,
                time=req.time,
            )
        )
        audit(
            s,
            "edit",
            "plan",
            new_name,
            after={"action": req.action, "village": req.village, "date": str(req.date), "time": req.time},
            detail=f"from {run}",
        )
    return {"path": path, "plan": edited}
