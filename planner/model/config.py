"""Planning parameters: typed, frozen sections with defaults that fit Mường Tè.

A TOML file may set any of the sections below; scenario files may name a ``base`` file
whose values they override (``base = "baseline.toml"``, relative to the file). Command-line
options arrive as overrides of the same shape. Unknown keys and bad values are refused all
at once, each problem naming the file, section, key, value and rule.

The defaults live in one place: the field defaults of the dataclasses below.

Units are in the names: ``_min`` minutes, ``_h`` hours, ``_s`` seconds, ``_kph``, ``_m``
metres. Times of day are ``"HH:MM"`` strings.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import functools
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import holidays as public_holidays

from planner.model.calendar import parse_time_windows, windows_on
from planner.model.errors import InputError, Problem

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SEASONS = ("dry", "rainy")
FIRST_SOLUTIONS = ("auto", "parallel_cheapest_insertion", "path_cheapest_arc", "savings", "christofides")
#: Site kinds a crew may sleep at (the site must also have ``lodging = true``).
OVERNIGHT_KINDS = ("depot", "culture_centre", "border_post", "learning_centre", "post_office_point", "school")
#: Site kinds that can serve as the directive's fixed library points.
FIXED_POINT_ACTIVATABLE = ("culture_centre", "learning_centre", "post_office_point", "private_library", "school")
ROAD_CLASSES = ("national", "provincial", "commune", "track")
MAX_WEEKS = 8
WALK_PROFILE = "walk"


def _hhmm_ok(value: object) -> bool:
    parts = str(value).split(":")
    return (
        len(parts) == 2
        and all(p.isdigit() for p in parts)
        and 0 <= int(parts[0]) <= 24
        and 0 <= int(parts[1]) < 60
        and (int(parts[0]) < 24 or int(parts[1]) == 0)
    )


def _hours_ok(text: object) -> bool:
    try:
        wins = parse_time_windows(text)
    except ValueError:
        return False
    return bool(wins) and all(len(windows_on(wins, d)) <= 1 for d in range(7))


def minutes_of(hhmm: str) -> int:
    """``"07:30"`` -> 450."""
    h, m = str(hhmm).split(":")
    return int(h) * 60 + int(m)


# A rule is (predicate, message); the field's metadata carries a tuple of them.
Rule = tuple[Callable[[Any], bool], str]


def rule(pred: Callable[[Any], bool], message: str) -> Rule:
    return (pred, message)


POSITIVE = rule(lambda v: v > 0, "must be > 0")
NON_NEGATIVE = rule(lambda v: v >= 0, "must be >= 0")
HHMM = rule(_hhmm_ok, "must be a time HH:MM")


def one_of(options: tuple[str, ...]) -> Rule:
    return rule(lambda v: v in options, f"must be one of {', '.join(options)}")


def each_of(options: tuple[str, ...]) -> Rule:
    return rule(lambda v: all(x in options for x in v), f"every item must be one of {', '.join(options)}")


def checked(default, *rules: Rule, **kw):
    """A dataclass field with a default and validation rules."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"rules": rules, **kw})
    return field(default=default, metadata={"rules": rules, **kw})


@functools.lru_cache(maxsize=16)
def vn_holidays(years: tuple[int, ...]) -> tuple[tuple[dt.date, str], ...]:
    """Vietnam's public holidays in ``years`` (date, Vietnamese name), sorted; computed once per set of
    years (the lunar ones take a third of a second)."""
    return tuple(sorted(public_holidays.country_holidays("VN", years=years, language="vi").items()))


