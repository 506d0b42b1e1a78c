"""``--units 2025`` for the comparison and the workspace report: figures grouped by the 2025 communes.

The hand-made case: three pre-2025 communes, of which 01 (Xã A) and 02 (Xã B) merged into
"Xã Mới" and 03 (Xã C) became "Xã Khác" (the data's ``post2025_commune``). Four villages:

    V1  01  100 people  van stop, 1 of 1 visit       -> 100 served at frequency
    V2  01   50 people  never reached                ->   0
    V3  02  200 people  walks, credit 0.5, 1 of 1    -> 100
    V4  03   80 people  van stop, 1 of 2 visits     ->   0 (below frequency)

Costs per pre-2025 commune: 01 1,000,000; 02 500,000; 03 250,000 VND.
"""

from __future__ import annotations

import csv

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from planner.comparison.run import (
    Scenario,
    ScenarioResult,
    commune_figures,
    scenario_figures,
    with_units,
    write_comparison,
)
from planner.model.area import Area, units_2025
from planner.model.errors import InputError
from planner.model.fairness import fairness_figures
from planner.model.plan import Plan, VillageService
from planner.workspace.report import commune_tallies

CODES = {"01": ("Xã A", "Xã Mới"), "02": ("Xã B", "Xã Mới"), "03": ("Xã C", "Xã Khác")}
VILLAGES = [("V1", "01", 100), ("V2", "01", 50), ("V3", "02", 200), ("V4", "03", 80)]


def area(post2025=True) -> Area:
    communes = gpd.GeoDataFrame(
        {
            "code": list(CODES),
            "name": [n for n, _ in CODES.values()],
            **({"post2025_commune": [m for _, m in CODES.values()]} if post2025 else {}),
        },
        geometry=[box(103 + k, 22, 103.5 + k, 22.5) for k in range(3)],
        crs="EPSG:4326",
    )
    villages = gpd.GeoDataFrame(
        {
            "id": [v for v, _, _ in VILLAGES],
            "name": [f"Bản {v}" for v, _, _ in VILLAGES],
            "commune_code": [c for _, c, _ in VILLAGES],
            "commune": [CODES[c][0] for _, c, _ in VILLAGES],
            "population": [p for _, _, p in VILLAGES],
        },
        geometry=[Point(103.1 + int(c) - 1, 22.1) for _, c, _ in VILLAGES],
        crs="EPSG:4326",
    )
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs="EPSG:4326")
    return Area(villages=villages, sites=empty, roads=empty, communes=communes)


def plan() -> Plan:
    def vs(vid, channel, visits, required, credit=1.0):
        code = next(c for v, c, _ in VILLAGES if v == vid)
        pop = next(p for v, _, p in VILLAGES if v == vid)
        return VillageService(vid, f"Bản {vid}", CODES[code][0], code, pop, channel, visits, required, credit=credit)

    villages = (
        vs("V1", "van_stop", 1, 1),
        vs("V2", "unserved", 0, 1),
        vs("V3", "walk", 1, 1, credit=0.5),
        vs("V4", "van_stop", 1, 2),
    )
    costs = {"total_vnd": 1_750_000, "per_commune": {"01": {"total_vnd": 1_000_000}, "02": {"total_vnd": 500_000},
             "03": {"total_vnd": 250_000}}}  # fmt: skip
    return Plan("partial", (), villages, (), population_total=430, children_total=0, villages_total=4, costs=costs)


SUMMED = ("villages", "population", "villages_at_frequency", "population_at_frequency", "cost_vnd")


def test_commune_rows_by_2025_units_are_the_sums_of_their_old_communes():
    old = {r["commune_code"]: r for r in commune_figures(plan())}
    new = {r["commune"]: r for r in commune_figures(plan(), units_2025(area()))}
    # pre-2025: 01 has 150 people, 100 at frequency (66.7 %); 02 200, 100 (50.0 %); 03 80, 0
    assert [
        (c, r["population"], r["population_at_frequency"], r["population_at_frequency_pct"]) for c, r in old.items()
    ] == [
        ("01", 150, 100, 66.7),
        ("02", 200, 100, 50.0),
        ("03", 80, 0, 0.0),
    ]
    # 2025: Xã Mới = 01 + 02 = 350 people, 200 at frequency (57.1 %), 3 villages, 1,500,000 VND;
    # Xã Khác = 03 = 80 people, 0, 250,000 VND
    assert list(new) == ["Xã Khác", "Xã Mới"]
    assert (new["Xã Mới"]["commune_code"], new["Xã Khác"]["commune_code"]) == ("01+02", "03")
    m = new["Xã Mới"]
    assert (m["villages"], m["population"], m["population_at_frequency"], m["population_at_frequency_pct"]) == (
        3,
        350,
        200,
        57.1,
    )
    assert (m["cost_vnd"], new["Xã Khác"]["cost_vnd"]) == (1_500_000, 250_000)
    for name, codes in (("Xã Mới", ("01", "02")), ("Xã Khác", ("03",))):
        for key in SUMMED + tuple(k for k in m if k.startswith("population_") and not k.endswith("_pct")):
            assert new[name][key] == sum(old[c][key] for c in codes), (name, key)


