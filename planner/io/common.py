"""Small helpers shared by the readers, the OSM reader and the validator."""

from __future__ import annotations

import math
import re

import geopandas as gpd
import pandas as pd

from planner.io.safe import fold

VIETNAM_BOX = (102.0, 8.0, 110.0, 24.0)


def norm_header(name: object) -> str:
    """``" Vĩ độ "`` -> ``"vi_do"``: the key column names are matched on."""
    return re.sub(r"[^a-z0-9]+", "_", fold(str(name)).strip().lower()).strip("_")


def feature_label(ident: object, row: int) -> str:
    """``"id=03451-01 (row 3)"``, or ``"row 3"`` when the id is missing."""
    if ident is None or (isinstance(ident, float) and math.isnan(ident)) or ident is pd.NA or ident == "":
        return f"row {row}"
    return f"id={ident} (row {row})"


# --------------------------------------------------------------------------- text


def clip_lines(gdf: gpd.GeoDataFrame, area_polygon) -> gpd.GeoDataFrame:
    """Roads cut to ``area_polygon`` (WGS84); pieces that are not lines are dropped."""
    attrs = dict(gdf.attrs)
    clipped = gpd.clip(gdf, area_polygon)
    clipped = clipped[clipped.geometry.geom_type.isin(["LineString", "MultiLineString"])]
    clipped = clipped.reset_index(drop=True)
    clipped.attrs.update(attrs)
    return clipped
