"""Problem -> Plan: the district's weekly (or multi-week) plan through the engine kernel.

Model (one kernel route per vehicle and week):

- time runs in seconds from 00:00 of the plan's start date;
- a village visit may start in any working day's shift, early enough to end by the
  shift's end; each route carries a day counter that only *overnight nodes* advance and
  every visit must fall in the shift of the counter's day, so a route crosses a night
  only at a lodging (never by waiting or driving through it);
- an overnight node (one per vehicle, week, night and lodging; at most one per night)
  is reached by the shift's end and left at the next working day's shift start; the
  depot is a lodging too (a night at home), every other lodging is a night away;
- lunch is a break of ``lunch_min`` starting between ``lunch_earliest`` and
  ``lunch_latest_end - lunch_min`` on every working day;
- books: each visit hands out books by population; the load resets at the depot;
- every village visit is optional with a penalty ``penalty_per_person × population``,
  so the plan serves as many people as it can, then drives as little as it can.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from planner.engine import kernel
from planner.engine.model import UNREACHABLE, Break, DaySchedule, NodeGroup, Precedence, RoutingModel, VehicleSpec
from planner.model.errors import NoPlanError
from planner.model.fairness import commune_coverage
from planner.model.plan import Day, LateVisit, Plan, Stop, Unserved, VillageService
from planner.model.problem import Problem, books_for, min_spacing_days
from planner.planning.bound import population_upper_bound
from planner.planning.costs import plan_costs
from planner.planning.covering import Selection, select_stops
from planner.planning.objective import school_pupils, school_value, village_weights, visit_value, walk_credit

DAY_S = 86400
HOUR_S = 3600


@dataclass(frozen=True)
class NodeInfo:
    kind: str  # "depot", "village", "site", "night"
    loc: int  # matrix row
    village: int | None = None  # index into problem.villages
    copy: int = 0
    vehicle_route: int | None = None  # kernel vehicle (night nodes)
    night_date: dt.date | None = None
    site: int | None = None
    stop: int | None = None  # index into the stop selection


def _t(problem: Problem, date: dt.date, minutes: int) -> int:
    return (date - problem.start_date).days * DAY_S + minutes * 60


def vehicle_hours_table(problem: Problem) -> list[dict[dt.date, tuple[int, int] | None]]:
    """Per vehicle (in fleet order), its working hours on each date of the plan (minutes), or None."""
    cfg = problem.config
    return [{d: cfg.vehicle_hours(v, d) for d in problem.dates} for v in problem.vehicles]


def day_bounds(hours: list[dict], date: dt.date) -> tuple[int, int]:
    """The earliest start and latest end of any vehicle's hours on ``date`` (minutes)."""
    spans = [h[date] for h in hours if h[date]]
    return min(a for a, _ in spans), max(b for _, b in spans)


def stop_windows(problem: Problem, day_span: dict, village_id: str | None, service_s: int, only=None) -> tuple:
    """Absolute intervals for the start of service at a stop: working hours ∩ the village's own windows
    (on the dates in ``only``, when given)."""
    own_of = (lambda d: problem.village_windows(village_id, d)) if village_id else (lambda d: None)
    return open_windows(problem, day_span, own_of, service_s, only)


def school_session_windows(problem: Problem, day_span: dict, site_id: str, service_s: int) -> tuple:
    """Absolute intervals for the start of a reading session at a school: working hours ∩ the school's
    hours, on the working dates inside its term."""
    return open_windows(problem, day_span, lambda d: problem.school_windows(site_id, d), service_s)


def open_windows(problem: Problem, day_span: dict, own_of, service_s: int, only=None) -> tuple:
    """Absolute intervals for the start of a ``service_s`` visit: on each working date (in ``only``, when
    given), the fleet's hours ∩ ``own_of(date)`` (``None``: no own rule; ``()``: closed that day)."""
    out = []
    for d in problem.dates:
        if only is not None and d not in only:
            continue
        lo, hi = day_span[d]
        own = own_of(d)
        for a, b in own if own is not None else ((lo, hi),):
            a, b = max(a, lo), min(b, hi)
            if b * 60 - service_s >= a * 60:
                out.append((_t(problem, d, a), _t(problem, d, b) - service_s))
    return tuple(out)


def can_reach(problem: Problem, vehicle, loc: int, week: int | None = None) -> bool:
    """Whether the vehicle drives from its depot to matrix row ``loc`` and back (in ``week``, if given)."""
    m = problem.week_matrix(vehicle.profile, week)
    depot = problem.site(vehicle.depot).loc
    return bool(m.time_s[depot, loc] < UNREACHABLE and m.time_s[loc, depot] < UNREACHABLE)


def carried_over(problem: Problem, members) -> bool:
    """Whether a stop serves a village carried over from the last cycle (``[plan] carry_over``)."""
    ids = set(problem.config.plan.carry_over)
    return bool(ids) and any(problem.villages[m].id in ids for m in members)


#: The first visit of a stop serving a carried-over village is worth this many times its value in the
#: first week and once its value later (a later visit costs ``CARRY_OVER_WEIGHT - 1`` times its value):
#: the first week goes to carried-over villages before any other (pins excepted), and a carried-over
#: village that cannot fit in the first week is still visited later rather than dropped.
CARRY_OVER_WEIGHT = 100
#: A pinned visit is worth this many times an ordinary one, so the search keeps it whenever it fits.
PIN_WEIGHT = 1000
#: A pinned time holds within this many minutes either side.
PIN_TOLERANCE_MIN = 15


