"""Validation of an area's layers: every problem at once, each naming file, feature, field, value, rule.

:func:`validate_area` checks frames already read (an :class:`~planner.model.area.Area` or a
mapping ``{"villages": gdf, ...}`` with any subset of the four layers);
:func:`check` reads files and validates them; :func:`main_check` is the
``planner check`` command.

Errors (severity ``"error"``) stop :func:`planner.io.load_area`; warnings name the
fallback the planner takes (see :mod:`planner.io.warn`). Positions are WGS84
``[lon, lat]``; distances are measured in UTM 48N (EPSG:32648), in metres.

Rules
-----
- every layer: required columns; ids (``code`` for communes) present and unique;
  names present; geometry present, valid and of the layer's type; lon/lat in range,
  not swapped (``lat≈102, lon≈22``) and not projected metres in a file claiming EPSG:4326;
- villages: ``population`` a non-negative integer; ``households``/``children`` too when
  given; ``visits_per_cycle`` an integer in 0..20; ``time_window(s)`` ``HH:MM-HH:MM``
  (several separated by ``;``); inside the area (union of the communes) and inside
  their own commune (within ``boundary_tolerance_m``); ``commune_code`` known;
- sites: as villages, ``kind`` in :data:`~planner.model.area.SITE_KINDS`, at least one depot;
  optional ``term`` (school term: date ranges ``YYYY-MM-DD..YYYY-MM-DD`` separated by ``,``, not
  overlapping) and ``hours`` (the time-window grammar, e.g. ``Mon-Fri 07:30-11:00, 13:30-16:30``),
  on a site of kind ``school`` only;
- roads: ``road_class`` in :data:`~planner.model.area.ROAD_CLASSES`; the network (roads joined
  where they share a vertex, within ``snap_m`` = 1 m, as in :mod:`planner.planning.network`) has no piece cut off from the depot's (an error if a
  village's nearest road is on it, else a warning); villages and sites farther than
  ``max_offroad_m`` (2,000 m) from every road are warned (connected by an off-road walk);
  optional ``speed_kph`` / ``time_min`` numbers > 0 (a speed at most 120 km/h); optional
  ``closed_from`` / ``closed_until`` dates ``YYYY-MM-DD`` or yearly ``MM-DD``, both of one
  form, an ISO range not ending before it starts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from planner.io.common import VIETNAM_BOX, feature_label, join_vertices, norm_header
from planner.model.area import (
    COMMUNE_FIELDS,
    METRIC_CRS,
    ROAD_CLASSES,
    ROAD_FIELDS,
    SITE_FIELDS,
    SITE_KINDS,
    VILLAGE_FIELDS,
    Area,
)
from planner.model.calendar import parse_market_days, parse_term, parse_time_windows
from planner.model.errors import Problem

LAYERS = ("communes", "villages", "sites", "roads")
DEFAULT_MAX_OFFROAD_M = 2000.0
DEFAULT_SNAP_M = 1.0
DEFAULT_BOUNDARY_TOLERANCE_M = 100.0
MAX_VISITS_PER_CYCLE = 20
MAX_ROAD_SPEED_KPH = 120.0  # a per-road speed above this is a unit mistake
_MD = re.compile(r"\d{2}-\d{2}")
REQUIRED = {"villages": VILLAGE_FIELDS, "sites": SITE_FIELDS, "roads": ROAD_FIELDS, "communes": COMMUNE_FIELDS}
GEOM_TYPES = {
    "villages": ("Point",),
    "sites": ("Point",),
    "roads": ("LineString", "MultiLineString"),
    "communes": ("Polygon", "MultiPolygon"),
}
_COMMUNE_PREFIX = re.compile(r"^(xa|thi_tran|phuong|tt|x)_")


class _Layer:
    """One frame with its file name and row labels."""

    def __init__(self, kind: str, gdf: gpd.GeoDataFrame, file: str, out: list[Problem]):
        self.kind, self.gdf, self.file, self.out = kind, gdf, file, out
        self.id_col = "code" if kind == "communes" else "id"
        self.first_row = int(gdf.attrs.get("first_row", 1))
        self.ids = [_clean(v) for v in gdf[self.id_col]] if self.id_col in gdf else [None] * len(gdf)

    def label(self, i: int) -> str:
        return feature_label(self.ids[i], i + self.first_row)

    def error(self, i: int | str, field: str, value: object, rule: str, severity: str = "error") -> None:
        feature = self.label(i) if isinstance(i, (int, np.integer)) else i
        self.out.append(Problem(self.file, feature, field, value, rule, severity))

    def warning(self, i: int | str, field: str, value: object, rule: str) -> None:
        self.error(i, field, value, rule, "warning")


def _clean(v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


def _frames(data: Area | Mapping[str, gpd.GeoDataFrame | None]) -> dict[str, gpd.GeoDataFrame]:
    if isinstance(data, Area):
        data = {"villages": data.villages, "sites": data.sites, "roads": data.roads, "communes": data.communes}
    return {k: v for k, v in data.items() if v is not None and k in LAYERS}


def validate_area(
    data: Area | Mapping[str, gpd.GeoDataFrame | None],
    *,
    files: Mapping[str, str] | None = None,
    max_offroad_m: float = DEFAULT_MAX_OFFROAD_M,
    snap_m: float = DEFAULT_SNAP_M,
    boundary_tolerance_m: float = DEFAULT_BOUNDARY_TOLERANCE_M,
) -> list[Problem]:
    """Every problem of the given layers (errors and warnings), in file order.

    Parameters
    ----------
    data
        An :class:`~planner.model.area.Area`, or a mapping layer name -> GeoDataFrame (WGS84)
        holding any of ``villages``, ``sites``, ``roads``, ``communes``; cross-layer
        rules run only when their layers are present.
    files
        Layer name -> file name used in the messages; defaults to ``frame.attrs["source"]``
        (set by the readers), else the layer name.
    """
    frames = _frames(data)
    out: list[Problem] = []
    layers = {k: _Layer(k, g, (files or {}).get(k) or g.attrs.get("source") or k, out) for k, g in frames.items()}
    for kind in LAYERS:
        if kind in layers:
            _check_layer(layers[kind], has_communes="communes" in layers)
    communes = layers.get("communes")
    area_m = communes_m = None
    if communes is not None and len(communes.gdf):
        communes_m = _communes_metric(communes.gdf)
        if communes_m is not None and len(communes_m):
            area_m = shapely.union_all(communes_m.geometry.to_numpy())
    points_m = {}
    for kind in ("villages", "sites"):
        if kind in layers:
            points_m[kind] = _check_points(layers[kind], communes, communes_m, area_m, boundary_tolerance_m)
    if "roads" in layers:
        _check_roads(layers["roads"], layers.get("sites"), layers.get("villages"), points_m, max_offroad_m, snap_m)
    return out


#: Alias: validate any subset of layers given as frames.
validate_frames = validate_area


# ------------------------------------------------------------------ layer rules
def _check_layer(layer: _Layer, *, has_communes: bool) -> None:
    gdf, kind = layer.gdf, layer.kind
    for col in REQUIRED[kind]:
        if col not in gdf:
            if kind in ("villages", "sites") and col == "commune" and has_communes and "commune_code" in gdf:
                layer.warning("header", col, None, "column missing; filled with the commune names of commune_code")
                continue
            layer.error(
                "header",
                col,
                None,
                f"required column missing; the columns are: {', '.join(c for c in gdf.columns if c != 'geometry')}",
            )
    seen: dict[object, int] = {}
    for i, ident in enumerate(layer.ids):
        if ident is None:
            if layer.id_col in gdf:
                layer.error(i, layer.id_col, None, f"missing {layer.id_col}")
            continue
        key = str(ident)
        if key in seen:
            layer.error(i, layer.id_col, ident, f"duplicate {layer.id_col}; first used at row {seen[key]}")
        else:
            seen[key] = i + layer.first_row
    if "name" in gdf and kind != "roads":
        for i, v in enumerate(gdf["name"]):
            if _clean(v) is None:
                layer.error(i, "name", None, "missing name")
    if kind == "villages":
        _ints(layer, "population", required=True)
        _ints(layer, "households")
        _ints(layer, "children")
        _ints(layer, "population_census")
    if kind == "communes":
        _ints(layer, "population")
        _ints(layer, "population_census")
    if kind == "sites":
        _ints(layer, "coverage_radius_m")
        _ints(layer, "stock_books")
        _enum(layer, "kind", SITE_KINDS)
        if "kind" in gdf and not (gdf["kind"] == "depot").fillna(False).any():
            layer.error("file", "kind", None, "no site of kind 'depot': the van needs one to start from")
        _school_calendar(layer)
    if kind == "roads":
        _enum(layer, "road_class", ROAD_CLASSES)
        for col in ("speed_kph", "time_min"):
            _positive_numbers(layer, col)
        for col in ("closed_from", "closed_until"):
            _dates(layer, col)
        _closure_pairs(layer)
    if kind in ("villages", "sites"):
        _ints(layer, "visits_per_cycle", lo=0, hi=MAX_VISITS_PER_CYCLE)
        for col in ("time_window", "time_windows"):
            if col in gdf:
                _time_windows(layer, col)
    if kind == "villages":
        _ints(layer, "walk_limit_m")
        _market_days(layer)
        _priorities(layer)
    _geometries(layer)


def _market_days(layer: _Layer) -> None:
    if "market_days" not in layer.gdf:
        return
    for i, v in enumerate(layer.gdf["market_days"]):
        try:
            parse_market_days(_clean(v))
        except ValueError as exc:
            layer.error(i, "market_days", v, str(exc))


def _school_calendar(layer: _Layer) -> None:
    """A school's ``term`` (date ranges) and ``hours`` (time windows), on schools only."""
    gdf = layer.gdf
    for col, parse in (("term", parse_term), ("hours", parse_time_windows)):
        if col not in gdf:
            continue
        for i, v in enumerate(gdf[col]):
            v = _clean(v)
            if v is None:
                continue
            kind = _clean(gdf["kind"].iloc[i]) if "kind" in gdf else None
            if kind != "school":
                layer.error(i, col, v, f"only a site of kind 'school' has a {col}; this one is {kind!r}")
                continue
            try:
                parse(v)
            except ValueError as exc:
                layer.error(i, col, v, str(exc))


