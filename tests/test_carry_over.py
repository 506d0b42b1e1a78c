"""Villages carried over from the last cycle get their first visit in the first week, or the plan says why.

A hand-checked two-week cycle with one working day a week (Monday 2026-11-30, week 1, and Monday
2026-12-07, week 2) and one van. Villages A and B lie 3 h from the depot in opposite directions
(6 h apart): a day holds one of them (3 h + 1.5 h service + 3 h + 1 h lunch = 8.5 h of a 10 h
shift; both would need 3 + 1.5 + 6 + 1.5 + 3 = 15 h), so each gets one Monday. B's market falls on
lunar day 22 = 2026-11-30 (2026-12-07 is lunar 29): a market-day visit is worth 25 % more, so
without a carry-over B takes week 1 and A week 2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from conftest import config

from planner.model.calendar import MarketDays
from planner.model.plan import LateVisit
from planner.model.problem import Problem
from planner.planning.checker import violations
from planner.planning.solve import solve

H = 3600
WEEK1, WEEK2 = "2026-11-30", "2026-12-07"


def two_mondays(carry_over=(), pins=(), a_market: MarketDays | None = None) -> Problem:
    """A and B (300 people each, one visit a cycle), 3 h from the depot each way, 6 h apart."""
    t = np.array([[0, 6 * H, 3 * H], [6 * H, 0, 3 * H], [3 * H, 3 * H, 0]], dtype=float)
    cfg = config(
        plan={"weeks": 2, "working_days": ["Mon"], "public_holidays": False, "carry_over": list(carry_over)},
        pins=list(pins),
    )
    problem = Problem.from_arrays(
        cfg,
        village_ids=["A", "B"],
        populations=[300, 300],
        site_ids=["DEPOT"],
        site_kinds=["depot"],
        time_s=t,
        dist_m=t * 10,  # 36 km/h
    )
    villages = (
        dataclasses.replace(problem.villages[0], market=a_market, market_required=a_market is not None),
        dataclasses.replace(problem.villages[1], market=MarketDays(lunar_days=frozenset({22}))),
    )
    return dataclasses.replace(problem, villages=villages)


def visit_dates(plan) -> dict[str, tuple[str, ...]]:
    return {v.village_id: v.visit_dates for v in plan.villages}


def test_without_a_carry_over_the_market_day_decides():
    problem = two_mondays()
    plan = solve(problem)
    assert violations(plan, problem) == []
    assert visit_dates(plan) == {"A": (WEEK2,), "B": (WEEK1,)}  # B on its market day
    assert plan.late == ()


def test_a_carried_over_village_takes_the_first_week():
    problem = two_mondays(carry_over=["A"])
    plan = solve(problem)
    assert violations(plan, problem) == []
    # A's first week is worth 100 x its visit, B's market day only 1.25 x: A first, B a week later
    assert visit_dates(plan) == {"A": (WEEK1,), "B": (WEEK2,)}
    assert plan.late == ()


def test_a_pinned_first_week_pushes_it_back_and_the_plan_says_why():
    # B pinned to week 1 (a pin outranks a carry-over): A's visit moves to week 2, week 1 being full
    problem = two_mondays(carry_over=["A"], pins=[{"village": "B", "date": WEEK1}])
    plan = solve(problem)
    assert violations(plan, problem) == []
    assert visit_dates(plan) == {"A": (WEEK2,), "B": (WEEK1,)}
    (late,) = plan.late
    assert (late.village_id, late.first_visit, late.reason) == ("A", WEEK2, "not_enough_time")
    assert "1 visit(s), 1 pinned and 0 to carried-over villages" in late.detail


def test_its_own_pin_after_the_first_week_is_the_reason():
    problem = two_mondays(carry_over=["A"], pins=[{"village": "A", "date": WEEK2}])
    plan = solve(problem)
    assert violations(plan, problem) == []
    assert visit_dates(plan)["A"] == (WEEK2,)
    assert [(x.village_id, x.reason) for x in plan.late] == [("A", "pinned")]


def test_a_market_it_must_keep_outside_the_first_week_is_the_reason():
    # A must be visited on its market day, lunar 29 = 2026-12-07: no first-week day can hold it
    problem = two_mondays(carry_over=["A"], a_market=MarketDays(lunar_days=frozenset({29})))
    plan = solve(problem)
    assert violations(plan, problem) == []
    assert visit_dates(plan) == {"A": (WEEK2,), "B": (WEEK1,)}
    assert [(x.village_id, x.reason) for x in plan.late] == [("A", "outside_its_hours")]


@pytest.mark.parametrize(
    "late, message",
    [
        # carried over, first visited in week 2, not listed
        ((), "[carry_over] village A: listed 0× as late; first visit 2026-12-07"),
        # listed with a reason that is false: A is pinned to nothing
        (
            (LateVisit("A", "A", "", 300, WEEK2, "pinned", "pinned"),),
            "[carry_over] village A: late with reason pinned, but no pin of ['A'] puts every visit after",
        ),
        # listed with the wrong first date
        (
            (LateVisit("A", "A", "", 300, WEEK1, "not_enough_time", ""),),
            "[carry_over] village A: first visit stated 2026-11-30, the stops give 2026-12-07",
        ),
    ],
)
def test_the_referee_wants_a_true_reason_for_a_late_carried_over_village(late, message):
    # the plan made without the carry-over (A in week 2) judged against a problem that carries A over
    plan = solve(two_mondays())
    problem = two_mondays(carry_over=["A"])
    found = violations(dataclasses.replace(plan, late=late), problem)
    assert [m for m in found if m.startswith(message)], found
    assert all(m.startswith("[carry_over]") for m in found), found


def test_next_cycle_puts_the_carry_over_list_in_the_config():
    cfg = config(plan={"weeks": 2, "carry_over": ["A", "B"]})
    assert cfg.plan.carry_over == ("A", "B")
    assert cfg.replace(plan={"carry_over": ["C"]}).plan.carry_over == ("C",)
    assert dt.date.fromisoformat(WEEK1) == cfg.start_date


def test_a_hand_edit_or_a_merge_keeps_the_late_list_true():
    # merge_plans (re-plan and hand edits) recomputes plan.late from the merged days: A still late
    from planner.workspace.replan import merge_plans

    problem = two_mondays(carry_over=["A"], pins=[{"village": "B", "date": WEEK1}])
    plan = solve(problem)
    empty = dataclasses.replace(plan, days=(), villages=(), unserved=(), late=())
    merged = merge_plans(plan, list(plan.days), empty, problem.start_date, set(), {}, problem)
    assert [x.village_id for x in merged.late] == ["A"]
    assert violations(merged, problem) == []
