"""Area + config -> Problem: travel matrices per vehicle profile and season, calendar, fleet, rules.

The Problem is built once and read-only afterwards; :func:`planner.solve.solve` turns it
into a :class:`planner.plan.Plan`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from planner.area import FIXED_POINT_KINDS, Area
from planner.config import Config, VehicleConfig
from planner.engine.model import UNREACHABLE
from planner.errors import InputError, NoPlanError
from planner.errors import Problem as InputProblem
from planner.network import Matrices, build_graph, travel_matrices


@dataclass(frozen=True)
class VillageRow:
    id: str
    name: str
    commune: str
    commune_code: str
    population: int
    children: int
    visits_required: int
    loc: int  # row in the matrices
    lon: float
    lat: float


@dataclass(frozen=True)
class SiteRow:
    id: str
    name: str
    kind: str
    commune: str
    commune_code: str
    lodging: bool
    active: bool
    coverage_radius_m: int
    stock_books: int
    loc: int
    lon: float
    lat: float


@dataclass(frozen=True)
class Problem:
    """Everything the solver needs, validated and read-only."""

    area: Area
    config: Config
    dates: tuple[dt.date, ...]
    weeks: tuple[tuple[dt.date, ...], ...]
    villages: tuple[VillageRow, ...]
    sites: tuple[SiteRow, ...]
    vehicles: tuple[VehicleConfig, ...]
    matrices: dict  # profile name -> Matrices (rows: villages then sites)
    walk: Matrices | None = None  # walking matrices for covering (None: no walking)
    warnings: tuple[str, ...] = field(default=())

    @property
    def start_date(self) -> dt.date:
        return self.config.start_date

    def site(self, site_id: str) -> SiteRow:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def matrix_for(self, vehicle: VehicleConfig) -> Matrices:
        return self.matrices[vehicle.profile]

    def stop_name(self, loc: int) -> tuple[str, str, str, str, float, float]:
        """(id, name, commune, commune_code, lon, lat) of the stop in matrix row ``loc``."""
        nv = len(self.villages)
        if loc < nv:
            v = self.villages[loc]
            return v.id, v.name, v.commune, v.commune_code, v.lon, v.lat
        s = self.sites[loc - nv]
        return s.id, s.name, s.commune, s.commune_code, s.lon, s.lat

    def lodgings(self, vehicle: VehicleConfig) -> list[SiteRow]:
        """Sites where this vehicle's crew may spend the night (its depot first)."""
        depot = self.site(vehicle.depot)
        out = [depot]
        for s in self.sites:
            if s.id != depot.id and s.kind in vehicle.overnight_kinds and s.lodging:
                out.append(s)
        return out

    def fixed_points(self) -> list[SiteRow]:
        return [s for s in self.sites if s.kind in FIXED_POINT_KINDS and s.active and s.coverage_radius_m > 0]


def visits_required(row, config: Config) -> int:
    """Van visits per cycle: the village's own ``visits_per_cycle`` if given, else the rules.

    Rules state visits per 4 weeks (the first rule whose ``min_population`` /
    ``min_children`` the village meets, else ``default_visits_per_4_weeks``), scaled to
    the cycle's length and at least 1.
    """
    own = row.get("visits_per_cycle") if hasattr(row, "get") else None
    if own is not None and not (isinstance(own, float) and np.isnan(own)):
        return int(own)
    freq = config.raw["frequency"]
    per4 = freq["default_visits_per_4_weeks"]
    pop = int(row.get("population", 0) or 0)
    children = row.get("children", 0)
    children = int(children) if children == children and children is not None else 0
    for rule in freq.get("rules", []):
        if pop >= rule.get("min_population", 0) and children >= rule.get("min_children", 0):
            per4 = rule["visits_per_4_weeks"]
            break
    return max(1, int(round(per4 * int(config.plan["weeks"]) / 4)))


