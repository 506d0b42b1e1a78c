"""The district itself: the planner against a hand-made plan, on the default Mường Tè data.

For 1 and 2 vans, dry and rainy season (4-week cycle, default rules): population and villages
served at their required frequency, by channel, km, driving hours, nights away and solve time,
side by side with the hand baseline (commune by commune, nearest village next; see
``planner/baseline.py``). Both plans pass the same independent checker.

    python -m benchmarks.district [--max-iterations N] [--weeks 4] [--out benchmarks/results]

Convergence (``--convergence``): for the default data and every shipped scenario in
``data/scenarios/``, the planner at the default work budget (1,000,000 steps) against the
same at ``--multiplier`` times that budget (only for the cases named in ``--big``: a 15×
run takes tens of minutes on 2 shared cores), and the bound of
:func:`planner.planning.bound.population_upper_bound`: people served at frequency, km, and
the gaps. Written to ``convergence.md`` / ``convergence.csv``.

    python -m benchmarks.district --convergence [--multiplier 15] [--big default baseline] \
        [--big-time-limit 1800] [--cases default two_vans]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from pathlib import Path

from benchmarks.baseline import hand_plan
from planner.io import load_area
from planner.model.config import PlanSection, load_config
from planner.model.fairness import fairness_figures
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.solve import solve

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = (
    "fleet",
    "season",
    "method",
    "pop_at_freq",
    "pop_at_freq_pct",
    "villages_at_freq",
    "pop_reached",
    "pop_van_stop",
    "pop_walk",
    "km",
    "driving_h",
    "nights_away",
    "solve_s",
    "checker",
)


def row(fleet, season, method, plan, problem, seconds) -> dict:
    s = plan.summary()
    bad = violations(plan, problem)
    return {
        "fleet": fleet,
        "season": season,
        "method": method,
        "pop_at_freq": s["population_served_at_frequency"],
        "pop_at_freq_pct": round(100 * s["population_served_at_frequency"] / s["population_total"], 1),
        "villages_at_freq": s["villages_served_at_frequency"],
        "pop_reached": s["population_served"],
        "pop_van_stop": s["population_van_stop"],
        "pop_walk": s["population_walk"],
        "km": s["distance_km"],
        "driving_h": s["driving_h"],
        "nights_away": s["nights_away"],
        "solve_s": round(seconds, 1),
        "checker": "ok" if not bad else f"{len(bad)} violations",
    }


DEFAULT_BUDGET = PlanSection().max_iterations
DEFAULT_RESTART = PlanSection().restart_iterations
DEFAULT_TIME_CAP_S = 900
"""Safety cap on a default-budget run (the budget stops it first on an idle machine)."""
CONVERGENCE_COLUMNS = (
    "case",
    "budget",
    "seed",
    "objective",
    "objective_bound",
    "obj_gap_to_bound_pct",
    "obj_gap_to_big_pct",
    "pop_reached",
    "reached_gap_to_big_pct",
    "pop_at_freq",
    "pop_at_freq_bound",
    "km",
    "solve_s",
    "stopped_by",
    "bound_holds",
    "checker",
)


def convergence_cases(start_date: str, names: list[str] | None) -> list[tuple[str, object]]:
    """(name, config) of the default data and every shipped scenario, from one start date."""
    over = {"plan": {"max_iterations": DEFAULT_BUDGET, "time_limit_s": DEFAULT_TIME_CAP_S, "start_date": start_date}}
    cases = [("default", load_config(None, over))]
    for path in sorted((ROOT / "data" / "scenarios").glob("*.toml")):
        cases.append((path.stem, load_config(path, over)))
    return [c for c in cases if names is None or c[0] in names]


def pct_gap(better, value) -> float | str:
    """(better − value) / better in %, blank without a reference."""
    return "" if not better else round(100 * (better - value) / better, 2)


def convergence_row(case, budget, seed, plan, problem, seconds, big=None) -> dict:
    """One run: its weighted objective against the bound and the big-budget run, and people served."""
    s = plan.summary()
    b = plan.run["bound"]
    bad = violations(plan, problem)
    obj, obj_ub = b["objective_value"], b["objective_bound"]
    holds = b["population_upper_bound"] >= s["population_served_at_frequency"] and (obj_ub is None or obj_ub >= obj)
    return {
        "case": case,
        "budget": f"{budget:,}",
        "seed": seed,
        "objective": obj,
        "objective_bound": "" if obj_ub is None else int(obj_ub),
        "obj_gap_to_bound_pct": "" if obj_ub is None else pct_gap(obj_ub, obj),
        "obj_gap_to_big_pct": "" if big is None else pct_gap(big[0], obj),
        "pop_reached": s["population_served"],
        "reached_gap_to_big_pct": "" if big is None else pct_gap(big[1], s["population_served"]),
        "pop_at_freq": s["population_served_at_frequency"],
        "pop_at_freq_bound": b["population_upper_bound"],
        "km": s["distance_km"],
        "solve_s": round(seconds, 1),
        "stopped_by": plan.run["stopped_by"],
        "bound_holds": "yes" if holds else "NO",
        "checker": "ok" if not bad else f"{len(bad)} violations",
    }


def convergence(args) -> int:
    area = load_area()
    rows = []
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    seeds = [int(x) for x in args.seeds.split(",")]
    for name, cfg in convergence_cases(args.start_date, args.cases):
        runs = []
        plans = [(DEFAULT_BUDGET, seed) for seed in seeds]
        if name in args.big:
            plans.append((DEFAULT_BUDGET * args.multiplier, seeds[0]))
        for budget, seed in plans:
            cap = DEFAULT_TIME_CAP_S if budget == DEFAULT_BUDGET else args.big_time_limit
            p = build_problem(area, cfg.replace(plan={"max_iterations": budget, "time_limit_s": cap, "seed": seed}))
            t0 = time.monotonic()
            plan = solve(p)
            runs.append((budget, seed, plan, p, time.monotonic() - t0))
        big = None
        if name in args.big:
            bp = runs[-1][2]
            big = (bp.run["bound"]["objective_value"], bp.summary()["population_served"])
        for budget, seed, plan, p, seconds in runs:
            rows.append(
                convergence_row(name, budget, seed, plan, p, seconds, big if budget == DEFAULT_BUDGET else None)
            )
            print(" | ".join(str(rows[-1][c]) for c in CONVERGENCE_COLUMNS), file=sys.stderr, flush=True)
    lines = [
        f"# Convergence and bound ({dt.date.today().isoformat()})",
        "",
        f"Default Mường Tè data and the shipped scenarios (`data/scenarios/`), 4 weeks from {args.start_date}, each "
        f"at the planner's default work budget ({DEFAULT_BUDGET:,} steps in all, iterated local search with restarts "
        f"of at most {DEFAULT_RESTART:,} steps; {PlanSection().chains} such searches at once, each with the whole "
        f"budget, the best plan kept: `[plan] chains`) with seeds {args.seeds} and, for "
        f"{', '.join(args.big) or 'no case'}, at {args.multiplier}× that total budget (same restart size) (seed {seeds[0]}, cap "
        f"{args.big_time_limit} s). `objective`: the plan's weighted objective (value of the visits made minus "
        "driving seconds, `summary.objective_value`); `objective_bound`: no plan under the same rules reaches more "
        "(`summary.objective_bound`, column generation with HiGHS); `obj_gap_to_bound_pct` = (bound − objective) / "
        "bound; `*_gap_to_big_pct` = (big-budget figure − this run's) / big-budget figure. `pop_at_freq_bound`: "
        "`population_upper_bound`. `bound_holds`: both bounds are at least the run's figures. Machine: "
        f"{os.cpu_count()} cores (load average at the start {load}); `solve_s` is wall time. Command: "
        f"`python -m benchmarks.district --convergence --seeds {args.seeds} --multiplier {args.multiplier} --big "
        f"{' '.join(args.big)} --big-time-limit {args.big_time_limit}"
        + (f" --cases {' '.join(args.cases)}" if args.cases else "")
        + "`.",
    ]
    write_table(args.out, "convergence", lines, CONVERGENCE_COLUMNS, rows)
    return 0


FAIRNESS_COLUMNS = (
    "option",
    "people_reached",
    "people_reached_pct",
    "people_at_freq",
    "people_at_freq_pct",
    "worst_commune",
    "worst_commune_pct",
    "commune_gini",
    "villages_never_reached",
    "cost_vnd",
    "km",
    "solve_s",
    "checker",
)
FAIRNESS_SCENARIOS = ("baseline", "fair_people_only", "fair_first_visits", "fair_weights", "fair_commune_floor")


def fairness(args) -> int:
    """For each fairness option (a scenario of data/scenarios/): people, worst commune, spread, never reached, cost."""
    area = load_area()
    rows = []
    for name in FAIRNESS_SCENARIOS:
        over: dict = {"plan": {"start_date": args.start_date, "weeks": args.weeks}}
        if args.max_iterations:
            over["plan"]["max_iterations"] = args.max_iterations
        cfg = load_config(ROOT / "data" / "scenarios" / f"{name}.toml", over)
        problem = build_problem(area, cfg)
        t0 = time.monotonic()
        plan = solve(problem)
        seconds = time.monotonic() - t0
        s, f = plan.summary(), fairness_figures(plan)
        total = max(1, s["population_total"])
        rows.append(
            {
                "option": name,
                "people_reached": s["population_served"],
                "people_reached_pct": round(100 * s["population_served"] / total, 1),
                "people_at_freq": s["population_served_at_frequency"],
                "people_at_freq_pct": round(100 * s["population_served_at_frequency"] / total, 1),
                "worst_commune": f["worst_commune"],
                "worst_commune_pct": f["worst_commune_pct"],
                "commune_gini": f["commune_gini"],
                "villages_never_reached": f["villages_never_reached"],
                "cost_vnd": f"{s['cost_vnd']:,}",
                "km": s["distance_km"],
                "solve_s": round(seconds, 1),
                "checker": "ok" if not violations(plan, problem) else "FAILED",
            }
        )
        print(f"{name}: {rows[-1]['people_reached_pct']} % reached, worst {f['worst_commune']}", file=sys.stderr)
    lines = [
        f"# Fairness options on the district ({dt.date.today().isoformat()})",
        "",
        f"Default Mường Tè data (modelled), {args.weeks}-week cycle from {args.start_date}, one van, dry season; "
        "each row is a scenario of `data/scenarios/` (`baseline` is the default objective). `people_reached`: "
        "people counted as served by at least one visit (walkers with their credit); `people_at_freq`: served as "
        "often as required; `commune_gini`: Gini coefficient of the communes' coverage rates weighted by population "
        "(0 = equal). Cost per cycle in VND (fuel, per diem, lodging). Command: `python -m benchmarks.district "
        f"--fairness --weeks {args.weeks} --start-date {args.start_date}"
        + (f" --max-iterations {args.max_iterations}" if args.max_iterations else "")
        + "`.",
    ]
    write_table(args.out, "fairness", lines, FAIRNESS_COLUMNS, rows)
    return 0


def write_table(out: Path, stem: str, lines: list[str], columns, rows: list[dict]) -> None:
    """Print the heading ``lines`` and a table of ``rows``; write ``stem.md`` and ``stem.csv`` in ``out``."""
    lines = [*lines, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text, encoding="utf-8")
    with open(out / f"{stem}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--convergence", action="store_true", help="default vs big budget, and the bound")
    ap.add_argument("--fairness", action="store_true", help="each fairness option: people, worst commune, cost")
    ap.add_argument("--multiplier", type=int, default=15, help="the big budget, in default budgets")
    ap.add_argument("--big", nargs="*", default=["default"], help="cases run at the big budget too")
    ap.add_argument("--big-time-limit", type=float, default=1800, help="safety cap of a big-budget run (s)")
    ap.add_argument("--cases", nargs="*", default=None, help="only these cases (default: all)")
    ap.add_argument("--max-iterations", type=int, default=None, help="solver work budget (default: the config's)")
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--start-date", default="2026-11-30")
    ap.add_argument("--seeds", default="0", help="convergence: seeds of the default-budget runs, e.g. 0,1,2")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    if args.convergence:
        return convergence(args)
    if args.fairness:
        return fairness(args)
    area = load_area()
    rows = []
    for vans in (1, 2):
        for season in ("dry", "rainy"):
            plan_over = {"start_date": args.start_date, "weeks": args.weeks, "season": season}
            if args.max_iterations:
                plan_over["max_iterations"] = args.max_iterations
            cfg = load_config(None, {"plan": plan_over})
            base_vehicle = cfg.to_dict()["vehicles"][0]
            cfg = cfg.replace(vehicles=[dict(base_vehicle, id=f"van{k + 1}") for k in range(vans)])
            problem = build_problem(area, cfg)
            fleet = f"{vans} van" + ("s" if vans > 1 else "")
            t0 = time.monotonic()
            plan = solve(problem)
            rows.append(row(fleet, season, "planner", plan, problem, time.monotonic() - t0))
            t0 = time.monotonic()
            hand = hand_plan(problem)
            rows.append(row(fleet, season, "hand baseline", hand, problem, time.monotonic() - t0))
            print(
                f"{fleet}, {season}: planner {rows[-2]['pop_at_freq']:,} vs hand {rows[-1]['pop_at_freq']:,}",
                file=sys.stderr,
            )
    total = sum(int(v) for v in area.villages["population"])
    lines = [
        f"# District benchmark ({dt.date.today().isoformat()})",
        "",
        f"Default Mường Tè data (approximated; {len(area.villages)} villages, {total:,} people), "
        f"{args.weeks}-week cycle from {args.start_date}, default rules. `pop_at_freq`: people whose village got "
        "all its required visits (own stop or a walk to one). Command: `python -m benchmarks.district"
        + (f" --max-iterations {args.max_iterations}" if args.max_iterations else "")
        + "`.",
    ]
    write_table(args.out, "district", lines, COLUMNS, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
