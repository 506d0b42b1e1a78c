"""PyVRP backend of the routing kernel: RoutingModel -> pyvrp.ProblemData -> KernelResult.

PyVRP (iterated local search, very strong on plain CVRP / VRPTW / prize-collecting
VRP) is used when the model only needs what PyVRP can express. Anything else raises
:class:`NotImplementedError` naming the feature, so :func:`planner.engine.kernel.solve`
can fall back to OR-Tools.

Mapping (one PyVRP location per model node, so matrices are passed unchanged):

* nodes used as a vehicle start or end -> ``Depot``; every other node -> ``Client``
  (``delivery=[demand]``, one time window, service duration);
* ``penalty == MANDATORY`` -> required client, else optional with ``prize=penalty``;
* ``NodeGroup`` with ``max_cardinality == 1`` -> mutually exclusive ``ClientGroup``
  (required when the group penalty is ``MANDATORY``; otherwise every member carries
  the group penalty as prize, which shifts PyVRP's objective by a constant only);
* identical vehicles -> one ``VehicleType`` with ``num_available``;
* ``allowed_vehicles`` -> one extra routing profile per distinct (profile, allowed set)
  in which the forbidden nodes are :data:`UNREACHABLE`; the result is checked afterwards.

The returned objective is recomputed from the model (arc cost + fixed cost + span cost +
penalties with the kernel's own semantics), not taken from PyVRP, and visit start times
are recomputed: start of service = max(window start, previous departure + travel).
PyVRP is imported only here.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from planner.engine.model import (
    MANDATORY,
    UNREACHABLE,
    KernelResult,
    Route,
    RoutingModel,
    Visit,
)

_INF = 2**62  # PyVRP's "no limit" (its default is 2**63 - 1; keep headroom for sums)
_MAX_EXTRA_PROFILES = 16


def unsupported(model: RoutingModel) -> list[str]:
    """Every feature of ``model`` PyVRP cannot express (empty list: translatable).

    The one place that decides what PyVRP can solve; :mod:`planner.engine.kernel` asks it.
    """
    out: list[str] = []
    depots = {v.start for v in model.vehicles} | {v.end for v in model.vehicles}
    if model.days is not None:
        out.append("a day schedule (DaySchedule: overnight stops and shifts per day)")
    if any(v.max_driving_per_day_s for v in model.vehicles):
        out.append("a daily driving limit (VehicleSpec.max_driving_per_day_s)")
    if any(v.day_windows for v in model.vehicles):
        out.append("working hours per vehicle and day (VehicleSpec.day_windows)")
    if any(v.breaks for v in model.vehicles):
        out.append("breaks (VehicleSpec.breaks)")
    if model.precedences:
        out.append(f"precedences ({len(model.precedences)} Precedence constraints)")
    multi = [i for i, ws in enumerate(model.windows) if len(ws) > 1 and i not in depots]
    if multi:
        out.append(f"several time windows per node (nodes {multi[:5]}{'...' if len(multi) > 5 else ''})")
    multi_dep = [i for i in depots if len(model.windows[i]) > 1]
    if multi_dep:
        out.append(f"several time windows on a depot node (nodes {sorted(multi_dep)[:5]})")
    big = [g.nodes for g in model.groups if g.max_cardinality != 1]
    if big:
        out.append(f"NodeGroup with max_cardinality != 1 (group {big[0]})")
    in_groups: dict[int, int] = {}
    for gi, g in enumerate(model.groups):
        for i in g.nodes:
            if i in depots:
                out.append(f"NodeGroup containing a depot node ({i})")
            if i in in_groups:
                out.append(f"node {i} in two NodeGroups")
            in_groups[i] = gi
    if model.max_wait_s is not None and any(w is not None and w < model.horizon_s for w in model.max_wait_s):
        out.append("max_wait_s (a cap on waiting time after a node)")
    neg = np.flatnonzero(np.asarray(model.demand) < 0)
    neg = [int(i) for i in neg if int(i) not in depots]
    if neg:
        out.append(f"negative demand (nodes {neg[:5]})")
    if model.arc_cost == "time" and any(v.max_distance_m is not None for v in model.vehicles):
        out.append("max_distance_m together with arc_cost='time'")
    visit_cost = getattr(model, "visit_cost", None)
    if visit_cost is not None and np.any(np.asarray(visit_cost) != 0):
        if any(v.max_distance_m is not None for v in model.vehicles):
            out.append("visit_cost together with max_distance_m")
    if model.allowed_vehicles is not None:
        keys = {(v.profile, _allowed_key(model, vi)) for vi, v in enumerate(model.vehicles)}
        if len(keys) > len(model.time_s) + _MAX_EXTRA_PROFILES:
            out.append(f"allowed_vehicles needing {len(keys)} routing profiles")
    return out


def _allowed_key(model: RoutingModel, vehicle: int) -> frozenset[int]:
    """Nodes that ``vehicle`` may NOT visit."""
    assert model.allowed_vehicles is not None
    return frozenset(
        i for i, allowed in enumerate(model.allowed_vehicles) if allowed is not None and vehicle not in allowed
    )


class _Translation:
    """A RoutingModel translated into PyVRP objects, with the index maps back."""

    def __init__(self, model: RoutingModel) -> None:
        import pyvrp

        self.model = model
        n = model.n_nodes
        horizon = int(model.horizon_s)
        depot_nodes = sorted({v.start for v in model.vehicles} | {v.end for v in model.vehicles})
        self.depot_nodes = depot_nodes
        depot_index = {node: k for k, node in enumerate(depot_nodes)}
        self.client_nodes = [i for i in range(n) if i not in depot_index]
        client_index = {node: k for k, node in enumerate(self.client_nodes)}

        # Matrices per routing profile; arc_cost="time" routes on the time matrix, and the
        # per-node visit cost is folded into every arc entering the node.
        vc = getattr(model, "visit_cost", None)
        visit_cost = None if vc is None or not np.any(np.asarray(vc) != 0) else np.asarray(vc, dtype=np.int64)
        base_cost = model.dist_m if model.arc_cost == "distance" else model.time_s
        profile_keys: list[tuple[int, frozenset[int]]] = []
        vehicle_profile: list[int] = []
        for vi, v in enumerate(model.vehicles):
            forbidden = _allowed_key(model, vi) if model.allowed_vehicles is not None else frozenset()
            key = (v.profile, forbidden)
            if key not in profile_keys:
                profile_keys.append(key)
            vehicle_profile.append(profile_keys.index(key))
        dist_mats, dur_mats = [], []
        for prof, forbidden in profile_keys:
            tm = np.array(model.time_s[prof], dtype=np.int64)
            dm = np.array(base_cost[prof], dtype=np.int64)
            if visit_cost is not None:
                dm = dm + visit_cost[None, :]  # PyVRP's distance is only the objective here
            unreachable = tm >= UNREACHABLE
            dm[unreachable] = np.maximum(dm[unreachable], UNREACHABLE)
            if forbidden:
                idx = np.fromiter(forbidden, dtype=np.int64)
                for m in (tm, dm):
                    m[idx, :] = UNREACHABLE
                    m[:, idx] = UNREACHABLE
                    m[idx, idx] = 0
            dist_mats.append(dm)
            dur_mats.append(tm)
        self.profile_keys = profile_keys

        group_of: dict[int, int] = {}
        for gi, g in enumerate(model.groups):
            for i in g.nodes:
                group_of[i] = gi

        locations = [pyvrp.Location(0.0, 0.0, name=str(i)) for i in range(n)]
        depots = []
        for node in depot_nodes:
            ws = model.windows[node]
            early, late = ws[0] if ws else (0, horizon)
            depots.append(pyvrp.Depot(node, tw_early=int(early), tw_late=int(late), name=str(node)))
        clients = []
        for node in self.client_nodes:
            ws = model.windows[node]
            early, late = ws[0] if ws else (0, horizon)
            gi = group_of.get(node)
            if gi is not None:
                g = model.groups[gi]
                required, prize = False, (0 if g.penalty == MANDATORY else int(g.penalty))
            elif model.penalty[node] == MANDATORY:
                required, prize = True, 0
            else:
                required, prize = False, int(model.penalty[node])
            clients.append(
                pyvrp.Client(
                    node,
                    delivery=[int(model.demand[node])],
                    service_duration=int(model.service_s[node]),
                    tw_early=int(early),
                    tw_late=int(late),
                    prize=prize,
                    required=required,
                    group=None if gi is None else gi,
                    name=str(node),
                )
            )
        groups = [
            pyvrp.ClientGroup(
                [client_index[i] for i in g.nodes],
                required=g.penalty == MANDATORY,
            )
            for g in model.groups
        ]

        # Group identical vehicles into one type; remember which model vehicles each type holds.
        type_keys: list[tuple] = []
        self.type_vehicles: list[list[int]] = []
        for vi, v in enumerate(model.vehicles):
            key = (
                depot_index[v.start],
                depot_index[v.end],
                int(v.capacity),
                vehicle_profile[vi],
                int(v.tw_start_s),
                horizon if v.tw_end_s is None else int(v.tw_end_s),
                _INF if v.max_duration_s is None else int(v.max_duration_s),
                _INF if v.max_distance_m is None else int(v.max_distance_m),
                int(v.fixed_cost),
            )
            if key in type_keys:
                self.type_vehicles[type_keys.index(key)].append(vi)
            else:
                type_keys.append(key)
                self.type_vehicles.append([vi])
        span = int(model.span_cost_per_s)
        vehicle_types = [
            pyvrp.VehicleType(
                num_available=len(self.type_vehicles[k]),
                capacity=[cap],
                start_depot=s,
                end_depot=e,
                fixed_cost=fixed,
                tw_early=early,
                tw_late=late,
                shift_duration=shift,
                max_distance=maxd,
                unit_distance_cost=1,
                unit_duration_cost=span,
                profile=prof,
            )
            for k, (s, e, cap, prof, early, late, shift, maxd, fixed) in enumerate(type_keys)
        ]
        self.data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, dist_mats, dur_mats, groups=groups)

    def initial_solution(self, initial_routes: Sequence[Sequence[int]]):
        """A PyVRP Solution from per-vehicle node lists (unknown nodes and depots are skipped)."""
        import pyvrp

        index = {node: k for k, node in enumerate(self.client_nodes)}
        type_of = {vi: k for k, vs in enumerate(self.type_vehicles) for vi in vs}
        routes = []
        seen: set[int] = set()
        for vehicle, nodes in enumerate(initial_routes):
            visits = [index[x] for x in nodes if x in index and x not in seen]
            seen.update(x for x in nodes if x in index)
            if visits and vehicle in type_of:
                routes.append(pyvrp.Route(self.data, visits, type_of[vehicle]))
        return pyvrp.Solution(self.data, routes)


def _schedule(model: RoutingModel, vehicle: int, nodes: list[int], depart_s: int) -> tuple[list[Visit], int, int]:
    """Earliest schedule of ``nodes`` (start ... end) leaving at ``depart_s``.

    Returns visits, distance (m) and duration (s). Start of service at each node is
    max(window start, previous departure + travel); ``load`` is the demand already
    delivered before the node (the kernel's cumulative-load convention).
    """
    veh = model.vehicles[vehicle]
    tm = model.time_s[veh.profile]
    dm = model.dist_m[veh.profile]
    t = int(depart_s)
    load = 0
    visits = [Visit(node=nodes[0], start_s=t, load=0)]
    dist = 0
    for prev, node in zip(nodes[:-1], nodes[1:], strict=False):
        t = t + int(model.service_s[prev]) + int(tm[prev, node]) if prev != nodes[0] else t + int(tm[prev, node])
        ws = model.windows[node]
        if ws and node not in (veh.start, veh.end):
            t = max(t, int(ws[0][0]))
        dist += int(dm[prev, node])
        if prev != nodes[0]:
            load += int(model.demand[prev])
        visits.append(Visit(node=node, start_s=t, load=load))
    return visits, dist, t - int(depart_s)


def _objective(model: RoutingModel, routes: list[Route], visited: set[int]) -> int:
    """Kernel objective: arc (+ visit) costs + fixed costs + span cost + penalties of what is not visited."""
    vc = getattr(model, "visit_cost", None)
    visit_cost = None if vc is None else np.asarray(vc, dtype=np.int64)
    total = 0
    for r in routes:
        veh = model.vehicles[r.vehicle]
        cost = model.dist_m[veh.profile] if model.arc_cost == "distance" else model.time_s[veh.profile]
        nodes = [v.node for v in r.visits]
        if len(nodes) <= 2:
            continue  # an unused vehicle costs nothing
        total += int(sum(int(cost[a, b]) for a, b in zip(nodes[:-1], nodes[1:], strict=False)))
        if visit_cost is not None:
            total += int(sum(int(visit_cost[b]) for b in nodes[1:]))
        total += int(veh.fixed_cost) + int(model.span_cost_per_s) * r.duration_s
    depots = {v.start for v in model.vehicles} | {v.end for v in model.vehicles}
    grouped: set[int] = set()
    for g in model.groups:
        grouped.update(g.nodes)
        missing = max(0, g.max_cardinality - sum(1 for i in g.nodes if i in visited))
        if g.penalty != MANDATORY:
            total += missing * int(g.penalty)
    for i in range(model.n_nodes):
        if i in depots or i in grouped or i in visited:
            continue
        if model.penalty[i] != MANDATORY:
            total += int(model.penalty[i])
    return total


def solve_pyvrp(
    model: RoutingModel,
    time_limit_s: float,
    seed: int = 0,
    on_progress: Callable[[float, int], None] | None = None,
    max_iterations: int | None = None,
    initial_routes: Sequence[Sequence[int]] | None = None,
) -> KernelResult:
    """Solve ``model`` with PyVRP's iterated local search within ``time_limit_s``.

    ``max_iterations`` (ILS iterations) makes the result independent of machine speed;
    the time limit stays a safety cap. ``on_progress(seconds, objective)`` is called on
    every new best feasible solution (objective in PyVRP's terms: groups of optional
    nodes may be offset by a constant; the returned ``objective`` is the kernel's).
    ``initial_routes[v]`` (model nodes visited by vehicle ``v``, start and end excluded)
    warm-starts the search; it may be infeasible, PyVRP repairs it.

    Raises
    ------
    NotImplementedError
        When the model uses a feature PyVRP cannot express; the message lists them all.
    """
    problems = unsupported(model)
    if problems:
        raise NotImplementedError("PyVRP backend cannot express: " + "; ".join(problems))

    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.IteratedLocalSearch import IteratedLocalSearchCallbacks, IteratedLocalSearchParams
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    t0 = time.perf_counter()
    tr = _Translation(model)
    history: list[tuple[float, int]] = []

    class _Progress(IteratedLocalSearchCallbacks):
        def on_best(self, best):  # noqa: ANN001 - PyVRP Solution
            if best.is_feasible():
                elapsed = time.perf_counter() - t0
                cost = int(best.distance_cost() + best.duration_cost() + best.fixed_vehicle_cost())
                cost += int(best.uncollected_prizes())
                history.append((elapsed, cost))
                if on_progress is not None:
                    on_progress(elapsed, cost)

    params = pyvrp.SolveParams(ils=IteratedLocalSearchParams(callbacks=_Progress()))
    remaining = max(0.01, time_limit_s - (time.perf_counter() - t0))
    if tr.data.num_clients == 0:
        best = pyvrp.Solution(tr.data, [])
        stopped_by = "no_search"
    else:
        stop = MaxRuntime(remaining)
        if max_iterations:
            stop = MultipleCriteria([stop, MaxIterations(int(max_iterations))])
        init = tr.initial_solution(initial_routes) if initial_routes is not None else None
        with warnings.catch_warnings():
            # an infeasible model is reported through the status, not a warning
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            result = pyvrp.solve(tr.data, stop, seed=seed, params=params, display=False, initial_solution=init)
        best = result.best
        # iterated local search never ends by itself: one of the two limits stopped it
        stopped_by = "work_budget" if max_iterations and result.num_iterations >= max_iterations else "time_limit"
    elapsed = time.perf_counter() - t0

    if not best.is_feasible():
        return KernelResult(
            status="timeout_no_solution",
            routes=(),
            dropped=(),
            objective=0,
            solve_time_s=elapsed,
            backend="pyvrp",
            history=tuple(history),
            stopped_by=stopped_by,
        )

    routes: list[Route] = []
    visited: set[int] = set()
    next_of_type = [0] * len(tr.type_vehicles)
    bad: list[str] = []
    for pr in best.routes():
        vt = pr.vehicle_type()
        vehicle = tr.type_vehicles[vt][next_of_type[vt]]
        next_of_type[vt] += 1
        veh = model.vehicles[vehicle]
        clients = [tr.client_nodes[a.idx] for a in pr.schedule() if a.is_client()]
        nodes = [veh.start, *clients, veh.end]
        # earliest schedule from the shift start; PyVRP's later departure only when the
        # earliest one would break the duration limit
        visits, dist, dur = _schedule(model, vehicle, nodes, int(veh.tw_start_s))
        if veh.max_duration_s is not None and dur > veh.max_duration_s:
            visits, dist, dur = _schedule(model, vehicle, nodes, max(int(pr.start_time()), int(veh.tw_start_s)))
        tm = model.time_s[veh.profile]
        for a, b in zip(nodes[:-1], nodes[1:], strict=False):
            if tm[a, b] >= UNREACHABLE:
                bad.append(f"arc {a}->{b} unreachable")
        if model.allowed_vehicles is not None:
            for c in clients:
                allowed = model.allowed_vehicles[c]
                if allowed is not None and vehicle not in allowed:
                    bad.append(f"node {c} on vehicle {vehicle}")
        visited.update(clients)
        routes.append(Route(vehicle=vehicle, visits=tuple(visits), distance_m=dist, duration_s=dur))
    if bad:
        return KernelResult(
            status="no_solution",
            routes=(),
            dropped=(),
            objective=0,
            solve_time_s=elapsed,
            backend="pyvrp",
            history=tuple(history),
            stopped_by=stopped_by,
        )
    used = {r.vehicle for r in routes}
    for vehicle, veh in enumerate(model.vehicles):
        if vehicle not in used:
            visits, dist, dur = _schedule(model, vehicle, [veh.start, veh.end], int(veh.tw_start_s))
            routes.append(Route(vehicle=vehicle, visits=tuple(visits), distance_m=dist, duration_s=dur))
    routes.sort(key=lambda r: r.vehicle)
    dropped = tuple(i for i in tr.client_nodes if i not in visited)
    return KernelResult(
        status="feasible",
        routes=tuple(routes),
        dropped=dropped,
        objective=_objective(model, routes, visited),
        solve_time_s=elapsed,
        backend="pyvrp",
        history=tuple(history),
    )
