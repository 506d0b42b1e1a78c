"""``planner import-osm``: a complete data folder from an OpenStreetMap extract and a communes file.

Reads the PBF once per layer (with pyrosm), keeps what lies inside the communes, fills every
gap by a documented rule and flags it, and writes ``communes``, ``villages``, ``sites`` and
``roads`` GeoJSON files plus ``import_report.json`` into a new folder (atomically: a
temporary sibling folder renamed at the end).

Rules
-----
Roads
    ``highway`` -> road class by :data:`planner.io.osm.HIGHWAY_CLASS`; a missing ``surface``
    is filled by class (``surface_assumed``). A ``track`` on earth, dirt, ground, mud, sand,
    grass or an unknown surface is ``rainy_closed`` (:data:`RAINY_SURFACES`). Only the largest
    connected piece of the network is kept (a van cannot reach the others); the rest are
    counted in the report.
Villages
    ``place=village|hamlet|isolated_dwelling`` inside a commune (others are dropped and
    counted). ``population`` from the OSM tag; else the commune's population not yet
    accounted for by tagged places, shared in proportion to :data:`PLACE_WEIGHT` (village 3,
    hamlet 1, isolated dwelling 0.1); else, for a commune without a population, the
    :data:`PLACE_DEFAULT_POPULATION` of the place kind. Filled values have
    ``approx_population``. A missing name becomes ``Bản <commune> <n>`` (``approx_name``).
    ``households`` = population / :data:`PEOPLE_PER_HOUSEHOLD`, ``children`` =
    :data:`CHILD_SHARE` x population, as in the default data.
Sites
    Amenities mapped by :data:`planner.io.osm.AMENITY_KIND`, inside a commune. Their service
    fields follow the default data's rules (:data:`SITE_DEFAULTS`); ``defaults_assumed`` is
    set. A missing name becomes the kind's Vietnamese name and the commune's.
Depot
    ``depot_lonlat`` if given; else the ``townhall`` site nearest the population-weighted
    centre of the villages; else the road vertex nearest that centre. It is put on the
    nearest vertex of the kept network and flagged ``approximated``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Point

from planner.io import osm
from planner.io.readers import read_communes, read_osm_places, read_roads
from planner.model.area import GEO_CRS, METRIC_CRS
from planner.model.errors import InputError, OutputExistsError, Problem
from planner.model.rounding import largest_remainder

PLACE_WEIGHT = {"village": 3.0, "hamlet": 1.0, "isolated_dwelling": 0.1}
PLACE_DEFAULT_POPULATION = {"village": 300, "hamlet": 100, "isolated_dwelling": 10}
PEOPLE_PER_HOUSEHOLD = 4.7  # as planner.data.build
CHILD_SHARE = 0.30  # as planner.data.build
RAINY_SURFACES = {"earth", "dirt", "ground", "mud", "sand", "grass", "unpaved"}
SNAP_DECIMALS = 7  # road ends meet where their lon/lat agree to 1e-7 degrees (~1 cm)
SITE_DEFAULTS = {  # kind -> (active, lodging, coverage_radius_m, stock_books), as the default data
    "depot": (True, True, 0, 3000),
    "culture_centre": (True, True, 3000, 300),
    "learning_centre": (False, False, 3000, 150),
    "post_office_point": (False, False, 3000, 100),
    "private_library": (False, False, 3000, 100),
    "school": (False, False, 3000, 100),
    "border_post": (True, True, 0, 0),
}
KIND_NAME_VI = {
    "culture_centre": "Nhà văn hóa",
    "learning_centre": "Trung tâm học tập cộng đồng",
    "post_office_point": "Điểm Bưu điện - Văn hóa",
    "private_library": "Thư viện tư nhân",
    "school": "Điểm trường",
    "border_post": "Đồn Biên phòng",
}
DEPOT_NAME = "Điểm xuất phát xe thư viện (tạm định)"  # book-van starting point (provisional)


class ProblemSink:
    """Collects the problems the OSM reader reports for one file."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file, self.problems = file, problems

    def error(self, feature: str, field: str, value: object, rule: str) -> None:
        self.problems.append(Problem(self.file, feature, field, value, rule))

    def warning(self, feature: str, field: str, value: object, rule: str) -> None:
        self.problems.append(Problem(self.file, feature, field, value, rule, "warning"))


