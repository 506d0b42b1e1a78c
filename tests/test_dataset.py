"""Checks of the default dataset in ``data/`` (built by ``python -m planner.data.build``)."""

from __future__ import annotations

import json
import pathlib
import re

import networkx as nx
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import shape

DATA = pathlib.Path(__file__).parents[1] / "data"
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)

VILLAGE_KEYS = {
    "id": str,
    "name": str,
    "commune_code": str,
    "commune": str,
    "population": int,
    "population_census": int,
    "projected": bool,
    "households": int,
    "children": int,
    "approx_position": bool,
    "approx_name": bool,
    "approx_population": bool,
    "name_source": str,
    "post2025_commune": str,
}
COMMUNE_KEYS = {
    "code": str,
    "name": str,
    "unit_type": str,
    "population": int,
    "population_year": int,
    "population_source": str,
    "population_approximated": bool,
    "population_census": int,
    "population_census_year": int,
    "population_projected": bool,
    "growth_rate_pct": float,
    "growth_source": str,
    "post2025_commune": str,
    "area_km2": float,
    "approximated_geometry": bool,
}
SITE_KEYS = {
    "id": str,
    "name": str,
    "kind": str,
    "commune_code": str,
    "commune": str,
    "approximated": bool,
    "lodging": bool,
    "coverage_radius_m": int,
    "stock_books": int,
    "active": bool,
}
ROAD_KEYS = {
    "id": str,
    "road_class": str,
    "surface": str,
    "name": str,
    "approximated": bool,
    "rainy_closed": bool,
    "note": str,
}
SITE_KINDS = {
    "depot",
    "culture_centre",
    "learning_centre",
    "post_office_point",
    "private_library",
    "school",
    "border_post",
}
ROAD_CLASSES = {"national", "provincial", "commune", "track"}
SURFACES = {"asphalt", "concrete", "gravel", "earth"}
FILES = ("communes", "villages", "roads", "sites")


def _load(name: str) -> list[dict]:
    fc = json.loads((DATA / f"{name}.geojson").read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection"
    return fc["features"]


@pytest.fixture(scope="module")
def layers() -> dict[str, list[dict]]:
    return {n: _load(n) for n in FILES}


def _utm(lonlat) -> np.ndarray:
    a = np.asarray(lonlat, float).reshape(-1, 2)
    x, y = TO_UTM.transform(a[:, 0], a[:, 1])
    return np.column_stack([x, y])


def _check_keys(props: dict, spec: dict, exact: bool = False) -> None:
    if exact:
        assert set(props) == set(spec), props.get("id")
    for k, t in spec.items():
        assert k in props, (props.get("id"), k)
        v = props[k]
        if t is int:
            assert isinstance(v, int) and not isinstance(v, bool), (props.get("id"), k, v)
        elif t is float:
            assert isinstance(v, (int, float)) and not isinstance(v, bool), (props.get("id"), k, v)
        else:
            assert isinstance(v, t), (props.get("id"), k, v)


@pytest.mark.parametrize("name", FILES)
def test_ids_unique(layers, name):
    key = "code" if name == "communes" else "id"
    ids = [f["properties"][key] for f in layers[name]]
    assert len(ids) == len(set(ids))


def test_communes(layers):
    com = layers["communes"]
    assert len(com) == 14
    for f in com:
        p = f["properties"]
        _check_keys(p, COMMUNE_KEYS)
        assert re.fullmatch(r"\d{5}", p["code"])
        assert p["population"] > 0
        assert p["unit_type"] in ("Xã", "Thị trấn")
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    units = {f["properties"]["unit_type"] for f in com}
    assert units == {"Xã", "Thị trấn"}
    assert {f["properties"]["code"] for f in com} >= {"03433", "03451", "03466", "03467", "03440"}


def test_villages_schema_and_populations(layers):
    com = {f["properties"]["code"]: f["properties"] for f in layers["communes"]}
    sums: dict[str, int] = {}
    for f in layers["villages"]:
        p = f["properties"]
        _check_keys(p, VILLAGE_KEYS, exact=True)
        assert f["geometry"]["type"] == "Point"
        assert p["population"] > 0 and p["households"] > 0 and 0 <= p["children"] < p["population"]
        assert p["commune_code"] in com
        assert p["commune"] == com[p["commune_code"]]["name"]
        assert p["id"].startswith(p["commune_code"] + "-")
        assert p["approx_name"] == (p["name_source"] == "placeholder")
        sums[p["commune_code"]] = sums.get(p["commune_code"], 0) + p["population"]
    assert sums == {c: p["population"] for c, p in com.items()}
    real = [f for f in layers["villages"] if not f["properties"]["approx_name"]]
    assert len(real) == 21
    assert 90 <= len(layers["villages"]) <= 130


def test_villages_inside_their_commune(layers):
    polys = {f["properties"]["code"]: shape(f["geometry"]) for f in layers["communes"]}
    for f in layers["villages"]:
        pt = shape(f["geometry"])
        assert polys[f["properties"]["commune_code"]].contains(pt), f["properties"]["id"]


def test_sites(layers):
    com = {f["properties"]["code"] for f in layers["communes"]}
    kinds = []
    for f in layers["sites"]:
        p = f["properties"]
        _check_keys(p, SITE_KEYS)
        assert p["kind"] in SITE_KINDS
        assert p["commune_code"] in com
        kinds.append(p["kind"])
    assert kinds.count("depot") == 1
    assert kinds.count("culture_centre") == 13
    depot = next(f for f in layers["sites"] if f["properties"]["kind"] == "depot")
    assert depot["properties"]["id"] == "DEPOT"
    assert depot["geometry"]["coordinates"] == [102.81111, 22.37944]


def test_roads_schema(layers):
    for f in layers["roads"]:
        p = f["properties"]
        _check_keys(p, ROAD_KEYS)
        assert p["road_class"] in ROAD_CLASSES and p["surface"] in SURFACES
        assert f["geometry"]["type"] == "LineString" and len(f["geometry"]["coordinates"]) >= 2
    classes = {f["properties"]["road_class"] for f in layers["roads"]}
    assert classes == ROAD_CLASSES


def test_roads_connected_and_points_on_network(layers):
    G = nx.Graph()
    verts = []
    for f in layers["roads"]:
        xy = _utm(f["geometry"]["coordinates"])
        verts.append(xy)
        a, b = (tuple(np.round(xy[0]).astype(int)), tuple(np.round(xy[-1]).astype(int)))  # 1 m snap
        G.add_edge(a, b)
    assert nx.number_connected_components(G) == 1
    V = np.vstack(verts)
    for name in ("villages", "sites"):
        for f in layers[name]:
            x, y = _utm(f["geometry"]["coordinates"])[0]
            d = np.hypot(V[:, 0] - x, V[:, 1] - y).min()
            assert d <= 50.0, (f["properties"]["id"], d)


def test_build_is_deterministic(tmp_path):
    import sys

    root = str(DATA.parent)
    if root not in sys.path:  # plain `pytest` without an installed package or conftest
        sys.path.insert(0, root)
    from planner.data.build import build

    build(DATA / "sources", tmp_path)
    for n in FILES:
        assert (tmp_path / f"{n}.geojson").read_bytes() == (DATA / f"{n}.geojson").read_bytes(), n