def pinned_windows(problem: Problem, day_span: dict, village_id: str | None, service_s: int, pin) -> tuple:
    """Start-of-service windows of a pinned visit: its date, and its time ± the tolerance when given."""
    wins = stop_windows(problem, day_span, village_id, service_s, only={pin.date})
    if pin.time is None:
        return wins
    h, m = (int(x) for x in pin.time.split(":"))
    lo = _t(problem, pin.date, h * 60 + m - PIN_TOLERANCE_MIN)
    hi = _t(problem, pin.date, h * 60 + m + PIN_TOLERANCE_MIN)
    return tuple((max(a, lo), min(b, hi)) for a, b in wins if max(a, lo) <= min(b, hi))


def first_week_split(problem: Problem, windows: tuple) -> tuple[tuple, tuple]:
    """Start-of-service windows in the cycle's first week, and those after it."""
    end = _t(problem, problem.weeks[0][-1], 24 * 60)
    return tuple(w for w in windows if w[0] < end), tuple(w for w in windows if w[0] >= end)


@dataclass(frozen=True)
class MarketPlan:
    """The working dates that are a village's market days, and whether a visit must fall on one."""

    dates: frozenset[dt.date]
    required: bool


def market_dates(problem: Problem, village_id: str | None) -> MarketPlan | None:
    """The market-day rule that applies to a village's visits (None: no market rule)."""
    mode = problem.config.objective.market_day
    if village_id is None or mode == "ignored":
        return None
    v = problem.village(village_id)
    if v.market is None:
        return None
    dates = frozenset(d for d in problem.dates if v.market.on(d))
    return MarketPlan(dates, v.market_required or mode == "required")


