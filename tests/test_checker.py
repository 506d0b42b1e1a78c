"""The checker is an independent referee: a good plan passes, and each rule, broken alone, fires alone.

The instance (a road east and west of the depot, split at every village so that the
network's vertices are the villages)::

    T(-50, track)  ··· W1(-10) ─── DEPOT(0) ─ A(5) ─ W(6) ─ B(10) ─ X(20) ─ FP1/FP2(20.5) ─ 40 ─ L/L2(88) ─ F(90)
                                                                                      │
                                                                          U (5.5 km up a national road)

- the van drives commune roads at 20 km/h and tracks at 10 km/h, and may not use national roads;
- W walks 1 km to A's stop; B needs two visits in the cycle (Tue and Thu, two days apart);
- X is covered by the fixed points FP1 and FP2 (same place; FP1 comes first and is restocked);
- F, 4.5 h out, is reached with a night at the culture centre L (or L2, at the same place);
- U is unreachable (national road), T too far for a shift (4.5 h each way on the track);
- A states a time window that covers the whole shift.

Each break changes the good plan (or, for a limit, the problem) in one way, and must make
exactly its rule fire. Where a figure also feeds a total, the break moves it between two
stops so that the total stays true.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
from pathlib import Path

import hypothesis.strategies as st
import pytest
from conftest import config, lon_at, write_area
from hypothesis import HealthCheck, given, settings

from planner.io import load_area
from planner.model.calendar import parse_term, parse_time_windows
from planner.model.plan import Day, LateVisit, Plan
from planner.model.problem import Problem
from planner.planning import checker
from planner.planning.build import build_problem
from planner.planning.checker import RULES, violations
from planner.planning.solve import solve

EAST = [0.0, 5.0, 6.0, 10.0, 20.0, 20.5, 40.0, 88.0, 90.0]
VILLAGES = [
    ("A", "Bản A", 5.0, 200, None, 1),
    ("W", "Bản W", 6.0, 100, None, 1),
    ("B", "Bản B", 10.0, 400, None, 2),
    ("X", "Bản X", 20.0, 150, None, 1),
    ("F", "Bản F", 90.0, 300, None, 1),
    ("U", "Bản U", 40.0, 80, 22.05, 1),
    ("T", "Bản T", -50.0, 120, None, 1),
]
ROADS = [(f"E{k}", "commune", a, b) for k, (a, b) in enumerate(zip(EAST, EAST[1:]))] + [
    ("W1", "commune", -10.0, 0.0),
    ("W2", "track", -50.0, -10.0),
    ("N1", "national", 0, 0, [(lon_at(40.0), 22.0), (lon_at(40.0), 22.05)]),
]
SITES = [
    ("L", "Nhà văn hóa L", "culture_centre", 88.0, True),
    ("L2", "Nhà văn hóa L2", "culture_centre", 88.0, True),
    ("FP1", "Điểm sách 1", "learning_centre", 20.5, False, 1000),
    ("FP2", "Điểm sách 2", "learning_centre", 20.5, False, 1000),
]
VAN_NO_NATIONAL = {"van": {"dry": {"national": 0, "provincial": 30, "commune": 20, "track": 10}}}
MINUTES = 10


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Plan, Problem]:
    folder = write_area(tmp_path_factory.mktemp("referee"), VILLAGES, ROADS, SITES)
    area = load_area(folder)
    windows = ["07:00-17:00"] + [None] * (len(VILLAGES) - 1)
    area = dataclasses.replace(area, villages=area.villages.assign(time_window=windows))
    cfg = config(
        plan={
            "working_days": ["Mon", "Tue", "Thu"],
            "walk_limit_m": 2000,
            "fixed_points": True,
            "first_solution": "savings",
        },
        profiles=VAN_NO_NATIONAL,
    )
    problem = build_problem(area, cfg)
    return solve(problem), problem


def tags(messages: list[str]) -> set[str]:
    return {m[1 : m.index("]")] for m in messages}


# --------------------------------------------------------------------------- editing a plan


def day_index(plan: Plan, test) -> int:
    return next(k for k, d in enumerate(plan.days) if test(d))


def stop_index(day: Day, test) -> int:
    return next(k for k, s in enumerate(day.stops) if test(s))


def with_day(plan: Plan, k: int, day: Day) -> Plan:
    return dataclasses.replace(plan, days=plan.days[:k] + (day,) + plan.days[k + 1 :])


def edit_stops(plan: Plan, k: int, edits: dict[int, dict]) -> Plan:
    """Replace fields of stops ``edits[seq]`` on day ``k``."""
    day = plan.days[k]
    stops = tuple(dataclasses.replace(s, **edits[i]) if i in edits else s for i, s in enumerate(day.stops))
    return with_day(plan, k, dataclasses.replace(day, stops=stops))


def edit_record(plan: Plan, village_id: str, **kw) -> Plan:
    return dataclasses.replace(
        plan, villages=tuple(dataclasses.replace(v, **kw) if v.village_id == village_id else v for v in plan.villages)
    )


def edit_unserved(plan: Plan, village_id: str, **kw) -> Plan:
    return dataclasses.replace(
        plan, unserved=tuple(dataclasses.replace(u, **kw) if u.village_id == village_id else u for u in plan.unserved)
    )


def edit_vehicle(problem: Problem, **kw) -> Problem:
    return dataclasses.replace(problem, vehicles=tuple(dataclasses.replace(v, **kw) for v in problem.vehicles))


def edit_site(problem: Problem, site_id: str, **kw) -> Problem:
    sites = tuple(dataclasses.replace(s, **kw) if s.id == site_id else s for s in problem.sites)
    return dataclasses.replace(problem, sites=sites)


def edit_village(problem: Problem, village_id: str, **kw) -> Problem:
    villages = tuple(dataclasses.replace(v, **kw) if v.id == village_id else v for v in problem.villages)
    return dataclasses.replace(problem, villages=villages)


def later(t: dt.datetime, minutes: float) -> dt.datetime:
    return t + dt.timedelta(minutes=minutes)


def walk_day(plan: Plan) -> int:
    return day_index(plan, lambda d: any(s.walkers for s in d.stops))


def night_day(plan: Plan) -> int:
    return day_index(plan, lambda d: d.stops[-1].kind == "overnight")


def two_visits(day: Day) -> tuple[int, int]:
    i, j = [k for k, s in enumerate(day.stops) if s.kind == "village"][:2]
    return i, j


# --------------------------------------------------------------------------- the breaks


def break_seq(plan, problem):
    return edit_stops(plan, 0, {1: {"seq": 7}}), problem


def break_week(plan, problem):
    return with_day(plan, 0, dataclasses.replace(plan.days[0], week=2)), problem


def break_empty_day(plan, problem):
    monday = Day(plan.days[0].vehicle, dt.date(2026, 11, 30), 1, (), ())
    return dataclasses.replace(plan, days=(monday, *plan.days)), problem


def break_books(plan, problem):
    """Swap the books of two stops of one day: each is wrong, the total is not."""
    k = walk_day(plan)
    i, j = two_visits(plan.days[k])
    a, b = plan.days[k].stops[i].books, plan.days[k].stops[j].books
    assert a != b
    return edit_stops(plan, k, {i: {"books": b}, j: {"books": a}}), problem


def break_people(plan, problem):
    k = walk_day(plan)
    i, _ = two_visits(plan.days[k])
    return edit_stops(plan, k, {i: {"population_served": plan.days[k].stops[i].population_served + 50}}), problem


def break_walk_limit(plan, problem):
    return plan, dataclasses.replace(problem, config=problem.config.replace(plan={"walk_limit_m": 500}))


def break_walkers_list(plan, problem):
    k = walk_day(plan)
    i = stop_index(plan.days[k], lambda s: s.walkers)
    return edit_stops(plan, k, {i: {"walkers": ()}}), problem


def break_travel_time(plan, problem):
    """Move minutes of driving from one leg to the next: both legs disagree with the matrix."""
    k = walk_day(plan)
    n = len(plan.days[k].stops)
    a, b = plan.days[k].stops[n - 2], plan.days[k].stops[n - 1]
    moved = {n - 2: {"travel_min": a.travel_min + MINUTES}, n - 1: {"travel_min": b.travel_min - MINUTES}}
    return edit_stops(plan, k, moved), problem


def break_travel_km(plan, problem):
    k = walk_day(plan)
    n = len(plan.days[k].stops)
    a, b = plan.days[k].stops[n - 2], plan.days[k].stops[n - 1]
    return edit_stops(plan, k, {n - 2: {"travel_km": a.travel_km + 2}, n - 1: {"travel_km": b.travel_km - 2}}), problem


def break_service(plan, problem):
    """The first visit ends 10 min early and the next starts 10 min early: two wrong durations, same total."""
    k = walk_day(plan)
    day = plan.days[k]
    i, j = two_visits(day)
    edits = {i: {"departure": later(day.stops[i].departure, -MINUTES)}}
    for m in range(i + 1, j):
        s = day.stops[m]
        edits[m] = {"arrival": later(s.arrival, -MINUTES), "departure": later(s.departure, -MINUTES)}
    edits[j] = {"arrival": later(day.stops[j].arrival, -MINUTES)}
    return edit_stops(plan, k, edits), problem


def break_shift(plan, problem):
    k = walk_day(plan)
    end = plan.days[k].stops[-1]
    late = end.arrival.replace(hour=17, minute=30)
    return edit_stops(plan, k, {len(plan.days[k].stops) - 1: {"arrival": late, "departure": late}}), problem


def break_window(plan, problem):
    return plan, edit_village(problem, "A", time_windows=parse_time_windows("07:00-08:00"))


def break_window_weekday(plan, problem):
    return plan, edit_village(problem, "A", time_windows=parse_time_windows("Mon 07:00-17:00"))


def break_lunch(plan, problem):
    k = walk_day(plan)
    i = stop_index(plan.days[k], lambda s: s.kind == "lunch")
    return edit_stops(plan, k, {i: {"departure": later(plan.days[k].stops[i].departure, -MINUTES)}}), problem


def break_driving(plan, problem):
    return plan, edit_vehicle(problem, max_driving_h_per_day=4.0)


def break_capacity(plan, problem):
    return plan, edit_vehicle(problem, capacity_books=100)


def break_lodging(plan, problem):
    slept = plan.days[night_day(plan)].stops[-1].stop_id
    return plan, edit_site(problem, slept, lodging=False)


def break_overnight_kinds(plan, problem):
    return plan, edit_vehicle(problem, overnight_kinds=("depot",))


def break_chain(plan, problem):
    """The morning after a night at L starts at L2 (the same place, another bed)."""
    k = night_day(plan)
    slept = plan.days[k].stops[-1].stop_id
    other = {"L": "L2", "L2": "L"}[slept]
    return edit_stops(plan, k + 1, {0: {"stop_id": other}}), problem


def break_idle_day_away(plan, problem):
    """Wednesday is a working day too: the crew would spend it at the lodging with no plan."""
    wed = dt.date(2026, 12, 2)
    dates = tuple(sorted((*problem.dates, wed)))
    return plan, dataclasses.replace(problem, dates=dates, weeks=(dates,))


def break_channel(plan, problem):
    return edit_record(plan, "W", served_by=("B",)), problem


def break_record_name(plan, problem):
    return edit_record(plan, "A", name="Bản Khác"), problem


def break_visits(plan, problem):
    return edit_record(plan, "A", visits=2), problem


def break_visit_dates(plan, problem):
    (rec,) = [v for v in plan.villages if v.village_id == "B"]
    return edit_record(plan, "B", visit_dates=(rec.visit_dates[0], "2026-12-02")), problem


def break_spacing(plan, problem):
    return plan, dataclasses.replace(problem, config=problem.config.replace(frequency={"min_spacing_days": 5}))


def break_restock(plan, problem):
    """The restock moves from FP1 to FP2 (the same place): X names a point that was never restocked."""
    k = day_index(plan, lambda d: any(s.kind == "site" for s in d.stops))
    i = stop_index(plan.days[k], lambda s: s.kind == "site")
    return edit_stops(plan, k, {i: {"stop_id": "FP2"}}), problem


def break_reason_too_far(plan, problem):
    return edit_unserved(plan, "T", reason="not_enough_time"), problem


def break_reason_unreachable(plan, problem):
    return edit_unserved(plan, "U", reason="not_enough_time"), problem


def break_reason_reachable(plan, problem):
    return edit_unserved(plan, "T", reason="unreachable"), problem


def break_unserved_list(plan, problem):
    return dataclasses.replace(plan, unserved=tuple(u for u in plan.unserved if u.village_id != "T")), problem


def break_late_not_carried(plan, problem):
    # A is not carried over (no [plan] carry_over), yet listed as a late carried-over village
    late = LateVisit("A", "Bản A", "Xã Thử", 200, "2026-12-03", "not_enough_time", "")
    return dataclasses.replace(plan, late=(late,)), problem


def break_summary_total(plan, problem):
    return dataclasses.replace(plan, population_total=plan.population_total + 1), problem


def break_status(plan, problem):
    return dataclasses.replace(plan, status="ok"), problem


@functools.cache
def school_plan() -> tuple[Plan, Problem]:
    """A second, tiny instance with a school session: the depot, village V and school S 15 min apart
    (from plain arrays), S in term all cycle and open Mon-Fri 07:30-16:30."""
    cfg = config()
    t = [[0, 900, 900], [900, 0, 60], [900, 60, 0]]
    d = [[0, 5000, 5000], [5000, 0, 300], [5000, 300, 0]]
    problem = Problem.from_arrays(
        cfg,
        village_ids=["V"],
        populations=[90],
        site_ids=["DEPOT", "S"],
        site_kinds=["depot", "school"],
        time_s=t,
        dist_m=d,
    )
    problem = edit_site(
        problem, "S", term=parse_term("2026-09-05..2027-01-16"), hours=parse_time_windows("Mon-Fri 07:30-16:30")
    )
    plan = solve(problem)
    assert any(s.stop_id == "S" for d in plan.days for s in d.stops) and violations(plan, problem) == []
    return plan, problem


def break_school_term(plan, problem):
    """The school's term ended the day before its session (the plan is the tiny school instance's)."""
    plan, problem = school_plan()
    return plan, edit_site(problem, "S", term=parse_term("2026-09-05..2026-11-29"))


BREAKS = [
    ("day", break_seq),
    ("day", break_week),
    ("day", break_empty_day),
    ("books", break_books),
    ("served", break_people),
    ("walk", break_walk_limit),
    ("walk", break_walkers_list),
    ("travel", break_travel_time),
    ("travel", break_travel_km),
    ("service", break_service),
    ("shift", break_shift),
    ("window", break_window),
    ("window", break_window_weekday),
    ("lunch", break_lunch),
    ("driving", break_driving),
    ("capacity", break_capacity),
    ("lodging", break_lodging),
    ("lodging", break_overnight_kinds),
    ("chain", break_chain),
    ("chain", break_idle_day_away),
    ("channel", break_channel),
    ("channel", break_record_name),
    ("visits", break_visits),
    ("visits", break_visit_dates),
    ("spacing", break_spacing),
    ("restock", break_restock),
    ("school", break_school_term),
    ("unserved", break_reason_too_far),
    ("unserved", break_reason_unreachable),
    ("unserved", break_reason_reachable),
    ("unserved", break_unserved_list),
    ("carry_over", break_late_not_carried),
    ("summary", break_summary_total),
    ("summary", break_status),
]


def test_the_good_plan_passes_and_has_every_feature_the_breaks_need(good):
    plan, problem = good
    assert violations(plan, problem) == []
    kinds = [s.kind for d in plan.days for s in d.stops]
    assert "overnight" in kinds and "site" in kinds
    assert any(s.kind == "lunch" and not s.stop_id for d in plan.days for s in d.stops), "a roadside lunch"
    assert {v.village_id: v.channel for v in plan.villages} == {
        "A": "van_stop",
        "W": "walk",
        "B": "van_stop",
        "X": "fixed_point",
        "F": "van_stop",
        "U": "unserved",
        "T": "unserved",
    }
    assert {u.village_id: u.reason for u in plan.unserved} == {"U": "unreachable", "T": "too_far_for_shift"}


def test_every_rule_has_a_break():
    assert {tag for tag, _ in BREAKS} == set(RULES)


#: Breaks that also change what the plan's totals should be: a walker beyond its walking limit
#: earns no walking credit, so the people counted as served fall too.
ALSO = {"walk_limit": {"summary"}}


@pytest.mark.parametrize("rule, breaker", BREAKS, ids=[f"{t}-{b.__name__[6:]}" for t, b in BREAKS])
def test_one_break_fires_one_rule(good, rule, breaker):
    plan, problem = breaker(*good)
    found = violations(plan, problem)
    expected = {rule} | ALSO.get(breaker.__name__[6:], set())
    assert tags(found) == expected, found
    assert all(any(m.startswith(f"[{t}] ") for t in expected) for m in found)


def test_messages_name_the_rule_and_the_place(good):
    plan, problem = break_books(*good)
    found = violations(plan, problem)
    assert len(found) == 2
    k = walk_day(plan)
    i, _ = two_visits(plan.days[k])
    s = plan.days[k].stops[i]
    assert f"[books] van1 {plan.days[k].date} #{s.seq} {s.stop_id}: {s.books} books, expected " in found[0]


# --------------------------------------------------------------------------- a referee that never falls over

KNOWN_IDS = [v[0] for v in VILLAGES] + [s[0] for s in SITES] + ["DEPOT", "", "NOWHERE"]
FIELDS = {
    "seq": st.integers(-1, 9),
    "kind": st.sampled_from(["start", "village", "site", "lunch", "overnight", "end", "picnic"]),
    "stop_id": st.sampled_from(KNOWN_IDS),
    "arrival": st.integers(-900, 900),
    "departure": st.integers(-900, 900),
    "travel_min": st.floats(-100, 1000),
    "travel_km": st.floats(-10, 500),
    "books": st.integers(-5, 500),
    "villages_served": st.lists(st.sampled_from(KNOWN_IDS), max_size=3).map(tuple),
    "walkers": st.lists(st.sampled_from(KNOWN_IDS), max_size=2).map(tuple),
}


@st.composite
def mutations(draw):
    out = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(FIELDS)))
        out.append((draw(st.integers(0, 10)), draw(st.integers(0, 10)), name, draw(FIELDS[name])))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=mutations())
def test_the_referee_reads_any_plan_without_falling_over(good, edits):
    plan, problem = good
    for k, i, name, value in edits:
        k %= len(plan.days)
        i %= len(plan.days[k].stops)
        if name in ("arrival", "departure"):
            value = later(getattr(plan.days[k].stops[i], name), value)
        plan = edit_stops(plan, k, {i: {name: value}})
    found = violations(plan, problem)
    assert tags(found) <= set(RULES)


def test_the_referee_shares_no_code_with_the_solver():
    """The checker imports only the model's plain data types and rules, never the solver's code."""
    tree = ast.parse(Path(checker.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    ours = {m for m in imported if m.startswith("planner")}
    assert ours and all(m.startswith("planner.model.") for m in ours), ours


def test_a_wrong_figure_that_feeds_the_totals_shows_in_the_day_and_plan_summaries(good):
    plan, problem = good
    k = walk_day(plan)
    i, _ = two_visits(plan.days[k])
    found = violations(edit_stops(plan, k, {i: {"books": plan.days[k].stops[i].books + 5}}), problem)
    assert tags(found) == {"books", "summary"}
    day = f"[summary] van1 {plan.days[k].date}: books = "
    assert any(m.startswith(day) for m in found) and any(m.startswith("[summary] plan: books = ") for m in found)
