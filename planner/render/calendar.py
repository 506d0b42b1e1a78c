"""Visit calendars (RFC 5545, via the ``icalendar`` library).

One VEVENT per visit of a village/site stop; when the same vehicle visits the same
stop on the same weekday at the same times every N weeks, the visits are one VEVENT
with ``RRULE:FREQ=WEEKLY;INTERVAL=N;COUNT=k``. Times carry ``TZID=Asia/Ho_Chi_Minh``
and the file has the matching VTIMEZONE. UIDs and DTSTAMP come from the plan only,
so the same plan gives the same file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from planner.model.plan import Day, Stop
from planner.render.document import Lookup, safe_path, visits

TZ_NAME = "Asia/Ho_Chi_Minh"
TZ = ZoneInfo(TZ_NAME)
PRODID = "-//planner//Mobile library schedule//VI"


@dataclass
class Series:
    """Visits of one stop by one vehicle at one weekday and time, every ``interval`` weeks."""

    vehicle: str
    stop: Stop  # the first visit's Stop
    days: list[Day] = field(default_factory=list)  # Day of each visit
    stops: list[Stop] = field(default_factory=list)  # Stop of each visit
    interval: int = 1  # weeks

    @property
    def dates(self) -> list[dt.date]:
        return [d.date for d in self.days]

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def rrule(self) -> str:
        return f"FREQ=WEEKLY;INTERVAL={self.interval};COUNT={self.count}"

    @property
    def uid(self) -> str:
        return make_uid(self.stop.stop_id, self.days[0].date, self.vehicle)


def _clean(text) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


def make_uid(stop_id: str, date: dt.date, vehicle: str) -> str:
    clean = _clean
    return f"{clean(stop_id)}-{date:%Y%m%d}-{clean(vehicle)}@planner"


def visit_series(plan) -> list[Series]:
    """Group visits into regular weekly series; irregular visits become series of one."""
    groups: dict[tuple, list] = {}
    for day, stop in visits(plan):
        key = (
            day.vehicle,
            str(stop.stop_id),
            day.date.weekday(),
            stop.arrival.time(),
            stop.departure.time(),
            tuple(stop.villages_served),
            tuple(stop.walkers),
            # an overnight-spanning stop keeps its day offset
            (stop.arrival.date() - day.date).days,
            (stop.departure.date() - day.date).days,
        )
        groups.setdefault(key, []).append((day, stop))
    out: list[Series] = []
    for items in groups.values():
        items.sort(key=lambda ds: ds[0].date)
        current: Series | None = None
        for day, stop in items:
            if current is not None:
                gap_days = (day.date - current.days[-1].date).days
                ok = gap_days > 0 and gap_days % 7 == 0
                if ok and current.count == 1:
                    current.interval = gap_days // 7
                    current.days.append(day)
                    current.stops.append(stop)
                    continue
                if ok and gap_days // 7 == current.interval:
                    current.days.append(day)
                    current.stops.append(stop)
                    continue
                out.append(current)
            current = Series(vehicle=day.vehicle, stop=stop, days=[day], stops=[stop])
        if current is not None:
            out.append(current)
    out.sort(key=lambda s: (s.days[0].date, s.stop.arrival, s.vehicle, str(s.stop.stop_id)))
    return out


def _dtstamp(plan) -> dt.datetime:
    created = (plan.run or {}).get("created")
    stamp = None
    if isinstance(created, dt.datetime):
        stamp = created
    elif isinstance(created, dt.date):
        stamp = dt.datetime.combine(created, dt.time())
    elif created:
        try:
            stamp = dt.datetime.fromisoformat(str(created))
        except ValueError:
            stamp = None
    if stamp is None:
        dates = [d.date for d in plan.days]
        stamp = dt.datetime.combine(min(dates) if dates else dt.date(2000, 1, 1), dt.time())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=TZ)
    return stamp.astimezone(dt.UTC).replace(microsecond=0)


def _books_text(series: Series) -> str:
    books = sorted({int(s.books) for s in series.stops})
    return str(books[0]) if len(books) == 1 else f"{books[0]}–{books[-1]}"


def make_event(series: Series, doc, look, stamp: dt.datetime) -> Event:
    t = doc.texts
    stop = series.stop
    day = series.days[0]
    ev = Event()
    ev.add("uid", series.uid)
    ev.add("dtstamp", stamp)
    ev.add("dtstart", stop.arrival.replace(tzinfo=TZ))
    ev.add("dtend", max(stop.departure, stop.arrival).replace(tzinfo=TZ))
    ev.add("summary", t.fmt("cal_summary", stop=stop.stop_name))
    commune = t.commune_full(stop.commune) if stop.commune else ""
    ev.add("location", ", ".join(x for x in (stop.stop_name, commune) if x))
    ev.add("geo", (float(stop.lat), float(stop.lon)))
    walkers = [str(v) for v in stop.walkers]
    own = [look.vname(v) for v in stop.villages_served if str(v) not in walkers]
    lines = [
        t.fmt("cal_villages", names=", ".join(own) or stop.stop_name),
        t.fmt("cal_walkers", names=", ".join(look.vname(v) for v in walkers) or t["none"]),
        t.fmt("cal_books", books=_books_text(series)),
        t.fmt("cal_vehicle", vehicle=day.vehicle),
    ]
    ev.add("description", "\n".join(lines))
    ev.add("categories", ["Thư viện lưu động" if t.lang == "vi" else "Mobile library"])
    if series.count > 1:
        ev.add("rrule", vRecur.from_ical(series.rrule))
    return ev


def make_calendar(series_list: list[Series], doc, look, stamp: dt.datetime, name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", TZ_NAME)
    for series in series_list:
        cal.add_component(make_event(series, doc, look, stamp))
    if series_list:
        cal.add_missing_timezones()
    return cal


def series_in_commune(series: Series, code: str, look) -> bool:
    stop = series.stop
    if str(stop.commune_code) == code:
        return True
    ids = [str(v) for v in stop.villages_served] + [str(v) for v in stop.walkers]
    return any(look.village_commune.get(v) == code for v in ids)


def write_calendars(plan, area, doc, cal_dir: Path) -> list[Path]:

    look = Lookup(plan, area)
    stamp = _dtstamp(plan)
    all_series = visit_series(plan)
    t = doc.texts
    written = []
    for commune in doc.communes:
        mine = [s for s in all_series if series_in_commune(s, commune.code, look)]
        cal = make_calendar(mine, doc, look, stamp, f"{t['cal_name']} - {commune.heading}")
        path = safe_path(cal_dir, f"{commune.slug}.ics")
        path.write_bytes(cal.to_ical())
        written.append(path)
    cal = make_calendar(all_series, doc, look, stamp, t["cal_name"])
    path = safe_path(cal_dir, "all.ics")
    path.write_bytes(cal.to_ical())
    written.append(path)
    return written
