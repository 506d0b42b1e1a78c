"""Run the PVRP benchmark on every instance of a folder, one after the other.

    python -m benchmarks.pvrp_set [DIR] [--time-limit 60] [--seeds 0,1,2] [--only p01,pr01] [--out DIR]
                                  [--workers 2] [--prefix pvrp] [--tag _x]

DIR defaults to ``../shared/benchmarks/pvrp/instances`` (relative to the repo root).
Each instance is solved once per seed; prints a table (instance, n, t, m, BKS, best / mean /
worst cost and gap % over the seeds, feasible in every run, mean seconds, the 1-minute load
average after the instance) and writes ``benchmarks/results/<prefix>_<date><tag>.md`` and ``.csv``.
Each run uses ``--workers`` searches at once (see ``benchmarks.pvrp``). Rerun a subset with
``--only``. Exit code 1 if any run is infeasible.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
from pathlib import Path

from benchmarks.pvrp import DATA_ROOT, DEFAULT_WORKERS, REPO_ROOT, run

COLUMNS = (
    "instance",
    "n",
    "t",
    "m",
    "BKS",
    "seeds",
    "best cost",
    "best gap %",
    "mean gap %",
    "worst gap %",
    "feasible",
    "seconds",
    "load",
)


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
    ap.add_argument("--seed", type=int, default=None, help="one seed (same as --seeds N)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds; best, mean and worst are reported")
    ap.add_argument("--backend", default="auto", choices=("auto", "pyvrp", "ortools"))
    ap.add_argument("--only", help="comma-separated instance names")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    ap.add_argument("--tag", default="", help="suffix for the result file names")
    ap.add_argument("--prefix", default="pvrp", help="prefix of the result file names (default pvrp)")
    ap.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="searches at once per run (default 2)")
    ap.add_argument("--note", default="", help="text added after the command in the result file (e.g. the load)")
    args = ap.parse_args(argv)
    files = sorted(p for p in args.dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if args.only:
        wanted = set(args.only.split(","))
        files = [p for p in files if p.name in wanted]
    if not files:
        print(f"error: no instance files in {args.dir}", file=sys.stderr)
        return 2
    seeds = [args.seed] if args.seed is not None else [int(x) for x in args.seeds.split(",")]
    rows = []
    header = " ".join(f"{c:>11}" for c in COLUMNS)
    load0 = os.getloadavg()
    print(f"time limit {args.time_limit:g} s, seeds {seeds}, backend {args.backend}, workers {args.workers}")
    print(header)
    for path in files:
        runs = [
            run(path, time_limit_s=args.time_limit, seed=seed, backend=args.backend, workers=args.workers)
            for seed in seeds
        ]
        r = runs[0]
        costs = [x.check.cost for x in runs]
        gaps = [x.gap_pct for x in runs if x.gap_pct is not None]
        row = {
            "instance": r.instance.name,
            "n": r.instance.n_customers,
            "t": r.instance.n_days,
            "m": r.instance.n_vehicles,
            "BKS": r.reference,
            "seeds": len(runs),
            "best cost": min(costs),
            "best gap %": min(gaps) if gaps else None,
            "mean gap %": sum(gaps) / len(gaps) if gaps else None,
            "worst gap %": max(gaps) if gaps else None,
            "feasible": all(x.check.feasible for x in runs),
            "seconds": sum(x.seconds for x in runs) / len(runs),
            "load": os.getloadavg()[0],
        }
        rows.append(row)
        print(" ".join(f"{_fmt(row[c]):>11}" for c in COLUMNS), flush=True)
        for x in runs:
            for v in x.check.violations:
                print(f"    violation: {v}")
    gaps = [r["mean gap %"] for r in rows if r["mean gap %"] is not None]
    worst = max((r["worst gap %"] for r in rows if r["worst gap %"] is not None), default=None)
    n_feas = sum(1 for r in rows if r["feasible"])
    mean_gap = sum(gaps) / len(gaps) if gaps else None
    summary = (
        f"feasible {n_feas}/{len(rows)}; mean gap {_fmt(mean_gap)} % over {len(gaps)} instances "
        f"and {len(seeds)} seed(s); worst run {_fmt(worst)} %"
    )
    print(summary)

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.prefix}_{dt.date.today().isoformat()}{args.tag}"
    with open(args.out / f"{stem}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    md = [
        f"# PVRP benchmark, {dt.date.today().isoformat()}",
        "",
        f"Command: `python -m benchmarks.pvrp_set {_shown(args.dir)} --time-limit {args.time_limit:g} "
        f"--seeds {','.join(map(str, seeds))} --backend {args.backend} --workers {args.workers}`{args.note}. "
        f"Load average (1 / 5 / 15 min) at the start: {' / '.join(f'{x:.2f}' for x in load0)}; the `load` column is "
        f"the 1-minute load average after each instance, on a {os.cpu_count()}-core machine. Cost = total travel distance "
        "recomputed by the independent checker (unrounded Euclidean); BKS = line 1 of the reference `.res`; "
        "best / mean / worst over the seeds.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(_fmt(r[c]) for c in COLUMNS) + " |" for r in rows),
        "",
        summary[0].upper() + summary[1:] + ".",
        "",
    ]
    (args.out / f"{stem}.md").write_text("\n".join(md))
    print(f"wrote {args.out / stem}.md and .csv")
    return 0 if n_feas == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
