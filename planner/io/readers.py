"""One reader per layer: CSV, XLSX, GeoJSON, GeoPackage, Shapefile (and OSM PBF).

Every reader returns a GeoDataFrame in WGS84 (EPSG:4326, ``[lon, lat]``) with the
canonical column names of :mod:`planner.model.area`, and records where it came from in
``frame.attrs``: ``source`` (the file as given), ``first_row`` (the row number of the
first feature: 2 for a table with a header row, as a spreadsheet shows it; 1 for
geodata features) and, for tables, ``coord_fields`` (the columns the position came from).

Problems are collected, never raised one at a time: pass ``problems=[]`` to receive
them (the reader then returns what it could read, or ``None``), or leave it ``None``
and the reader raises one :class:`~planner.model.errors.InputError` listing every error
found (layer checks of :mod:`planner.io.validate` included) and ``warnings.warn``\\ s the rest.

Tables (CSV, XLSX)
    Column names are matched without case, spaces or diacritics (``"Vĩ độ"`` ==
    ``"vi_do"``); ``columns={"id": "Mã bản", "lat": "Y"}`` maps canonical names to the
    file's. Positions come from ``lat``/``lon`` (aliases ``latitude``, ``vi_do``,
    ``longitude``, ``lng``, ``kinh_do``), ``easting``/``northing`` (UTM 48N),
    ``x``/``y`` (degrees if they fit, else UTM 48N) or a ``wkt``/``geometry`` column.
    ``coords`` forces the form: ``"decimal"``, ``"dms"`` (``22°22'46"N``),
    ``"utm48n"``; ``"auto"`` (default) accepts decimal and DMS cell by cell.
    CSV text is read as UTF-8 (BOM or not), else cp1258 (Vietnamese Windows), else
    latin-1, with a warning naming the fallback; ``,``, ``;`` and tab separators and
    the decimal comma (``22,3794``) are accepted.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.io import osm
from planner.io import warn as _warn
from planner.io.common import VIETNAM_BOX, clip_lines, feature_label, norm_header  # noqa: F401
from planner.io.coords import parse_coordinate
from planner.io.validate import validate_frames
from planner.model.area import GEO_CRS, METRIC_CRS
from planner.model.errors import InputError, Problem

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
OSM_SUFFIXES = (".pbf",)
COORD_MODES = ("auto", "decimal", "dms", "utm48n")

#: Canonical columns per layer; their types are normalised on reading.
FIELDS = {
    "villages": (
        "id",
        "name",
        "commune_code",
        "commune",
        "population",
        "households",
        "children",
        "approx_position",
        "approx_name",
        "approx_population",
        "visits_per_cycle",
        "time_window",
        "time_windows",
        "post2025_commune",
        "priority",
        "disadvantaged",
        "market_days",
        "market_required",
        "walk_limit_m",
        "population_census",
        "projected",
    ),
    "sites": (
        "id",
        "name",
        "kind",
        "commune_code",
        "commune",
        "approximated",
        "lodging",
        "coverage_radius_m",
        "stock_books",
        "active",
        "time_window",
        "time_windows",
    ),
    "roads": (
        "id",
        "road_class",
        "surface",
        "approximated",
        "rainy_closed",
        "name",
        # optional per-road overrides (issue 10): speed or driving time, closure dates
        "speed_kph",
        "time_min",
        "closed_from",
        "closed_until",
    ),
    "communes": (
        "code",
        "name",
        "population",
        "post2025_commune",
        "population_census",
        "population_census_year",
        "population_projected",
    ),
}
STR_FIELDS = {
    "id",
    "name",
    "commune_code",
    "commune",
    "kind",
    "road_class",
    "surface",
    "code",
    "post2025_commune",
    "time_window",
    "time_windows",
    "market_days",
    "closed_from",
    "closed_until",
}
#: Dates kept as text (``YYYY-MM-DD`` or yearly ``MM-DD``); a date cell becomes ISO text.
DATE_FIELDS = {"closed_from", "closed_until"}
#: Numbers that may have a fraction; bad values are reported by :mod:`planner.io.validate`.
FLOAT_FIELDS = {"speed_kph", "time_min", "priority"}
INT_FIELDS = {
    "population",
    "population_census",
    "population_census_year",
    "households",
    "children",
    "coverage_radius_m",
    "stock_books",
    "visits_per_cycle",
    "walk_limit_m",
}
BOOL_FIELDS = {
    "disadvantaged",
    "market_required",
    "approx_position",
    "approx_name",
    "approx_population",
    "approximated",
    "lodging",
    "active",
    "rainy_closed",
    "projected",
    "population_projected",
}
_ALIASES = {
    "lat": ("lat", "latitude", "vi_do", "vido"),
    "lon": ("lon", "lng", "long", "longitude", "kinh_do", "kinhdo"),
    "easting": ("easting", "east", "utm_e", "x_utm"),
    "northing": ("northing", "north", "utm_n", "y_utm"),
    "x": ("x",),
    "y": ("y",),
    "wkt": ("wkt", "geometry", "geom", "the_geom"),
}
_TRUE = {"true", "t", "yes", "y", "1", "x", "co", "có", "dung", "đúng"}
_FALSE = {"false", "f", "no", "n", "0", "khong", "không", "sai", ""}


#: Rough box around Vietnam (lon, lat), used when no commune polygons are known.
class _Sink:
    """Collects problems of one file."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems

    def error(self, feature: str, field: str, value: object, rule: str) -> None:
        self.problems.append(Problem(self.file, feature, field, value, rule))

    def warning(self, feature: str, field: str, value: object, rule: str) -> None:
        self.problems.append(Problem(self.file, feature, field, value, rule, "warning"))


