"""Read a saved ``plan.json`` back into a :class:`planner.model.plan.Plan` (round trip of ``Plan.to_dict``)."""

from __future__ import annotations

import datetime as dt

from planner.model.plan import Day, LateVisit, Plan, Stop, Unserved, VillageService


def _stop(d: dict) -> Stop:
    d = dict(d)
    d["arrival"] = dt.datetime.fromisoformat(d["arrival"])
    d["departure"] = dt.datetime.fromisoformat(d["departure"])
    d["villages_served"] = tuple(d.get("villages_served", ()))
    d["walkers"] = tuple(d.get("walkers", ()))
    return Stop(**d)


def plan_from_dict(data: dict) -> Plan:
    days = []
    for veh in data["vehicles"]:
        for d in veh["days"]:
            days.append(
                Day(
                    vehicle=d["vehicle"],
                    date=dt.date.fromisoformat(d["date"]),
                    week=int(d["week"]),
                    stops=tuple(_stop(s) for s in d["stops"]),
                    legs=tuple(tuple(tuple(p) for p in leg) for leg in d["legs"]),
                )
            )
    s = data["summary"]
    return Plan(
        status=data["status"],
        days=tuple(days),
        villages=tuple(
            VillageService(**(v | {"served_by": tuple(v["served_by"]), "visit_dates": tuple(v["visit_dates"])}))
            for v in data["villages"]
        ),
        unserved=tuple(Unserved(**u) for u in data["unserved"]),
        population_total=s["population_total"],
        children_total=s["children_total"],
        villages_total=s["villages_total"],
        run=data.get("run", {}),
        notices=tuple(data.get("notices", ())),
        costs=data.get("costs", {}),
        late=tuple(LateVisit(**x) for x in data.get("late", ())),
    )
