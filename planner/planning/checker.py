"""An independent referee: ``violations(plan, problem) -> list[str]`` (empty when the plan is sound).

The referee reads the plan's stop events (which vehicle is where, when, with what kind of
stop) and recomputes every figure the plan states from the input data (villages, sites),
the configuration and the travel matrices: books, people served, walkers, legs, service
times, shifts, windows, lunch, driving, capacity, nights, channels, visits, restocks, the
reasons given for unserved villages, the first week of villages carried over from the last
cycle, and the summary. It shares no code with the solver
(``solve``, ``covering``, ``engine``), only the plain data types and the model's rules, so a
solver bug cannot hide itself.

Every message starts with a rule tag from :data:`RULES` in brackets, then where, then
what: ``[books] van1 2026-11-30 #3 V12: 40 books, expected 35``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from planner.model.calendar import windows_on
from planner.model.matrices import UNREACHABLE, Matrices
from planner.model.plan import CHANNELS, LATE_REASONS, STOP_KINDS, UNSERVED_REASONS, Day, Plan, Stop
from planner.model.problem import SCHOOL_KIND, Problem, SiteRow, VillageRow, min_spacing_days, visits_required

#: The rule tags, one per kind of broken rule.
RULES = (
    "day",  # day structure: vehicle, date, week, sequence, kinds, legs, ids, places, times in order
    "books",  # books per stop, recomputed from the people served
    "served",  # villages, people and children served at a stop
    "walk",  # walkers: within the walk limit, listed as the villages served besides the stop
    "travel",  # every leg's time and distance against the matrix; time to drive it
    "service",  # how long a visit takes
    "shift",  # every event inside the vehicle's shift
    "window",  # a village visit inside the village's own time window
    "school",  # a school session at an active school, on a date inside its term, inside its hours
    "lunch",  # one lunch a working day with stops, in the lunch window, long enough
    "driving",  # daily driving limit
    "capacity",  # books handed out between two depot reloads
    "lodging",  # nights only at allowed lodgings; a night at the depot is an end
    "chain",  # a day starts where the crew slept; every trip comes home within its week
    "channel",  # the channel and service record of every village, from the stops
    "visits",  # visits per village and per stop against what is required
    "spacing",  # least days between two visits of one stop
    "restock",  # restocks only at active fixed points; a fixed-point village's point restocked enough
    "unserved",  # the unserved list and the truth of every reason
    "carry_over",  # a carried-over village's first visit in the first week, or a true reason it is later
    "summary",  # plan totals, recomputed from the stop events and the input data
)

#: Times are compared to the minute; a plan read back from JSON has whole minutes.
TOL_MIN = 1.5
#: Travel minutes are rounded to 0.1 min per part; a roadside lunch makes two parts.
TRAVEL_TOL_MIN = 0.2
#: Travel kilometres are rounded to 0.01 km per part.
DIST_TOL_KM = 0.02
#: Walking distances are whole metres.
WALK_TOL_M = 1.0
#: Spacing is measured between visit times, less half a day: Monday 14:00 and Thursday 08:00 are three days apart.
SPACING_SLACK_DAYS = 0.5
#: Stop coordinates are rounded to 6 decimals.
COORD_TOL_DEG = 1e-5
#: Summary figures are rounded to 0.1 km and 0.01 h.
SUMMARY_KM_ROUND = 0.05
SUMMARY_H_ROUND = 0.005
PER_LEG_KM_ROUND = 0.005
PER_LEG_MIN_ROUND = 0.05
PCT_ROUND = 0.05
MIN_PER_H = 60
S_PER_MIN = 60
S_PER_DAY = 86400
M_PER_KM = 1000

VISIT_KINDS = ("village", "site")
NIGHT_KINDS = ("end", "overnight")


def violations(plan: Plan, problem: Problem) -> list[str]:
    """Every rule the plan breaks, recomputed from the stop events, the input data and the matrices.

    The checker trusts no figure of the plan: it shares no code with the solver beyond the
    plain data types, and no check compares a number with itself.

    Parameters
    ----------
    plan : Plan
        The plan to referee.
    problem : Problem
        The rules, data and matrices it was made for.

    Returns
    -------
    list of str
        One line per broken rule, ``"[rule] where: what"`` with ``rule`` one of :data:`RULES`;
        empty when the plan is valid.
    """
    ref = Referee(problem)
    ref.check_days(plan)
    ref.check_vehicles(plan)
    truth = ref.village_truth(plan)
    ref.check_stops_per_place(plan)
    ref.check_village_records(plan, truth)
    ref.check_unserved(plan, truth)
    ref.check_carry_over(plan, truth)
    ref.check_summary(plan, truth)
    return ref.out


def minutes(t: dt.datetime) -> float:
    """Minutes after midnight of a time of day."""
    return t.hour * MIN_PER_H + t.minute + t.second / S_PER_MIN


def expected_books(population: int, problem: Problem) -> int:
    """Books handed out at a village stop: ``books_per_person`` × people, within ``books_min..books_max``."""
    s = problem.config.service
    return int(min(s.books_max, max(s.books_min, round(population * s.books_per_person))))


def hhmm(minute: int) -> str:
    """``810`` -> ``"13:30"``."""
    return f"{minute // MIN_PER_H:02d}:{minute % MIN_PER_H:02d}"


def where(day: Day, stop: Stop | None = None) -> str:
    """``van1 2026-11-30`` or ``van1 2026-11-30 #3 V12``."""
    if stop is None:
        return f"{day.vehicle} {day.date}"
    return f"{day.vehicle} {day.date} #{stop.seq} {stop.stop_id or '(roadside)'}"