@dataclass(frozen=True)
class PlanSection:
    """``[plan]``: the cycle, the season, the search budget."""

    start_date: dt.date | None = checked(None)  # default: the next Monday
    weeks: int = checked(4, rule(lambda v: 1 <= v <= MAX_WEEKS, f"must be from 1 to {MAX_WEEKS}"))
    working_days: tuple[str, ...] = checked(("Mon", "Tue", "Wed", "Thu", "Fri"), each_of(WEEKDAYS))
    holidays: tuple[dt.date, ...] = checked(())  # local dates with no service, on top of the public holidays
    public_holidays: bool = checked(True)  # Vietnam's public holidays, lunar Tết included (`holidays` package)
    season: str = checked("dry", one_of(SEASONS))
    time_limit_s: float = checked(150.0, POSITIVE)  # safety cap; the work budget normally stops the search first
    max_iterations: int = checked(5_000_000, POSITIVE)  # work budget: search steps (reproducible, unlike wall time)
    #: iterated local search: at most this many steps per restart from a ruined best plan; 0 = guided local search
    restart_iterations: int = checked(1_000_000, NON_NEGATIVE)
    #: independent searches at once (seeds seed, seed + 104729...), each with the whole work budget; the best plan is kept
    chains: int = checked(2, rule(lambda v: 1 <= v <= 16, "must be from 1 to 16"))
    first_solution: str = checked("parallel_cheapest_insertion", one_of(FIRST_SOLUTIONS))
    seed: int = checked(0, NON_NEGATIVE)  # relabels the search's nodes; the same seed gives the same plan
    fixed_points: bool = checked(False)  # use the directive's fixed library points
    walk_limit_m: float = checked(2000.0, NON_NEGATIVE)  # walking to a van stop along paths; 0 = none
    #: villages carried over from the last cycle (``plan --next-cycle`` sets it): first visit in week 1
    carry_over: tuple[str, ...] = checked(())


@dataclass(frozen=True)
class ServiceSection:
    """``[service]``: the working day and what a visit takes."""

    shift_start: str = checked("07:00", HHMM)
    shift_end: str = checked("17:00", HHMM)
    lunch_earliest: str = checked("11:00", HHMM)
    lunch_latest_end: str = checked("13:30", HHMM)
    lunch_min: int = checked(60, NON_NEGATIVE)
    village_service_min: int = checked(90, NON_NEGATIVE)
    site_service_min: int = checked(30, NON_NEGATIVE)
    school_session_min: int = checked(45, POSITIVE)  # a reading session at a school: one lesson (35 min) + swap
    books_per_person: float = checked(0.1, NON_NEGATIVE)  # books handed out per visit, per inhabitant
    books_min: int = checked(20, NON_NEGATIVE)
    books_max: int = checked(150, NON_NEGATIVE)
    penalty_per_person: int = checked(100_000, NON_NEGATIVE)  # objective units lost per person not served
    night_away_cost: int = checked(3600, NON_NEGATIVE)  # objective units per night away from the depot

    def minutes(self, key: str) -> int:
        """A time-of-day key in minutes after midnight."""
        return minutes_of(getattr(self, key))


@dataclass(frozen=True)
class FrequencyRule:
    """The first rule whose thresholds a village meets sets its visits per 4 weeks."""

    visits_per_4_weeks: int = checked(1, POSITIVE)
    min_population: int = checked(0, NON_NEGATIVE)
    min_children: int = checked(0, NON_NEGATIVE)


@dataclass(frozen=True)
class FrequencySection:
    """``[frequency]``: van visits a village needs, stated per 4 weeks and scaled to the cycle."""

    default_visits_per_4_weeks: int = checked(1, POSITIVE)
    rules: tuple[FrequencyRule, ...] = checked((FrequencyRule(visits_per_4_weeks=2, min_population=600),))
    min_spacing_days: float = checked(0.0, NON_NEGATIVE)  # 0 = automatic: 60 % of the even spacing
    fixed_point_visits: int = checked(1, POSITIVE)  # restocking visits per cycle for an active fixed point
    school_visits: int = checked(1, POSITIVE)  # reading sessions per cycle at an active school


@dataclass(frozen=True)
class FixedPointsSection:
    """``[fixed_points]``: the directive's fixed library points."""

    box_books: int = checked(100, POSITIVE)  # books swapped at each restocking visit
    activate_kinds: tuple[str, ...] = checked((), each_of(FIXED_POINT_ACTIVATABLE))


