"""Fairness between communes, from a plan's village records alone.

* the worst-served commune: the lowest share of its people served at their frequency;
* the spread: the Gini coefficient of the communes' coverage rates, each commune weighted by
  its population (0: every commune equally covered; 1: all coverage in one commune);
* villages never reached.

With ``units`` (:func:`planner.model.area.units_2025`) the communes are the 2025 communes: each
figure is computed over the pre-2025 communes merged into them (their people and people served
summed).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from planner.model.area import Units2025
from planner.model.plan import Plan


def commune_coverage(plan: Plan, units: Units2025 | None = None) -> dict[str, tuple[str, int, int]]:
    """Per commune code (with ``units``: per 2025 commune, keyed by name): (name, people, people
    served at their frequency)."""
    acc: dict[str, list] = defaultdict(lambda: ["", 0, 0])
    for v in plan.villages:
        key = units.of_village(v.village_id, v.commune_code) if units is not None else v.commune_code
        row = acc[key]
        row[0] = key if units is not None else v.commune
        row[1] += v.population
        row[2] += v.people_served if v.at_frequency else 0
    return {k: (n, p, s) for k, (n, p, s) in sorted(acc.items())}


def weighted_gini(rates: np.ndarray, weights: np.ndarray) -> float:
    """Gini coefficient of ``rates`` with population ``weights`` (0 when all rates are equal or zero)."""
    w = weights / weights.sum()
    mean = float((w * rates).sum())
    if mean <= 0:
        return 0.0
    diff = np.abs(rates[:, None] - rates[None, :])
    return float((w[:, None] * w[None, :] * diff).sum() / (2 * mean))


def fairness_figures(plan: Plan, units: Units2025 | None = None) -> dict:
    """``worst_commune``, ``worst_commune_pct``, ``commune_gini`` and ``villages_never_reached``
    (over the 2025 communes with ``units``)."""
    cov = {k: v for k, v in commune_coverage(plan, units).items() if v[1] > 0}
    never = sum(1 for v in plan.villages if v.channel == "unserved")
    if not cov:
        return {"worst_commune": "", "worst_commune_pct": 0.0, "commune_gini": 0.0, "villages_never_reached": never}
    worst = min(cov, key=lambda k: (cov[k][2] / cov[k][1], k))
    rates = np.array([s / p for _, p, s in cov.values()])
    pops = np.array([p for _, p, _ in cov.values()], dtype=float)
    return {
        "worst_commune": cov[worst][0],
        "worst_commune_pct": round(100 * cov[worst][2] / cov[worst][1], 1),
        "commune_gini": round(weighted_gini(rates, pops), 3),
        "villages_never_reached": never,
    }
