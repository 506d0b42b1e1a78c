"""Tiny hand-drawn areas whose best plan a person can work out.

Geometry: a straight east-west road along latitude 22.0 through the depot at
lon 103.0. At that latitude 0.01° of longitude is about 1,032 m; the helpers below place
points by kilometres east (+) or west (-) of the depot, converted with the same factor,
so distances are exact to the metre in the test's own arithmetic (within 0.3 %).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from planner.io import load_area
from planner.model.config import load_config

LAT0 = 22.0
LON0 = 103.0
M_PER_DEG_LON = 111_320 * math.cos(math.radians(LAT0))  # ~103,216 m


def plain_model(d, penalty):
    """A kernel model on the matrix ``d`` (time = distance), node 0 the depot of two vehicles; no
    service, demand or windows; ``penalty`` per node (-1: mandatory)."""
    from planner.engine.model import RoutingModel, VehicleSpec

    n = len(d)
    return RoutingModel(
        time_s=(d,),
        dist_m=(d.copy(),),
        service_s=np.zeros(n, dtype=np.int64),
        demand=np.zeros(n, dtype=np.int64),
        windows=((),) * n,
        penalty=np.full(n, penalty, dtype=np.int64),
        vehicles=(VehicleSpec(start=0, end=0), VehicleSpec(start=0, end=0)),
        horizon_s=10**6,
    )


def lon_at(km: float) -> float:
    return LON0 + km * 1000 / M_PER_DEG_LON


def write_area(folder: Path, villages, roads, sites=None, communes=None, village_columns=None) -> Path:
    """Write a tiny area: villages [(id, name, km, population)], roads [(id, class, km_from, km_to)].

    ``village_columns`` adds columns to the villages file, e.g. ``{"time_windows": [...]}``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    communes = communes or [("00001", "Xã Thử", box(lon_at(-300), LAT0 - 0.5, lon_at(300), LAT0 + 0.5))]
    gpd.GeoDataFrame(
        {"code": [c[0] for c in communes], "name": [c[1] for c in communes], "population": [1000] * len(communes)},
        geometry=[c[2] for c in communes],
        crs="EPSG:4326",
    ).to_file(folder / "communes.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(
        {
            "id": [v[0] for v in villages],
            "name": [v[1] for v in villages],
            "commune_code": ["00001"] * len(villages),
            "commune": ["Xã Thử"] * len(villages),
            "population": [v[3] for v in villages],
            "children": [v[3] // 3 for v in villages],
            "approx_position": [False] * len(villages),
            "approx_name": [False] * len(villages),
            "approx_population": [False] * len(villages),
            **(
                {"visits_per_cycle": [v[5] if len(v) > 5 else None for v in villages]}
                if any(len(v) > 5 for v in villages)
                else {}
            ),
            **(village_columns or {}),
        },
        geometry=[Point(lon_at(v[2]), v[4] if len(v) > 4 and v[4] else LAT0) for v in villages],
        crs="EPSG:4326",
    ).to_file(folder / "villages.geojson", driver="GeoJSON")
    sites = sites or []
    all_sites = [("DEPOT", "Kho sách", "depot", 0.0, True)] + list(sites)
    gpd.GeoDataFrame(
        {
            "id": [s[0] for s in all_sites],
            "name": [s[1] for s in all_sites],
            "kind": [s[2] for s in all_sites],
            "commune_code": ["00001"] * len(all_sites),
            "commune": ["Xã Thử"] * len(all_sites),
            "approximated": [False] * len(all_sites),
            "lodging": [s[4] for s in all_sites],
            "coverage_radius_m": [s[5] if len(s) > 5 else 0 for s in all_sites],
            "stock_books": [0] * len(all_sites),
            "active": [s[6] if len(s) > 6 else True for s in all_sites],
        },
        geometry=[Point(lon_at(s[3]), LAT0) for s in all_sites],
        crs="EPSG:4326",
    ).to_file(folder / "sites.geojson", driver="GeoJSON")
    geoms = []
    for r in roads:
        if len(r) > 4:  # explicit coordinates
            geoms.append(LineString(r[4]))
        else:
            geoms.append(LineString([(lon_at(r[2]), LAT0), (lon_at(r[3]), LAT0)]))
    gpd.GeoDataFrame(
        {
            "id": [r[0] for r in roads],
            "road_class": [r[1] for r in roads],
            "surface": ["asphalt"] * len(roads),
            "approximated": [False] * len(roads),
            "rainy_closed": [False] * len(roads),
        },
        geometry=geoms,
        crs="EPSG:4326",
    ).to_file(folder / "roads.geojson", driver="GeoJSON")
    return folder


def tiny_config(**plan):
    """One van, one working day (Monday 2026-11-30), commune roads at 20 km/h, quick solves."""
    base = {
        "plan": {
            "start_date": "2026-11-30",
            "weeks": 1,
            "working_days": ["Mon"],
            "time_limit_s": 30,
            "max_iterations": 20000,
            "seed": 0,
            "walk_limit_m": 0,
        },
        "profiles": {"van": {"dry": {"national": 40, "provincial": 30, "commune": 20, "track": 10}}},
    }
    base["plan"].update(plan)
    return base


@pytest.fixture
def line_area(tmp_path):
    """Depot at km 0; V1 at +5 km (100 people), V2 at +10 km (300), V3 at -10 km (200)."""
    folder = write_area(
        tmp_path / "line",
        villages=[("V1", "Bản Một", 5.0, 100), ("V2", "Bản Hai", 10.0, 300), ("V3", "Bản Ba", -10.0, 200)],
        roads=[("R1", "commune", -10.0, 0.0), ("R2", "commune", 0.0, 5.0), ("R3", "commune", 5.0, 10.0)],
    )
    return load_area(folder)


def config(**kw):
    raw = tiny_config(**kw.pop("plan", {}))
    for k, v in kw.items():
        raw[k] = v
    return load_config(None, raw)


def plan_for(area, cfg):
    """Solve and run the independent checker on the plan (every test plan is checked)."""
    from planner.planning.build import build_problem
    from planner.planning.checker import violations
    from planner.planning.solve import solve

    problem = build_problem(area, cfg)
    plan = solve(problem)
    assert violations(plan, problem) == []
    return plan, problem


def pytest_runtest_logreport(report):
    """In CI a skipped test is a failure: whatever it needed must be installed by ``.ci/run``."""
    import os

    if os.environ.get("CI") and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is a failure: {report.longrepr}"


# --- workspace (issue 11): `db_url`, a fresh workspace database per test on SQLite and PostgreSQL
from workspace_support import db_url  # noqa: E402,F401