def _priorities(layer: _Layer) -> None:
    if "priority" not in layer.gdf:
        return
    for i, v in enumerate(layer.gdf["priority"]):
        v = _clean(v)
        if v is not None and not (isinstance(v, (int, float)) and v > 0):
            layer.error(i, "priority", v, "must be a number > 0 (1 = normal, 2 = twice the weight)")


def _ints(layer: _Layer, col: str, *, required: bool = False, lo: int = 0, hi: int | None = None) -> None:
    if col not in layer.gdf:
        return
    for i, v in enumerate(layer.gdf[col]):
        v = _clean(v)
        if v is None:
            if required:
                layer.error(i, col, None, f"missing {col}")
            continue
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                v = int(v)
            else:
                layer.error(i, col, v, f"not an integer (a whole number{'' if hi is None else f' in {lo}..{hi}'})")
                continue
        if v < lo:
            layer.error(i, col, v, "negative" if lo == 0 and hi is None else f"must be in {lo}..{hi}")
        elif hi is not None and v > hi:
            layer.error(i, col, v, f"must be in {lo}..{hi}")


def _present(layer: _Layer, col: str):
    """(row index, value) of the non-empty cells of an optional column."""
    if col not in layer.gdf:
        return
    for i, v in enumerate(layer.gdf[col]):
        v = _clean(v)
        if v is not None:
            yield i, v


