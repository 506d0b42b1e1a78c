"""Matrices at scale: the packed one-pass search agrees with the kept shortest-time trees,
workers do not change a result, and a leg's geometry is searched only when asked for."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.io import DEFAULT_DATA_DIR, load_area
from planner.model.config import load_config
from planner.model.matrices import UNREACHABLE
from planner.planning.network import (
    PathGeometry,
    build_graph,
    core_graph,
    drop_dominated_arcs,
    min_arcs,
    packed_weights,
    spatial_numbering,
    stop_matrices,
    travel_matrices,
    unpack,
)
from tests.conftest import config

GRID_SIDE = 30  # a 30 × 30 jittered grid: 900 vertices, 1,740 segments
SEGMENT_TOLERANCE_M = 0.05  # decimetres rounded per segment


def grid_graph(seed: int = 3):
    """A jittered square grid with two road speeds: edge arrays (rows, cols, time_s, dist_m), stop nodes."""
    rng = np.random.default_rng(seed)
    n = GRID_SIDE
    xy = np.stack(np.meshgrid(np.arange(n), np.arange(n)), axis=-1).reshape(-1, 2) * 500.0
    xy += rng.uniform(-150, 150, xy.shape)
    node = np.arange(n * n).reshape(n, n)
    u = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    v = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    dist = np.linalg.norm(xy[u] - xy[v], axis=1)
    kph = rng.choice([15.0, 25.0, 40.0], size=len(u))
    time = dist / kph * 3.6
    rows, cols = np.concatenate([u, v]), np.concatenate([v, u])
    t, d = np.concatenate([time, time]), np.concatenate([dist, dist])
    stops = np.sort(rng.choice(n * n, size=60, replace=False))
    return rows, cols, t, d, stops, n * n


def test_packed_weights_read_back_exactly():
    t = np.array([0.0004, 12.3456, 3600.0])
    d = np.array([0.0, 1234.56, 40_000.0])
    tt, dd = unpack(np.cumsum(packed_weights(t, d)))
    assert np.allclose(tt, np.cumsum(np.rint(t * 1000) / 1000), atol=1e-9)
    # the first segment (0 ms, 0 dm) weighs one decimetre: a zero would drop it from the graph
    assert np.allclose(dd, np.cumsum(np.rint(d * 10) / 10) + 0.1, atol=1e-9)
    assert np.isinf(unpack(np.array([np.inf]))[0][0])


def test_packed_search_agrees_with_the_kept_trees():
    rows, cols, t, d, stops, n = grid_graph()
    g = csr_matrix((t, (rows, cols)), shape=(n, n))
    exact_t, exact_d = stop_matrices(g, rows, cols, t, d, stops)
    fast_t, fast_d = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1)
    hops = GRID_SIDE * 2  # a path crosses at most about this many segments
    assert np.abs(fast_t - exact_t).max() <= hops * 0.0005 + 1e-9
    # the same path, or one of the same time to the millisecond that is no longer
    assert (fast_d <= exact_d + hops * SEGMENT_TOLERANCE_M).all()
    assert np.mean(np.abs(fast_d - exact_d) <= hops * SEGMENT_TOLERANCE_M) > 0.99


def test_two_workers_give_the_same_matrices_as_one():
    rows, cols, t, d, stops, n = grid_graph(seed=5)
    g = csr_matrix((t, (rows, cols)), shape=(n, n))
    one = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1)
    two = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])


def test_leg_geometry_is_searched_on_demand(line_area):
    m = travel_matrices(line_area, config().profile("van"))
    geo = m.geometry
    assert isinstance(geo, PathGeometry)
    assert not geo._searches  # nothing searched before a leg is asked for
    v1, v2, v3 = (m.index(s) for s in ("V1", "V2", "V3"))
    path = m.path_lonlat(v3, v2)  # -10 km to +10 km along the road, through the depot and V1
    assert len(geo._searches) == 1
    lons = [p[0] for p in path]
    assert lons == sorted(lons) and lons[0] < 103.0 < lons[-1]
    assert m.path_lonlat(v3, v1)[-1] == pytest.approx(m.path_lonlat(v1, v1)[0], abs=1e-6)  # V3's search again
    assert len(geo._searches) == 1  # V1's own point needs none; V3 -> V1 lies within the kept search


def test_spatial_numbering_changes_no_figure():
    rows, cols, t, d, stops, n = grid_graph(seed=11)
    g = csr_matrix((t, (rows, cols)), shape=(n, n))
    xy = np.random.default_rng(0).uniform(0, 15_000, size=(n, 2))  # any coordinates: only the order changes
    plain = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1)
    banded = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1, node_xy=xy)
    assert np.array_equal(plain[0], banded[0]) and np.array_equal(plain[1], banded[1])
    assert sorted(spatial_numbering(xy)) == list(range(n))


def test_core_keeps_a_bend_as_one_arc_and_drops_a_shortcut_with_a_witness():
    # 0 -> 1 -> 2 weighs 3 + 4 = 7; 0 -> 3 -> 2 weighs 5 + 1 = 6 (node 3 is kept, a stop).
    # Eliminating 1 would add the shortcut 0 -> 2 of weight 7, but the witness 0 -> 3 -> 2
    # weighs 6, so no shortcut: the core is 0, 2, 3 with the arcs 0 -> 3 and 3 -> 2 only.
    rows, cols = np.array([0, 1, 0, 3]), np.array([1, 2, 3, 2])
    w = np.array([3.0, 4.0, 5.0, 1.0])
    r, c, ww, kept = core_graph(rows, cols, w, np.array([0, 2, 3]), 4)
    assert list(kept) == [0, 2, 3]
    assert sorted(zip(r.tolist(), c.tolist(), ww.tolist())) == [(0, 3, 5.0), (3, 2, 1.0)]
    # with 3 -> 2 at weight 3 the witness weighs 8 > 7: the shortcut 0 -> 2 (7) is added
    r, c, ww, kept = core_graph(rows, cols, np.array([3.0, 4.0, 5.0, 3.0]), np.array([0, 2, 3]), 4)
    assert sorted(zip(r.tolist(), c.tolist(), ww.tolist())) == [(0, 2, 7.0), (0, 3, 5.0), (3, 2, 3.0)]


def test_an_arc_that_a_two_arc_path_matches_is_dropped():
    # 0 -> 2 weighs 7; 0 -> 1 -> 2 weighs 3 + 4 = 7 (a match): 0 -> 2 goes. Every other arc is
    # lighter than its two-arc detour, e.g. 2 -> 0 weighs 5 against 2 -> 1 -> 0 = 2 + 4 = 6: stays.
    rows, cols = np.array([0, 0, 1, 1, 2, 2]), np.array([1, 2, 0, 2, 0, 1])
    w = np.array([3.0, 7.0, 4.0, 4.0, 5.0, 2.0])
    r, c, ww = drop_dominated_arcs(rows, cols, w, 3)
    assert list(zip(r.tolist(), c.tolist(), ww.tolist())) == [
        (0, 1, 3.0),
        (1, 0, 4.0),
        (1, 2, 4.0),
        (2, 0, 5.0),
        (2, 1, 2.0),
    ]


def test_core_search_equals_the_whole_network_bit_for_bit():
    rows, cols, t, d, stops, n = grid_graph(seed=7)
    g = csr_matrix((t, (rows, cols)), shape=(n, n))
    whole = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1, core=False)
    core = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1, core=True)
    assert np.array_equal(whole[0], core[0]) and np.array_equal(whole[1], core[1])
    _, _, _, kept = core_graph(rows, cols, packed_weights(t, d), stops, n)
    assert len(kept) < n / 2  # the core is a real reduction (most grid vertices go)


def test_core_of_a_one_way_network_equals_a_plain_search():
    # one-way arcs with random weights: shortcuts follow the arcs' direction
    rng = np.random.default_rng(2)
    n = 400
    rows = rng.integers(0, n, 2400)
    cols = (rows + rng.integers(1, 25, 2400)) % n
    w = rng.integers(1, 1000, 2400).astype(float)
    stops = np.sort(rng.choice(n, 40, replace=False))
    r, c, ww, kept = core_graph(rows, cols, w, stops, n)
    local = np.full(n, -1)
    local[kept] = np.arange(len(kept))
    g_core = csr_matrix((ww, (local[r], local[c])), shape=(len(kept), len(kept)))
    r0, c0, w0 = min_arcs(rows, cols, w)
    plain = dijkstra(csr_matrix((w0, (r0, c0)), shape=(n, n)), indices=stops)[:, stops]
    assert np.array_equal(dijkstra(g_core, indices=local[stops])[:, local[stops]], plain)
    assert len(kept) < n


def test_rounded_matrices_come_from_the_workers_as_before():
    rows, cols, t, d, stops, n = grid_graph(seed=9)
    g = csr_matrix((t, (rows, cols)), shape=(n, n))
    tf, df = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=1)
    ti, di = stop_matrices(g, rows, cols, t, d, stops, exact_max_elements=0, workers=2, rounded=True)
    assert ti.dtype == np.int64 and (np.diag(ti) == 0).all() and (np.diag(di) == 0).all()
    off = ~np.eye(len(stops), dtype=bool)
    assert np.array_equal(ti[off], np.rint(tf[off]).astype(np.int64))
    assert np.array_equal(di[off], np.rint(df[off]).astype(np.int64))


def test_default_data_matrices_are_the_same_through_the_core():
    # the default data keeps the exact trees; forced through the packed search, the core and the
    # whole network give the same figures bit for bit, and none is unreachable by one and not the other
    area = load_area(DEFAULT_DATA_DIR)
    m = travel_matrices(area, load_config(None).profile("van"), build_graph(area))
    geo = m.geometry
    g = geo.time_graph.tocoo()
    # the time graph's arcs; distances are the road segments' lengths (connectors count 0 here)
    coords = np.vstack([geo.graph.xy, np.zeros((len(m.stop_ids), 2))])
    lengths = np.zeros(len(g.row))
    n_v = len(geo.graph.xy)
    road = (g.row < n_v) & (g.col < n_v)
    lengths[road] = np.linalg.norm(coords[g.row[road]] - coords[g.col[road]], axis=1)
    args = (geo.time_graph, g.row, g.col, g.data, lengths, geo.stop_node)
    whole = stop_matrices(*args, exact_max_elements=0, workers=1, core=False, rounded=True)
    core = stop_matrices(*args, exact_max_elements=0, workers=1, core=True, rounded=True)
    assert np.array_equal(whole[0], core[0]) and np.array_equal(whole[1], core[1])
    assert ((whole[0] >= UNREACHABLE) == (m.time_s >= UNREACHABLE)).all()
    assert np.abs(whole[0] - m.time_s)[m.time_s < UNREACHABLE].max() <= 1  # ms rounded per segment


def test_plan_scale_benchmark_runs_the_planner_and_the_checker(tmp_path):
    # a small instance of the benchmark (30 villages, 2 vans, 1 week): the checker finds nothing
    from benchmarks import plan_scale

    out = tmp_path / "plan_scale.md"
    args = ["--villages", "30", "--vans", "2", "--weeks", "1", "--segments", "2000", "--max-iterations", "200"]
    assert plan_scale.main([*args, "--time-limit", "30", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "checker (`planner.planning.checker.violations`): no violation" in text
    assert "| solve (kernel + bound) |" in text
