"""Fit road speeds to an officer's measured driving times (``travel_times.csv``).

The file lists measured driving times between named places, for example from the
driver's log::

    from,to,minutes,note
    Thị trấn Mường Tè,Thu Lũm,250,driver's log 2026-11
    Bản Mù Cả,Bản Tó Khò,35,

A place is named by a site or village ``id``, a site name, a commune name (its centre:
the commune's culture centre, else its depot, else its most populous village) or a
village name, tried in that order; a name matching two places of one kind is an error.
Column names are matched without case or diacritics (``phut`` = ``phút`` = ``minutes``).

**Model.** The time of a pair is the sum, over the segments of its shortest path, of
length / speed. A segment's base speed is its road's ``speed_kph`` (or ``time_min``) if
given, else its class speed for the profile. The fit scales base speeds by multipliers
``m``: per road class (``by="class"``, default) or per road (``by="road"``). With
``x = 1 / m`` the time is linear in ``x``, so the fit is bounded linear least squares
(:func:`scipy.optimize.lsq_linear`) on the relative errors ``(model - measured) /
measured``, with ``m`` in [:data:`MULTIPLIER_MIN`, :data:`MULTIPLIER_MAX`]; per road, a
ridge term of weight :data:`ROAD_RIDGE` pulls each road towards ``x = 1``. Shortest paths
depend on the speeds, so paths and fit are repeated until the paths no longer change
(at most :data:`MAX_ROUNDS` rounds). A class or road on no measured path keeps ``m = 1``.
Places are joined to the nearest road vertex; the off-road part is not fitted.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import lsq_linear
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.io.common import norm_header
from planner.io.readers import decode_bytes
from planner.model.area import METRIC_CRS, Area
from planner.model.config import Profile
from planner.model.errors import InputError, Problem
from planner.planning.network import RoadGraph, build_graph

MULTIPLIER_MIN = 0.25  # a fitted speed is at least a quarter of the base speed
MULTIPLIER_MAX = 2.0  # and at most twice it
ROAD_RIDGE = 0.1  # per-road fit: weight of the pull towards the base speed
MAX_ROUNDS = 5
TRAVEL_TIMES_FILE = "travel_times.csv"  # planner check reads it from the data folder
DEFAULT_TOLERANCE_PCT = 20.0  # planner check: pairs off by more than this are reported
MIN_TOLERANCE_MIN = 5.0  # ... and by at least this many minutes
COLUMNS = {
    "from": ("from", "tu", "from_place"),
    "to": ("to", "den", "to_place"),
    "minutes": ("minutes", "phut", "time_min", "min"),
}


@dataclass(frozen=True)
class Measured:
    """One measured driving time between two places (resolved to stop ids)."""

    row: int
    from_name: str
    to_name: str
    from_id: str
    to_id: str
    minutes: float


@dataclass
class Fit:
    """Result of :func:`fit_speeds`."""

    by: str
    multipliers: dict[str, float]  # class or road id -> speed multiplier
    pairs: list[dict] = field(default_factory=list)  # measured, before, fitted, error per pair
    road_speed_kph: dict[str, float] = field(default_factory=dict)  # road id -> fitted speed
    rounds: int = 0

    def rmse_min(self, key: str = "fitted_min") -> float:
        return float(np.sqrt(np.mean([(p[key] - p["measured_min"]) ** 2 for p in self.pairs]))) if self.pairs else 0.0


# --------------------------------------------------------------------------- places


def place_index(area: Area) -> list[dict[str, list[str]]]:
    """Name -> stop ids, in the order names are tried: ids, site names, commune centres, village names."""
    ids = {str(i): [str(i)] for i in list(area.villages["id"]) + list(area.sites["id"])}
    sites: dict[str, list[str]] = {}
    for sid, name in zip(area.sites["id"].astype(str), area.sites["name"].astype(str)):
        sites.setdefault(norm_header(name), []).append(sid)
    communes: dict[str, list[str]] = {}
    for code, name in zip(area.communes["code"].astype(str), area.communes["name"].astype(str)):
        centre = _commune_centre(area, code)
        if centre is not None:
            communes.setdefault(norm_header(name), []).append(centre)
    villages: dict[str, list[str]] = {}
    for vid, name in zip(area.villages["id"].astype(str), area.villages["name"].astype(str)):
        villages.setdefault(norm_header(name), []).append(vid)
    return [ids, sites, communes, villages]


def _commune_centre(area: Area, code: str) -> str | None:
    s = area.sites[area.sites["commune_code"].astype(str) == code]
    for kind in ("culture_centre", "depot"):
        hit = s[s["kind"] == kind]
        if len(hit):
            return str(hit["id"].iloc[0])
    v = area.villages[area.villages["commune_code"].astype(str) == code]
    if len(v):
        return str(v.sort_values(["population", "id"], ascending=[False, True])["id"].iloc[0])
    return None


def read_travel_times(path: Path | str, area: Area) -> list[Measured]:
    """The measured pairs of ``path``; one :class:`InputError` lists every bad row."""
    path = Path(path)
    problems: list[Problem] = []
    text = decode_bytes(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError([Problem(str(path), "file", "-", None, "the file is empty")])
    header = [norm_header(h) for h in rows[0]]
    col = {}
    for canon, aliases in COLUMNS.items():
        hit = [i for i, h in enumerate(header) if h in aliases]
        if not hit:
            problems.append(
                Problem(str(path), "header", canon, None, f"required column missing (one of {', '.join(aliases)})")
            )
        else:
            col[canon] = hit[0]
    if problems:
        raise InputError(problems)
    index = place_index(area)
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        cells = {k: (r[i].strip() if i < len(r) else "") for k, i in col.items()}
        feature = f"row {n}"
        resolved = {}
        for k in ("from", "to"):
            resolved[k] = _resolve(
                index, cells[k], lambda rule, k=k: problems.append(Problem(str(path), feature, k, cells[k], rule))
            )
        try:
            minutes = float(cells["minutes"].replace(",", "."))
            if not minutes > 0:
                raise ValueError
        except ValueError:
            problems.append(Problem(str(path), feature, "minutes", cells["minutes"], "must be a number of minutes > 0"))
            continue
        if resolved["from"] and resolved["to"]:
            if resolved["from"] == resolved["to"]:
                problems.append(Problem(str(path), feature, "to", cells["to"], "is the same place as 'from'"))
                continue
            out.append(Measured(n, cells["from"], cells["to"], resolved["from"], resolved["to"], minutes))
    if problems:
        raise InputError(problems)
    return out


def _resolve(index, name: str, error) -> str | None:
    if not name:
        error("missing place name")
        return None
    key = norm_header(name)
    for table in index:
        hits = table.get(name) or table.get(key)
        if hits:
            if len(set(hits)) > 1:
                error(f"names {len(set(hits))} places ({', '.join(sorted(set(hits)))}); use an id")
                return None
            return hits[0]
    error("no village, site or commune of this name or id")
    return None


# --------------------------------------------------------------------------- model


def _stop_nodes(area: Area, graph: RoadGraph, stop_ids: list[str]) -> dict[str, int]:
    """Nearest road vertex of each named stop."""
    pts = {}
    for frame in (area.villages, area.sites):
        m = frame.to_crs(METRIC_CRS)
        for sid, g in zip(m["id"].astype(str), m.geometry):
            pts[sid] = (g.x, g.y)
    out = {}
    for sid in stop_ids:
        x, y = pts[sid]
        out[sid] = int(np.argmin(np.hypot(graph.xy[:, 0] - x, graph.xy[:, 1] - y)))
    return out


def base_speeds(graph: RoadGraph, profile: Profile) -> np.ndarray:
    """Per-segment base speed (km/h): the road's own speed if it has one, else its class speed; 0 = not usable."""
    cls = np.array([profile.speed(c) for c in graph.seg_class], dtype=float)
    if graph.seg_speed_kph is not None:
        cls = np.where((cls > 0) & np.isfinite(graph.seg_speed_kph), graph.seg_speed_kph, cls)
    return cls


