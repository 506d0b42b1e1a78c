"""The engine's routing kernel: one entry point for every routing job of the product.

``solve(model, ...)`` picks a backend: OR-Tools routing (every feature of
:class:`RoutingModel`: breaks, several windows, precedences, groups) or PyVRP (a
state-of-the-art solver for the plain capacitated / time-window cases, measured
side by side in ``benchmarks/vrp.py``). ``backend="auto"`` uses PyVRP when the
model has nothing PyVRP cannot express and PyVRP is installed, else OR-Tools.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from planner.engine.backend_ortools import solve_ortools
from planner.engine.backend_pyvrp import solve_pyvrp, unsupported
from planner.engine.model import DaySchedule, KernelResult, NodeGroup, Precedence, Route, RoutingModel, Visit
from planner.engine.parallel import fork_all

BACKENDS = ("auto", "ortools", "pyvrp")


def pyvrp_can_solve(model: RoutingModel) -> bool:
    """Whether PyVRP can express every feature of ``model`` (decided by the PyVRP backend alone)."""
    return not unsupported(model)


def solve(
    model: RoutingModel,
    *,
    time_limit_s: float,
    seed: int = 0,
    backend: str = "auto",
    first_solution: str = "auto",
    max_iterations: int | None = None,
    on_progress=None,
    initial_routes=None,
    restart_iterations: int = 0,
    chains: int = 1,
) -> KernelResult:
    """Solve a routing model; see the module docstring for the choice of backend.

    ``initial_routes`` (lists of node indices per vehicle, without start/end) warm-start the
    PyVRP backend; OR-Tools ignores them. ``restart_iterations`` > 0 splits the OR-Tools work
    budget into a first guided local search and restarts of that many branches from a ruined best
    plan (see :func:`planner.engine.backend_ortools.solve_ortools`); PyVRP ignores it.
    ``chains`` > 1 runs that many OR-Tools searches at once (see :func:`best_of_chains`).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not one of {BACKENDS}")
    auto = backend == "auto"
    if auto:
        backend = "pyvrp" if pyvrp_can_solve(model) else "ortools"
    if backend == "pyvrp":
        try:
            return solve_pyvrp(
                model,
                time_limit_s,
                seed,
                on_progress=on_progress,
                max_iterations=max_iterations,
                initial_routes=initial_routes,
            )
        except NotImplementedError:
            if not auto:
                raise
            # a feature PyVRP cannot express: OR-Tools handles every feature

    def chain(k: int, progress=None) -> KernelResult:
        chain_seed = seed + k * CHAIN_SEED_STEP
        order = seed_order(model.n_nodes, chain_seed)
        result = solve_ortools(
            relabel(model, order),
            time_limit_s,
            seed=chain_seed,
            first_solution=first_solution,
            max_iterations=max_iterations,
            on_progress=progress,
            restart_iterations=restart_iterations,
        )
        return map_back(result, order)

    if chains <= 1:
        return chain(0, on_progress)
    return best_of_chains(chain, chains, on_progress, time_limit_s)


#: Seed offset between the parallel searches of :func:`best_of_chains`.
CHAIN_SEED_STEP = 104_729


def best_of_chains(chain, chains: int, on_progress, time_limit_s: float) -> KernelResult:
    """Run ``chain(k)`` for k = 0..chains-1 at once and keep the best result.

    Chain 0 runs in this process (it reports progress), the others in forked processes; chain k
    searches with seed ``seed + k * CHAIN_SEED_STEP`` (another node order, other restarts). On the
    district model the search ends in local optima that differ by up to 3 % between seeds, so the
    best of two independent searches on two cores is better than one, in the same wall time. The
    best is the lowest objective among the results with a plan (ties: the lowest k), so with a
    work budget the result does not depend on the machine. Without ``fork`` the chains run one
    after the other (:func:`planner.engine.parallel.fork_all`).
    """
    wait_until = time.perf_counter() + max(60.0, 2 * time_limit_s)
    results = fork_all(lambda k: chain(k, on_progress if k == 0 else None), chains, wait_until)
    with_plan = [r for r in results if r.status in ("optimal", "feasible")]
    best = min(with_plan or results, key=lambda r: r.objective)  # min keeps the first of equal objectives
    return replace(best, solve_time_s=max(r.solve_time_s for r in results))


def seed_order(n_nodes: int, seed: int) -> np.ndarray:
    """The node order the search sees: identity for seed 0, else a permutation drawn from ``seed``.

    OR-Tools routing has no random component, but its heuristics break ties by node index;
    relabelling the nodes makes a seed change the search reproducibly.
    """
    if seed == 0:
        return np.arange(n_nodes)
    return np.random.default_rng(seed).permutation(n_nodes)


def relabel(model: RoutingModel, order: np.ndarray) -> RoutingModel:
    """The same model with node ``order[k]`` renamed ``k``."""
    if np.array_equal(order, np.arange(model.n_nodes)):
        return model
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    ix = np.ix_(order, order)

    def per_node(seq):
        return None if seq is None else tuple(seq[int(o)] for o in order)

    days = model.days
    if days is not None:
        days = DaySchedule(days.offsets_s, per_node(days.step), per_node(days.shift), per_node(days.fixed_day))
    return replace(
        model,
        time_s=tuple(np.ascontiguousarray(m[ix]) for m in model.time_s),
        dist_m=tuple(np.ascontiguousarray(m[ix]) for m in model.dist_m),
        service_s=np.asarray(model.service_s)[order],
        demand=np.asarray(model.demand)[order],
        penalty=np.asarray(model.penalty)[order],
        windows=per_node(model.windows),
        vehicles=tuple(replace(v, start=int(inv[v.start]), end=int(inv[v.end])) for v in model.vehicles),
        groups=tuple(
            NodeGroup(tuple(int(inv[i]) for i in g.nodes), g.penalty, g.max_cardinality) for g in model.groups
        ),
        precedences=tuple(Precedence(int(inv[p.before]), int(inv[p.after]), p.min_gap_s) for p in model.precedences),
        allowed_vehicles=per_node(model.allowed_vehicles),
        max_wait_s=per_node(model.max_wait_s),
        names=per_node(model.names),
        visit_cost=None if model.visit_cost is None else np.asarray(model.visit_cost)[order],
        days=days,
    )


def map_back(result: KernelResult, order: np.ndarray) -> KernelResult:
    """A result on a relabelled model, in the original node names."""
    if np.array_equal(order, np.arange(len(order))):
        return result
    routes = tuple(
        Route(
            r.vehicle,
            tuple(Visit(int(order[v.node]), v.start_s, v.load) for v in r.visits),
            r.breaks,
            r.distance_m,
            r.duration_s,
        )
        for r in result.routes
    )
    return replace(result, routes=routes, dropped=tuple(sorted(int(order[d]) for d in result.dropped)))
