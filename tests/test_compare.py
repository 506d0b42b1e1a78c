"""Scenario comparison: figures, the `planner compare` command, and the same numbers whichever way it ran.

The area is the default Mường Tè data cut down to two communes (the town, with the depot,
and Mường Tè commune), and each scenario is a thin wrapper over the real file in
``data/scenarios`` with a one-week cycle and a small work budget, so a solve takes a second.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from planner.cli import main
from planner.comparison.run import (
    COLUMNS,
    COMMUNE_COLUMNS,
    commune_figures,
    commune_rows,
    comparable,
    comparison_rows,
    load_scenarios,
    run_scenarios,
    scenario_figures,
    scenario_header,
    village_status,
)
from planner.model.errors import InputError
from planner.model.plan import Plan, Unserved, VillageService

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "data" / "scenarios"
COMMUNES = ("03433", "03445")  # Thị trấn Mường Tè (depot) and Mường Tè commune
BUDGET = {"max_iterations": 20000, "time_limit_s": 60, "weeks": 1}


def _subset(src: Path, dst: Path, keep) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if keep(f["properties"])]
    dst.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """Two communes of the default data; every road kept (the network joins them)."""
    d = tmp_path_factory.mktemp("two_communes")
    src = REPO / "data"
    _subset(src / "communes.geojson", d / "communes.geojson", lambda p: str(p["code"]) in COMMUNES)
    _subset(src / "villages.geojson", d / "villages.geojson", lambda p: str(p["commune_code"]) in COMMUNES)
    _subset(
        src / "sites.geojson", d / "sites.geojson", lambda p: p["kind"] == "depot" or str(p["commune_code"]) in COMMUNES
    )
    _subset(src / "roads.geojson", d / "roads.geojson", lambda p: True)
    return d


@pytest.fixture(scope="module")
def small_scenarios(tmp_path_factory) -> list[Path]:
    """Wrappers over three real scenario files with a small budget."""
    d = tmp_path_factory.mktemp("scenarios")
    out = []
    for name in ("baseline", "two_vans", "rainy_season"):
        p = d / f"{name}.toml"
        p.write_text(
            f'base = "{(SCENARIOS / f"{name}.toml").as_posix()}"\n[plan]\n'
            + "".join(f"{k} = {v}\n" for k, v in BUDGET.items()),
            encoding="utf-8",
        )
        out.append(p)
    return out


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def drop_timing(rows):
    return [{k: v for k, v in r.items() if k != "solve_time_s"} for r in rows]


# --------------------------------------------------------------------------- scenario files


def test_scenario_files_each_override_the_baseline():
    files = sorted(SCENARIOS.glob("*.toml"))
    names = {p.stem for p in files}
    assert {"baseline", "two_vans", "fortnightly", "rainy_season", "fixed_points", "motorbike_outreach"} <= names
    scenarios = load_scenarios(files)
    by = {s.name: s for s in scenarios}
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert text.startswith("#"), f"{p.name}: starts with a comment saying what it asks"
        label, desc = scenario_header(text)
        assert label.get("vi") and label.get("en") and desc.get("vi") and desc.get("en"), p.name
        if p.stem != "baseline":
            assert tomllib.loads(text)["base"] == "baseline.toml", p.name
    base = by["baseline"].raw
    assert base["plan"]["weeks"] == 4 and base["plan"]["season"] == "dry" and len(base["vehicles"]) == 1
    assert [v["id"] for v in by["two_vans"].raw["vehicles"]] == ["van1", "van2"]
    assert by["rainy_season"].raw["plan"]["season"] == "rainy"
    assert by["fixed_points"].raw["plan"]["fixed_points"] is True
    assert [v["profile"] for v in by["motorbike_outreach"].raw["vehicles"]] == ["van", "motorbike"]
    assert by["fortnightly"].raw["frequency"] != base["frequency"]
    # only what changes is overridden
    assert by["two_vans"].raw["plan"] == base["plan"] and by["fixed_points"].raw["vehicles"] == base["vehicles"]


def test_bad_scenarios_are_listed_together(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "baseline.toml"\n', encoding="utf-8")  # no baseline beside it
    worse = tmp_path / "worse.toml"
    worse.write_text("[plan]\nseason = 'monsoon'\nweeks = 12\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenarios([bad, worse])
    msg = str(exc.value)
    assert "baseline.toml" in msg and "season" in msg and "weeks" in msg


# --------------------------------------------------------------------------- figures (pure)


def _vs(vid, commune, pop, channel, visits, required=1):
    return VillageService(vid, vid, commune, commune, pop, channel, visits, required)


def test_figures_count_each_village_once_by_channel_and_frequency():
    # A: van stop, 2 of 2 visits; B: walks, 1 of 2 (below); C: fixed point restocked 1 of 1;
    # D: never reached, no road
    villages = (
        _vs("A", "X1", 100, "van_stop", 2, 2),
        _vs("B", "X1", 50, "walk", 1, 2),
        _vs("C", "X2", 30, "fixed_point", 1, 1),
        _vs("D", "X2", 20, "unserved", 0, 1),
    )
    unserved = (
        Unserved("B", "B", "X1", 50, "not_enough_time", "", visits=1, visits_required=2),
        Unserved("D", "D", "X2", 20, "unreachable", "", visits=0, visits_required=1),
    )
    plan = Plan(
        "partial",
        (),
        villages,
        unserved,
        population_total=200,
        children_total=0,
        villages_total=4,
        run={"stopped_by": "work_budget", "solve_time_s": 1.5},
    )
    assert [village_status(v) for v in villages] == ["van_stop", "below_frequency", "fixed_point", "never_reached"]
    # one definition: a fixed-point village whose point got fewer restocks than required is below frequency
    assert village_status(_vs("E", "X2", 30, "fixed_point", 1, 2)) == "below_frequency"
    f = scenario_figures(plan)
    assert (f["villages_at_frequency"], f["population_at_frequency"], f["population_at_frequency_pct"]) == (
        2,
        130,
        65.0,
    )
    assert (f["population_van_stop"], f["population_walk"], f["population_fixed_point"]) == (100, 0, 30)
    assert (f["villages_below_frequency"], f["population_below_frequency"]) == (1, 50)
    assert (f["villages_never_reached"], f["population_never_reached"], f["never_reached_unreachable"]) == (1, 20, 1)
    assert f["never_reached_not_enough_time"] == 0  # B was reached, only not often enough
    assert (f["km_per_cycle"], f["crew_days_per_cycle"], f["nights_away"], f["books_moved"]) == (0.0, 0, 0, 0)
    c = commune_figures(plan)
    assert [
        (r["commune_code"], r["population"], r["population_at_frequency"], r["population_at_frequency_pct"]) for r in c
    ] == [
        ("X1", 150, 100, 66.7),
        ("X2", 50, 30, 60.0),
    ]
    assert set(COLUMNS) - {"scenario", "label", "status", "season", "weeks", "vehicles"} == set(f)
    assert set(COMMUNE_COLUMNS) - {"scenario"} == set(c[0])


def test_unknown_channel_is_an_error():
    with pytest.raises(ValueError, match="village Z: unknown channel 'boat'"):
        village_status(_vs("Z", "X", 1, "boat", 1))


# --------------------------------------------------------------------------- the command


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[dict] = []
        self.iframes: list[str] = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-key" in a:
            self.cells.append(a)
        if tag == "iframe":
            self.iframes.append(a["src"])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def compared(small_data, small_scenarios, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    args = [
        "compare",
        *map(str, small_scenarios),
        "--data",
        str(small_data),
        "--out",
        str(out),
        "--run",
        "cmp",
        "--sequential",
        "--quiet",
    ]
    assert main(args) == 0
    return out / "cmp"


def test_compare_writes_table_charts_maps_and_report(compared):
    names = ["baseline", "two_vans", "rainy_season"]
    rows = read_csv(compared / "comparison.csv")
    assert [r["scenario"] for r in rows] == names
    assert list(rows[0]) == list(COLUMNS)
    for r in rows:
        assert int(r["population_at_frequency"]) == sum(
            int(r[f"population_{c}"]) for c in ("van_stop", "walk", "fixed_point")
        )
        # every person is in one class; walkers beyond the full-credit distance count in part
        assert int(r["population_total"]) == int(r["population_at_frequency"]) + int(
            r["population_below_frequency"]
        ) + int(r["population_never_reached"]) + int(r["population_walk_uncredited"])
    by = {r["scenario"]: r for r in rows}
    assert by["two_vans"]["vehicles"] == "van1 (van) + van2 (van)" and by["rainy_season"]["season"] == "rainy"
    crows = read_csv(compared / "comparison_by_commune.csv")
    assert [(r["scenario"], r["commune_code"]) for r in crows] == [(n, c) for n in names for c in COMMUNES]
    for n in names:
        assert sum(int(r["population_at_frequency"]) for r in crows if r["scenario"] == n) == int(
            by[n]["population_at_frequency"]
        )

    from openpyxl import load_workbook

    wb = load_workbook(compared / "comparison.xlsx")
    assert wb.sheetnames == ["comparison", "by_commune", "scenarios"]
    assert [c.value for c in wb["comparison"][1]] == list(COLUMNS)
    assert wb["comparison"].max_row == 2 + len(names)

    for png in ("population_by_channel", "km_and_crew_days", "commune_coverage"):
        assert (compared / "charts" / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for n in names:
        page = (compared / "maps" / f"{n}.html").read_text(encoding="utf-8")
        assert "L.map" in page or "leaflet" in page.lower()
    index = _Cells()
    index.feed((compared / "maps" / "index.html").read_text(encoding="utf-8"))
    assert index.iframes == [f"{n}.html" for n in names]
    assert "repeat(2" in (compared / "maps" / "index.html").read_text(encoding="utf-8")  # two per row
    assert {p.name for p in (compared / "plans").iterdir()} == {f"{n}.json" for n in names}
    assert not [p for p in compared.parent.iterdir() if ".partial-" in p.name]


def test_report_quotes_the_table(compared):
    rows = {r["scenario"]: r for r in read_csv(compared / "comparison.csv")}
    crows = {(r["scenario"], r["commune_code"]): r for r in read_csv(compared / "comparison_by_commune.csv")}
    page = _Cells()
    page.feed((compared / "report.html").read_text(encoding="utf-8"))
    figures = [c for c in page.cells if "data-commune" not in c]
    keys = {c["data-key"] for c in figures}
    assert set(COLUMNS) - {"scenario"} == keys  # every column of the table is in the report
    for c in figures:
        assert c["data-value"] == rows[c["data-scenario"]][c["data-key"]], c
    communes = [c for c in page.cells if "data-commune" in c]
    assert len(communes) == len(crows)
    for c in communes:
        assert c["data-value"] == crows[(c["data-scenario"], c["data-commune"])]["population_at_frequency_pct"]
    text = "".join(page.text)
    assert "Báo cáo so sánh các phương án phục vụ thư viện lưu động" in text
    assert "ước tính" in text  # the default data are approximated and the report says so
    pop = int(rows["baseline"]["population_total"])
    assert f"{pop:,}".replace(",", ".") in text  # Vietnamese thousands separator

    from pypdf import PdfReader

    pdf = "".join(p.extract_text() for p in PdfReader(compared / "report.pdf").pages)
    assert "Báo cáo so sánh các phương án phục vụ thư viện lưu động" in pdf
    assert "Số người được phục vụ đủ tần suất" in pdf
    pct = rows["two_vans"]["population_at_frequency_pct"].replace(".", ",")
    assert pct in pdf


def test_compare_in_english_and_exit_codes(small_data, small_scenarios, tmp_path, capsys):
    args = [
        "compare",
        str(small_scenarios[0]),
        "--data",
        str(small_data),
        "--out",
        str(tmp_path),
        "--run",
        "en",
        "--sequential",
        "--quiet",
        "--lang",
        "en",
    ]
    assert main(args) == 0
    html = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert "Comparison of mobile-library service scenarios" in html and "approximated" in html
    assert main(args) == 4  # the run exists
    assert "--force" in capsys.readouterr().err
    assert (
        main(["compare", str(tmp_path / "missing.toml"), "--data", str(small_data), "--out", str(tmp_path), "--quiet"])
        == 2
    )


# --------------------------------------------------------------------------- same numbers whichever way it ran


def test_sequential_local_and_dask_give_the_same_numbers(small_data, small_scenarios, tmp_path, monkeypatch, capsys):
    import distributed

    from planner.io import load_area

    area = load_area(small_data)
    scenarios = load_scenarios(small_scenarios[:2])
    seq = run_scenarios(scenarios, area, mode="sequential")
    loc = run_scenarios(scenarios, area, mode="local", workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            dsk = run_scenarios(scenarios, area, mode="dask", dask=client)
        # the command line on the same cluster, found through the environment variable
        monkeypatch.setenv("PLANNER_DASK_ADDRESS", cluster.scheduler_address)
        out = tmp_path / "out"
        assert (
            main(
                [
                    "compare",
                    *map(str, small_scenarios[:2]),
                    "--data",
                    str(small_data),
                    "--out",
                    str(out),
                    "--run",
                    "d",
                    "--quiet",
                ]
            )
            == 0
        )
        assert "(dask," in capsys.readouterr().out
    assert all(r.worker != seq[0].worker for r in loc)  # the local runs ran in other processes
    ref = comparable(comparison_rows(seq))
    assert ref == comparable(comparison_rows(loc)) == comparable(comparison_rows(dsk))
    assert commune_rows(seq) == commune_rows(loc) == commune_rows(dsk)
    # the plans themselves are equal, stop for stop
    for a, b in zip(seq, dsk):
        da, db = a.plan.to_dict(), b.plan.to_dict()
        da["run"].pop("solve_time_s")
        db["run"].pop("solve_time_s")
        assert da == db
    from_cli = drop_timing(read_csv(out / "d" / "comparison.csv"))
    assert from_cli == drop_timing([{k: str(v) for k, v in r.items()} for r in comparison_rows(seq, "vi")])
    assert dt.date.fromisoformat(seq[0].plan.run["start_date"]) == dt.date(2026, 11, 30)
