"""Generate a province-sized planning problem: all 8 districts of Lai Châu, about 1,000 villages.

Input: the real commune polygons of the province (``benchmarks/data/laichau_communes_censusVN2009.geojson``,
108 communes; provenance in ``benchmarks/data/README.md``). Everything else is generated,
deterministically (a seed per commune id), by these rules:

- **Commune population**: the polygon's ``population`` attribute (about 1999); a commune with 0
  gets the median of its district's non-zero communes.
- **Villages**: ``n_villages`` in all (default 1,000) shared by the communes in proportion to
  population, at least 3 a commune; placed uniformly at random inside the commune polygon
  (rejection sampling in UTM 48N); the commune's population split among them with random weights
  in [0.5, 1.5]. Children: a third of the population.
- **Sites**: a commune centre (``culture_centre``, lodging, a fixed library point of 3 km) at
  the polygon's representative point; the **depot** of each district at the centre of its most
  populous commune.
- **Roads** (schematic, one network per district): a minimum spanning tree over the district's
  villages and commune centres, straight segments, with the edges between two commune centres
  made cheap so the centres are joined to each other first. Centre-to-centre edges are
  ``provincial`` roads, the others ``commune`` roads; all open in both seasons.

Each district is written as its own data folder (``villages/sites/roads/communes.geojson``) that
:func:`planner.io.load_area` reads and validates like any other, so every district is an
independent plan.

Run ``python -m benchmarks.province OUT_DIR`` to write the folders and print a summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from shapely.geometry import LineString, Point
from shapely.prepared import prep

from planner.io.safe import slug

SOURCE = Path(__file__).resolve().parent / "data" / "laichau_communes_censusVN2009.geojson"
GEO_CRS, METRIC_CRS = "EPSG:4326", "EPSG:32648"
MIN_VILLAGES = 3
CENTRE_EDGE_FACTOR = 0.01  # centre-to-centre edges weigh 1 % of their length in the spanning tree


def _commune_code(cid: float) -> str:
    return str(int(cid))


def _populations(c: gpd.GeoDataFrame) -> np.ndarray:
    pop = c["population"].fillna(0).to_numpy(dtype=float)
    out = pop.copy()
    for _, idx in c.groupby("district_id").indices.items():
        nz = pop[idx][pop[idx] > 0]
        fill = float(np.median(nz)) if len(nz) else 1000.0
        out[idx] = np.where(pop[idx] > 0, pop[idx], fill)
    return out.round().astype(int)


def _points_in(poly, n: int, rng: np.random.Generator) -> list[Point]:
    minx, miny, maxx, maxy = poly.bounds
    pp = prep(poly)
    pts: list[Point] = []
    while len(pts) < n:
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        pts.extend(p for p in map(Point, xs, ys) if pp.contains(p))
    return pts[:n]


def _split(total: int, n: int, rng: np.random.Generator) -> list[int]:
    w = rng.uniform(0.5, 1.5, n)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - out))[: total - out.sum()]:
        out[k] += 1
    return [max(1, int(x)) for x in out]


def generate(n_villages: int = 1000, source: Path = SOURCE) -> dict[str, dict[str, gpd.GeoDataFrame]]:
    """The province as ``{district slug: {"villages", "sites", "roads", "communes"}}`` (WGS84 frames)."""
    c = gpd.read_file(source).sort_values("commune_id").reset_index(drop=True)
    c["code"] = [_commune_code(x) for x in c["commune_id"]]
    c["pop"] = _populations(c)
    cm = c.to_crs(METRIC_CRS)
    total = int(c["pop"].sum())
    c["n_villages"] = [max(MIN_VILLAGES, int(round(n_villages * p / total))) for p in c["pop"]]
    districts: dict[str, dict[str, gpd.GeoDataFrame]] = {}
    for did, idx in sorted(c.groupby("district_id").indices.items()):
        dc, dm = c.iloc[idx], cm.iloc[idx]
        dname = str(dc["district_vn"].iloc[0])
        villages, centres = [], []
        for (_, row), geom in zip(dc.iterrows(), dm.geometry):
            rng = np.random.default_rng(int(row["commune_id"]))
            pts = _points_in(geom, int(row["n_villages"]), rng)
            pops = _split(int(row["pop"]), len(pts), rng)
            name = str(row["commune_vn"])
            for k, (p, pop) in enumerate(zip(pts, pops), start=1):
                villages.append(
                    {
                        "id": f"{row['code']}-{k:02d}",
                        "name": f"Bản {name} {k}",
                        "commune_code": row["code"],
                        "commune": name,
                        "population": pop,
                        "children": pop // 3,
                        "approx_position": True,
                        "approx_name": True,
                        "approx_population": True,
                        "geometry": p,
                    }
                )
            centres.append(
                {
                    "id": f"CC-{row['code']}",
                    "name": f"Trung tâm văn hóa {name}",
                    "kind": "culture_centre",
                    "commune_code": row["code"],
                    "commune": name,
                    "approximated": True,
                    "lodging": True,
                    "coverage_radius_m": 3000,
                    "stock_books": 300,
                    "active": True,
                    "geometry": geom.representative_point(),
                    "pop": int(row["pop"]),
                }
            )
        top = max(centres, key=lambda s: (s["pop"], s["commune_code"]))
        depot = dict(top, id="DEPOT", kind="depot", name=f"Thư viện {dname}", coverage_radius_m=0, stock_books=3000)
        sites = [depot, *centres]
        for s in sites:
            s.pop("pop", None)
        # schematic roads: spanning tree over villages + commune centres
        nodes = [v["geometry"] for v in villages] + [s["geometry"] for s in centres]
        is_centre = np.array([False] * len(villages) + [True] * len(centres))
        xy = np.array([(p.x, p.y) for p in nodes])
        d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        w = np.where(is_centre[:, None] & is_centre[None, :], d * CENTRE_EDGE_FACTOR, d)
        iu = np.triu_indices(len(nodes), 1)
        g = coo_matrix((w[iu] + 1e-6, iu), shape=(len(nodes), len(nodes)))
        tree = minimum_spanning_tree(g).tocoo()
        roads = []
        for k, (a, b) in enumerate(sorted(zip(tree.row.tolist(), tree.col.tolist())), start=1):
            cls = "provincial" if is_centre[a] and is_centre[b] else "commune"
            roads.append(
                {
                    "id": f"R{did:.0f}-{k:04d}",
                    "road_class": cls,
                    "surface": "schematic",
                    "approximated": True,
                    "rainy_closed": False,
                    "geometry": LineString([nodes[a], nodes[b]]),
                }
            )
        to_geo = lambda rows: gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS).to_crs(GEO_CRS)  # noqa: E731
        communes = dc[["code", "commune_vn", "pop", "geometry"]].rename(
            columns={"commune_vn": "name", "pop": "population"}
        )
        districts[slug(dname)] = {
            "villages": to_geo(villages),
            "sites": to_geo(sites),
            "roads": to_geo(roads),
            "communes": gpd.GeoDataFrame(communes, geometry="geometry", crs=GEO_CRS),
            "name": dname,
        }
    return districts


def write(out: Path, n_villages: int = 1000) -> dict[str, Path]:
    """Write one data folder per district under ``out``; returns ``{district slug: folder}``."""
    out = Path(out)
    folders = {}
    for key, layers in generate(n_villages).items():
        folder = out / key
        folder.mkdir(parents=True, exist_ok=True)
        for kind in ("villages", "sites", "roads", "communes"):
            gdf = layers[kind]
            gdf.to_file(folder / f"{kind}.geojson", driver="GeoJSON")
        (folder / "district.json").write_text(
            json.dumps({"name": layers["name"]}, ensure_ascii=False), encoding="utf-8"
        )
        folders[key] = folder
    return folders


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--villages", type=int, default=1000)
    args = ap.parse_args(argv)
    for key, folder in write(args.out, args.villages).items():
        v = gpd.read_file(folder / "villages.geojson")
        r = gpd.read_file(folder / "roads.geojson")
        print(f"{key:20s} {len(v):4d} villages {int(v['population'].sum()):7,d} people {len(r):4d} road segments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
