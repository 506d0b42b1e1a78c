"""Typed configuration: unknown keys and bad values are refused all at once, naming file, section, key and rule."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.cli import main
from planner.model.config import Config, PlanSection, load_config, make_config
from planner.model.errors import InputError

BAD = """
[plan]
wekes = 3
start_date = "2027-13-01"

[service]
penalty_per_person = "x"
shift_start = "09:00"
shift_end = "08:00"

[frequency]
fixed_point_visits = -5

[[vehicles]]
id = "van1"
max_driving_h_per_day = -1
overnight_kinds = ["hotel"]
"""


def test_every_problem_is_listed_once(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_config(path)
    found = {(p.feature, p.field) for p in err.value.problems}
    # seven problems, each in its section; the shift order is checked alongside the others
    assert found == {
        ("[plan]", "wekes"),
        ("[plan]", "start_date"),
        ("[service]", "penalty_per_person"),
        ("[service]", "shift_end"),
        ("[frequency]", "fixed_point_visits"),
        ("[[vehicles]] #1 id=van1", "max_driving_h_per_day"),
        ("[[vehicles]] #1 id=van1", "overnight_kinds"),
    }
    assert all(p.file == str(path) for p in err.value.problems)
    text = str(err.value)
    assert "did you mean 'weeks'?" in text
    assert "must be a whole number" in text  # penalty_per_person = "x"
    assert "must be > 0" in text  # fixed_point_visits = -5


def test_cli_exits_2_naming_the_misspelt_key(tmp_path, capsys):
    path = tmp_path / "typo.toml"
    path.write_text("[plan]\nwekes = 3\n", encoding="utf-8")
    assert main(["plan", "--config", str(path), "--quiet", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "wekes" in err and "did you mean 'weeks'?" in err and str(path) in err
    assert not (tmp_path / "out").exists()


def test_unknown_section_is_refused():
    with pytest.raises(InputError, match=r"unknown section \(did you mean 'plan'\?\)"):
        make_config({"plann": {"weeks": 2}})


def test_defaults_live_in_one_place_and_round_trip():
    cfg = load_config()
    assert cfg == Config()  # the dataclass defaults are the defaults
    assert cfg.plan.weeks == PlanSection().weeks == 4
    again = make_config(cfg.to_dict())
    assert again == cfg
    two = cfg.replace(plan={"weeks": 2, "start_date": "2027-02-01"})
    assert two.plan.weeks == 2 and two.plan.start_date == dt.date(2027, 2, 1)
    assert two.service == cfg.service


def test_sections_are_frozen():
    cfg = load_config()
    with pytest.raises(AttributeError):
        cfg.plan.weeks = 3  # type: ignore[misc]


def test_vehicle_hours_override_the_service_shift():
    cfg = make_config({"vehicles": [{"id": "eve", "hours": "Mon-Fri 16:30-19:30; Sat 07:00-11:00"}, {"id": "day"}]})
    eve, day = cfg.vehicles
    monday, saturday, sunday = dt.date(2027, 3, 1), dt.date(2027, 3, 6), dt.date(2027, 3, 7)
    assert cfg.vehicle_hours(eve, monday) == (16 * 60 + 30, 19 * 60 + 30)
    assert cfg.vehicle_hours(eve, saturday) == (7 * 60, 11 * 60)
    assert cfg.vehicle_hours(day, monday) == (7 * 60, 17 * 60)
    assert cfg.vehicle_hours(day, saturday) is None and cfg.vehicle_hours(eve, sunday) is None


def test_vehicle_hours_are_validated():
    with pytest.raises(InputError, match="at most one interval per weekday"):
        make_config({"vehicles": [{"id": "x", "hours": "Mon 07:00-09:00; Mon 10:00-12:00"}]})


def test_tet_2027_is_a_holiday_by_default_and_can_be_turned_off():
    cfg = make_config({"plan": {"start_date": "2027-02-01", "weeks": 2}})
    holidays = cfg.holidays()
    # Vietnam's Tết 2027: 29th of the last lunar month (4 Feb) to the 5th day of the new year (10 Feb)
    tet = [dt.date(2027, 2, 4) + dt.timedelta(days=k) for k in range(7)]
    assert [d for d in holidays if d in tet] == tet
    # Mon 1 – Wed 3 and Thu 11 – Fri 12 remain: 5 working days out of 10 weekdays
    assert [d.day for d in cfg.working_dates()] == [1, 2, 3, 11, 12]
    off = cfg.replace(plan={"public_holidays": False})
    assert len(off.working_dates()) == 10