def _roads(pbf: Path, area_polygon, report: dict) -> gpd.GeoDataFrame:
    roads = read_roads(pbf, area_polygon=area_polygon, validate=False)
    if roads is None or len(roads) == 0:
        raise InputError([Problem(str(pbf), "file", "highway", None, "no roads inside the communes")])
    roads = roads[roads.geometry.geom_type == "LineString"].reset_index(drop=True)
    ends = np.vstack([np.asarray(g.coords)[[0, -1], :2] for g in roads.geometry])
    keys = np.round(ends, SNAP_DECIMALS)
    _, node = np.unique(keys, axis=0, return_inverse=True)
    node = node.ravel()
    n = int(node.max()) + 1
    u, v = node[0::2], node[1::2]
    _, label = connected_components(coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)), directed=False)
    road_label = label[u]
    length = roads.to_crs(METRIC_CRS).length.to_numpy()
    sizes = np.bincount(road_label, weights=length)
    keep = road_label == int(np.argmax(sizes))
    report["roads_dropped_disconnected"] = int((~keep).sum())
    roads = roads[keep].reset_index(drop=True)
    surface = roads["surface"].astype(str).str.lower()
    assumed = roads["surface_assumed"].astype(bool) if "surface_assumed" in roads else False
    roads["rainy_closed"] = ((roads["road_class"] == "track") & (surface.isin(RAINY_SURFACES) | assumed)).to_numpy()
    report["roads"] = len(roads)
    report["roads_surface_assumed"] = int(np.asarray(assumed).sum()) if "surface_assumed" in roads else 0
    report["roads_rainy_closed"] = int(roads["rainy_closed"].sum())
    return roads


def _villages(pbf: Path, area_polygon, communes: gpd.GeoDataFrame, report: dict) -> gpd.GeoDataFrame:
    places = read_osm_places(pbf, area_polygon=area_polygon, commune_codes=communes)
    if places is None:
        places = gpd.GeoDataFrame({"id": [], "name": [], "place": [], "commune_code": []}, geometry=[], crs=GEO_CRS)
    inside = places["commune_code"].notna() & (places["commune_code"].astype(str) != "") if len(places) else []
    report["places_outside_communes"] = int(len(places) - int(np.sum(inside))) if len(places) else 0
    places = places[inside].reset_index(drop=True) if len(places) else places
    if len(places) == 0:
        raise InputError(
            [Problem(str(pbf), "file", "place", None, "no place=village|hamlet|isolated_dwelling inside the communes")]
        )
    cpop = dict(zip(communes["code"].astype(str), communes.get("population", pd.Series([None] * len(communes)))))
    cname = dict(zip(communes["code"].astype(str), communes["name"].astype(str)))
    pops = [None if pd.isna(p) else int(p) for p in places["population"]]
    rule = ["osm tag" if p is not None else None for p in pops]
    for code, idx in places.groupby(places["commune_code"].astype(str)).groups.items():
        idx = list(idx)
        missing = [i for i in idx if pops[i] is None]
        if not missing:
            continue
        total = cpop.get(code)
        rest = (
            (int(total) - sum(pops[i] for i in idx if pops[i] is not None))
            if total is not None and not pd.isna(total)
            else None
        )
        weights = np.array([PLACE_WEIGHT.get(str(places["place"].iat[i]), 1.0) for i in missing])
        if rest is not None and rest >= len(missing):
            share = largest_remainder(weights, rest)
            for i, p in zip(missing, share):
                pops[i], rule[i] = max(1, p), "share of the commune population"
        else:
            for i in missing:
                pops[i] = PLACE_DEFAULT_POPULATION.get(str(places["place"].iat[i]), 100)
                rule[i] = "default for the place kind"
    filled = [int(p) if p is not None else 0 for p in pops]  # every place has one by now
    names, approx_name = [], []
    counter: dict[str, int] = {}
    for n, code in zip(places["name"], places["commune_code"].astype(str)):
        if isinstance(n, str) and n.strip() and n != "<NA>":
            names.append(n)
            approx_name.append(False)
        else:
            counter[code] = counter.get(code, 0) + 1
            names.append(f"Bản {cname.get(code, code)} {counter[code]}")
            approx_name.append(True)
    out = gpd.GeoDataFrame(
        {
            "id": places["id"].astype(str).to_numpy(),
            "name": names,
            "commune_code": places["commune_code"].astype(str).to_numpy(),
            "commune": [cname.get(c, c) for c in places["commune_code"].astype(str)],
            "population": filled,
            "households": [max(1, round(p / PEOPLE_PER_HOUSEHOLD)) for p in filled],
            "children": [round(p * CHILD_SHARE) for p in filled],
            "approx_position": False,
            "approx_name": approx_name,
            "approx_population": [r != "osm tag" for r in rule],
            "population_rule": rule,
            "osm_place": places["place"].astype(str).to_numpy(),
        },
        geometry=places.geometry.to_numpy(),
        crs=GEO_CRS,
    )
    report["villages"] = len(out)
    report["villages_population_filled"] = int(sum(r != "osm tag" for r in rule))
    report["villages_name_filled"] = int(sum(approx_name))
    return out


