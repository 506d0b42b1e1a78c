"""Which stops the van makes: walking coverage, fixed library points, and a set-covering MIP.

A van stop at a village serves every village whose people can walk to it within
``walk_limit_m`` along the paths (walking distance on the road network, off-road
connectors included). Villages within an *active fixed library point's* coverage radius
are served by that point (when fixed points are switched on) and need no van stop; the
point needs restocking visits instead.

The stops are chosen by a set-covering MIP (``scipy.optimize.milp``, HiGHS): the fewest
stops such that every village the fleet can serve is reachable on foot from one of them,
preferring stops at larger villages. Each village is then assigned to the nearest chosen
stop it can walk to; the routing step decides which stops the fleet's time allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from planner.model.matrices import UNREACHABLE
from planner.planning.objective import walk_credit, walk_limit_of


@dataclass(frozen=True)
class StopPlan:
    """One stop the router may make: a village (with walkers) or a fixed point to restock."""

    kind: str  # "village" or "site"
    loc: int  # matrix row
    members: tuple[int, ...]  # village indices served at this stop (its own village first)
    visits: int  # visits wanted in the cycle
    population: int  # people served by one visit
    site: int | None = None  # index into problem.sites for restocking stops
    covered: tuple[int, ...] = ()  # villages served by the fixed point between visits
    credits: tuple[float, ...] = ()  # per member: share of its people counted (walking credit; 1 = all)


@dataclass(frozen=True)
class Selection:
    stops: tuple[StopPlan, ...]
    fixed_cover: dict  # village index -> site index of the fixed point serving it
    assigned: dict  # village index -> index into stops
    uncoverable: tuple[int, ...]  # villages no reachable stop can serve
    mip_status: str


def reachable_locs(problem) -> np.ndarray:
    """Matrix rows that at least one vehicle can reach from its depot and return from."""
    n = len(problem.villages) + len(problem.sites)
    ok = np.zeros(n, dtype=bool)
    for veh in problem.vehicles:
        m = problem.matrix_for(veh)
        d = problem.site(veh.depot).loc
        ok |= (m.time_s[d, :] < UNREACHABLE) & (m.time_s[:, d] < UNREACHABLE)
    return ok


def walk_dist(problem) -> np.ndarray | None:
    return None if problem.walk is None else problem.walk.dist_m


def select_stops(problem) -> Selection:
    cfg = problem.config
    nv = len(problem.villages)
    walk_limit = float(cfg.plan.walk_limit_m)
    wd = walk_dist(problem)
    reach = reachable_locs(problem)
    pops = np.array([v.population for v in problem.villages])

    # fixed library points
    fixed_cover: dict[int, int] = {}
    fp_stops: list[StopPlan] = []
    if cfg.plan.fixed_points:
        fp_visits = cfg.frequency.fixed_point_visits
        fixed_ids = {s.id for s in problem.fixed_points()}
        for si in sorted(range(len(problem.sites)), key=lambda k: problem.sites[k].id):
            s = problem.sites[si]
            if s.id not in fixed_ids:
                continue
            covered = []
            for vi in range(nv):
                d = wd[s.loc, vi] if wd is not None else UNREACHABLE
                if d <= s.coverage_radius_m and vi not in fixed_cover:
                    covered.append(vi)
            for vi in covered:
                fixed_cover[vi] = si
            if reach[s.loc] and covered:
                fp_stops.append(
                    StopPlan("site", s.loc, (), fp_visits, int(pops[covered].sum()), site=si, covered=tuple(covered))
                )

    need = [vi for vi in range(nv) if vi not in fixed_cover]
    cand = [vi for vi in range(nv) if reach[vi]]
    # cover[i, j]: village need[i] can be served by a stop at cand[j]
    limits = np.array([walk_limit_of(problem, u) for u in range(nv)])
    if walk_limit > 0 and wd is not None:
        cover = (wd[np.ix_(cand, need)].T <= limits[need][:, None]).astype(float)
    else:
        cover = (np.array(need)[:, None] == np.array(cand)[None, :]).astype(float)
    coverable = cover.sum(axis=1) > 0
    uncoverable = tuple(u for u, ok in zip(need, coverable) if not ok)
    status = "not_needed"
    chosen: list[int] = []
    if len(cand) and coverable.any():
        a = cover[coverable]
        cost = 1.0 - 0.1 * pops[cand] / max(1, pops.max())  # fewest stops; ties to larger villages
        res = milp(
            c=cost,
            constraints=LinearConstraint(a, lb=np.ones(a.shape[0]), ub=np.inf),
            integrality=np.ones(len(cand)),
            bounds=Bounds(0, 1),
            options={"time_limit": 30},
        )
        status = "optimal" if res.status == 0 else f"status {res.status}: {res.message}"
        if res.x is None:  # fall back: every coverable village is its own stop
            chosen = [c for c in cand if c in need]
        else:
            chosen = [c for c, x in zip(cand, res.x) if x > 0.5]

    assigned_to: dict[int, int] = {}
    for u in need:
        if u in uncoverable:
            continue
        if u in chosen:
            assigned_to[u] = u
            continue
        opts = [c for c in chosen if (wd is not None and walk_limit > 0 and wd[c, u] <= limits[u]) or c == u]
        if opts:
            assigned_to[u] = min(opts, key=lambda c: (wd[c, u] if wd is not None else 0, c))
    members: dict[int, list[int]] = {}
    for u, c in sorted(assigned_to.items()):
        members.setdefault(c, []).append(u)
    village_stops = []
    for c in sorted(members):
        mem = [c] + [u for u in members[c] if u != c]
        visits = max(problem.villages[u].visits_required for u in mem)
        credits = tuple(1.0 if u == c else walk_credit(problem, u, float(wd[c, u])) for u in mem)
        served = int(round(sum(pops[u] * k for u, k in zip(mem, credits))))
        village_stops.append(StopPlan("village", c, tuple(mem), visits, served, credits=credits))
    stops = tuple(village_stops + fp_stops)
    assigned = {u: k for k, st in enumerate(stops) for u in st.members}
    return Selection(stops, fixed_cover, assigned, uncoverable, status)
