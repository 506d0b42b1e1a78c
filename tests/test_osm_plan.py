"""A real OpenStreetMap extract that no one here wrote (pyrosm's bundled test PBF, a few km² of
Kotka, Finland) gives a routable network and a plan, through the same commands as the default data."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pyrosm  # noqa: E402  (the [test] extra installs it; a broken extra fails here)
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Point

from planner import cli
from planner.io import read_osm_places, read_roads
from planner.io.warn import InputWarning
from planner.planning.network import build_graph

CONFIG = """
[plan]
start_date = "2026-11-30"
weeks = 1
working_days = ["Mon", "Tue"]
max_iterations = 30000
walk_limit_m = 300
"""


def test_osm_pbf_gives_a_network_and_a_plan(tmp_path):
    pbf = pyrosm.get_data("test_pbf")
    roads = read_roads(pbf, validate=False)
    assert len(roads) > 500
    places = read_osm_places(pbf)
    # The extract holds one OSM place (a hamlet); the test adds villages at road vertices
    # picked deterministically (every 150th), as a district would add its own list.
    # Only junctions of the main connected piece: the extract is clipped, so some roads are cut off.
    graph = build_graph(SimpleNamespace(roads=roads))
    n = len(graph.xy)
    adj = coo_matrix((np.ones(len(graph.seg_u)), (graph.seg_u, graph.seg_v)), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    main = np.bincount(label).argmax()
    ends = sorted(
        {
            tuple(np.round(graph.lonlat[graph.seg_v[k]], 6))
            for k in range(len(graph.seg_v))
            if label[graph.seg_v[k]] == main
        }
    )[::150]
    area = gpd.GeoSeries([roads.union_all().convex_hull.buffer(0.002)], crs="EPSG:4326")
    folder = tmp_path / "osm"
    folder.mkdir()
    gpd.GeoDataFrame({"code": ["99999"], "name": ["Kotka test"], "population": [5000]}, geometry=area).to_file(
        folder / "communes.geojson", driver="GeoJSON"
    )
    names = list(places["name"]) + [f"Junction {k}" for k in range(len(ends))]
    points = list(places.geometry) + [Point(xy) for xy in ends]
    gpd.GeoDataFrame(
        {
            "id": [f"V{k:02d}" for k in range(len(points))],
            "name": names,
            "commune_code": ["99999"] * len(points),
            "population": [100 + 10 * k for k in range(len(points))],
        },
        geometry=points,
        crs="EPSG:4326",
    ).to_file(folder / "villages.geojson", driver="GeoJSON")
    depot = Point(ends[len(ends) // 2])
    gpd.GeoDataFrame(
        {"id": ["DEPOT"], "name": ["Depot"], "kind": ["depot"], "commune_code": ["99999"], "lodging": [True]},
        geometry=[depot],
        crs="EPSG:4326",
    ).to_file(folder / "sites.geojson", driver="GeoJSON")
    shutil.copy(pbf, folder / "roads.osm.pbf")
    cfg = tmp_path / "osm.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    # recoverable oddities of a real extract are warnings that name the fallback
    with pytest.warns(InputWarning) as caught:
        code = cli.main(
            [
                "plan",
                "--data",
                str(folder),
                "--config",
                str(cfg),
                "--out",
                str(tmp_path / "out"),
                "--run",
                "osm",
                "--quiet",
                "--no-printables",
            ]
        )
    assert any("no village needs it, ignored" in str(w.message) for w in caught)
    assert code == 0
    plan = json.loads((tmp_path / "out" / "osm" / "plan.json").read_text(encoding="utf-8"))
    assert plan["summary"]["villages_served"] >= len(points) - 2
    assert plan["summary"]["distance_km"] > 0
    reasons = {u["reason"] for u in plan["unserved"]}
    assert reasons <= {"unreachable", "not_enough_time", "too_far_for_shift"}