def path_hours(
    graph: RoadGraph, speed_kph: np.ndarray, pairs: list[Measured], nodes: dict[str, int]
) -> list[np.ndarray | None]:
    """For each pair, the hours spent on each segment of its shortest path (None if unreachable)."""
    n = len(graph.xy)
    ok = speed_kph > 0
    hours = np.where(ok, graph.seg_len_m / 1000 / np.where(ok, speed_kph, 1.0), np.inf)
    u, v, h = graph.seg_u[ok], graph.seg_v[ok], np.maximum(hours[ok], 1e-9)
    seg_of: dict[tuple[int, int], int] = {}
    for k in np.flatnonzero(ok).tolist():
        for a, b in ((graph.seg_u[k], graph.seg_v[k]), (graph.seg_v[k], graph.seg_u[k])):
            if (a, b) not in seg_of or hours[k] < hours[seg_of[(a, b)]]:
                seg_of[(int(a), int(b))] = int(k)
    w = csr_matrix((np.r_[h, h], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    sources = sorted({nodes[p.from_id] for p in pairs})
    dist, pred = dijkstra(w, indices=sources, return_predecessors=True)
    row = {s: i for i, s in enumerate(sources)}
    out: list[np.ndarray | None] = []
    for p in pairs:
        a, b = nodes[p.from_id], nodes[p.to_id]
        i = row[a]
        if not np.isfinite(dist[i, b]):
            out.append(None)
            continue
        per_seg = np.zeros(len(graph.seg_u))
        node = int(b)
        while node != a:
            prev = int(pred[i, node])
            seg = seg_of[(prev, node)]
            per_seg[seg] += hours[seg]
            node = prev
        out.append(per_seg)
    return out


def modelled_minutes(
    area: Area, profile: Profile, pairs: list[Measured], graph: RoadGraph | None = None
) -> list[float]:
    """Modelled driving minutes of each pair at the current speeds (``inf`` if unreachable)."""
    graph = graph if graph is not None else build_graph(area)
    nodes = _stop_nodes(area, graph, sorted({p.from_id for p in pairs} | {p.to_id for p in pairs}))
    per = path_hours(graph, base_speeds(graph, profile), pairs, nodes)
    return [float(h.sum() * 60) if h is not None else float("inf") for h in per]


def fit_speeds(area: Area, profile: Profile, pairs: list[Measured], by: str = "class") -> Fit:
    """Fit speed multipliers (per road class or per road) to the measured pairs; see the module notes."""
    if by not in ("class", "road"):
        raise ValueError("by must be 'class' or 'road'")
    graph = build_graph(area)
    nodes = _stop_nodes(area, graph, sorted({p.from_id for p in pairs} | {p.to_id for p in pairs}))
    base = base_speeds(graph, profile)
    keys_of_seg = graph.seg_class if by == "class" else graph.seg_road_id
    keys = sorted(set(map(str, keys_of_seg)))
    col = {k: i for i, k in enumerate(keys)}
    seg_col = np.array([col[str(k)] for k in keys_of_seg], dtype=int)
    maybe_before = path_hours(graph, base, pairs, nodes)
    unreachable = [p for p, h in zip(pairs, maybe_before) if h is None]
    if unreachable:
        raise InputError(
            [
                Problem(
                    "travel_times", f"row {p.row}", "to", p.to_name, f"cannot be reached from {p.from_name!r} by road"
                )
                for p in unreachable
            ]
        )
    before = _reachable(maybe_before)
    meas_h = np.array([p.minutes / 60 for p in pairs])
    x = np.ones(len(keys))
    speed = base.copy()
    last_paths = None
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):
        per = _reachable(path_hours(graph, speed, pairs, nodes))
        # hours at the *base* speed, by column: time = A @ x with x = 1 / multiplier
        base_h = [np.where(h > 0, graph.seg_len_m / 1000 / np.where(base > 0, base, 1.0), 0.0) for h in per]
        a = np.zeros((len(pairs), len(keys)))
        for i, h in enumerate(base_h):
            np.add.at(a[i], seg_col, h)
        used = a.sum(axis=0) > 0
        a_rel = a / meas_h[:, None]
        b_rel = np.ones(len(pairs))
        if by == "road":
            a_rel = np.vstack([a_rel, ROAD_RIDGE * np.eye(len(keys))[used]])
            b_rel = np.r_[b_rel, ROAD_RIDGE * np.ones(int(used.sum()))]
        lo, hi = 1 / MULTIPLIER_MAX, 1 / MULTIPLIER_MIN
        sol = lsq_linear(a_rel[:, used], b_rel, bounds=(lo, hi))
        x = np.ones(len(keys))
        x[used] = sol.x
        speed = base / x[seg_col]
        paths = tuple(tuple(np.flatnonzero(h > 0)) for h in per)
        if paths == last_paths:
            break
        last_paths = paths
    fitted = _reachable(path_hours(graph, speed, pairs, nodes))
    mult = {k: round(float(1 / x[i]), 4) for k, i in col.items()}
    fit = Fit(by=by, multipliers=mult, rounds=rounds)
    for p, h0, h1 in zip(pairs, _reachable(before), fitted):
        fm = float(h1.sum() * 60)
        fit.pairs.append(
            {
                "row": p.row,
                "from": p.from_name,
                "to": p.to_name,
                "measured_min": p.minutes,
                "before_min": round(float(h0.sum() * 60), 1),
                "fitted_min": round(fm, 1),
                "error_min": round(fm - p.minutes, 1),
                "error_pct": round(100 * (fm - p.minutes) / p.minutes, 1),
            }
        )
    for rid, k in zip(graph.seg_road_id, keys_of_seg):
        m = mult[str(k)]
        if m != 1.0 and str(rid) not in fit.road_speed_kph:
            seg = np.flatnonzero(graph.seg_road_id == rid)
            fit.road_speed_kph[str(rid)] = round(float(base[seg[0]] * m), 2)
    return fit


def _reachable(per: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """The per-segment hours of pairs known to be reachable (positive speeds keep them so)."""
    out = [h for h in per if h is not None]
    if len(out) != len(per):
        raise RuntimeError("a measured pair became unreachable while fitting")
    return out


def check_travel_times(
    area: Area,
    profile: Profile,
    pairs: list[Measured],
    tolerance_pct: float = DEFAULT_TOLERANCE_PCT,
    min_minutes: float = MIN_TOLERANCE_MIN,
) -> list[Problem]:
    """Warnings for the pairs whose modelled time is off by more than ``tolerance_pct`` (and ``min_minutes``)."""
    out = []
    for p, model in zip(pairs, modelled_minutes(area, profile, pairs)):
        diff = model - p.minutes
        if not np.isfinite(model):
            out.append(
                Problem(
                    "travel_times.csv",
                    f"row {p.row}",
                    "to",
                    p.to_name,
                    "cannot be reached by road in the model",
                    "warning",
                )
            )
        elif abs(diff) > max(min_minutes, tolerance_pct / 100 * p.minutes):
            out.append(
                Problem(
                    "travel_times.csv",
                    f"row {p.row} ({p.from_name} → {p.to_name})",
                    "minutes",
                    p.minutes,
                    f"the model gives {model:.0f} min ({diff:+.0f} min, {100 * diff / p.minutes:+.0f} %), more than "
                    f"{tolerance_pct:g} % off; run 'planner calibrate' to fit the road speeds",
                    "warning",
                )
            )
    return out


def write_calibrated_roads(source: Path | str, fit: Fit, out: Path | str) -> Path:
    """Write the roads GeoJSON ``source`` with fitted ``speed_kph`` per road into ``out``, atomically.

    Roads the fit left unchanged keep their properties. A road that had ``time_min`` gets
    it scaled by 1 / multiplier instead, so the override it carries stays the one it had.
    """
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    for f in data["features"]:
        props = f["properties"]
        rid = str(props.get("id"))
        if rid not in fit.road_speed_kph:
            continue
        if props.get("time_min"):
            key = props.get("road_class") if fit.by == "class" else rid
            props["time_min"] = round(float(props["time_min"]) / fit.multipliers[str(key)], 2)
        else:
            props["speed_kph"] = fit.road_speed_kph[rid]
        props["calibrated"] = True
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
