"""Issue 10, part 6: commune populations projected from the census to the plan year."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.data.build import PROJECTION_YEAR, project_communes, scale_exact

DATA = Path(__file__).parents[1] / "data"


def _props(name):
    return [f["properties"] for f in json.loads((DATA / f"{name}.geojson").read_text(encoding="utf-8"))["features"]]


def test_projection_of_a_merged_commune_by_hand():
    # Two 2009 units of 1,000 and 3,000 merged into one 2025 commune of 4,000 * 1.02**16.
    # r = 2 %; projected to 2026: 1,000 * 1.02**17 = 1,400.2 -> 1,400; 3,000 * 1.02**17 = 4,200.7 -> 4,201.
    units = [
        {"population": 1000, "population_year": 2009, "post2025_commune": "A"},
        {"population": 3000, "population_year": 2009, "post2025_commune": "A"},
        {"population": 500, "population_year": 2011, "post2025_commune": "Hua Bum"},
    ]
    rates = project_communes(units, [{"new_commune_2025": "A", "population_2025_doc": 4000 * 1.02**16}], 2026)
    assert rates["A"] == pytest.approx(0.02, abs=1e-9)
    assert [u["population"] for u in units[:2]] == [1400, 4201]
    assert units[0]["population_census"] == 1000 and units[0]["population_projected"] is True
    # Hua Bum reaches outside the district: the unit takes the district rate (here 2 %):
    # 500 * 1.02**15 = 672.9 -> 673.
    assert units[2]["population"] == 673 and "district rate" in units[2]["growth_source"]


def test_scale_exact_keeps_the_total():
    # 100 : 200 : 300 scaled to 1,000 -> 166.7, 333.3, 500 -> 167, 333, 500 (sum 1,000).
    assert scale_exact([100, 200, 300], 1000) == [167, 333, 500]


def test_default_communes_are_projected_and_flagged():
    com = {p["code"]: p for p in _props("communes")}
    assert all(p["population_projected"] and p["population_year"] == PROJECTION_YEAR for p in com.values())
    assert sum(p["population_census"] for p in com.values()) == 37565  # the 2009 total
    total = sum(p["population"] for p in com.values())
    assert 45_000 <= total <= 55_000, total  # the brief: about 45,000-50,000 today
    # Mù Cả was not merged: its 2025 figure is 3,299; 2009 census 2,097;
    # r = (3299 / 2097) ** (1 / 16) - 1 = 2.874 %; 2026: 3,299 * 1.02874 = 3,393.8 -> 3,394.
    assert com["03451"]["population"] == 3394


def test_default_villages_carry_census_and_projected_figures():
    com = {p["code"]: p for p in _props("communes")}
    sums: dict[str, list[int]] = {}
    for v in _props("villages"):
        assert v["projected"] is True and v["approx_population"] is True
        s = sums.setdefault(v["commune_code"], [0, 0])
        s[0] += v["population"]
        s[1] += v["population_census"]
    for code, (pop, census) in sums.items():
        assert pop == com[code]["population"] and census == com[code]["population_census"]


def test_bad_census_figure_is_reported(tmp_path):
    import geopandas as gpd

    from planner.io import load_area
    from planner.model.errors import InputError
    from tests.conftest import write_area

    folder = write_area(tmp_path / "p", villages=[("V", "Bản V", 5.0, 100)], roads=[("R", "commune", 0.0, 5.0)])
    v = gpd.read_file(folder / "villages.geojson")
    v["population_census"] = ["-3"]
    v.to_file(folder / "villages.geojson", driver="GeoJSON")
    with pytest.raises(InputError, match="population_census"):
        load_area(folder)
