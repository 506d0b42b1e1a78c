"""Import at scale: 5,000 villages and 200,000 road segments over a Mường Tè-sized box.

Run ``python -m benchmarks.import_scale [--villages 5000] [--segments 200000] [--depots 4] [--sample N]``.

Stages, each timed, with the process's peak resident size after it (``getrusage``) and,
with ``--tracemalloc``, the peak of traced Python/numpy memory during it:

1. generate: villages uniform in a 0.50° x 0.45° box (about 51 x 50 km, Mường Tè is
   about 2,700 km²), four quadrant communes, a depot and three sites, and a jittered
   square grid of road segments (two-point lines, ends shared at the grid nodes);
2. write: villages CSV, roads GeoPackage, communes/sites GeoJSON, in a temp folder;
3. read + validate: :func:`planner.io.read_all` (readers, then every rule of
   :mod:`planner.io.validate`, including the road components and off-road distances);
4. graph: :func:`planner.planning.network.build_graph` when it exists (else a vertex graph built here);
5. matrix: multi-source :func:`scipy.sparse.csgraph.dijkstra` from the depots to every
   village (villages joined to the nearest graph vertex), the depots x 5,000 matrix;
6. all-pairs: :func:`planner.planning.network.travel_matrices`, time and distance between all
   stops (every village and site; ``--sample N`` for a sample of villages);
7. leg geometry on demand: the road geometry of 200 legs, searched only when asked.

The table is printed and written to ``benchmarks/results/import_scale.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from planner.io import read_all
from planner.model.area import METRIC_CRS, Area
from planner.planning import network

ROOT = Path(__file__).resolve().parents[1]

LEGS_DRAWN = 200
LOAD_BEFORE = " / ".join(f"{x:.1f}" for x in os.getloadavg())
BOX = (102.30, 22.30, 102.80, 22.75)  # lon0, lat0, lon1, lat1
SEED = 20240731


class Stages:
    def __init__(self, trace: bool):
        self.rows = []
        self.trace = trace

    def run(self, name, fn, *args, **kwargs):
        if self.trace:
            tracemalloc.start()
        t0, cpu0 = time.perf_counter(), cpu_s()
        out = fn(*args, **kwargs)
        dt, cpu = time.perf_counter() - t0, cpu_s() - cpu0
        peak = tracemalloc.get_traced_memory()[1] if self.trace else float("nan")
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.rows.append((name, dt, cpu, peak / 2**20, rss, kids))
        print(
            f"{name:<50} {dt:8.2f} s  {cpu:8.2f} CPU s  {peak / 2**20:8.1f} MiB traced  {rss:8.0f} MiB max RSS"
            f"  {kids:6.0f} MiB max RSS of a worker",
            flush=True,
        )
        return out


def cpu_s() -> float:
    """CPU time of this process and its finished children (the search workers), in seconds."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def generate(n_villages: int, n_segments: int, rng: np.random.Generator):
    lon0, lat0, lon1, lat1 = BOX
    # grid with n x n nodes has 2 n (n - 1) segments
    n = round((1 + np.sqrt(1 + 2 * n_segments)) / 2)  # all edges kept: about n_segments
    gx, gy = np.meshgrid(np.linspace(lon0, lon1, n), np.linspace(lat0, lat1, n))
    cell = ((lon1 - lon0) / (n - 1), (lat1 - lat0) / (n - 1))
    gx = gx + rng.uniform(-0.3, 0.3, gx.shape) * cell[0]
    gy = gy + rng.uniform(-0.3, 0.3, gy.shape) * cell[1]
    gx[:, 0], gx[:, -1], gy[0, :], gy[-1, :] = lon0 + 1e-5, lon1 - 1e-5, lat0 + 1e-5, lat1 - 1e-5
    node = np.arange(n * n).reshape(n, n)
    a = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    b = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    lines = shapely.linestrings(np.stack([xy[a], xy[b]], axis=1))
    classes = rng.choice(["national", "provincial", "commune", "track"], size=len(lines), p=[0.02, 0.08, 0.5, 0.4])
    roads = gpd.GeoDataFrame(
        {
            "id": [f"R{i:06d}" for i in range(len(lines))],
            "road_class": classes,
            "surface": np.where(classes == "track", "earth", "asphalt"),
            "approximated": True,
        },
        geometry=lines,
        crs="EPSG:4326",
    )
    mx, my = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    quads = [
        shapely.box(lon0, lat0, mx, my),
        shapely.box(mx, lat0, lon1, my),
        shapely.box(lon0, my, mx, lat1),
        shapely.box(mx, my, lon1, lat1),
    ]
    codes = ["03433", "03436", "03439", "03440"]
    communes = gpd.GeoDataFrame(
        {"code": codes, "name": [f"Xã {i}" for i in range(4)], "population": 10000}, geometry=quads, crs="EPSG:4326"
    )
    vx = rng.uniform(lon0 + 1e-4, lon1 - 1e-4, n_villages)
    vy = rng.uniform(lat0 + 1e-4, lat1 - 1e-4, n_villages)
    q = (vx > mx).astype(int) + 2 * (vy > my).astype(int)
    villages = pd.DataFrame(
        {
            "id": [f"V{i:05d}" for i in range(n_villages)],
            "name": [f"Bản Thử {i}" for i in range(n_villages)],
            "commune_code": [codes[k] for k in q],
            "commune": [f"Xã {k}" for k in q],
            "population": rng.integers(50, 2000, n_villages),
            "lat": vy.round(6),
            "lon": vx.round(6),
        }
    )
    site_xy = [(mx - 0.001, my - 0.001), (lon0 + 0.05, lat0 + 0.05), (lon1 - 0.05, lat1 - 0.05), (mx + 0.1, my - 0.1)]
    sq = [(x > mx) + 2 * (y > my) for x, y in site_xy]
    sites = gpd.GeoDataFrame(
        {
            "id": ["DEPOT", "S1", "S2", "S3"],
            "name": ["Depot", "A", "B", "C"],
            "kind": ["depot", "culture_centre", "learning_centre", "school"],
            "commune_code": [codes[k] for k in sq],
            "commune": [f"Xã {k}" for k in sq],
        },
        geometry=[shapely.Point(p) for p in site_xy],
        crs="EPSG:4326",
    )
    return villages, roads, communes, sites


