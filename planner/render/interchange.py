"""Stops in the open UK mobile-library-stops schema (LibrariesHacked ``schema-librarydata``).

Columns, in the schema's order: ``organisation, mobile, route, community, stop,
address, postcode, geox, geoy, day, type, arrival, departure, frequency, start,
end, timetable``, then ``stop_id`` (ours). ``geox``/``geoy`` are longitude and
latitude (WGS84); ``day`` is the English weekday name the schema requires;
``frequency`` is an iCalendar RRULE. One row per regular series of visits (the
same stop, vehicle, weekday and times, every N weeks), so a stop visited weekly
over a 4-week plan is one row with ``FREQ=WEEKLY;INTERVAL=1;COUNT=4``.
Text that a spreadsheet could take for a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
from pathlib import Path

from planner.render.calendar import visit_series

COLUMNS = (
    "organisation",
    "mobile",
    "route",
    "community",
    "stop",
    "address",
    "postcode",
    "geox",
    "geoy",
    "day",
    "type",
    "arrival",
    "departure",
    "frequency",
    "start",
    "end",
    "timetable",
    "stop_id",
)
EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def interchange_rows(plan, doc, timetable: str = "") -> list[dict]:
    t = doc.texts
    rows = []
    for s in visit_series(plan):
        stop = s.stop
        first = s.days[0]
        commune = stop.commune or ""
        rows.append(
            {
                "organisation": doc.issuer.organisation,
                "mobile": s.vehicle,
                "route": f"{s.vehicle} {first.date.strftime('%a')}"
                + (f" W{first.week}" if s.interval > 1 or s.count == 1 else ""),
                "community": commune,
                "stop": stop.stop_name,
                "address": ", ".join(x for x in (stop.stop_name, t.commune_full(commune) if commune else "") if x),
                "postcode": "",
                "geox": f"{float(stop.lon):.6f}",
                "geoy": f"{float(stop.lat):.6f}",
                "day": EN_DAYS[first.date.weekday()],
                "type": "Public",
                "arrival": stop.arrival.strftime("%H:%M"),
                "departure": stop.departure.strftime("%H:%M"),
                "frequency": s.rrule,
                "start": s.days[0].date.isoformat(),
                "end": s.days[-1].date.isoformat(),
                "timetable": timetable,
                "stop_id": str(stop.stop_id),
            }
        )
    return rows


def write_interchange(plan, area, doc, path: Path, timetable: str = "") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in interchange_rows(plan, doc, timetable):
            writer.writerow({k: neutralise(v) for k, v in row.items()})
    return path
