"""A plan a district officer could make by hand, for comparison: commune by commune, nearest village next.

Rules (one pass over the communes per round, rounds repeated while villages still need
visits and the cycle has days left):

- communes in order of driving time from the depot, nearest first; inside a commune the
  nearest village that still needs a visit (and was not visited in the last
  ``min_spacing_days``) comes next;
- a village is taken only if, after its 90-minute stop, the van can still reach a place to
  sleep by the end of the shift: the depot, or the commune's lodging (culture centre) on a
  multi-day trip; otherwise the day ends there;
- lunch: an hour, taken at the current stop as soon as it is 11:00 or later (by 12:30);
- the van is back at the depot on the last working day of each week;
- no walking coverage and no fixed points: every village gets its own stop.

The result is an ordinary :class:`planner.model.plan.Plan`, checked by the same
:func:`planner.planning.checker.violations` as the optimised plans.
"""

from __future__ import annotations

import datetime as dt

from planner.model.matrices import UNREACHABLE
from planner.model.plan import Day, Plan, Stop, Unserved, VillageService
from planner.model.problem import Problem, min_spacing_days
from planner.planning.solve import assemble_plan, books_for, split_path


def hand_plan(problem: Problem) -> Plan:
    cfg = problem.config
    svc_s = cfg.service.village_service_min * 60
    shift_start, shift_end = cfg.minutes("shift_start") * 60, cfg.minutes("shift_end") * 60
    lunch_lo = cfg.minutes("lunch_earliest") * 60
    lunch_len = cfg.service.lunch_min * 60
    lunch_hi = cfg.minutes("lunch_latest_end") * 60 - lunch_len
    need = {k: v.visits_required for k, v in enumerate(problem.villages)}
    last_visit: dict[int, dt.date] = {}
    visits: dict[int, list[str]] = {}
    days: list[Day] = []

    for veh_idx, veh in enumerate(problem.vehicles):
        m = problem.matrix_for(veh)
        depot = problem.site(veh.depot)
        lodging_of = {
            s.commune_code: s for s in problem.lodgings(veh) if s.id != depot.id and s.kind == "culture_centre"
        }
        communes = sorted(
            {v.commune_code for v in problem.villages},
            key=lambda c: min(m.time_s[depot.loc, v.loc] for v in problem.villages if v.commune_code == c),
        )
        # vehicles split the communes round-robin, as two crews would
        mine = communes[veh_idx :: len(problem.vehicles)] or communes
        loc = depot.loc
        load = 0
        for w, week in enumerate(problem.weeks):
            for di, date in enumerate(week):
                last_day_of_week = di == len(week) - 1
                t = shift_start
                lunch_done = False
                if loc == depot.loc:
                    load = 0  # reloaded at the depot
                events: list[dict] = [_ev(problem, "start", loc, t, t, 0, 0)]
                legs: list[list] = []
                while True:
                    if not lunch_done and t >= lunch_lo:
                        start = min(max(t, lunch_lo), lunch_hi)
                        if start < t:  # too late for lunch at the rule's time: take it now anyway
                            start = t
                        events.append(_ev(problem, "lunch", loc, start, start + lunch_len, 0, 0))
                        legs.append(m.path_lonlat(loc, loc))
                        t, lunch_done = start + lunch_len, True
                    nxt = _next_village(problem, m, loc, mine, need, last_visit, date, cfg)
                    if nxt is None:
                        break
                    travel = int(m.time_s[loc, nxt])
                    lunch_at = None  # "here" (before driving) or "there" (before the stop)
                    if lunch_done or t + travel + svc_s <= lunch_hi:
                        arrive = t + travel
                        end = arrive + svc_s
                        finish = end if lunch_done else max(end, lunch_lo) + lunch_len  # lunch after the stop
                    elif t + travel <= lunch_hi:
                        lunch_at = "there"
                        arrive = t + travel
                        end = max(arrive, lunch_lo) + lunch_len + svc_s
                        finish = end
                    else:
                        lunch_at = "here"
                        arrive = max(t, lunch_lo) + lunch_len + travel
                        end = arrive + svc_s
                        finish = end
                    home = (
                        [depot]
                        if last_day_of_week
                        else [depot]
                        + (
                            [lodging_of[problem.villages[nxt].commune_code]]
                            if problem.villages[nxt].commune_code in lodging_of
                            else []
                        )
                    )
                    back = min(int(m.time_s[nxt, s.loc]) for s in home)
                    books = books_for(problem.villages[nxt].population, problem)
                    if finish + back > shift_end or load + books > veh.capacity_books:
                        break
                    load += books
                    if lunch_at == "here":
                        start = max(t, lunch_lo)
                        events.append(_ev(problem, "lunch", loc, start, start + lunch_len, 0, 0))
                        legs.append(m.path_lonlat(loc, loc))
                        t, lunch_done = start + lunch_len, True
                    elif lunch_at == "there":
                        start = max(t + travel, lunch_lo)
                        events.append(
                            _ev(problem, "lunch", nxt, start, start + lunch_len, travel, int(m.dist_m[loc, nxt]))
                        )
                        legs.append(m.path_lonlat(loc, nxt))
                        lunch_done = True
                        loc, t = nxt, start + lunch_len
                        arrive, travel = t, 0
                    events.append(_ev(problem, "village", nxt, arrive, end, travel, int(m.dist_m[loc, nxt])))
                    legs.append(m.path_lonlat(loc, nxt))
                    need[nxt] -= 1
                    last_visit[nxt] = date
                    visits.setdefault(nxt, []).append(date.isoformat())
                    loc, t = nxt, end
                # go to sleep: the depot if it can be reached in time, else the commune's lodging
                options = [depot] if last_day_of_week else [depot] + [s for s in lodging_of.values()]
                reach = [s for s in options if t + m.time_s[loc, s.loc] <= shift_end]
                if not reach:
                    reach = [min(options, key=lambda s: m.time_s[loc, s.loc])]
                dest = depot if depot in reach else min(reach, key=lambda s: m.time_s[loc, s.loc])
                kind = "end" if dest.id == depot.id else "overnight"
                travel, dist = int(m.time_s[loc, dest.loc]), int(m.dist_m[loc, dest.loc])
                path = m.path_lonlat(loc, dest.loc)
                if not lunch_done and t >= lunch_lo:  # lunch here, then drive
                    start = min(t, max(t, lunch_lo))
                    events.append(_ev(problem, "lunch", loc, start, start + lunch_len, 0, 0))
                    legs.append(m.path_lonlat(loc, loc))
                    t = start + lunch_len
                elif not lunch_done and t + travel <= lunch_hi:  # drive, then lunch at the destination
                    start = max(t + travel, lunch_lo)
                    events.append(_ev(problem, "lunch", dest.loc, start, start + lunch_len, travel, dist))
                    legs.append(path)
                    t, travel, dist, path = start + lunch_len, 0, 0, m.path_lonlat(dest.loc, dest.loc)
                elif not lunch_done:  # lunch by the road at 11:00
                    frac = (lunch_lo - t) / travel
                    first, second, pt = split_path(path, frac)
                    ev = _ev(problem, "lunch", dest.loc, lunch_lo, lunch_lo + lunch_len, lunch_lo - t, int(dist * frac))
                    ev["roadside"] = pt
                    events.append(ev)
                    legs.append(first)
                    travel, dist, path = travel - (lunch_lo - t), dist - int(dist * frac), second
                    t = lunch_lo + lunch_len
                arrive = t + travel
                events.append(_ev(problem, kind, dest.loc, arrive, arrive, travel, dist))
                legs.append(path)
                loc = dest.loc
                if any(e["kind"] == "village" for e in events) or kind == "overnight" or events[0]["loc"] != dest.loc:
                    days.append(_day(problem, veh.id, date, w, events, legs))

    services, unserved = [], []
    for k, v in enumerate(problem.villages):
        got = len(visits.get(k, []))
        services.append(
            VillageService(
                v.id,
                v.name,
                v.commune,
                v.commune_code,
                v.population,
                "van_stop" if got else "unserved",
                got,
                v.visits_required,
                (v.id,) if got else (),
                tuple(visits.get(k, [])),
                v.children,
            )
        )
        if got < v.visits_required:
            reachable = any(
                problem.matrix_for(x).time_s[problem.site(x.depot).loc, v.loc] < UNREACHABLE for x in problem.vehicles
            )
            reason = "not_enough_time" if reachable else "unreachable"
            unserved.append(
                Unserved(
                    v.id,
                    v.name,
                    v.commune,
                    v.population,
                    reason,
                    "hand plan: not reached in the cycle",
                    got,
                    v.visits_required,
                )
            )
    return assemble_plan(
        problem,
        days,
        services,
        unserved,
        {"method": "hand baseline: commune by commune, nearest village next", "solve_time_s": 0.0},
    )