def write(folder: Path, villages, roads, communes, sites) -> dict[str, Path]:
    paths = {
        "villages": folder / "villages.csv",
        "roads": folder / "roads.gpkg",
        "communes": folder / "communes.geojson",
        "sites": folder / "sites.geojson",
    }
    villages.to_csv(paths["villages"], index=False)
    roads.to_file(paths["roads"], engine="pyogrio")
    communes.to_file(paths["communes"])
    sites.to_file(paths["sites"])
    return paths


def depot_matrix(vert_xy, u, v, length_m, sources_xy, targets_xy, speed_kph=25.0):
    n = len(vert_xy)
    t = length_m / (speed_kph / 3.6)
    g = csr_matrix((np.concatenate([t, t]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n))
    tree = cKDTree(vert_xy)
    _, src = tree.query(sources_xy)
    _, dst = tree.query(targets_xy)
    times = dijkstra(g, directed=True, indices=src)
    return times[:, dst]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=5000)
    ap.add_argument("--segments", type=int, default=200_000)
    ap.add_argument("--depots", type=int, default=4)
    ap.add_argument("--sample", type=int, default=0, help="villages in the all-pairs matrix (0: all)")
    ap.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python/numpy memory per stage (slows every stage 2-3x)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "import_scale.md")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(SEED)
    st = Stages(args.tracemalloc)
    villages, roads, communes, sites = st.run("1 generate", generate, args.villages, args.segments, rng)
    with tempfile.TemporaryDirectory() as tmp:
        paths = st.run("2 write (csv, gpkg, geojson)", write, Path(tmp), villages, roads, communes, sites)
        sizes = {k: p.stat().st_size / 2**20 for k, p in paths.items()}
        frames, problems = st.run("3 read + validate (read_all)", read_all, paths)
    errors = [p for p in problems if p.severity == "error"]
    warns = [p for p in problems if p.severity != "error"]
    area = Area(
        villages=frames["villages"],
        sites=frames["sites"],
        roads=frames["roads"],
        communes=frames["communes"],
        name="scale",
    )
    sources_ll = np.array([(g.x, g.y) for g in area.sites.geometry][: args.depots])

    def to_m(ll):
        return gpd.GeoSeries(gpd.points_from_xy(ll[:, 0], ll[:, 1]), crs="EPSG:4326").to_crs(METRIC_CRS)

    src_m = np.column_stack([to_m(sources_ll).x, to_m(sources_ll).y])
    v_ll = np.array([(g.x, g.y) for g in area.villages.geometry])
    dst = to_m(v_ll)
    dst_m = np.column_stack([dst.x, dst.y])
    graph = st.run("4 graph (planner.planning.network.build_graph)", network.build_graph, area)
    vert_xy, u, v, length = graph.xy, graph.seg_u, graph.seg_v, graph.seg_len_m
    graph_note = "planner.planning.network.build_graph"
    times = st.run(
        f"5 dijkstra {len(src_m)} depots x {len(dst_m)} villages", depot_matrix, vert_xy, u, v, length, src_m, dst_m
    )
    pick = np.arange(len(area.villages))
    if args.sample:
        pick = np.sort(rng.choice(len(area.villages), size=min(args.sample, len(area.villages)), replace=False))
    small = Area(
        villages=area.villages.iloc[pick].reset_index(drop=True),
        sites=area.sites,
        roads=area.roads,
        communes=area.communes,
        name="scale-sample",
    )
    prof = network.Profile("van", {"national": 50, "provincial": 40, "commune": 25, "track": 12})
    sampled = st.run(
        f"6 travel_matrices {len(pick) + len(area.sites):,} stops all-pairs (time + distance)",
        network.travel_matrices,
        small,
        prof,
        graph,
    )
    legs = [(0, k) for k in range(1, min(LEGS_DRAWN, len(sampled.stop_ids)))]
    drawn = st.run(f"7 geometry of {len(legs)} legs on demand", lambda: [sampled.path_lonlat(a, b) for a, b in legs])
    reach = np.isfinite(times).mean()
    lines = [
        "# Import at scale",
        "",
        (
            f"Generated by `benchmarks/import_scale.py` (seed {SEED}); Python {platform.python_version()}, "
            f"{platform.machine()}. *max RSS* is the process's peak resident memory so far "
            "(`resource.getrusage`); *traced* is the peak of Python/numpy memory during the stage "
            "(`tracemalloc`, with `--tracemalloc`, which also slows the stage; GEOS's C allocations are not traced)."
        ),
        "",
        (
            f"- input: {len(area.villages):,} villages (CSV, {sizes['villages']:.1f} MiB), {len(area.roads):,} road "
            f"segments (GeoPackage, {sizes['roads']:.1f} MiB), {len(area.communes)} communes, {len(area.sites)} sites"
        ),
        f"- validation: {len(errors)} errors, {len(warns)} warnings",
        f"- graph: {graph_note}, {len(vert_xy):,} vertices, {len(u):,} edges",
        (
            f"- depot matrix: {times.shape[0]} x {times.shape[1]}, {reach:.1%} of pairs reachable, "
            f"median {np.nanmedian(np.where(np.isfinite(times), times, np.nan)) / 60:.0f} min at 25 km/h"
        ),
    ]
    lines.append(
        f"- all-pairs: {len(sampled.stop_ids):,} x {len(sampled.stop_ids):,} stops, "
        f"{len(sampled.unreachable)} unreachable pairs, {sampled.time_s.nbytes * 2 / 2**20:.0f} MiB of matrices; "
        f"{len(drawn)} legs drawn, {sum(len(p) for p in drawn):,} points"
    )
    lines.append(
        f"- machine: {os.cpu_count()} cores shared with other work, load average before the run {LOAD_BEFORE} "
        "(wall times stretch under load; CPU times do not)"
    )
    lines += [
        "",
        "| stage | wall (s) | CPU (s, with workers) | traced peak (MiB) | max RSS (MiB) | max RSS of a worker (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {n} | {t:.2f} | {c:.2f} | {p:.1f} | {r:.0f} | {k:.0f} |" for n, t, c, p, r, k in st.rows]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
