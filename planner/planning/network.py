"""Road network -> travel-time and distance matrices between stops, per vehicle profile and season.

The graph is built from the road lines: every vertex is a graph node (vertices are
snapped to a 1 m grid in UTM 48N, so lines that meet at a shared vertex or endpoint
are joined there), every pair of consecutive vertices an edge. An edge's time is its
length over the speed of its road class for the profile and season; classes the
profile may not use, and segments closed in the season, are left out.

Each stop (village or site) is joined to the network at the nearest point of the
nearest usable segment; the off-road part is counted at the profile's off-road speed,
and a stop farther than ``max_connector_m`` from any usable road is not joined.
A road may carry its own speed: ``speed_kph`` (a measured speed) or ``time_min`` (the
driving time of the whole line, spread over its segments by length); either overrides
the class speed for every profile that may use the class. A road is left out when
``rainy_closed`` and the season is rainy (as before), when its id is in ``closed_ids``,
or when ``on_date`` falls in its ``closed_from``..``closed_until`` range (ISO dates
``YYYY-MM-DD``, or ``MM-DD`` for a range that recurs every year and may span the new year).

Shortest paths: :func:`scipy.sparse.csgraph.dijkstra` from every stop (see
:func:`stop_matrices`); on large networks over the network's core (:func:`core_graph`:
road vertices eliminated and replaced by exact shortcuts, as in contraction hierarchies);
the road geometry of a leg is searched only when a plan asks for it (:class:`PathGeometry`),
on the whole network.
Pairs that cannot be reached are reported in :attr:`Matrices.unreachable`, never given
a silent infinity or zero.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.io.common import join_vertices
from planner.model.area import METRIC_CRS, ROAD_CLASSES, Area
from planner.model.config import Profile
from planner.model.matrices import UNREACHABLE, Matrices

SNAP_M = 1.0
EXACT_TREE_MAX_ELEMENTS = 20_000_000
"""Stops × network nodes up to which the shortest-time trees are kept whole (about 160 MB)."""
SOURCES_PER_CHUNK = 64
"""Stops searched at once on large networks (a chunk holds 64 × nodes distances)."""
MAX_WORKERS = 2
"""Processes for the searches on large networks."""
TIME_QUANTUM_S = 1e-3
DIST_QUANTUM_M = 0.1
PACK = 2.0**26
"""Packed path weight = milliseconds × PACK + decimetres (see :func:`packed_weights`)."""
BAND_NODE_SPACINGS = 6
"""Width of the bands of :func:`spatial_numbering`, in mean node spacings (measured best of 3-25)."""
LEG_LIMIT_MARGIN_S = 2.0
"""A leg's geometry search stops this far past the leg's (rounded) travel time."""
SEARCHES_KEPT = 8
"""Geometry searches kept for the following legs."""


@dataclass(frozen=True)
class RoadGraph:
    """Vertices (UTM 48N metres) and segments of the road network."""

    xy: np.ndarray  # (n_vertices, 2) metric coordinates
    lonlat: np.ndarray  # (n_vertices, 2)
    seg_u: np.ndarray  # (n_segments,)
    seg_v: np.ndarray
    seg_len_m: np.ndarray
    seg_class: np.ndarray  # road class (str objects)
    seg_rainy_closed: np.ndarray  # bool
    seg_road_id: np.ndarray
    seg_speed_kph: np.ndarray | None = None  # per-segment speed override (NaN: the class speed)
    seg_closed_from: np.ndarray | None = None  # per-segment closure start (str or None)
    seg_closed_until: np.ndarray | None = None


@dataclass(frozen=True)
class PathGeometry:
    """Leg geometry drawn on demand: one shortest-time search per leg's origin, only for the legs asked for.

    Nothing per stop is kept in advance (a full predecessor array for 5,000 stops on a
    100,000-vertex network would take 2 GB): :meth:`path_lonlat` runs
    :func:`scipy.sparse.csgraph.dijkstra` from the leg's origin, stopped just past the leg's
    own travel time, and keeps the last few searches for the legs that follow.
    """

    graph: RoadGraph = field(repr=False)
    time_graph: csr_matrix = field(repr=False)  # graph vertices, then one node per stop
    stop_node: np.ndarray = field(repr=False)
    attach: tuple = field(repr=False, default=())
    leg_time_s: np.ndarray | None = field(repr=False, default=None)  # stop x stop, limits each search
    _searches: dict = field(repr=False, compare=False, default_factory=dict)

    def predecessors(self, a: int, b: int) -> np.ndarray:
        """Predecessor of every network node on the shortest-time tree from stop ``a`` (searched up to ``b``)."""
        limit = np.inf
        if self.leg_time_s is not None and self.leg_time_s[a, b] < UNREACHABLE:
            limit = float(self.leg_time_s[a, b]) + LEG_LIMIT_MARGIN_S
        key = (a, limit)
        for (src, lim), pred in self._searches.items():
            if src == a and lim >= limit:
                return pred
        _, pred = dijkstra(
            self.time_graph, directed=True, indices=int(self.stop_node[a]), return_predecessors=True, limit=limit
        )
        if len(self._searches) >= SEARCHES_KEPT:
            self._searches.pop(next(iter(self._searches)))
        self._searches[key] = pred
        return pred

    def path_lonlat(self, a: int, b: int) -> list[tuple[float, float]]:
        """The road geometry from stop ``a`` to stop ``b`` as ``[lon, lat]`` points."""
        if a == b:
            p = self.attach[a]["stop_lonlat"]
            return [p, p]
        g = self.graph
        n_v = len(g.xy)
        pred = self.predecessors(a, b)
        node = int(self.stop_node[b])
        chain = []
        while node >= 0:
            chain.append(node)
            node = int(pred[node])
        chain.reverse()
        pts: list[tuple[float, float]] = []
        for node in chain:
            if node >= n_v:  # a stop node: its attachment geometry
                att = self.attach[node - n_v]
                if not pts:
                    pts.extend(att["stop_lonlat_path"])
                else:
                    pts.extend(reversed(att["stop_lonlat_path"]))
            else:
                pts.append(tuple(g.lonlat[node]))
        out = [pts[0]]
        for p in pts[1:]:
            if p != out[-1]:
                out.append(p)
        if len(out) == 1:
            out.append(out[0])
        return [(round(x, 6), round(y, 6)) for x, y in out]


def build_graph(area: Area) -> RoadGraph:
    """Split the road lines into vertex-to-vertex segments joined at shared vertices."""
    roads = area.roads.to_crs(METRIC_CRS)
    roads_ll = area.roads
    coords_m, coords_ll, seg_rows = [], [], []
    for i, (geom, geom_ll) in enumerate(zip(roads.geometry, roads_ll.geometry)):
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        parts_ll = list(geom_ll.geoms) if geom_ll.geom_type == "MultiLineString" else [geom_ll]
        for part, part_ll in zip(parts, parts_ll):
            c = np.asarray(part.coords)[:, :2]
            cl = np.asarray(part_ll.coords)[:, :2]
            if len(c) < 2:
                continue
            coords_m.append(c)
            coords_ll.append(cl)
            seg_rows.append(np.full(len(c) - 1, i))
    if not coords_m:
        return RoadGraph(
            *(np.empty((0, 2)),) * 2, *(np.empty(0, dtype=int),) * 2, np.empty(0), *(np.empty(0, dtype=object),) * 3
        )
    all_m = np.vstack(coords_m)
    all_ll = np.vstack(coords_ll)
    # vertices closer than SNAP_M are one node: the validator joins roads with the same function
    label = join_vertices(all_m, SNAP_M)
    uniq, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    xy = all_m[first]
    lonlat = all_ll[first]
    starts = np.cumsum([0] + [len(c) for c in coords_m[:-1]])
    u_list, v_list = [], []
    for s, c in zip(starts, coords_m):
        idx = inverse[s : s + len(c)]
        u_list.append(idx[:-1])
        v_list.append(idx[1:])
    seg_u = np.concatenate(u_list)
    seg_v = np.concatenate(v_list)
    road_idx = np.concatenate(seg_rows)
    keep = seg_u != seg_v
    seg_u, seg_v, road_idx = seg_u[keep], seg_v[keep], road_idx[keep]
    seg_len = np.linalg.norm(xy[seg_u] - xy[seg_v], axis=1)
    cls = area.roads["road_class"].astype(str).to_numpy()[road_idx]
    closed = (
        area.roads["rainy_closed"].fillna(False).astype(bool).to_numpy()[road_idx]
        if "rainy_closed" in area.roads
        else np.zeros(len(road_idx), dtype=bool)
    )
    rid = area.roads["id"].astype(str).to_numpy()[road_idx]
    speed, c_from, c_until = _road_overrides(area.roads, roads.geometry.length.to_numpy())
    return RoadGraph(
        xy, lonlat, seg_u, seg_v, seg_len, cls, closed, rid, speed[road_idx], c_from[road_idx], c_until[road_idx]
    )


def _road_overrides(roads, length_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-road speed override (km/h, NaN if none) and closure range (str or None)."""
    n = len(roads)

    def col(name):
        if name not in roads:
            return np.full(n, np.nan)
        return pd.to_numeric(roads[name], errors="coerce").to_numpy(dtype=float)

    speed = col("speed_kph")
    time_min = col("time_min")
    from_time = np.where(time_min > 0, length_m / 1000 / np.where(time_min > 0, time_min, 1.0) * 60, np.nan)
    speed = np.where(np.isfinite(from_time), from_time, np.where(speed > 0, speed, np.nan))

    def dates(name):
        if name not in roads:
            return np.full(n, None, dtype=object)
        return np.array([v if isinstance(v, str) and v.strip() else None for v in roads[name]], dtype=object)

    return speed, dates("closed_from"), dates("closed_until")


