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
from typing import Any, cast

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from shapely import prepared
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.polygon import orient
from shapely.ops import nearest_points, unary_union

from planner.model.rounding import largest_remainder

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

# Population of the plan year (issue 10, part 6). Census figures (2009, 2011 for the two units
# split that year) are projected to PROJECTION_YEAR at a constant annual rate per 2025 commune:
# the rate r that takes the census figures of the pre-2025 units merged into a 2025 commune to
# that commune's 2025 population (post2025_communes_muongte_area.csv; unverified except Mù Cả),
# i.e. sum_i P_i (1 + r)^(2025 - year_i) = P_2025. Vàng San went to Hua Bum, which also holds a
# part of Nậm Nhùn, so it takes the rate of the six other 2025 communes together.
PROJECTION_YEAR = 2026
POP_2025_YEAR = 2025
POP_2025_FILE = "post2025_communes_muongte_area.csv"
POP_2025_UNUSABLE = {"Hua Bum"}  # 2025 commune extending outside the old district

NATIONAL_CORRIDOR = ["03433", "03454", "03457", "03445", "03439", "03436"]  # TT -> Thu Lũm
EXTRA_LINKS = 2  # non-tree commune-adjacency links added (shortest ones)

# Published road distances from the district town (thị trấn Mường Tè) to commune centres, in km.
# Each: (km used as the target, URL, quote, date of the page). Documented in data/README.md.
# "gần N km" (nearly N) is taken as N - 3 % (rounded to 0.5 km); "hơn N km" (over N) as N + 3 %.
PUBLISHED_ROAD_KM = {
    "03436": (
        97.0,
        "https://dantocmiennui.vn/vung-cao-bien-gioi-thu-lum-tag49769.html",
        "Cách trung tâm thị trấn Mường Tè gần 100km",
        "undated (tag page, Báo Dân tộc và Miền núi)",
    ),
    "03439": (
        70.0,
        "https://muongte.laichau.gov.vn/co-cau-to-chuc/vieworg/Xa-Ka-Lang-55",
        "cách trung tâm thị trấn huyện gần 72 km",
        "undated (district portal, after the 2011 Tá Bạ split)",
    ),
    "03451": (
        72.0,
        "https://bietthungoctrai.vn/?p=5396",
        "Cách Bến xe khách Mường Tè khoảng hơn 70km (Khu bảo tồn thiên nhiên Mường Tè, xã Mù Cả)",
        "2022 (travel page; weak source: to the reserve in Mù Cả, not the UBND)",
    ),
    "03445": (
        40.0,
        "https://vnexpress.net/ve-ky-vi-o-noi-song-da-chay-vao-dat-viet-3551033.html",
        "Men theo dòng sông Đà đi ngược khoảng 40 km tới Pắc Ma",
        "2017-03-13 (VnExpress; Pắc Ma, on QL4H in xã Mường Tè, taken as its centre)",
    ),
    "03448": (
        20.0,
        "https://dulichbuiblog.blogspot.com/2014/01/pa-ve-su-nhung-ngay-thu-p5.html",
        "Trung tâm xã này cách thị trấn Mường Tè 20km",
        "2014-01 (travel blog)",
    ),
}
SWITCHBACK_WAVELENGTH_M = 1000.0  # hairpin spacing used to lengthen a calibrated link
SWITCHBACK_STEP_M = 80.0  # vertex spacing of a lengthened link
MIN_LINK_SINUOSITY = 1.0  # a calibrated link is never shorter than its base meander

LEARNING_CENTRES = ["03445", "03454", "03463", "03442"]
POST_OFFICE_POINTS = ["03439", "03451", "03466", "03469"]
BORDER_POSTS = [  # (commune code, post name, outward direction used to pick the edge)
    ("03436", "Đồn Biên phòng Thu Lũm", (0.0, 1.0)),
    ("03439", "Đồn Biên phòng Ka Lăng", (-0.7, 1.0)),
    ("03451", "Đồn Biên phòng Mù Cả", (-1.0, 0.0)),
]
BORDER_POST_INSET_M = 700.0
SCHOOL_BANS = {"Nhóm Pó": "Điểm trường Nhóm Pó", "Vạ Pù": "Điểm trường Vạ Pù"}
# School year 2026-2027, ASSUMED from the national frame (no Lai Châu decision for 2026-2027 found; see
# data/README.md): term 1 from the opening on 5 Sept to mid-January, term 2 to late May, with about two
# weeks off for Tết Đinh Mùi (6 Feb 2027) as Lai Châu schools usually have; lessons Mon-Fri, two sessions.
SCHOOL_TERM = "2026-09-05..2027-01-16, 2027-01-18..2027-01-31, 2027-02-15..2027-05-25"
SCHOOL_HOURS = "Mon-Fri 07:30-11:00, 13:30-16:30"
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


