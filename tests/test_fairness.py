"""The objective's fairness options, each on a hand-made instance with its answer in a comment."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import config, lon_at, plan_for, write_area
from shapely.geometry import box

from planner.io import load_area
from planner.model.fairness import fairness_figures, weighted_gini
from planner.planning.build import build_problem
from planner.planning.objective import village_weights, visit_value, walk_credit

NO_WEIGHTS = {"child_weight": 0.0, "remote_weight_per_h": 0.0, "disadvantaged_weight": 0.0}


def visited(plan) -> list[str]:
    return sorted(s.stop_id for d in plan.days for s in d.stops if s.kind == "village")


def town_and_bans(tmp_path):
    """B (1,217 people, 2 visits wanted) 1 km from the depot; five bản of 200 people 5-9 km the other way.

    One working day holds 540 min of work (10 h shift less 1 h lunch): five 90-min visits and
    the driving, not seven.
    """
    villages = [("B", "Phường", 1.0, 1217, None, 2)] + [
        (f"R{k}", f"Bản {k}", -4.0 - k, 200, None, 1) for k in range(1, 6)
    ]
    return load_area(
        write_area(tmp_path / "tb", villages=villages, roads=[("W", "commune", -10.0, 0.0), ("E", "commune", 0.0, 2.0)])
    )


@pytest.mark.parametrize(
    ("factor", "town_visits", "ban_visits"),
    [
        # every visit worth its people: B's repeat (1,217) beats a bản (200): B twice, 3 bản fit
        (1.0, 2, 3),
        # first visits ×10: a bản's first visit (2,000) beats B's repeat (1,217): B once, 4 bản
        (10.0, 1, 4),
    ],
)
def test_first_visits_before_repeats(tmp_path, factor, town_visits, ban_visits):
    area = town_and_bans(tmp_path)
    cfg = config(objective={**NO_WEIGHTS, "first_visit_factor": factor}, frequency={"min_spacing_days": 0.01})
    plan, _ = plan_for(area, cfg)
    got = visited(plan)
    assert (got.count("B"), len(got) - got.count("B")) == (town_visits, ban_visits)


def test_weights_by_hand(tmp_path):
    area = town_and_bans(tmp_path)
    cfg = config(objective={"child_weight": 1.0, "remote_weight_per_h": 0.5, "remote_weight_cap": 1.0})
    problem = build_problem(area, cfg)
    w = village_weights(problem)
    # B: 1,217 people + 405 children (1217 // 3), 1 km = 3 min from the depot: ×(1 + 0.5 × 0.05 h)
    assert w[0] == pytest.approx((1217 + 405) * (1 + 0.5 * 1 / 20), rel=2e-3)
    # R5: 200 + 66 children, 9 km = 27 min: ×(1 + 0.5 × 0.45 h)
    assert w[5] == pytest.approx((200 + 66) * (1 + 0.5 * 9 / 20), rel=2e-3)
    # a first visit counts first_visit_factor (10) times a repeat; penalty_per_person 100,000
    assert visit_value(problem, w, [5], [1.0], first=True) == pytest.approx(10 * 100_000 * w[5], abs=1)
    assert visit_value(problem, w, [5], [1.0], first=False) == pytest.approx(100_000 * w[5], abs=1)


def test_priority_and_disadvantaged_multiply(tmp_path):
    area = load_area(
        write_area(
            tmp_path / "pd",
            villages=[("A", "Bản A", 1.0, 100), ("D", "Bản D", -1.0, 100)],
            roads=[("R", "commune", -2.0, 2.0)],
            village_columns={"priority": [2.0, 1.0], "disadvantaged": [False, True]},
        )
    )
    problem = build_problem(area, config(objective={**NO_WEIGHTS, "disadvantaged_weight": 0.5}))
    assert list(village_weights(problem)) == [200.0, 150.0]  # 100 × priority 2; 100 × (1 + 0.5)


def test_walking_credit_falls_with_distance(tmp_path):
    area = town_and_bans(tmp_path)
    problem = build_problem(area, config(plan={"walk_limit_m": 2000}, objective={"walk_full_credit_m": 1000}))
    # full to 1 km, then linear to nothing at 2 km: 1.5 km counts half the people
    assert [walk_credit(problem, 0, d) for d in (0, 800, 1000, 1500, 2000, 2001)] == [1, 1, 1, 0.5, 0, 0]


def two_communes(tmp_path):
    """Commune 00001 east (four villages of 500 at 1-4 km); commune 00002 west (one of 100 at 9 km).

    One working day fits five visits at most; the east's 2,000 people outweigh the west's 100.
    """
    east = box(lon_at(-0.5), 21.5, lon_at(300), 22.5)
    west = box(lon_at(-300), 21.5, lon_at(-0.5), 22.5)
    villages = [(f"E{k}", f"Bản Thử {k}", float(k), 500) for k in range(1, 5)] + [("W1", "Bản Tây", -9.0, 100)]
    return load_area(
        write_area(
            tmp_path / "tc",
            villages=villages,
            roads=[("W", "commune", -10.0, 0.0), ("E", "commune", 0.0, 5.0)],
            communes=[("00001", "Xã Thử", east), ("00002", "Xã Tây", west)],
            village_columns={
                "commune_code": ["00001"] * 4 + ["00002"],
                "commune": ["Xã Thử"] * 4 + ["Xã Tây"],
            },
        )
    )


def test_commune_floor_serves_the_left_out_commune(tmp_path):
    area = two_communes(tmp_path)
    short_day = {"working_days": ["Mon"]}
    service = {"shift_start": "07:00", "shift_end": "15:00"}  # 7 h of work: four visits, not five
    plan, _ = plan_for(area, config(plan=short_day, service=service, objective=NO_WEIGHTS))
    assert "W1" not in visited(plan)  # without a floor the west commune is left out
    assert fairness_figures(plan)["worst_commune"] == "Xã Tây"
    assert fairness_figures(plan)["worst_commune_pct"] == 0.0
    floor = config(plan=short_day, service=service, objective={**NO_WEIGHTS, "commune_floor_pct": 50})
    plan, _ = plan_for(area, floor)
    assert "W1" in visited(plan)  # its weight was raised until it was served
    assert plan.run["commune_floor"]["below"] == []


def test_commune_floor_says_why_it_cannot_be_met(tmp_path):
    area = two_communes(tmp_path)
    # the west village is 9 km away on a road the van may not use: no plan can serve it
    cfg = config(
        objective={**NO_WEIGHTS, "commune_floor_pct": 50, "floor_rounds": 1},
        profiles={"van": {"dry": {"national": 40, "provincial": 30, "commune": 20, "track": 0}}},
    )
    area_track = two_communes_with_track(tmp_path)
    plan, _ = plan_for(area_track, cfg)
    (below,) = plan.run["commune_floor"]["below"]
    assert below["commune_code"] == "00002" and below["pct"] == 0.0
    assert below["why"].startswith(
        "only 0.0 % of its people live where the fleet can serve them: Bản Tây (unreachable)"
    )
    assert area is not None


def two_communes_with_track(tmp_path):
    east = box(lon_at(-0.5), 21.5, lon_at(300), 22.5)
    west = box(lon_at(-300), 21.5, lon_at(-0.5), 22.5)
    return load_area(
        write_area(
            tmp_path / "tt",
            villages=[("E1", "Bản Thử", 1.0, 500), ("W1", "Bản Tây", -9.0, 100)],
            roads=[("W", "track", -10.0, 0.0), ("E", "commune", 0.0, 5.0)],
            communes=[("00001", "Xã Thử", east), ("00002", "Xã Tây", west)],
            village_columns={"commune_code": ["00001", "00002"], "commune": ["Xã Thử", "Xã Tây"]},
        )
    )


def test_required_market_day_is_the_only_day(tmp_path):
    # Mon-Wed are working days; Bản Chợ's market is on Tuesdays and a visit must fall on one.
    area = load_area(
        write_area(
            tmp_path / "mk",
            villages=[("M", "Bản Chợ", 3.0, 300)],
            roads=[("R", "commune", 0.0, 5.0)],
            village_columns={"market_days": ["Tue"], "market_required": [True]},
        )
    )
    plan, _ = plan_for(area, config(plan={"working_days": ["Mon", "Tue", "Wed"]}))
    assert [d.date for d in plan.days for s in d.stops if s.kind == "village"] == [dt.date(2026, 12, 1)]


def test_lunar_market_day(tmp_path):
    # market on the 15th of the lunar month: Wednesday 2026-12-23 is the 15th of the 11th lunar month
    area = load_area(
        write_area(
            tmp_path / "lm",
            villages=[("M", "Bản Chợ", 3.0, 300)],
            roads=[("R", "commune", 0.0, 5.0)],
            village_columns={"market_days": ["lunar 15"], "market_required": [True]},
        )
    )
    cfg = config(plan={"start_date": "2026-12-21", "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"]})
    plan, _ = plan_for(area, cfg)
    assert [d.date for d in plan.days for s in d.stops if s.kind == "village"] == [dt.date(2026, 12, 23)]


def test_preferred_market_day_wins_when_time_allows(tmp_path):
    area = load_area(
        write_area(
            tmp_path / "pm",
            villages=[("M", "Bản Chợ", 3.0, 300)],
            roads=[("R", "commune", 0.0, 5.0)],
            village_columns={"market_days": ["Wed"]},
        )
    )
    plan, _ = plan_for(area, config(plan={"working_days": ["Mon", "Tue", "Wed"]}))
    assert [d.date for d in plan.days for s in d.stops if s.kind == "village"] == [dt.date(2026, 12, 2)]


def test_gini_by_hand():
    # two communes of equal size, covered 100 % and 0 %: Gini = 0.5; equal coverage: 0
    assert weighted_gini(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert weighted_gini(np.array([0.4, 0.4, 0.4]), np.array([1.0, 5.0, 2.0])) == 0.0