def decode_bytes(data: bytes, sink: _Sink | None = None) -> str:
    """Text of a file: UTF-8 (BOM or not), UTF-16 with BOM, else cp1258, else latin-1 (warned)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text, enc = data.decode("cp1258"), "cp1258"
                how = "read as cp1258 (Vietnamese Windows)"
            except UnicodeDecodeError:
                text, enc = data.decode("latin-1"), "latin-1"
                how = "read as latin-1 (Western European); Vietnamese letters may be wrong"
            if sink is not None:
                sink.warning("file", "encoding", enc, f"not UTF-8; {how}. Save it as 'CSV UTF-8' to silence this")
    # cp1258 text often carries tone marks as combining characters: compose them.
    return unicodedata.normalize("NFC", text)


def _read_table(path: Path, sink: _Sink, sheet: str | int | None) -> pd.DataFrame | None:
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object, engine="openpyxl")
            df = df.astype(object).where(df.notna(), None)
            df = df.apply(lambda col: col.map(lambda v: v.strip() or None if isinstance(v, str) else v))
        else:
            text = decode_bytes(path.read_bytes(), sink)
            if not text.strip():
                sink.error("file", "-", None, "the file is empty")
                return None
            first = text.splitlines()[0]
            sep = max(",;\t|", key=first.count) if any(c in first for c in ",;\t|") else ","
            df = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                on_bad_lines="error",
            )
            df = df.apply(lambda col: col.map(lambda v: v.strip() or None if isinstance(v, str) else v))
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        EOFError,
        pd.errors.ParserError,
        csv.Error,
        UnicodeError,
    ) as exc:
        sink.error("file", "-", None, f"cannot be read as a table (truncated or corrupt?): {_short(exc)}")
        return None
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        sink.error("file", "-", None, f"cannot be read as a table: {type(exc).__name__}: {_short(exc)}")
        return None
    df.columns = [str(c).lstrip("\ufeff").strip() for c in df.columns]
    return df


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")


# ---------------------------------------------------------------- column mapping
def _map_columns(
    df: pd.DataFrame, kind: str, columns: Mapping[str, str] | None, sink: _Sink, extra: Iterable[str] = ()
) -> pd.DataFrame:
    """Rename the file's columns to canonical names (see the module docstring)."""
    by_norm: dict[str, str] = {}
    for c in df.columns:
        if c != "geometry":
            by_norm.setdefault(norm_header(c), c)
    rename: dict[str, str] = {}
    for canon, src in (columns or {}).items():
        hit = src if src in df.columns else by_norm.get(norm_header(src))
        if hit is None:
            sink.error(
                "header",
                canon,
                src,
                f"column {src!r} (given for {canon!r}) is not in the file; "
                f"its columns are: {', '.join(map(str, df.columns))}",
            )
        else:
            rename[hit] = canon
    wanted = list(FIELDS[kind]) + list(extra)
    taken = set(rename.values())
    for canon in wanted:
        if canon in taken:
            continue
        for alias in _ALIASES.get(canon, (canon,)):
            hit = by_norm.get(alias)
            if hit is not None and hit not in rename:
                rename[hit] = canon
                taken.add(canon)
                break
    # Shapefile .dbf cuts names to 10 characters ("commune_co" -> "commune_code").
    for norm, col in by_norm.items():
        if col in rename or len(norm) != 10:
            continue
        cands = [f for f in wanted if f.startswith(norm) and f not in taken]
        if len(cands) == 1:
            rename[col] = cands[0]
            taken.add(cands[0])
    return df.rename(columns=rename)


