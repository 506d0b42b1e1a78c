"""A one-area plan at scale: 1,000 villages, 5 vans, a 4-week cycle, checked by the independent checker.

The area is the generator of :mod:`benchmarks.import_scale` (villages uniform over a
Mường Tè-sized box, four quadrant communes, a depot and three sites, a jittered grid of
road segments), written to files and read back through :func:`planner.io.read_all`. The
plan is the planner's own pipeline: :func:`planner.planning.build.build_problem` (travel
matrices for the van and for walking), :func:`planner.planning.solve.solve` (the kernel's
whole-cycle OR-Tools model, then the bound), and :func:`planner.planning.checker.violations`
(the referee that recomputes every rule from the problem).

    python -m benchmarks.plan_scale [--villages 1000] [--vans 5] [--weeks 4] [--segments 200000]
        [--max-iterations 300000] [--time-limit 420] [--seed 0]

Printed and written to ``benchmarks/results/plan_scale.md``: wall and CPU time of each
stage, peak resident memory (``getrusage``: this process, and the largest forked matrix
worker), villages and people served (at their required frequency), km, nights, the bound,
and the checker's verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.import_scale import SEED, generate, write
from planner.io import read_all
from planner.model.area import Area
from planner.model.config import load_config
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.solve import solve

ROOT = Path(__file__).resolve().parents[1]
LOAD_BEFORE = " / ".join(f"{x:.1f}" for x in os.getloadavg())
GOAL_S = 600
GOAL_MIB = 4096


def cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def rss_mib() -> tuple[float, float]:
    """Peak resident size of this process and of its largest finished child, MiB."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def make_area(n_villages: int, n_segments: int, seed: int) -> Area:
    villages, roads, communes, sites = generate(n_villages, n_segments, np.random.default_rng(seed))
    with tempfile.TemporaryDirectory() as tmp:
        paths = write(Path(tmp), villages, roads, communes, sites)
        frames, problems = read_all(paths)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise SystemExit(f"generated data has {len(errors)} errors: {errors[:3]}")
    return Area(
        villages=frames["villages"],
        sites=frames["sites"],
        roads=frames["roads"],
        communes=frames["communes"],
        name="scale",
    )


def config_for(args):
    vans = [
        {
            "id": f"van{k + 1}",
            "profile": "van",
            "capacity_books": 1500,
            "depot": "DEPOT",
            "overnight_kinds": ["depot", "culture_centre", "learning_centre", "school"],
            "max_driving_h_per_day": 8,
        }
        for k in range(args.vans)
    ]
    return load_config(
        None,
        {
            "plan": {
                "weeks": args.weeks,
                "start_date": args.start_date,
                "max_iterations": args.max_iterations,
                "time_limit_s": args.time_limit,
                "seed": args.seed,
            },
            "vehicles": vans,
        },
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=1000)
    ap.add_argument("--vans", type=int, default=5)
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--segments", type=int, default=200_000)
    ap.add_argument("--max-iterations", type=int, default=300_000, help="the solver's work budget (search steps)")
    ap.add_argument("--time-limit", type=float, default=420.0, help="the solver's safety cap on wall time (s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start-date", default="2026-01-05")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "plan_scale.md")
    args = ap.parse_args(argv)
    stages = []
    t_start, cpu_start = time.perf_counter(), cpu_s()

    def stage(name, fn, *a):
        t0, c0 = time.perf_counter(), cpu_s()
        out = fn(*a)
        stages.append((name, time.perf_counter() - t0, cpu_s() - c0, *rss_mib()))
        print(f"{name:<40} {stages[-1][1]:8.1f} s  {stages[-1][2]:8.1f} CPU s  {stages[-1][3]:6.0f} MiB", flush=True)
        return out

    area = stage("generate, write, read + validate", make_area, args.villages, args.segments, SEED)
    cfg = config_for(args)
    problem = stage("build_problem (van + walk matrices)", build_problem, area, cfg)
    plan = stage("solve (kernel + bound)", solve, problem)
    bad = stage("checker (violations)", violations, plan, problem)
    wall, cpu = time.perf_counter() - t_start, cpu_s() - cpu_start
    main_rss, kid_rss = rss_mib()
    s = plan.summary()
    total = s["population_total"]
    visits_needed = sum(v.visits_required for v in problem.villages)
    stops = sum(1 for d in plan.days for st in d.stops if st.kind == "village")
    verdict = "no violation" if not bad else f"{len(bad)} violations: " + "; ".join(bad[:5])
    met = wall <= GOAL_S and max(main_rss, kid_rss) <= GOAL_MIB and not bad
    lines = [
        "# A one-area plan at scale",
        "",
        (
            f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `python -m benchmarks.plan_scale --villages "
            f"{args.villages} --vans {args.vans} --weeks {args.weeks} --segments {args.segments} --max-iterations "
            f"{args.max_iterations} --time-limit {args.time_limit:g} --seed {args.seed}`; Python "
            f"{platform.python_version()}, {os.cpu_count()} cores shared with other work, load average before the "
            f"run {LOAD_BEFORE}, after {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (wall times stretch under "
            "load; CPU times do not)."
        ),
        "",
        (
            f"- area: {len(problem.villages):,} villages ({total:,} people, {visits_needed:,} visits required in the "
            f"cycle), {len(area.roads):,} road segments, {len(area.communes)} communes, {len(area.sites)} sites "
            f"(generator of `benchmarks/import_scale.py`, seed {SEED})"
        ),
        (
            f"- fleet: {args.vans} vans from DEPOT, {args.weeks} week(s) ({len(problem.dates)} working days), default "
            f"rules; work budget {args.max_iterations:,} steps, cap {args.time_limit:g} s; stopped by "
            f"`{plan.run.get('stopped_by')}`; of the solve stage, the kernel search took "
            f"{plan.run.get('solve_time_s', float('nan')):.0f} s and the bound "
            f"{plan.run.get('bound', {}).get('solve_time_s', float('nan')):.0f} s (wall)"
        ),
        (
            f"- plan: {s['villages_served_at_frequency']:,} villages / {s['population_served_at_frequency']:,} people "
            f"({100 * s['population_served_at_frequency'] / total:.1f} %) served at their required frequency; "
            f"{s['villages_served']:,} villages / {s['population_served']:,} people reached at all; {stops:,} village "
            f"stops, {s['distance_km']:,} km, {s['driving_h']} h driving, {s['nights_away']} nights away"
        ),
        (
            f"- bound: no plan under these rules serves more than {s.get('population_upper_bound', 'n/a'):,} people "
            "at frequency"
            if isinstance(s.get("population_upper_bound"), int)
            else "- bound: not computed"
        ),
        f"- checker (`planner.planning.checker.violations`): {verdict}",
        (
            f"- whole run: **{wall:.0f} s wall**, {cpu:.0f} CPU s; peak RSS **{main_rss:,.0f} MiB** (this process), "
            f"{kid_rss:,.0f} MiB (largest matrix worker); goal ≤ {GOAL_S} s and ≤ {GOAL_MIB:,} MiB: "
            + ("met" if met else "**not met**")
        ),
        "",
        "| stage | wall (s) | CPU (s, with workers) | max RSS so far (MiB) | max RSS of a worker (MiB) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {n} | {w:.1f} | {c:.1f} | {r:,.0f} | {k:,.0f} |" for n, w, c, r, k in stages]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
