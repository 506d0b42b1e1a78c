"""OpenStreetMap PBF: roads and places, read with pyrosm.

Roads are the ways of the ``"all"`` network, split at every shared node (so the line
ends meet exactly), clipped to the area, with the ``highway`` tag mapped to the
planner's road classes:

==========================================================  ===========
OSM ``highway``                                              road class
==========================================================  ===========
motorway, trunk, primary (and ``_link``)                      national
secondary, tertiary (and ``_link``)                           provincial
unclassified, residential, service, living_street, road       commune
track, path                                                   track
footway, cycleway, steps, pedestrian, bridleway, corridor,    (dropped)
construction, proposed, platform, and anything else
==========================================================  ===========

Vietnam has no motorway in the mountains; a ``motorway`` is mapped to ``national``
(the fastest class) rather than dropped. ``surface`` keeps OSM's value (``asphalt``,
``concrete``, ``gravel``, ``dirt``, ...); a missing one is filled by class
(:data:`DEFAULT_SURFACE`) and the road gets ``surface_assumed = True``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.io.common import clip_lines
from planner.model.area import GEO_CRS

HIGHWAY_CLASS = {
    **dict.fromkeys(("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"), "national"),
    **dict.fromkeys(("secondary", "secondary_link", "tertiary", "tertiary_link"), "provincial"),
    **dict.fromkeys(("unclassified", "residential", "service", "living_street", "road"), "commune"),
    **dict.fromkeys(("track", "path"), "track"),
}
DEFAULT_SURFACE = {"national": "asphalt", "provincial": "asphalt", "commune": "gravel", "track": "earth"}
PLACE_KINDS = ("village", "hamlet", "isolated_dwelling")


def _osm(path: Path, area_polygon):
    import pyrosm

    return pyrosm.OSM(str(path), bounding_box=area_polygon) if area_polygon is not None else pyrosm.OSM(str(path))


def _tags(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return {}


def roads_from_pbf(path: Path, *, area_polygon=None, sink) -> gpd.GeoDataFrame | None:
    """Road segments (one per pair of consecutive shared nodes) with ``road_class``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyrosm's own chatter (empty boundaries, dtypes)
            osm = _osm(path, area_polygon)
            got = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        sink.error("file", "-", None, f"cannot be read as OSM PBF (truncated or corrupt?): {exc}")
        return None
    if got is None or got[1] is None or len(got[1]) == 0:
        sink.error("file", "-", None, "no roads in the OSM file (inside the area)")
        return None
    edges = got[1]
    cls = edges["highway"].map(HIGHWAY_CLASS)
    edges = edges[cls.notna()].copy()
    edges["road_class"] = cls[cls.notna()]
    way = edges["id"].astype("int64").astype(str)
    part = edges.groupby("id").cumcount().astype(str)
    surface = edges["surface"] if "surface" in edges else pd.Series(None, index=edges.index)
    assumed = surface.isna().to_numpy()
    surface = surface.fillna(edges["road_class"].map(DEFAULT_SURFACE))
    out = gpd.GeoDataFrame(
        {
            "id": pd.array(("osm-w" + way + "-" + part).to_numpy(), dtype="str"),
            "road_class": pd.array(edges["road_class"].to_numpy(), dtype="str"),
            "surface": pd.array(surface.astype(str).to_numpy(), dtype="str"),
            "surface_assumed": assumed,
            "approximated": np.zeros(len(edges), dtype=bool),
            "name": pd.array(edges["name"].to_numpy() if "name" in edges else [None] * len(edges), dtype="str"),
            "highway": pd.array(edges["highway"].to_numpy(), dtype="str"),
            "osm_way_id": edges["id"].astype("int64").to_numpy(),
        },
        geometry=edges.geometry.to_numpy(),
        crs=GEO_CRS,
    )
    if area_polygon is not None:
        out = clip_lines(out, area_polygon)
        out = out.explode(index_parts=False).reset_index(drop=True)
    return out.reset_index(drop=True)