def closed_on(date: dt.date, closed_from: str | None, closed_until: str | None) -> bool:
    """True if ``date`` is in the closure range ``closed_from``..``closed_until`` (both inclusive).

    Full ISO dates (``2026-06-01``) close one range; ``MM-DD`` (``05-15``) recurs every
    year, and ``11-15``..``02-15`` spans the new year. A missing end is open-ended.
    """
    if closed_from is None and closed_until is None:
        return False
    if all(v is None or len(v) == 5 for v in (closed_from, closed_until)):
        md = (date.month, date.day)
        lo = tuple(int(x) for x in closed_from.split("-")) if closed_from else (1, 1)
        hi = tuple(int(x) for x in closed_until.split("-")) if closed_until else (12, 31)
        return lo <= md <= hi if lo <= hi else (md >= lo or md <= hi)
    lo_d = dt.date.fromisoformat(closed_from) if closed_from and len(closed_from) > 5 else dt.date.min
    hi_d = dt.date.fromisoformat(closed_until) if closed_until and len(closed_until) > 5 else dt.date.max
    return lo_d <= date <= hi_d


def closed_mask(
    graph: RoadGraph, on_date: dt.date | None = None, closed_ids: Iterable[str] | None = None
) -> np.ndarray:
    """Segments closed on ``on_date`` (by their closure range) or listed in ``closed_ids``."""
    mask = np.zeros(len(graph.seg_u), dtype=bool)
    if closed_ids:
        mask |= np.isin(graph.seg_road_id, np.array(sorted(set(map(str, closed_ids))), dtype=object))
    if on_date is not None and graph.seg_closed_from is not None and graph.seg_closed_until is not None:
        has = pd.notna(graph.seg_closed_from) | pd.notna(graph.seg_closed_until)
        if has.any():
            idx = np.flatnonzero(has)
            keys = pd.Series(
                [f"{a or ''}|{b or ''}" for a, b in zip(graph.seg_closed_from[idx], graph.seg_closed_until[idx])],
                dtype=object,
            )
            codes, uniq = pd.factorize(keys)
            shut = np.array([closed_on(on_date, *(x or None for x in k.split("|"))) for k in uniq], dtype=bool)
            mask[idx] = shut[codes]
    return mask