def _next_village(problem, m, loc, communes, need, last_visit, date, cfg):
    for code in communes:
        cands = [
            k
            for k, v in enumerate(problem.villages)
            if v.commune_code == code
            and need[k] > 0
            and m.time_s[loc, v.loc] < UNREACHABLE
            and (k not in last_visit or (date - last_visit[k]).days >= min_spacing_days(cfg, v.visits_required))
        ]
        if cands:
            return min(cands, key=lambda k: (m.time_s[loc, problem.villages[k].loc], k))
    return None


def _ev(problem, kind, loc, arr, dep, travel_s, travel_m):
    return {"kind": kind, "loc": loc, "arr": arr, "dep": dep, "travel_s": travel_s, "travel_m": travel_m}


def _day(problem, vehicle, date, week_idx, events, legs) -> Day:
    base = dt.datetime.combine(date, dt.time())
    stops = []
    for seq, e in enumerate(events):
        sid, name, commune, code, lon, lat = problem.stop_name(e["loc"])
        if "roadside" in e:
            sid, name, commune, code, (lon, lat) = "", "", "", "", e["roadside"]
        pop = children = books = 0
        served = ()
        if e["kind"] == "village":
            v = problem.villages[e["loc"]]
            pop, children, books, served = v.population, v.children, books_for(v.population, problem), (v.id,)
        stops.append(
            Stop(
                seq,
                e["kind"],
                sid,
                name,
                commune,
                code,
                round(lon, 6),
                round(lat, 6),
                base + dt.timedelta(seconds=e["arr"]),
                base + dt.timedelta(seconds=e["dep"]),
                round(e["travel_s"] / 60, 1),
                round(e["travel_m"] / 1000, 2),
                books,
                pop,
                children,
                served,
            )
        )
    return Day(vehicle, date, week_idx + 1, tuple(stops), tuple(tuple(p) for p in legs))