def _positive_numbers(layer: _Layer, col: str) -> None:
    """Optional road ``speed_kph`` / ``time_min``: a number > 0 (and a speed at most MAX_ROAD_SPEED_KPH)."""
    for i, v in _present(layer, col):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            layer.error(i, col, v, "not a number")
        elif not math.isfinite(float(v)) or v <= 0:
            layer.error(i, col, v, "must be a number > 0")
        elif col == "speed_kph" and v > MAX_ROAD_SPEED_KPH:
            layer.error(i, col, v, f"a speed above {MAX_ROAD_SPEED_KPH} km/h is not a mountain road (km/h, not m/s?)")


def _date_value(v: object) -> tuple[str, bool]:
    """(kind, ok): ``"iso"`` for YYYY-MM-DD, ``"md"`` for a yearly MM-DD, ok False if invalid."""
    text = str(v).strip()
    if _MD.fullmatch(text):
        try:
            dt.date(2000, int(text[:2]), int(text[3:]))  # 2000: a leap year, so 02-29 is allowed
            return "md", True
        except ValueError:
            return "md", False
    try:
        dt.date.fromisoformat(text)
        return "iso", len(text) == 10
    except ValueError:
        return "iso", False


def _dates(layer: _Layer, col: str) -> None:
    for i, v in _present(layer, col):
        if not _date_value(v)[1]:
            layer.error(i, col, v, "not a date: YYYY-MM-DD, or MM-DD for a closure that recurs every year")