def test_fairness_over_2025_units():
    # pre-2025: worst commune Xã C (0 %); Gini of rates (2/3, 1/2, 0) weighted (150, 200, 80)/430:
    #   mean = 0.4651; Σ_{i≠j} w_i w_j |r_i - r_j| = 2 × (0.0270 + 0.0433 + 0.0433) = 0.2272; / (2 × mean) = 0.244
    # 2025: rates (200/350, 0) weighted (350, 80)/430: Gini = 80/430 = 0.186; worst Xã Khác (0 %)
    old = fairness_figures(plan())
    new = fairness_figures(plan(), units_2025(area()))
    assert (old["worst_commune"], old["worst_commune_pct"], old["commune_gini"]) == ("Xã C", 0.0, 0.244)
    assert (new["worst_commune"], new["worst_commune_pct"], new["commune_gini"]) == ("Xã Khác", 0.0, 0.186)
    assert new["villages_never_reached"] == old["villages_never_reached"] == 1
    assert scenario_figures(plan(), units_2025(area()))["commune_gini"] == 0.186


def test_the_mapping_comes_from_the_data_and_missing_units_are_errors():
    u = units_2025(area())
    assert u.of_code("02") == "Xã Mới" and u.codes_of("Xã Mới") == ["01", "02"]
    # a village's own post2025_commune wins over its commune's (a commune split between two new ones)
    a = area()
    a = Area(
        villages=a.villages.assign(post2025_commune=[None, "Xã Khác", None, None]),
        sites=a.sites,
        roads=a.roads,
        communes=a.communes,
    )
    assert units_2025(a).of_village("V2", "01") == "Xã Khác" and units_2025(a).of_village("V1", "01") == "Xã Mới"
    with pytest.raises(InputError) as e:
        units_2025(area(post2025=False))
    assert [p.feature for p in e.value.problems] == ["code=01", "code=02", "code=03"]


def test_compare_writes_2025_units(tmp_path):
    scenario = Scenario("baseline", {"plan": {}, "vehicles": []}, label={"vi": "Một xe", "en": "One van"})
    result = ScenarioResult(scenario, "partial", plan=plan(), figures=scenario_figures(plan()))
    (grouped,) = with_units([result], area(), "2025")
    assert grouped.figures["worst_commune"] == "Xã Khác"
    write_comparison([result], area(), tmp_path, lang="vi", maps=False, units="2025")
    with open(tmp_path / "comparison_by_commune.csv", encoding="utf-8") as f:
        rows = {r["commune"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"Xã Mới", "Xã Khác"}
    assert (rows["Xã Mới"]["population"], rows["Xã Mới"]["cost_vnd"]) == ("350", "1500000")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Địa bàn: 2 xã (đơn vị hành chính từ ngày 1/7/2025)" in html and "Xã Mới" in html
    with open(tmp_path / "comparison.csv", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["worst_commune"], row["commune_gini"]) == ("Xã Khác", "0.186")


def log_row(stop_id, commune, held, people=0, children=0, km=0.0):
    return {"kind": "village", "stop_id": stop_id, "commune": commune, "held": held, "people": people,
            "children": children, "books_lent": people, "books_returned": 0, "new_readers": children, "km": km}  # fmt: skip


def test_workspace_report_rows_by_2025_units_are_the_sums_of_their_old_communes():
    # V1 (Xã A) held, 30 people of whom 10 children, 12.5 km; V2 (Xã A) cancelled (its 4 km not counted);
    # V3 (Xã B) held, 20 people, 5 children, 7.5 km; V4 (Xã C) not held, 3 km.
    # Xã Mới = Xã A + Xã B: 3 sessions planned, 2 held, 1 cancelled, 50 people, 15 children,
    # 20.0 km, 20.0 × 4,000 = 80,000 VND. Xã Khác = Xã C: 1 session, not held, 3.0 km, 12,000 VND.
    visits = [
        log_row("V1", "Xã A", "yes", 30, 10, 12.5),
        log_row("V2", "Xã A", "cancelled", km=4.0),
        log_row("V3", "Xã B", "yes", 20, 5, 7.5),
        log_row("V4", "Xã C", "no", km=3.0),
    ]
    old = commune_tallies(visits, 4000.0)
    new = commune_tallies(visits, 4000.0, area(), "2025")
    assert list(old) == ["Xã A", "Xã B", "Xã C"] and list(new) == ["Xã Khác", "Xã Mới"]
    m = new["Xã Mới"]
    assert (m["sessions_planned"], m["sessions_held"], m["sessions_cancelled"]) == (3, 2, 1)
    assert (m["people"], m["children"], m["adults"], m["km"], m["cost_vnd"]) == (50, 15, 35, 20.0, 80_000)
    assert (new["Xã Khác"]["sessions_not_held"], new["Xã Khác"]["km"], new["Xã Khác"]["cost_vnd"]) == (1, 3.0, 12_000)
    for key in m:
        assert m[key] == old["Xã A"][key] + old["Xã B"][key], key
        assert new["Xã Khác"][key] == old["Xã C"][key], key
    with pytest.raises(InputError):  # 2025 units need the area's communes
        commune_tallies(visits, 4000.0, None, "2025")
