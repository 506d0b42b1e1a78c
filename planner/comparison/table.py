"""The columns of the comparison table, shared by the runner and the report."""

from __future__ import annotations

#: Channels a village can be served through, in the order of the table and charts.
SERVED_CHANNELS = ("van_stop", "walk", "fixed_point")
#: Reasons a village is never reached (from ``plan.unserved``), in table order.
NEVER_REASONS = ("unreachable", "too_far_for_shift", "outside_its_hours", "not_enough_time")
#: Village classes of :func:`village_status`.
STATUSES = (*SERVED_CHANNELS, "below_frequency", "never_reached")

#: Columns of ``comparison.csv`` (one row per scenario), in order.
COLUMNS = (
    "scenario",
    "label",
    "status",
    "season",
    "weeks",
    "vehicles",
    "villages_total",
    "population_total",
    "villages_at_frequency",
    "population_at_frequency",
    "population_at_frequency_pct",
    *(f"{k}_{c}" for c in SERVED_CHANNELS for k in ("villages", "population")),
    "villages_below_frequency",
    "population_below_frequency",
    "villages_never_reached",
    "population_never_reached",
    "population_walk_uncredited",
    *(f"never_reached_{r}" for r in NEVER_REASONS),
    "km_per_cycle",
    "crew_days_per_cycle",
    "driving_h",
    "nights_away",
    "books_moved",
    "stops",
    "worst_commune",
    "worst_commune_pct",
    "commune_gini",
    "cost_fuel_vnd",
    "cost_per_diem_vnd",
    "cost_lodging_vnd",
    "cost_overtime_vnd",
    "cost_total_vnd",
    "cost_per_person_served_vnd",
    "population_upper_bound",
    "objective_value",
    "objective_bound",
    "stopped_by",
    "solve_time_s",
)
#: Columns that measure the machine, not the plan: left out of equality checks.
TIMING_COLUMNS = ("solve_time_s",)
#: Columns of ``comparison_by_commune.csv`` (one row per scenario and commune).
COMMUNE_COLUMNS = (
    "scenario",
    "commune_code",
    "commune",
    "villages",
    "population",
    "villages_at_frequency",
    "population_at_frequency",
    "population_at_frequency_pct",
    *(f"population_{c}" for c in SERVED_CHANNELS),
    "population_below_frequency",
    "population_never_reached",
    "cost_vnd",
)