def min_spacing_days(config: Config, visits: int) -> float:
    """Least days between two visits of one stop (explicit, or 60 % of the even spacing)."""
    explicit = config.raw["frequency"].get("min_spacing_days", 0)
    if explicit:
        return float(explicit)
    return 0.6 * 7 * int(config.plan["weeks"]) / max(1, visits)


def build_problem(area: Area, config: Config) -> Problem:
    """Compute matrices for every vehicle profile of the fleet (and walking) for the season."""
    dates = tuple(config.working_dates())
    if not dates:
        raise NoPlanError(
            f"no working day between {config.start_date} and {config.start_date + dt.timedelta(days=7 * config.plan['weeks'] - 1)}"
            f" (working days {config.plan['working_days']}, holidays {config.plan['holidays']})"
        )
    weeks: dict[int, list[dt.date]] = {}
    for d in dates:
        weeks.setdefault((d - config.start_date).days // 7, []).append(d)
    vehicles = tuple(config.vehicles())
    site_ids = set(area.sites["id"].astype(str))
    problems = [
        InputProblem("config", f"vehicle id={v.id}", "depot", v.depot, f"no site with this id (sites: {len(site_ids)})")
        for v in vehicles
        if v.depot not in site_ids
    ]
    if problems:
        raise InputError(problems)
    graph = build_graph(area)
    matrices = {}
    for v in vehicles:
        if v.profile not in matrices:
            matrices[v.profile] = travel_matrices(area, config.profile(v.profile), graph, rainy=config.season == "rainy")
    walk = None
    if config.plan.get("walk_limit_m", 0) > 0 or config.plan.get("fixed_points"):
        walk = travel_matrices(area, config.profile("walk"), graph, rainy=config.season == "rainy")

    vdf = area.villages
    villages = tuple(
        VillageRow(
            id=str(r["id"]),
            name=str(r["name"]),
            commune=str(r.get("commune", "")),
            commune_code=str(r.get("commune_code", "")),
            population=int(r["population"]),
            children=int(r["children"]) if "children" in vdf and r.get("children") == r.get("children") else 0,
            visits_required=visits_required(r, config),
            loc=k,
            lon=float(r.geometry.x),
            lat=float(r.geometry.y),
        )
        for k, (_, r) in enumerate(vdf.iterrows())
    )
    nv = len(villages)
    sdf = area.sites
    activate = set(config.raw.get("fixed_points", {}).get("activate_kinds", [])) if config.plan.get("fixed_points") else set()
    sites = tuple(
        SiteRow(
            id=str(r["id"]),
            name=str(r["name"]),
            kind=str(r["kind"]),
            commune=str(r.get("commune", "")),
            commune_code=str(r.get("commune_code", "")),
            lodging=bool(r.get("lodging", r["kind"] == "depot")),
            active=bool(r.get("active", True)) or str(r["kind"]) in activate,
            coverage_radius_m=int(r.get("coverage_radius_m", 0) or 0),
            stock_books=int(r.get("stock_books", 0) or 0),
            loc=nv + k,
            lon=float(r.geometry.x),
            lat=float(r.geometry.y),
        )
        for k, (_, r) in enumerate(sdf.iterrows())
    )
    warnings = []
    for prof, m in matrices.items():
        for v in vehicles:
            if v.profile != prof:
                continue
            d = m.index(v.depot)
            cut = [villages[j].name for j in range(nv) if m.time_s[d, j] >= UNREACHABLE]
            if cut:
                warnings.append(
                    f"{len(cut)} village(s) cannot be reached by {prof} from {v.depot} in the {config.season} season: "
                    + ", ".join(cut[:10])
                    + (" …" if len(cut) > 10 else "")
                )
    return Problem(
        area=area,
        config=config,
        dates=dates,
        weeks=tuple(tuple(w) for _, w in sorted(weeks.items())),
        villages=villages,
        sites=sites,
        vehicles=vehicles,
        matrices=matrices,
        walk=walk,
        warnings=tuple(warnings),
    )
