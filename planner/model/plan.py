"""The result of planning: plain data, no solver objects.

A :class:`Plan` holds, per vehicle, its working days; each day a list of
:class:`Stop` events (start, village, site, lunch, overnight, end) with times,
and the road geometry of every leg. Every village appears in ``villages`` with
the channel that serves it, and every village not served is in ``unserved``
with a reason a person can act on. ``summary()`` uses the same keys at plan,
vehicle and day level.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

STOP_KINDS = ("start", "village", "site", "lunch", "overnight", "end")
CHANNELS = ("van_stop", "walk", "fixed_point", "unserved")
UNSERVED_REASONS = (
    "unreachable",  # no road the vehicle may use reaches it in this season
    "too_far_for_shift",  # no lodging/depot within a shift's (or a day's driving limit's) reach there and back
    "outside_its_hours",  # the village's own time windows never meet the fleet's working hours
    "not_enough_time",  # reachable, but the fleet's time went to higher-priority villages
    "fixed_point_only",  # only served by a fixed library point (not a van stop)
)

#: Why a village carried over from the last cycle has its first visit after the cycle's first week.
LATE_REASONS = (
    "pinned",  # a pin puts the visit of its stop on a later date
    "outside_its_hours",  # its hours (or required market days) never meet the first week's working hours
    "not_enough_time",  # the first week's working time went to pinned visits and other carried-over villages
)

SUMMARY_KEYS = (
    "villages_served",
    "population_served",
    "children_served",
    "stops",
    "distance_km",
    "driving_h",
    "service_h",
    "nights_away",
    "books",
)


@dataclass(frozen=True)
class Stop:
    """One event on a day's route. Times are local ``datetime`` (naive, Asia/Ho_Chi_Minh)."""

    seq: int
    kind: str
    stop_id: str
    stop_name: str
    commune: str
    commune_code: str
    lon: float
    lat: float
    arrival: dt.datetime
    departure: dt.datetime
    travel_min: float = 0.0  # driving time from the previous stop
    travel_km: float = 0.0  # driving distance from the previous stop
    books: int = 0  # books handed out (village) or swapped (site)
    population_served: int = 0
    children_served: int = 0
    villages_served: tuple[str, ...] = ()  # village ids served at this stop (itself + walkers)
    walkers: tuple[str, ...] = ()  # village ids whose people walk to this stop

    def to_dict(self) -> dict:
        d = asdict(self)
        d["arrival"] = self.arrival.isoformat(timespec="minutes")
        d["departure"] = self.departure.isoformat(timespec="minutes")
        d["villages_served"] = list(self.villages_served)
        d["walkers"] = list(self.walkers)
        return d


@dataclass(frozen=True)
class Day:
    """One working day of one vehicle. ``legs[i]`` is the [lon, lat] path into ``stops[i+1]``."""

    vehicle: str
    date: dt.date
    week: int
    stops: tuple[Stop, ...]
    legs: tuple[tuple[tuple[float, float], ...], ...]

    @property
    def weekday(self) -> str:
        return self.date.strftime("%a")

    def summary(self) -> dict:
        return _summarize([self])

    def to_dict(self) -> dict:
        return {
            "vehicle": self.vehicle,
            "date": self.date.isoformat(),
            "weekday": self.weekday,
            "week": self.week,
            "summary": self.summary(),
            "stops": [s.to_dict() for s in self.stops],
            "legs": [[list(p) for p in leg] for leg in self.legs],
        }


@dataclass(frozen=True)
class VillageService:
    """How one village is served over the plan's cycle."""

    village_id: str
    name: str
    commune: str
    commune_code: str
    population: int
    channel: str  # one of CHANNELS
    visits: int  # van visits that serve it (own stop or walk)
    visits_required: int
    served_by: tuple[str, ...] = ()  # stop ids (van stops or fixed points)
    visit_dates: tuple[str, ...] = ()
    children: int = 0
    credit: float = 1.0  # share of its people counted (walking credit falls with the distance walked)

    @property
    def people_served(self) -> int:
        """People counted as served: the whole village, or its walking credit's share."""
        return 0 if self.channel == "unserved" else int(round(self.population * self.credit))

    @property
    def at_frequency(self) -> bool:
        """Served as often as required, through any channel. The one definition used everywhere:
        a fixed-point village counts only when its point got the required restocks."""
        return self.channel != "unserved" and self.visits >= self.visits_required

    def to_dict(self) -> dict:
        d = asdict(self)
        d["served_by"] = list(self.served_by)
        d["visit_dates"] = list(self.visit_dates)
        return d


