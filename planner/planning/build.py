"""Area + config -> Problem: travel matrices per vehicle profile and season, calendar, fleet, rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.model.area import Area
from planner.model.calendar import DailyWindow, parse_market_days, parse_time_windows
from planner.model.config import Config
from planner.model.errors import InputError
from planner.model.matrices import UNREACHABLE
from planner.model.problem import Problem, SiteRow, VillageRow, cycle_calendar, depot_problems, visits_required
from planner.planning.network import RoadGraph, build_graph, closed_mask, travel_matrices


def build_problem(area: Area, config: Config) -> Problem:
    """Turn an area and a configuration into a solver-ready :class:`Problem`.

    Computes the travel matrices of every vehicle profile of the fleet (and walking) for
    the season, the working dates and the visits each village needs. A thin adapter onto
    :meth:`Problem.from_arrays`-style plain data.

    Parameters
    ----------
    area : Area
        Validated layers (see :func:`load_area`).
    config : Config
        Validated parameters (see :func:`load_config`).

    Returns
    -------
    Problem
        Read-only: matrices, calendar, fleet, rules.

    Raises
    ------
    InputError
        A vehicle's depot is not a site.
    NoPlanError
        The cycle has no working day.
    """
    vehicles = config.vehicles
    site_ids = set(area.sites["id"].astype(str))
    problems = depot_problems(config, site_ids)
    if problems:  # say so before computing matrices
        raise InputError(problems)
    _, weeks = cycle_calendar(config)  # raises NoPlanError before the matrices are computed
    graph = build_graph(area)
    matrices = {}
    week_matrices = {}
    closed_by_week = weekly_closures(graph, weeks)
    for v in vehicles:
        if v.profile not in matrices:
            speeds = config.profile(v.profile)
            rainy = config.season == "rainy"
            matrices[v.profile] = travel_matrices(area, speeds, graph, rainy=rainy)
            computed = {}
            for w, ids in enumerate(closed_by_week):
                if ids and ids not in computed:
                    computed[ids] = travel_matrices(area, speeds, graph, rainy=rainy, closed_ids=ids)
                if ids:
                    week_matrices[(v.profile, w)] = computed[ids]
    walk = None
    if config.plan.walk_limit_m > 0 or config.plan.fixed_points:
        walk = travel_matrices(area, config.profile("walk"), graph, rainy=config.season == "rainy")

    vdf = area.villages
    villages = tuple(
        VillageRow(
            id=str(r["id"]),
            name=str(r["name"]),
            commune=str(r.get("commune", "")),
            commune_code=str(r.get("commune_code", "")),
            population=int(r["population"]),
            children=int(r["children"]) if "children" in vdf and r.get("children") == r.get("children") else 0,
            visits_required=visits_required(r, config),
            loc=k,
            lon=float(r.geometry.x),
            lat=float(r.geometry.y),
            time_windows=village_time_windows(r),
            priority=float(r["priority"]) if _given(r, "priority") else 1.0,
            disadvantaged=bool(r["disadvantaged"]) if _given(r, "disadvantaged") else False,
            market=parse_market_days(r["market_days"]) if _given(r, "market_days") else None,
            market_required=bool(r["market_required"]) if _given(r, "market_required") else False,
            walk_limit_m=float(r["walk_limit_m"]) if _given(r, "walk_limit_m") else None,
        )
        for k, (_, r) in enumerate(vdf.iterrows())
    )
    nv = len(villages)
    sdf = area.sites
    activate = set(config.fixed_points.activate_kinds) if config.plan.fixed_points else set()
    sites = tuple(
        SiteRow(
            id=str(r["id"]),
            name=str(r["name"]),
            kind=str(r["kind"]),
            commune=str(r.get("commune", "")),
            commune_code=str(r.get("commune_code", "")),
            lodging=bool(r.get("lodging", r["kind"] == "depot")),
            active=bool(r.get("active", True)) or str(r["kind"]) in activate,
            coverage_radius_m=int(r.get("coverage_radius_m", 0) or 0),
            stock_books=int(r.get("stock_books", 0) or 0),
            loc=nv + k,
            lon=float(r.geometry.x),
            lat=float(r.geometry.y),
        )
        for k, (_, r) in enumerate(sdf.iterrows())
    )
    warnings = []
    for prof, m in matrices.items():
        for v in vehicles:
            if v.profile != prof:
                continue
            di = m.index(v.depot)
            cut = [villages[j].name for j in range(nv) if m.time_s[di, j] >= UNREACHABLE]
            if cut:
                warnings.append(
                    f"{len(cut)} village(s) cannot be reached by {prof} from {v.depot} in the {config.season} season: "
                    + ", ".join(cut[:10])
                    + (" …" if len(cut) > 10 else "")
                )
    for w, ids in enumerate(closed_by_week):
        if ids:
            warnings.append(
                f"week {w + 1} ({weeks[w][0]:%d/%m}–{weeks[w][-1]:%d/%m}): road(s) {', '.join(sorted(ids))} "
                "closed on some of its days by their closed_from/closed_until dates; "
                "the van's trips that week keep off them"
            )
    return Problem.assemble(
        config, villages, sites, matrices, walk=walk, area=area, warnings=warnings, week_matrices=week_matrices
    )


def weekly_closures(graph: RoadGraph, weeks) -> list[frozenset[str]]:
    """Per week, the road ids closed on any of its working days by their date range.

    A week is planned as one trip per vehicle (nights away included), so a road closed on any
    working day of the week is kept out of that whole week: never a route over a closed road.
    """
    out = []
    for week in weeks:
        mask = np.zeros(len(graph.seg_road_id), dtype=bool)
        for d in week:
            mask |= closed_mask(graph, d, None)
        out.append(frozenset(str(r) for r in graph.seg_road_id[mask]))
    return out


def village_time_windows(row) -> tuple[DailyWindow, ...]:
    """The village's ``time_windows`` (or ``time_window``) field, parsed (validated on load)."""
    for key in ("time_windows", "time_window"):
        if key in row and row[key] is not None and row[key] == row[key]:
            return parse_time_windows(row[key])
    return ()


def _given(row, key: str) -> bool:
    """Whether an optional column holds a value in this row."""
    if key not in row:
        return False
    v = row[key]
    return v is not None and v is not pd.NA and v == v and str(v).strip() != ""