def stop_table(area: Area) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Stop ids (villages then sites) with metric and lon/lat coordinates."""
    ids = tuple(area.villages["id"].astype(str)) + tuple(area.sites["id"].astype(str))
    pts_ll = np.array([(g.x, g.y) for g in area.villages.geometry] + [(g.x, g.y) for g in area.sites.geometry]).reshape(
        -1, 2
    )
    import geopandas as gpd

    pts_m = gpd.GeoSeries(gpd.points_from_xy(pts_ll[:, 0], pts_ll[:, 1]), crs=area.villages.crs).to_crs(METRIC_CRS)
    xy = np.column_stack([pts_m.x.to_numpy(), pts_m.y.to_numpy()])
    return ids, xy, pts_ll


def travel_matrices(
    area: Area,
    profile: Profile,
    graph: RoadGraph | None = None,
    rainy: bool = False,
    on_date: dt.date | None = None,
    closed_ids: Iterable[str] | None = None,
) -> Matrices:
    """Shortest-time matrices between all stops (villages, then sites) for ``profile``.

    ``on_date`` leaves out roads whose ``closed_from``..``closed_until`` range holds it;
    ``closed_ids`` leaves out the roads with those ids. A road's ``speed_kph`` or
    ``time_min`` overrides its class speed (see the module notes).
    """
    graph = graph if graph is not None else build_graph(area)
    stop_ids, stop_xy, stop_ll = stop_table(area)
    n_v, n_s = len(graph.xy), len(stop_ids)
    speed = np.array([profile.speed(c) for c in graph.seg_class]) if len(graph.seg_class) else np.empty(0)
    usable = speed > 0
    if graph.seg_speed_kph is not None:
        speed = np.where(usable & np.isfinite(graph.seg_speed_kph), graph.seg_speed_kph, speed)
    if rainy and profile.closed_segments:
        usable &= ~graph.seg_rainy_closed
    if on_date is not None or closed_ids:
        usable &= ~closed_mask(graph, on_date, closed_ids)
    seg_time = np.where(usable, graph.seg_len_m / np.maximum(speed, 1e-9) * 3.6, np.inf)

    # Attach each stop to the nearest usable segment.
    us, vs = graph.seg_u[usable], graph.seg_v[usable]
    seg_lines: np.ndarray = (
        np.asarray(shapely.linestrings(np.stack([graph.xy[us], graph.xy[vs]], axis=1)))
        if usable.any()
        else np.empty(0, dtype=object)
    )
    tree = shapely.STRtree(seg_lines) if len(seg_lines) else None
    pts: np.ndarray = np.asarray(shapely.points(stop_xy))
    attach = []
    extra_rows, extra_cols, extra_t, extra_d = [], [], [], []
    connector = np.full(n_s, np.nan)
    usable_idx = np.flatnonzero(usable)
    for k in range(n_s):
        rec = {"stop_lonlat": tuple(stop_ll[k]), "stop_lonlat_path": [tuple(stop_ll[k])]}
        if tree is not None:
            j = int(tree.nearest(pts[k]))
            line = seg_lines[j]
            off = float(shapely.distance(pts[k], line))
            if off <= profile.max_connector_m:
                seg = usable_idx[j]
                frac = float(shapely.line_locate_point(line, pts[k], normalized=True))
                u, v = graph.seg_u[seg], graph.seg_v[seg]
                connector[k] = off
                off_t = off / (profile.offroad_kph / 3.6)
                proj_ll = tuple(graph.lonlat[u] + frac * (graph.lonlat[v] - graph.lonlat[u]))
                rec["stop_lonlat_path"] = [tuple(stop_ll[k]), proj_ll]
                stop_node = n_v + k
                for node, f in ((u, frac), (v, 1 - frac)):
                    extra_rows.append(stop_node)
                    extra_cols.append(node)
                    extra_t.append(off_t + f * seg_time[seg])
                    extra_d.append(off + f * graph.seg_len_m[seg])
        attach.append(rec)

    rows = np.concatenate([us, vs, np.array(extra_rows, dtype=int), np.array(extra_cols, dtype=int)])
    cols = np.concatenate([vs, us, np.array(extra_cols, dtype=int), np.array(extra_rows, dtype=int)])
    t = np.concatenate([seg_time[usable], seg_time[usable], extra_t, extra_t])
    d = np.concatenate([graph.seg_len_m[usable], graph.seg_len_m[usable], extra_d, extra_d])
    # tiny epsilon keeps zero-length connectors as explicit edges
    t = np.maximum(t, 1e-6)
    # parallel edges: keep the fastest (a sparse matrix would add them up)
    order = np.lexsort((t, cols, rows))
    rows, cols, t, d = rows[order], cols[order], t[order], d[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, t, d = rows[first], cols[first], t[first], d[first]
    n_all = n_v + n_s
    g_time = csr_matrix((t, (rows, cols)), shape=(n_all, n_all))
    stop_nodes = np.arange(n_v, n_all)
    node_xy = np.vstack([graph.xy.reshape(-1, 2), stop_xy.reshape(-1, 2)])
    time_i, dist_i = stop_matrices(g_time, rows, cols, t, d, stop_nodes, node_xy=node_xy, rounded=True)
    bad_pairs = tuple((stop_ids[a], stop_ids[b]) for a, b in zip(*np.nonzero(time_i >= UNREACHABLE)))
    return Matrices(
        profile=profile.name,
        stop_ids=stop_ids,
        time_s=time_i,
        dist_m=dist_i,
        connector_m=connector,
        unreachable=bad_pairs,
        geometry=PathGeometry(graph, g_time, stop_nodes, tuple(attach), time_i),
    )


def stop_matrices(
    g_time: csr_matrix,
    rows,
    cols,
    t,
    d,
    stop_nodes: np.ndarray,
    *,
    workers: int | None = None,
    exact_max_elements: int = EXACT_TREE_MAX_ELEMENTS,
    node_xy: np.ndarray | None = None,
    core: bool = True,
    rounded: bool = False,
):
    """Time (s) and distance (m) between stops along shortest-time paths (inf: no path).

    Small networks (stops × nodes up to :data:`EXACT_TREE_MAX_ELEMENTS`) keep the shortest-time
    trees and sum the distance along them. Larger ones run one search per stop on packed
    lexicographic weights (milliseconds, then decimetres; :func:`packed_weights`): the
    shortest time, and among paths of that time the shortest distance, come out of one
    search with no predecessors kept, in chunks of stops over ``workers`` processes
    (default: up to 2; forked, so only from a process with no other thread, else one).
    Against the kept trees: the same time to the second or one second off (milliseconds
    are rounded per segment), the same distance within a few metres (decimetres likewise).

    With ``core`` (the default) the searches run on the network's core (:func:`core_graph`):
    road vertices are eliminated in rounds and replaced by shortcuts, which keeps every
    shortest packed weight between the stops exactly (integer sums in float64), so the
    figures are the same as a search over the whole network, in less than half the time.
    With ``node_xy`` (metric coordinates of every node) the nodes are renumbered in bands
    across the area, so that a search touches memory in order (about a third faster).
    With ``rounded`` the result is two ``int64`` arrays, rounded to the second and the
    metre, :data:`UNREACHABLE` where there is no path and 0 on the diagonal (rounded by the
    workers, not in this process).
    """
    n_all = g_time.shape[0]
    if len(stop_nodes) * n_all <= exact_max_elements:
        time_all, pred = dijkstra(g_time, directed=True, indices=stop_nodes, return_predecessors=True)
        dist_all = tree_distances(pred, rows, cols, d, n_all)
        time_ss, dist_ss = time_all[:, stop_nodes], dist_all[:, stop_nodes]
        return rounded_matrices(time_ss, dist_ss, 0) if rounded else (time_ss, dist_ss)
    weights = packed_weights(t, d)
    rows, cols, stop_nodes = np.asarray(rows), np.asarray(cols), np.asarray(stop_nodes)
    if core:
        rows, cols, weights, kept = core_graph(rows, cols, weights, stop_nodes, n_all)
        n_all = len(kept)
        local = np.full(g_time.shape[0], -1, dtype=np.int64)
        local[kept] = np.arange(n_all)
        rows, cols, stop_nodes = local[rows], local[cols], local[stop_nodes]
        node_xy = node_xy[kept] if node_xy is not None else None
    if node_xy is not None:
        new = spatial_numbering(node_xy)
        rows, cols, stop_nodes = new[rows], new[cols], new[stop_nodes]
    packed = csr_matrix((weights, (rows, cols)), shape=(n_all, n_all))
    n_s = len(stop_nodes)
    chunks = [np.arange(k, min(k + SOURCES_PER_CHUNK, n_s)) for k in range(0, n_s, SOURCES_PER_CHUNK)]
    workers = workers if workers is not None else min(MAX_WORKERS, os.cpu_count() or 1)
    dtype = np.int64 if rounded else float
    time_ss = np.empty((n_s, n_s), dtype=dtype)
    dist_ss = np.empty((n_s, n_s), dtype=dtype)
    # worker processes are forked (sharing the graph), and only from a single-threaded
    # process: forking a process with threads (a solver's, a Dask worker's) is unsafe
    forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    if workers > 1 and len(chunks) > 1 and forkable:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=set_packed_graph, initargs=(packed, stop_nodes, rounded)
        ) as ex:
            for chunk, (tm, dm) in zip(chunks, ex.map(packed_rows_of_shared, chunks)):
                time_ss[chunk], dist_ss[chunk] = tm, dm
    else:
        for chunk in chunks:
            time_ss[chunk], dist_ss[chunk] = packed_rows(packed, chunk, stop_nodes, rounded)
    return time_ss, dist_ss


def rounded_matrices(time_s: np.ndarray, dist_m: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole seconds and metres as ``int64`` (:data:`UNREACHABLE` where inf); row ``k`` is stop ``first + k``."""
    bad = ~np.isfinite(time_s)
    time_i = np.rint(np.where(bad, 0, time_s)).astype(np.int64)
    dist_i = np.rint(np.where(bad, 0, dist_m)).astype(np.int64)
    time_i[bad] = UNREACHABLE
    dist_i[bad] = UNREACHABLE
    k = np.arange(min(len(time_s), time_s.shape[1] - first))
    time_i[k, first + k] = 0
    dist_i[k, first + k] = 0
    return time_i, dist_i