def build_model(problem: Problem, selection: Selection | None = None, boost: dict[str, float] | None = None):
    """The kernel model of the district plan, its node table and (vehicle, week) per route."""
    selection = selection if selection is not None else select_stops(problem)
    cfg = problem.config
    svc = cfg.service
    hours = vehicle_hours_table(problem)
    day_span = {d: day_bounds(hours, d) for d in problem.dates}
    lunch_lo = cfg.minutes("lunch_earliest")
    lunch_min = svc.lunch_min
    lunch_end = cfg.minutes("lunch_latest_end")
    lunch_hi = lunch_end - lunch_min
    village_service = svc.village_service_min * 60
    horizon = (problem.dates[-1] - problem.start_date).days * DAY_S + DAY_S

    nodes: list[NodeInfo] = []
    service: list[int] = []
    windows: list[tuple] = []
    demand: list[int] = []
    penalty: list[int] = []
    waits: list[int | None] = []
    allowed: list[tuple[int, ...] | None] = []
    visit_cost: list[int] = []

    def add(info, svc_s, win, dem, pen, wait, allow, vcost=0):
        nodes.append(info)
        service.append(svc_s)
        windows.append(win)
        demand.append(dem)
        penalty.append(pen)
        waits.append(wait)
        allowed.append(allow)
        visit_cost.append(vcost)
        return len(nodes) - 1

    # depots: one node per distinct depot
    depot_node = {}
    for veh in problem.vehicles:
        if veh.depot not in depot_node:
            s = problem.site(veh.depot)
            shifts = tuple((_t(problem, d, day_span[d][0]), _t(problem, d, day_span[d][1])) for d in problem.dates)
            depot_node[veh.depot] = add(NodeInfo("depot", s.loc), 0, shifts, 0, 0, None, None)

    routes = [(k, w) for k, _ in enumerate(problem.vehicles) for w in range(len(problem.weeks))]

    # stops (villages with their walkers, fixed points to restock): one node per wanted visit
    site_service = svc.site_service_min * 60
    weights = village_weights(problem, boost)
    groups: list[NodeGroup] = []
    precedences: list[Precedence] = []
    box = cfg.fixed_points.box_books
    for si, st in enumerate(selection.stops):
        svc_s = village_service if st.kind == "village" else site_service
        own = problem.villages[st.members[0]].id if st.kind == "village" and st.members else None
        win = stop_windows(problem, day_span, own, svc_s)
        if not win:
            continue  # the village's own hours never meet a working day: reported by the explainer
        reach = tuple(r for r, (k, w) in enumerate(routes) if can_reach(problem, problem.vehicles[k], st.loc, w))
        if not reach:
            continue
        gap = int(min_spacing_days(cfg, st.visits) * DAY_S) - DAY_S // 2
        books = books_for(st.population, problem) if st.kind == "village" else box
        members, credits = (st.members, st.credits) if st.kind == "village" else (st.covered, (1.0,) * len(st.covered))
        market = market_dates(problem, own)
        if market is not None and market.required:
            win = stop_windows(problem, day_span, own, svc_s, only=market.dates)
            if not win:
                continue  # no market day in the cycle's working days: reported by the explainer
        prev: list[int] = []
        # pins that can be met at all (a working date inside the village's and the fleet's hours)
        pins = [
            p
            for p in sorted((p for p in cfg.pins if p.village == own), key=lambda p: p.date)
            if own and pinned_windows(problem, day_span, own, svc_s, p)
        ]
        for c in range(max(st.visits, len(pins))):
            value = visit_value(problem, weights, members, credits, first=c == 0)
            info = NodeInfo(
                st.kind, st.loc, village=st.members[0] if st.members else None, copy=c, stop=si, site=st.site
            )
            alternatives = [(win, 0)]
            if c < len(pins):  # a pinned visit: its date (and time), worth far more than any other
                alternatives = [(pinned_windows(problem, day_span, own, svc_s, pins[c]), 0)]
                value *= PIN_WEIGHT
            elif c == 0 and st.kind == "village" and carried_over(problem, st.members) and len(problem.weeks) > 1:
                # carried over from a cycle that missed it: its first visit comes in the first week
                early, late = first_week_split(problem, win)
                if early:
                    alternatives = [(early, 0)] + ([(late, (CARRY_OVER_WEIGHT - 1) * value)] if late else [])
                    value *= CARRY_OVER_WEIGHT
            elif market is not None and not market.required:
                on_market = stop_windows(problem, day_span, own, svc_s, only=market.dates)
                if on_market:  # a market-day visit, or any other day at the cost of the market bonus
                    alternatives = [(on_market, 0), (win, int(round(cfg.objective.market_bonus * value)))]
            here = [add(info, svc_s, w, books, value, None, reach, extra) for w, extra in alternatives]
            if len(here) > 1:
                groups.append(NodeGroup(tuple(here), value, 1))
            spacing = 0 if c <= len(pins) and pins else max(0, gap)  # pinned dates set their own spacing
            precedences.extend(Precedence(a, b, spacing) for a in prev for b in here)
            prev = here

    # school sessions: a reading session at each active school, on a working date in its term, in its hours
    session_s = svc.school_session_min * 60
    for school in problem.schools():
        win = school_session_windows(problem, day_span, school.id, session_s)
        reach = tuple(r for r, (k, w) in enumerate(routes) if can_reach(problem, problem.vehicles[k], school.loc, w))
        if not win or not reach:
            continue  # outside its term (or hours) all cycle, or out of the fleet's reach: see run["school_sessions"]
        gap = int(min_spacing_days(cfg, cfg.frequency.school_visits) * DAY_S) - DAY_S // 2
        prev = []
        for c in range(cfg.frequency.school_visits):
            value = school_value(problem, weights, school, first=c == 0)
            info = NodeInfo("site", school.loc, copy=c, site=problem.sites.index(school))
            here = [add(info, session_s, win, box, value, None, reach)]
            precedences.extend(Precedence(a, b, max(0, gap)) for a in prev for b in here)
            prev = here

    # overnight nodes per route, night and lodging
    night_away_cost = svc.night_away_cost
    for r, (k, w) in enumerate(routes):
        veh = problem.vehicles[k]
        week = problem.weeks[w]
        for d, nxt in zip(week, week[1:]):
            arrive = _t(problem, d, (hours[k][d] or day_span[d])[1])
            leave = _t(problem, nxt, (hours[k][nxt] or day_span[nxt])[0])
            lodging_nodes = []
            for s in problem.lodgings(veh):
                at_depot = s.id == veh.depot
                n = add(
                    NodeInfo("night", s.loc, vehicle_route=r, night_date=d, site=problem.sites.index(s)),
                    leave - arrive,
                    ((arrive, arrive),),
                    -veh.capacity_books if at_depot else 0,
                    0,
                    None,
                    (r,),
                    0 if at_depot else night_away_cost,
                )
                lodging_nodes.append(n)
            groups.append(NodeGroup(tuple(lodging_nodes), 0, 1))

    n = len(nodes)
    day_index = {d: k for k, d in enumerate(problem.dates)}
    earliest = min(lo for lo, _ in day_span.values())
    latest = max(hi for _, hi in day_span.values())
    # the day a node belongs to; its exact hours come from its windows and its vehicle's day windows
    uniform = all(len({h[d] for h in hours}) == 1 for d in problem.dates)
    days = DaySchedule(
        offsets_s=tuple(_t(problem, d, 0) for d in problem.dates),
        step=tuple(1 if x.kind == "night" else 0 for x in nodes),
        shift=tuple(
            None if x.kind == "night" else (earliest * 60, latest * 60 - service[i]) for i, x in enumerate(nodes)
        ),
        fixed_day=tuple(
            day_index[x.night_date] if x.kind == "night" and x.night_date is not None else None for x in nodes
        ),
    )
    locs = np.array([x.loc for x in nodes])
    # one matrix per profile, and per week when dated road closures change it (see build_problem)
    keys = [
        (problem.vehicles[k].profile, w if (problem.vehicles[k].profile, w) in problem.week_matrices else None)
        for k, w in routes
    ]
    profiles = sorted(set(keys), key=lambda x: (x[0], -1 if x[1] is None else x[1]))
    time_mats, dist_mats = [], []
    for prof, wk in profiles:
        m = problem.week_matrix(prof, wk)
        time_mats.append(np.ascontiguousarray(m.time_s[np.ix_(locs, locs)]))
        dist_mats.append(np.ascontiguousarray(m.dist_m[np.ix_(locs, locs)]))

    vehicles = []
    for r, (k, w) in enumerate(routes):
        veh = problem.vehicles[k]
        week = problem.weeks[w]
        dn = depot_node[veh.depot]
        vehicles.append(
            VehicleSpec(
                start=dn,
                end=dn,
                capacity=veh.capacity_books,
                profile=profiles.index(keys[r]),
                tw_start_s=_t(problem, week[0], (hours[k][week[0]] or day_span[week[0]])[0]),
                tw_end_s=_t(problem, week[-1], (hours[k][week[-1]] or day_span[week[-1]])[1]),
                # lunch on the days whose hours hold the whole lunch window (not on an evening session)
                breaks=tuple(
                    Break(_t(problem, d, lunch_lo), _t(problem, d, lunch_hi), lunch_min * 60)
                    for d in week
                    if (hd := hours[k][d]) and hd[0] <= lunch_lo and lunch_end <= hd[1]
                ),
                day_windows=None
                if uniform
                else tuple(
                    (_t(problem, d, hd[0]), _t(problem, d, hd[1])) if (hd := hours[k][d]) else None
                    for d in problem.dates
                ),
                name=f"{veh.id}-w{w + 1}",
                max_driving_per_day_s=int(veh.max_driving_h_per_day * 3600) if veh.max_driving_h_per_day < 24 else None,
            )
        )
    model = RoutingModel(
        time_s=tuple(time_mats),
        dist_m=tuple(dist_mats),
        service_s=np.array(service, dtype=np.int64),
        demand=np.array(demand, dtype=np.int64),
        windows=tuple(windows),
        penalty=np.array(penalty, dtype=np.int64),
        vehicles=tuple(vehicles),
        horizon_s=horizon,
        groups=tuple(groups),
        precedences=tuple(precedences),
        allowed_vehicles=tuple(allowed),
        max_wait_s=tuple(waits),
        arc_cost="time",
        visit_cost=np.array(visit_cost, dtype=np.int64),
        days=days,
    )
    return model, nodes, routes


