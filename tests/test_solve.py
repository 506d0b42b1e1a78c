"""The weekly spine on tiny instances whose optimum is worked out by hand in the comments."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import config, lon_at, plan_for, write_area

from planner.io import load_area
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.network import travel_matrices
from planner.planning.solve import solve


def served(plan):
    return {v.village_id for v in plan.villages if v.channel != "unserved"}


def test_matrix_on_a_line(line_area):
    # 5 km of commune road at 20 km/h = 15 min = 900 s; V3 to V2 is 20 km = 3,600 s.
    m = travel_matrices(line_area, config().profile("van"))
    i = {s: m.index(s) for s in ("DEPOT", "V1", "V2", "V3")}
    assert m.time_s[i["DEPOT"], i["V1"]] == pytest.approx(900, rel=0.005)
    assert m.dist_m[i["DEPOT"], i["V1"]] == pytest.approx(5000, rel=0.005)
    assert m.time_s[i["V3"], i["V2"]] == pytest.approx(3600, rel=0.005)
    assert m.unreachable == ()
    # the leg's geometry runs along the road through the depot
    path = m.path_lonlat(i["V3"], i["V2"])
    assert path[0][0] == pytest.approx(lon_at(-10), abs=1e-6) and path[-1][0] == pytest.approx(lon_at(10), abs=1e-6)
    assert any(abs(x - lon_at(0)) < 1e-6 for x, _ in path)


def test_all_three_villages_in_one_day(line_area):
    # Any tour through V3 (-10 km) and V2 (+10 km) drives 40 km = 2.0 h at 20 km/h;
    # 3 stops x 1.5 h + 1 h lunch + 2 h = 7.5 h fits the 10 h shift: optimum serves all, 40 km.
    plan, _ = plan_for(line_area, config())
    assert served(plan) == {"V1", "V2", "V3"}
    s = plan.summary()
    assert s["distance_km"] == pytest.approx(40.0, rel=0.01)
    assert s["driving_h"] == pytest.approx(2.0, rel=0.01)
    assert s["population_served"] == 600
    assert plan.status == "ok" and plan.unserved == ()


def test_short_shift_keeps_the_most_people(line_area):
    # Shift 07:00-13:05 (365 min). V2+V3: 120 min driving + 180 service + 60 lunch = 360 -> fits, 500 people.
    # All three need 450 min; V1+V2 (400 people) and V1+V3 (300) fit but serve fewer: optimum = {V2, V3}.
    cfg = config(service={"shift_end": "13:05", "lunch_latest_end": "13:05"})
    plan, _ = plan_for(line_area, cfg)
    assert served(plan) == {"V2", "V3"}
    (u,) = plan.unserved
    assert u.village_id == "V1" and u.reason == "not_enough_time"
    assert "100 people" in u.detail


def far_area(tmp_path):
    # depot -- 140 km national road (3.5 h at 40 km/h) -- lodging L -- 10 km commune road (0.5 h) -- village F.
    # A day trip needs 8 h driving + 1.5 h service + 1 h lunch = 10.5 h > 10 h; with a night at L it fits.
    folder = write_area(
        tmp_path / "far",
        villages=[("F", "Bản Xa", 150.0, 400)],
        roads=[("N1", "national", 0.0, 140.0), ("C1", "commune", 140.0, 150.0)],
        sites=[("L", "Nhà văn hóa xã", "culture_centre", 140.0, True)],
    )
    return load_area(folder)


def test_overnight_trip_reaches_the_far_village(tmp_path):
    cfg = config(plan={"working_days": ["Mon", "Tue"]})
    plan, _ = plan_for(far_area(tmp_path), cfg)
    assert served(plan) == {"F"}
    assert plan.summary()["nights_away"] == 1
    kinds = [[s.kind for s in d.stops] for d in plan.days]
    assert kinds[0][-1] == "overnight" and plan.days[0].stops[-1].stop_id == "L"
    assert plan.days[1].stops[0].stop_id == "L" and kinds[1][-1] == "end"


def test_without_lodging_the_far_village_is_too_far(tmp_path):
    cfg = config(plan={"working_days": ["Mon", "Tue"]})
    cfg = cfg.replace(vehicles=[dict(cfg.to_dict()["vehicles"][0], overnight_kinds=["depot"])])
    plan, _ = plan_for(far_area(tmp_path), cfg)
    assert served(plan) == set()
    (u,) = plan.unserved
    assert u.reason == "too_far_for_shift"
    assert "10.5 h" in u.detail


def test_rainy_season_closes_the_track(tmp_path):
    # V4 sits at the end of a 5 km track; in the rainy season the van may not use tracks and the
    # nearest usable road is 5 km away (more than the 1.5 km it may be parked from a village).
    folder = write_area(
        tmp_path / "track",
        villages=[("V1", "Bản Một", 5.0, 100), ("V4", "Bản Bốn", 15.0, 250)],
        roads=[("R1", "commune", 0.0, 10.0), ("T1", "track", 10.0, 15.0)],
    )
    area = load_area(folder)
    dry, _ = plan_for(area, config())
    assert served(dry) == {"V1", "V4"}
    rainy, problem = plan_for(area, config(plan={"season": "rainy"}))
    assert served(rainy) == {"V1"}
    (u,) = rainy.unserved
    assert u.reason == "unreachable" and "rainy" in u.detail
    assert any("V4" in w or "Bản Bốn" in w for w in problem.warnings)


def test_capacity_limits_books(line_area):
    # 0.1 book per person, at least 20: V1 20, V2 30, V3 20 books. A van holding 45 books
    # can serve V2 + one of the others: the plan keeps V2 and V3 (500 people).
    cfg = config()
    cfg = cfg.replace(vehicles=[dict(cfg.to_dict()["vehicles"][0], capacity_books=50)])
    plan, _ = plan_for(line_area, cfg)
    assert served(plan) == {"V2", "V3"}
    assert plan.summary()["books"] == 50


def test_same_seed_same_plan(line_area):
    cfg = config()
    a, _ = plan_for(line_area, cfg)
    b, _ = plan_for(line_area, cfg)
    strip = lambda p: {k: v for k, v in p.to_dict().items() if k != "run"}  # noqa: E731
    assert strip(a) == strip(b)


def test_checker_catches_a_broken_plan(line_area):
    cfg = config()
    problem = build_problem(line_area, cfg)
    plan = solve(problem)
    day = plan.days[0]
    i = next(k for k, s in enumerate(day.stops) if s.kind == "village")
    late = dataclasses.replace(
        day.stops[i],
        arrival=day.stops[i].arrival.replace(hour=17, minute=30),
        departure=day.stops[i].departure.replace(hour=19),
    )
    broken_day = dataclasses.replace(day, stops=day.stops[:i] + (late,) + day.stops[i + 1 :])
    broken = dataclasses.replace(plan, days=(broken_day,) + plan.days[1:])
    msgs = violations(broken, problem)
    assert any("after the shift end" in m for m in msgs)
    twice = dataclasses.replace(day, stops=day.stops + (day.stops[i],))
    msgs = violations(dataclasses.replace(plan, days=(twice,)), problem)
    assert any("van visits" in m for m in msgs)
