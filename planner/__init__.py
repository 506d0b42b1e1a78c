"""planner: plan mobile-library (book van) service for remote mountain districts.

Conventions, stated once: times are integer seconds (``_s``) or minutes (``_min``),
distances metres (``_m``), speeds ``_kph``; files hold WGS84 ``[lon, lat]``, distances are
measured in UTM 48N (EPSG:32648).

The public API follows the data, one pure step each::

    area = planner.load_area("data")               # files -> Area (validated)
    config = planner.load_config("scenario.toml")  # TOML + overrides -> Config (validated)
    problem = planner.build_problem(area, config)  # matrices, calendar, fleet, rules
    plan = planner.solve(problem)                  # -> Plan (plain data)
    assert not planner.violations(plan, problem)   # the independent referee
    planner.write_outputs(plan, problem, folder)   # map, schedules, workbook, calendars
    results = planner.compare(["a.toml", "b.toml"])

The names are loaded on first use, so ``import planner`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_API = {
    "load_area": "planner.io.load",
    "load_config": "planner.model.config",
    "build_problem": "planner.planning.build",
    "solve": "planner.planning.solve",
    "violations": "planner.planning.checker",
    "write_outputs": "planner.runs",
    "compare": "planner.comparison.run",
}

__all__ = [
    "__version__",
    "build_problem",
    "compare",
    "load_area",
    "load_config",
    "solve",
    "violations",
    "write_outputs",
]

if TYPE_CHECKING:  # pragma: no cover
    from planner.comparison.run import compare
    from planner.io.load import load_area
    from planner.model.config import load_config
    from planner.planning.build import build_problem
    from planner.planning.checker import violations
    from planner.planning.solve import solve
    from planner.runs import write_outputs


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