CORE_DEGREE_CAPS = (4, 5, 6, 7, 8, 8, 10, 10, 12, 12)
"""Largest out-degree of a vertex eliminated in each round of :func:`core_graph` (measured on the
200,000-segment grid of ``benchmarks/import_scale.py``: the core keeps 27,938 of 105,493 nodes and
a search takes about 7.6 ms of CPU against 18.7 ms on the whole network; 14 rounds up to 16 gave
22,708 nodes and 6.7 ms but cost 1.3 s more to build, in the main process)."""
CORE_MAX_ARC_GROWTH = 1.1
""":func:`core_graph` stops before its arcs grow past this multiple of the network's."""


def core_graph(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, keep: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The network reduced to a core that keeps every shortest path weight between the ``keep`` nodes.

    Node elimination, as in the preprocessing of contraction hierarchies (Geisberger et al.,
    2008), stopped at a core: each round removes an independent set of vertices of low
    degree (never a ``keep`` node) and joins each removed vertex's in-neighbour ``a`` to its
    out-neighbour ``b`` by a shortcut weighing ``w(a, v) + w(v, b)``, unless an arc
    ``a -> b`` or a path ``a -> x -> b`` over the remaining arcs weighs no more (a witness).
    A degree-2 vertex (a bend of a road) is the simplest case: its two arcs become one.
    Weights must add exactly (the integers of :func:`packed_weights`) for the core's shortest
    weights to equal the network's bit for bit. Last, arcs that a two-arc path matches are
    dropped (:func:`drop_dominated_arcs`).

    Returns the core's arcs (rows, cols, weights, in the original node numbers) and the
    sorted numbers of its nodes.
    """
    kept = np.zeros(n, dtype=bool)
    kept[keep] = True
    eliminated = np.zeros(n, dtype=bool)
    rows, cols, weights = min_arcs(rows, cols, weights)
    limit = CORE_MAX_ARC_GROWTH * len(rows)
    for cap in CORE_DEGREE_CAPS:
        out = eliminate_round(rows, cols, weights, kept | eliminated, cap, n)
        if out is None or len(out[0]) > limit:
            break
        rows, cols, weights, gone = out
        eliminated |= gone
    rows, cols, weights = drop_dominated_arcs(rows, cols, weights, n)
    return rows, cols, weights, np.flatnonzero(~eliminated)


def drop_dominated_arcs(rows, cols, weights, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arcs sorted by (row, col), less those ``a -> b`` that a path ``a -> x -> b`` matches or beats.

    Safe all at once because weights are positive: each arc of such a path is lighter than the
    arc it replaces, so every dropped arc is matched by a path of kept arcs (by induction on the
    weight). On the benchmark grid this drops about 13 % of the core's arcs (shortcuts of early
    rounds that later shortcuts beat) and makes a search about a fifth faster.
    """
    key = rows.astype(np.int64) * n + cols
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    n_out = ptr[rows + 1] - ptr[rows]
    best = np.full(len(rows), np.inf)
    for k in range(int(n_out.max(initial=0))):
        arc = np.flatnonzero(n_out > k)
        first = ptr[rows[arc]] + k  # the k-th arc out of the same row: a -> x
        other = cols[first] != cols[arc]
        arc, first = arc[other], first[other]
        second = cols[first].astype(np.int64) * n + cols[arc]  # x -> b
        at = np.minimum(np.searchsorted(key, second), len(key) - 1)
        found = key[at] == second
        best[arc[found]] = np.minimum(best[arc[found]], weights[first[found]] + weights[at[found]])
    keep = best > weights
    return rows[keep], cols[keep], weights[keep]


def min_arcs(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One arc per (row, col), the lightest; sorted by row, then column."""
    order = np.argsort(weights, kind="stable")
    rows, cols, weights = rows[order], cols[order], weights[order]
    order = np.argsort(rows.astype(np.int64) * (int(max(cols.max(initial=0), 0)) + 1) + cols, kind="stable")
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first], cols[first], weights[first]


def eliminate_round(rows, cols, weights, fixed: np.ndarray, cap: int, n: int):
    """One round of :func:`core_graph` on arcs sorted by (row, col), one per pair.

    Returns the new arcs (same order) and the eliminated vertices, or None if none.
    """
    nbr_a = np.concatenate([rows, cols])
    nbr_b = np.concatenate([cols, rows])
    n_out = np.bincount(rows, minlength=n)
    out_ptr = np.concatenate([[0], np.cumsum(n_out)])
    by_col = np.argsort(cols, kind="stable")  # arcs a -> v grouped by v
    n_in = np.bincount(cols, minlength=n)
    in_ptr = np.concatenate([[0], np.cumsum(n_in)])
    candidate = ~fixed & (n_out + n_in > 0) & (np.maximum(n_out, n_in) <= cap)
    gone = independent_set(nbr_a, nbr_b, candidate, n_out + n_in, n)
    if not gone.any():
        return None
    vs = np.flatnonzero(gone)
    new_a, new_b, new_w = [], [], []
    for ki, ko in sorted(set(zip(n_in[vs].tolist(), n_out[vs].tolist()))):
        if ki == 0 or ko == 0:
            continue
        sel = vs[(n_in[vs] == ki) & (n_out[vs] == ko)]
        at_in = by_col[in_ptr[sel][:, None] + np.arange(ki)]
        at_out = out_ptr[sel][:, None] + np.arange(ko)
        a = np.repeat(rows[at_in], ko, axis=1).ravel()
        b = np.tile(cols[at_out], (1, ki)).ravel()
        w = (np.repeat(weights[at_in], ko, axis=1) + np.tile(weights[at_out], (1, ki))).ravel()
        ok = a != b
        new_a.append(a[ok])
        new_b.append(b[ok])
        new_w.append(w[ok])
    stay = ~(gone[rows] | gone[cols])
    rows, cols, weights = rows[stay], cols[stay], weights[stay]
    if not new_a:
        return rows, cols, weights, gone
    a, b, w = min_arcs(np.concatenate(new_a), np.concatenate(new_b), np.concatenate(new_w))
    key = rows.astype(np.int64) * n + cols  # sorted
    need = w < witness_weights(key, rows, weights, a, b, n)
    a, b, w = a[need], b[need], w[need]
    # a needed shortcut is lighter than any arc a -> b: it replaces that arc or is added
    new_key = a.astype(np.int64) * n + b
    at = np.searchsorted(key, new_key)
    hit = at < len(key)
    hit[hit] = key[at[hit]] == new_key[hit]
    weights = weights.copy()
    weights[at[hit]] = w[hit]
    add = ~hit
    pos = np.searchsorted(key, new_key[add])
    return np.insert(rows, pos, a[add]), np.insert(cols, pos, b[add]), np.insert(weights, pos, w[add]), gone


def independent_set(nbr_a, nbr_b, candidate: np.ndarray, degree: np.ndarray, n: int) -> np.ndarray:
    """A maximal set of ``candidate`` vertices no two of which are neighbours, lowest degree first."""
    # equal degrees: a fixed hash of the vertex number decides (deterministic)
    spread = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    priority = degree + spread / 2.0**33
    chosen = np.zeros(n, dtype=bool)
    blocked = ~candidate
    while True:
        p = np.where(blocked, np.inf, priority)
        best_nbr = np.full(n, np.inf)
        np.minimum.at(best_nbr, nbr_a, p[nbr_b])
        new = np.isfinite(p) & (p < best_nbr)
        if not new.any():
            return chosen
        chosen |= new
        blocked |= new
        blocked[nbr_b[new[nbr_a]]] = True


def witness_weights(key: np.ndarray, rows: np.ndarray, weights: np.ndarray, a, b, n: int) -> np.ndarray:
    """Lightest path ``a -> b`` of one or two arcs; the arcs sorted by ``key`` = row × n + col. Inf if none."""
    if not len(key):
        return np.full(len(a), np.inf)

    def arc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        k = x.astype(np.int64) * n + y
        i = np.minimum(np.searchsorted(key, k), len(key) - 1)
        return np.where(key[i] == k, weights[i], np.inf)

    best = arc(a, b)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    n_out = ptr[a + 1] - ptr[a]
    cols = key - rows.astype(np.int64) * n
    for k in range(int(n_out.max(initial=0))):
        sel = np.flatnonzero(n_out > k)
        at = ptr[a[sel]] + k
        best[sel] = np.minimum(best[sel], weights[at] + arc(cols[at], b[sel]))
    return best


def spatial_numbering(xy: np.ndarray) -> np.ndarray:
    """New number of each node: bands of :data:`BAND_NODE_SPACINGS` node spacings across, west to east in each."""
    span = np.ptp(xy, axis=0) if len(xy) else np.zeros(2)
    spacing_m = max(float(np.sqrt(span[0] * span[1] / max(1, len(xy)))), 1.0)
    order = np.lexsort((xy[:, 0], np.floor((xy[:, 1] - xy[:, 1].min()) / (BAND_NODE_SPACINGS * spacing_m))))
    new = np.empty(len(xy), dtype=np.int64)
    new[order] = np.arange(len(xy))
    return new


def packed_weights(time_s: np.ndarray, dist_m: np.ndarray) -> np.ndarray:
    """Edge weights ordering paths by time (ms), then distance (dm), exactly summable in float64.

    A path's weight is ``ms × 2**26 + dm``: integers below ``2**53`` as long as a path takes
    under 37 hours and runs under 6,700 km, so sums are exact and both parts can be read back.
    """
    w = np.rint(time_s / TIME_QUANTUM_S) * PACK + np.rint(dist_m / DIST_QUANTUM_M)
    return np.maximum(w, 1.0)  # a zero weight would drop the edge from the sparse graph


def unpack(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time (s) and distance (m) from packed path weights (inf stays inf)."""
    ok = np.isfinite(weights)
    ms = np.floor(np.where(ok, weights, 0) / PACK)
    dm = np.where(ok, weights, 0) - ms * PACK
    return np.where(ok, ms * TIME_QUANTUM_S, np.inf), np.where(ok, dm * DIST_QUANTUM_M, np.inf)


def packed_rows(
    packed: csr_matrix, chunk: np.ndarray, stop_nodes: np.ndarray, rounded: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Time and distance rows from the stops numbered ``chunk`` to every stop."""
    out = dijkstra(packed, directed=True, indices=stop_nodes[chunk])[:, stop_nodes]
    time_s, dist_m = unpack(out)
    return rounded_matrices(time_s, dist_m, int(chunk[0])) if rounded else (time_s, dist_m)


_SHARED: dict = {}


def set_packed_graph(packed: csr_matrix, stop_nodes: np.ndarray, rounded: bool = False) -> None:
    """Worker initialiser: keep the packed graph for :func:`packed_rows_of_shared`."""
    _SHARED["packed"], _SHARED["stops"], _SHARED["rounded"] = packed, stop_nodes, rounded


def packed_rows_of_shared(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return packed_rows(_SHARED["packed"], chunk, _SHARED["stops"], _SHARED["rounded"])


def tree_distances(pred: np.ndarray, rows, cols, d, n_all: int, chunk: int = 16) -> np.ndarray:
    """Distance along each shortest-time tree, by pointer doubling (vectorised, sources in chunks)."""
    edge_len = csr_matrix((d, (rows, cols)), shape=(n_all, n_all)).tocsr()
    out = np.zeros(pred.shape, dtype=float)
    for k in range(0, pred.shape[0], chunk):
        out[k : k + chunk] = tree_distances_chunk(pred[k : k + chunk], edge_len)
    return out


def tree_distances_chunk(pred: np.ndarray, edge_len) -> np.ndarray:
    acc = np.zeros(pred.shape, dtype=float)
    anc = pred.copy()
    has = anc >= 0
    src_idx, node_idx = np.nonzero(has)
    # edge length from pred[node] to node (min over parallel edges is fine: same geometry class)
    lens = np.asarray(edge_len[anc[src_idx, node_idx], node_idx]).ravel()
    acc[src_idx, node_idx] = lens
    unreached = ~has
    # pointer doubling: acc[x] = sum of edge lengths from x up to the root
    for _ in range(64):
        if not (anc >= 0).any():
            break
        valid = anc >= 0
        r, c = np.nonzero(valid)
        a = anc[r, c]
        acc[r, c] += acc[r, a]
        nxt = np.full_like(anc, -9999)
        nxt[r, c] = anc[r, a]
        anc = np.where(valid, nxt, -9999)
    acc[unreached] = 0.0
    return acc


def check_reachability(m: Matrices, depot_id: str) -> dict[str, list[str]]:
    """Stops that cannot be reached from, or cannot return to, the depot."""
    d = m.index(depot_id)
    out = [m.stop_ids[j] for j in range(len(m.stop_ids)) if m.time_s[d, j] >= UNREACHABLE]
    back = [m.stop_ids[j] for j in range(len(m.stop_ids)) if m.time_s[j, d] >= UNREACHABLE]
    return {"not_reachable_from_depot": out, "cannot_return_to_depot": back}


__all__ = [
    "ROAD_CLASSES",
    "Profile",
    "RoadGraph",
    "Matrices",
    "build_graph",
    "closed_mask",
    "closed_on",
    "travel_matrices",
    "check_reachability",
]
