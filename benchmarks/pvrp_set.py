"""Run the PVRP benchmark on every instance of a folder, one after the other.

    python -m benchmarks.pvrp_set [DIR] [--time-limit 60] [--seed 0] [--only p01,pr01] [--out DIR]

DIR defaults to ``../shared/benchmarks/pvrp/instances`` (relative to the repo root).
Prints a table (instance, n, t, m, BKS, cost, gap %, feasible, seconds) and writes
``benchmarks/results/pvrp_<date>.md`` and ``.csv``. Exit code 1 if any run is infeasible.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
from pathlib import Path

from benchmarks.pvrp import DATA_ROOT, REPO_ROOT, run

COLUMNS = ("instance", "n", "t", "m", "BKS", "cost", "gap %", "feasible", "seconds")


def _shown(path: Path) -> str:
    """``path`` relative to the repo root when possible (result files should not name /work)."""
    try:
        return os.path.relpath(path.resolve(), REPO_ROOT)
    except ValueError:
        return str(path)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pvrp_set", description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, nargs="?", default=DATA_ROOT / "pvrp" / "instances")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", default="auto", choices=("auto", "pyvrp", "ortools"))
    ap.add_argument("--only", help="comma-separated instance names")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    ap.add_argument("--tag", default="", help="suffix for the result file names")
    args = ap.parse_args(argv)
    files = sorted(p for p in args.dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if args.only:
        wanted = set(args.only.split(","))
        files = [p for p in files if p.name in wanted]
    if not files:
        print(f"error: no instance files in {args.dir}", file=sys.stderr)
        return 2
    rows = []
    header = " ".join(f"{c:>9}" for c in COLUMNS)
    print(f"time limit {args.time_limit:g} s, seed {args.seed}, backend {args.backend}")
    print(header)
    for path in files:
        r = run(path, time_limit_s=args.time_limit, seed=args.seed, backend=args.backend)
        row = {
            "instance": r.instance.name,
            "n": r.instance.n_customers,
            "t": r.instance.n_days,
            "m": r.instance.n_vehicles,
            "BKS": r.reference,
            "cost": r.check.cost,
            "gap %": r.gap_pct,
            "feasible": r.check.feasible,
            "seconds": r.seconds,
        }
        rows.append(row)
        print(" ".join(f"{_fmt(row[c]):>9}" for c in COLUMNS), flush=True)
        for v in r.check.violations:
            print(f"    violation: {v}")
    gaps = [r["gap %"] for r in rows if r["gap %"] is not None]
    n_feas = sum(1 for r in rows if r["feasible"])
    mean_gap = sum(gaps) / len(gaps) if gaps else None
    print(f"feasible {n_feas}/{len(rows)}; mean gap {_fmt(mean_gap)} % over {len(gaps)} instances")

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"pvrp_{dt.date.today().isoformat()}{args.tag}"
    with open(args.out / f"{stem}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    md = [
        f"# PVRP benchmark, {dt.date.today().isoformat()}",
        "",
        f"Command: `python -m benchmarks.pvrp_set {_shown(args.dir)} --time-limit {args.time_limit:g} --seed {args.seed}"
        f" --backend {args.backend}`. Cost = total travel distance recomputed by the independent checker"
        " (unrounded Euclidean); BKS = line 1 of the reference `.res`.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(_fmt(r[c]) for c in COLUMNS) + " |" for r in rows),
        "",
        f"Feasible {n_feas}/{len(rows)}; mean gap {_fmt(mean_gap)} %.",
        "",
    ]
    (args.out / f"{stem}.md").write_text("\n".join(md))
    print(f"wrote {args.out / stem}.md and .csv")
    return 0 if n_feas == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
