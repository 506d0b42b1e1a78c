"""Matrices at scale: the packed one-pass search agrees with the kept shortest-time trees,
workers do not change a result, and a leg's geometry is searched only when asked for."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from planner.planning.network import (
    PathGeometry,
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