def solve(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    seed: int | None = None,
    on_progress=None,
    bound: bool = True,
) -> Plan:
    """Plan the cycle: which villages on which day, in what order, arriving when, with how many books.

    Parameters
    ----------
    problem : Problem
        See :func:`build_problem`.
    time_limit_s : float, optional
        Safety cap on wall time (default: ``[plan] time_limit_s``). The deterministic work
        budget ``[plan] max_iterations`` normally stops the search first.
    seed : int, optional
        Seed of the search (default: ``[plan] seed``); the same seed gives the same plan.
    on_progress : callable, optional
        Called as ``on_progress(elapsed_s, objective)`` at each improvement.
    bound : bool
        Compute the proven upper bound on people served (``run["bound"]``); a re-plan of part
        of a cycle leaves it out (a bound of the window is no bound of the whole cycle).

    Returns
    -------
    Plan
        Plain data: days, stops, villages with their channel and visits, unserved villages
        with a reason, a summary and the run's facts (``run["stopped_by"]`` from the solver).
    """
    cfg = problem.config
    time_limit_s = float(time_limit_s if time_limit_s is not None else cfg.plan.time_limit_s)
    seed = int(seed if seed is not None else cfg.plan.seed)
    selection = select_stops(problem)
    floor = cfg.objective.commune_floor_pct
    boost: dict[str, float] = {}
    rounds = cfg.objective.floor_rounds if floor > 0 else 0
    unboosted: RoutingModel | None = None
    for round_ in range(rounds + 1):
        model, nodes, routes = build_model(problem, selection, boost)
        if unboosted is None:
            unboosted = model  # the objective as stated (the commune floor only steers the search)
        res = kernel.solve(
            model,
            time_limit_s=time_limit_s,
            seed=seed,
            backend="ortools",
            first_solution=cfg.plan.first_solution,
            max_iterations=cfg.plan.max_iterations,
            on_progress=on_progress,
            restart_iterations=cfg.plan.restart_iterations,
            chains=cfg.plan.chains,
        )
        if res.status == "no_solution":
            raise NoPlanError(
                f"the solver found no plan in {time_limit_s:.0f} s for {len(problem.villages)} villages and "
                f"{len(problem.vehicles)} vehicle(s); try a longer --time-limit"
            )
        plan = to_plan(problem, selection, model, nodes, routes, res, time_limit_s, seed)
        short = communes_below(plan, floor)
        if not short or round_ == rounds:
            break
        for code in short:
            boost[code] = boost.get(code, 1.0) * FLOOR_BOOST
    if floor > 0:
        plan.run["commune_floor"] = floor_report(plan, floor, round_, boost)
    if bound:
        assert unboosted is not None
        values = copy_values(unboosted, nodes)
        ub = population_upper_bound(problem, copy_values=values)
        plan.run["bound"] = {
            "population_upper_bound": ub.population_upper_bound,
            "objective_bound": ub.objective_bound,
            "objective_value": objective_value(unboosted, values, nodes, res),
            "method": ub.method,
            "solve_time_s": round(ub.solve_time_s, 2),
            "columns": ub.columns,
        }
    return plan


def copy_values(model: RoutingModel, nodes: list[NodeInfo]) -> dict[int, list[int]]:
    """What each visit copy of each stop is worth in ``model``: ``{stop: [value of copy 0, 1, ...]}``.

    A copy with alternative nodes (market day or not, carried over early or late) has one value
    (its group's penalty, the same on every alternative)."""
    out: dict[int, dict[int, int]] = {}
    for i, info in enumerate(nodes):
        if info.kind in ("village", "site") and info.stop is not None:
            out.setdefault(info.stop, {})[info.copy] = int(model.penalty[i])
    return {s: [v for _, v in sorted(c.items())] for s, c in sorted(out.items())}


def objective_value(model: RoutingModel, values: dict[int, list[int]], nodes: list[NodeInfo], res) -> int:
    """The plan's net value in the solver's units: visits made (each copy once) minus arc costs.

    Arc costs are driving seconds plus the per-visit costs (a night away from the depot, a
    visit off the market day); ``model`` gives the unboosted values and costs of the same nodes.
    """
    made: set[tuple[int, int]] = set()
    total = 0
    for r in res.routes:
        seq = [v.node for v in r.visits]
        if len(seq) <= 2:
            continue
        cost = model.time_s[model.vehicles[r.vehicle].profile]
        total -= int(sum(int(cost[a, b]) for a, b in zip(seq[:-1], seq[1:], strict=False)))
        if model.visit_cost is not None:
            total -= int(sum(int(model.visit_cost[b]) for b in seq[1:]))
        for n in seq:
            info = nodes[n]
            if info.kind in ("village", "site") and info.stop is not None:
                made.add((info.stop, info.copy))
    return total + sum(values[s][c] for s, c in made)


#: Each re-solve multiplies the weight of a commune below the floor by this.
FLOOR_BOOST = 3.0
#: Reasons that no amount of time or weight can overcome.
CANNOT_SERVE = ("unreachable", "too_far_for_shift", "outside_its_hours")


def communes_below(plan: Plan, floor_pct: float) -> list[str]:
    """Commune codes whose share of people served at frequency is below ``floor_pct``."""
    if floor_pct <= 0:
        return []
    return sorted(c for c, (_, p, s) in commune_coverage(plan).items() if p and 100 * s / p < floor_pct - 1e-9)


