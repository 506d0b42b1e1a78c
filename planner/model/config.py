"""Planning parameters: defaults that fit Mường Tè, overridable from TOML and the CLI.

A TOML file may set any of the sections below; scenario files may name a ``base``
file whose values they override (``base = "baseline.toml"``, relative to the file).

Units are in the names: ``_min`` minutes, ``_h`` hours, ``_kph``, ``_m`` metres.
Times of day are ``"HH:MM"`` strings.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

from planner.model.errors import InputError, Problem

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

DEFAULTS: dict = {
    "plan": {
        "start_date": None,  # ISO date; default: the next Monday
        "weeks": 4,
        "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "holidays": [],  # ISO dates with no service
        "season": "dry",  # "dry" or "rainy"
        "time_limit_s": 150,  # safety cap; the work budget normally stops the search first
        "max_iterations": 1000000,  # work budget: search steps (a reproducible stop, unlike wall time)
        "first_solution": "parallel_cheapest_insertion",
        "seed": 0,
        "fixed_points": False,  # use the directive's fixed library points
        "walk_limit_m": 2000,  # people walk up to this far (along paths) to a van stop; 0 = no walking
    },
    "service": {
        "shift_start": "07:00",
        "shift_end": "17:00",
        "lunch_earliest": "11:00",
        "lunch_latest_end": "13:30",
        "lunch_min": 60,
        "village_service_min": 90,
        "site_service_min": 30,
        "books_per_person": 0.1,  # books handed out per visit, per inhabitant
        "books_min": 20,
        "books_max": 150,
        "penalty_per_person": 100000,  # objective units (seconds of driving) lost per person not served
        "night_away_cost": 3600,  # objective units per night away from the depot
    },
    "frequency": {
        # Van visits a village needs, stated per 4 weeks and scaled to the cycle's length
        # (at least 1). A village's own `visits_per_cycle` field wins over these rules.
        "default_visits_per_4_weeks": 1,
        # the first rule whose thresholds a village meets applies
        "rules": [{"min_population": 600, "visits_per_4_weeks": 2}],
        # minimum days between two visits; 0 = automatic: 60 % of the even spacing
        "min_spacing_days": 0,
        # restocking visits per cycle for an active fixed library point
        "fixed_point_visits": 1,
    },
    "fixed_points": {
        "box_books": 100,  # books swapped at each restocking visit
    },
    "vehicles": [
        {
            "id": "van1",
            "profile": "van",
            "capacity_books": 1500,
            "depot": "DEPOT",
            "overnight_kinds": ["depot", "culture_centre", "border_post"],
            "max_driving_h_per_day": 8,
        }
    ],
    "profiles": {
        "van": {
            "offroad_kph": 4,
            "max_connector_m": 1500,
            # a van keeps off tracks (speed 0 = may not use)
            "dry": {"national": 40, "provincial": 30, "commune": 20, "track": 0},
            "rainy": {"national": 35, "provincial": 25, "commune": 15, "track": 0},
        },
        "motorbike": {
            "offroad_kph": 4,
            "max_connector_m": 3000,
            "dry": {"national": 40, "provincial": 35, "commune": 25, "track": 15},
            "rainy": {"national": 35, "provincial": 30, "commune": 20, "track": 10},
        },
        "walk": {
            "offroad_kph": 3,
            "max_connector_m": 3000,
            "dry": {"national": 4, "provincial": 4, "commune": 4, "track": 3.5},
            "rainy": {"national": 4, "provincial": 4, "commune": 3.5, "track": 3},
        },
    },
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


@dataclass(frozen=True)
class VehicleConfig:
    id: str
    profile: str
    capacity_books: int
    depot: str
    overnight_kinds: tuple[str, ...]
    max_driving_h_per_day: float


@dataclass(frozen=True)
class Config:
    """Validated parameters of one planning run (read-only)."""

    raw: dict

    @property
    def plan(self) -> dict:
        return self.raw["plan"]

    @property
    def service(self) -> dict:
        return self.raw["service"]

    @property
    def season(self) -> str:
        return self.plan["season"]

    @property
    def start_date(self) -> dt.date:
        s = self.plan["start_date"]
        if s:
            return dt.date.fromisoformat(str(s))
        today = dt.date.today()
        return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)

    def working_dates(self) -> list[dt.date]:
        days = set(self.plan["working_days"])
        holidays = {dt.date.fromisoformat(str(h)) for h in self.plan["holidays"]}
        start = self.start_date
        out = []
        for k in range(7 * int(self.plan["weeks"])):
            d = start + dt.timedelta(days=k)
            if WEEKDAYS[d.weekday()] in days and d not in holidays:
                out.append(d)
        return out

    def vehicles(self) -> list[VehicleConfig]:
        return [
            VehicleConfig(
                id=str(v["id"]),
                profile=str(v.get("profile", "van")),
                capacity_books=int(v.get("capacity_books", 1500)),
                depot=str(v.get("depot", "DEPOT")),
                overnight_kinds=tuple(v.get("overnight_kinds", ["depot"])),
                max_driving_h_per_day=float(v.get("max_driving_h_per_day", 24)),
            )
            for v in self.raw["vehicles"]
        ]

    def profile(self, name: str) -> Profile:
        p = self.raw["profiles"][name]
        season = self.season
        return Profile(
            name=f"{name}-{season}",
            speeds_kph=dict(p[season]),
            offroad_kph=float(p.get("offroad_kph", 4)),
            max_connector_m=float(p.get("max_connector_m", 1500)),
            closed_segments=season == "rainy",
        )

    def minutes(self, key: str) -> int:
        h, m = str(self.service[key]).split(":")
        return int(h) * 60 + int(m)

    def replace(self, **sections) -> Config:
        raw = copy.deepcopy(self.raw)
        for k, v in sections.items():
            if isinstance(v, dict) and isinstance(raw.get(k), dict):
                raw[k].update(v)
            else:
                raw[k] = v
        return make_config(raw)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


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
    raw = copy.deepcopy(DEFAULTS)
    source = "defaults"
    if path is not None:
        raw = _merge(raw, read_toml(path))
        source = str(path)
    if overrides:
        raw = _merge(raw, overrides)
    return make_config(raw, source)


def make_config(raw: dict, source: str = "config") -> Config:
    problems: list[Problem] = []

    def bad(section, field, value, rule):
        problems.append(Problem(source, f"[{section}]", field, value, rule))

    plan, service = raw["plan"], raw["service"]
    if plan.get("start_date"):
        try:
            dt.date.fromisoformat(str(plan["start_date"]))
        except ValueError:
            bad("plan", "start_date", plan["start_date"], "must be an ISO date YYYY-MM-DD")
    if not (isinstance(plan.get("weeks"), int) and 1 <= plan["weeks"] <= 8):
        bad("plan", "weeks", plan.get("weeks"), "must be an integer from 1 to 8")
    for d in plan.get("working_days", []):
        if d not in WEEKDAYS:
            bad("plan", "working_days", d, f"must be one of {', '.join(WEEKDAYS)}")
    for h in plan.get("holidays", []):
        try:
            dt.date.fromisoformat(str(h))
        except ValueError:
            bad("plan", "holidays", h, "must be ISO dates YYYY-MM-DD")
    if plan.get("season") not in ("dry", "rainy"):
        bad("plan", "season", plan.get("season"), "must be 'dry' or 'rainy'")
    if not (isinstance(plan.get("time_limit_s"), (int, float)) and plan["time_limit_s"] > 0):
        bad("plan", "time_limit_s", plan.get("time_limit_s"), "must be a positive number of seconds")
    if not (isinstance(plan.get("seed"), int) and plan["seed"] >= 0):
        bad("plan", "seed", plan.get("seed"), "must be a non-negative integer")
    if not (isinstance(plan.get("walk_limit_m"), (int, float)) and plan["walk_limit_m"] >= 0):
        bad("plan", "walk_limit_m", plan.get("walk_limit_m"), "must be a number of metres >= 0")
    for key in ("shift_start", "shift_end", "lunch_earliest", "lunch_latest_end"):
        v = str(service.get(key, ""))
        parts = v.split(":")
        if (
            len(parts) != 2
            or not all(p.isdigit() for p in parts)
            or not (0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60)
        ):
            bad("service", key, service.get(key), "must be a time HH:MM")
    for key in ("lunch_min", "village_service_min", "site_service_min", "books_min", "books_max"):
        if not (isinstance(service.get(key), (int, float)) and service[key] >= 0):
            bad("service", key, service.get(key), "must be a number >= 0")
    if not raw.get("vehicles"):
        bad("vehicles", "vehicles", raw.get("vehicles"), "at least one vehicle is required")
    ids = [str(v.get("id")) for v in raw.get("vehicles", [])]
    for v in raw.get("vehicles", []):
        if v.get("profile", "van") not in raw["profiles"]:
            bad("vehicles", f"id={v.get('id')}: profile", v.get("profile"), f"must be one of {sorted(raw['profiles'])}")
        if not (isinstance(v.get("capacity_books", 1), int) and v.get("capacity_books", 1) > 0):
            bad("vehicles", f"id={v.get('id')}: capacity_books", v.get("capacity_books"), "must be a positive integer")
    if len(set(ids)) != len(ids):
        bad("vehicles", "id", ids, "vehicle ids must be unique")
    for name, p in raw["profiles"].items():
        for season in ("dry", "rainy"):
            for cls, kph in p.get(season, {}).items():
                if not (isinstance(kph, (int, float)) and kph >= 0):
                    bad("profiles", f"{name}.{season}.{cls}", kph, "speed must be a number of km/h >= 0")
    if problems:
        raise InputError(problems)
    if not problems:
        cfg = Config(raw)
        if cfg.minutes("shift_end") <= cfg.minutes("shift_start"):
            raise InputError(
                [Problem(source, "[service]", "shift_end", service["shift_end"], "must be after shift_start")]
            )
        return cfg
