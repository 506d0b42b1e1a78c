"""What a plan costs, in Vietnamese đồng: fuel, per diem (công tác phí), lodging and overtime.

Per vehicle-day: fuel = km × litres/100 km of the vehicle's profile × price; per diem = crew
size × the daily allowance on every day the crew works away from the office; lodging = crew size
× the nightly rate for every night away from the depot; overtime = crew size × hours past
``REGULAR_DAY_H`` × the hourly rate. A day's cost is shared between the communes it served in
proportion to the minutes spent at their stops.
"""

from __future__ import annotations

from collections import defaultdict

from planner.model.config import Config
from planner.model.plan import Day

#: Hours of a regular working day; work beyond it is overtime (when overtime is paid).
REGULAR_DAY_H = 8.0
#: Where a day's cost goes when it served no commune (a day of driving only).
NO_COMMUNE = ""
COST_KEYS = ("fuel_vnd", "per_diem_vnd", "lodging_vnd", "overtime_vnd", "total_vnd")


def plan_costs(days, config: Config, vehicle_profiles: dict[str, str], depots: dict[str, str]) -> dict:
    """Costs of a plan: totals, per vehicle and per commune code, with the budget cap's verdict."""
    total: dict[str, float] = defaultdict(float)
    per_vehicle: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_commune: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in days:
        cost = day_costs(day, config, vehicle_profiles[day.vehicle], depots[day.vehicle])
        minutes: dict[str, float] = defaultdict(float)
        for s in day.stops:
            if s.kind in ("village", "site"):
                minutes[s.commune_code] += (s.departure - s.arrival).total_seconds() / 60
        share = {k: m / sum(minutes.values()) for k, m in minutes.items()} if minutes else {NO_COMMUNE: 1.0}
        for key, value in cost.items():
            total[key] += value
            per_vehicle[day.vehicle][key] += value
            for code, f in share.items():
                per_commune[code][key] += value * f
    cap = config.costs.budget_cap_vnd_per_cycle
    out = {
        **{k: round(total[k]) for k in COST_KEYS},
        "per_vehicle": {v: {k: round(x[k]) for k in COST_KEYS} for v, x in sorted(per_vehicle.items())},
        "per_commune": {c: {k: round(x[k]) for k in COST_KEYS} for c, x in sorted(per_commune.items())},
        "budget_cap_vnd": cap or None,
        "within_budget": None if not cap else total["total_vnd"] <= cap,
    }
    if cap and total["total_vnd"] > cap:
        out["over_budget_vnd"] = round(total["total_vnd"] - cap)
    return out


def day_costs(day: Day, config: Config, profile: str, depot: str) -> dict[str, float]:
    """The cost of one vehicle-day, by kind (a night at the vehicle's own depot is not a night away)."""
    c = config.costs
    stops = day.stops
    km = sum(s.travel_km for s in stops)
    worked = any(s.kind in ("village", "site") for s in stops) or any(
        s.kind == "overnight" and s.stop_id != depot for s in stops
    )
    fuel_rate = c.fuel[profile].litres_per_100km if profile in c.fuel else 0.0
    hours = (stops[-1].departure - stops[0].arrival).total_seconds() / 3600 if len(stops) > 1 else 0.0
    nights_away = sum(1 for s in stops if s.kind == "overnight" and s.stop_id != depot)
    out = {
        "fuel_vnd": km * fuel_rate / 100 * c.fuel_price_vnd_per_l,
        "per_diem_vnd": c.crew_size * c.per_diem_vnd_per_day if worked else 0.0,
        "lodging_vnd": c.crew_size * c.lodging_vnd_per_night * nights_away,
        "overtime_vnd": c.crew_size * max(0.0, hours - REGULAR_DAY_H) * c.overtime_vnd_per_h if worked else 0.0,
    }
    out["total_vnd"] = sum(out.values())
    return out