def _closure_pairs(layer: _Layer) -> None:
    """closed_from and closed_until of one road: the same form; an ISO range must not end before it starts."""
    gdf = layer.gdf
    if "closed_from" not in gdf or "closed_until" not in gdf:
        return
    for i, (a, b) in enumerate(zip(gdf["closed_from"], gdf["closed_until"])):
        a, b = _clean(a), _clean(b)
        if a is None or b is None:
            continue
        (ka, oka), (kb, okb) = _date_value(a), _date_value(b)
        if not (oka and okb):
            continue
        if ka != kb:
            layer.error(
                i,
                "closed_until",
                b,
                f"closed_from {a!r} and closed_until differ in form (both YYYY-MM-DD or both MM-DD)",
            )
        elif ka == "iso" and str(b) < str(a):
            layer.error(i, "closed_until", b, f"ends before closed_from {a!r}")


def _enum(layer: _Layer, col: str, allowed: tuple[str, ...]) -> None:
    if col not in layer.gdf:
        return
    for i, v in enumerate(layer.gdf[col]):
        v = _clean(v)
        if v is None:
            layer.error(i, col, None, f"missing {col}; one of: {', '.join(allowed)}")
        elif v not in allowed:
            hint = [a for a in allowed if norm_header(a) == norm_header(v)]
            layer.error(
                i,
                col,
                v,
                f"unknown {col}; one of: {', '.join(allowed)}" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
            )


def _time_windows(layer: _Layer, col: str) -> None:
    for i, v in enumerate(layer.gdf[col]):
        v = _clean(v)
        if v is None:
            continue
        try:
            parse_time_windows(v)
        except ValueError as exc:
            layer.error(i, col, v, str(exc))


def _geometries(layer: _Layer) -> None:
    gdf = layer.gdf
    field = "geometry"
    kinds = GEOM_TYPES[layer.kind]
    geoms = gdf.geometry.to_numpy() if gdf.geometry is not None else np.array([None] * len(gdf))
    coord_fields = gdf.attrs.get("coord_fields", "geometry")
    already = set(gdf.attrs.get("bad_position_rows", ()))  # the reader said why
    # Vectorised screening; only suspicious rows are looked at one by one.
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    type_ok = np.isin(shapely.get_type_id(geoms), [_TYPE_IDS[k] for k in kinds])
    valid = shapely.is_valid(geoms)
    bounds = shapely.bounds(geoms)
    finite = np.asarray(np.isfinite(bounds).all(axis=1))
    degrees = (np.abs(bounds[:, [0, 2]]).max(axis=1) <= 180) & (np.abs(bounds[:, [1, 3]]).max(axis=1) <= 90)
    zero = (shapely.length(geoms) == 0) if layer.kind == "roads" else np.zeros(len(geoms), bool)
    suspicious = missing | ~type_ok | ~valid | ~finite | zero
    if layer.kind in ("roads", "communes"):
        suspicious |= ~degrees
    for i in np.flatnonzero(suspicious):
        g = geoms[i]
        if missing[i]:
            if i not in already:
                layer.error(
                    int(i), field if kinds[0] != "Point" else coord_fields, None, "empty geometry (no position)"
                )
        elif not type_ok[i]:
            layer.error(int(i), field, _wkt(g), f"{g.geom_type} where a {' or '.join(kinds)} is expected")
        elif not valid[i]:
            layer.error(int(i), field, _wkt(g), f"invalid geometry: {shapely.is_valid_reason(g)}")
        elif not finite[i]:
            layer.error(int(i), field, _wkt(g), "coordinates are not finite numbers")
        elif not degrees[i]:
            layer.error(int(i), field, _wkt(g), _PROJECTED)
        elif zero[i]:
            layer.error(int(i), field, _wkt(g), "zero-length road")


_TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiLineString": 5, "MultiPolygon": 6}