def _sites(pbf: Path, area_polygon, communes, roads, villages, depot_lonlat, report: dict) -> gpd.GeoDataFrame:
    problems: list[Problem] = []
    found = osm.sites_from_pbf(pbf, area_polygon=area_polygon, sink=ProblemSink(str(pbf), problems))
    if found is None:
        raise InputError(problems)
    cname = dict(zip(communes["code"].astype(str), communes["name"].astype(str)))
    if len(found):
        joined = gpd.sjoin(found, communes[["code", "geometry"]], how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        found = found.assign(commune_code=joined["code"].to_numpy())
        report["sites_outside_communes"] = int(found["commune_code"].isna().sum())
        found = found[found["commune_code"].notna()].reset_index(drop=True)
    else:
        found = found.assign(commune_code=pd.Series([], dtype=object))
        report["sites_outside_communes"] = 0
    rows = []
    for sid, name, kind, code, amenity, geom in zip(
        found["id"], found["name"], found["kind"], found["commune_code"], found["amenity"], found.geometry
    ):
        active, lodging, radius, books = SITE_DEFAULTS[kind]
        filled = not (isinstance(name, str) and name)
        rows.append(
            {
                "id": sid,
                "name": f"{KIND_NAME_VI[kind]} {cname[str(code)]}" if filled else name,
                "kind": kind,
                "commune_code": str(code),
                "commune": cname[str(code)],
                "approximated": False,
                "lodging": lodging,
                "coverage_radius_m": radius,
                "stock_books": books,
                "active": active,
                "defaults_assumed": True,
                "approx_name": filled,
                "osm_amenity": amenity,
                "geometry": geom,
            }
        )
    depot, how = _depot_point(roads, villages, rows, depot_lonlat)
    code = _commune_of(communes, depot)
    active, lodging, radius, books = SITE_DEFAULTS["depot"]
    rows.insert(
        0,
        {
            "id": "DEPOT",
            "name": DEPOT_NAME,
            "kind": "depot",
            "commune_code": code,
            "commune": cname.get(code, code),
            "approximated": depot_lonlat is None,
            "lodging": lodging,
            "coverage_radius_m": radius,
            "stock_books": books,
            "active": active,
            "defaults_assumed": True,
            "approx_name": True,
            "osm_amenity": "",
            "geometry": depot,
        },
    )
    report["depot_rule"] = how
    report["sites"] = len(rows)
    report["sites_by_kind"] = {k: sum(r["kind"] == k for r in rows) for k in sorted({r["kind"] for r in rows})}
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=GEO_CRS)


def _commune_of(communes: gpd.GeoDataFrame, pt: Point) -> str:
    hit = communes[communes.geometry.contains(pt)]
    if len(hit):
        return str(hit["code"].iloc[0])
    return str(communes.iloc[int(np.argmin(communes.geometry.distance(pt)))]["code"])


def _depot_point(roads, villages, sites: list[dict], depot_lonlat) -> tuple[Point, str]:
    verts = np.vstack([np.asarray(g.coords)[:, :2] for g in roads.geometry])
    if depot_lonlat is not None:
        anchor, how = np.asarray(depot_lonlat, float), "given position"
    else:
        w = villages["population"].to_numpy(float)
        xy = np.column_stack([villages.geometry.x, villages.geometry.y])
        centre = (xy * w[:, None]).sum(axis=0) / w.sum()
        halls = [s for s in sites if s["osm_amenity"] == "townhall"]
        if halls:
            best = min(halls, key=lambda s: (np.hypot(*(np.array(s["geometry"].coords[0]) - centre)), s["id"]))
            anchor, how = np.array(best["geometry"].coords[0]), f"townhall {best['name']} nearest the villages' centre"
        else:
            anchor, how = centre, "road vertex nearest the population-weighted centre of the villages"
    k = int(np.argmin(np.hypot(verts[:, 0] - anchor[0], verts[:, 1] - anchor[1])))
    return Point(round(float(verts[k, 0]), 7), round(float(verts[k, 1]), 7)), how


def import_osm(
    pbf: Path | str, communes_path: Path | str, out_dir: Path | str, *, force: bool = False, depot_lonlat=None
) -> dict:
    """Write a complete data folder for the communes from ``pbf``; return the import report."""
    pbf, out_dir = Path(pbf), Path(out_dir)
    if out_dir.exists() and not force:
        raise OutputExistsError(f"{out_dir} exists; pass --force to replace it")
    communes = read_communes(communes_path)
    if communes is None:  # read_communes raises on bad input; None only when asked for problems
        raise InputError([Problem(str(communes_path), "file", "-", None, "cannot be read")])
    area_polygon = communes.union_all()
    report: dict = {"source": pbf.name, "communes": len(communes)}
    roads = _roads(pbf, area_polygon, report)
    villages = _villages(pbf, area_polygon, communes, report)
    sites = _sites(pbf, area_polygon, communes, roads, villages, depot_lonlat, report)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        for name, frame in (("communes", communes), ("villages", villages), ("sites", sites), ("roads", roads)):
            frame = frame.copy()
            for col in frame.columns:
                if col != "geometry" and frame[col].dtype.name in ("string", "str"):
                    frame[col] = frame[col].astype(object)
            frame.to_file(tmp / f"{name}.geojson", driver="GeoJSON")
        (tmp / "import_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report
