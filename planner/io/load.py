"""Readers: files -> :class:`planner.model.area.Area`.

``load_area(data_dir)`` reads the four layers ``villages``, ``sites``, ``roads`` and
``communes`` from a folder (``villages.geojson``, or ``villages.csv``, ``.xlsx``,
``.gpkg``, ``.shp``; roads also ``roads.osm.pbf``), validates them all together with
:func:`planner.io.validate.validate_area` and raises one
:class:`~planner.model.errors.InputError` listing every error; warnings are issued with
``warnings.warn`` as subclasses of :class:`planner.io.warn.InputWarning`.

The per-layer readers (:func:`read_villages`, :func:`read_sites`, :func:`read_roads`,
:func:`read_communes`, :func:`read_osm_places`) are in :mod:`planner.io.readers`;
conventions (WGS84 ``[lon, lat]`` out, UTM 48N metres for distances) in :mod:`planner.model.area`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.io import warn
from planner.io.readers import (
    read_communes,
    read_osm_places,
    read_roads,
    read_sites,
    read_villages,
)
from planner.io.safe import safe_child, slug
from planner.io.validate import validate_area
from planner.model.area import Area
from planner.model.errors import InputError, Problem

__all__ = [
    "DEFAULT_DATA_DIR",
    "FILES",
    "find_layers",
    "load_area",
    "read_all",
    "read_communes",
    "read_osm_places",
    "read_roads",
    "read_sites",
    "read_villages",
    "safe_child",
    "slug",
    "warn",
]

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"

FILES = {
    "villages": "villages.geojson",
    "sites": "sites.geojson",
    "roads": "roads.geojson",
    "communes": "communes.geojson",
}
#: Extensions tried, in order, when a layer's GeoJSON is not in the folder.
LAYER_SUFFIXES = (".geojson", ".gpkg", ".shp", ".json", ".csv", ".xlsx", ".osm.pbf", ".pbf")
_READERS: dict[str, Callable[..., gpd.GeoDataFrame | None]] = {
    "villages": read_villages,
    "sites": read_sites,
    "roads": read_roads,
    "communes": read_communes,
}


def find_layers(data_dir: Path | str) -> dict[str, Path]:
    """The file of each layer in ``data_dir`` (first match of :data:`LAYER_SUFFIXES`).

    Raises :class:`InputError` when the folder or a layer is missing.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError([Problem(str(data_dir), "folder", "-", None, "data folder not found")])
    found, problems = {}, []
    for kind in FILES:
        hit = next((data_dir / f"{kind}{s}" for s in LAYER_SUFFIXES if (data_dir / f"{kind}{s}").is_file()), None)
        if hit is None:
            problems.append(
                Problem(
                    str(data_dir / FILES[kind]),
                    "file",
                    "-",
                    None,
                    f"file not found (required layer; also tried {', '.join(LAYER_SUFFIXES[1:])})",
                )
            )
        else:
            found[kind] = hit
    if problems:
        raise InputError(problems)
    return found


def read_all(
    paths: Path | str | Mapping[str, Path | str] | None = None,
    *,
    readers: Mapping[str, Mapping] | None = None,
    **validate_options,
) -> tuple[dict[str, gpd.GeoDataFrame], list[Problem]]:
    """Read and validate all layers; never raises for bad input.

    Parameters
    ----------
    paths
        A data folder, or ``{"villages": path, ...}`` (missing layers are problems).
    readers
        Per-layer keyword arguments for the readers, e.g.
        ``{"villages": {"columns": {"id": "Mã bản"}, "coords": "dms"}}``.

    Returns
    -------
    frames, problems
        The layers that could be read, and every problem (errors and warnings).
    """

    if paths is None or isinstance(paths, (str, Path)):
        try:
            paths = find_layers(paths or DEFAULT_DATA_DIR)
        except InputError as exc:
            return {}, list(exc.problems)
    problems: list[Problem] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    for kind in ("communes", "villages", "sites", "roads"):
        if kind not in paths or paths[kind] is None:
            problems.append(Problem(FILES[kind], "file", "-", None, "file not given (required layer)"))
            continue
        kwargs = dict((readers or {}).get(kind, {}))
        if kind in ("villages", "sites") and "communes" in frames and "commune_codes" not in kwargs:
            kwargs["commune_codes"] = frames["communes"]
        if (
            kind == "roads"
            and Path(paths[kind]).suffix.lower() == ".pbf"
            and "communes" in frames
            and "area_polygon" not in kwargs
        ):
            kwargs["area_polygon"] = frames["communes"].geometry.union_all().buffer(0.02)
        gdf = _READERS[kind](paths[kind], problems=problems, **kwargs)
        if gdf is not None:
            frames[kind] = gdf
    problems.extend(validate_area(frames, **validate_options))
    return frames, problems