# ------------------------------------------------------------------- positions
def _points_from_table(
    df: pd.DataFrame, coords: str, sink: _Sink, first_row: int, id_col: str
) -> tuple[gpd.GeoSeries, str] | None:
    ids = df[id_col] if id_col in df else pd.Series([None] * len(df))
    has = set(df.columns)
    if "wkt" in has and not ({"lat", "lon"} <= has or {"easting", "northing"} <= has):
        geoms = []
        for i, text in enumerate(df["wkt"]):
            try:
                geoms.append(shapely.from_wkt(text) if text is not None else None)
            except Exception as exc:  # noqa: BLE001 - shapely raises GEOSException subclasses
                sink.error(feature_label(ids.iat[i], i + first_row), "wkt", text, f"not valid WKT: {_short(exc)}")
                geoms.append(None)
        return gpd.GeoSeries(geoms, crs=GEO_CRS), "wkt"
    if coords == "utm48n" or (coords == "auto" and {"easting", "northing"} <= has and not {"lat", "lon"} <= has):
        xcol, ycol = ("easting", "northing") if {"easting", "northing"} <= has else ("x", "y")
        crs = METRIC_CRS
    elif {"lat", "lon"} <= has:
        xcol, ycol, crs = "lon", "lat", GEO_CRS
    elif {"x", "y"} <= has:
        xcol, ycol, crs = "x", "y", GEO_CRS
    else:
        sink.error(
            "header",
            "lat/lon",
            None,
            "no position columns: give lat and lon (decimal or DMS), "
            "easting and northing (UTM 48N), x and y, or wkt; or map yours with columns=",
        )
        return None
    if xcol not in has or ycol not in has:
        sink.error("header", f"{xcol}/{ycol}", None, f"coords={coords!r} needs columns {xcol!r} and {ycol!r}")
        return None
    xs, ys = np.full(len(df), np.nan), np.full(len(df), np.nan)
    for j, (col, axis, out) in enumerate(((xcol, "lon", xs), (ycol, "lat", ys))):
        for i, value in enumerate(df[col]):
            label = feature_label(ids.iat[i], i + first_row)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                sink.error(label, col, None, "missing coordinate")
                continue
            try:
                if crs == METRIC_CRS or coords == "decimal":
                    out[i] = parse_coordinate(
                        float(str(value).replace(",", ".")) if isinstance(value, str) else value, axis
                    )
                else:
                    v = parse_coordinate(value, axis)
                    if coords == "dms" and isinstance(value, (int, float)):
                        raise ValueError("coords='dms' expects text like 22°22'46\"N")
                    out[i] = v
            except (ValueError, TypeError) as exc:
                sink.error(label, col, value, str(exc) if not isinstance(exc, TypeError) else "not a number")
    ok = np.isfinite(xs) & np.isfinite(ys)
    df.attrs["bad_position_rows"] = tuple(int(i) for i in np.flatnonzero(~ok))
    point_geoms = np.array([None] * len(df), dtype=object)
    point_geoms[ok] = shapely.points(xs[ok], ys[ok])
    series = gpd.GeoSeries(point_geoms, crs=crs)
    if crs == METRIC_CRS:
        series = series.to_crs(GEO_CRS)
    return series, f"{ycol}/{xcol}"