def _rate(units: list[dict], pop_2025: float) -> float:
    """Annual rate r with sum P_i (1 + r)^(2025 - year_i) = pop_2025, by bisection."""

    def total(r):
        return sum(u["population"] * (1 + r) ** (POP_2025_YEAR - u["population_year"]) for u in units)

    lo, hi = -0.5, 0.5
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < pop_2025 else (lo, mid)
    return (lo + hi) / 2


def project_communes(communes: list[dict], post2025: list[dict], year: int = PROJECTION_YEAR) -> dict[str, float]:
    """Add the projected population of ``year`` to each commune; return the rate per 2025 commune.

    Each commune keeps its census figure in ``population_census`` / ``population_census_year``;
    ``population`` becomes ``round(census * (1 + r) ** (year - census_year))`` with the rate
    ``r`` of its 2025 commune (see :data:`PROJECTION_YEAR`), ``population_year`` the
    projection year and ``population_projected`` True.
    """
    p25 = {r["new_commune_2025"]: float(r["population_2025_doc"]) for r in post2025}
    groups: dict[str, list[dict]] = {}
    for c in communes:
        groups.setdefault(c["post2025_commune"], []).append(c)
    rates = {g: _rate(units, p25[g]) for g, units in groups.items() if g in p25 and g not in POP_2025_UNUSABLE}
    usable = [g for g in rates]
    district_rate = _rate([u for g in usable for u in groups[g]], sum(p25[g] for g in usable))
    for c in communes:
        g = c["post2025_commune"]
        r = rates.get(g, district_rate)
        c["population_census"] = c["population"]
        c["population_census_year"] = c["population_year"]
        c["population"] = int(round(c["population"] * (1 + r) ** (year - c["population_year"])))
        c["population_year"] = year
        c["population_projected"] = True
        c["growth_rate_pct"] = round(100 * r, 2)
        if g in rates:
            c["growth_source"] = f"rate of 2025 commune {g}: census {POP_2025_YEAR} figure {int(p25[g])}, unverified"
        else:
            c["growth_source"] = f"district rate (2025 commune {g} extends outside the old district)"
    return {**rates, "district": district_rate}