@dataclass(frozen=True)
class Unserved:
    village_id: str
    name: str
    commune: str
    population: int
    reason: str  # one of UNSERVED_REASONS
    detail: str
    visits: int = 0
    visits_required: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LateVisit:
    """A village carried over from the last cycle whose first visit falls after the first week, and why."""

    village_id: str
    name: str
    commune: str
    population: int
    first_visit: str  # ISO date
    reason: str  # one of LATE_REASONS
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    status: str  # "ok" (all served), "partial" (some unserved), "empty"
    days: tuple[Day, ...]
    villages: tuple[VillageService, ...]
    unserved: tuple[Unserved, ...]
    population_total: int
    children_total: int
    villages_total: int
    run: dict = field(default_factory=dict)  # parameters, seed, solver stats
    notices: tuple[str, ...] = ()  # e.g. approximated data
    costs: dict = field(default_factory=dict)  # VND: totals, per_vehicle, per_commune, budget cap verdict
    late: tuple[LateVisit, ...] = ()  # carried-over villages first visited after the first week, with why

    def vehicles(self) -> list[str]:
        return sorted({d.vehicle for d in self.days})

    def summary(self) -> dict:
        s = _summarize(self.days)
        # Plan-level counts come from the per-village service record, so a village
        # visited twice in a cycle counts once.
        served = [v for v in self.villages if v.channel != "unserved"]
        s["villages_served"] = len(served)
        s["population_served"] = sum(v.people_served for v in served)
        s["children_served"] = sum(int(round(v.children * v.credit)) for v in served)
        s["population_served_at_frequency"] = sum(v.people_served for v in served if v.at_frequency)
        s["villages_served_at_frequency"] = sum(1 for v in served if v.at_frequency)
        for ch in CHANNELS:
            s[f"population_{ch}"] = sum(
                v.population if ch == "unserved" else v.people_served for v in self.villages if v.channel == ch
            )
        s.update(
            villages_total=self.villages_total,
            population_total=self.population_total,
            children_total=self.children_total,
            population_served_pct=round(100 * s["population_served"] / self.population_total, 1)
            if self.population_total
            else 0.0,
            days=len([d for d in self.days if any(st.kind in ("village", "site") for st in d.stops)]),
            cost_vnd=self.costs.get("total_vnd", 0),
        )
        bound = self.run.get("bound")
        if bound:  # no plan under the same rules serves more people at their frequency
            s["population_upper_bound"] = bound["population_upper_bound"]
            if bound.get("objective_bound") is not None:  # the weighted objective: the plan's value, and its bound
                s["objective_value"] = bound.get("objective_value")
                s["objective_bound"] = bound["objective_bound"]
        return s

    def to_dict(self) -> dict:
        by_vehicle: dict[str, list[dict]] = {}
        for d in self.days:
            by_vehicle.setdefault(d.vehicle, []).append(d.to_dict())
        return {
            "status": self.status,
            "summary": self.summary(),
            "run": self.run,
            "notices": list(self.notices),
            "costs": self.costs,
            "vehicles": [
                {"id": v, "summary": _summarize([d for d in self.days if d.vehicle == v]), "days": days}
                for v, days in by_vehicle.items()
            ],
            "villages": [v.to_dict() for v in self.villages],
            "unserved": [u.to_dict() for u in self.unserved],
            "late": [x.to_dict() for x in self.late],
        }


def _summarize(days) -> dict:
    stops = [s for d in days for s in d.stops]
    visits = [s for s in stops if s.kind in ("village", "site")]
    driving_min = sum(s.travel_min for s in stops)
    service_min = sum((s.departure - s.arrival).total_seconds() / 60 for s in visits)
    return {
        "villages_served": len({v for s in visits for v in s.villages_served}),
        "population_served": sum(s.population_served for s in visits),
        "children_served": sum(s.children_served for s in visits),
        "stops": len(visits),
        "distance_km": round(sum(s.travel_km for s in stops), 1),
        "driving_h": round(driving_min / 60, 2),
        "service_h": round(service_min / 60, 2),
        "nights_away": sum(1 for s in stops if s.kind == "overnight"),
        "books": sum(s.books for s in visits),
    }
