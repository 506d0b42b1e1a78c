"""The district itself: the planner against a hand-made plan, on the default Mường Tè data.

For 1 and 2 vans, dry and rainy season (4-week cycle, default rules): population and villages
served at their required frequency, by channel, km, driving hours, nights away and solve time,
side by side with the hand baseline (commune by commune, nearest village next; see
``planner/baseline.py``). Both plans pass the same independent checker.

    python -m benchmarks.district [--max-iterations N] [--weeks 4] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from pathlib import Path

from benchmarks.baseline import hand_plan
from planner.io import load_area
from planner.model.config import load_config
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-iterations", type=int, default=None, help="solver work budget (default: the config's)")
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--start-date", default="2026-11-30")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
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
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "district.md").write_text(text, encoding="utf-8")
    with open(args.out / "district.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