def floor_report(plan: Plan, floor_pct: float, rounds: int, boost: dict[str, float]) -> dict:
    """Which communes reach the floor, and for those that do not, exactly why."""
    cannot = {u.village_id: u.reason for u in plan.unserved if u.reason in CANNOT_SERVE}
    pops = {v.village_id: v.population for v in plan.villages}
    below = []
    coverage = commune_coverage(plan)
    for code in communes_below(plan, floor_pct):
        name, people, served = coverage[code]
        blocked = [v for v in plan.villages if v.commune_code == code and v.village_id in cannot]
        servable = people - sum(pops[v.village_id] for v in blocked)
        if 100 * servable / people < floor_pct:
            why = (
                f"only {100 * servable / people:.1f} % of its people live where the fleet can serve them: "
                + ", ".join(f"{v.name} ({cannot[v.village_id].replace('_', ' ')})" for v in blocked[:8])
                + (" …" if len(blocked) > 8 else "")
            )
        else:
            why = (
                f"not enough working time: after {rounds} re-solve(s) raising its weight ×{boost.get(code, 1.0):g}, "
                f"{100 * served / people:.1f} % of its people are served at frequency; more vehicle-days are needed"
            )
        below.append({"commune_code": code, "commune": name, "pct": round(100 * served / people, 1), "why": why})
    return {"floor_pct": floor_pct, "rounds": rounds, "below": below}


def to_plan(problem, selection, model, nodes, routes, res, time_limit_s, seed) -> Plan:
    cfg = problem.config
    days: list[Day] = []
    for route in res.routes:
        k, w = routes[route.vehicle]
        veh = problem.vehicles[k]
        mat = problem.week_matrix(veh.profile, w)
        days.extend(_route_days(problem, model, nodes, route, veh, w, mat, selection))
    own: dict[int, list[str]] = {}  # village -> dates of van stops in the village
    walked: dict[int, list[tuple[str, str]]] = {}  # village -> (date, stop id) it walked to
    restocked: dict[int, list[str]] = {}  # site index -> dates restocked
    site_index = {x.id: k for k, x in enumerate(problem.sites)}
    village_index = {v.id: k for k, v in enumerate(problem.villages)}
    for day in days:
        for st in day.stops:
            if st.kind == "village":
                own.setdefault(village_index[st.stop_id], []).append(day.date.isoformat())
                for w in st.walkers:
                    walked.setdefault(village_index[w], []).append((day.date.isoformat(), st.stop_id))
            elif st.kind == "site" and st.stop_id in site_index:
                restocked.setdefault(site_index[st.stop_id], []).append(day.date.isoformat())
    fp_visits = cfg.frequency.fixed_point_visits

    services, unserved = [], []
    explain = _Explainer(problem, selection)
    by: tuple[str, ...]  # who brings the books: the village, its walkers' stops, or its fixed point
    for vi, v in enumerate(problem.villages):
        required = v.visits_required
        if vi in own:
            channel, dates, by = "van_stop", own[vi], (v.id,)
        elif vi in walked:
            channel = "walk"
            dates = [d for d, _ in walked[vi]]
            by = tuple(sorted({sid for _, sid in walked[vi]}))
            credit = max(walk_credit(problem, vi, float(problem.walk.dist_m[problem.walk.index(b), vi])) for b in by)
        elif vi in selection.fixed_cover and selection.fixed_cover[vi] in restocked:
            # one definition: a village counts fixed_point only once its point got every restock
            si = selection.fixed_cover[vi]
            dates, required = restocked[si], fp_visits
            enough = len(dates) >= fp_visits
            channel, by = ("fixed_point", (problem.sites[si].id,)) if enough else ("unserved", ())
        else:
            channel, dates, by = "unserved", [], ()
            if vi in selection.fixed_cover:
                required = fp_visits
        got = len(dates)
        if channel != "walk":
            credit = 1.0
        services.append(
            VillageService(
                village_id=v.id,
                name=v.name,
                commune=v.commune,
                commune_code=v.commune_code,
                population=v.population,
                channel=channel,
                visits=got,
                visits_required=required,
                served_by=by,
                visit_dates=tuple(sorted(dates)),
                children=v.children,
                credit=round(credit, 3),
            )
        )
        if got < required:
            reason, detail = explain.why(vi, got, required)
            unserved.append(
                Unserved(v.id, v.name, v.commune, v.population, reason, detail, visits=got, visits_required=required)
            )
    budget = cfg.plan.max_iterations
    run = {
        "seed": seed,
        "time_limit_s": time_limit_s,
        "max_iterations": budget,
        "restart_iterations": cfg.plan.restart_iterations,
        "chains": cfg.plan.chains,
        "solve_time_s": round(res.solve_time_s, 2),
        "stopped_by": res.stopped_by,
        "objective": res.objective,
        "backend": res.backend,
        "improvements": len(res.history),
        "season": cfg.season,
        "start_date": problem.start_date.isoformat(),
        "weeks": cfg.plan.weeks,
        "working_dates": [d.isoformat() for d in problem.dates],
        "vehicles": [vars(v) | {"overnight_kinds": list(v.overnight_kinds)} for v in problem.vehicles],
        "service": dataclasses.asdict(cfg.service),
        "warnings": list(problem.warnings),
        "walk_limit_m": cfg.plan.walk_limit_m,
        "fixed_points": cfg.plan.fixed_points,
        "stop_selection": {
            "stops": len(selection.stops),
            "mip": selection.mip_status,
            "uncoverable": [problem.villages[u].id for u in selection.uncoverable],
        },
    }
    if problem.schools():
        run["school_sessions"] = school_sessions_report(problem, restocked)
    return assemble_plan(problem, days, services, unserved, run)


