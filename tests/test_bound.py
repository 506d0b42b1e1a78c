"""The bound on people served: never below a plan, and tight on instances solved by hand.

Instances are built from arrays (no files): travel times in minutes between villages and
sites, one van, the default day (shift 07:00-17:00, one-hour lunch, 90 minutes per visit,
at most 8 h of driving): a day holds 540 minutes of service and driving. Each optimum is
worked out beside the instance and checked by an independent enumeration of every
subset, order and lodging of each day.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pytest

from planner.model.matrices import Matrices
from planner.model.problem import Problem, SiteRow, VillageRow
from planner.planning.bound import day_work_s, population_upper_bound
from planner.planning.checker import violations
from planner.planning.solve import solve
from tests.conftest import config, plan_for

DAY_MIN = 540  # shift 600 min - lunch 60 min
SERVICE_MIN = 90
DRIVING_MIN = 480


@dataclass(frozen=True)
class StraightLegs:
    """Leg geometry of an array-built problem: a straight line (a lunch by the road splits it)."""

    def path_lonlat(self, a: int, b: int) -> list[tuple[float, float]]:
        return [(103.0 + a / 100, 22.0), (103.0 + b / 100, 22.0)]


def array_problem(minutes, pops, *, lodgings=(), days=("Mon",), visits=None) -> Problem:
    """A problem from a travel-time matrix in minutes: rows are villages, then DEPOT, then lodgings."""
    n_v = len(pops)
    ids = [f"V{k}" for k in range(n_v)] + ["DEPOT"] + list(lodgings)
    t = np.array(minutes, dtype=float) * 60
    cfg = config(plan={"working_days": list(days), "max_iterations": 20000})
    villages = tuple(
        VillageRow(f"V{k}", f"Bản {k}", "Xã Thử", "00001", p, p // 3, (visits or [1] * n_v)[k], k, 103.0, 22.0)
        for k, p in enumerate(pops)
    )
    sites = tuple(
        SiteRow(
            sid,
            sid,
            "depot" if sid == "DEPOT" else "culture_centre",
            "Xã Thử",
            "00001",
            True,
            True,
            0,
            0,
            n_v + j,
            103.0,
            22.0,
        )
        for j, sid in enumerate(["DEPOT", *lodgings])
    )
    return Problem(
        area=None,
        config=cfg,
        dates=tuple(cfg.working_dates()),
        weeks=(tuple(cfg.working_dates()),),
        villages=villages,
        sites=sites,
        vehicles=cfg.vehicles,
        matrices={"van": replace(Matrices.from_arrays(ids, t, t * 20 / 3.6), geometry=StraightLegs())},
    )


def best_day_population(minutes, pops, lodging_rows) -> dict[frozenset, int]:
    """Every set of villages one day can visit (any order, any lodging at each end) and its people."""
    t = np.array(minutes)
    out = {frozenset(): 0}
    n = len(pops)
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            for order in itertools.permutations(subset):
                legs = sum(t[a, b] for a, b in zip(order, order[1:]))
                drive = (
                    min(t[lo, order[0]] for lo in lodging_rows) + legs + min(t[order[-1], lo] for lo in lodging_rows)
                )
                if drive + SERVICE_MIN * size <= DAY_MIN and drive <= DRIVING_MIN:
                    out[frozenset(subset)] = sum(pops[k] for k in subset)
                    break
    return out


def ring(n_villages: int, leg_min: float):
    """Depot and villages all ``leg_min`` apart."""
    n = n_villages + 1
    return (np.ones((n, n)) - np.eye(n)) * leg_min


def test_day_work_is_shift_minus_lunch():
    problem = array_problem(ring(1, 30), [100])
    assert day_work_s(problem) == DAY_MIN * 60


def test_ring_bound_is_the_enumerated_optimum():
    # 5 villages 30 min from the depot and from each other: a day of n visits needs
    # 90 n + 30 (n + 1) <= 540 minutes, so n <= 4: the best day serves 500+400+300+200 = 1,400.
    pops = [100, 200, 300, 400, 500]
    minutes = ring(5, 30)
    days = best_day_population(minutes, pops, lodging_rows=[5])
    assert max(days.values()) == 1400
    bound = population_upper_bound(array_problem(minutes, pops))
    assert bound.population_upper_bound == 1400


def test_remote_pair_needs_the_day_routes():
    # V0, V1 10 min from the depot; V2, V3 200 min away, 10 min apart, no lodging near them.
    # A day reaches one of V2/V3 (200 + 90 + 200 = 490 <= 540) but not both (200+10+200+180 = 590),
    # nor one of them with V0 or V1 (10 + 195 + 200 + 180 > 540): the optimum is 500.
    # Half of each visit's cheapest legs would be 10 min (V2 <-> V3): a knapsack thinks all
    # four fit (4 × 100 = 400 <= 540); only the day-routes see the 400 minutes of driving.
    pops = [100, 100, 500, 500]
    minutes = np.array(
        [
            [0, 10, 195, 195, 10],
            [10, 0, 195, 195, 10],
            [195, 195, 0, 10, 200],
            [195, 195, 10, 0, 200],
            [10, 10, 200, 200, 0],
        ]
    )
    assert max(best_day_population(minutes, pops, lodging_rows=[4]).values()) == 500
    bound = population_upper_bound(array_problem(minutes, pops))
    assert bound.method == "day_routes_lp"
    assert bound.population_upper_bound == 500
    weak = population_upper_bound(array_problem(minutes, pops), max_columns=0)
    assert weak.method == "visit_knapsack"
    assert weak.population_upper_bound == 1200  # valid, and weaker


def six_villages():
    """Six villages (people, minutes between the villages and the depot, last row, and visits
    needed: V4 twice) drawn once from seed 7."""
    pops = [120, 80, 300, 260, 150, 90]
    xy = np.random.default_rng(7).uniform(0, 60, size=(len(pops) + 1, 2))
    minutes = np.rint(np.linalg.norm(xy[:, None] - xy[None, :], axis=2) * 1.5)
    return pops, minutes, [1, 1, 1, 1, 2, 1]


def test_two_days_bound_is_not_below_the_enumerated_optimum_nor_the_plan():
    # Two days, only the depot as lodging, so days are independent: the optimum is the best
    # pair of disjoint feasible day-sets, found by enumeration (V4 needs a visit on both days).
    pops, minutes, visits = six_villages()
    days = best_day_population(minutes, pops, lodging_rows=[len(pops)])
    best = 0
    for a, b in itertools.product(days, repeat=2):
        need_twice = 4 in a and 4 in b
        if (a & b) - {4}:
            continue
        served = sum(pops[k] for k in (a | b) if k != 4) + (pops[4] if need_twice else 0)
        best = max(best, served)
    problem = array_problem(minutes, pops, days=("Mon", "Wed"), visits=visits)
    bound = population_upper_bound(problem)
    plan = solve(problem)
    assert violations(plan, problem) == []
    served = plan.summary()["population_served_at_frequency"]
    assert served <= best <= bound.population_upper_bound <= sum(pops)


def test_a_village_reached_only_through_a_night_away_counts():
    # V0 is 6.5 h from the depot: no day can go there and back (6.5 + 1.5 + 6.5 h), but a
    # culture centre 20 min from it lets a 3-day week drive out, visit, and drive back.
    # The bound must count it (the plan below serves it), whatever the night's cost.
    minutes = np.array([[0, 390, 20], [390, 0, 370], [20, 370, 0]])
    problem = array_problem(minutes, [400], lodgings=("CC",), days=("Mon", "Tue", "Wed"))
    bound = population_upper_bound(problem)
    plan = solve(problem)
    assert violations(plan, problem) == []
    assert plan.summary()["population_served_at_frequency"] == 400
    assert bound.population_upper_bound == 400


@pytest.mark.parametrize("season", ["dry", "rainy"])
def test_bound_is_not_below_the_planners_plan_on_a_drawn_area(line_area, season):
    cfg = config(plan={"working_days": ["Mon", "Tue"], "season": season})
    plan, problem = plan_for(line_area, cfg)
    bound = population_upper_bound(problem)
    s = plan.summary()
    assert s["population_served_at_frequency"] <= bound.population_upper_bound <= s["population_total"]


# ---- the weighted objective: value of the visits made minus driving seconds


def best_day_driving(minutes, n_villages: int, lodging_rows) -> dict[frozenset, float]:
    """Every set of villages one day can visit, with its least driving (minutes), by enumeration."""
    t = np.array(minutes)
    out: dict[frozenset, float] = {frozenset(): 0.0}
    for size in range(1, n_villages + 1):
        for subset in itertools.combinations(range(n_villages), size):
            best = np.inf
            for order in itertools.permutations(subset):
                legs = sum(t[a, b] for a, b in zip(order, order[1:]))
                drive = (
                    min(t[lo, order[0]] for lo in lodging_rows) + legs + min(t[order[-1], lo] for lo in lodging_rows)
                )
                if drive + SERVICE_MIN * size <= DAY_MIN and drive <= DRIVING_MIN:
                    best = min(best, drive)
            if np.isfinite(best):
                out[frozenset(subset)] = float(best)
    return out


def stop_of_village(problem: Problem) -> dict[int, int]:
    """Village index -> its stop in the selection (each village is its own stop here)."""
    from planner.planning.covering import select_stops

    return {st.members[0]: s for s, st in enumerate(select_stops(problem).stops)}


def test_weighted_bound_on_the_ring_is_the_enumerated_optimum():
    # The ring of 5 villages, one day, visit values in seconds: a day of n villages drives
    # 30 (n + 1) min = 1800 (n + 1) s. Best first: 12000 - 3600 = 8400, + 9000 - 1800 = 15600,
    # + 4000 - 1800 = 17800, + 2500 - 1800 = 18500; a 5th visit does not fit the day (n <= 4).
    minutes = ring(5, 30)
    values = [1000, 2500, 4000, 9000, 12000]
    problem = array_problem(minutes, [100] * 5)
    stop = stop_of_village(problem)
    days = best_day_driving(minutes, 5, lodging_rows=[5])
    optimum = max(sum(values[k] for k in s) - 60 * d for s, d in days.items())
    assert optimum == 18500
    bound = population_upper_bound(problem, copy_values={stop[k]: [values[k]] for k in range(5)})
    assert bound.objective_bound is not None
    assert optimum <= bound.objective_bound <= sum(values)
    assert bound.objective_bound == 18500  # the LP is tight here
    weak = population_upper_bound(problem, max_columns=0, copy_values={stop[k]: [values[k]] for k in range(5)})
    assert weak.method == "visit_knapsack" and weak.objective_bound == sum(values)  # valid, weaker


def test_weighted_bound_counts_the_driving():
    # One village 30 min from the depot: a visit drives 3600 s. Worth 10000, the best plan nets
    # 6400; worth 3000, the best plan stays home (0). Without the driving the bound would say 3000.
    minutes = ring(1, 30)
    problem = array_problem(minutes, [100])
    stop = stop_of_village(problem)
    assert population_upper_bound(problem, copy_values={stop[0]: [10000]}).objective_bound == 6400
    assert population_upper_bound(problem, copy_values={stop[0]: [3000]}).objective_bound == 0


def test_weighted_bound_is_not_below_the_enumerated_optimum_nor_the_plan_over_two_days():
    # Two days, depot only: the optimum is the best pair of day-sets (a village on both days
    # gets its second copy's value if it has one), found by enumeration.
    pops, minutes, visits = six_villages()
    problem = array_problem(minutes, pops, days=("Mon", "Wed"), visits=visits)
    plan = solve(problem)
    assert violations(plan, problem) == []
    s = plan.summary()
    stop = stop_of_village(problem)
    # the values the planner's own model puts on each visit (first visits are worth more)
    from planner.planning.solve import build_model, copy_values

    model, nodes, _ = build_model(problem)
    values = copy_values(model, nodes)
    village_values = {k: values.get(stop[k], []) for k in range(len(pops))}
    days = best_day_driving(minutes, len(pops), lodging_rows=[len(pops)])
    optimum = -np.inf
    for (a, da), (b, db) in itertools.product(days.items(), repeat=2):
        made = sum(sum(village_values[k][: (k in a) + (k in b)]) for k in range(len(pops)))
        optimum = max(optimum, made - 60 * (da + db))
    assert s["objective_value"] <= optimum <= s["objective_bound"]
    assert s["objective_bound"] == population_upper_bound(problem, copy_values=values).objective_bound
