"""An upper bound on the people any plan can serve at their required frequency.

The bound answers "could a better plan serve more?": no plan under the same rules serves
more people at their required frequency than :func:`population_upper_bound` returns.

Method: column generation over *day-routes* (a linear relaxation, solved with HiGHS).

- A working day of one vehicle starts at a lodging at the shift's start and ends at a
  lodging by its end (the depot is a lodging), with the lunch break inside the shift; so its
  service plus driving is at most ``day_work_s`` (shift minus lunch), its driving at most
  the vehicle's daily limit, and the books it hands out at most the vehicle's capacity (the
  load is refilled only at the depot, so one day can never hand out more).
- Every set of stops that one day could visit under those rules is enumerated exactly
  (cheapest order, best lodging at each end, by the triangle inequality of shortest paths a
  subset of a feasible set is feasible, so sets grow level by level); a set is a column.
- The master LP chooses how many days (continuous) each vehicle kind spends on each set, at
  most ``vehicles × working days``, and which villages (continuous in [0, 1]) get all their
  visits: a village needs ``visits_required`` visits of its stop (or restocks of its fixed
  library point), and the people of the villages it serves count.
- Columns enter by their reduced cost, priced over the whole enumerated pool, so the final
  LP value is the exact optimum of the relaxation: every real plan is a feasible point of it.

What the relaxation leaves out (so the bound is never below a real plan, and may be above
it): the order of days (a day may start at any lodging, not where the last one ended; a week
need not start and end at the depot), the spacing of visits, integrality of days and villages.

When the pool of day-routes would exceed ``max_columns`` the bound falls back to a knapsack
relaxation: each visit costs its service plus half its cheapest arriving and leaving legs,
within ``day_work_s`` per vehicle-day (``method = "visit_knapsack"``), weaker but still valid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix

from planner.model.matrices import UNREACHABLE
from planner.model.problem import Problem, books_for
from planner.planning.covering import Selection, select_stops

MAX_COLUMNS = 4_000_000
"""Largest pool of day-routes enumerated before falling back to the knapsack bound."""
CHUNK_SETS = 200_000
"""Sets whose cheapest order is evaluated at once (memory: sets × orders × visits)."""
COLUMNS_PER_ROUND = 300
"""Day-routes added to the master LP per pricing round."""
PRICE_TOL = 1e-7
"""A column enters when its reduced cost (people) exceeds this."""
LP_SLACK = 1e-6
"""Rounding slack before flooring the LP value to whole people."""


@dataclass(frozen=True)
class Bound:
    """An upper bound on what any plan of a problem can achieve.

    Attributes
    ----------
    population_upper_bound : int
        No plan serves more people at their required frequency.
    objective_bound : float or None
        Bound on the weighted objective (value of the visits made minus driving seconds, the
        solver's units); ``None`` when no visit values were given.
    method : str
        ``"day_routes_lp"`` (column generation over day-routes) or ``"visit_knapsack"``.
    solve_time_s : float
        Wall time of the computation.
    columns : int
        Day-routes in the enumerated pool (0 for the knapsack fallback).
    """

    population_upper_bound: int
    objective_bound: float | None
    method: str
    solve_time_s: float
    columns: int = 0  # day-routes in the pool


@dataclass(frozen=True)
class VehicleKind:
    """Identical vehicles: same profile, depot, lodgings, capacity and driving limit."""

    profile: str
    depot_loc: int
    lodging_locs: tuple[int, ...]
    capacity_books: int
    max_driving_s: int
    count: int


def day_work_s(problem: Problem) -> int:
    """Most service plus driving one vehicle can fit into one working day (s).

    The lunch break (``lunch_min``) must start in its window inside the shift unless the day's
    work ends before the window's latest start, so a day holds the shift minus lunch, or the
    time up to the latest lunch start, whichever is larger. With working hours that differ by
    vehicle and weekday, the longest such day of any vehicle bounds them all.
    """
    cfg = problem.config
    lunch_s = cfg.service.lunch_min * 60
    lunch_lo, lunch_end = cfg.minutes("lunch_earliest"), cfg.minutes("lunch_latest_end")
    best = 0
    for veh in problem.vehicles:
        for d in problem.dates:
            hours = cfg.vehicle_hours(veh, d)
            if hours is None:
                continue
            start, end = hours
            shift_s = (end - start) * 60
            if not (start <= lunch_lo and lunch_end <= end):  # no lunch in this session
                best = max(best, shift_s)
                continue
            latest_lunch_start_s = (lunch_end - start) * 60 - lunch_s
            best = max(best, int(max(shift_s - lunch_s, min(shift_s, latest_lunch_start_s))))
    return best


def vehicle_kinds(problem: Problem) -> list[VehicleKind]:
    """The fleet grouped into kinds of identical vehicles (same columns)."""
    kinds: dict[tuple[str, int, tuple[int, ...], int, int], int] = {}
    for veh in problem.vehicles:
        m = problem.matrix_for(veh)
        depot = problem.site(veh.depot).loc
        lodgings = tuple(
            s.loc
            for s in problem.lodgings(veh)
            if m.time_s[depot, s.loc] < UNREACHABLE and m.time_s[s.loc, depot] < UNREACHABLE
        )
        driving_s = int(veh.max_driving_h_per_day * 3600) if veh.max_driving_h_per_day < 24 else UNREACHABLE
        key = (veh.profile, depot, lodgings, int(veh.capacity_books), driving_s)
        kinds[key] = kinds.get(key, 0) + 1
    return [VehicleKind(p, d, lod, cap, drive, count=n) for (p, d, lod, cap, drive), n in kinds.items()]


def stop_needs(problem: Problem, selection: Selection):
    """Per stop: service (s), books per visit; per village: (stop, visits needed, population)."""
    cfg = problem.config
    village_s = cfg.service.village_service_min * 60
    site_s = cfg.service.site_service_min * 60
    box = cfg.fixed_points.box_books
    fp_visits = cfg.frequency.fixed_point_visits
    service_s, books = [], []
    needs: list[tuple[int, int, int]] = []
    for k, st in enumerate(selection.stops):
        if st.kind == "village":
            service_s.append(village_s)
            books.append(books_for(st.population, problem))
            needs.extend((k, problem.villages[u].visits_required, problem.villages[u].population) for u in st.members)
        else:
            service_s.append(site_s)
            books.append(box)
            needs.extend((k, fp_visits, problem.villages[u].population) for u in st.covered)
    return np.array(service_s, dtype=np.int64), np.array(books, dtype=np.int64), needs


def population_upper_bound(
    problem: Problem, *, max_columns: int = MAX_COLUMNS, copy_values: dict[int, list[int]] | None = None
) -> Bound:
    """An upper bound on the people any plan of ``problem`` serves at their required frequency.

    Parameters
    ----------
    problem : Problem
        See :func:`planner.planning.build.build_problem`.
    max_columns : int, optional
        Largest pool of day-routes to enumerate before falling back to the weaker knapsack
        relaxation.
    copy_values : dict, optional
        The weighted objective: ``copy_values[s][c]`` is what the ``c``-th visit of stop ``s``
        (index into :func:`select_stops`) is worth, in the solver's units (a stop missing from
        it is worth nothing, as in the model). When given, ``objective_bound`` is filled in:
        see :func:`objective_lp`.

    Returns
    -------
    Bound
        ``population_upper_bound`` is at least the people any plan serves at frequency (and
        at most the population of the villages some stop can serve); ``objective_bound`` (when
        ``copy_values`` is given) is at least the net value of any plan.
    """
    t0 = time.monotonic()
    selection = select_stops(problem)
    service_s, books, needs = stop_needs(problem, selection)
    locs = np.array([st.loc for st in selection.stops], dtype=np.int64)
    kinds = vehicle_kinds(problem)
    budget_s = day_work_s(problem)
    n_days = len(problem.dates)
    if not needs or not kinds or n_days == 0:
        return Bound(0, 0.0 if copy_values is not None else None, "day_routes_lp", time.monotonic() - t0)
    pools, drives = [], []
    for kind in kinds:
        got = day_route_pool(problem, kind, locs, service_s, books, budget_s, max_columns, with_driving=True)
        if got is None:
            value = knapsack_bound(problem, kinds, locs, service_s, needs, budget_s, n_days)
            # fallback for the weighted objective: every visit made, no driving (valid, weak)
            obj = float(sum(sum(v) for v in copy_values.values())) if copy_values is not None else None
            return Bound(value, obj, "visit_knapsack", round(time.monotonic() - t0, 3))
        pools.append(got[0])
        drives.append(got[1])
    days_available = [k.count * n_days for k in kinds]
    lp_value = master_lp(pools, days_available, needs, len(locs))
    objective = None
    if copy_values is not None:
        objective = objective_lp(pools, drives, days_available, copy_values, len(locs))
    columns = sum(sum(len(level) for level in pool) for pool in pools)
    return Bound(
        int(np.floor(lp_value + LP_SLACK)), objective, "day_routes_lp", round(time.monotonic() - t0, 3), columns
    )


def objective_lp(pools, drives, days_available, copy_values: dict[int, list[int]], n_stops: int) -> float:
    """Upper bound on the weighted objective (value of the visits made minus driving seconds).

    The same relaxation as :func:`master_lp`, with the weighted values: a visit copy ``c`` of
    stop ``s`` (in [0, 1], worth ``copy_values[s][c]``) needs one day-route through ``s``;
    each day-route costs its least driving (s). Any plan is a feasible point (its days are
    day-routes, its driving is at least theirs; night and market costs are >= 0 and left
    out), so the LP optimum, solved exactly by column generation over the whole pool, is
    never below the plan's net value. Returned rounded down to whole units (every plan's
    value is an integer), after a relative slack for the LP's tolerance.
    """
    copies = [(s, float(v)) for s in sorted(copy_values) if 0 <= s < n_stops for v in copy_values[s]]
    if not copies:
        return 0.0
    copy_stop = np.array([s for s, _ in copies], dtype=np.int64)
    copy_value = np.array([v for _, v in copies])
    n_copies, n_kinds = len(copies), len(pools)
    stop_row = np.full(n_stops, -1, dtype=np.int64)  # one row per stop with a valued copy
    valued = np.unique(copy_stop)
    stop_row[valued] = np.arange(len(valued))
    n_rows = len(valued)
    scale = max(1.0, float(copy_value.max()))
    active = [[level[:0] for level in pool] for pool in pools]
    active_cost = [[d[:0] for d in drive] for drive in drives]
    for g, pool in enumerate(pools):
        active[g][0], active_cost[g][0] = pool[0], drives[g][0]
    stop_feeds = [[int(r)] if r >= 0 else [] for r in stop_row]
    while True:
        rows, cols, vals = list(stop_row[copy_stop]), list(range(n_copies)), [1.0] * n_copies
        cost = [-copy_value]
        col = n_copies
        for g in range(n_kinds):
            col = route_columns(active[g], stop_feeds, n_rows + g, col, rows, cols, vals)
            cost += [drive.astype(float) for drive in active_cost[g]]
        a = coo_matrix((vals, (rows, cols)), shape=(n_rows + n_kinds, col)).tocsr()
        ub = np.concatenate([np.zeros(n_rows), np.asarray(days_available, dtype=float)])
        bounds = [(0, 1)] * n_copies + [(0, None)] * (col - n_copies)
        # solved in units of the largest visit value: pins and carried-over villages make values
        # of 1e13 beside driving costs of 1e4 s, a range HiGHS cannot solve in the solver's units
        res = linprog(np.concatenate(cost) / scale, A_ub=a, b_ub=ub, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"bound: the objective LP failed (HiGHS status {res.status}: {res.message})")
        duals = -res.ineqlin.marginals * scale
        price = np.zeros(n_stops)
        price[valued] = duals[:n_rows]
        added = 0
        for g, pool in enumerate(pools):
            for k, level in enumerate(pool):
                if not len(level):
                    continue
                rc = price[level].sum(axis=1) - drives[g][k] - duals[n_rows + g]
                enter = np.flatnonzero(rc > PRICE_TOL * scale)
                if not len(enter):
                    continue
                enter = enter[np.argsort(-rc[enter])[:COLUMNS_PER_ROUND]]
                both = np.concatenate([active[g][k], level[enter]])
                both_cost = np.concatenate([active_cost[g][k], drives[g][k][enter]])
                _, first = np.unique(both, axis=0, return_index=True)
                added += len(first) - len(active[g][k])
                active[g][k], active_cost[g][k] = both[first], both_cost[first]
        if not added:
            value = -float(res.fun) * scale
            return float(np.floor(value + LP_SLACK * max(1.0, abs(value))))


def lodging_legs(problem: Problem, kind: VehicleKind, locs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stop-to-stop times, and each stop's cheapest leg from / to a lodging of ``kind`` (s)."""
    m = problem.matrices[kind.profile]
    time_s = m.time_s.astype(np.int64)
    lod = np.array(kind.lodging_locs, dtype=np.int64)
    legs = time_s[np.ix_(locs, locs)]
    from_lodging = time_s[np.ix_(lod, locs)].min(axis=0)
    to_lodging = time_s[np.ix_(locs, lod)].min(axis=1)
    depot = kind.depot_loc
    cut_off = (time_s[depot, locs] >= UNREACHABLE) | (time_s[locs, depot] >= UNREACHABLE)
    from_lodging = np.where(cut_off, UNREACHABLE, from_lodging)
    return legs, from_lodging, to_lodging