def school_sessions_report(problem: Problem, visited: dict[int, list[str]]) -> list[dict]:
    """Per active school: its reading sessions (dates), the sessions wanted, and why any are missing."""
    table = vehicle_hours_table(problem)
    day_span = {d: day_bounds(table, d) for d in problem.dates}
    want = problem.config.frequency.school_visits
    session_s = problem.config.service.school_session_min * 60
    out = []
    for school in problem.schools():
        dates = sorted(visited.get(problem.sites.index(school), []))
        row: dict = {"site": school.id, "name": school.name, "sessions": len(dates), "required": want, "dates": dates}
        row["pupils_from"] = [problem.villages[k].id for k in school_pupils(problem, school)]
        if len(dates) < want:
            if not school_session_windows(problem, day_span, school.id, session_s):
                row["reason"] = "outside_term"
                row["detail"] = "no working day of the cycle falls inside its term and hours"
            elif not any(can_reach(problem, v, school.loc) for v in problem.vehicles):
                row["reason"] = "unreachable"
                row["detail"] = "no vehicle of the fleet drives there from its depot and back"
            else:
                row["reason"] = "not_enough_time"
                row["detail"] = "the fleet's working days went to stops worth more"
        out.append(row)
    return out


def market_ok(problem: Problem, village_id: str) -> set[dt.date]:
    """The dates a visit of the village may fall on under its market-day rule."""
    market = market_dates(problem, village_id)
    return set(market.dates) if market is not None and market.required else set(problem.dates)


def late_visits(problem: Problem, days, services) -> list[LateVisit]:
    """Carried-over villages whose first visit falls after the cycle's first week, each with why.

    ``pinned``: a pin puts every visit of its stop after the first week; ``outside_its_hours``: no
    working hour of the first week meets the hours (or required market days) of a stop that serves
    it; ``not_enough_time``: otherwise (the detail says what the first week's visits went to).
    """
    carried = set(problem.config.plan.carry_over)
    if not carried or len(problem.weeks) < 2:
        return []
    week1 = set(problem.weeks[0])
    hours = vehicle_hours_table(problem)
    day_span = {d: day_bounds(hours, d) for d in problem.dates}
    svc_s = problem.config.service.village_service_min * 60
    first_week = [st for d in days if d.date in week1 for st in d.stops if st.kind in ("village", "site")]
    pinned_stops = {p.village for p in problem.config.pins if p.date in week1}
    to_carried = sum(1 for st in first_week if carried & set(st.villages_served))
    village_ids = {x.id for x in problem.villages}
    n_pinned = sum(1 for st in first_week if st.stop_id in pinned_stops)
    out = []
    for v in services:
        if v.village_id not in carried or not v.visit_dates or v.channel not in ("van_stop", "walk"):
            continue
        first = min(v.visit_dates)
        if dt.date.fromisoformat(first) in week1:
            continue
        stops = [x for x in v.served_by if x in village_ids]
        pins = sorted(p.date for p in problem.config.pins if p.village in stops)
        open_w1 = [x for x in stops if stop_windows(problem, day_span, x, svc_s, only=week1 & market_ok(problem, x))]
        if pins and pins[0] > max(week1):
            reason, detail = "pinned", f"{', '.join(stops)} is pinned to {pins[0]}, after the first week"
        elif not open_w1:
            reason, detail = (
                "outside_its_hours",
                (
                    f"the hours (or required market days) of {', '.join(stops)} leave no "
                    f"{svc_s / 3600:.1f} h of service in the first week's working days"
                ),
            )
        else:
            reason, detail = (
                "not_enough_time",
                (
                    f"first visited on {first}: the first week's {len(week1)} working day(s) hold {len(first_week)} "
                    f"visit(s), {n_pinned} pinned and {to_carried} to carried-over villages"
                ),
            )
        out.append(LateVisit(v.village_id, v.name, v.commune, v.population, first, reason, detail))
    return out


def assemble_plan(problem: Problem, days, services, unserved, run: dict) -> Plan:
    """A :class:`Plan` from its parts: status, totals and data notices computed once, for every planner."""
    n_served = sum(1 for v in services if v.channel != "unserved")
    notices = []
    if problem.area is not None and problem.area.approximated:
        notices.append(
            "Village positions, village populations and roads are approximated (not surveyed); see data/README.md."
        )
    return Plan(
        status="ok" if not unserved else ("partial" if n_served else "empty"),
        days=tuple(sorted(days, key=lambda d: (d.vehicle, d.date))),
        villages=tuple(services),
        unserved=tuple(unserved),
        population_total=sum(v.population for v in problem.villages),
        children_total=sum(v.children for v in problem.villages),
        villages_total=len(problem.villages),
        run=run,
        notices=tuple(notices),
        costs=plan_costs(
            days,
            problem.config,
            {v.id: v.profile for v in problem.vehicles},
            {v.id: v.depot for v in problem.vehicles},
        ),
        late=tuple(late_visits(problem, days, services)),
    )


def _dt(problem: Problem, s: int) -> dt.datetime:
    return dt.datetime.combine(problem.start_date, dt.time()) + dt.timedelta(seconds=int(s))


