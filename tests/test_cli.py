"""The command line, called as a function; the run folder's contract read back independently."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import write_area

from planner import cli

CONFIG = """
[plan]
start_date = "2026-11-30"
weeks = 1
working_days = ["Mon", "Tue"]
time_limit_s = 30
max_iterations = 20000
walk_limit_m = 0

[profiles.van.dry]
national = 40
provincial = 30
commune = 20
track = 10
"""


@pytest.fixture
def inputs(tmp_path):
    data = write_area(
        tmp_path / "data",
        villages=[
            ("V1", "Bản Một", 5.0, 100),
            ("V2", "Bản Hai", 10.0, 300),
            ("V3", "Bản Ba", -10.0, 200),
            ("V4", "Bản Bốn", -20.0, 150),
            ("V5", "Bản Năm", 20.0, 120),
        ],
        roads=[("R1", "commune", -20.0, 0.0), ("R2", "commune", 0.0, 5.0), ("R3", "commune", 5.0, 20.0)],
    )
    cfg = tmp_path / "plan.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    return data, cfg, tmp_path / "out"


def run(inputs, *extra):
    data, cfg, out = inputs
    return cli.main(
        ["plan", "--data", str(data), "--config", str(cfg), "--out", str(out), "--quiet", "--no-printables", *extra]
    )


def test_plan_writes_a_complete_run(inputs):
    assert run(inputs, "--run", "r1") == 0
    folder = inputs[2] / "r1"
    for name in ("plan.json", "stops.csv", "map.html", "config.json"):
        assert (folder / name).is_file(), name
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert plan["status"] in ("ok", "partial")
    for key in (
        "villages_total",
        "villages_served",
        "population_total",
        "population_served",
        "distance_km",
        "driving_h",
        "nights_away",
    ):
        assert key in plan["summary"]
    assert plan["summary"]["villages_total"] == 5
    assert {u["reason"] for u in plan["unserved"]} <= {"unreachable", "too_far_for_shift", "not_enough_time"}
    assert not list(inputs[2].glob(".*partial*"))


def test_stops_csv_read_independently(inputs):
    assert run(inputs, "--run", "r2") == 0
    stops = pd.read_csv(inputs[2] / "r2" / "stops.csv", dtype=str)
    required = [
        "vehicle",
        "date",
        "weekday",
        "seq",
        "kind",
        "stop_id",
        "stop_name",
        "commune",
        "arrival",
        "departure",
        "travel_min",
        "travel_km",
        "books",
        "population_served",
    ]
    assert set(required) <= set(stops.columns)
    assert set(stops["kind"]) <= {"start", "village", "site", "lunch", "overnight", "end"}
    t = lambda s: int(s[:2]) * 60 + int(s[3:])  # noqa: E731
    for (_, _), day in stops.groupby(["vehicle", "date"]):
        day = day.sort_values("seq", key=lambda c: c.astype(int))
        arr = day["arrival"].map(t).tolist()
        dep = day["departure"].map(t).tolist()
        travel = day["travel_min"].astype(float).tolist()
        assert all(7 * 60 <= a and d <= 17 * 60 for a, d in zip(arr, dep)), "stop outside the shift"
        if (day["kind"] == "village").any():
            assert (day["kind"] == "lunch").sum() == 1, "a day without its lunch"
        for k in range(1, len(arr)):
            assert arr[k] + 1 >= dep[k - 1] + travel[k], "arrival before departure + travel"
    villages = stops[stops["kind"] == "village"]["stop_id"]
    assert villages.is_unique, "a village visited twice in the week"


def test_existing_run_is_not_overwritten(inputs):
    assert run(inputs, "--run", "same") == 0
    before = (inputs[2] / "same" / "plan.json").read_bytes()
    assert run(inputs, "--run", "same") == 4
    assert (inputs[2] / "same" / "plan.json").read_bytes() == before
    assert run(inputs, "--run", "same", "--force") == 0


def test_failure_midway_leaves_no_partial_folder(inputs, monkeypatch):
    assert run(inputs, "--run", "kept") == 0
    import planner.runs as runs_module

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs_module, "render_map", boom)
    with pytest.raises(RuntimeError):
        run(inputs, "--run", "broken")
    assert not (inputs[2] / "broken").exists()
    assert not list(inputs[2].glob(".*partial*"))
    assert (inputs[2] / "kept" / "plan.json").is_file()


def test_bad_config_exits_2(inputs, capsys):
    data, cfg, out = inputs
    cfg.write_text(CONFIG.replace("weeks = 1", "weeks = 12"), encoding="utf-8")
    assert run(inputs, "--run", "bad") == 2
    assert "'weeks' = 12" in capsys.readouterr().err
    assert not (out / "bad").exists()


def test_bad_data_exits_2(inputs, capsys):
    data, cfg, out = inputs
    (data / "villages.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    assert run(inputs, "--run", "bad") == 2
    err = capsys.readouterr().err
    assert "villages.geojson" in err and "Traceback" not in err


def test_check_command(inputs, capsys):
    data, _, _ = inputs
    assert cli.main(["check", str(data)]) == 0


def test_same_seed_same_files(inputs):
    assert run(inputs, "--run", "a", "--seed", "3") == 0
    assert run(inputs, "--run", "b", "--seed", "3") == 0
    a = (inputs[2] / "a" / "stops.csv").read_bytes()
    b = (inputs[2] / "b" / "stops.csv").read_bytes()
    assert a == b


def test_killed_run_leaves_earlier_runs_and_no_partial_folder(inputs):
    """SIGKILL while the run folder is being written: earlier runs intact, no partial folder after the next run."""
    data, cfg, out = inputs
    assert run(inputs, "--run", "earlier") == 0
    before = {p.relative_to(out): p.read_bytes() for p in (out / "earlier").rglob("*") if p.is_file()}
    cmd = [sys.executable, "-m", "planner.cli", "plan", "--data", str(data), "--config", str(cfg)]
    proc = subprocess.Popen([*cmd, "--out", str(out), "--run", "killed", "--quiet"])
    deadline = time.monotonic() + 120
    partial: list = []
    # wait until the hidden folder holds plan.json (the solve is over, the outputs are being written)
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in out.glob(".killed.partial-*") if (p / "plan.json").exists()]
        if partial:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    assert partial, f"the run ended (exit {proc.returncode}) before its folder could be caught half-written"
    assert partial[0].exists() and not (out / "killed").exists()  # killed mid-write: only the hidden folder
    after = {p.relative_to(out): p.read_bytes() for p in (out / "earlier").rglob("*") if p.is_file()}
    assert after == before
    # the next run sweeps the folder the killed process left half-written
    assert run(inputs, "--run", "next") == 0
    assert not list(out.glob(".*partial*"))
    assert sorted(p.name for p in out.iterdir()) == ["earlier", "next"]


def test_stale_partial_of_a_dead_process_is_swept(tmp_path):
    from planner.io.runs import remove_stale_partials, run_folder

    dead = tmp_path / ".r.partial-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "plan.json").write_text("{")
    with run_folder(tmp_path, "r") as tmp:
        (tmp / "plan.json").write_text("{}")
        alive = list(tmp_path.glob(".*partial*"))
        assert alive == [tmp]  # the dead one is gone, ours is being written
    assert not dead.exists() and (tmp_path / "r" / "plan.json").read_text() == "{}"
    assert remove_stale_partials(tmp_path) == []


def test_printables_agree_with_stops_csv(inputs):
    import openpyxl
    from icalendar import Calendar

    data, cfg, out = inputs
    assert (
        cli.main(["plan", "--data", str(data), "--config", str(cfg), "--out", str(out), "--run", "p", "--quiet"]) == 0
    )
    folder = out / "p"
    stops = pd.read_csv(folder / "stops.csv", dtype=str)
    ws = openpyxl.load_workbook(folder / "schedule.xlsx")["Lịch"]
    assert ws.max_row - 1 == len(stops)
    cal = Calendar.from_ical((folder / "calendars" / "all.ics").read_bytes())
    events = [c for c in cal.walk("VEVENT")]
    n_visits = int(stops["kind"].isin(["village", "site"]).sum())
    assert sum(int(str(e.get("RRULE", {}).get("COUNT", [1])[0])) for e in events) == n_visits
    assert (folder / "schedules" / "all_communes.pdf").stat().st_size > 1000
    assert (folder / "stops_interchange.csv").is_file()
