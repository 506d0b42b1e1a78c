"""Area + config -> Problem: travel matrices per vehicle profile and season, calendar, fleet, rules.

The Problem is built once and read-only afterwards; :func:`planner.planning.solve.solve` turns it
into a :class:`planner.model.plan.Plan`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.model.area import FIXED_POINT_KINDS, Area
from planner.model.calendar import DailyWindow, MarketDays, windows_on
from planner.model.config import Config, VehicleConfig
from planner.model.errors import InputError, NoPlanError
from planner.model.errors import Problem as InputProblem
from planner.model.matrices import Matrices

#: Frequency rules state visits per this many weeks.
WEEKS_PER_RULE = 4
#: Automatic least spacing between two visits: this share of the even spacing.
AUTO_SPACING_SHARE = 0.6


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
    time_windows: tuple[DailyWindow, ...] = ()  # when a visit may take place; () = the whole shift
    priority: float = 1.0  # a weight set by the district (e.g. carried over after a missed visit)
    disadvantaged: bool = False  # listed as especially disadvantaged (đặc biệt khó khăn)
    market: MarketDays | None = None  # its market days (chợ phiên)
    market_required: bool = False  # visit only on a market day (else: preferred, per the objective)
    walk_limit_m: float | None = None  # its own walking limit (None: the plan's)


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


def cycle_calendar(config: Config) -> tuple[tuple[dt.date, ...], tuple[tuple[dt.date, ...], ...]]:
    """The cycle's working dates and the same dates by week of the cycle.

    Raises
    ------
    NoPlanError
        The cycle has no working day (the calendar's numbers are quoted).
    """
    dates = tuple(config.working_dates())
    if not dates:
        raise NoPlanError(
            f"no working day between {config.start_date} and {config.end_date}"
            f" (working days {', '.join(config.plan.working_days)}, "
            f"holidays {[d.isoformat() for d in config.plan.holidays]})"
        )
    weeks: dict[int, list[dt.date]] = {}
    for d in dates:
        weeks.setdefault((d - config.start_date).days // 7, []).append(d)
    return dates, tuple(tuple(w) for _, w in sorted(weeks.items()))


def depot_problems(config: Config, site_ids: set[str]) -> list[InputProblem]:
    """A problem for every vehicle whose depot is not one of the sites."""
    return [
        InputProblem("config", f"vehicle id={v.id}", "depot", v.depot, f"no site with this id (sites: {len(site_ids)})")
        for v in config.vehicles
        if v.depot not in site_ids
    ]


@dataclass(frozen=True)
class Problem:
    """Everything the solver needs, validated and read-only."""

    area: Area | None  # the layers it came from (None for a problem built from arrays)
    config: Config
    dates: tuple[dt.date, ...]
    weeks: tuple[tuple[dt.date, ...], ...]
    villages: tuple[VillageRow, ...]
    sites: tuple[SiteRow, ...]
    vehicles: tuple[VehicleConfig, ...]
    matrices: dict  # profile name -> Matrices (rows: villages then sites)
    walk: Matrices | None = None  # walking matrices for covering (None: no walking)
    warnings: tuple[str, ...] = field(default=())
    #: (profile, week index) -> the matrices of that week when roads are closed on some of its
    #: days (a road closed on any working day of a week is closed for that week's trips).
    week_matrices: dict = field(default_factory=dict)
    _villages_by_id: dict[str, VillageRow] = field(init=False, repr=False, compare=False)
    _week_of: dict[dt.date, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_villages_by_id", {v.id: v for v in self.villages})
        object.__setattr__(self, "_week_of", {d: w for w, week in enumerate(self.weeks) for d in week})

    @classmethod
    def assemble(
        cls,
        config: Config,
        villages,
        sites,
        matrices: dict[str, Matrices],
        *,
        walk: Matrices | None = None,
        area: Area | None = None,
        warnings=(),
        week_matrices: dict[tuple[str, int], Matrices] | None = None,
    ) -> Problem:
        """The canonical constructor: calendar from the configuration, rows and matrices as given.

        Raises
        ------
        NoPlanError
            The cycle has no working day.
        InputError
            A vehicle's depot is not a site, or its profile has no matrices.
        """
        dates, weeks = cycle_calendar(config)
        problems = depot_problems(config, {s.id for s in sites}) + [
            InputProblem("config", f"vehicle id={v.id}", "profile", v.profile, "no travel matrices for this profile")
            for v in config.vehicles
            if v.profile not in matrices
        ]
        if problems:
            raise InputError(problems)
        return cls(
            area=area,
            config=config,
            dates=dates,
            weeks=weeks,
            villages=tuple(villages),
            sites=tuple(sites),
            vehicles=config.vehicles,
            matrices=dict(matrices),
            walk=walk,
            warnings=tuple(warnings),
            week_matrices=dict(week_matrices or {}),
        )

    @classmethod
    def from_arrays(
        cls,
        config: Config,
        *,
        village_ids,
        populations,
        site_ids,
        site_kinds,
        time_s,
        dist_m,
        children=None,
        lodging=None,
        walk_m=None,
        lonlat=None,
    ) -> Problem:
        """A problem from plain arrays, no files: matrix rows are the villages, then the sites.

        ``time_s``/``dist_m`` are square (seconds, metres) for every profile of the fleet
        (``None``, ``inf`` or negative: no path); ``lodging`` says which sites a crew may sleep at
        (default: the depot kind only); ``walk_m`` is a walking-distance matrix (default: no walking).
        """
        ids = [str(v) for v in village_ids] + [str(s) for s in site_ids]
        nv = len(village_ids)
        pos = lonlat if lonlat is not None else [(0.0, 0.0)] * len(ids)
        kids = children if children is not None else [0] * nv
        villages = tuple(
            VillageRow(
                id=ids[k],
                name=ids[k],
                commune="",
                commune_code="",
                population=int(populations[k]),
                children=int(kids[k]),
                visits_required=visits_required({"population": int(populations[k]), "children": int(kids[k])}, config),
                loc=k,
                lon=float(pos[k][0]),
                lat=float(pos[k][1]),
            )
            for k in range(nv)
        )
        sleeps = lodging if lodging is not None else [kind == "depot" for kind in site_kinds]
        sites = tuple(
            SiteRow(
                id=ids[nv + j],
                name=ids[nv + j],
                kind=str(kind),
                commune="",
                commune_code="",
                lodging=bool(sleeps[j]),
                active=True,
                coverage_radius_m=0,
                stock_books=0,
                loc=nv + j,
                lon=float(pos[nv + j][0]),
                lat=float(pos[nv + j][1]),
            )
            for j, kind in enumerate(site_kinds)
        )
        profiles = {v.profile for v in config.vehicles}
        matrices = {p: Matrices.from_arrays(ids, time_s, dist_m, profile=p) for p in profiles}
        walk = None if walk_m is None else Matrices.from_arrays(ids, walk_m, walk_m, profile="walk")
        return cls.assemble(config, villages, sites, matrices, walk=walk)

    @property
    def start_date(self) -> dt.date:
        return self.config.start_date

    def site(self, site_id: str) -> SiteRow:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def matrix_for(self, vehicle: VehicleConfig, date: dt.date | None = None) -> Matrices:
        """The vehicle's travel matrices, on ``date`` when given (roads closed that week left out)."""
        return self.week_matrix(vehicle.profile, self._week_of.get(date) if date is not None else None)

    def week_matrix(self, profile: str, week: int | None) -> Matrices:
        """The matrices of ``profile`` in week ``week`` (``None``: with no dated closure)."""
        return self.week_matrices.get((profile, week), self.matrices[profile])

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

    def village_windows(self, village_id: str, date: dt.date) -> tuple[tuple[int, int], ...] | None:
        """Intervals (minutes after midnight) in which a visit to the village must start and end on
        ``date``; ``None`` when the village states no window (the vehicle's shift applies)."""
        v = self.village(village_id)
        if not v.time_windows:
            return None
        return windows_on(v.time_windows, date.weekday())

    def village(self, village_id: str) -> VillageRow:
        return self._villages_by_id[village_id]

    def fixed_points(self) -> list[SiteRow]:
        return [s for s in self.sites if s.kind in FIXED_POINT_KINDS and s.active and s.coverage_radius_m > 0]


def visits_required(row, config: Config) -> int:
    """Van visits per cycle: the village's own ``visits_per_cycle`` if given, else the rules.

    Rules state visits per 4 weeks (the first rule whose ``min_population`` /
    ``min_children`` the village meets, else ``default_visits_per_4_weeks``), scaled to
    the cycle's length and at least 1.
    """
    own = row.get("visits_per_cycle") if hasattr(row, "get") else None
    if own is not None and own is not pd.NA and not (isinstance(own, float) and np.isnan(own)):
        return int(own)
    freq = config.frequency
    per4 = freq.default_visits_per_4_weeks
    pop = int(row.get("population", 0) or 0)
    children = row.get("children", 0)
    children = int(children) if children is not None and children is not pd.NA and children == children else 0
    for rule in freq.rules:
        if pop >= rule.min_population and children >= rule.min_children:
            per4 = rule.visits_per_4_weeks
            break
    return max(1, int(round(per4 * config.plan.weeks / WEEKS_PER_RULE)))


def min_spacing_days(config: Config, visits: int) -> float:
    """Least days between two visits of one stop (explicit, or 60 % of the even spacing)."""
    explicit = config.frequency.min_spacing_days
    if explicit:
        return float(explicit)
    return AUTO_SPACING_SHARE * 7 * config.plan.weeks / max(1, visits)


def books_for(pop: int, problem: Problem) -> int:
    """Books handed out at a visit serving ``pop`` people: ``books_per_person`` each, within the bounds."""
    s = problem.config.service
    return int(min(s.books_max, max(s.books_min, round(pop * s.books_per_person))))