def _route_days(problem, model, nodes, route, veh, week_idx, mat, selection) -> list[Day]:
    """Cut one kernel route (a vehicle's week) into working days with timed stop events."""
    visits = route.visits
    breaks = list(route.breaks)
    # events: (kind, loc, arrive_s, start_s, depart_s, node)
    out_days: list[Day] = []
    week = problem.weeks[week_idx]
    cur_date = week[0]
    depot = problem.site(veh.depot)
    cur: list[dict] = []
    legs: list[list[tuple[float, float]]] = []

    def stop_event(kind, loc, arr, dep, travel_s=0, travel_m=0, node=None):
        sid, name, commune, code, lon, lat = problem.stop_name(loc)
        ev = dict(
            kind=kind,
            loc=loc,
            arr=arr,
            dep=dep,
            travel_s=travel_s,
            travel_m=travel_m,
            node=node,
            sid=sid,
            name=name,
            commune=commune,
            code=code,
            lon=lon,
            lat=lat,
        )
        cur.append(ev)
        return ev

    def close_day(date):
        nonlocal cur, legs
        if any(e["kind"] in ("village", "site", "overnight") or e["travel_s"] > 0 for e in cur):
            out_days.append(_make_day(problem, veh, date, week_idx, cur, legs, nodes, selection))
        cur, legs = [], []

    # first stop: start at depot at the route start time (left at departure of the first leg)
    first = visits[0]
    stop_event("start", depot.loc, first.start_s, first.start_s)
    prev_loc = depot.loc
    prev_end = first.start_s  # earliest departure from the previous stop
    for a, b in zip(visits, visits[1:]):
        info_b = nodes[b.node]
        travel = int(mat.time_s[prev_loc, info_b.loc])
        dist = int(mat.dist_m[prev_loc, info_b.loc])
        path = mat.path_lonlat(prev_loc, info_b.loc)
        # a break (lunch) in this gap?
        brk = next(((bs, bd) for bs, bd in breaks if prev_end <= bs and bs + bd <= b.start_s), None)
        if brk is None and info_b.kind == "depot":
            # OR-Tools may place the break after the route's end: lunch back at the depot
            brk = next(
                (
                    (bs, bd)
                    for bs, bd in breaks
                    if prev_end <= bs and _dt(problem, bs).date() == _dt(problem, prev_end).date()
                ),
                None,
            )
        depart = prev_end
        if cur and cur[-1]["kind"] == "start" and brk is None:
            # leave the start as late as possible: no waiting on arrival
            depart = max(prev_end, b.start_s - travel)
            cur[-1]["dep"] = depart
            cur[-1]["arr"] = min(cur[-1]["arr"], depart)
        elif cur:
            cur[-1]["dep"] = depart
        if brk is not None:
            breaks.remove(brk)
            bs, bd = brk
            if bs <= depart:  # lunch at the previous stop, after its service
                stop_event("lunch", prev_loc, depart, depart + bd)
                legs.append([(cur[-2]["lon"], cur[-2]["lat"])] * 2)
                depart = depart + bd
            elif bs >= depart + travel:  # lunch at the next stop, before its service
                ev = stop_event(
                    "lunch", info_b.loc, max(bs, depart + travel), max(bs, depart + travel) + bd, travel, dist
                )
                legs.append(path)
                travel, dist = 0, 0
                path = [(ev["lon"], ev["lat"])] * 2
                depart = ev["dep"]
            else:  # lunch by the road
                frac = (bs - depart) / travel if travel else 0.0
                p1, p2, pt = split_path(path, frac)
                ev = stop_event("lunch", info_b.loc, bs, bs + bd, bs - depart, int(round(dist * frac)))
                ev.update(sid="", name="", lon=pt[0], lat=pt[1], roadside=True)
                legs.append(p1)
                path = p2
                dist = dist - int(round(dist * frac))
                travel = travel - (bs - depart)
                depart = bs + bd
        arrive = depart + travel
        if info_b.kind == "night":
            site = problem.sites[info_b.site]
            kind = "end" if site.id == veh.depot else "overnight"
            stop_event(kind, info_b.loc, arrive, arrive, travel, dist, b.node)
            legs.append(path)
            close_day(info_b.night_date)
            nxt = problem.dates[problem.dates.index(info_b.night_date) + 1]
            morning = b.start_s + int(model.service_s[b.node])
            cur_date = nxt
            stop_event("start", info_b.loc, morning, morning)
            prev_loc = info_b.loc
            prev_end = morning
            continue
        if info_b.kind == "depot":  # route end
            stop_event("end", info_b.loc, arrive, arrive, travel, dist, b.node)
            legs.append(path)
            day_of_end = _dt(problem, arrive).date()
            close_day(day_of_end if day_of_end in problem.dates else cur_date)
            break
        kind = "village" if info_b.kind == "village" else "site"
        svc = int(model.service_s[b.node])
        stop_event(kind, info_b.loc, b.start_s, b.start_s + svc, travel, dist, b.node)
        legs.append(path)
        prev_loc = info_b.loc
        prev_end = b.start_s + svc
    return out_days


def split_path(path, frac):
    """Split a polyline at a fraction of its length: (first part, second part, point)."""
    pts = np.asarray(path, dtype=float)
    if len(pts) < 2:
        p = tuple(pts[0])
        return [p, p], [p, p], p
    seg = np.hypot(*(np.diff(pts, axis=0).T))
    total = seg.sum()
    if total == 0:
        p = tuple(pts[0])
        return [p, p], [p, p], p
    target = frac * total
    cum = np.concatenate([[0], np.cumsum(seg)])
    i = int(np.searchsorted(cum, target, side="right") - 1)
    i = min(max(i, 0), len(seg) - 1)
    t = (target - cum[i]) / seg[i] if seg[i] else 0.0
    pt = tuple(np.round(pts[i] + t * (pts[i + 1] - pts[i]), 6))
    first = [tuple(p) for p in pts[: i + 1]] + [pt]
    second = [pt] + [tuple(p) for p in pts[i + 1 :]]
    return first, second, pt