@dataclass(frozen=True)
class ObjectiveSection:
    """``[objective]``: what a visit is worth (see the README's formula) and fairness between communes.

    A village's weight is ``(people + child_weight × children) × (1 + min(remote_weight_per_h ×
    hours from the depot, remote_weight_cap)) × (1 + disadvantaged_weight if disadvantaged) ×
    priority``; its first visit in the cycle counts ``first_visit_factor`` times a repeat.
    """

    first_visit_factor: float = checked(10.0, rule(lambda v: v >= 1, "must be >= 1"))
    child_weight: float = checked(1.0, NON_NEGATIVE)
    remote_weight_per_h: float = checked(0.25, NON_NEGATIVE)
    remote_weight_cap: float = checked(1.0, NON_NEGATIVE)
    disadvantaged_weight: float = checked(0.5, NON_NEGATIVE)
    #: every commune gets at least this share of its people served at frequency, or the plan says why
    commune_floor_pct: float = checked(0.0, rule(lambda v: 0 <= v <= 100, "must be a percentage 0-100"))
    floor_rounds: int = checked(3, NON_NEGATIVE)  # re-solves that raise the weight of communes below the floor
    market_day: str = checked("preferred", one_of(("preferred", "required", "ignored")))
    market_bonus: float = checked(0.25, NON_NEGATIVE)  # a preferred market-day visit is worth this much more
    walk_full_credit_m: float = checked(1000.0, NON_NEGATIVE)  # walking credit is full up to here, then falls


@dataclass(frozen=True)
class DocumentSection:
    """``[document]``: who issues the printed schedules (unset keys: the renderer's documented defaults)."""

    parent_body: str | None = checked(None)  # e.g. "UBND XÃ MƯỜNG TÈ" after the 2025 reform
    issuing_body: str | None = checked(None)
    organisation: str | None = checked(None)
    place: str | None = checked(None)
    number_prefix: str | None = checked(None)  # "Số: …/LPV-TTVHTTTT"
    signer_title: str | None = checked(None)
    signer_name: str | None = checked(None)
    signer_prefix: str | None = checked(None)
    units: str = checked("pre2025", one_of(("pre2025", "2025")))  # group schedules by pre- or post-2025 communes
    date: dt.date | None = checked(None)  # date of issue (default: today)
    number: str | None = checked(None)

    def issuer(self) -> dict:
        """The keys that are set, for the renderer."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Pin:
    """``[[pins]]``: a village's visit fixed to a date (and optionally a time, kept within ±15 min)."""

    village: str = checked("", rule(lambda v: bool(v), "must name a village id"))
    date: dt.date = checked(dt.date(2000, 1, 1))
    time: str | None = checked(None, HHMM)


@dataclass(frozen=True)
class FuelConfig:
    """Fuel use of one vehicle profile."""

    litres_per_100km: float = checked(0.0, NON_NEGATIVE)


@dataclass(frozen=True)
class CostsSection:
    """``[costs]``: what a plan costs, in Vietnamese đồng (VND). Defaults: see the README's sources."""

    fuel_price_vnd_per_l: float = checked(20_000.0, NON_NEGATIVE)
    fuel: dict[str, FuelConfig] = field(
        default_factory=lambda: {"van": FuelConfig(12.0), "motorbike": FuelConfig(2.5), "walk": FuelConfig(0.0)}
    )
    per_diem_vnd_per_day: float = checked(200_000.0, NON_NEGATIVE)  # phụ cấp lưu trú, per crew member per day away
    lodging_vnd_per_night: float = checked(300_000.0, NON_NEGATIVE)  # per crew member per night away
    overtime_vnd_per_h: float = checked(0.0, NON_NEGATIVE)  # per crew member per hour past 8 h of work a day
    crew_size: int = checked(2, POSITIVE)  # driver and librarian
    budget_cap_vnd_per_cycle: float = checked(0.0, NON_NEGATIVE)  # 0 = no cap


