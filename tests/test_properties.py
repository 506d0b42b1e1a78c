"""Property-based: generated areas and configurations always give a plan that passes the checker."""

from __future__ import annotations

import hypothesis.strategies as st
from conftest import config, write_area
from hypothesis import HealthCheck, given, settings

from planner.io import load_area
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.solve import solve

CLASSES = ("national", "provincial", "commune", "track")


@st.composite
def area_and_config(draw):
    n = draw(st.integers(1, 5))
    # villages at distinct positions along a road that branches at the depot (east and west arms)
    kms = draw(st.lists(st.integers(-60, 60).filter(lambda k: k != 0), min_size=n, max_size=n, unique=True))
    pops = draw(st.lists(st.integers(60, 1500), min_size=n, max_size=n))
    east = sorted(k for k in kms if k > 0)
    west = sorted((k for k in kms if k < 0), reverse=True)
    roads = []
    for arm in (east, west):
        prev = 0
        for k in arm:
            roads.append((f"R{len(roads)}", draw(st.sampled_from(CLASSES)), float(prev), float(k)))
            prev = k
    villages = [(f"V{i}", f"Bản {i}", float(k), p) for i, (k, p) in enumerate(zip(kms, pops))]
    lodging_km = draw(st.sampled_from(kms))
    sites = [("L", "Nhà văn hóa", "culture_centre", float(lodging_km), True)]
    days = draw(st.lists(st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri"]), min_size=1, max_size=3, unique=True))
    plan = {
        "weeks": draw(st.integers(1, 2)),
        "working_days": days,
        "season": draw(st.sampled_from(["dry", "rainy"])),
        "walk_limit_m": draw(st.sampled_from([0, 2000])),
        "max_iterations": 3000,
    }
    capacity = draw(st.integers(20, 400))
    return villages, roads, sites, plan, capacity


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=area_and_config())
def test_every_generated_plan_passes_the_checker(tmp_path_factory, case):
    villages, roads, sites, plan_over, capacity = case
    folder = write_area(tmp_path_factory.mktemp("gen"), villages=villages, roads=roads, sites=sites)
    area = load_area(folder)
    cfg = config(plan=plan_over)
    cfg = cfg.replace(vehicles=[dict(cfg.to_dict()["vehicles"][0], capacity_books=capacity)])
    problem = build_problem(area, cfg)
    plan = solve(problem)
    # the referee recomputes everything, unserved reasons included
    assert violations(plan, problem) == []
