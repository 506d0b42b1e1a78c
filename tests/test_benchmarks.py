"""Fast tests of the benchmark parsers, the independent checkers, the PyVRP backend and the PVRP solver."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks import pvrp as pvrp_cli
from benchmarks.formats import (
    check_pvrp,
    check_vrp,
    decode_combo,
    encode_combo,
    parse_cvrplib_sol,
    parse_lkh_tour,
    parse_pvrp,
    parse_pvrp_solution,
    parse_tsplib_vrp,
)
from planner.engine.model import MANDATORY, Break, NodeGroup, RoutingModel, VehicleSpec
from planner.engine.periodic import PeriodicProblem, solve_periodic

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
P01 = DATA / "pvrp" / "instances" / "p01"
P01_RES = DATA / "pvrp" / "solutions" / "p01.res"
C101 = DATA / "instances" / "solomon" / "C101.100.10.vrptw"
X101 = DATA / "instances" / "cvrp_x" / "X-n101-k25.vrp"


def _needs_data(fn):
    """The benchmark instances live in ../shared beside the clone; without them the test fails, never skips."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        assert P01.exists(), f"shared benchmark data not found at {DATA} (clone with ../shared beside it)"
        return fn(*args, **kwargs)

    return wrapper


needs_data = _needs_data


# --------------------------------------------------------------------------- parsers


def test_combo_bits_left_digit_is_day_one():
    assert decode_combo(8, 5) == frozenset({1})  # 01000: day 2
    assert decode_combo(5, 5) == frozenset({2, 4})  # 00101: days 3 and 5
    assert encode_combo(frozenset({2, 4}), 5) == 5


@needs_data
def test_parse_p01():
    inst = parse_pvrp(P01)
    assert (inst.n_vehicles, inst.n_customers, inst.n_days, inst.capacity, inst.max_duration) == (3, 51, 2, 160, 0)
    assert inst.combos[1] == (frozenset({1}), frozenset({0}))  # codes "1 2" = binary 01, 10: day 2, day 1
    assert inst.demand[51] == 160 and np.allclose(inst.xy[51], inst.xy[0])  # the full-truck depot customer


@needs_data
def test_parse_solomon_and_x_reproduce_their_bks():
    c101 = parse_tsplib_vrp(C101)
    assert (c101.n_customers, c101.capacity, c101.n_vehicles, c101.scale) == (100, 200, 25, 10)
    assert c101.service[1] == 900 and tuple(c101.windows[1]) == (9120, 9670)
    routes, bks = parse_lkh_tour(DATA / "instances/solomon/tours_distance_only/C101.100.10.8273.tour", 100)
    report = check_vrp(c101, routes)
    assert report.feasible and report.cost == bks == 8273

    x = parse_tsplib_vrp(X101)
    assert (x.n_customers, x.capacity, x.n_vehicles, x.windows) == (100, 206, 32, None)
    routes, bks = parse_cvrplib_sol(X101.with_suffix(".sol"))
    report = check_vrp(x, routes)
    assert report.feasible and report.cost == bks == 27591


@needs_data
def test_vrp_checker_rejects_a_window_violation():
    c101 = parse_tsplib_vrp(C101)
    routes, _ = parse_lkh_tour(DATA / "instances/solomon/tours_distance_only/C101.100.10.8273.tour", 100)
    routes[0] = list(reversed(routes[0]))
    report = check_vrp(c101, routes)
    assert not report.feasible
    assert any("after its window end" in v for v in report.violations)


# --------------------------------------------------------------------------- PVRP checker


@needs_data
def test_checker_accepts_reference_p01():
    inst, ref = parse_pvrp(P01), parse_pvrp_solution(P01_RES)
    report = check_pvrp(inst, ref)
    assert report.feasible, report.violations
    assert report.cost == pytest.approx(ref.cost, abs=0.005)
    # the reference omits customer 51 (at the depot); the checker serves it with a free vehicle
    assert any("customer 51" in note for note in report.notes)