def scale_exact(weights: list[int], total: int) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly (largest remainder)."""
    return largest_remainder(weights, total)


# ---------------------------------------------------------------- villages
def ban_count(c: dict) -> int:
    if c["code"] in KNOWN_BAN_COUNTS:
        return KNOWN_BAN_COUNTS[c["code"]]
    pop = c.get("population_census", c["population"])  # the count rule predates projection
    return int(min(BAN_COUNT_MAX, max(BAN_COUNT_MIN, round(pop / PEOPLE_PER_BAN))))


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
    district = cast(Polygon, unary_union([c["geom"] for c in communes]))  # the communes tile one district
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
        census = c.get("population_census", c["population"])
        pops_census = split_population(census, n, rng)
        pops = scale_exact(pops_census, c["population"])
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
        hh_ratio = (census / HOUSEHOLDS_KNOWN[code]) if code in HOUSEHOLDS_KNOWN else PEOPLE_PER_HOUSEHOLD
        for i in range(n):
            vname = vnames[i]
            if vname is None:
                if c["unit_type"] == "Thị trấn":
                    name = f"Tổ dân phố {short} {i + 1}"
                else:
                    name = f"Bản {short} {i + 1}"
                approx_name, src = True, "placeholder"
            else:
                name, src = vname
                approx_name = False
            pop = pops[i]
            villages.append(
                {
                    "id": f"{code}-{i + 1:02d}",
                    "name": name,
                    "commune_code": code,
                    "commune": c["name"],
                    "population": pop,
                    "population_census": pops_census[i],
                    "projected": "population_census" in c,
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


def _length(xy: np.ndarray) -> float:
    return float(np.hypot(*np.diff(np.asarray(xy, float), axis=0).T).sum())


def lengthen(base: np.ndarray, target_m: float, key: str) -> np.ndarray:
    """Add hairpin bends (switchbacks) to ``base`` until its length is ``target_m``.

    The base polyline is resampled every :data:`SWITCHBACK_STEP_M` and each point is
    offset along the local normal by ``A * sin(2 pi s / wavelength + phase) * taper(s)``,
    where ``s`` is the distance along the base, ``taper`` rises from 0 to 1 over one
    wavelength at each end (so the ends stay fixed) and the phase is seeded by ``key``.
    ``A`` is found by bisection so the result is within 0.1 % of ``target_m``. A base
    already at least ``target_m`` long is returned unchanged.
    """
    base = np.asarray(base, float)
    length = _length(base)
    if length >= target_m:
        return base
    seg = np.hypot(*np.diff(base, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(16, int(length / SWITCHBACK_STEP_M))
    s = np.linspace(0.0, length, n + 1)
    pts = np.column_stack([np.interp(s, cum, base[:, 0]), np.interp(s, cum, base[:, 1])])
    tang = np.gradient(pts, axis=0)
    tang /= np.maximum(np.hypot(tang[:, 0], tang[:, 1]), 1e-9)[:, None]
    nrm = np.column_stack([-tang[:, 1], tang[:, 0]])
    lam = min(SWITCHBACK_WAVELENGTH_M, length / 2)
    taper = np.clip(np.minimum(s, length - s) / lam, 0.0, 1.0)
    phase = _rng("switchback", key).uniform(0, 2 * np.pi)
    wave = np.sin(2 * np.pi * s / lam + phase) * taper

    def shaped(amp: float) -> np.ndarray:
        xy = pts + nrm * (amp * wave)[:, None]
        xy[0], xy[-1] = base[0], base[-1]
        return xy

    lo, hi = 0.0, lam
    while _length(shaped(hi)) < target_m:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if _length(shaped(mid)) < target_m:
            lo = mid
        else:
            hi = mid
        if abs(_length(shaped(hi)) - target_m) < 1e-3 * target_m:
            break
    return shaped(hi)


def road_targets(communes: list[dict], centre: dict) -> dict[str, dict]:
    """Target road distance (m) from the town to each commune centre, and its source.

    Published distances (:data:`PUBLISHED_ROAD_KM`) are used where they exist. Elsewhere
    the target is the straight line times the median ratio road / straight line of the
    published ones (the *detour factor*, about 1.58).
    """
    town = next(c["code"] for c in communes if c["unit_type"] == "Thị trấn")
    straight = {c["code"]: math.dist(centre[town], centre[c["code"]]) for c in communes}
    ratios = [km * 1000 / straight[code] for code, (km, *_rest) in PUBLISHED_ROAD_KM.items()]
    detour = float(np.median(ratios))
    out = {}
    for c in communes:
        code = c["code"]
        if code == town:
            out[code] = {"target_m": 0.0, "rule": "depot", "straight_m": 0.0, "detour": detour}
        elif code in PUBLISHED_ROAD_KM:
            out[code] = {
                "target_m": PUBLISHED_ROAD_KM[code][0] * 1000,
                "rule": "published",
                "straight_m": straight[code],
                "detour": detour,
            }
        else:
            out[code] = {
                "target_m": detour * straight[code],
                "rule": f"straight line x {detour:.2f}",
                "straight_m": straight[code],
                "detour": detour,
            }
    return out


class Network:
    def __init__(self, district):
        self.lines: list[dict] = []
        self.district_prep = prepared.prep(district.buffer(150))
        self.targets: dict[str, dict] = {}  # commune code -> road-distance target and result

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
    # Provincial roads grow from the corridor like a shortest-path tree: the frontier commune
    # with the smallest target road distance joins next, through the neighbour from which it is
    # reached soonest (estimated road distance of the neighbour + centre distance).
    targets = road_targets(communes, centre)
    est = {NATIONAL_CORRIDOR[0]: 0.0}
    for a, b in tree_edges:
        est[b] = max(targets[b]["target_m"], est[a] + G.edges[a, b]["weight"])
    inside = set(NATIONAL_CORRIDOR)
    prov_edges = []
    while len(inside) < len(codes):
        frontier = sorted({b for a in inside for b in G[a] if b not in inside})
        b = min(frontier, key=lambda c: (targets[c]["target_m"], c))
        a = min((a for a in sorted(G[b]) if a in inside), key=lambda a: (est[a] + G.edges[a, b]["weight"], a))
        est[b] = max(targets[b]["target_m"], est[a] + G.edges[a, b]["weight"])
        prov_edges.append((a, b))
        inside.add(b)
    used = {frozenset(e) for e in tree_edges + prov_edges}
    rest = sorted((G.edges[e]["weight"], tuple(sorted(e))) for e in G.edges if frozenset(e) not in used)
    extra_edges = [e for _, e in rest[:EXTRA_LINKS]]

    reached = {NATIONAL_CORRIDOR[0]: 0.0}  # road distance from the town along the tree, m

    def link(a, b, props, tree=True):
        """Link centre a (already reached, for a tree edge) to centre b, calibrated in length."""
        pa, pb = centre[a], centre[b]
        x = shared_border_point(cidx[a]["geom"], cidx[b]["geom"], pa, pb)
        key = f"{a}-{b}"
        s1 = meander(pa, x, key + "/1", net.district_prep)
        s2 = meander(x, pb, key + "/2", net.district_prep)
        l1, l2 = _length(s1), _length(s2)
        if tree:
            want = targets[b]["target_m"] - reached[a]
        else:  # a cycle-closing link must not be a shortcut between its ends
            want = abs(reached[a] - reached[b]) * 1.05
        want = max(want, MIN_LINK_SINUOSITY * (l1 + l2))
        s1 = lengthen(s1, want * l1 / (l1 + l2), key + "/1")
        s2 = lengthen(s2, want * l2 / (l1 + l2), key + "/2")
        coords = np.vstack([s1, s2[1:]])
        if tree:
            reached[b] = reached[a] + _length(coords)
        net.add(coords, props)

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
            tree=False,
        )
    trunk = unary_union([LineString(ln["xy"]) for ln in net.lines if ln["road_class"] in ("national", "provincial")])

    # villages (and border posts): Prim-style growth, each joins the nearest network vertex,
    # preferring vertices in its own commune; tracks chain from village to village.
    todo = [(v["id"], v["_xy"], v["commune_code"], v["name"]) for v in villages if not v["_centre"]]
    todo += [(s["id"], s["_xy"], s["commune_code"], s["name"]) for s in border_posts]
    polys = {c["code"]: prepared.prep(c["geom"]) for c in communes}

    V = net.vertices()
    while todo:
        best: tuple[float, Any, Any, Any, Any, tuple[float, float]] | None = None
        for tid, xy, code, name in todo:
            d = np.hypot(V[:, 0] - xy[0], V[:, 1] - xy[1])
            order = np.argsort(d, kind="stable")[:40]
            for j in order:
                cost = d[j] * (1.0 if polys[code].contains(Point(V[j])) else 1.6)
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, tid, xy, code, name, (float(V[j][0]), float(V[j][1])))
        assert best is not None  # every todo item has candidate vertices
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
    net.targets = {code: dict(t, reached_m=reached[code]) for code, t in targets.items()}
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
                    "term": SCHOOL_TERM,
                    "hours": SCHOOL_HOURS,
                    "approx_calendar": True,
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
    with open(sources / POP_2025_FILE, encoding="utf-8", newline="") as fh:
        project_communes(communes, list(csv.DictReader(fh)))
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
                "population_census",
                "population_census_year",
                "population_projected",
                "growth_rate_pct",
                "growth_source",
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
        "population_census": sum(v["population_census"] for v in villages),
        "road_km": {k: round(v, 1) for k, v in sorted(km.items())},
        "rainy_closed": sum(1 for ln in net.lines if ln["rainy_closed"]),
        "town_to_centre_km": {
            code: [round(t["target_m"] / 1000, 1), round(t["reached_m"] / 1000, 1)] for code, t in net.targets.items()
        },
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