@dataclass(frozen=True)
class VehicleConfig:
    """``[[vehicles]]``: one vehicle of the fleet and its crew's working day."""

    id: str = checked("van1", rule(lambda v: bool(v), "must not be empty"))
    profile: str = checked("van")
    capacity_books: int = checked(1500, POSITIVE)
    depot: str = checked("DEPOT")
    overnight_kinds: tuple[str, ...] = checked(("depot", "culture_centre", "border_post"), each_of(OVERNIGHT_KINDS))
    max_driving_h_per_day: float = checked(8.0, POSITIVE)
    #: Working hours by weekday, e.g. "Mon-Fri 07:00-17:00; Sat 07:00-11:00" or "Mon-Fri 16:30-19:30";
    #: None: the [service] shift on the [plan] working days.
    hours: str | None = checked(
        None, rule(lambda v: _hours_ok(v), "must be '[Days] HH:MM-HH:MM; ...' with at most one interval per weekday")
    )


@dataclass(frozen=True)
class SeasonSpeeds:
    """Speed per road class in km/h; 0 = may not use."""

    national: float = checked(0.0, NON_NEGATIVE)
    provincial: float = checked(0.0, NON_NEGATIVE)
    commune: float = checked(0.0, NON_NEGATIVE)
    track: float = checked(0.0, NON_NEGATIVE)


@dataclass(frozen=True)
class ProfileConfig:
    """``[profiles.NAME]``: how a kind of vehicle (or a walker) moves."""

    offroad_kph: float = checked(4.0, POSITIVE)
    max_connector_m: float = checked(1500.0, NON_NEGATIVE)
    dry: SeasonSpeeds = checked(SeasonSpeeds())
    rainy: SeasonSpeeds = checked(SeasonSpeeds())


DEFAULT_PROFILES = {
    # a van keeps off tracks (speed 0 = may not use)
    "van": ProfileConfig(4, 1500, SeasonSpeeds(40, 30, 20, 0), SeasonSpeeds(35, 25, 15, 0)),
    "motorbike": ProfileConfig(4, 3000, SeasonSpeeds(40, 35, 25, 15), SeasonSpeeds(35, 30, 20, 10)),
    "walk": ProfileConfig(3, 3000, SeasonSpeeds(4, 4, 4, 3.5), SeasonSpeeds(4, 4, 3.5, 3)),
}


@dataclass(frozen=True)
class Profile:
    """How one kind of vehicle (or a walker) moves on the roads in one season."""

    name: str
    speeds_kph: dict  # road_class -> kph; a class missing or at 0 may not be used
    offroad_kph: float = 4.0
    max_connector_m: float = 1500.0
    closed_segments: bool = True  # honour the roads' ``rainy_closed`` flag (set for rainy season)

    def speed(self, road_class: str) -> float:
        return float(self.speeds_kph.get(road_class, 0.0) or 0.0)


SECTIONS: dict[str, type] = {
    "plan": PlanSection,
    "service": ServiceSection,
    "frequency": FrequencySection,
    "fixed_points": FixedPointsSection,
    "objective": ObjectiveSection,
    "document": DocumentSection,
}