def _read_geo(path: Path, sink: _Sink, layer: str | int | None) -> gpd.GeoDataFrame | None:
    try:
        gdf = (
            gpd.read_file(path, layer=layer, engine="pyogrio")
            if layer is not None
            else gpd.read_file(path, engine="pyogrio")
        )
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        sink.error("file", "-", None, f"cannot be read (truncated or corrupt?): {_short(exc)}")
        return None
    if gdf.crs is None:
        b = gdf.total_bounds if len(gdf) and not gdf.geometry.is_empty.all() else np.zeros(4)
        if np.all(np.isfinite(b)) and (abs(b[[0, 2]]).max() > 180 or abs(b[[1, 3]]).max() > 90):
            sink.error(
                "file",
                "crs",
                None,
                "no CRS and the coordinates are not degrees (e.g. "
                f"x={b[0]:.0f}, y={b[1]:.0f}); if they are UTM 48N metres, save the file "
                "with EPSG:32648 (add the .prj), or export it as WGS84",
            )
            return None
        sink.warning(
            "file",
            "crs",
            None,
            "no CRS; assumed WGS84 (EPSG:4326, lon/lat). Add the .prj or set the CRS to silence this",
        )
        gdf = gdf.set_crs(GEO_CRS)
    elif not CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(GEO_CRS), ignore_axis_order=True):
        try:
            gdf = gdf.to_crs(GEO_CRS)
        except Exception as exc:  # noqa: BLE001 - pyproj raises several types
            sink.error("file", "crs", str(gdf.crs), f"cannot be converted to WGS84: {_short(exc)}")
            return None
    return gdf


# ------------------------------------------------------------------ value types
def _to_str(v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (np.floating,)) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    return s or None


def _to_int(v: object) -> object:
    """An int, or the raw value when it is not one (the validator reports it)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if float(v).is_integer() else float(v)
    s = str(v).strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"[-+]?\d+", s):
        return int(s)
    if re.fullmatch(r"[-+]?\d{1,3}([.,]\d{3})+", s):  # 1.234 / 1,234 thousands separators
        return int(re.sub(r"[.,]", "", s))
    if re.fullmatch(r"[-+]?\d+[.,]0+", s):
        return int(re.split(r"[.,]", s)[0])
    return v


def _normalise_types(df: pd.DataFrame, kind: str, sink: _Sink, first_row: int, id_col: str) -> pd.DataFrame:
    ids = df[id_col].map(_to_str) if id_col in df else pd.Series([None] * len(df), index=df.index)
    for col in df.columns:
        if col in DATE_FIELDS:
            df[col] = pd.Series([_to_date_text(v) for v in df[col]], index=df.index, dtype=object)
        elif col in STR_FIELDS:
            df[col] = pd.array([_to_str(v) for v in df[col]], dtype="str")
        elif col in INT_FIELDS:
            vals = [_to_int(v) for v in df[col]]
            if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in vals):
                # the check above: every value is an int or None
                df[col] = (
                    pd.array(cast("list[int | None]", vals), dtype="Int64")
                    if None in vals
                    else np.array(vals, dtype="int64")
                )
            else:
                df[col] = pd.Series(vals, index=df.index, dtype=object)
        elif col in BOOL_FIELDS:
            out = []
            for i, v in enumerate(df[col]):
                if isinstance(v, (bool, np.bool_)):
                    out.append(bool(v))
                elif v is None or (isinstance(v, float) and math.isnan(v)):
                    out.append(False)
                elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
                    out.append(bool(v))
                elif str(v).strip().lower() in _TRUE:
                    out.append(True)
                elif str(v).strip().lower() in _FALSE:
                    out.append(False)
                else:
                    sink.error(
                        feature_label(ids.iat[i], i + first_row),
                        col,
                        v,
                        "not a yes/no value (true/false, yes/no, 1/0, có/không)",
                    )
                    out.append(False)
            df[col] = np.array(out, dtype=bool)
    return df


def _to_date_text(v: object) -> object:
    """ISO text of a date cell (GDAL and Excel turn ``2026-06-01`` into a date); other text as is."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "date") and callable(v.date) and hasattr(v, "year"):
        return v.date().isoformat()
    if hasattr(v, "isoformat") and hasattr(v, "year"):
        return v.isoformat()
    text = str(v).strip()
    return text or None