def _make_day(problem, veh, date, week_idx, events, legs, nodes, selection) -> Day:
    stops = []
    for seq, e in enumerate(events):
        pop = children = books = 0
        served: tuple[str, ...] = ()
        walkers: tuple[str, ...] = ()
        if e["kind"] in ("village", "site") and e.get("node") is not None:
            if e["kind"] == "village":
                st = selection.stops[nodes[e["node"]].stop]
                members = [problem.villages[u] for u in st.members]
                pop = sum(v.population for v in members)
                children = sum(v.children for v in members)
                books = books_for(pop, problem)
                served = tuple(v.id for v in members)
                walkers = served[1:]
            else:
                books = problem.config.fixed_points.box_books
        stops.append(
            Stop(
                seq=seq,
                kind=e["kind"],
                stop_id=e["sid"],
                stop_name=e["name"] if not e.get("roadside") else "",
                commune=e["commune"] if not e.get("roadside") else "",
                commune_code=e["code"] if not e.get("roadside") else "",
                lon=round(float(e["lon"]), 6),
                lat=round(float(e["lat"]), 6),
                arrival=_dt(problem, e["arr"]),
                departure=_dt(problem, e["dep"]),
                travel_min=round(e["travel_s"] / 60, 1),
                travel_km=round(e["travel_m"] / 1000, 2),
                books=books,
                population_served=pop,
                children_served=children,
                villages_served=served,
                walkers=walkers,
            )
        )
    legs_t = tuple(tuple((round(x, 6), round(y, 6)) for x, y in leg) for leg in legs)
    return Day(vehicle=veh.id, date=date, week=week_idx + 1, stops=tuple(stops), legs=legs_t)


def hm(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Explainer:
    """Reasons a person can act on, for villages short of their visits."""

    def __init__(self, problem: Problem, selection: Selection):
        self.p = problem
        self.sel = selection
        cfg = problem.config
        table = vehicle_hours_table(problem)
        hours = [h for by_date in table for h in by_date.values() if h]
        self.shift_s = max((b - a for a, b in hours), default=0) * 60
        self.day_span = {d: day_bounds(table, d) for d in problem.dates}
        self.lunch_s = cfg.service.lunch_min * 60
        self.service_s = cfg.service.village_service_min * 60
        self.pen_pp = cfg.service.penalty_per_person
        self.walk_m = float(cfg.plan.walk_limit_m)

    def why(self, vi: int, got: int, required: int) -> tuple[str, str]:
        p, sel = self.p, self.sel
        v = p.villages[vi]
        season = p.config.season
        fleet = ", ".join(sorted({x.profile for x in p.vehicles}))
        if vi in sel.assigned:
            stop = sel.stops[sel.assigned[vi]]
        elif vi in sel.fixed_cover:
            stop = next((st for st in sel.stops if st.site == sel.fixed_cover[vi]), None)  # None: point out of reach
        else:
            stop = None
        if stop is None:
            conn = [p.matrix_for(veh).connector_m[v.loc] for veh in p.vehicles]
            far = (
                "no road it may use comes within reach"
                if all(np.isnan(c) for c in conn)
                else "its road is cut off from the depot"
            )
            walk = f", and no stop the fleet can reach is within a {self.walk_m:,.0f} m walk" if self.walk_m else ""
            return "unreachable", f"no vehicle of the fleet ({fleet}) can reach it in the {season} season: {far}{walk}"
        if p.week_matrices and not any(
            can_reach(p, veh, stop.loc, w) for veh in p.vehicles for w in range(len(p.weeks))
        ):
            return "unreachable", (
                "roads to it are closed (closed_from/closed_until in the roads file) in every week of the cycle"
            )
        if stop.kind == "village" and not stop_windows(p, self.day_span, v.id, self.service_s):
            spans = "; ".join(f"{hm(w.start_min)}-{hm(w.end_min)}" for w in v.time_windows)
            return "outside_its_hours", (
                f"its time windows ({spans}) never leave {self.service_s / 3600:.1f} h of service "
                "inside the fleet's working hours"
            )
        market = market_dates(p, v.id) if stop.kind == "village" else None
        if (
            market is not None
            and market.required
            and not stop_windows(p, self.day_span, v.id, self.service_s, only=market.dates)
        ):
            return "outside_its_hours", (
                f"its visits must fall on a market day, and none of the cycle's {len(p.dates)} working day(s) "
                "is one inside its hours"
            )
        best_round = math.inf
        within_driving = False  # some vehicle drives there and back within its daily limit
        for veh in p.vehicles:
            m = p.matrix_for(veh)
            dep = p.site(veh.depot).loc
            if m.time_s[dep, stop.loc] >= UNREACHABLE:
                continue
            lods = [s.loc for s in p.lodgings(veh) if m.time_s[dep, s.loc] < UNREACHABLE]
            t_in = min(m.time_s[lo, stop.loc] for lo in lods)
            t_out = min(m.time_s[stop.loc, lo] for lo in lods)
            best_round = min(best_round, t_in + t_out)
            if t_in + t_out <= veh.max_driving_h_per_day * HOUR_S:
                within_driving = True
        where = "its stop" if stop.loc != v.loc else "it"
        if stop.kind == "site":
            where = f"its fixed library point {p.sites[stop.site].name}"
        need = best_round + self.service_s + self.lunch_s
        if need > self.shift_s:
            return "too_far_for_shift", (
                f"from the nearest lodging a visit to {where} needs {best_round / 3600:.1f} h of driving there and back "
                f"+ {self.service_s / 3600:.1f} h service + {self.lunch_s / 3600:.1f} h lunch = {need / 3600:.1f} h, "
                f"more than the {self.shift_s / 3600:.1f} h shift"
            )
        if not within_driving:
            limit = max(veh.max_driving_h_per_day for veh in p.vehicles)
            return "too_far_for_shift", (
                f"from the nearest lodging a visit to {where} needs {best_round / 3600:.1f} h of driving there and back, "
                f"more than the daily driving limit ({limit:g} h)"
            )
        return "not_enough_time", (
            f"got {got} of {required} visit(s): {where} is reachable ({best_round / 3600:.1f} h there and back from the "
            f"nearest lodging), but the fleet's {len(p.dates)} working day(s) went to stops worth more; a visit to "
            f"{where} is worth {self.pen_pp:,} × {stop.population} people = {self.pen_pp * stop.population:,}"
        )