@dataclass(frozen=True)
class Config:
    """Validated parameters of one planning run (read-only); build with :func:`load_config`."""

    plan: PlanSection = field(default_factory=PlanSection)
    service: ServiceSection = field(default_factory=ServiceSection)
    frequency: FrequencySection = field(default_factory=FrequencySection)
    fixed_points: FixedPointsSection = field(default_factory=FixedPointsSection)
    objective: ObjectiveSection = field(default_factory=ObjectiveSection)
    document: DocumentSection = field(default_factory=DocumentSection)
    costs: CostsSection = field(default_factory=CostsSection)
    pins: tuple[Pin, ...] = ()
    vehicles: tuple[VehicleConfig, ...] = (VehicleConfig(),)
    profiles: dict[str, ProfileConfig] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    source: str = field(default="defaults", compare=False)

    @property
    def season(self) -> str:
        return self.plan.season

    @property
    def start_date(self) -> dt.date:
        if self.plan.start_date:
            return self.plan.start_date
        today = dt.date.today()
        return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)

    @property
    def end_date(self) -> dt.date:
        """Last day of the cycle (inclusive)."""
        return self.start_date + dt.timedelta(days=7 * self.plan.weeks - 1)

    def holidays(self) -> dict[dt.date, str]:
        """Dates of the cycle with no service and why: public holidays (if on) and the local list."""
        out: dict[dt.date, str] = {}
        if self.plan.public_holidays:
            years = range(self.start_date.year, self.end_date.year + 1)
            for d, name in vn_holidays(tuple(years)):
                if self.start_date <= d <= self.end_date:
                    out[d] = str(name)
        for d in self.plan.holidays:
            out.setdefault(d, "ngày nghỉ của địa phương")
        return out

    def vehicle_hours(self, vehicle: VehicleConfig, date: dt.date) -> tuple[int, int] | None:
        """The vehicle's working hours on ``date`` (minutes after midnight), or None when it does not work.

        Holidays are not working days for anyone; see :meth:`working_dates`.
        """
        if vehicle.hours:
            wins = windows_on(parse_time_windows(vehicle.hours), date.weekday())
            return wins[0] if wins else None
        if WEEKDAYS[date.weekday()] in self.plan.working_days:
            return self.service.minutes("shift_start"), self.service.minutes("shift_end")
        return None

    def working_dates(self) -> list[dt.date]:
        """Dates of the cycle, holidays excepted, on which at least one vehicle works."""
        holidays = self.holidays()
        out = []
        for k in range(7 * self.plan.weeks):
            d = self.start_date + dt.timedelta(days=k)
            if d not in holidays and any(self.vehicle_hours(v, d) for v in self.vehicles):
                out.append(d)
        return out

    def profile(self, name: str) -> Profile:
        p = self.profiles[name]
        speeds = getattr(p, self.season)
        return Profile(
            name=f"{name}-{self.season}",
            speeds_kph=dataclasses.asdict(speeds),
            offroad_kph=float(p.offroad_kph),
            max_connector_m=float(p.max_connector_m),
            # walkers use paths closed to vehicles in the rainy season
            closed_segments=self.season == "rainy" and name != WALK_PROFILE,
        )

    def minutes(self, key: str) -> int:
        """A ``[service]`` time of day in minutes after midnight."""
        return self.service.minutes(key)

    def to_dict(self) -> dict:
        """Plain TOML-shaped data (dates as ISO strings); ``make_config(c.to_dict())`` gives ``c`` back."""
        return _plain(
            {
                **{name: getattr(self, name) for name in SECTIONS},
                "costs": self.costs,
                "pins": self.pins,
                "vehicles": self.vehicles,
                "profiles": self.profiles,
            }
        )

    def replace(self, **sections) -> Config:
        """A new config with sections overridden (dicts are merged key by key; lists replace)."""
        return make_config(_merge(self.to_dict(), sections), self.source)


# --------------------------------------------------------------------------- building


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


