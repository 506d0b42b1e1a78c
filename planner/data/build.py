"""Build the default Mường Tè dataset (``data/*.geojson``) from ``data/sources/``.

Run ``python -m planner.data.build [--sources DIR] [--out DIR]``.

The build is deterministic: every random draw comes from ``numpy.random.default_rng``
seeded with :data:`SEED` (plus the commune code or a CRC32 of a stable key), all
coordinates are rounded to 6 decimals, JSON keys are sorted and nothing time-dependent
is written. Running it twice gives byte-identical files.

What is real and what is approximated is described in ``data/README.md``; in short:
commune polygons, codes and populations are real; village positions, most village
names, village populations, every road and every site position are generated here
by the documented rules below.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import sys
import time
import zlib
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from shapely import prepared
from shapely.geometry import LineString, MultiPolygon, Point, shape
from shapely.geometry.polygon import orient
from shapely.ops import nearest_points, unary_union

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCES = ROOT / "data" / "sources"
DEFAULT_OUT = ROOT / "data"

SEED = 20240731  # date of provincial letter 2991/UBND-VX; any fixed value would do
NDIGITS = 6

# ---------------------------------------------------------------- rules (documented in README)
PEOPLE_PER_BAN = 300  # village-count estimate: round(pop / 300) clamped to [4, 14]
BAN_COUNT_MIN, BAN_COUNT_MAX = 4, 14
KNOWN_BAN_COUNTS = {
    "03451": 8,  # Mù Cả: 8 bản (vi.wikipedia), all named
    "03466": 4,  # Bum Nưa: 4 bản (vi.wikipedia), all named
    "03439": 8,  # Ka Lăng: 8 bản (muongte.laichau.gov.vn)
    "03463": 10,  # Tà Tổng: 10 bản (blog citing Pháp Luật, 2014)
    "03433": 7,  # Thị trấn Mường Tè: estimate of tổ dân phố / bản (no source)
}
PEOPLE_PER_HOUSEHOLD = 4.7
HOUSEHOLDS_KNOWN = {"03439": 591}  # Ka Lăng: 591 households (muongte.laichau.gov.vn)
CHILD_SHARE = 0.30  # share of people under 15 (highland ethnic-minority communes)
MIN_VILLAGE_POP = 60
MIN_SPACING_M = 1500.0  # target minimum distance between villages (relaxed if impossible)
INSET_M = 300.0  # villages at least this far inside the commune boundary where possible
TRUNK_BUFFER_M = 6000.0  # village within this of a national/provincial road -> commune road
VERTEX_STEP_M = 120.0  # vertex spacing of generated road polylines
RAINY_CLOSED_MIN_KM = 5.5  # earth tracks longer than this are closed in the rainy season

# Populations of the two units created in 2011 (no 2009 census figure) and of their parents.
# Bum Nưa: 5,615 people in 2009 at its 2009 extent (incl. Vàng San); vi.wikipedia gives
#   3,103 in 2011 after the split (wiki_note in muongte_communes_pre2025.geojson).
#   => Bum Nưa 3,103 (2011), Vàng San 5,615 - 3,103 = 2,512 (approximated).
# Ka Lăng: 3,825 in 2009 at its 2009 extent (incl. Tá Bạ); the district website gives
#   2,599 people / 591 households / 8 bản after the split (undated; note in
#   muongte_ban_names_found.csv). => Ka Lăng 2,599, Tá Bạ 3,825 - 2,599 = 1,226 (both
#   approximated: Tá Bạ by difference, Ka Lăng because the figure is undated).
# The 14 units then sum to the 2009 district census total of the 12 older units (37,565).
BUM_NUA_2011 = 3103
KA_LANG_POST_SPLIT = 2599

NATIONAL_CORRIDOR = ["03433", "03454", "03457", "03445", "03439", "03436"]  # TT -> Thu Lũm
EXTRA_LINKS = 2  # non-tree commune-adjacency links added (shortest ones)

LEARNING_CENTRES = ["03445", "03454", "03463", "03442"]
POST_OFFICE_POINTS = ["03439", "03451", "03466", "03469"]
BORDER_POSTS = [  # (commune code, post name, outward direction used to pick the edge)
    ("03436", "Đồn Biên phòng Thu Lũm", (0.0, 1.0)),
    ("03439", "Đồn Biên phòng Ka Lăng", (-0.7, 1.0)),
    ("03451", "Đồn Biên phòng Mù Cả", (-1.0, 0.0)),
]
BORDER_POST_INSET_M = 700.0
SCHOOL_BANS = {"Nhóm Pó": "Điểm trường Nhóm Pó", "Vạ Pù": "Điểm trường Vạ Pù"}
BORDER_VILLAGE = "U Ma Tu Khoòng"  # border-crossing bản: placed nearest the outer edge

DEPOT_NAME = "Trung tâm Văn hóa, Thể thao và Truyền thông huyện Mường Tè"

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
TO_LL = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)


def _utm(geom):
    return shapely.transform(geom, lambda a: np.column_stack(TO_UTM.transform(a[:, 0], a[:, 1])))


def _ll_xy(x: float, y: float) -> list[float]:
    lon, lat = TO_LL.transform(x, y)
    return [round(lon, NDIGITS), round(lat, NDIGITS)]


def _rng(*keys) -> np.random.Generator:
    ints = [SEED]
    for k in keys:
        ints.append(k if isinstance(k, int) else zlib.crc32(str(k).encode("utf-8")))
    return np.random.default_rng(ints)


# ---------------------------------------------------------------- communes
def load_communes(src: Path) -> list[dict]:
    raw = json.loads((src / "muongte_communes_pre2025.geojson").read_text(encoding="utf-8"))
    out = []
    for f in raw["features"]:
        p = f["properties"]
        geom_ll = shape(f["geometry"])
        code = p["gso_code"]
        pop09 = p.get("pop_2009_census")
        post = p["post2025_commune"].split(" (")[0]
        c = {
            "code": code,
            "name": p["name"],
            "unit_type": p["unit_type"],
            "post2025_commune": post,
            "geom_ll": geom_ll,
            "geom": _utm(geom_ll),
            "wiki": (p["wiki_lon"], p["wiki_lat"]) if p.get("wiki_lat") is not None else None,
        }
        if code == "03466":
            c.update(
                population=BUM_NUA_2011,
                population_year=2011,
                population_approximated=False,
                population_source="vi.wikipedia Bum Nưa, 2011 (after Vàng San split)",
            )
        elif code == "03467":
            bum_nua_2009 = next(
                x["properties"]["pop_2009_census"] for x in raw["features"] if x["properties"]["gso_code"] == "03466"
            )
            c.update(
                population=int(bum_nua_2009) - BUM_NUA_2011,
                population_year=2011,
                population_approximated=True,
                population_source="estimate: Bum Nưa census 2009 (2009 extent, 5615) minus Bum Nưa 2011 (3103)",
            )
        elif code == "03439":
            c.update(
                population=KA_LANG_POST_SPLIT,
                population_year=2009,
                population_approximated=True,
                population_source="muongte.laichau.gov.vn (undated, after Tá Bạ split); 2009 extent census 3825",
            )
        elif code == "03440":
            ka_lang_2009 = next(
                x["properties"]["pop_2009_census"] for x in raw["features"] if x["properties"]["gso_code"] == "03439"
            )
            c.update(
                population=int(ka_lang_2009) - KA_LANG_POST_SPLIT,
                population_year=2009,
                population_approximated=True,
                population_source="estimate: Ka Lăng census 2009 (2009 extent, 3825) minus Ka Lăng post-split (2599)",
            )
        else:
            c.update(
                population=int(pop09),
                population_year=2009,
                population_approximated=False,
                population_source="census 2009 (citypopulation.de)",
            )
        out.append(c)
    out.sort(key=lambda c: c["code"])
    if len(out) != 14:
        raise ValueError(f"expected 14 communes, got {len(out)}")
    return out


# ---------------------------------------------------------------- villages
def ban_count(c: dict) -> int:
    if c["code"] in KNOWN_BAN_COUNTS:
        return KNOWN_BAN_COUNTS[c["code"]]
    return int(min(BAN_COUNT_MAX, max(BAN_COUNT_MIN, round(c["population"] / PEOPLE_PER_BAN))))


def split_population(total: int, n: int, rng: np.random.Generator) -> list[int]:
    """Dirichlet weights (centre village favoured), each >= MIN_VILLAGE_POP, exact integer sum."""
    alpha = np.full(n, 3.0)
    alpha[0] = 5.0
    w = rng.dirichlet(alpha)
    free = total - MIN_VILLAGE_POP * n
    if free < 0:
        raise ValueError("commune population too small for its village count")
    raw = w * free
    base = np.floor(raw).astype(int)
    rem = free - int(base.sum())
    order = sorted(range(n), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:rem]:
        base[i] += 1
    return [int(MIN_VILLAGE_POP + b) for b in base]


def _candidates(poly, rng, n=4000):
    minx, miny, maxx, maxy = poly.bounds
    prep = prepared.prep(poly)
    pts = []
    while len(pts) < n:
        xs = rng.uniform(minx, maxx, 2 * n)
        ys = rng.uniform(miny, maxy, 2 * n)
        for x, y in zip(xs, ys):
            if prep.contains(Point(x, y)):
                pts.append((x, y))
                if len(pts) >= n:
                    break
    return np.array(pts)


def place_villages(
    c: dict, n: int, centre: tuple[float, float], others: list[tuple[float, float]], rng: np.random.Generator
) -> tuple[list[tuple[float, float]], float]:
    """Centre first, then Poisson-disk style rejection sampling inside the inset polygon."""
    poly = c["geom"]
    inner = poly.buffer(-INSET_M)
    if inner.is_empty or inner.area < 0.3 * poly.area:
        inner = poly
    cand = _candidates(inner, rng)
    spacing = max(MIN_SPACING_M, 0.55 * math.sqrt(poly.area / n))
    existing = np.array(others) if others else np.empty((0, 2))
    while True:
        pts = [centre]
        ref = np.vstack([existing, np.array([centre])])
        for x, y in cand:
            if len(pts) == n:
                break
            d = np.hypot(ref[:, 0] - x, ref[:, 1] - y).min()
            if d >= spacing:
                pts.append((float(x), float(y)))
                ref = np.vstack([ref, [[x, y]]])
        if len(pts) == n:
            return pts, spacing
        spacing *= 0.85
        if spacing < 300:
            raise RuntimeError(f"cannot place {n} villages in {c['name']}")


def build_villages(communes: list[dict], names: list[dict]) -> list[dict]:
    by_code: dict[str, list[dict]] = {}
    for r in names:
        by_code.setdefault(r["commune_gso_code"], []).append(r)
    district = unary_union([c["geom"] for c in communes])
    villages = []
    placed: list[tuple[float, float]] = []
    for c in communes:
        code = c["code"]
        n = ban_count(c)
        rng = _rng(int(code))
        if c["wiki"] is not None:
            centre = tuple(TO_UTM.transform(*c["wiki"]))
        else:
            rp = c["geom"].representative_point()
            centre = (rp.x, rp.y)
        pts, _spacing = place_villages(c, n, centre, placed, rng)
        placed.extend(pts)
        pops = split_population(c["population"], n, rng)
        # names: real names first (commune-name bản at the centre), placeholders for the rest
        real = list(by_code.get(code, []))
        vnames: list[tuple[str, str] | None] = [None] * n
        short = c["name"]
        for r in list(real):
            if r["ban_name"] == short:
                vnames[0] = (r["ban_name"], r["source"])
                real.remove(r)
        for r in list(real):
            if r["ban_name"] == BORDER_VILLAGE:
                free = [i for i in range(1, n) if vnames[i] is None]
                i = min(free, key=lambda i: district.exterior.distance(Point(pts[i])))
                vnames[i] = (r["ban_name"], r["source"])
                real.remove(r)
        for r in real:
            i = next(i for i in range(1, n) if vnames[i] is None)
            vnames[i] = (r["ban_name"], r["source"])
        hh_ratio = (c["population"] / HOUSEHOLDS_KNOWN[code]) if code in HOUSEHOLDS_KNOWN else PEOPLE_PER_HOUSEHOLD
        for i in range(n):
            if vnames[i] is None:
                if c["unit_type"] == "Thị trấn":
                    name = f"Tổ dân phố {short} {i + 1}"
                else:
                    name = f"Bản {short} {i + 1}"
                approx_name, src = True, "placeholder"
            else:
                name, src = vnames[i]
                approx_name = False
            pop = pops[i]
            villages.append(
                {
                    "id": f"{code}-{i + 1:02d}",
                    "name": name,
                    "commune_code": code,
                    "commune": c["name"],
                    "population": pop,
                    "households": max(1, round(pop / hh_ratio)),
                    "children": round(pop * CHILD_SHARE),
                    "approx_position": True,
                    "approx_name": approx_name,
                    "approx_population": True,
                    "name_source": src,
                    "post2025_commune": c["post2025_commune"],
                    "_xy": pts[i],
                    "_centre": i == 0,
                }
            )
    return villages


# ---------------------------------------------------------------- roads
def meander(p, q, key: str, district_prep, amp_range=(0.08, 0.15)) -> np.ndarray:
    """Sinuous polyline p -> q: sum of sines across the chord, ends fixed exactly."""
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    v = q - p
    L = float(np.hypot(*v))
    if L < 1.0:
        return np.array([p, q])
    nv = max(8, int(L / VERTEX_STEP_M))
    t = np.linspace(0.0, 1.0, nv + 1)
    rng = _rng("meander", key)
    K = int(min(14, 3 + L / 1200))
    k = np.arange(1, K + 1)
    coef = rng.normal(0.0, 1.0, K) / k**1.1
    off = (np.sin(np.pi * np.outer(t, k)) * coef).sum(axis=1)
    m = np.abs(off).max()
    amp = rng.uniform(*amp_range) * L
    off = off / m if m > 0 else off
    # small along-chord jitter keeps spacing irregular without moving the ends
    nrm = np.array([-v[1], v[0]]) / L
    for scale in (1.0, 0.6, 0.35, -0.6, 0.15, 0.0):
        xy = p + np.outer(t, v) + np.outer(off * amp * scale, nrm)
        xy[0], xy[-1] = p, q
        if scale == 0.0 or district_prep.contains(LineString(xy)):
            return xy
    return xy


class Network:
    def __init__(self, district):
        self.lines: list[dict] = []
        self.district_prep = prepared.prep(district.buffer(150))

    def add(self, coords: np.ndarray, props: dict) -> dict:
        line = {"xy": [tuple(map(float, c)) for c in coords], **props}
        self.lines.append(line)
        return line

    def vertices(self) -> np.ndarray:
        return np.array([xy for ln in self.lines for xy in ln["xy"]])

    def split_at(self, xy: tuple[float, float]) -> None:
        """Split the line having ``xy`` as an interior vertex, so ``xy`` becomes an endpoint."""
        for idx, ln in enumerate(self.lines):
            pts = ln["xy"]
            for k in range(1, len(pts) - 1):
                if pts[k] == xy:
                    a = dict(ln, xy=pts[: k + 1])
                    b = dict(ln, xy=pts[k:])
                    self.lines[idx] = a
                    self.lines.insert(idx + 1, b)
                    return


def shared_border_point(a, b, pa, pb) -> tuple[float, float]:
    """Point on the A/B shared boundary nearest the midpoint of the two centres."""
    shared = a.boundary.intersection(b.buffer(60.0))
    mid = Point((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2)
    if shared.is_empty:
        shared = a.boundary
    p = nearest_points(shared, mid)[0]
    return (p.x, p.y)


def build_roads(communes, villages, border_posts, district) -> Network:
    net = Network(district)
    cidx = {c["code"]: c for c in communes}
    centre = {v["commune_code"]: v["_xy"] for v in villages if v["_centre"]}
    # commune adjacency weighted by centre distance
    G = nx.Graph()
    codes = [c["code"] for c in communes]
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            ga, gb = cidx[a]["geom"], cidx[b]["geom"]
            if ga.buffer(30).intersects(gb.buffer(30)):
                shared = ga.buffer(30).intersection(gb.buffer(30)).length / 2
                if shared > 500:
                    d = math.dist(centre[a], centre[b])
                    G.add_edge(a, b, weight=d)
    # tree: fixed national corridor + Prim-style growth by centre distance
    tree_edges = list(itertools.pairwise(NATIONAL_CORRIDOR))
    for a, b in tree_edges:
        if not G.has_edge(a, b):
            raise ValueError(f"national corridor {a}-{b} not adjacent")
    inside = set(NATIONAL_CORRIDOR)
    prov_edges = []
    while len(inside) < len(codes):
        a, b = min(
            ((a, b) for a in sorted(inside) for b in sorted(G[a]) if b not in inside),
            key=lambda e: (G.edges[e]["weight"], e),
        )
        prov_edges.append((a, b))
        inside.add(b)
    used = {frozenset(e) for e in tree_edges + prov_edges}
    rest = sorted((G.edges[e]["weight"], tuple(sorted(e))) for e in G.edges if frozenset(e) not in used)
    extra_edges = [e for _, e in rest[:EXTRA_LINKS]]

    def link(a, b, props):
        pa, pb = centre[a], centre[b]
        x = shared_border_point(cidx[a]["geom"], cidx[b]["geom"], pa, pb)
        key = f"{a}-{b}"
        s1 = meander(pa, x, key + "/1", net.district_prep)
        s2 = meander(x, pb, key + "/2", net.district_prep)
        net.add(np.vstack([s1, s2[1:]]), props)

    for a, b in tree_edges:
        link(
            a,
            b,
            {
                "road_class": "national",
                "surface": "asphalt",
                "name": "Quốc lộ 4H",
                "rainy_closed": False,
                "note": f"schematic QL4H corridor {cidx[a]['name']} - {cidx[b]['name']}; alignment not surveyed",
            },
        )
    for a, b in prov_edges:
        link(
            a,
            b,
            {
                "road_class": "provincial",
                "surface": "asphalt",
                "name": "",
                "rainy_closed": False,
                "note": f"schematic road {cidx[a]['name']} - {cidx[b]['name']} (commune centres); alignment not surveyed",
            },
        )
    for a, b in extra_edges:
        link(
            a,
            b,
            {
                "road_class": "commune",
                "surface": "gravel",
                "name": "",
                "rainy_closed": False,
                "note": f"schematic inter-commune link {cidx[a]['name']} - {cidx[b]['name']}; alignment not surveyed",
            },
        )
    trunk = unary_union([LineString(ln["xy"]) for ln in net.lines if ln["road_class"] in ("national", "provincial")])

    # villages (and border posts): Prim-style growth, each joins the nearest network vertex,
    # preferring vertices in its own commune; tracks chain from village to village.
    todo = [(v["id"], v["_xy"], v["commune_code"], v["name"]) for v in villages if not v["_centre"]]
    todo += [(s["id"], s["_xy"], s["commune_code"], s["name"]) for s in border_posts]
    polys = {c["code"]: prepared.prep(c["geom"]) for c in communes}

    V = net.vertices()
    while todo:
        best = None
        for tid, xy, code, name in todo:
            d = np.hypot(V[:, 0] - xy[0], V[:, 1] - xy[1])
            order = np.argsort(d, kind="stable")[:40]
            for j in order:
                cost = d[j] * (1.0 if polys[code].contains(Point(V[j])) else 1.6)
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, tid, xy, code, name, tuple(map(float, V[j])))
        _, tid, xy, code, name, target = best
        todo = [t for t in todo if t[0] != tid]
        net.split_at(target)
        near_trunk = trunk.distance(Point(xy)) <= TRUNK_BUFFER_M
        coords = meander(target, xy, f"access/{tid}", net.district_prep, amp_range=(0.08, 0.13))
        length_km = float(LineString(coords).length) / 1000
        if near_trunk:
            props = {"road_class": "commune", "surface": "concrete", "rainy_closed": False}
        else:
            props = {"road_class": "track", "surface": "earth", "rainy_closed": length_km > RAINY_CLOSED_MIN_KM}
        props["name"] = ""
        props["note"] = f"schematic access to {name} ({tid}); alignment not surveyed"
        net.add(coords[::-1], props)  # starts at the village / post, ends at the junction
        V = net.vertices()
    return net


def check_connected(net: Network) -> nx.Graph:
    G = nx.Graph()
    for i, ln in enumerate(net.lines):
        a = tuple(_ll_xy(*ln["xy"][0]))
        b = tuple(_ll_xy(*ln["xy"][-1]))
        G.add_edge(a, b, key=i)
    n = nx.number_connected_components(G)
    if n != 1:
        raise RuntimeError(f"road network has {n} connected components, expected 1")
    return G


# ---------------------------------------------------------------- sites
def border_post_points(communes, district) -> list[dict]:
    cidx = {c["code"]: c for c in communes}
    outer = district.exterior
    posts = []
    for code, name, direction in BORDER_POSTS:
        poly = cidx[code]["geom"]
        edge = poly.boundary.intersection(outer.buffer(50))
        coords = [xy for g in getattr(edge, "geoms", [edge]) for xy in g.coords]
        ux, uy = direction
        ex = max(coords, key=lambda p: (p[0] * ux + p[1] * uy, p))
        inner = poly.buffer(-BORDER_POST_INSET_M)
        p = nearest_points(inner, Point(ex))[0]
        posts.append(
            {
                "id": f"BP-{code}",
                "name": name,
                "kind": "border_post",
                "commune_code": code,
                "commune": cidx[code]["name"],
                "_xy": (p.x, p.y),
            }
        )
    return posts


def build_sites(communes, villages, border_posts) -> list[dict]:
    cidx = {c["code"]: c for c in communes}
    centre = {v["commune_code"]: v["_xy"] for v in villages if v["_centre"]}
    town = "03433"
    sites = [
        {
            "id": "DEPOT",
            "name": DEPOT_NAME,
            "kind": "depot",
            "commune_code": town,
            "commune": cidx[town]["name"],
            "approximated": True,
            "lodging": True,
            "coverage_radius_m": 0,
            "stock_books": 3000,
            "active": True,
            "_xy": centre[town],
        }
    ]
    for c in communes:
        if c["unit_type"] != "Xã":
            continue
        sites.append(
            {
                "id": f"CC-{c['code']}",
                "name": f"Trung tâm Văn hóa - Thể thao xã {c['name']}",
                "kind": "culture_centre",
                "commune_code": c["code"],
                "commune": c["name"],
                "approximated": True,
                "lodging": True,
                "coverage_radius_m": 3000,
                "stock_books": 300,
                "active": True,
                "_xy": centre[c["code"]],
            }
        )
    for code in LEARNING_CENTRES:
        c = cidx[code]
        sites.append(
            {
                "id": f"LC-{code}",
                "name": f"Trung tâm học tập cộng đồng xã {c['name']}",
                "kind": "learning_centre",
                "commune_code": code,
                "commune": c["name"],
                "approximated": True,
                "lodging": False,
                "coverage_radius_m": 3000,
                "stock_books": 150,
                "active": False,
                "_xy": centre[code],
            }
        )
    for code in POST_OFFICE_POINTS:
        c = cidx[code]
        sites.append(
            {
                "id": f"PO-{code}",
                "name": f"Điểm Bưu điện - Văn hóa xã {c['name']}",
                "kind": "post_office_point",
                "commune_code": code,
                "commune": c["name"],
                "approximated": True,
                "lodging": False,
                "coverage_radius_m": 3000,
                "stock_books": 100,
                "active": False,
                "_xy": centre[code],
            }
        )
    for v in villages:
        if v["name"] in SCHOOL_BANS and not v["approx_name"]:
            sites.append(
                {
                    "id": f"SCH-{v['id']}",
                    "name": SCHOOL_BANS[v["name"]],
                    "kind": "school",
                    "commune_code": v["commune_code"],
                    "commune": v["commune"],
                    "approximated": True,
                    "lodging": False,
                    "coverage_radius_m": 3000,
                    "stock_books": 100,
                    "active": False,
                    "_xy": v["_xy"],
                }
            )
    for b in border_posts:
        sites.append(dict(b, approximated=True, lodging=True, coverage_radius_m=0, stock_books=0, active=True))
    return sites


# ---------------------------------------------------------------- output
def _round_geom(geom):
    def rnd(coords):
        return [[round(x, NDIGITS), round(y, NDIGITS)] for x, y in coords]

    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    out = []
    for p in polys:
        p = orient(p, sign=1.0)
        out.append([rnd(p.exterior.coords)] + [rnd(r.coords) for r in p.interiors])
    return {"type": "MultiPolygon", "coordinates": out}


def write_fc(path: Path, features: list[dict]) -> None:
    lines = [json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def _point_feature(props: dict) -> dict:
    xy = props["_xy"]
    clean = {k: v for k, v in props.items() if not k.startswith("_")}
    return {"type": "Feature", "properties": clean, "geometry": {"type": "Point", "coordinates": _ll_xy(*xy)}}


def build(sources: Path = DEFAULT_SOURCES, out: Path = DEFAULT_OUT) -> dict:
    sources, out = Path(sources), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    communes = load_communes(sources)
    with open(sources / "muongte_ban_names_found.csv", encoding="utf-8", newline="") as fh:
        names = list(csv.DictReader(fh))
    district = unary_union([c["geom"] for c in communes])
    if isinstance(district, MultiPolygon):
        district = max(district.geoms, key=lambda g: g.area)
    villages = build_villages(communes, names)
    posts = border_post_points(communes, district)
    net = build_roads(communes, villages, posts, district)
    check_connected(net)
    sites = build_sites(communes, villages, posts)

    cfeat = []
    for c in communes:
        props = {
            k: c[k]
            for k in (
                "code",
                "name",
                "unit_type",
                "population",
                "population_year",
                "population_source",
                "population_approximated",
                "post2025_commune",
            )
        }
        props["area_km2"] = round(c["geom"].area / 1e6, 2)
        props["approximated_geometry"] = False
        cfeat.append({"type": "Feature", "properties": props, "geometry": _round_geom(c["geom_ll"])})
    vfeat = [_point_feature(v) for v in villages]
    sfeat = [_point_feature(s) for s in sites]
    rfeat = []
    for i, ln in enumerate(net.lines, start=1):
        coords = [_ll_xy(x, y) for x, y in ln["xy"]]
        dedup = [coords[0]] + [c for a, c in itertools.pairwise(coords) if c != a]
        props = {k: ln[k] for k in ("road_class", "surface", "name", "rainy_closed", "note")}
        props.update(id=f"R{i:04d}", approximated=True)
        rfeat.append({"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": dedup}})
    write_fc(out / "communes.geojson", cfeat)
    write_fc(out / "villages.geojson", vfeat)
    write_fc(out / "sites.geojson", sfeat)
    write_fc(out / "roads.geojson", rfeat)
    km: dict[str, float] = {}
    for ln in net.lines:
        km[ln["road_class"]] = km.get(ln["road_class"], 0.0) + LineString(ln["xy"]).length / 1000
    return {
        "communes": len(cfeat),
        "villages": len(vfeat),
        "sites": len(sfeat),
        "roads": len(rfeat),
        "population": sum(v["population"] for v in villages),
        "road_km": {k: round(v, 1) for k, v in sorted(km.items())},
        "rainy_closed": sum(1 for ln in net.lines if ln["rainy_closed"]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    summary = build(args.sources, args.out)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(summary, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