_PROJECTED = (
    "coordinates look projected (metres, e.g. UTM 48N easting/northing) but the file claims "
    "EPSG:4326 lon/lat degrees; save it with its real CRS (EPSG:32648) or read it with coords='utm48n'"
)


def _wkt(g) -> str:
    return shapely.to_wkt(g, rounding_precision=6) if g is not None else "None"


def _in_box(x: float, y: float) -> bool:
    x0, y0, x1, y1 = VIETNAM_BOX
    return x0 <= x <= x1 and y0 <= y <= y1


def _communes_metric(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    ok = communes.geometry.notna() & ~communes.geometry.is_empty
    ok &= communes.geometry.geom_type.isin(GEOM_TYPES["communes"])
    sub = communes[ok].copy()
    # An invalid polygon is reported once by its own rule; repaired here so that it does
    # not also put every village of the commune "outside".
    sub["geometry"] = shapely.make_valid(sub.geometry.to_numpy())
    b = sub.total_bounds if len(sub) else None
    if b is None or not (np.all(np.abs(b[[0, 2]]) <= 180) and np.all(np.abs(b[[1, 3]]) <= 90)):
        return None
    m = sub.to_crs(METRIC_CRS)
    m["code"] = [str(c) for c in sub["code"]] if "code" in sub else [None] * len(sub)
    return m


def _check_points(layer: _Layer, communes: _Layer | None, communes_m, area_m, tol_m: float):
    """Position rules for points; returns metric points (None where unusable)."""
    gdf = layer.gdf
    field = gdf.attrs.get("coord_fields", "geometry")
    n = len(gdf)
    geoms = gdf.geometry.to_numpy()
    usable = np.array([g is not None and not g.is_empty and g.geom_type == "Point" for g in geoms], dtype=bool)
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    if usable.any():
        xy = shapely.get_coordinates(geoms[usable])
        xs[usable], ys[usable] = xy[:, 0], xy[:, 1]
    area_deg = None
    if area_m is not None:
        area_deg = gpd.GeoSeries([area_m], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]
        shapely.prepare(area_deg)
    ok = usable & np.isfinite(xs) & np.isfinite(ys)
    for i in np.flatnonzero(ok).tolist():
        x, y = xs[i], ys[i]
        swapped_inside = (abs(x) <= 90 and abs(y) <= 180) and (
            area_deg.distance(shapely.Point(y, x)) < 0.01 if area_deg is not None else _in_box(y, x)
        )
        here_inside = (abs(x) <= 180 and abs(y) <= 90) and (
            area_deg.distance(shapely.Point(x, y)) < 0.01 if area_deg is not None else _in_box(x, y)
        )
        if swapped_inside and not here_inside:
            layer.error(
                int(i),
                field,
                (round(float(x), 6), round(float(y), 6)),
                f"latitude/longitude look swapped; did you mean (lon, lat) = ({y:.6g}, {x:.6g})?",
            )
            ok[i] = False
        elif abs(x) > 180 or abs(y) > 90:
            layer.error(
                int(i),
                field,
                (round(float(x), 3), round(float(y), 3)),
                _PROJECTED
                if abs(x) > 1000 or abs(y) > 1000
                else "longitude must be in -180..180 and latitude in -90..90",
            )
            ok[i] = False
    pts_m = gpd.GeoSeries([None] * n, crs=METRIC_CRS)
    if ok.any():
        pts_m.iloc[np.flatnonzero(ok)] = (
            gpd.GeoSeries(shapely.points(xs[ok], ys[ok]), crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
        )
    if communes is None:
        return pts_m
    codes = [_clean(v) for v in gdf["commune_code"]] if "commune_code" in gdf else [None] * n
    names = [_clean(v) for v in gdf["commune"]] if "commune" in gdf else [None] * n
    cgdf = communes.gdf
    known = {str(c): i for i, c in enumerate(cgdf["code"]) if _clean(c) is not None} if "code" in cgdf else {}
    cname = {str(c): str(nm) for c, nm in zip(cgdf.get("code", []), cgdf.get("name", []))}
    by_full: dict[str, set[str]] = {}
    by_short: dict[str, set[str]] = {}
    for c, nm in cname.items():
        by_full.setdefault(norm_header(nm), set()).add(c)
        by_short.setdefault(_fold_commune(nm), set()).add(c)

    def candidates(name: object) -> set[str]:
        return by_full.get(norm_header(name)) or by_short.get(_fold_commune(name), set())

    geom_by_code = dict(zip(communes_m["code"], communes_m.geometry)) if communes_m is not None else {}
    tree = shapely.STRtree(communes_m.geometry.to_numpy()) if communes_m is not None and len(communes_m) else None
    for i in range(n):
        code, name = codes[i], names[i]
        if code is None and "commune_code" in gdf:
            layer.error(i, "commune_code", None, "missing commune_code")
        elif code is not None and str(code) not in known:
            hint = ""
            if str(code).isdigit() and str(code).zfill(5) in known:
                hint = f"; did you mean '{str(code).zfill(5)}' (leading zero lost, e.g. by Excel)?"
            elif name is not None and len(candidates(name)) == 1:
                hint = f"; the commune name {name!r} has code '{min(candidates(name))}'"
            layer.error(
                i, "commune_code", code, f"unknown commune code{hint or '; known codes: ' + ', '.join(sorted(known))}"
            )
            code = None
        if name is not None:
            cands = candidates(name)
            if not cands:
                layer.error(
                    i, "commune", name, "unknown commune name; known names: " + ", ".join(sorted(cname.values()))
                )
            elif code is not None and str(code) not in cands:
                layer.warning(
                    i,
                    "commune",
                    name,
                    f"names commune {', '.join(sorted(cands))} but commune_code is "
                    f"'{code}' ({cname.get(str(code))}); the code is used",
                )
        p = pts_m.iloc[i]
        if p is None or area_m is None:
            continue
        d_area = area_m.distance(p)
        if d_area > tol_m:
            layer.error(
                i,
                field,
                (round(float(xs[i]), 6), round(float(ys[i]), 6)),
                f"outside the area (the union of the communes) by {d_area:,.0f} m",
            )
            continue
        if code is not None and str(code) in geom_by_code:
            d = geom_by_code[str(code)].distance(p)
            if d > tol_m:
                hits: np.ndarray | list[int] = tree.query(p, predicate="intersects") if tree is not None else []
                inside = ", ".join(
                    f"{communes_m['code'].iat[j]} ({cname.get(communes_m['code'].iat[j])})" for j in hits
                )
                layer.error(
                    i,
                    field,
                    (round(float(xs[i]), 6), round(float(ys[i]), 6)),
                    f"lies {d:,.0f} m outside its commune {code} ({cname.get(str(code))})"
                    + (f"; it falls in {inside}" if inside else ""),
                )
    return pts_m


def _fold_commune(name: object) -> str:
    return _COMMUNE_PREFIX.sub("", norm_header(name))


# --------------------------------------------------------------------- network
def road_components(lines_m: np.ndarray, snap_m: float = DEFAULT_SNAP_M) -> tuple[np.ndarray, nx.Graph]:
    """Component label of each road (by its first vertex) and the road graph, as the planner joins roads.

    Like :func:`planner.planning.network.build_graph`, roads meet where they share a vertex
    (an end or an inner vertex); vertices closer than ``snap_m`` metres are one node
    (pairs found with a k-d tree, so two points 0.4 m apart across a grid line still
    meet). Every pair of consecutive vertices is an edge carrying its road's index.
    Labels are numbered by component size, largest first; -1 for a road without vertices.
    """
    parts, owner = shapely.get_parts(lines_m, return_index=True)
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    n = len(xy)
    node = join_vertices(xy, snap_m)
    same = part_of[1:] == part_of[:-1] if n else np.empty(0, bool)
    k = np.flatnonzero(same & (node[1:] != node[:-1]))
    graph = nx.Graph()
    graph.add_nodes_from(np.unique(node).tolist())
    road_of_vertex = owner[part_of]
    graph.add_edges_from(zip(node[k].tolist(), node[k + 1].tolist(), ({"road": int(r)} for r in road_of_vertex[k])))
    comp_of_node = np.full(int(node.max()) + 1 if n else 0, -1)
    for c, nodes in enumerate(sorted(nx.connected_components(graph), key=len, reverse=True)):
        comp_of_node[list(nodes)] = c
    labels = np.full(len(lines_m), -1)
    if n:
        first_vertex = np.full(len(lines_m), -1)
        first_vertex[road_of_vertex[::-1]] = np.arange(n)[::-1]
        has = first_vertex >= 0
        labels[has] = comp_of_node[node[first_vertex[has]]]
    return labels, graph


def _check_roads(
    roads: _Layer, sites: _Layer | None, villages: _Layer | None, points_m: dict, max_offroad_m: float, snap_m: float
) -> None:
    gdf = roads.gdf
    geoms = gdf.geometry.to_numpy()
    bounds = shapely.bounds(geoms)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & np.isin(shapely.get_type_id(geoms), [1, 5])
    ok &= shapely.is_valid(geoms) & np.isfinite(bounds).all(axis=1)
    ok &= (np.abs(bounds[:, [0, 2]]).max(axis=1) <= 180) & (np.abs(bounds[:, [1, 3]]).max(axis=1) <= 90)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return
    lines_m = gpd.GeoSeries(geoms[idx], crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
    labels, _ = road_components(lines_m, snap_m)
    tree = shapely.STRtree(lines_m)

    def nearest(pts):
        good = np.array([p is not None for p in pts], dtype=bool)
        road = np.full(len(pts), -1)
        dist = np.full(len(pts), np.nan)
        if good.any():
            (qi, ti), d = tree.query_nearest(
                np.asarray(pts, dtype=object)[good], return_distance=True, all_matches=False
            )
            gi = np.flatnonzero(good)[qi]
            road[gi], dist[gi] = ti, d
        return road, dist

    depot_comp = None
    if sites is not None and "kind" in sites.gdf and "sites" in points_m:
        depots = np.flatnonzero((sites.gdf["kind"] == "depot").fillna(False).to_numpy())
        pts = points_m["sites"]
        if len(depots) and pts.iloc[depots[0]] is not None:
            r, d = nearest([pts.iloc[depots[0]]])
            depot_comp = labels[r[0]]
    needed: dict[int, list[str]] = {}
    for kind, layer in (("villages", villages), ("sites", sites)):
        if layer is None or kind not in points_m:
            continue
        r, d = nearest(list(points_m[kind]))
        for i in np.flatnonzero(r >= 0):
            if d[i] > max_offroad_m:
                lon, lat = layer.gdf.geometry.iat[i].coords[0]
                road_id = gdf["id"].iat[idx[r[i]]] if "id" in gdf else f"row {idx[r[i]] + roads.first_row}"
                layer.warning(
                    int(i),
                    layer.gdf.attrs.get("coord_fields", "geometry"),
                    (round(lon, 6), round(lat, 6)),
                    f"{d[i]:,.0f} m from the nearest road ({road_id}), farther than {max_offroad_m:,.0f} m; "
                    "connected by an off-road walk",
                )
            comp = labels[r[i]]
            if depot_comp is not None and comp != depot_comp and kind == "villages":
                needed.setdefault(int(comp), []).append(str(layer.ids[i]))
    if depot_comp is None:
        return
    main = lines_m[labels == depot_comp]
    main_tree = shapely.STRtree(main)
    for comp in sorted(set(labels.tolist()) - {depot_comp, -1}):
        members = np.flatnonzero(labels == comp)
        (_, ti), dist = main_tree.query_nearest(lines_m[members], return_distance=True, all_matches=False)
        j = int(np.argmin(dist))
        gap_pt = shapely.shortest_line(lines_m[members[j]], main[ti[j]])
        lon, lat = gpd.GeoSeries([shapely.get_point(gap_pt, 0)], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0].coords[0]
        first = int(idx[members[0]])
        more = f" and {len(members) - 1} more road(s)" if len(members) > 1 else ""
        km = float(shapely.length(lines_m[members]).sum()) / 1000
        rule = (
            f"not connected to the depot's road network (roads join at shared vertices within {snap_m:g} m); "
            f"{len(members)} segment(s), {km:.1f} km, {dist[j]:,.0f} m from it near ({lon:.5f}, {lat:.5f})"
        )
        feature = roads.label(first) + more
        if comp in needed:
            vs = needed[comp]
            roads.error(
                feature,
                "geometry",
                _wkt(geoms[first]),
                rule + f"; nearest road of village(s) {', '.join(vs[:5])}{' ...' if len(vs) > 5 else ''}",
            )
        else:
            roads.warning(feature, "geometry", _wkt(geoms[first]), rule + "; no village needs it, ignored")
