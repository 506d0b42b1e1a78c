"""The district's calendar in the planner: village hours, vehicle hours by weekday, public holidays.

Every plan is refereed by the independent checker (``plan_for``).
"""

from __future__ import annotations

import datetime as dt

from conftest import config, plan_for, write_area

from planner.io import load_area


def visit_times(plan, village_id):
    return [
        (d.date, s.arrival.time(), s.departure.time())
        for d in plan.days
        for s in d.stops
        if s.stop_id == village_id and s.kind == "village"
    ]


def test_a_village_open_14_to_16_gets_its_visit_then(tmp_path):
    # V1 (+5 km, 15 min) is open only 14:00-16:00; V2 (+10 km) any time. A 90-min visit to V1
    # must start between 14:00 and 14:30, although the van would reach it first at 07:15.
    area = load_area(
        write_area(
            tmp_path / "tw",
            villages=[("V1", "Bản Một", 5.0, 100), ("V2", "Bản Hai", 10.0, 300)],
            roads=[("R1", "commune", 0.0, 10.0)],
            village_columns={"time_windows": ["14:00-16:00", None]},
        )
    )
    plan, problem = plan_for(area, config())
    ((date, arrival, departure),) = visit_times(plan, "V1")
    assert dt.time(14, 0) <= arrival and departure <= dt.time(16, 0)
    assert problem.village_windows("V1", date) == ((14 * 60, 16 * 60),)
    assert visit_times(plan, "V2")  # the other village is still served


def test_weekday_windows_pick_the_right_day(tmp_path):
    # Mon and Tue are working days; V1 may be visited on Tuesdays only.
    area = load_area(
        write_area(
            tmp_path / "wd",
            villages=[("V1", "Bản Một", 5.0, 100)],
            roads=[("R1", "commune", 0.0, 10.0)],
            village_columns={"time_windows": ["Tue 07:00-17:00"]},
        )
    )
    plan, _ = plan_for(area, config(plan={"working_days": ["Mon", "Tue"]}))
    ((date, _, _),) = visit_times(plan, "V1")
    assert date == dt.date(2026, 12, 1)  # Tuesday


def test_village_hours_that_never_meet_the_fleet_are_explained(tmp_path):
    area = load_area(
        write_area(
            tmp_path / "never",
            villages=[("V1", "Bản Một", 5.0, 100)],
            roads=[("R1", "commune", 0.0, 10.0)],
            village_columns={"time_windows": ["Sun 07:00-17:00"]},
        )
    )
    plan, _ = plan_for(area, config())
    (u,) = plan.unserved
    assert u.reason == "outside_its_hours" and "Sun" not in u.detail and "07:00-17:00" in u.detail


def test_an_evening_session_vehicle_serves_after_school(tmp_path):
    # One vehicle working Mon 16:30-19:30 (no lunch in an evening session): the visit to V1
    # (15 min away) starts at 16:45 at the earliest and ends by 19:30.
    area = load_area(
        write_area(tmp_path / "eve", villages=[("V1", "Bản Một", 5.0, 100)], roads=[("R1", "commune", 0.0, 10.0)])
    )
    cfg = config(vehicles=[{"id": "eve", "hours": "Mon 16:30-19:30"}])
    plan, _ = plan_for(area, cfg)
    ((_, arrival, departure),) = visit_times(plan, "V1")
    assert arrival >= dt.time(16, 45) and departure <= dt.time(19, 30)
    assert not any(s.kind == "lunch" for d in plan.days for s in d.stops)


def test_two_vehicles_with_different_hours_each_keep_their_own(tmp_path):
    # "day" works 07:00-11:00 and "eve" 16:30-19:30; V1 is open only in the evening, V2 only in the morning.
    area = load_area(
        write_area(
            tmp_path / "two",
            villages=[("V1", "Bản Một", 5.0, 100), ("V2", "Bản Hai", -5.0, 100)],
            roads=[("R1", "commune", -10.0, 0.0), ("R2", "commune", 0.0, 10.0)],
            village_columns={"time_windows": ["16:00-20:00", "07:00-11:00"]},
        )
    )
    cfg = config(vehicles=[{"id": "day", "hours": "Mon 07:00-11:00"}, {"id": "eve", "hours": "Mon 16:30-19:30"}])
    plan, _ = plan_for(area, cfg)
    by = {s.stop_id: d.vehicle for d in plan.days for s in d.stops if s.kind == "village"}
    assert by == {"V1": "eve", "V2": "day"}


def test_no_visit_on_tet_2027(tmp_path):
    # A two-week plan from Mon 1 Feb 2027: Tết runs from Thu 4 to Wed 10 Feb, so the van works
    # on 1, 2, 3, 11 and 12 Feb only.
    area = load_area(
        write_area(
            tmp_path / "tet",
            villages=[(f"V{k}", f"Bản {k}", float(k), 100, None, 2) for k in range(1, 6)],
            roads=[("R1", "commune", 0.0, 10.0)],
        )
    )
    cfg = config(plan={"start_date": "2027-02-01", "weeks": 2, "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"]})
    plan, problem = plan_for(area, cfg)
    dates = {d.date for d in plan.days if any(s.kind == "village" for s in d.stops)}
    assert dates and all(not dt.date(2027, 2, 4) <= d <= dt.date(2027, 2, 10) for d in dates)
    assert [d.day for d in problem.dates] == [1, 2, 3, 11, 12]