def places_from_pbf(path: Path, *, area_polygon=None, communes=None, sink) -> gpd.GeoDataFrame | None:
    """OSM village/hamlet/isolated_dwelling nodes as candidate villages."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = _osm(path, area_polygon)
            pois = osm.get_pois(custom_filter={"place": list(PLACE_KINDS)})
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        sink.error("file", "-", None, f"cannot be read as OSM PBF (truncated or corrupt?): {exc}")
        return None
    cols = [
        "id",
        "name",
        "place",
        "commune_code",
        "commune",
        "population",
        "approx_position",
        "approx_name",
        "approx_population",
    ]
    if pois is None or len(pois) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=GEO_CRS)
    pois = pois[pois["place"].isin(PLACE_KINDS)].copy()
    pois["geometry"] = pois.geometry.representative_point()
    if area_polygon is not None:
        pois = pois[pois.geometry.within(area_polygon)]
    tags = [_tags(t) for t in pois["tags"]] if "tags" in pois else [{} for _ in range(len(pois))]
    names = [
        t.get("name:vi") or t.get("name") or (n if isinstance(n, str) else None)
        for t, n in zip(tags, pois["name"] if "name" in pois else [None] * len(pois))
    ]
    pops = []
    for t in tags:
        raw = str(t.get("population", "")).replace(",", "").replace(".", "").strip()
        pops.append(int(raw) if raw.isdigit() else None)
    out = gpd.GeoDataFrame(
        {
            "id": pd.array([f"osm-{k[0]}{i}" for k, i in zip(pois["osm_type"].astype(str), pois["id"])], dtype="str"),
            "name": pd.array(names, dtype="str"),
            "place": pd.array(pois["place"].to_numpy(), dtype="str"),
            "population": pd.array(pops, dtype="Int64"),
            "approx_position": np.zeros(len(pois), dtype=bool),
            "approx_name": np.array([n is None for n in names], dtype=bool),
            "approx_population": np.array([p is None for p in pops], dtype=bool),
        },
        geometry=pois.geometry.to_numpy(),
        crs=GEO_CRS,
    ).reset_index(drop=True)
    if isinstance(communes, gpd.GeoDataFrame) and len(out):
        joined = gpd.sjoin(
            out,
            communes[["code", "name", "geometry"]].rename(columns={"name": "commune"}),
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        out["commune_code"] = pd.array(joined["code"].to_numpy(), dtype="str")
        out["commune"] = pd.array(joined["commune"].to_numpy(), dtype="str")
    else:
        out["commune_code"] = pd.array([None] * len(out), dtype="str")
        out["commune"] = pd.array([None] * len(out), dtype="str")
    return out


# ----- issue 10, part 7 (begin): sites from amenity tags -----
#: OSM ``amenity`` -> the directive's site kind. A library or townhall stands for the commune
#: library / culture house (the directive's "library combined with the culture centre");
#: a kindergarten is a school point. ``police`` is a border post only when its tags say so
#: (:data:`BORDER_WORDS`); ``barrier=border_control`` is always one.
AMENITY_KIND = {
    "school": "school",
    "kindergarten": "school",
    "post_office": "post_office_point",
    "community_centre": "culture_centre",
    "library": "culture_centre",
    "townhall": "culture_centre",
    "police": "border_post",
}
BORDER_WORDS = ("biên phòng", "bien phong", "border")
SITE_AMENITIES = tuple(AMENITY_KIND)


def _is_border(tags: dict, name: str | None) -> bool:
    text = " ".join(str(v) for v in [name or "", tags.get("operator", ""), tags.get("police", "")]).lower()
    return tags.get("barrier") == "border_control" or any(w in text for w in BORDER_WORDS)


def sites_from_pbf(path: Path, *, area_polygon=None, sink) -> gpd.GeoDataFrame | None:
    """OSM amenities mapped to site kinds (:data:`AMENITY_KIND`): ``id, name, kind, amenity``.

    Ways and relations become their representative point. A ``police`` amenity that is not
    a border post is left out.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = _osm(path, area_polygon)
            pois = osm.get_pois(custom_filter={"amenity": list(SITE_AMENITIES), "barrier": ["border_control"]})
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        sink.error("file", "-", None, f"cannot be read as OSM PBF (truncated or corrupt?): {exc}")
        return None
    cols: dict[str, list[Any]] = {"id": [], "name": [], "kind": [], "amenity": []}
    geoms = []
    if pois is not None and len(pois):
        amen = pois["amenity"] if "amenity" in pois else pd.Series([None] * len(pois), index=pois.index)
        tags_col = pois["tags"] if "tags" in pois else [None] * len(pois)
        names = pois["name"] if "name" in pois else [None] * len(pois)
        kind: str | None
        for (k, row), a, t, n in zip(pois.iterrows(), amen, tags_col, names):
            tags = _tags(t)
            name = tags.get("name:vi") or (n if isinstance(n, str) and n else None)
            if a == "police" or (a not in AMENITY_KIND and tags.get("barrier") == "border_control"):
                if not _is_border({**tags, "barrier": tags.get("barrier", row.get("barrier"))}, name):
                    continue
                kind = "border_post"
            elif a in AMENITY_KIND:
                kind = AMENITY_KIND[a]
            elif row.get("barrier") == "border_control":
                kind = "border_post"
            else:
                continue
            cols["id"].append(f"osm-{str(row['osm_type'])[0]}{row['id']}")
            cols["name"].append(name)
            cols["kind"].append(kind)
            cols["amenity"].append(a if isinstance(a, str) else "border_control")
            geoms.append(row.geometry.representative_point())
    out = gpd.GeoDataFrame(cols, geometry=geoms, crs=GEO_CRS)
    if area_polygon is not None and len(out):
        out = out[out.geometry.within(area_polygon)].reset_index(drop=True)
    return out


# ----- issue 10, part 7 (end) -----
