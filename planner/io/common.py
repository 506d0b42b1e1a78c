"""Small helpers shared by the readers, the OSM reader and the validator."""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

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


def join_vertices(xy: np.ndarray, snap_m: float) -> np.ndarray:
    """Which road vertices are one node: a label per vertex (metric coordinates).

    Vertices closer than ``snap_m`` metres are joined, found with a k-d tree (so two ends 0.4 m
    apart across a grid line meet), and chains of such pairs form one node. The validator and the
    planner's road graph both join roads with this function, so they agree on what is connected.
    """
    n = len(xy)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(r=snap_m, output_type="ndarray")
    merge = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(merge, directed=False)
    return label.astype(np.int64)