class _Builder:
    """Turns TOML-shaped data into the frozen sections, collecting every problem."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def bad(self, where: str, key: str, value: object, message: str) -> None:
        self.problems.append(Problem(self.source, where, key, value, message))

    def build(self, cls: type, data: object, where: str):
        if not isinstance(data, dict):
            self.bad(where, "-", data, "must be a table of keys")
            return cls()
        names = {f.name: f for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        for key in data:
            if key not in names:
                near = difflib.get_close_matches(str(key), list(names), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                self.bad(where, str(key), data[key], f"unknown key{hint}; known keys: {', '.join(names)}")
        kwargs = {}
        for name, f in names.items():
            if name not in data:
                continue
            ok, value = self.convert(hints[name], data[name], where, name)
            if not ok:
                continue
            for pred, message in f.metadata.get("rules", ()):
                try:
                    good = value is None or pred(value)
                except (TypeError, ValueError):
                    good = False
                if not good:
                    self.bad(where, name, data[name], message)
                    break
            else:
                kwargs[name] = value
        return cls(**kwargs)

    def convert(self, hint, value, where: str, key: str) -> tuple[bool, object]:
        """(ok, converted value) for a value against a type hint; records a problem if not ok."""
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return True, None
            inner = [a for a in args if a is not type(None)]
            return self.convert(inner[0], value, where, key)
        if origin is tuple:
            if not isinstance(value, (list, tuple)):
                self.bad(where, key, value, "must be a list")
                return False, None
            out = []
            for k, item in enumerate(value):
                ok, conv = self.convert(args[0], item, where, f"{key}[{k}]")
                if not ok:
                    return False, None
                out.append(conv)
            return True, tuple(out)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            if isinstance(value, hint):
                return True, value
            n = len(self.problems)
            built = self.build(hint, value, f"{where}.{key}" if where else key)
            return len(self.problems) == n, built
        if hint is bool:
            if isinstance(value, bool):
                return True, value
            self.bad(where, key, value, "must be true or false")
            return False, None
        if hint is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True, value
            if isinstance(value, float) and value.is_integer():
                return True, int(value)
            self.bad(where, key, value, "must be a whole number")
            return False, None
        if hint is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True, float(value)
            self.bad(where, key, value, "must be a number")
            return False, None
        if hint is str:
            if isinstance(value, str):
                return True, value
            self.bad(where, key, value, "must be text")
            return False, None
        if hint is dt.date:
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                return True, value
            try:
                return True, dt.date.fromisoformat(str(value))
            except ValueError:
                self.bad(where, key, value, "must be an ISO date YYYY-MM-DD")
                return False, None
        raise TypeError(f"no conversion for {hint}")  # a programming error, not bad input


def make_config(raw: dict, source: str = "config") -> Config:
    """Build and validate a :class:`Config` from TOML-shaped data (every problem listed at once)."""
    b = _Builder(source)
    if not isinstance(raw, dict):
        raise InputError([Problem(source, "-", "-", raw, "configuration must be a table")])
    known = {*SECTIONS, "costs", "pins", "vehicles", "profiles"}
    for key in raw:
        if key not in known:
            near = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            b.bad("-", str(key), raw[key], f"unknown section{hint}; known sections: {', '.join(sorted(known))}")
    sections = {name: b.build(cls, raw.get(name, {}), f"[{name}]") for name, cls in SECTIONS.items()}

    costs = build_costs(b, raw.get("costs", {}))
    profiles = dict(DEFAULT_PROFILES)
    raw_profiles = raw.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        b.bad("[profiles]", "-", raw_profiles, "must be a table of profiles")
        raw_profiles = {}
    for name, p in raw_profiles.items():
        base = _plain(profiles.get(name, ProfileConfig()))
        profiles[name] = b.build(ProfileConfig, _merge(base, p) if isinstance(p, dict) else p, f"[profiles.{name}]")

    raw_vehicles = raw.get("vehicles", [_plain(VehicleConfig())])
    vehicles: list[VehicleConfig] = []
    if not isinstance(raw_vehicles, list) or not raw_vehicles:
        b.bad("[[vehicles]]", "vehicles", raw_vehicles, "at least one vehicle is required")
    else:
        for k, v in enumerate(raw_vehicles):
            where = f"[[vehicles]] #{k + 1}" + (f" id={v.get('id')}" if isinstance(v, dict) and v.get("id") else "")
            veh = b.build(VehicleConfig, v, where)
            if veh.profile not in profiles:
                b.bad(where, "profile", veh.profile, f"must be one of {', '.join(sorted(profiles))}")
            vehicles.append(veh)
        ids = [v.id for v in vehicles]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            b.bad("[[vehicles]]", "id", dup, "vehicle ids must be unique")

    raw_pins = raw.get("pins", [])
    pins: list[Pin] = []
    if not isinstance(raw_pins, list):
        b.bad("[[pins]]", "pins", raw_pins, "must be a list of {village, date, time}")
    else:
        for k, pin in enumerate(raw_pins):
            where = f"[[pins]] #{k + 1}"
            if isinstance(pin, dict) and "date" not in pin:
                b.bad(where, "date", None, "a pin needs a date")
            pins.append(b.build(Pin, pin, where))
    cfg = Config(**sections, costs=costs, pins=tuple(pins), vehicles=tuple(vehicles), profiles=profiles, source=source)
    _cross_checks(cfg, b)
    if b.problems:
        raise InputError(b.problems)
    return cfg


def build_costs(b: _Builder, data: object) -> CostsSection:
    """``[costs]`` with its ``[costs.fuel.PROFILE]`` tables merged over the defaults."""
    if not isinstance(data, dict):
        b.bad("[costs]", "-", data, "must be a table of keys")
        return CostsSection()
    fuel = dict(CostsSection().fuel)
    raw_fuel = data.get("fuel", {})
    if not isinstance(raw_fuel, dict):
        b.bad("[costs]", "fuel", raw_fuel, "must be a table of profiles")
        raw_fuel = {}
    for name, f in raw_fuel.items():
        fuel[name] = b.build(FuelConfig, f, f"[costs.fuel.{name}]")
    plain = b.build(CostsSection, {k: v for k, v in data.items() if k != "fuel"}, "[costs]")
    return dataclasses.replace(plain, fuel=fuel)


def _cross_checks(cfg: Config, b: _Builder) -> None:
    """Rules between keys; run on whatever could be built, so they are listed with the rest."""
    s = cfg.service
    if _hhmm_ok(s.shift_start) and _hhmm_ok(s.shift_end) and s.minutes("shift_end") <= s.minutes("shift_start"):
        b.bad("[service]", "shift_end", s.shift_end, f"must be after shift_start ({s.shift_start})")
    if all(_hhmm_ok(x) for x in (s.lunch_earliest, s.lunch_latest_end)) and (
        s.minutes("lunch_latest_end") - s.minutes("lunch_earliest") < s.lunch_min
    ):
        b.bad("[service]", "lunch_latest_end", s.lunch_latest_end, f"leaves less than lunch_min ({s.lunch_min} min)")
    for v in cfg.vehicles:
        if v.profile in cfg.profiles and v.profile not in cfg.costs.fuel:
            b.bad(
                "[costs.fuel]", v.profile, None, f"vehicle {v.id} uses profile {v.profile}: give its litres_per_100km"
            )
    for k, pin in enumerate(cfg.pins):
        if pin.date.year > 1 and not cfg.start_date <= pin.date <= cfg.end_date:
            b.bad(
                f"[[pins]] #{k + 1}",
                "date",
                pin.date.isoformat(),
                f"must fall in the cycle {cfg.start_date}..{cfg.end_date}",
            )
    if s.books_max < s.books_min:
        b.bad("[service]", "books_max", s.books_max, f"must be >= books_min ({s.books_min})")


def read_toml(path: Path) -> dict:
    """Read a TOML file, following ``base = "other.toml"`` chains."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError([Problem(str(path), "file", "-", None, "file not found")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(str(path), "file", "-", None, f"not valid TOML: {exc}")]) from exc
    base = data.pop("base", None)
    if base:
        data = _merge(read_toml(path.parent / base), data)
    return data


def load_config(path: Path | None = None, overrides: dict | None = None) -> Config:
    """Planning parameters from the defaults, a TOML file and overrides, validated.

    Parameters
    ----------
    path : path, optional
        TOML file; it may name a ``base`` file whose values it overrides.
    overrides : dict, optional
        Sections and keys that win over the file (e.g. from the command line).

    Returns
    -------
    Config
        Typed, frozen sections.

    Raises
    ------
    InputError
        Listing every unknown key and bad value at once, each naming file, section, key,
        value and rule.
    """
    raw: dict = {}
    source = "defaults"
    if path is not None:
        raw = read_toml(path)
        source = str(path)
    if overrides:
        raw = _merge(raw, overrides)
    return make_config(raw, source)