@needs_data
def test_checker_rejects_corrupted_p01():
    inst, ref = parse_pvrp(P01), parse_pvrp_solution(P01_RES)
    day1_v1, day1_v2, day2_v1, *rest = ref.routes
    assert day1_v1.customers[0] == 8 and day2_v1.day == 1
    # customer 8 (once, on either day) also added to a day-2 route
    twice = replace(ref, routes=(day1_v1, day1_v2, replace(day2_v1, customers=(8, *day2_v1.customers)), *rest))
    report = check_pvrp(inst, twice)
    assert report.violations == (
        "day 2 vehicle 1: load 175 exceeds capacity 160",
        "customer 8: visit days [1, 2] are not an allowed combination",
    )
    # two day-1 routes merged into one vehicle
    merged = replace(ref, routes=(replace(day1_v1, customers=day1_v1.customers + day1_v2.customers), day2_v1, *rest))
    assert "day 1 vehicle 1: load 306 exceeds capacity 160" in check_pvrp(inst, merged).violations


# --------------------------------------------------------------------------- PVRP solver


def tiny_pvrp() -> PeriodicProblem:
    """Depot at the origin, 2 days, 1 vehicle of capacity 15 (three customers a day).

    Customers (x, y), demand 5 each:
      1: (0, 10)  on both days;   2: (0, 20), 3: (10, 0), 4: (20, 0): one day each, either.
    One day carries 1 and one single, the other 1 and two singles:
      {1,2} 0-1-2-0 = 40        + {1,3,4} 0-1-4-3-0 = 10 + 22.361 + 10 + 10 = 52.361 -> 92.361
      {1,3} 0-1-3-0 = 34.142    + {1,2,4} 0-1-2-4-0 = 10 + 10 + 28.284 + 20 = 68.284 -> 102.426
      {1,4} 0-1-4-0 = 52.361    + {1,2,3} 0-1-2-3-0 = 10 + 10 + 22.361 + 10 = 52.361 -> 104.721
    Optimum 92.361: customer 2 alone with 1, customers 3 and 4 together.
    """
    xy = np.array([[0, 0], [0, 10], [0, 20], [10, 0], [20, 0]], dtype=float)
    both, one = (frozenset({0, 1}),), (frozenset({0}), frozenset({1}))
    return PeriodicProblem.from_coordinates(
        xy,
        demand=np.array([0, 5, 5, 5, 5]),
        service=np.zeros(5),
        combos=((), both, one, one, one),
        n_days=2,
        n_vehicles=1,
        capacity=15,
    )


def test_periodic_solver_finds_the_hand_computed_optimum():
    sol = solve_periodic(tiny_pvrp(), time_limit_s=2, seed=0)
    assert sol.feasible
    assert sol.cost == pytest.approx(40 + 10 + np.hypot(20, 10) + 10 + 10, abs=1e-6)
    assert sol.combos[1] == frozenset({0, 1})
    assert sol.combos[3] == sol.combos[4] != sol.combos[2]


def test_periodic_solver_is_reproducible_with_max_iterations():
    a = solve_periodic(tiny_pvrp(), time_limit_s=2, seed=3, max_iterations=20)
    b = solve_periodic(tiny_pvrp(), time_limit_s=2, seed=3, max_iterations=20)
    assert a.routes == b.routes and a.cost == b.cost


def test_periodic_workers_keep_the_cheapest_of_their_searches():
    # Two workers = the searches of seeds 3 and 3 + WORKER_SEED_STEP at once; the cheaper is kept
    # and the iterations of both are counted.
    from planner.engine.periodic import WORKER_SEED_STEP

    a = solve_periodic(tiny_pvrp(), time_limit_s=2, seed=3, max_iterations=20)
    b = solve_periodic(tiny_pvrp(), time_limit_s=2, seed=3 + WORKER_SEED_STEP, max_iterations=20)
    two = solve_periodic(tiny_pvrp(), time_limit_s=2, seed=3, max_iterations=20, workers=2)
    assert two.feasible
    assert two.cost == min(a.cost, b.cost)
    assert two.iterations == a.iterations + b.iterations
    assert two.solve_time_s <= 2.0 + 0.5


