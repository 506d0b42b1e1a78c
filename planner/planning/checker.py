"""An independent checker: ``violations(plan, problem) -> list[str]`` (empty when the plan is sound).

It reads only the plan's plain data and the problem's matrices and rules; it shares no
code with the solver, so a solver bug cannot hide itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from planner.model.plan import Plan
from planner.model.problem import Problem, min_spacing_days

TOL_MIN = 1.5  # rounding of times to minutes and of travel to 0.1 min


def _hm(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def violations(plan: Plan, problem: Problem) -> list[str]:
    """Every rule the plan breaks, recomputed from the stop events, the input data and the matrices.

    The checker trusts no figure of the plan: it shares no code with the solver beyond the
    plain data types.

    Parameters
    ----------
    plan : Plan
        The plan to referee.
    problem : Problem
        The rules, data and matrices it was made for.

    Returns
    -------
    list of str
        One line per broken rule, ``"[rule] where: what"``; empty when the plan is valid.
    """
    cfg = problem.config
    out: list[str] = []
    lunch_lo = cfg.minutes("lunch_earliest")
    lunch_hi_end = cfg.minutes("lunch_latest_end")
    lunch_len = cfg.service.lunch_min
    village_ids = {v.id: v for v in problem.villages}
    sites = {s.id: s for s in problem.sites}
    vehicles = {v.id: v for v in problem.vehicles}
    working = set(problem.dates)

    def minutes(t: dt.datetime) -> float:
        return t.hour * 60 + t.minute + t.second / 60

    visits = Counter()
    for day in plan.days:
        tag = f"{day.vehicle} {day.date}"
        veh = vehicles.get(day.vehicle)
        if veh is None:
            out.append(f"{tag}: unknown vehicle")
            continue
        m = problem.matrix_for(veh)
        hours = cfg.vehicle_hours(veh, day.date) or (0, 0)
        shift_start, shift_end = hours
        lunch_due = hours[0] <= lunch_lo and lunch_hi_end <= hours[1]
        if day.date not in working:
            out.append(f"{tag}: not a working date")
        stops = day.stops
        if [s.seq for s in stops] != list(range(len(stops))):
            out.append(f"{tag}: sequence numbers are not 0..n-1")
        if not stops or stops[0].kind != "start":
            out.append(f"{tag}: does not begin with a start")
        if not stops or stops[-1].kind not in ("end", "overnight"):
            out.append(f"{tag}: does not finish with end or overnight")
        if len(day.legs) != max(0, len(stops) - 1):
            out.append(f"{tag}: {len(day.legs)} legs for {len(stops)} stops")
        lunches = [s for s in stops if s.kind == "lunch"]
        if any(s.kind in ("village", "site") for s in stops) and lunch_due:
            if len(lunches) != 1:
                out.append(f"{tag}: {len(lunches)} lunch breaks (expected 1)")
        for s in lunches:
            if minutes(s.arrival) < lunch_lo - TOL_MIN or minutes(s.departure) > lunch_hi_end + TOL_MIN:
                out.append(
                    f"{tag}: lunch {_hm(s.arrival)}-{s.departure:%H:%M} outside {cfg.service.lunch_earliest}-{cfg.service.lunch_latest_end}"
                )
            if (s.departure - s.arrival).total_seconds() / 60 < lunch_len - TOL_MIN:
                out.append(f"{tag}: lunch shorter than {lunch_len} min")
        # times
        last_loc = None
        pending_travel = 0.0
        prev = None
        for s in stops:
            if s.arrival.date() != day.date or s.departure.date() != day.date:
                out.append(f"{tag} #{s.seq} {s.stop_name}: time on another date ({_hm(s.arrival)})")
            if s.departure < s.arrival:
                out.append(
                    f"{tag} #{s.seq} {s.stop_name}: departs {_hm(s.departure)} before it arrives {_hm(s.arrival)}"
                )
            if s.kind not in ("start",) and minutes(s.arrival) < shift_start - TOL_MIN:
                out.append(f"{tag} #{s.seq} {s.stop_name}: arrives {s.arrival:%H:%M} before the shift")
            if minutes(s.departure) > shift_end + TOL_MIN or minutes(s.arrival) > shift_end + TOL_MIN:
                out.append(f"{tag} #{s.seq} {s.stop_name}: {s.arrival:%H:%M}-{s.departure:%H:%M} after the shift end")
            if s.kind == "start" and minutes(s.departure) < shift_start - TOL_MIN:
                out.append(f"{tag}: leaves {s.departure:%H:%M} before the shift")
            if prev is not None:
                gap = (s.arrival - prev.departure).total_seconds() / 60
                if gap + TOL_MIN < s.travel_min:
                    out.append(
                        f"{tag} #{s.seq} {s.stop_name}: arrives {s.arrival:%H:%M}, but leaving {prev.departure:%H:%M} "
                        f"with {s.travel_min} min of travel"
                    )
            # travel consistent with the matrix (a roadside lunch splits a leg in two)
            if s.kind == "lunch" and not s.stop_id:
                pending_travel += s.travel_min
            elif s.kind == "start":
                last_loc = s.stop_id
                pending_travel = 0.0
            else:
                if last_loc is not None and s.stop_id:
                    expect = m.time_s[m.index(last_loc), m.index(s.stop_id)] / 60
                    got = pending_travel + s.travel_min
                    if abs(expect - got) > TOL_MIN:
                        out.append(f"{tag} #{s.seq} {s.stop_name}: travel {got:.1f} min, matrix says {expect:.1f} min")
                    last_loc = s.stop_id
                pending_travel = 0.0
            if s.kind == "village":
                if s.stop_id not in village_ids:
                    out.append(f"{tag} #{s.seq}: village {s.stop_id} unknown")
                visits[s.stop_id] += 1
            if s.kind == "overnight":
                site = sites.get(s.stop_id)
                if site is None or site.kind not in veh.overnight_kinds or not site.lodging:
                    out.append(
                        f"{tag}: overnight at {s.stop_id} ({site.kind if site else 'unknown'}), not an allowed lodging"
                    )
            if s.kind == "end" and s.stop_id != veh.depot:
                out.append(f"{tag}: ends at {s.stop_id}, not at the depot {veh.depot}")
            prev = s
    # multi-day chains: a day after an overnight starts where the crew slept; weeks end at the depot
    by_vehicle: dict[str, list] = {}
    for day in plan.days:
        by_vehicle.setdefault(day.vehicle, []).append(day)
    for vid, days in by_vehicle.items():
        days.sort(key=lambda d: d.date)
        veh = vehicles.get(vid)
        for a, b in zip(days, days[1:]):
            if a.stops and a.stops[-1].kind == "overnight":
                if b.stops[0].stop_id != a.stops[-1].stop_id:
                    out.append(f"{vid} {b.date}: starts at {b.stops[0].stop_id} but slept at {a.stops[-1].stop_id}")
                if a.week != b.week:
                    out.append(f"{vid} {a.date}: a night away across weeks")
            elif a.stops and veh is not None and b.stops[0].stop_id != veh.depot:
                out.append(f"{vid} {b.date}: starts at {b.stops[0].stop_id} after a night at the depot")
        if days and days[-1].stops and days[-1].stops[-1].kind != "end":
            out.append(f"{vid}: the plan's last day does not end at the depot")
        # capacity: books handed out between two depot nights
        load = 0
        for day in days:
            if day.stops[0].stop_id == (veh.depot if veh else None):
                load = 0
            load += sum(s.books for s in day.stops if s.kind in ("village", "site"))
            if veh is not None and load > veh.capacity_books:
                out.append(f"{vid} {day.date}: {load} books since the last reload, capacity {veh.capacity_books}")
    # visits per stop: at most the largest requirement among the villages it serves, spaced out
    allowed_visits: dict[str, int] = {}
    stop_dates: dict[str, list[dt.date]] = {}
    for day in plan.days:
        for s in day.stops:
            if s.kind == "village":
                need = max((village_ids[v].visits_required for v in s.villages_served if v in village_ids), default=1)
                allowed_visits[s.stop_id] = max(allowed_visits.get(s.stop_id, 1), need)
                stop_dates.setdefault(s.stop_id, []).append(day.date)
                if s.stop_id not in s.villages_served:
                    out.append(f"{day.vehicle} {day.date}: stop {s.stop_id} does not list its own village as served")
                walkers = set(s.walkers)
                if walkers - set(s.villages_served):
                    out.append(f"{day.vehicle} {day.date}: walkers of {s.stop_id} not among the villages served")
                limit = float(cfg.plan.walk_limit_m)
                if problem.walk is not None:
                    for w in walkers:
                        d = problem.walk.dist_m[problem.walk.index(s.stop_id), problem.walk.index(w)]
                        if d > limit + 1:
                            out.append(f"{day.vehicle} {day.date}: {w} walks {d} m to {s.stop_id}, limit {limit:.0f} m")
                elif walkers:
                    out.append(f"{day.vehicle} {day.date}: walkers at {s.stop_id} but walking is off")
    for vid, n in visits.items():
        if n > allowed_visits.get(vid, 1):
            out.append(f"village {vid}: {n} van visits, at most {allowed_visits.get(vid, 1)} allowed")
    for sid, dates in stop_dates.items():
        dates.sort()
        need = min_spacing_days(cfg, allowed_visits.get(sid, 1))
        for a, b in zip(dates, dates[1:]):
            if (b - a).days < need - 0.5:
                out.append(
                    f"stop {sid}: visits on {a} and {b} are {(b - a).days} days apart, at least {need:.1f} required"
                )
    # service records agree with the stops
    for vs in plan.villages:
        if vs.channel == "van_stop" and visits[vs.village_id] == 0:
            out.append(f"village {vs.village_id}: channel van_stop but no van stop in the plan")
    unserved_ids = {u.village_id for u in plan.unserved}
    for vs in plan.villages:
        if vs.visits < vs.visits_required and vs.village_id not in unserved_ids:
            out.append(f"village {vs.village_id}: {vs.visits} of {vs.visits_required} visits but not reported")
    # summary equals the sum of its parts
    s = plan.summary()
    days_sum = {
        "distance_km": round(sum(st.travel_km for d in plan.days for st in d.stops), 1),
        "nights_away": sum(d.summary()["nights_away"] for d in plan.days),
        "books": sum(d.summary()["books"] for d in plan.days),
        "stops": sum(d.summary()["stops"] for d in plan.days),
    }
    for k, v in days_sum.items():
        if abs(s[k] - v) > 0.11:
            out.append(f"summary {k} = {s[k]}, the days add up to {v}")
    served_pop = sum(v.people_served for v in plan.villages if v.channel != "unserved")
    if s["population_served"] != served_pop:
        out.append(f"summary population_served = {s['population_served']}, villages add up to {served_pop}")
    if s["population_total"] != sum(v.population for v in problem.villages):
        out.append("summary population_total differs from the problem's villages")
    return out
