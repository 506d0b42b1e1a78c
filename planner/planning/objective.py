"""What a visit is worth: the objective of the district plan, stated once.

For village ``v`` with ``P`` people and ``C`` children, one-way driving ``h`` hours from the
nearest depot, a ``disadvantaged`` flag ``D`` (0/1) and the district's ``priority`` ``R``::

    weight(v) = (P + child_weight × C) × (1 + min(remote_weight_per_h × h, remote_weight_cap))
                × (1 + disadvantaged_weight × D) × R

A van visit to a stop serves its own village and the villages that walk there; walkers count
with a credit that is 1 up to ``walk_full_credit_m`` and falls linearly to 0 at their walking
limit. The ``k``-th visit of a stop in the cycle is worth::

    value(stop, k) = penalty_per_person × Σ_v∈stop weight(v) × credit(v) × (first_visit_factor if k = 1 else 1)

A reading session at an active school (its ``k``-th in the cycle, on a date inside its term and
hours) is worth its pupils, the ``C`` children of the villages within the school's
``coverage_radius_m`` on foot, each weighted as a child counts in its village's weight (a person
and a child, times the village's remoteness, disadvantage and priority)::

    pupils(school)   = Σ_v weight(v) × C × (1 + child_weight) / (P + child_weight × C)
    value(school, k) = penalty_per_person × max(1, pupils) × (first_visit_factor if k = 1 else 1)

The solver minimises ``Σ value of visits not made + driving seconds + night_away_cost × nights``,
i.e. it maximises the value served net of the fleet's time. With the commune floor on, the
weights of communes below the floor are raised and the plan is solved again (``floor_rounds``).
"""

from __future__ import annotations

import numpy as np

from planner.model.matrices import UNREACHABLE
from planner.model.problem import Problem, SiteRow

#: Walking credit below this is treated as no credit (the village is not counted as walking).
MIN_CREDIT = 1e-9


def hours_from_depot(problem: Problem) -> np.ndarray:
    """One-way driving hours from the nearest depot of any vehicle to each village (inf if none)."""
    nv = len(problem.villages)
    best = np.full(nv, np.inf)
    for veh in problem.vehicles:
        m = problem.matrix_for(veh)
        d = problem.site(veh.depot).loc
        t = m.time_s[d, :nv].astype(float)
        t[t >= UNREACHABLE] = np.inf
        best = np.minimum(best, t / 3600)
    return best


def village_weights(problem: Problem, boost: dict[str, float] | None = None) -> np.ndarray:
    """``weight(v)`` of every village (see the module docstring); ``boost`` multiplies per commune code."""
    o = problem.config.objective
    hours = hours_from_depot(problem)
    out = np.zeros(len(problem.villages))
    for k, v in enumerate(problem.villages):
        h = hours[k] if np.isfinite(hours[k]) else 0.0
        remote = 1 + min(o.remote_weight_per_h * h, o.remote_weight_cap)
        w = (v.population + o.child_weight * v.children) * remote * (1 + o.disadvantaged_weight * v.disadvantaged)
        out[k] = w * v.priority * (boost or {}).get(v.commune_code, 1.0)
    return out


def walk_limit_of(problem: Problem, village: int) -> float:
    """The village's walking limit in metres (its own, else the plan's)."""
    own = problem.villages[village].walk_limit_m
    return float(own if own is not None else problem.config.plan.walk_limit_m)


def walk_credit(problem: Problem, village: int, distance_m: float) -> float:
    """Share of a village's people counted as served by a stop ``distance_m`` away on foot."""
    if distance_m <= 0:
        return 1.0
    limit = walk_limit_of(problem, village)
    full = min(problem.config.objective.walk_full_credit_m, limit)
    if distance_m > limit:
        return 0.0
    if distance_m <= full or limit <= full:
        return 1.0
    return (limit - distance_m) / (limit - full)


def visit_value(problem: Problem, weights: np.ndarray, members, credits, first: bool) -> int:
    """``value(stop, k)`` in objective units for a stop serving ``members`` with their ``credits``."""
    o = problem.config.objective
    base = sum(weights[m] * c for m, c in zip(members, credits))
    factor = o.first_visit_factor if first else 1.0
    return int(round(problem.config.service.penalty_per_person * max(base, 1.0) * factor))


def school_pupils(problem: Problem, school: SiteRow) -> list[int]:
    """Villages (indices) whose children are the school's pupils: within its ``coverage_radius_m`` on
    foot (none without walking)."""
    walk = problem.walk
    if walk is None:
        return []
    return [k for k, v in enumerate(problem.villages) if walk.dist_m[school.loc, v.loc] <= school.coverage_radius_m]


def school_value(problem: Problem, weights: np.ndarray, school: SiteRow, first: bool) -> int:
    """``value(school, k)`` in objective units of a reading session at a school: its pupils, each
    weighted as a child of its village counts in ``weight(v)`` (a person and a child)."""
    o = problem.config.objective
    pupils = 0.0
    for k in school_pupils(problem, school):
        v = problem.villages[k]
        people = v.population + o.child_weight * v.children
        pupils += weights[k] * v.children * (1 + o.child_weight) / people if people > 0 else 0.0
    factor = o.first_visit_factor if first else 1.0
    return int(round(problem.config.service.penalty_per_person * max(1.0, pupils) * factor))