@dataclass
class Truth:
    """What the stops say about one village, recomputed."""

    channel: str
    visits: int
    required: int
    dates: tuple[str, ...]
    served_by: tuple[str, ...]
    covering: tuple[str, ...] = ()  # active fixed points whose radius covers it
    qualifying: tuple[str, ...] = ()  # of those, the ones restocked often enough


@dataclass
class Leg:
    """A drive between two known places, possibly split by a roadside lunch."""

    origin: str
    stop: Stop  # the event at the destination
    plan_min: float  # travel minutes the plan states (all parts)
    plan_km: float
    time_s: int  # from the matrix
    dist_m: int


@dataclass
class Referee:
    """Collects the broken rules of one plan; each ``check_*`` method looks at one part."""

    problem: Problem
    out: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        p = self.problem
        self.cfg = p.config
        self.villages = {v.id: v for v in p.villages}
        self.sites = {s.id: s for s in p.sites}
        self.vehicles = {v.id: v for v in p.vehicles}
        self.working = set(p.dates)
        self.week_of = {d: k + 1 for k, week in enumerate(p.weeks) for d in week}
        self.legs: dict[tuple[str, dt.date], list[Leg]] = {}
        self.required = self.rule_visits()

    def say(self, rule: str, at: str, what: str) -> None:
        assert rule in RULES, rule
        self.out.append(f"[{rule}] {at}: {what}")

    def rule_visits(self) -> dict[str, int]:
        """Van visits each village needs, by the frequency rules on its input row."""
        rows = {}
        frame = self.problem.area.villages if self.problem.area is not None else None
        if frame is not None and "id" in frame:
            rows = {str(r["id"]): r for _, r in frame.iterrows()}
        return {
            v.id: visits_required(rows[v.id], self.cfg) if v.id in rows else v.visits_required
            for v in self.problem.villages
        }

    def matrix(self, vehicle_id: str, date: dt.date | None = None) -> Matrices:
        return self.problem.matrix_for(self.vehicles[vehicle_id], date)

    # ------------------------------------------------------------------ one day

    def check_days(self, plan: Plan) -> None:
        seen: Counter = Counter((d.vehicle, d.date) for d in plan.days)
        for (vid, date), n in seen.items():
            if n > 1:
                self.say("day", f"{vid} {date}", f"{n} days for one vehicle and date")
        for day in plan.days:
            if day.vehicle not in self.vehicles:
                self.say("day", where(day), "unknown vehicle")
                continue
            if not self.check_structure(day):
                continue
            self.check_stop_records(day)
            self.check_travel(day)
            self.check_times(day)
            self.check_lunch(day)
            self.check_driving(day)

    def check_structure(self, day: Day) -> bool:
        """The day's frame; False when it is too broken to read further."""
        at = where(day)
        if day.date not in self.working:
            self.say("day", at, "not a working date of the plan")
        elif day.week != self.week_of[day.date]:
            self.say("day", at, f"week {day.week}, the calendar says {self.week_of[day.date]}")
        stops = day.stops
        if not stops:
            self.say("day", at, "a day with no events")
            return False
        if [s.seq for s in stops] != list(range(len(stops))):
            self.say("day", at, "sequence numbers are not 0..n-1")
        if stops[0].kind != "start":
            self.say("day", at, f"begins with {stops[0].kind}, not start")
        if stops[-1].kind not in NIGHT_KINDS:
            self.say("day", at, f"finishes with {stops[-1].kind}, not end or overnight")
        middle = {s.kind for s in stops[1:-1]} - {"village", "site", "lunch"}
        if middle:
            self.say("day", at, f"events of kind {sorted(middle)} inside the day")
        if len(stops) < 2:
            self.say("day", at, "a single event: a day starts and ends")
        if len(day.legs) != len(stops) - 1:
            self.say("day", at, f"{len(day.legs)} legs for {len(stops)} events")
        ok = True
        for s in stops:
            ok &= self.check_event_frame(day, s)
        return ok

    def check_event_frame(self, day: Day, s: Stop) -> bool:
        """Kind, id, place and clock of one event; False if its place is unknown."""
        at = where(day, s)
        if s.kind not in STOP_KINDS:
            self.say("day", at, f"unknown kind {s.kind!r}")
            return False
        if s.arrival.date() != day.date or s.departure.date() != day.date:
            self.say("day", at, f"times {s.arrival:%Y-%m-%d %H:%M}-{s.departure:%Y-%m-%d %H:%M} not on {day.date}")
        if s.departure < s.arrival:
            self.say("day", at, f"departs {s.departure:%H:%M} before it arrives {s.arrival:%H:%M}")
        if s.kind == "lunch" and not s.stop_id:
            return True  # by the road: its place is checked with the leg it splits
        place: VillageRow | SiteRow | None = self.villages.get(s.stop_id) if s.kind == "village" else None
        if s.kind != "village":
            place = self.sites.get(s.stop_id) or (self.villages.get(s.stop_id) if s.kind == "lunch" else None)
        if place is None:
            self.say(
                "day", at, f"{s.kind} at {s.stop_id!r}, which is not a {'village' if s.kind == 'village' else 'site'}"
            )
            return False
        if abs(place.lon - s.lon) > COORD_TOL_DEG or abs(place.lat - s.lat) > COORD_TOL_DEG:
            self.say("day", at, f"at ({s.lon}, {s.lat}), the input puts it at ({place.lon}, {place.lat})")
        return True

    def check_stop_records(self, day: Day) -> None:
        """Books, people, villages and walkers of every event."""
        for s in day.stops:
            at = where(day, s)
            if s.kind == "village":
                self.check_village_stop(at, s)
                continue
            want = self.cfg.fixed_points.box_books if s.kind == "site" else 0
            if s.books != want:
                self.say("books", at, f"{s.books} books, expected {want}")
            if s.population_served or s.children_served or s.villages_served:
                self.say("served", at, f"a {s.kind} serves no village, the plan says {list(s.villages_served)}")
            if s.walkers:
                self.say("walk", at, f"walkers {list(s.walkers)} at a {s.kind}")

    def check_village_stop(self, at: str, s: Stop) -> None:
        served = s.villages_served
        known = [v for v in served if v in self.villages]
        if not served or served[0] != s.stop_id:
            self.say("served", at, f"villages served {list(served)} do not start with the stop's own village")
        if len(known) != len(served) or len(set(served)) != len(served):
            self.say("served", at, f"villages served {list(served)} are not distinct known villages")
        people = sum(self.villages[v].population for v in known)
        children = sum(self.villages[v].children for v in known)
        if s.population_served != people:
            self.say("served", at, f"{s.population_served} people served, the villages have {people}")
        if s.children_served != children:
            self.say("served", at, f"{s.children_served} children served, the villages have {children}")
        books = expected_books(people, self.problem)
        if s.books != books:
            self.say("books", at, f"{s.books} books, expected {books}")
        self.check_walkers(at, s, [v for v in known if v != s.stop_id])

    def check_walkers(self, at: str, s: Stop, others: list[str]) -> None:
        if set(s.walkers) != set(others) or len(s.walkers) != len(set(s.walkers)):
            self.say("walk", at, f"walkers {list(s.walkers)}, but the other villages served are {others}")
        walk = self.problem.walk
        limit = float(self.cfg.plan.walk_limit_m)
        for w in others:
            if walk is None or limit <= 0:
                self.say("walk", at, f"{w} walks, but walking is off")
                continue
            d = walk.dist_m[walk.index(s.stop_id), walk.index(w)]
            if d > limit + WALK_TOL_M:
                self.say("walk", at, f"{w} walks {d:,} m, limit {limit:,.0f} m")

    def day_legs(self, day: Day) -> list[Leg]:
        """The drives of a day between known places (a roadside lunch joins its two parts)."""
        m = self.matrix(day.vehicle, day.date)  # the matrices of its week (dated road closures)
        legs: list[Leg] = []
        here = day.stops[0].stop_id
        t_min = km = 0.0
        for s in day.stops[1:]:
            t_min += s.travel_min
            km += s.travel_km
            if not s.stop_id:
                continue
            a, b = m.index(here), m.index(s.stop_id)
            legs.append(Leg(here, s, t_min, km, int(m.time_s[a, b]), int(m.dist_m[a, b])))
            here, t_min, km = s.stop_id, 0.0, 0.0
        return legs

    def check_travel(self, day: Day) -> None:
        legs = self.legs[(day.vehicle, day.date)] = self.day_legs(day)
        for leg in legs:
            at = where(day, leg.stop)
            if leg.time_s >= UNREACHABLE:
                self.say("travel", at, f"no road from {leg.origin} for {self.matrix(day.vehicle).profile}")
                continue
            if abs(leg.plan_min - leg.time_s / S_PER_MIN) > TRAVEL_TOL_MIN:
                self.say(
                    "travel",
                    at,
                    f"{leg.plan_min:.1f} min from {leg.origin}, the matrix says {leg.time_s / S_PER_MIN:.1f}",
                )
            if abs(leg.plan_km - leg.dist_m / M_PER_KM) > DIST_TOL_KM:
                self.say(
                    "travel", at, f"{leg.plan_km:.2f} km from {leg.origin}, the matrix says {leg.dist_m / M_PER_KM:.2f}"
                )
        for prev, s in zip(day.stops, day.stops[1:]):
            gap = (s.arrival - prev.departure).total_seconds() / S_PER_MIN
            if gap + TOL_MIN < s.travel_min:
                self.say(
                    "travel",
                    where(day, s),
                    f"arrives {s.arrival:%H:%M}, {gap:.0f} min after leaving {prev.departure:%H:%M}, "
                    f"with {s.travel_min:.1f} min to drive",
                )

    def check_times(self, day: Day) -> None:
        """Service durations, the vehicle's shift and the villages' own windows."""
        veh = self.vehicles[day.vehicle]
        hours = self.cfg.vehicle_hours(veh, day.date)
        start, end = hours if hours else (0, 0)  # a day the vehicle does not work: every stop is outside
        for s in day.stops:
            at = where(day, s)
            a, b = minutes(s.arrival), minutes(s.departure)
            if a < start - TOL_MIN or b > end + TOL_MIN:
                self.say("shift", at, f"{s.arrival:%H:%M}-{s.departure:%H:%M} outside the shift of {veh.id}")
            need = self.service_min(s)
            if need is not None and abs((b - a) - need) > TOL_MIN:
                self.say("service", at, f"a {s.kind} visit of {b - a:.0f} min, the service takes {need} min")
            if s.kind == "village":
                self.check_window(at, s, a, b)
                self.check_market(at, s)
            if self.is_school_session(s):
                self.check_school(at, s, a, b)

    def is_school_session(self, s: Stop) -> bool:
        """A site visit at a school is a reading session."""
        return s.kind == "site" and s.stop_id in self.sites and self.sites[s.stop_id].kind == SCHOOL_KIND

    def service_min(self, s: Stop) -> int | None:
        """Minutes a visit takes by the rules (None for other events)."""
        svc = self.cfg.service
        if s.kind == "village":
            return svc.village_service_min
        if s.kind == "site":
            return svc.school_session_min if self.is_school_session(s) else svc.site_service_min
        return None

    def check_school(self, at: str, s: Stop, a: float, b: float) -> None:
        """A school session on a date inside the school's term, inside its hours that day."""
        school = self.sites[s.stop_id]
        date = s.arrival.date()
        if school.term and not any(lo <= date <= hi for lo, hi in school.term):
            terms = ", ".join(f"{lo}..{hi}" for lo, hi in school.term)
            self.say("school", at, f"a session on {date}, outside the school's term ({terms})")
        if school.hours:
            hours = windows_on(school.hours, date.weekday())
            if not any(lo - TOL_MIN <= a and b <= hi + TOL_MIN for lo, hi in hours):
                shown = ", ".join(f"{hhmm(lo)}-{hhmm(hi)}" for lo, hi in hours)
                self.say(
                    "school",
                    at,
                    f"a session {s.arrival:%H:%M}-{s.departure:%H:%M}, the school's hours on {date:%a}: "
                    f"{shown or 'none'}",
                )

    def check_market(self, at: str, s: Stop) -> None:
        """A village whose visits must fall on its market day (chợ phiên) is visited on one."""
        v = self.problem.village(s.stop_id)
        required = v.market_required or self.cfg.objective.market_day == "required"
        if v.market is not None and required and self.cfg.objective.market_day != "ignored":
            if not v.market.on(s.arrival.date()):
                self.say("window", at, f"visit on {s.arrival:%Y-%m-%d}, not one of the village's market days")

    def check_window(self, at: str, s: Stop, a: float, b: float) -> None:
        windows = self.problem.village_windows(s.stop_id, s.arrival.date())
        if windows is None:
            return
        if not any(lo - TOL_MIN <= a and b <= hi + TOL_MIN for lo, hi in windows):
            shown = ", ".join(f"{hhmm(lo)}-{hhmm(hi)}" for lo, hi in windows)
            self.say(
                "window", at, f"visit {s.arrival:%H:%M}-{s.departure:%H:%M}, the village's windows: {shown or 'none'}"
            )

    def check_lunch(self, day: Day) -> None:
        svc = self.cfg.service
        lunches = [s for s in day.stops if s.kind == "lunch"]
        visits = any(s.kind in VISIT_KINDS for s in day.stops)
        lo, hi = svc.minutes("lunch_earliest"), svc.minutes("lunch_latest_end")
        hours = self.cfg.vehicle_hours(self.vehicles[day.vehicle], day.date)
        due = hours is not None and hours[0] <= lo and hi <= hours[1]  # an evening session has no lunch
        if len(lunches) > 1 or (visits and due and not lunches):
            self.say(
                "lunch", where(day), f"{len(lunches)} lunch breaks on a working day{' with stops' if visits else ''}"
            )
        for s in lunches:
            a, b = minutes(s.arrival), minutes(s.departure)
            if a < lo - TOL_MIN or b > hi + TOL_MIN:
                self.say(
                    "lunch",
                    where(day, s),
                    f"{s.arrival:%H:%M}-{s.departure:%H:%M} outside {svc.lunch_earliest}-{svc.lunch_latest_end}",
                )
            if b - a < svc.lunch_min - TOL_MIN:
                self.say("lunch", where(day, s), f"{b - a:.0f} min, at least {svc.lunch_min} min")

    def check_driving(self, day: Day) -> None:
        veh = self.vehicles[day.vehicle]
        driving_min = (
            sum(leg.time_s for leg in self.legs[(day.vehicle, day.date)] if leg.time_s < UNREACHABLE) / S_PER_MIN
        )
        limit = veh.max_driving_h_per_day * MIN_PER_H
        if driving_min > limit + TOL_MIN:
            self.say(
                "driving",
                where(day),
                f"{driving_min / MIN_PER_H:.2f} h of driving, limit {veh.max_driving_h_per_day} h",
            )

    # ------------------------------------------------------------------ one vehicle, day after day

    def vehicle_days(self, plan: Plan) -> dict[str, list[Day]]:
        """The readable days of each known vehicle, in date order."""
        out: dict[str, list[Day]] = {}
        for d in plan.days:
            if d.vehicle in self.vehicles and (d.vehicle, d.date) in self.legs:
                out.setdefault(d.vehicle, []).append(d)
        for days in out.values():
            days.sort(key=lambda d: d.date)
        return out

    def check_vehicles(self, plan: Plan) -> None:
        for vid, days in self.vehicle_days(plan).items():
            veh = self.vehicles[vid]
            for day in days:
                self.check_night(day, veh)
            self.check_chain(days, veh.depot)
            self.check_capacity(days, veh)

    def check_night(self, day: Day, veh) -> None:
        last = day.stops[-1]
        at = where(day, last)
        if last.kind == "end" and last.stop_id != veh.depot:
            self.say("lodging", at, f"ends away from the depot {veh.depot}")
        if last.kind != "overnight":
            return
        site = self.sites[last.stop_id]
        if site.id == veh.depot:
            self.say("lodging", at, "a night at the depot is an end, not an overnight")
        elif not site.lodging or site.kind not in veh.overnight_kinds:
            self.say(
                "lodging",
                at,
                f"a night at a {site.kind} (lodging {site.lodging}); {veh.id} sleeps at {list(veh.overnight_kinds)}",
            )

    def check_chain(self, days: list[Day], depot: str) -> None:
        first = days[0]
        if first.stops[0].stop_id != depot:
            self.say("chain", where(first), f"the vehicle's first day starts at {first.stops[0].stop_id}, not {depot}")
        dates = self.problem.dates
        for a, b in zip(days, days[1:]):
            slept = a.stops[-1].stop_id
            if b.stops[0].stop_id != slept:
                self.say("chain", where(b), f"starts at {b.stops[0].stop_id}, the crew slept at {slept}")
            if slept != depot:
                nxt = dates[dates.index(a.date) + 1] if a.date in dates[:-1] else None
                if b.date != nxt or self.week_of.get(a.date) != self.week_of.get(b.date):
                    self.say("chain", where(a), f"a night at {slept}, and the next day of the trip is {b.date}")
        last = days[-1]
        if last.stops[-1].stop_id != depot:
            self.say("chain", where(last), f"the vehicle's last day ends at {last.stops[-1].stop_id}, not home")

    def check_capacity(self, days: list[Day], veh) -> None:
        load = 0
        for day in days:
            if day.stops[0].stop_id == veh.depot:
                load = 0
            load += sum(self.stop_books(s) for s in day.stops)
            if load > veh.capacity_books:
                self.say("capacity", where(day), f"{load} books since the last reload, capacity {veh.capacity_books}")

    def stop_books(self, s: Stop) -> int:
        """The books a stop hands out, by the rules (not the plan's figure)."""
        if s.kind == "site":
            return self.cfg.fixed_points.box_books
        if s.kind != "village":
            return 0
        return expected_books(
            sum(self.villages[v].population for v in s.villages_served if v in self.villages), self.problem
        )

    # ------------------------------------------------------------------ villages over the cycle

    def visit_events(self, plan: Plan) -> list[tuple[Day, Stop]]:
        """Village and site visits of the readable days."""
        return [(d, s) for d in plan.days if (d.vehicle, d.date) in self.legs for s in d.stops if s.kind in VISIT_KINDS]

    def covering_points(self) -> dict[str, tuple[SiteRow, ...]]:
        """Village id -> active fixed points whose radius (on foot) reaches it, when fixed points are on.

        Only points some vehicle can reach from its depot and back count: a point that cannot
        be restocked serves no one.
        """
        walk = self.problem.walk
        if not self.cfg.plan.fixed_points or walk is None:
            return {}
        points = [
            p
            for p in self.problem.fixed_points()
            if any(self.there_and_back(veh, veh.depot, p.id) for veh in self.problem.vehicles)
        ]
        return {
            v.id: tuple(p for p in points if walk.dist_m[walk.index(p.id), walk.index(v.id)] <= p.coverage_radius_m)
            for v in self.problem.villages
        }

    def stop_facts(self, plan: Plan) -> tuple[dict[str, list[tuple[str, str]]], set[str], dict[str, list[str]]]:
        """(village -> (date, stop id) of the van stops serving it, villages with their own stop,
        site -> dates restocked)."""
        served: dict[str, list[tuple[str, str]]] = {}
        own: set[str] = set()
        restocks: dict[str, list[str]] = {}
        for day, s in self.visit_events(plan):
            if s.kind == "site":
                restocks.setdefault(s.stop_id, []).append(day.date.isoformat())
                continue
            own.add(s.stop_id)
            for vid in dict.fromkeys(s.villages_served):
                served.setdefault(vid, []).append((day.date.isoformat(), s.stop_id))
        return served, own, restocks

    def village_truth(self, plan: Plan) -> dict[str, Truth]:
        """Channel, visits and requirement of every village, from the stop events alone."""
        served, own, restocks = self.stop_facts(plan)
        covering_points = self.covering_points()
        need_fp = self.cfg.frequency.fixed_point_visits
        records = {r.village_id: r for r in plan.villages}
        truth = {}
        for v in self.problem.villages:
            covering = tuple(p.id for p in covering_points.get(v.id, ()))
            qualifying = tuple(p for p in covering if len(restocks.get(p, ())) >= need_fp)
            if v.id not in served:
                named = records[v.id].served_by if v.id in records else ()
                truth[v.id] = self.point_truth(v.id, named, covering, qualifying, restocks)
                continue
            channel = "van_stop" if v.id in own else "walk"
            dates = tuple(sorted(d for d, _ in served[v.id]))
            by = (v.id,) if v.id in own else tuple(sorted({sid for _, sid in served[v.id]}))
            truth[v.id] = Truth(channel, len(dates), self.required[v.id], dates, by, covering, qualifying)
        return truth

    def point_truth(self, vid, named, covering, qualifying, restocks) -> Truth:
        """A village with no van stop: served by a fixed point restocked often enough, or not at all.

        Its point is the one the plan names, if that one qualifies, else the covering point
        restocked most often.
        """
        point = named[0] if len(named) == 1 and named[0] in qualifying else None
        if point is None and covering:
            point = min(covering, key=lambda p: (-len(restocks.get(p, ())), p))
        dates = tuple(sorted(restocks.get(point, ()))) if point else ()
        channel = "fixed_point" if qualifying else "unserved"
        required = self.cfg.frequency.fixed_point_visits if covering else self.required[vid]
        by: tuple[str, ...] = (point,) if qualifying and point else ()
        return Truth(channel, len(dates), required, dates, by, covering, qualifying)

    def check_stops_per_place(self, plan: Plan) -> None:
        """Per stop: restocks at real fixed points, visits no more than required, spaced out."""
        dates: dict[str, list[dt.datetime]] = {}
        allowed: dict[str, int] = {}
        points = {p.id for p in self.problem.fixed_points()} if self.cfg.plan.fixed_points else set()
        for day, s in self.visit_events(plan):
            dates.setdefault(s.stop_id, []).append(s.arrival)
            if self.is_school_session(s):
                allowed[s.stop_id] = self.cfg.frequency.school_visits
                if not self.sites[s.stop_id].active:
                    self.say("school", where(day, s), "a session at a school that is not active")
                continue
            if s.kind == "site":
                allowed[s.stop_id] = self.cfg.frequency.fixed_point_visits
                if s.stop_id not in points:
                    self.say("restock", where(day, s), "a restock at a site that is not an active fixed library point")
                continue
            need = max((self.required[v] for v in s.villages_served if v in self.required), default=1)
            allowed[s.stop_id] = max(allowed.get(s.stop_id, 1), need)
        for sid, times in dates.items():
            times.sort()
            if len(times) > allowed[sid]:
                self.say("visits", f"stop {sid}", f"{len(times)} visits in the cycle, at most {allowed[sid]} needed")
            least = min_spacing_days(self.cfg, allowed[sid])
            for a, b in zip(times, times[1:]):
                if (b - a).total_seconds() / S_PER_DAY < least - SPACING_SLACK_DAYS:
                    self.say(
                        "spacing",
                        f"stop {sid}",
                        f"visits on {a.date()} and {b.date()}, at least {least:.1f} days apart",
                    )

    def check_village_records(self, plan: Plan, truth: dict[str, Truth]) -> None:
        """Every village once in ``plan.villages``, with the channel and visits its stops give it."""
        counts = Counter(r.village_id for r in plan.villages)
        for vid in sorted(set(counts) | set(self.villages)):
            if vid not in self.villages:
                self.say("channel", f"village {vid}", "a service record for a village the problem does not have")
            elif counts[vid] != 1:
                self.say("channel", f"village {vid}", f"{counts[vid]} service records, expected 1")
        for r in plan.villages:
            v, t = self.villages.get(r.village_id), truth.get(r.village_id)
            if v is None or t is None:
                continue
            at = f"village {r.village_id}"
            if r.channel not in CHANNELS or r.channel != t.channel:
                self.say("channel", at, f"channel {r.channel}, its stops make it {t.channel}")
            if (r.population, r.children, r.name, r.commune) != (v.population, v.children, v.name, v.commune):
                self.say("channel", at, "name, commune, people or children differ from the input")
            if r.channel == "fixed_point" and not (len(r.served_by) == 1 and r.served_by[0] in t.qualifying):
                self.say(
                    "restock",
                    at,
                    f"served by {list(r.served_by)}; fixed points covering it restocked "
                    f"{self.cfg.frequency.fixed_point_visits}× or more: {list(t.qualifying)}",
                )
            elif r.channel != "fixed_point" and r.channel == t.channel and r.served_by != t.served_by:
                self.say("channel", at, f"served by {list(r.served_by)}, its stops say {list(t.served_by)}")
            if (r.visits, tuple(sorted(r.visit_dates)), r.visits_required) != (t.visits, t.dates, t.required):
                self.say(
                    "visits",
                    at,
                    f"{r.visits} of {r.visits_required} visits on {list(r.visit_dates)}; "
                    f"the stops give {t.visits} of {t.required} on {list(t.dates)}",
                )

    # ------------------------------------------------------------------ unserved villages and their reasons

    def check_unserved(self, plan: Plan, truth: dict[str, Truth]) -> None:
        """The unserved list is exactly the villages short of their visits, each with a true reason."""
        short = {vid for vid, t in truth.items() if t.visits < t.required}
        listed = Counter(u.village_id for u in plan.unserved)
        for vid in sorted(short | set(listed)):
            if listed[vid] != (vid in short):
                t = truth.get(vid)
                got = f"{t.visits} of {t.required} visits" if t else "not a village"
                self.say("unserved", f"village {vid}", f"listed {listed[vid]}× as unserved, the stops give it {got}")
        for u in plan.unserved:
            t = truth.get(u.village_id)
            if t is None:
                continue
            at = f"village {u.village_id}"
            if (u.visits, u.visits_required, u.population) != (
                t.visits,
                t.required,
                self.villages[u.village_id].population,
            ):
                self.say(
                    "unserved", at, f"{u.visits} of {u.visits_required} visits stated, {t.visits} of {t.required} true"
                )
            wrong = self.reason_wrong(u.village_id, u.reason, t)
            if wrong:
                self.say("unserved", at, f"reason {u.reason}, but {wrong}")

    def reason_wrong(self, vid: str, reason: str, t: Truth) -> str:
        """Why the reason given is false ('' when it is true)."""
        if reason not in UNSERVED_REASONS:
            return f"the reasons are {', '.join(UNSERVED_REASONS)}"
        if reason == "fixed_point_only":
            return "" if t.covering else "no active fixed point covers it"
        places = self.serving_places(vid, t)
        reach = [(veh, p) for veh in self.problem.vehicles for p in places if self.there_and_back(veh, veh.depot, p)]
        if reason == "unreachable":
            return f"{reach[0][0].id} reaches {reach[0][1]} from its depot and back" if reach else ""
        if not reach:
            return "no vehicle reaches it, or a stop it could walk to, from its depot and back"
        fits = next((f"{veh.id} at {p}" for veh, p in reach if self.fits_a_day(veh, p)), "")
        if reason == "too_far_for_shift":
            return f"a visit fits in a day: {fits}" if fits else ""
        return "" if fits else "no visit fits in one day's shift and driving limit from any lodging"

    # ------------------------------------------------------------------ villages carried over from the last cycle

    def check_carry_over(self, plan: Plan, truth: dict[str, Truth]) -> None:
        """A village carried over (``[plan] carry_over``) and visited gets its first visit in the first week,
        or is listed in ``plan.late`` with a true reason; nothing else is listed there."""
        carried = set(self.cfg.plan.carry_over) & set(self.villages)
        weeks = self.problem.weeks
        week1 = set(weeks[0]) if len(weeks) > 1 else set(self.problem.dates)
        listed = Counter(x.village_id for x in plan.late)
        for vid in sorted(carried | set(listed)):
            t = truth.get(vid)
            visited = vid in carried and t is not None and t.channel in ("van_stop", "walk") and bool(t.dates)
            first = min(t.dates) if visited and t is not None else None
            late = first is not None and dt.date.fromisoformat(first) not in week1
            if listed[vid] != late:
                what = f"first visit {first}" if first else "no van visit" if vid in carried else "not carried over"
                self.say("carry_over", f"village {vid}", f"listed {listed[vid]}× as late; {what}")
        for x in plan.late:
            t = truth.get(x.village_id)
            if t is None or x.village_id not in carried or not t.dates:
                continue
            at = f"village {x.village_id}"
            if x.first_visit != min(t.dates):
                self.say("carry_over", at, f"first visit stated {x.first_visit}, the stops give {min(t.dates)}")
            wrong = self.late_reason_wrong(x.reason, t, week1)
            if wrong:
                self.say("carry_over", at, f"late with reason {x.reason}, but {wrong}")

    def late_reason_wrong(self, reason: str, t: Truth, week1: set[dt.date]) -> str:
        """Why the reason a carried-over village's first visit is after the first week is false ('' if true)."""
        if reason not in LATE_REASONS:
            return f"the reasons are {', '.join(LATE_REASONS)}"
        stops = [s for s in t.served_by if s in self.villages]
        if reason == "pinned":
            pins = sorted(p.date for p in self.cfg.pins if p.village in stops)
            return "" if pins and pins[0] > max(week1) else f"no pin of {stops} puts every visit after the first week"
        open_days = [(s, d) for s in stops for d in sorted(week1) if self.room_on(s, d)]
        if reason == "outside_its_hours":
            return f"{open_days[0][0]} can be served on {open_days[0][1]}" if open_days else ""
        if not open_days:
            return "its hours never meet the first week's working hours (outside_its_hours)"
        fits = any(self.fits_a_day(veh, s) for veh in self.problem.vehicles for s in stops)
        return "" if fits else "no visit to it fits in one day's shift and driving limit from any lodging"

    def room_on(self, village_id: str, date: dt.date) -> bool:
        """Some vehicle's hours on ``date`` leave a whole visit inside the village's windows (and market rule)."""
        v = self.villages[village_id]
        mode = self.cfg.objective.market_day
        if v.market is not None and mode != "ignored" and (v.market_required or mode == "required"):
            if not v.market.on(date):
                return False
        service = self.cfg.service.village_service_min
        for veh in self.problem.vehicles:
            hours = self.cfg.vehicle_hours(veh, date)
            if not hours:
                continue
            windows = self.problem.village_windows(village_id, date)
            for lo, hi in windows if windows is not None else (hours,):
                if min(hi, hours[1]) - max(lo, hours[0]) >= service:
                    return True
        return False

    def serving_places(self, vid: str, t: Truth) -> list[str]:
        """Where a van stop could serve the village: itself, villages it can walk to, its fixed points."""
        places = [vid, *t.covering]
        walk, limit = self.problem.walk, float(self.cfg.plan.walk_limit_m)
        if walk is not None and limit > 0:
            k = walk.index(vid)
            places += [w for w in self.villages if w != vid and walk.dist_m[walk.index(w), k] <= limit + WALK_TOL_M]
        return places

    def there_and_back(self, veh, a: str, b: str) -> bool:
        """On some working day of the cycle (dated road closures change the matrices per week)."""
        for m in {id(m): m for m in (self.problem.matrix_for(veh, d) for d in self.problem.dates)}.values():
            i, j = m.index(a), m.index(b)
            if m.time_s[i, j] < UNREACHABLE and m.time_s[j, i] < UNREACHABLE:
                return True
        return False

    def fits_a_day(self, veh, place: str) -> bool:
        """A day from a lodging to the place and on to a lodging fits the shift and the driving limit."""
        m = self.problem.matrix_for(veh)
        svc = self.cfg.service
        beds = [veh.depot] + [
            s.id
            for s in self.problem.sites
            if s.lodging and s.kind in veh.overnight_kinds and self.there_and_back(veh, veh.depot, s.id)
        ]
        j = m.index(place)
        t_in = min(int(m.time_s[m.index(b), j]) for b in beds)
        t_out = min(int(m.time_s[j, m.index(b)]) for b in beds)
        drive_min = (t_in + t_out) / S_PER_MIN
        service = svc.village_service_min if place in self.villages else svc.site_service_min
        spans = [h for d in self.problem.dates if (h := self.cfg.vehicle_hours(veh, d))]
        start, end = max(spans, key=lambda h: h[1] - h[0]) if spans else (0, 0)
        return drive_min + service + svc.lunch_min <= end - start and drive_min <= veh.max_driving_h_per_day * MIN_PER_H

    # ------------------------------------------------------------------ summary

    def event_totals(self, days: list[Day]) -> tuple[dict[str, float], dict[str, float]]:
        """Stops, distance, driving, service, nights and books of some readable days, with the
        rounding each figure may carry."""
        events = [s for d in days for s in d.stops if s.kind in VISIT_KINDS]
        legs = [leg for d in days for leg in self.legs[(d.vehicle, d.date)] if leg.time_s < UNREACHABLE]
        want = {
            "stops": len(events),
            "distance_km": sum(leg.dist_m for leg in legs) / M_PER_KM,
            "driving_h": sum(leg.time_s for leg in legs) / S_PER_MIN / MIN_PER_H,
            "service_h": sum(self.service_min(s) or 0 for s in events) / MIN_PER_H,
            "nights_away": sum(1 for d in days if d.stops[-1].stop_id != self.vehicles[d.vehicle].depot),
            "books": sum(self.stop_books(s) for s in events),
        }
        tol = {
            "distance_km": SUMMARY_KM_ROUND + PER_LEG_KM_ROUND * len(legs),
            "driving_h": SUMMARY_H_ROUND + PER_LEG_MIN_ROUND * 2 * len(legs) / MIN_PER_H,
            "service_h": SUMMARY_H_ROUND + TOL_MIN * len(events) / MIN_PER_H,
        }
        return want, tol

    def village_totals(self, truth: dict[str, Truth]) -> dict[str, float]:
        """The plan's village figures, from the channels and visits the stops give."""
        served = [v for v in self.problem.villages if truth[v.id].channel != "unserved"]
        at_freq = [v for v in served if truth[v.id].visits >= truth[v.id].required]
        total = sum(v.population for v in self.problem.villages)
        credit = {v.id: self.walk_credit(v, truth[v.id]) for v in served}
        people = {v.id: int(round(v.population * credit[v.id])) for v in served}
        out = {
            "villages_served": len(served),
            "population_served": sum(people.values()),
            "children_served": sum(int(round(v.children * credit[v.id])) for v in served),
            "population_served_at_frequency": sum(people[v.id] for v in at_freq),
            "villages_served_at_frequency": len(at_freq),
            "villages_total": len(self.problem.villages),
            "population_total": total,
            "children_total": sum(v.children for v in self.problem.villages),
            "population_served_pct": round(100 * sum(people.values()) / total, 1) if total else 0.0,
        }
        for ch in CHANNELS:
            out[f"population_{ch}"] = sum(
                people.get(v.id, v.population) for v in self.problem.villages if truth[v.id].channel == ch
            )
        return out

    def walk_credit(self, v, truth: Truth) -> float:
        """Share of a walking village's people counted: 1 up to the full-credit distance, then falling
        linearly to 0 at its walking limit (the README's rule, recomputed from the walking matrix)."""
        if truth.channel != "walk" or self.problem.walk is None:
            return 1.0
        limit = float(v.walk_limit_m if v.walk_limit_m is not None else self.cfg.plan.walk_limit_m)
        full = min(self.cfg.objective.walk_full_credit_m, limit)
        best = 0.0
        w = self.problem.walk
        for stop in truth.served_by:
            d = float(w.dist_m[w.index(stop), w.index(v.id)])
            share = 1.0 if d <= full or limit <= full else max(0.0, (limit - d) / (limit - full))
            best = max(best, share if d <= limit else 0.0)
        return best

    def compare(self, at: str, got: dict, want: dict, tol: dict) -> None:
        for key, value in want.items():
            if key not in got:
                self.say("summary", at, f"{key} missing, expected {value:g}")
            elif abs(got[key] - value) > tol.get(key, 0):
                self.say("summary", at, f"{key} = {got[key]:g}, the stops and the input give {value:g}")

    def check_summary(self, plan: Plan, truth: dict[str, Truth]) -> None:
        """Plan totals and each day's totals, recomputed; the plan's status."""
        days = [d for ds in self.vehicle_days(plan).values() for d in ds]
        for day in days:
            self.compare(where(day), day.summary(), *self.event_totals([day]))
        want, tol = self.event_totals(days)
        want |= self.village_totals(truth)
        want["days"] = sum(1 for d in days if any(s.kind in VISIT_KINDS for s in d.stops))
        self.compare("plan", plan.summary(), want, tol | {"population_served_pct": PCT_ROUND})
        short = any(t.visits < t.required for t in truth.values())
        status = "ok" if not short else ("partial" if want["villages_served"] else "empty")
        if plan.status != status:
            self.say("summary", "plan", f"status {plan.status}, the stops make it {status}")