def test_periodic_horizon_model_puts_pinned_visits_in_their_day_interval():
    # tiny_pvrp: customer 1 visits both days (pinned: one node per day), customers 2..4 one day
    # of two (free: no window, the kernel picks the day). Scale 1: span = largest travel time
    # (ceil(hypot(20, 20)) = 29) * (nodes 1 + 2 + 3 + 1 = 7) + service 0 + 1 = 204; day 0 is
    # [0, 204], day 1 is [204, 408].
    from types import SimpleNamespace

    from planner.engine.periodic import horizon_model

    p = tiny_pvrp()
    # the search state it reads: combination index per customer, routes per day and vehicle
    state = SimpleNamespace(choice={1: 0, 2: 0, 3: 1, 4: 1}, routes=[[[1, 2]], [[1, 3, 4]]])
    model, info, initial = horizon_model(p, state, scale=1.0)
    assert info == [(0, None), (1, 0), (1, 1), (2, None), (3, None), (4, None)]
    assert model.windows == ((), ((0, 204),), ((204, 408),), (), (), ())
    assert [(v.tw_start_s, v.tw_end_s) for v in model.vehicles] == [(0, 204), (204, 408)]
    assert model.allowed_vehicles is None  # every free customer may go on either day
    assert initial == [[1, 3], [2, 4, 5]]  # the warm start: day 0 = nodes of (1, day 0) and 2


def test_periodic_searches_meet_on_the_cheapest_solution():
    # Search 1 posts cost 5.0 ("B"), search 0 has 10.0 ("A"): search 0 takes "B", search 1 keeps
    # its own (returns None). An infeasible 1.0 loses to any feasible cost: (False, ...) < (True, ...).
    import queue

    from planner.engine.periodic import Exchange

    boxes = [queue.Queue(), queue.Queue()]
    boxes[0].put((0, 1, (False, 5.0), "B"))
    assert Exchange(0, boxes, deadline=1e18)(0, (False, 10.0), "A") == "B"
    assert Exchange(1, boxes, deadline=1e18)(0, (False, 5.0), "B") is None
    boxes = [queue.Queue(), queue.Queue()]
    boxes[0].put((3, 1, (True, 1.0), "B"))
    assert Exchange(0, boxes, deadline=1e18)(3, (False, 10.0), "A") is None
    # after the LNS phase search j takes the j-th best (rank j): two basins go on to the polish
    boxes = [queue.Queue(), queue.Queue()]
    boxes[0].put((0, 1, (False, 5.0), "B"))
    boxes[1].put((0, 0, (False, 10.0), "A"))
    assert Exchange(0, boxes, deadline=1e18)(0, (False, 10.0), "A", rank=0) == "B"
    assert Exchange(1, boxes, deadline=1e18)(0, (False, 5.0), "B", rank=1) == "A"


def east_west_day(n_vehicles: int, capacity: int):
    """Search state of one day with no route yet: depot at the origin, customers 1, 2 east
    (x = 10, 11) and 3, 4 west (x = -10, -11), demand 1 each."""
    from planner.engine.periodic import PeriodicState

    xy = np.array([[0, 0], [10, 0], [11, 0], [-10, 0], [-11, 0]], dtype=float)
    one = (frozenset({0}),)
    p = PeriodicProblem.from_coordinates(
        xy,
        demand=np.array([0, 1, 1, 1, 1]),
        service=np.zeros(5),
        combos=((), one, one, one, one),
        n_days=1,
        n_vehicles=n_vehicles,
        capacity=capacity,
    )
    return PeriodicState(p, np.random.default_rng(0))


def test_relocate_moves_a_customer_to_the_route_it_belongs_to():
    # One day, two vehicles of capacity 3. Customers 1, 2 lie east (x = 10, 11), 3, 4 west
    # (x = -10, -11). Route A = [1, 2, 3] carries a west customer, route B = [4]:
    # A 0-1-2-3-0 = 10 + 1 + 21 + 10 = 42, B 0-4-0 = 22. Moving 3 to B: A 0-1-2-0 = 22,
    # B 0-3-4-0 = 22, so 64 -> 44.
    s = east_west_day(n_vehicles=2, capacity=3)
    s.restore(([[[1, 2, 3], [4]]], {1: 0, 2: 0, 3: 0, 4: 0}))
    assert float(s.cost.sum()) == pytest.approx(64.0)
    assert s.relocate_descent(0) == 1
    assert sorted(map(sorted, s.routes[0])) == [[1, 2], [3, 4]]
    assert float(s.cost.sum()) == pytest.approx(44.0)
    assert s.relocate_descent(0) == 0  # a local optimum: nothing left to move
    s.rollback()  # the moves belong to the search's current transaction
    assert s.routes[0] == [[1, 2, 3], [4]]