def load_area(data_dir: Path | str | None = None, name: str | None = None) -> Area:
    """Read and validate the four layers of an area.

    Parameters
    ----------
    data_dir : path, optional
        Folder with ``villages``, ``sites``, ``roads`` and ``communes`` files (GeoJSON, CSV,
        XLSX, GPKG, SHP; roads also OSM PBF). Default: the shipped ``data/``.
    name : str, optional
        Name of the area (default: the folder's name).

    Returns
    -------
    Area
        Validated, read-only layers in WGS84.

    Raises
    ------
    InputError
        Listing every error of every layer at once (file, feature, field, value, rule).
    """
    data_dir = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
    frames, problems = read_all(data_dir)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    warn.emit(problems, stacklevel=3)
    frames = _finish(frames)
    notices = []
    v = frames["villages"]
    if "approx_position" in v and v["approx_position"].any():
        notices.append("village_positions_approximated")
    r = frames["roads"]
    if "approximated" in r and r["approximated"].any():
        notices.append("roads_approximated")
    return Area(
        villages=frames["villages"],
        sites=frames["sites"],
        roads=frames["roads"],
        communes=frames["communes"],
        name=name or ("Mường Tè" if data_dir.resolve() == DEFAULT_DATA_DIR.resolve() else data_dir.name),
        notices=tuple(notices),
        source={"data_dir": str(data_dir), **{k: g.attrs.get("source") for k, g in frames.items()}},
    )


def _finish(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Validated frames in their planning form: typed columns, commune names, single lines."""
    out = {}
    communes = frames["communes"]
    names = dict(zip(communes["code"].astype(str), communes["name"].astype(str)))
    for kind, gdf in frames.items():
        gdf = gdf.copy()
        attrs = dict(gdf.attrs)
        if kind in ("villages", "sites"):
            gdf["id"] = gdf["id"].astype(str)
            gdf["commune_code"] = gdf["commune_code"].astype(str)
            if "commune" not in gdf:
                gdf["commune"] = pd.array([names.get(c) for c in gdf["commune_code"]], dtype="str")
        if kind == "villages":
            gdf["population"] = gdf["population"].astype("int64")
        if kind == "roads":
            gdf["id"] = gdf["id"].astype(str)
            multi = gdf.geometry.geom_type == "MultiLineString"
            if multi.any():
                gdf = gdf.explode(index_parts=True)
                part = gdf.index.get_level_values(1)
                split = np.repeat(multi.to_numpy(), gdf.groupby(level=0).size().to_numpy())
                gdf["id"] = np.where(split, gdf["id"] + "." + (part + 1).astype(str), gdf["id"])
                gdf = gdf.reset_index(drop=True)
        if kind == "communes":
            gdf["code"] = gdf["code"].astype(str)
        gdf.attrs.update(attrs)
        out[kind] = gdf
    return out


def check(paths: Path | str | Mapping[str, Path | str] | None = None, **options) -> tuple[list[Problem], list[Problem]]:
    """Read the layers (a data folder or ``{"villages": path, ...}``) and validate them.

    Returns ``(errors, warnings)``; never raises for bad input (unreadable, truncated or
    corrupt files become problems). ``options`` go to :func:`validate_area`.
    """

    _, problems = read_all(paths, **options)
    return ([p for p in problems if p.severity == "error"], [p for p in problems if p.severity != "error"])


def format_report(errors: list[Problem], warnings: list[Problem]) -> str:
    """Problems grouped by file, errors first within a file."""
    lines = []
    files: dict[str, list[Problem]] = {}
    for p in errors + warnings:
        files.setdefault(p.file, []).append(p)
    for file, probs in files.items():
        lines.append(f"{file}:")
        for p in sorted(probs, key=_row_key):
            value = repr(p.value)
            if len(value) > 80:
                value = value[:77] + "..."
            lines.append(f"  {p.severity:<7} {p.feature}: field '{p.field}' = {value}: {p.rule}")
    ne, nw = len(errors), len(warnings)
    lines.append(
        f"{ne} error{'s' if ne != 1 else ''}, {nw} warning{'s' if nw != 1 else ''}"
        + (f" in {len(files)} file{'s' if len(files) != 1 else ''}" if files else "")
        + ("." if ne else "; the data can be planned.")
    )
    return "\n".join(lines)


def _row_key(p: Problem) -> tuple[int, int]:
    m = re.search(r"(?:^|\()row (\d+)", p.feature)
    return (0 if p.severity == "error" else 1, int(m.group(1)) if m else 0)