def day_route_pool(problem, kind, locs, service_s, books, budget_s, max_columns, with_driving=False):
    """Every set of stops one vehicle of ``kind`` can visit in one day, by size (None: too many).

    Sets grow one stop at a time, in increasing stop index. A set is a candidate only if all
    its subsets one stop smaller are feasible (a subset of a feasible day is feasible: shortest
    paths obey the triangle inequality). Its least driving comes from the Held-Karp recursion
    ``path(S, e) = min over e' of path(S - e, e') + leg(e', e)``, where ``path(S, e)`` is the
    least driving from the best lodging through ``S`` ending at ``e``; the day adds the leg from
    ``e`` to its best lodging.

    Returns
    -------
    list of numpy.ndarray or None
        Entry ``k`` is an ``(n_sets, k + 1)`` array of stop indices, each row sorted.
        With ``with_driving``, a pair: that list and, per entry, the least driving (s) of each
        set's day (best lodging, cheapest order, best lodging).
    """
    legs, from_lod, to_lod = lodging_legs(problem, kind, locs)
    driving_cap_s = min(kind.max_driving_s, budget_s)
    n = len(locs)

    def feasible(sets: np.ndarray, path_s: np.ndarray) -> np.ndarray:
        travel_cap = np.minimum(budget_s - service_s[sets].sum(axis=1), driving_cap_s)
        travel = (path_s + to_lod[sets]).min(axis=1)
        return (travel <= travel_cap) & (books[sets].sum(axis=1) <= kind.capacity_books)

    def driving(sets: np.ndarray, path_s: np.ndarray) -> np.ndarray:
        return (path_s + to_lod[sets]).min(axis=1)

    level = np.arange(n, dtype=np.int64)[:, None]
    path = from_lod[level].astype(np.int64)
    keep = feasible(level, path)
    level, path = level[keep], path[keep]
    pool = [level]
    drive = [driving(level, path)]
    total = len(level)
    block_rows = max(1, CHUNK_SETS // max(1, n))
    while len(level):
        order = np.argsort(set_keys(level, n))
        known = set_keys(level, n)[order]
        known_ok = np.zeros(n, dtype=bool)
        known_ok[np.unique(level)] = True
        new_sets, new_paths = [], []
        for start in range(0, len(level), block_rows):
            block = level[start : start + block_rows]
            rows, extra = np.nonzero((np.arange(n)[None, :] > block[:, -1:]) & known_ok[None, :])
            if not len(rows):
                continue
            cand = np.column_stack([block[rows], extra])
            k1 = cand.shape[1]
            cand_path = np.empty(cand.shape, dtype=np.int64)
            ok = np.ones(len(cand), dtype=bool)
            for i in range(k1):  # the path ending at cand[:, i] comes from the set without it
                sub = np.delete(cand, i, axis=1)
                keys = set_keys(sub, n)
                pos = np.minimum(np.searchsorted(known, keys), len(known) - 1)
                ok &= known[pos] == keys
                sub_path = path[order[pos]]  # (m, k1 - 1), aligned with ``sub``'s columns
                cand_path[:, i] = (sub_path + legs[sub, cand[:, i : i + 1]]).min(axis=1)
            cand, cand_path = cand[ok], cand_path[ok]
            keep = feasible(cand, cand_path)
            new_sets.append(cand[keep])
            new_paths.append(cand_path[keep])
        if not new_sets:
            break
        level, path = np.concatenate(new_sets), np.concatenate(new_paths)
        total += len(level)
        if total > max_columns:
            return None
        if len(level):
            pool.append(level)
            drive.append(driving(level, path))
    return (pool, drive) if with_driving else pool


def set_keys(sets: np.ndarray, n: int) -> np.ndarray:
    """One integer per sorted set of stop indices (base ``n`` digits)."""
    keys = np.zeros(len(sets), dtype=np.int64)
    for col in range(sets.shape[1]):
        keys = keys * n + sets[:, col]
    return keys


def master_lp(pools, days_available, needs, n_stops) -> float:
    """Optimum of the master LP over every enumerated day-route, by column generation.

    Rows: one per village need (``visits × served − visits of its stop ≤ 0``), one per vehicle
    kind (days used ≤ days available). Columns: villages served (in [0, 1]) and day-routes.
    """
    need_stop = np.array([s for s, _, _ in needs], dtype=np.int64)
    need_visits = np.array([v for _, v, _ in needs], dtype=float)
    need_pop = np.array([p for _, _, p in needs], dtype=float)
    n_needs, n_kinds = len(needs), len(pools)
    # which need rows a visit to each stop feeds
    feeds = [np.flatnonzero(need_stop == s) for s in range(n_stops)]
    active: list[list[np.ndarray]] = [[level[:0] for level in pool] for pool in pools]
    for g, pool in enumerate(pools):  # start from the single-stop days
        active[g][0] = pool[0]
    while True:
        value, duals_need, duals_kind = solve_master(
            active, feeds, need_visits, need_pop, days_available, n_needs, n_kinds
        )
        stop_price = np.array([duals_need[f].sum() for f in feeds])
        added = 0
        for g, pool in enumerate(pools):
            for k, level in enumerate(pool):
                if not len(level):
                    continue
                rc = stop_price[level].sum(axis=1) - duals_kind[g]
                enter = np.flatnonzero(rc > PRICE_TOL)
                if not len(enter):
                    continue
                enter = enter[np.argsort(-rc[enter])[:COLUMNS_PER_ROUND]]
                merged = np.unique(np.concatenate([active[g][k], level[enter]]), axis=0)
                added += len(merged) - len(active[g][k])
                active[g][k] = merged
        if not added:
            return value


def route_columns(levels, feeds, kind_row: int, col: int, rows: list, cols: list, vals: list) -> int:
    """Append one LP column per day-route of ``levels`` (one vehicle kind); return the next column.

    A day-route's column has -1 in every row its stops feed (``feeds[stop]``) and +1 in the
    kind's day row ``kind_row``: shared by the population and the objective master LPs.
    """
    for level in levels:
        for sets in level:
            for s in sets:
                for r in feeds[s]:
                    rows.append(int(r))
                    cols.append(col)
                    vals.append(-1.0)
            rows.append(kind_row)
            cols.append(col)
            vals.append(1.0)
            col += 1
    return col


def solve_master(active, feeds, need_visits, need_pop, days_available, n_needs, n_kinds):
    """The restricted master LP: (value, duals of the need rows, duals of the day rows)."""
    rows, cols, vals = [], [], []
    # y columns 0..n_needs-1: visits × y in its need row
    rows.extend(range(n_needs))
    cols.extend(range(n_needs))
    vals.extend(need_visits)
    col = n_needs
    for g in range(n_kinds):
        col = route_columns(active[g], feeds, n_needs + g, col, rows, cols, vals)
    a = coo_matrix((vals, (rows, cols)), shape=(n_needs + n_kinds, col)).tocsr()
    c = np.zeros(col)
    c[:n_needs] = -need_pop
    ub = np.concatenate([np.zeros(n_needs), np.asarray(days_available, dtype=float)])
    bounds = [(0, 1)] * n_needs + [(0, None)] * (col - n_needs)
    res = linprog(c, A_ub=a, b_ub=ub, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"bound: the master LP failed (HiGHS status {res.status}: {res.message})")
    duals = -res.ineqlin.marginals
    return -res.fun, duals[:n_needs], duals[n_needs:]


def knapsack_bound(problem, kinds, locs, service_s, needs, budget_s, n_days) -> int:
    """Weaker fallback: visits cost service plus half their cheapest legs, within the fleet's days."""
    n = len(locs)
    need_stop = np.array([s for s, _, _ in needs], dtype=np.int64)
    need_visits = np.array([v for _, v, _ in needs], dtype=float)
    need_pop = np.array([p for _, _, p in needs], dtype=float)
    n_needs, n_kinds = len(needs), len(kinds)
    # variables: y (needs), x[g, s] visits of stop s by kind g
    c = np.concatenate([-need_pop, np.zeros(n_kinds * n)])
    rows, cols, vals = [], [], []
    for r, (s, v) in enumerate(zip(need_stop, need_visits)):
        rows.append(r)
        cols.append(r)
        vals.append(v)
        for g in range(n_kinds):
            rows.append(r)
            cols.append(n_needs + g * n + s)
            vals.append(-1.0)
    x_ub = np.zeros(n_kinds * n)
    for g, kind in enumerate(kinds):
        legs, from_lod, to_lod = lodging_legs(problem, kind, locs)
        legs = legs.copy()
        np.fill_diagonal(legs, UNREACHABLE)
        arrive = np.minimum(legs.min(axis=0), from_lod)
        leave = np.minimum(legs.min(axis=1), to_lod)
        cost = service_s + (arrive + leave) / 2
        reach = from_lod + service_s + to_lod <= budget_s
        x_ub[g * n : (g + 1) * n] = np.where(reach, n_days * kind.count, 0)
        for s in range(n):
            rows.append(n_needs + g)
            cols.append(n_needs + g * n + s)
            vals.append(float(cost[s]))
    a = coo_matrix((vals, (rows, cols)), shape=(n_needs + n_kinds, len(c))).tocsr()
    ub = np.concatenate([np.zeros(n_needs), [budget_s * n_days * k.count for k in kinds]])
    res = milp(
        c,
        constraints=LinearConstraint(a, -np.inf, ub),
        integrality=np.ones(len(c)),
        bounds=Bounds(np.zeros(len(c)), np.concatenate([np.ones(n_needs), x_ub])),
    )
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"bound: the knapsack MILP failed (HiGHS status {res.status}: {res.message})")
    return int(np.floor(-res.mip_dual_bound + LP_SLACK)) if res.status == 0 else int(need_pop.sum())