def _commune_lookup(commune_codes: object) -> dict[str, str] | None:
    if commune_codes is None:
        return None
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(commune_codes, pd.DataFrame):
        pairs = zip(commune_codes["name"], commune_codes["code"])
    elif isinstance(commune_codes, Mapping):
        pairs = commune_codes.items()
    else:
        raise TypeError("commune_codes must be a mapping name -> code or a communes GeoDataFrame")
    out: dict[str, str] = {}
    for name, code in pairs:
        out[norm_header(name)] = str(code)
        out[norm_header(code)] = str(code)
    return out


def _fill_communes(gdf: gpd.GeoDataFrame, commune_codes: object, sink: _Sink, first_row: int) -> None:
    lookup = _commune_lookup(commune_codes)
    if lookup is None or "commune" not in gdf:
        return
    codes = list(gdf["commune_code"]) if "commune_code" in gdf else [None] * len(gdf)
    for i, (code, name) in enumerate(zip(codes, gdf["commune"])):
        if (code is None or code is pd.NA) and name is not None and name is not pd.NA:
            hit = lookup.get(norm_header(name))
            if hit is None:
                sink.error(
                    feature_label(gdf["id"].iat[i] if "id" in gdf else None, i + first_row),
                    "commune",
                    name,
                    "unknown commune name (not in commune_codes); give commune_code or fix the name",
                )
            codes[i] = hit
    gdf["commune_code"] = pd.array(codes, dtype="str")


# ---------------------------------------------------------------------- readers
def _read(
    kind: str,
    path: Path | str,
    *,
    columns=None,
    coords="auto",
    commune_codes=None,
    sheet=None,
    layer=None,
    area_polygon=None,
    problems: list[Problem] | None,
    validate: bool,
) -> gpd.GeoDataFrame | None:
    if coords not in COORD_MODES:
        raise ValueError(f"coords must be one of {COORD_MODES}, not {coords!r}")
    own = problems is None
    problems = [] if problems is None else problems
    path = Path(path)
    sink = _Sink(str(path), problems)
    gdf = _read_any(
        kind,
        path,
        columns=columns,
        coords=coords,
        commune_codes=commune_codes,
        sheet=sheet,
        layer=layer,
        area_polygon=area_polygon,
        sink=sink,
    )
    if own:
        if gdf is not None and validate:
            problems.extend(validate_frames({kind: gdf}))
        _raise_or_warn(problems)
    return gdf


