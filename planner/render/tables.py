"""The plan's plain outputs: ``plan.json`` and ``stops.csv`` (the contract columns)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from planner.model.plan import Plan

STOPS_COLUMNS = (
    "vehicle",
    "week",
    "date",
    "weekday",
    "seq",
    "kind",
    "stop_id",
    "stop_name",
    "commune",
    "commune_code",
    "lon",
    "lat",
    "arrival",
    "departure",
    "travel_min",
    "travel_km",
    "books",
    "population_served",
    "children_served",
    "villages_served",
    "walkers",
)


def stop_rows(plan: Plan) -> list[dict]:
    """One row per stop event, in the ``stops.csv`` contract (times ``HH:MM`` on the row's date)."""
    rows = []
    for day in plan.days:
        for s in day.stops:
            rows.append(
                {
                    "vehicle": day.vehicle,
                    "week": day.week,
                    "date": day.date.isoformat(),
                    "weekday": day.weekday,
                    "seq": s.seq,
                    "kind": s.kind,
                    "stop_id": s.stop_id,
                    "stop_name": s.stop_name,
                    "commune": s.commune,
                    "commune_code": s.commune_code,
                    "lon": s.lon,
                    "lat": s.lat,
                    "arrival": s.arrival.strftime("%H:%M"),
                    "departure": s.departure.strftime("%H:%M"),
                    "travel_min": s.travel_min,
                    "travel_km": s.travel_km,
                    "books": s.books,
                    "population_served": s.population_served,
                    "children_served": s.children_served,
                    "villages_served": ";".join(s.villages_served),
                    "walkers": ";".join(s.walkers),
                }
            )
    return rows


def write_stops_csv(plan: Plan, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=STOPS_COLUMNS)
        w.writeheader()
        w.writerows(stop_rows(plan))
    return path


def write_plan_json(plan: Plan, path: Path) -> Path:
    path.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path
