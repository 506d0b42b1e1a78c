"""School sessions: a reading session at an active school, only inside its term and its hours.

The tiny area: the depot at km 0, a commune road east to km 10 (20 km/h, so 15 min to km 5; split
at km 5),
the school "SCH" at km +5 and the village V1 (90 people, 30 children) beside it at km +5.2.
Every solved plan is refereed by the independent checker (``plan_for``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import pytest
from conftest import config, plan_for, write_area

from planner.io import load_area
from planner.model.calendar import parse_term, parse_time_windows
from planner.planning.checker import RULES, violations

MON_FRI = ["Mon", "Tue", "Wed", "Thu", "Fri"]


def school_area(folder, term, hours):
    """The tiny area with the school SCH (inactive in the data; scenarios activate it)."""
    write_area(
        folder,
        villages=[("V1", "Bản Một", 5.2, 90)],
        roads=[("R1", "commune", 0.0, 5.0), ("R2", "commune", 5.0, 10.0)],  # a vertex at the school
        sites=[("SCH", "Điểm trường Một", "school", 5.0, False, 3000, False)],
    )
    sites = gpd.read_file(folder / "sites.geojson")
    sites["term"] = [None, term]
    sites["hours"] = [None, hours]
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    return load_area(folder)


def school_config(**plan):
    return config(
        plan={"working_days": MON_FRI, **plan},
        fixed_points={"activate_kinds": ["school"]},
    )


def sessions(plan):
    return [(d.date, s.arrival.time(), s.departure.time()) for d in plan.days for s in d.stops if s.stop_id == "SCH"]


def test_a_session_is_worth_its_pupils_as_children_of_their_village(tmp_path):
    # V1 (90 people, 30 children) is 200 m from the school, inside its 3,000 m radius. With no
    # remoteness weight, weight(V1) = 90 + 1 × 30 = 120; its 30 children count 120 × 30 × (1 + 1) / 120
    # = 60; the first session is worth 100,000 × 60 × 10 = 60,000,000, a second 6,000,000.
    from planner.planning.build import build_problem
    from planner.planning.objective import school_value, village_weights

    area = school_area(tmp_path / "v", "2026-09-05..2027-01-16", "Mon-Fri 07:30-11:00")
    cfg = school_config().replace(objective={"remote_weight_per_h": 0.0})
    problem = build_problem(area, cfg)
    (school,) = problem.schools()
    weights = village_weights(problem)
    assert school_value(problem, weights, school, first=True) == 60_000_000
    assert school_value(problem, weights, school, first=False) == 6_000_000


def test_term_and_hours_grammar():
    # two ranges, sorted, both ends included; a part with two intervals gives two windows on Mon-Fri
    assert parse_term("2027-01-18..2027-05-25, 2026-09-05..2027-01-16") == (
        (dt.date(2026, 9, 5), dt.date(2027, 1, 16)),
        (dt.date(2027, 1, 18), dt.date(2027, 5, 25)),
    )
    assert parse_term("") == ()
    wins = parse_time_windows("Mon-Fri 07:30-11:00, 13:30-16:30")
    assert [(w.start_min, w.end_min) for w in wins] == [(450, 660), (810, 990)]
    assert all(w.weekdays == frozenset(range(5)) for w in wins)
    with pytest.raises(ValueError, match="not a date range"):
        parse_term("2026-09-05 to 2027-01-16")


def test_a_session_inside_hours_0730_1100(tmp_path):
    # Hours Mon-Fri 07:30-11:00 and a 45-min session: the van could be there at 07:15 (15 min from
    # the 07:00 depot start) but the session must start at 07:30 or later and end by 11:00.
    area = school_area(tmp_path / "a", "2026-09-05..2027-01-16", "Mon-Fri 07:30-11:00")
    plan, problem = plan_for(area, school_config())
    ((date, start, end),) = sessions(plan)
    assert dt.time(7, 30) <= start and end <= dt.time(11, 0)
    assert (dt.datetime.combine(date, end) - dt.datetime.combine(date, start)) == dt.timedelta(minutes=45)
    (row,) = plan.run["school_sessions"]
    assert row["sessions"] == 1 and row["dates"] == [date.isoformat()]


def test_the_schedule_names_the_villages_whose_pupils_a_session_serves(tmp_path):
    # V1 lies 200 m from the school, inside its 3,000 m radius: its children are the pupils, so the
    # plan lists V1 under the school, and the commune's schedule row of the session says "Bản Một"
    # in the village column (it was empty: a site stop serves no village of its own).
    from planner.render.document import build_document

    area = school_area(tmp_path / "d", "2026-09-05..2027-01-16", "Mon-Fri 07:30-11:00")
    plan, _ = plan_for(area, school_config())
    (row,) = plan.run["school_sessions"]
    assert row["pupils_from"] == ["V1"]
    doc = build_document(plan, area)
    (school_row,) = [r for c in doc.communes for r in c.rows if r.stop_id == "SCH"]
    assert school_row.villages == "Bản Một"


def test_a_school_whose_term_ends_gets_no_visit_after_it(tmp_path):
    # The week of Mon 30 Nov 2026; the term ends on Wed 2 Dec; lessons on Wed-Fri only. The one
    # working date inside both is Wed 2 Dec: the session is on that day, never on Thu 3 or Fri 4.
    area = school_area(tmp_path / "b", "2026-09-05..2026-12-02", "Wed-Fri 07:30-11:00, 13:30-16:30")
    plan, _ = plan_for(area, school_config())
    assert [d for d, _, _ in sessions(plan)] == [dt.date(2026, 12, 2)]


def test_a_term_ended_before_the_lesson_days_means_no_session(tmp_path):
    # Term ends Tue 1 Dec, lessons Wed-Fri: no date is inside both, so no session, and the plan says why.
    area = school_area(tmp_path / "c", "2026-09-05..2026-12-01", "Wed-Fri 07:30-11:00")
    plan, _ = plan_for(area, school_config())
    assert sessions(plan) == []
    (row,) = plan.run["school_sessions"]
    assert row["sessions"] == 0 and row["reason"] == "outside_term"


def test_the_printed_summary_says_which_school_sessions_were_held(tmp_path, capsys):
    # the same tiny plan: no session, and the summary says why
    from planner.cli import print_summary

    area = school_area(tmp_path / "c2", "2026-09-05..2026-12-01", "Wed-Fri 07:30-11:00")
    plan, _ = plan_for(area, school_config())
    print_summary(plan, tmp_path)
    out = capsys.readouterr().out
    assert "school sessions at Điểm trường Một: 0/1 on none (outside term: " in out


def test_no_session_on_tet_even_inside_term(tmp_path):
    # Term 4-10 Feb 2027 is exactly the Tết holidays (Thu 4 to Wed 10 Feb): the week from Mon 1 Feb
    # has working days 1, 2, 3 Feb only, all outside this term, so there is no session.
    area = school_area(tmp_path / "d", "2027-02-04..2027-02-10", "")
    plan, _ = plan_for(area, school_config(start_date="2027-02-01"))
    assert sessions(plan) == []
    assert plan.run["school_sessions"][0]["reason"] == "outside_term"


def test_the_checker_flags_a_session_out_of_term_or_hours(tmp_path):
    # A sound plan (a morning session in term, 30 Nov-4 Dec 2026), refereed against the same school
    # whose term ended on Sun 29 Nov: one [school] violation for the date. Against hours 14:00-16:00
    # on Mondays only: one [school] violation for the time (the session is on a weekday morning).
    assert "school" in RULES
    area = school_area(tmp_path / "e", "2026-09-05..2027-01-16", "Mon-Fri 07:30-11:00")
    plan, problem = plan_for(area, school_config())
    ((date, _, _),) = sessions(plan)
    k = next(i for i, s in enumerate(problem.sites) if s.id == "SCH")

    def with_school(**changes):
        sites = list(problem.sites)
        sites[k] = dataclasses.replace(sites[k], **changes)
        return dataclasses.replace(problem, sites=tuple(sites))

    out = violations(plan, with_school(term=parse_term("2026-09-05..2026-11-29")))
    assert len(out) == 1 and out[0].startswith("[school]")
    assert f"a session on {date}, outside the school's term (2026-09-05..2026-11-29)" in out[0]

    out = violations(plan, with_school(hours=parse_time_windows("Mon 14:00-16:00")))
    assert len(out) == 1 and out[0].startswith("[school]")
    assert "the school's hours on" in out[0]

    out = violations(plan, with_school(active=False))  # a session at a school that is not active
    assert any(m.startswith("[school]") and "not active" in m for m in out)