def test_relocate_swaps_two_customers_when_no_single_move_fits():
    # Capacity 2 and full routes A = [1, 3], B = [4, 2] (each mixes east and west), plus an empty
    # third route. Moving one customer to the empty route saves nothing (3 alone: 20, saving 20;
    # 2 alone: 22, saving 22) and into the other full route it overloads it; swapping 1 and 4
    # (or 3 and 2) sorts the sides: 0-1-3-0 + 0-4-2-0 = 40 + 44 = 84 -> 22 + 22 = 44.
    s = east_west_day(n_vehicles=3, capacity=2)
    s.restore(([[[1, 3], [4, 2], []]], {1: 0, 2: 0, 3: 0, 4: 0}))
    assert float(s.cost.sum()) == pytest.approx(84.0)
    assert s.relocate_descent(0) == 1
    assert sorted(sorted(r) for r in s.routes[0] if r) == [[1, 2], [3, 4]]
    assert float(s.cost.sum()) == pytest.approx(44.0) and s.feasible()


def test_periodic_problem_names_bad_customer():
    with pytest.raises(ValueError, match="customer 2: combination \\[5\\] outside days 0..1"):
        replace(tiny_pvrp(), combos=((), (frozenset({0}),), (frozenset({5}),), (frozenset({0}),), (frozenset({1}),)))


# --------------------------------------------------------------------------- PyVRP backend


def _line_model(**kw) -> RoutingModel:
    """Depot 0 and nodes 1..3 on a line at 10, 20, 30; one vehicle."""
    x = np.array([0, 10, 20, 30])
    d = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    base = dict(
        time_s=(d,),
        dist_m=(d.copy(),),
        service_s=np.array([0, 5, 5, 5]),
        demand=np.array([0, 1, 1, 1]),
        windows=((), (), (), ()),
        penalty=np.array([MANDATORY, MANDATORY, MANDATORY, 100]),
        vehicles=(VehicleSpec(start=0, end=0, capacity=10),),
        horizon_s=1000,
    )
    base.update(kw)
    return RoutingModel(**base)


def test_pyvrp_backend_schedule_and_objective():
    from planner.engine.backend_pyvrp import solve_pyvrp

    res = solve_pyvrp(_line_model(windows=((), ((0, 50),), ((100, 110),), ((120, 200),))), 0.5, seed=0)
    assert res.status == "feasible" and res.objective == 60 and res.dropped == ()
    (route,) = res.routes
    starts = {v.node: v.start_s for v in route.visits[1:-1]}
    # the only feasible order: 1 at 10, wait for 2 until 100, 3 arrives at 115 and waits until 120
    assert [v.node for v in route.visits] == [0, 1, 2, 3, 0]
    assert starts == {1: 10, 2: 100, 3: 120}


def test_pyvrp_backend_drops_optional_node_and_group():
    from planner.engine.backend_pyvrp import solve_pyvrp

    model = _line_model(penalty=np.array([MANDATORY, MANDATORY, MANDATORY, 5]), groups=(NodeGroup((1, 2), MANDATORY),))
    res = solve_pyvrp(model, 0.5, seed=0)
    # visiting 3 costs 20 extra (30 -> 60 from 20 -> 40 round trip) > its penalty 5; one of 1, 2 suffices
    assert res.dropped == (2, 3) and res.objective == 20 + 5


def test_pyvrp_backend_refuses_what_it_cannot_express():
    from planner.engine.backend_pyvrp import solve_pyvrp

    model = _line_model(
        windows=((), ((0, 10), (50, 60)), (), ()),
        vehicles=(VehicleSpec(start=0, end=0, breaks=(Break(0, 100, 10),)),),
    )
    with pytest.raises(NotImplementedError, match="breaks.*several time windows per node \\(nodes \\[1\\]\\)"):
        solve_pyvrp(model, 0.1)


# --------------------------------------------------------------------------- CLI


@needs_data
def test_pvrp_cli_writes_a_readable_feasible_solution(tmp_path, capsys):
    out = tmp_path / "p01.res"
    code = pvrp_cli.main([str(P01), "--time-limit", "5", "--write-solution", str(out)])
    assert code == 0
    assert "feasible=True" in capsys.readouterr().out
    inst, sol = parse_pvrp(P01), parse_pvrp_solution(out)
    report = check_pvrp(inst, sol)
    assert report.feasible and report.cost == pytest.approx(sol.cost, abs=0.01)


def test_pvrp_cli_bad_file_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.write_text("4 1 1 1\n")
    assert pvrp_cli.main([str(bad), "--time-limit", "1"]) == 2
    assert "not 1 (PVRP)" in capsys.readouterr().err
