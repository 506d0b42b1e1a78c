"""The full planning model on tiny instances: walking, frequencies, fixed points, mixed fleet, calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import config, plan_for, write_area

from planner.io import load_area
from planner.model.config import load_config
from planner.model.errors import InputError
from planner.model.problem import visits_required


def channels(plan):
    return {v.village_id: v.channel for v in plan.villages}


def test_one_stop_serves_a_cluster_on_foot(tmp_path):
    # A (300 people, +5 km) and B (100, +6 km) are 1 km apart on the road: with a 2 km walk one
    # stop at the larger village serves both (fewest stops, ties to larger villages); C at +10 km
    # is 4 km from A: its own stop.
    area = load_area(
        write_area(
            tmp_path / "walk",
            villages=[("A", "Bản A", 5.0, 300), ("B", "Bản B", 6.0, 100), ("C", "Bản C", 10.0, 80)],
            roads=[("R1", "commune", 0.0, 5.0), ("R2", "commune", 5.0, 6.0), ("R3", "commune", 6.0, 10.0)],
        )
    )
    plan, _ = plan_for(area, config(plan={"walk_limit_m": 2000}))
    assert channels(plan) == {"A": "van_stop", "B": "walk", "C": "van_stop"}
    stop_a = next(s for d in plan.days for s in d.stops if s.stop_id == "A")
    assert stop_a.walkers == ("B",) and stop_a.population_served == 400
    assert plan.summary()["stops"] == 2


def test_frequency_two_visits_spaced_a_week_apart(tmp_path):
    # Two-week cycle, Mondays only: V needs 2 visits -> both Mondays (7 days apart >= 0.6*14/2 = 4.2).
    area = load_area(
        write_area(tmp_path / "f", villages=[("V", "Bản V", 5.0, 300, 0.0, 2)], roads=[("R", "commune", 0.0, 5.0)])
    )
    plan, _ = plan_for(area, config(plan={"weeks": 2}))
    (v,) = plan.villages
    assert v.visits == 2 and v.visit_dates == ("2026-11-30", "2026-12-07")
    assert plan.unserved == ()


def test_frequency_short_is_reported_with_visits(tmp_path):
    # One Monday only but 2 visits required: gets 1 of 2, reported with both numbers.
    area = load_area(
        write_area(tmp_path / "f1", villages=[("V", "Bản V", 5.0, 300, 0.0, 2)], roads=[("R", "commune", 0.0, 5.0)])
    )
    plan, _ = plan_for(area, config())
    (u,) = plan.unserved
    assert (u.visits, u.visits_required, u.reason) == (1, 2, "not_enough_time")
    assert "got 1 of 2" in u.detail


def test_default_frequency_rule_scales_with_the_cycle():
    cfg4 = load_config(None, {"plan": {"weeks": 4}})
    cfg1 = load_config(None, {"plan": {"weeks": 1}})
    assert visits_required({"population": 700}, cfg4) == 2  # >= 600 people: fortnightly
    assert visits_required({"population": 200}, cfg4) == 1
    assert visits_required({"population": 700}, cfg1) == 1  # at least once, scaled down
    assert visits_required({"population": 700, "visits_per_cycle": 3}, cfg4) == 3


def fixed_point_area(tmp_path):
    # Culture centre CC at +5 km covering 3 km; A at +6 km (1 km from CC), Z at +20 km outside.
    return load_area(
        write_area(
            tmp_path / "fp",
            villages=[("A", "Bản A", 6.0, 250), ("Z", "Bản Z", 20.0, 90)],
            roads=[("R1", "commune", 0.0, 5.0), ("R2", "commune", 5.0, 6.0), ("R3", "commune", 6.0, 20.0)],
            sites=[("CC", "Trung tâm VH xã", "culture_centre", 5.0, True, 3000, True)],
        )
    )


def test_fixed_point_serves_nearby_villages_when_restocked(tmp_path):
    plan, _ = plan_for(fixed_point_area(tmp_path), config(plan={"fixed_points": True}))
    ch = channels(plan)
    assert ch["A"] == "fixed_point" and ch["Z"] == "van_stop"
    restock = [s for d in plan.days for s in d.stops if s.kind == "site"]
    assert [s.stop_id for s in restock] == ["CC"] and restock[0].books == 100
    off, _ = plan_for(fixed_point_area(tmp_path), config(plan={"fixed_points": False}))
    assert channels(off) == {"A": "van_stop", "Z": "van_stop"}


def test_motorbike_reaches_the_track_village(tmp_path):
    # T sits 5 km up a track: the van may not use tracks, a motorbike may.
    folder = write_area(
        tmp_path / "mb",
        villages=[("V", "Bản V", 5.0, 300), ("T", "Bản T", 15.0, 120)],
        roads=[("R", "commune", 0.0, 10.0), ("K", "track", 10.0, 15.0)],
    )
    area = load_area(folder)
    van_only = config(profiles={"van": {"dry": {"national": 40, "provincial": 30, "commune": 20, "track": 0}}})
    plan, _ = plan_for(area, van_only)
    assert channels(plan) == {"V": "van_stop", "T": "unserved"}
    assert plan.unserved[0].reason == "unreachable"
    mixed = van_only.replace(
        vehicles=[
            dict(van_only.to_dict()["vehicles"][0]),
            {
                "id": "moto1",
                "profile": "motorbike",
                "capacity_books": 120,
                "depot": "DEPOT",
                "overnight_kinds": ["depot"],
            },
        ]
    )
    plan, _ = plan_for(area, mixed)
    assert channels(plan) == {"V": "van_stop", "T": "van_stop"}
    by_vehicle = {s.stop_id: d.vehicle for d in plan.days for s in d.stops if s.kind == "village"}
    assert by_vehicle["T"] == "moto1"


def test_holidays_and_working_days_make_the_calendar():
    cfg = load_config(None, {"plan": {"start_date": "2026-12-28", "weeks": 2, "holidays": ["2027-01-01"]}})
    dates = cfg.working_dates()
    assert dt.date(2027, 1, 1) not in dates and len(dates) == 9
    assert all(d.weekday() < 5 for d in dates)


def test_bad_config_lists_every_problem():
    with pytest.raises(InputError) as err:
        load_config(
            None,
            {"plan": {"weeks": 9, "season": "monsoon", "start_date": "30/11/2026"}, "service": {"shift_start": "7h"}},
        )
    msg = str(err.value)
    for part in ("'weeks' = 9", "'season' = 'monsoon'", "'start_date' = '30/11/2026'", "'shift_start' = '7h'"):
        assert part in msg
    assert msg.startswith("4 problems")


def test_max_driving_hours_per_day(tmp_path):
    # V at +60 km: 3 h each way at 20 km/h = 6 h driving in a day. With a 5 h limit and no lodging
    # it cannot be served; with 6.5 h it can.
    area = load_area(
        write_area(tmp_path / "md", villages=[("V", "Bản V", 60.0, 300)], roads=[("R", "commune", 0.0, 60.0)])
    )
    cfg = config()
    short = cfg.replace(vehicles=[dict(cfg.to_dict()["vehicles"][0], max_driving_h_per_day=5)])
    plan, _ = plan_for(area, short)
    assert channels(plan) == {"V": "unserved"}
    (why,) = plan.unserved
    # the reason is the driving limit, with its numbers: 6.0 h there and back > 5.0 h a day
    assert why.reason == "too_far_for_shift"
    assert "6.0 h of driving there and back, more than the 5.0 h of driving" in why.detail
    longer = cfg.replace(vehicles=[dict(cfg.to_dict()["vehicles"][0], max_driving_h_per_day=6.5)])
    plan, _ = plan_for(area, longer)
    assert channels(plan) == {"V": "van_stop"}
