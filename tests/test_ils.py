"""The OR-Tools backend's iterated local search: ruin, restarts, work budget, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
from conftest import plain_model

from planner.engine import backend_ortools as bo
from planner.engine import kernel
from planner.engine.model import RoutingModel, VehicleSpec


def line_model(penalty: int = 10**6) -> RoutingModel:
    """A depot (node 0) and customers 1..10 on a line, customer k at k km; optional visits."""
    x = np.arange(11) * 1000
    return plain_model(np.abs(x[:, None] - x[None, :]).astype(np.int64), penalty)


class Identity:
    """A stand-in for OR-Tools' index manager: index k is node k."""

    def IndexToNode(self, i):  # noqa: N802 (OR-Tools' name)
        return i


class FixedDraws:
    """A stand-in for the random generator: the ruin size is its lower end, the centre is ``centre``."""

    def __init__(self, centre: int):
        self.centre = centre

    def integers(self, lo, hi=None):
        return lo if hi is not None else self.centre


def test_ruin_removes_the_visits_closest_to_the_centre(monkeypatch):
    monkeypatch.setattr(bo, "RUIN_MIN", 3)
    monkeypatch.setattr(bo, "RUIN_MAX", 3)
    routes = [[1, 2, 3, 9], [5, 6, 10]]
    # visits in order: 1, 2, 3, 9, 5, 6, 10; the draw 4 picks visit 5 (at 5 km). There and back:
    # 5 -> 0 km, 6 -> 2 km, 3 -> 4 km, 2 -> 6 km, 9 -> 8 km: the three closest are 5, 6 and 3.
    got = bo._ruin(line_model(), Identity(), routes, lambda i: True, FixedDraws(4))
    assert got == [[1, 2, 9], [10]]


def test_ruin_keeps_what_may_not_be_removed(monkeypatch):
    monkeypatch.setattr(bo, "RUIN_MIN", 3)
    monkeypatch.setattr(bo, "RUIN_MAX", 3)
    routes = [[1, 2, 3, 9], [5, 6, 10]]
    keep = {6, 3}  # e.g. overnight stops and mandatory visits
    # removable visits: 1, 2, 9, 5, 10; the draw 3 picks 5; closest: 5 (0), 2 (6 km), 1 (8 km)
    # (9 and 10 are 8 and 10 km there and back too: 1 ties with 9 at 8 km and comes first)
    got = bo._ruin(line_model(), Identity(), routes, lambda i: i not in keep, FixedDraws(3))
    assert got == [[3, 9], [6, 10]]
    assert bo._ruin(line_model(), Identity(), routes, lambda i: False, FixedDraws(0)) is None


def test_restarts_spend_the_budget_and_repeat_exactly():
    model = line_model(penalty=3000)  # far customers (over 1.5 km) are not worth the drive there and back
    runs = [
        kernel.solve(model, time_limit_s=60, seed=s, backend="ortools", max_iterations=3000, restart_iterations=200)
        for s in (2, 2)
    ]
    assert runs[0].stopped_by == "work_budget"  # the restarts ran until the whole budget was spent
    assert [r.visits for r in runs[0].routes] == [r.visits for r in runs[1].routes]  # same seed, same plan
    assert runs[0].objective == runs[1].objective
    # the optimum: one van drives out to customer 10 and back (20,000 m), visiting all on the way;
    # dropping all costs 10 x 3,000 = 30,000, and a plan that stops at customer k < 10 costs
    # 2,000 k + 3,000 (10 - k) > 20,000
    assert runs[0].objective == 20_000


def test_restarts_go_on_with_two_routing_profiles():
    # A van (profile 0) and a slower motorbike (profile 1, twice the time on every arc). After its
    # first restart OR-Tools could not read any routes back into such a model, so every later restart
    # failed and the search stopped early ("search_ended", seen on the motorbike_outreach scenario);
    # the restarts now go on in a fresh model and spend the whole budget.
    base = line_model(penalty=3000)
    d = np.asarray(base.time_s[0])
    model = dataclasses.replace(
        base,
        time_s=(d, 2 * d),
        dist_m=(d.copy(), d.copy()),
        vehicles=(VehicleSpec(start=0, end=0, profile=0), VehicleSpec(start=0, end=0, profile=1)),
    )
    runs = [
        kernel.solve(model, time_limit_s=60, seed=2, backend="ortools", max_iterations=3000, restart_iterations=200)
        for _ in range(2)
    ]
    assert runs[0].stopped_by == "work_budget"
    assert [r.visits for r in runs[0].routes] == [r.visits for r in runs[1].routes]
    assert runs[0].objective == 20_000  # as above: one vehicle out to customer 10 and back


def test_without_restarts_guided_local_search_runs_as_before():
    model = line_model(penalty=3000)
    a = kernel.solve(model, time_limit_s=60, seed=0, backend="ortools", max_iterations=500)
    b = kernel.solve(model, time_limit_s=60, seed=0, backend="ortools", max_iterations=500, restart_iterations=0)
    assert [r.visits for r in a.routes] == [r.visits for r in b.routes]
    assert a.stopped_by == b.stopped_by == "work_budget"


def test_the_time_limit_stops_the_restarts():
    # a budget far beyond what 0.3 s allows: the restarts end on the clock, and say so
    res = kernel.solve(
        line_model(penalty=3000), time_limit_s=0.3, backend="ortools", max_iterations=10**12, restart_iterations=50
    )
    assert res.stopped_by == "time_limit"
    assert res.solve_time_s < 5


def test_chains_keep_the_best_of_their_searches():
    # Two chains = the searches of seeds 4 and 4 + CHAIN_SEED_STEP at once (the second in a forked
    # process); the lower objective is kept, with its routes, and the same call gives the same plan.
    # On a grid (Manhattan distances: many ties, so the node order matters) with a horizon of 30 km
    # per vehicle, the two seeds end apart at this budget: 62,000 and 54,000; the second chain wins.
    g = np.array([(i, j) for i in range(7) for j in range(6)]) * 1000
    d = (np.abs(g[:, None, 0] - g[None, :, 0]) + np.abs(g[:, None, 1] - g[None, :, 1])).astype(np.int64)
    model = dataclasses.replace(plain_model(d, 4000), horizon_s=30_000)
    kw = dict(time_limit_s=60, backend="ortools", max_iterations=400, restart_iterations=100)
    one = [kernel.solve(model, seed=s, **kw) for s in (4, 4 + kernel.CHAIN_SEED_STEP)]
    two = [kernel.solve(model, seed=4, chains=2, **kw) for _ in range(2)]
    assert one[1].objective < one[0].objective  # the instance does tell the chains apart
    assert two[0].objective == one[1].objective
    assert [r.visits for r in two[0].routes] == [r.visits for r in one[1].routes]
    assert [r.visits for r in two[1].routes] == [r.visits for r in two[0].routes]
    assert kernel.solve(model, seed=0, chains=2, **kw).objective == 48_000  # seed 0 keeps its own: 48,000 < 64,000
