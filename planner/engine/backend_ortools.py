"""OR-Tools routing backend of the kernel. The only module that imports OR-Tools routing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from planner.engine.model import MANDATORY, UNREACHABLE, KernelResult, Route, RoutingModel, Visit

FIRST_SOLUTION = {
    "all_unperformed": routing_enums_pb2.FirstSolutionStrategy.ALL_UNPERFORMED,
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "parallel_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "christofides": routing_enums_pb2.FirstSolutionStrategy.CHRISTOFIDES,
}


#: The wall-time check runs every this many search branches (time.monotonic is not free).
TIME_CHECK_EVERY = 64
#: OR-Tools' own time limit is a backstop this much above ours, in case a branch runs long.
HARD_CAP_FACTOR = 1.25
#: A restart of the iterated local search unperforms between these many visits of the best plan,
#: a cluster of visits close to one drawn at random (measured on the default data: 1-3 did better
#: than 2-6, 5-20 or whole working days, which the descent cannot repair within a restart).
RUIN_MIN, RUIN_MAX = 1, 3
#: Restarts in a row that cannot even start (the ruined plan breaks a rule) before the search gives up
#: (``search_ended``).
MAX_FAILED_RESTARTS = 50


def _forbid_gaps(solver, var, windows) -> None:
    """Keep ``var`` out of the gaps between its sorted ``windows`` (nights, weekends).

    One ``NotMember`` constraint per variable, not ``RemoveInterval`` per gap: OR-Tools removes an
    interval from a domain value by value, so a night's 50,400 s gap cost ~4 ms and a weekend's
    ~18 ms per node; on the default data that was most of the model's build time (15 s of a 4-week
    plan). The constraint is the same set of allowed times (the plans found are identical).
    """
    ws = sorted(windows)
    gaps = [(b1 + 1, a2 - 1) for (_, b1), (a2, _) in zip(ws, ws[1:]) if b1 + 1 <= a2 - 1]
    if gaps:
        solver.Add(var.NotMember([a for a, _ in gaps], [b for _, b in gaps]))


def solve_ortools(
    model: RoutingModel,
    time_limit_s: float,
    seed: int = 0,
    first_solution: str = "auto",
    max_iterations: int | None = None,
    on_progress=None,
    restart_iterations: int = 0,
) -> KernelResult:
    """Solve ``model`` with OR-Tools routing: guided local search, then ruin-and-recreate restarts.

    ``max_iterations`` bounds the search branches of the whole run; with it the result does not
    depend on the machine's speed (deterministic), the time limit remains a safety cap.

    Without ``restart_iterations`` the search is guided local search until a limit. With
    ``restart_iterations`` > 0 and a work budget it is an iterated local search: guided local search
    for at most ``restart_iterations`` branches, then restarts until the budget is spent. A restart
    unperforms a few visits of the best plan close to one drawn from ``seed`` (ruin), descends
    greedily from there for at most ``restart_iterations`` branches and keeps the result if it is
    better than the best. (On the district model guided local search stays in its first local
    optimum for millions of steps: its arc penalties are tiny beside the penalties of unperformed
    visits; but it makes the small compound moves a greedy descent cannot, such as swapping two
    villages' weeks when one of them has a market-day alternative.)
    """
    t0 = time.monotonic()
    n = model.n_nodes
    vehicles = model.vehicles
    ils = bool(max_iterations and restart_iterations > 0)
    # Both limits are search monitors, so the search itself says which one ended it: the
    # work budget (search branches explored, reproducible) or the wall-time cap.
    fired: list[str] = []
    checks = [0]
    spent = [0]  # branches used by the phases so far
    deadline = t0 + float(time_limit_s)
    # branches allowed in the current phase; with restarts the first phase (guided local search)
    # gets at most one restart's share, without them the whole budget
    cap = [min(max_iterations, restart_iterations) if ils and max_iterations else (max_iterations or 0)]

    def limit_reached() -> bool:
        if fired:
            return True
        checks[0] += 1
        if cap[0] and checks[0] > cap[0]:
            return True  # this phase's share of the budget is spent
        if checks[0] % TIME_CHECK_EVERY == 0 and time.monotonic() >= deadline:
            fired.append("time_limit")
        return bool(fired)

    history: list[tuple[float, int]] = []
    best: list[int | None] = [None]

    def on_solution(obj: int) -> None:
        if best[0] is None or obj < best[0]:
            best[0] = obj
            history.append((round(time.monotonic() - t0, 3), int(obj)))
            if on_progress is not None:
                on_progress(time.monotonic() - t0, int(obj))

    def build() -> _Built:
        return _build(model, first_solution, time_limit_s, max_iterations, limit_reached, on_solution)

    b = build()
    sol = b.routing.SolveWithParameters(b.params)
    spent[0] = min(checks[0], cap[0]) if cap[0] else checks[0]
    ended = b.routing.status()
    if sol is not None and ils and not fired:
        assert max_iterations is not None
        sol, ended, b = _restarts(
            model,
            b,
            build,
            sol,
            (max_iterations, restart_iterations),
            seed,
            (cap, checks, spent, fired),
            deadline,
        )
    elapsed = time.monotonic() - t0
    if fired:
        stopped_by = fired[0]
    elif max_iterations and spent[0] >= max_iterations:
        stopped_by = "work_budget"
    else:
        stopped_by = _stop_reason(ended)
    if sol is None:
        return KernelResult("no_solution", (), tuple(range(n)), 0, elapsed, "ortools", tuple(history), stopped_by)

    routing, node_of, tdim, ldim = b.routing, b.node_of, b.tdim, b.ldim
    routes = []
    visited = set()
    for v in range(len(vehicles)):
        visits = []
        i = routing.Start(v)
        dist = 0
        while True:
            node = node_of[i]
            load = sol.Value(ldim.CumulVar(i)) if ldim is not None else 0
            visits.append(Visit(node, sol.Value(tdim.CumulVar(i)), load))
            visited.add(node)
            if routing.IsEnd(i):
                break
            j = sol.Value(routing.NextVar(i))
            dist += int(model.dist_m[vehicles[v].profile][node, node_of[j]])
            i = j
        brks: tuple[tuple[int, int], ...] = ()
        if vehicles[v].breaks:
            br = sol.IntervalVarContainer()
            brks = tuple(
                (br.Element(k).StartValue(), br.Element(k).DurationValue())
                for k in range(br.Size())
                if br.Element(k).Var().Name().startswith(f"break_{v}_") and br.Element(k).PerformedValue()
            )
        routes.append(Route(v, tuple(visits), tuple(sorted(brks)), dist, visits[-1].start_s - visits[0].start_s))
    dropped = tuple(i for i in range(n) if i not in visited)
    status = "feasible"
    return KernelResult(
        status, tuple(routes), dropped, int(sol.ObjectiveValue()), elapsed, "ortools", tuple(history), stopped_by
    )


@dataclass
class _Built:
    """One OR-Tools routing model of a kernel model, ready to search."""

    routing: Any
    manager: Any
    params: Any
    tdim: Any
    ldim: Any
    node_of: list[int]


def _build(model: RoutingModel, first_solution: str, time_limit_s: float, max_iterations, limit_reached, on_solution):
    """The OR-Tools routing model of ``model``, with the search limit and solution callback attached."""
    n = model.n_nodes
    vehicles = model.vehicles
    manager = pywrapcp.RoutingIndexManager(n, len(vehicles), [v.start for v in vehicles], [v.end for v in vehicles])
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    node_of = [manager.IndexToNode(i) for i in range(routing.Size() + len(vehicles))]
    service = np.asarray(model.service_s, dtype=np.int64)

    # --- transit callbacks, one per profile ---------------------------------
    time_cbs, cost_cbs = {}, {}
    for p in sorted({v.profile for v in vehicles}):
        tm = np.asarray(model.time_s[p], dtype=np.int64)
        dm = np.asarray(model.dist_m[p], dtype=np.int64)
        tt = (tm + service[:, None]).tolist()  # service at the origin + travel
        cost_m = dm if model.arc_cost == "distance" else tm
        if model.visit_cost is not None:
            cost_m = cost_m + np.asarray(model.visit_cost, dtype=np.int64)[None, :]
        cost = np.minimum(cost_m, UNREACHABLE).tolist()

        def t_cb(i, j, tt=tt):
            return tt[node_of[i]][node_of[j]]

        def c_cb(i, j, cost=cost):
            return cost[node_of[i]][node_of[j]]

        time_cbs[p] = routing.RegisterTransitCallback(t_cb)
        cost_cbs[p] = routing.RegisterTransitCallback(c_cb)
    for v, veh in enumerate(vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_cbs[veh.profile], v)
        if veh.fixed_cost:
            routing.SetFixedCostOfVehicle(veh.fixed_cost, v)

    # forbid arcs that cannot be driven
    for p in sorted({v.profile for v in vehicles}):
        bad = np.asarray(model.time_s[p]) >= UNREACHABLE
        if bad.any():
            vs = [k for k, veh in enumerate(vehicles) if veh.profile == p]
            if len(vs) == len(vehicles):
                for i in range(routing.Size()):
                    ni = node_of[i]
                    for nj in np.flatnonzero(bad[ni]):
                        for j in _indices_of_node(manager, routing, int(nj), len(vehicles)):
                            if j != i:
                                routing.NextVar(i).RemoveValue(j)

    # --- time dimension ---------------------------------------------------------
    horizon = int(model.horizon_s)
    routing.AddDimensionWithVehicleTransits([time_cbs[v.profile] for v in vehicles], horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for i in range(routing.Size()):
        if routing.IsStart(i) or routing.IsEnd(i):
            continue
        node = node_of[i]
        ws = model.windows[node]
        if ws:
            lo, hi = min(a for a, _ in ws), max(b for _, b in ws)
            tdim.CumulVar(i).SetRange(lo, hi)
            _forbid_gaps(solver, tdim.CumulVar(i), ws)
        if model.max_wait_s is not None and model.max_wait_s[node] is not None:
            tdim.SlackVar(i).SetMax(int(model.max_wait_s[node]))
    for v, veh in enumerate(vehicles):
        end_max = veh.tw_end_s if veh.tw_end_s is not None else horizon
        tdim.CumulVar(routing.Start(v)).SetRange(veh.tw_start_s, end_max)
        tdim.CumulVar(routing.End(v)).SetRange(veh.tw_start_s, end_max)
        end_ws = sorted(model.windows[veh.end])
        if end_ws:
            end_var = tdim.CumulVar(routing.End(v))
            end_var.SetRange(max(veh.tw_start_s, end_ws[0][0]), min(end_max, end_ws[-1][1]))
            _forbid_gaps(solver, end_var, end_ws)
        if veh.max_duration_s is not None:
            solver.Add(tdim.CumulVar(routing.End(v)) - tdim.CumulVar(routing.Start(v)) <= int(veh.max_duration_s))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))
    if model.span_cost_per_s:
        tdim.SetSpanCostCoefficientForAllVehicles(int(model.span_cost_per_s))

    # working days: a day counter that only overnight nodes advance
    if model.days is not None:
        ds = model.days
        step = [int(x) for x in ds.step]
        day_cb = routing.RegisterUnaryTransitCallback(lambda i: step[node_of[i]])
        routing.AddDimension(day_cb, 0, len(ds.offsets_s) - 1, False, "day")
        ddim = routing.GetDimensionOrDie("day")
        offsets = [int(o) for o in ds.offsets_s]
        all_idx = list(range(routing.Size())) + [routing.End(v) for v in range(len(vehicles))]
        for i in all_idx:
            node = node_of[i]
            if ds.fixed_day[node] is not None:
                ddim.CumulVar(i).SetValue(int(ds.fixed_day[node]))
            win = ds.shift[node]
            if win is not None:
                off = solver.Element(offsets, ddim.CumulVar(i))
                solver.Add(tdim.CumulVar(i) >= off + int(win[0]))
                solver.Add(tdim.CumulVar(i) <= off + int(win[1]))

    # working hours per vehicle and day: a visit on day d by vehicle v lies in day_windows[v][d]
    if model.days is not None and any(v.day_windows for v in vehicles):
        _add_vehicle_day_windows(model, routing, solver, tdim, ddim, node_of, service)

    # driving time per day: cumul = big * day + driving since the day began; the slack at an
    # overnight (step) node lifts the cumul to the next day's base, so each day counts afresh
    if model.days is not None and any(v.max_driving_per_day_s for v in vehicles):
        big = 48 * 3600
        n_days = len(model.days.offsets_s)
        stepl = [int(x) for x in model.days.step]
        drive_cbs = {}
        for p in sorted({v.profile for v in vehicles}):
            tm = np.minimum(np.asarray(model.time_s[p], dtype=np.int64), big).tolist()
            drive_cbs[p] = routing.RegisterTransitCallback(lambda i, j, tm=tm: tm[node_of[i]][node_of[j]])
        routing.AddDimensionWithVehicleTransits(
            [drive_cbs[v.profile] for v in vehicles], big * (n_days + 1), big * (n_days + 1), False, "driving"
        )
        drdim = routing.GetDimensionOrDie("driving")
        limits = [big] + [int(v.max_driving_per_day_s or big) for v in vehicles]
        for i in list(range(routing.Size())) + [routing.End(v) for v in range(len(vehicles))]:
            node = node_of[i]
            day_var = ddim.CumulVar(i)
            if routing.IsStart(i):
                solver.Add(drdim.CumulVar(i) == day_var * big)
            elif not routing.IsEnd(i) and stepl[node]:
                solver.Add(drdim.CumulVar(i) + drdim.SlackVar(i) == (int(model.days.fixed_day[node]) + 1) * big)
            elif not routing.IsEnd(i):
                drdim.SlackVar(i).SetValue(0)
            if routing.IsStart(i) or routing.IsEnd(i):
                v = routing.VehicleIndex(i)
                solver.Add(drdim.CumulVar(i) <= day_var * big + limits[v + 1])
            else:
                limit = solver.Element(limits, routing.VehicleVar(i) + 1)
                solver.Add(drdim.CumulVar(i) <= day_var * big + limit)

    # breaks (e.g. lunch)
    if any(v.breaks for v in vehicles):
        visit_transit = [int(service[manager.IndexToNode(i)]) for i in range(routing.Size())]
        for v, veh in enumerate(vehicles):
            if not veh.breaks:
                continue
            ivs = [
                solver.FixedDurationIntervalVar(b.start_min_s, b.start_max_s, b.duration_s, False, f"break_{v}_{k}")
                for k, b in enumerate(veh.breaks)
            ]
            tdim.SetBreakIntervalsOfVehicle(ivs, v, visit_transit)
            for iv in ivs:
                routing.AddIntervalToAssignment(iv)

    # --- capacity -------------------------------------------------------------------
    demand = np.asarray(model.demand, dtype=np.int64)
    if demand.any():
        dem = demand.tolist()
        neg = int(-demand.min()) if demand.min() < 0 else 0

        def d_cb(i, dem=dem):
            return dem[node_of[i]]

        dcb = routing.RegisterUnaryTransitCallback(d_cb)
        routing.AddDimensionWithVehicleCapacity(dcb, neg, [int(v.capacity) for v in vehicles], True, "load")
        ldim = routing.GetDimensionOrDie("load")
        if neg:
            for i in range(routing.Size()):
                if dem[node_of[i]] >= 0 and not routing.IsStart(i):
                    ldim.SlackVar(i).SetValue(0)
    else:
        ldim = None

    # distance limit
    if any(v.max_distance_m for v in vehicles):
        dist_cbs = {}
        for p in sorted({v.profile for v in vehicles}):
            dl = np.asarray(model.dist_m[p], dtype=np.int64).tolist()
            dist_cbs[p] = routing.RegisterTransitCallback(lambda i, j, dl=dl: dl[node_of[i]][node_of[j]])
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [dist_cbs[v.profile] for v in vehicles],
            0,
            [int(v.max_distance_m or 10**12) for v in vehicles],
            True,
            "distance",
        )

    # --- optional nodes ----------------------------------------------------------------
    in_group: set[int] = set()
    for g in model.groups:
        idx = [manager.NodeToIndex(i) for i in g.nodes]
        in_group.update(g.nodes)
        if g.penalty == MANDATORY:
            routing.AddDisjunction(idx, -1, g.max_cardinality)  # negative: mandatory
        else:
            routing.AddDisjunction(idx, int(g.penalty), g.max_cardinality)
    ends = {v.start for v in vehicles} | {v.end for v in vehicles}
    for node in range(n):
        if node in ends or node in in_group:
            continue
        pen = int(model.penalty[node])
        if pen != MANDATORY:
            routing.AddDisjunction([manager.NodeToIndex(node)], pen)
    if model.allowed_vehicles is not None:
        for node, allowed in enumerate(model.allowed_vehicles):
            if allowed is not None and node not in ends:
                # (SetAllowedVehiclesForIndex's list binding is broken in some OR-Tools wheels)
                routing.VehicleVar(manager.NodeToIndex(node)).SetValues([-1] + [int(a) for a in allowed])
    for pr in model.precedences:
        a, b = manager.NodeToIndex(pr.before), manager.NodeToIndex(pr.after)
        both = solver.Min(routing.ActiveVar(a), routing.ActiveVar(b))
        solver.Add(
            tdim.CumulVar(b) + (1 - both) * (horizon + int(pr.min_gap_s)) >= tdim.CumulVar(a) + int(pr.min_gap_s)
        )

    # --- search ----------------------------------------------------------------------
    params = pywrapcp.DefaultRoutingSearchParameters()
    fs = first_solution
    if fs == "auto":
        has_tw = any(model.windows[i] for i in range(n) if i not in ends)
        fs = "parallel_cheapest_insertion" if has_tw or model.groups else "path_cheapest_arc"
    params.first_solution_strategy = FIRST_SOLUTION[fs]
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    if max_iterations:
        # the insertion LNS sub-searches must not stop on their own clock either (OR-Tools' default
        # 100 ms cuts them earlier on a loaded machine and changes the plan): they get the run's cap
        params.lns_time_limit.FromMilliseconds(int(time_limit_s * 1000))
    routing.AddSearchMonitor(solver.CustomLimit(limit_reached))
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000 * HARD_CAP_FACTOR))
    # OR-Tools routing has no random component; the kernel makes ``seed`` count by relabelling
    # the nodes before they reach this backend (see planner.engine.kernel.relabel).
    params.use_full_propagation = False
    routing.AddAtSolutionCallback(lambda: on_solution(routing.CostVar().Max()))
    return _Built(routing, manager, params, tdim, ldim, node_of)


#: OR-Tools routing statuses after which the search ended by itself (not by a limit). Guided
#: local search never ends by itself, so ROUTING_SUCCESS without our limits means OR-Tools' cap.
_ENDED_STATUSES = ("ROUTING_OPTIMAL", "ROUTING_INFEASIBLE", "ROUTING_INVALID", "ROUTING_FAIL")


def _stop_reason(status: int) -> str:
    """Why the search ended when neither of our limits fired: by itself, or OR-Tools' hard cap."""
    ended = {routing_enums_pb2.RoutingSearchStatus.Value.Value(k) for k in _ENDED_STATUSES}
    return "search_ended" if status in ended else "time_limit"


def _restarts(model, b, build, sol, budget, seed, counters, deadline):
    """The restarts of the iterated local search, from the first local optimum ``sol`` of model ``b``.

    ``build`` makes a fresh routing model of the same kernel model; ``budget`` is (the run's
    branches, a restart's branches); ``counters`` the search limit's state: the current phase's cap
    and branch count, the branches spent before it and the fired limits; ``deadline`` the wall-time
    cap (checked between restarts too: a short restart may end before the limit looks at the
    clock). Returns the best assignment, the routing model it belongs to, and the routing status to
    report if no limit ended the run.

    On some models (seen with two routing profiles, e.g. a van and a motorbike) OR-Tools cannot read
    any routes back into a routing model once it has searched from an assignment: even routes it
    read before fail. A restart whose routes cannot be read then reads them into a fresh model
    (built the same way, so the plans stay reproducible) and goes on there.
    """
    total, per_restart = budget
    cap, checks, spent, fired = counters
    rng = np.random.default_rng(seed)
    step = model.days.step if model.days is not None else None
    in_group = {i for g in model.groups for i in g.nodes}
    mandatory = {i for g in model.groups if g.penalty == MANDATORY for i in g.nodes}
    mandatory |= {i for i in range(model.n_nodes) if i not in in_group and int(model.penalty[i]) == MANDATORY}
    manager = b.manager  # indices are the same in every model built from ``model``

    def removable(index: int) -> bool:
        node = manager.IndexToNode(index)  # overnight stops carry the day counter: they stay
        return node not in mandatory and not (step is not None and step[node])

    best, best_b = b.routing.solver().Assignment(sol), b  # a copy: the model reuses its solution objects
    best_routes = _routes_of(b.routing, best, b.routing.vehicles())
    descent = pywrapcp.DefaultRoutingSearchParameters()
    descent.CopyFrom(b.params)  # the restarts descend greedily: a descent ends at its local optimum
    descent.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    # (every model ``build`` makes has the same parameters, so one copy serves them all)
    searched = False  # has the current model searched from an assignment since it was built?
    ended = b.routing.status()
    failed = 0
    while spent[0] < total and not fired:
        if time.monotonic() >= deadline:
            fired.append("time_limit")
            break
        ruined = _ruin(model, manager, best_routes, removable, rng)
        start = None
        if ruined is not None:
            # reading the routes is a (tiny) search too: the limit must let it through
            checks[0], cap[0] = 0, min(per_restart, total - spent[0])
            start = b.routing.ReadAssignmentFromRoutes(ruined, True)
            if start is None and searched and checks[0] <= cap[0]:
                checks[0] = 0
                if b.routing.ReadAssignmentFromRoutes(best_routes, True) is None:  # the model, not the plan
                    b, searched = build(), False
                    checks[0] = 0
                    start = b.routing.ReadAssignmentFromRoutes(ruined, True)
            if start is None and checks[0] > cap[0]:
                spent[0] += cap[0]  # the budget left is too small even to read the routes: it is spent
                break
        if start is None:
            failed += 1
            if failed >= MAX_FAILED_RESTARTS:
                return best, routing_enums_pb2.RoutingSearchStatus.ROUTING_FAIL, best_b
            continue
        failed = 0
        new = b.routing.SolveFromAssignmentWithParameters(start, descent)
        searched = True
        spent[0] += min(checks[0], cap[0])
        if new is not None and new.ObjectiveValue() < best.ObjectiveValue():
            best, best_b = b.routing.solver().Assignment(new), b
            best_routes = _routes_of(b.routing, best, b.routing.vehicles())
    return best, ended, best_b


def _routes_of(routing, sol, n_veh: int) -> list[list[int]]:
    """Each vehicle's visited indices, start and end left out."""
    out = []
    for v in range(n_veh):
        seq, i = [], sol.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(i):
            seq.append(i)
            i = sol.Value(routing.NextVar(i))
        out.append(seq)
    return out


def _ruin(model, manager, routes, removable, rng) -> list[list[int]] | None:
    """``routes`` without a few visits close to one drawn at random (``None``: nothing to remove).

    Closeness is the driving time there and back, so the visit copies of one village (other days)
    go together and the descent can move the village to another day.
    """
    visits = [(v, i) for v, seq in enumerate(routes) for i in seq if removable(i)]
    if not visits:
        return None
    size = int(rng.integers(RUIN_MIN, RUIN_MAX + 1))
    v, centre_index = visits[int(rng.integers(len(visits)))]
    centre = manager.IndexToNode(centre_index)
    tm = np.asarray(model.time_s[model.vehicles[v].profile])
    nodes = np.array([manager.IndexToNode(i) for _, i in visits])
    away = tm[centre, nodes].astype(np.int64) + tm[nodes, centre].astype(np.int64)
    drop = {visits[k][1] for k in np.argsort(away, kind="stable")[:size]}
    return [[i for i in seq if i not in drop] for seq in routes]


def _add_vehicle_day_windows(model, routing, solver, tdim, ddim, node_of, service) -> None:
    """Tie each visit's time to its vehicle's hours on its day (row 0 of the tables: unperformed)."""
    n_days = len(model.days.offsets_s)
    lo = [0] * n_days
    hi = [int(model.horizon_s)] * n_days
    closed = (int(model.horizon_s), 0)  # no visit fits: the vehicle does not work that day
    for veh in model.vehicles:
        rows = veh.day_windows or ((0, int(model.horizon_s)),) * n_days
        lo += [int((w or closed)[0]) for w in rows]
        hi += [int((w or closed)[1]) for w in rows]
    for i in range(routing.Size()):
        node = node_of[i]
        if routing.IsStart(i) or model.days.step[node] or model.days.shift[node] is None:
            continue
        idx = (routing.VehicleVar(i) + 1) * n_days + ddim.CumulVar(i)
        performed = routing.ActiveVar(i)
        solver.Add(tdim.CumulVar(i) >= solver.Element(lo, idx) * performed)
        solver.Add(
            tdim.CumulVar(i) + int(service[node]) <= solver.Element(hi, idx) + (1 - performed) * int(model.horizon_s)
        )


def _indices_of_node(manager, routing, node: int, n_vehicles: int) -> list[int]:
    idx = manager.NodeToIndex(node)
    if idx >= 0:
        return [idx]
    # a start/end node: every vehicle's end index that maps to it
    out = []
    for v in range(n_vehicles):
        e = routing.End(v)
        if manager.IndexToNode(e) == node:
            out.append(e)
    return out