def _raise_or_warn(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    _warn.emit(problems, stacklevel=4)


def _read_any(kind, path, *, columns, coords, commune_codes, sheet, layer, area_polygon, sink):
    suffix = path.suffix.lower()
    if not path.exists():
        sink.error("file", "-", None, "file not found")
        return None
    if path.is_dir():
        sink.error("file", "-", None, "is a folder, not a file")
        return None
    id_col = "code" if kind == "communes" else "id"
    if suffix in OSM_SUFFIXES:
        if kind == "roads":
            gdf = osm.roads_from_pbf(path, area_polygon=area_polygon, sink=sink)
        elif kind == "villages":
            gdf = osm.places_from_pbf(path, area_polygon=area_polygon, communes=commune_codes, sink=sink)
        else:
            sink.error("file", "-", None, f"{kind} cannot be read from OpenStreetMap PBF")
            return None
        if gdf is not None:
            gdf.attrs.update(source=str(path), first_row=1)
        return gdf
    if suffix in TABLE_SUFFIXES:
        df = _read_table(path, sink, sheet)
        if df is None:
            return None
        first_row = 2
        df = _map_columns(df, kind, columns, sink, extra=("lat", "lon", "easting", "northing", "x", "y", "wkt"))
        got = _points_from_table(df, coords, sink, first_row, id_col) if len(df.columns) else None
        if got is None:
            return None
        geom, coord_fields = got
        df = df.drop(columns=[c for c in ("lat", "lon", "easting", "northing", "x", "y", "wkt") if c in df])
        bad = df.attrs.get("bad_position_rows", ())
        gdf = gpd.GeoDataFrame(df.reset_index(drop=True), geometry=geom.reset_index(drop=True).values, crs=GEO_CRS)
        gdf.attrs["bad_position_rows"] = bad
    elif suffix in GEO_SUFFIXES:
        gdf = _read_geo(path, sink, layer)
        if gdf is None:
            return None
        first_row, coord_fields = 1, "geometry"
        gdf = _map_columns(gdf, kind, columns, sink)
        if gdf.geometry.name != "geometry":
            gdf = gdf.rename_geometry("geometry")
    else:
        sink.error(
            "file",
            "-",
            None,
            f"unsupported file type {suffix or '(none)'}: use one of "
            f"{', '.join(TABLE_SUFFIXES + GEO_SUFFIXES + ('.osm.pbf',))}",
        )
        return None
    gdf = _normalise_types(gdf, kind, sink, first_row, id_col)
    if kind in ("villages", "sites"):
        _fill_communes(gdf, commune_codes, sink, first_row)
    if kind == "roads" and area_polygon is not None:
        gdf = clip_lines(gdf, area_polygon)
    gdf.attrs.update(source=str(path), first_row=first_row, coord_fields=coord_fields, kind=kind)
    return gdf


def read_villages(
    path: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    coords: str = "auto",
    commune_codes: Mapping[str, str] | gpd.GeoDataFrame | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    problems: list[Problem] | None = None,
    validate: bool = True,
) -> gpd.GeoDataFrame | None:
    """Villages (points) from CSV, XLSX, GeoJSON, GeoPackage, Shapefile or OSM PBF places.

    Parameters
    ----------
    columns
        Canonical name -> the file's column name, e.g. ``{"id": "Mã bản", "lat": "Y"}``.
    coords
        ``"auto"``, ``"decimal"``, ``"dms"`` or ``"utm48n"`` (tables only).
    commune_codes
        Commune name -> code (or the communes GeoDataFrame): fills a missing
        ``commune_code`` from the ``commune`` name; unknown names are errors.
    problems
        A list to append problems to instead of raising (then ``validate`` is ignored:
        run :func:`planner.io.validate.validate_area` yourself).
    validate
        Run the single-layer checks of :mod:`planner.io.validate` (duplicate ids,
        populations, geometry, ...) before returning.
    """
    return _read(
        "villages",
        path,
        columns=columns,
        coords=coords,
        commune_codes=commune_codes,
        sheet=sheet,
        layer=layer,
        problems=problems,
        validate=validate,
    )


def read_sites(
    path: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    coords: str = "auto",
    commune_codes: Mapping[str, str] | gpd.GeoDataFrame | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    problems: list[Problem] | None = None,
    validate: bool = True,
) -> gpd.GeoDataFrame | None:
    """Sites (depot, fixed library points, schools, border posts); as :func:`read_villages`."""
    return _read(
        "sites",
        path,
        columns=columns,
        coords=coords,
        commune_codes=commune_codes,
        sheet=sheet,
        layer=layer,
        problems=problems,
        validate=validate,
    )


def read_roads(
    path: Path | str,
    *,
    area_polygon=None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    problems: list[Problem] | None = None,
    validate: bool = True,
) -> gpd.GeoDataFrame | None:
    """Roads (lines) from GeoJSON, GeoPackage, Shapefile, CSV/XLSX with a ``wkt`` column, or OSM PBF.

    ``area_polygon`` (shapely, WGS84) clips the roads; for a PBF it also limits what is
    parsed. OSM ``highway`` tags are mapped to road classes by :data:`planner.io.osm.HIGHWAY_CLASS`.
    """
    return _read(
        "roads", path, columns=columns, layer=layer, area_polygon=area_polygon, problems=problems, validate=validate
    )


def read_communes(
    path: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    problems: list[Problem] | None = None,
    validate: bool = True,
) -> gpd.GeoDataFrame | None:
    """Communes (polygons with ``code``, ``name``) from GeoJSON, GeoPackage, Shapefile or CSV with ``wkt``."""
    return _read("communes", path, columns=columns, layer=layer, problems=problems, validate=validate)


def read_osm_places(
    path: Path | str,
    *,
    area_polygon=None,
    commune_codes: gpd.GeoDataFrame | None = None,
    problems: list[Problem] | None = None,
) -> gpd.GeoDataFrame | None:
    """OSM ``place=village|hamlet|isolated_dwelling`` nodes offered as villages.

    Population comes from the ``population`` tag when present, else it is missing
    (``approx_population`` is set) and must be filled before planning. With the
    communes GeoDataFrame as ``commune_codes``, each place gets the commune it lies in.
    """
    return _read(
        "villages", path, area_polygon=area_polygon, commune_codes=commune_codes, problems=problems, validate=False
    )
