"""Scale of `planner compare`: every district of Lai Châu as its own scenario, three ways.

The province problem comes from :mod:`benchmarks.province` (108 real commune polygons, about
1,000 generated villages, a schematic road network per district); each of the 8 districts is an
independent plan (one van from the district depot, the baseline scenario's rules, a small work
budget). The same :func:`planner.comparison.run.run_scenario` runs them

1. sequentially in this process,
2. in local worker processes (``concurrent.futures``, one per core),
3. on a local Dask cluster (``distributed.LocalCluster``, one thread per worker process), once
   for each worker count of ``--dask-workers`` (default 1 and 2, for the speed-up),

and the benchmark reports wall time and peak memory of each, checks that all give the
same figures (solve time aside), and reports the Dask speed-up: wall time with 1 worker over
wall time with N workers, with the workers' CPU time and the load average beside each. The
Dask dashboard is off (port 8787 may be taken). Memory is sampled every 0.1 s as the resident
set size (RSS) of this process and all its descendants (psutil): "total" is the peak of the
sum, "largest" the peak of the biggest single process. Cluster start-up is timed apart from
the run.

Run from the repository root (about 8 minutes on 2 cores with the figures of the results)::

    python -m benchmarks.compare_scale [--max-iterations 5000] [--weeks 1] [--dask-workers 1,2]
        [--modes sequential,local,dask]

The table is printed and written to ``benchmarks/results/compare_scale.md`` (and ``.csv``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import tempfile
import threading
import time
from pathlib import Path

import psutil

from benchmarks import province
from planner.comparison.run import Scenario, comparable, comparison_rows, run_scenario, run_scenarios
from planner.model.config import load_config

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BASELINE = ROOT / "data" / "scenarios" / "baseline.toml"


class MemorySampler:
    """Peak RSS of this process and its descendants, sampled in a thread."""

    def __init__(self, every_s: float = 0.1):
        self.every_s = every_s
        self.peak_total = 0
        self.peak_largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            rss = []
            for p in [me, *me.children(recursive=True)]:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    pass
            self.peak_total = max(self.peak_total, sum(rss))
            self.peak_largest = max(self.peak_largest, max(rss, default=0))
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def district_tasks(folders: dict[str, Path], overrides: dict) -> list[tuple[Scenario, str]]:
    raw = load_config(BASELINE, overrides).to_dict()
    tasks = []
    for key, folder in sorted(folders.items()):
        name = json.loads((folder / "district.json").read_text(encoding="utf-8"))["name"]
        tasks.append((Scenario(name=key, raw=raw, source=str(BASELINE), label={"en": name, "vi": name}), str(folder)))
    return tasks


def _mb(b: float) -> str:
    return f"{b / 2**20:,.0f}"


def run_mode(mode: str, tasks, **kw) -> dict:
    t0 = time.perf_counter()
    with MemorySampler() as mem:
        results = run_scenarios([t[0] for t in tasks], mode=mode, tasks=tasks, task=run_scenario, **kw)
    wall = time.perf_counter() - t0
    return {
        "results": results,
        "wall_s": wall,
        "peak_total": mem.peak_total,
        "peak_largest": mem.peak_largest,
        "solve_s": sum(r.figures.get("solve_time_s", 0.0) for r in results),
    }


def run_dask(tasks, n_workers: int) -> dict:
    """The tasks on a fresh local Dask cluster of ``n_workers`` processes (dashboard off); start-up timed apart."""
    import distributed

    print(f"local Dask cluster ({n_workers} worker(s)) …", flush=True)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    t0 = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        startup = time.perf_counter() - t0
        before = sum(client.run(process_cpu_s).values())
        out = run_mode("dask", tasks, dask=client)
        cpu = sum(client.run(process_cpu_s).values()) - before
        return out | {"workers": n_workers, "startup_s": startup, "load": load, "cpu_s": cpu}


def process_cpu_s() -> float:
    """CPU seconds of the calling process (run on each Dask worker)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="planner compare at province scale")
    ap.add_argument("--villages", type=int, default=1000)
    ap.add_argument("--weeks", type=int, default=1)
    ap.add_argument("--max-iterations", type=int, default=5000)
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--workers", type=int, default=None, help="local processes (default: cores)")
    ap.add_argument("--dask-workers", default="1,2", help="Dask worker processes, one cluster per count (default: 1,2)")
    ap.add_argument("--modes", default="sequential,local,dask", help="modes to run (sequential is always run)")
    ap.add_argument(
        "--keep", type=Path, default=None, help="write the district folders here (default: a temporary folder)"
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "compare_scale.md")
    args = ap.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = args.workers or cores
    dask_counts = [int(x) for x in str(args.dask_workers).split(",") if x.strip()]
    modes = {m.strip() for m in args.modes.split(",")}
    overrides = {"plan": {"weeks": args.weeks, "max_iterations": args.max_iterations, "time_limit_s": args.time_limit}}

    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="province-")
        where = Path(tmp.name)
    else:
        where = args.keep
    t0 = time.perf_counter()
    folders = province.write(where, args.villages)
    gen_s = time.perf_counter() - t0
    tasks = district_tasks(folders, overrides)
    print(f"generated {len(folders)} districts in {gen_s:.1f} s under {where}", flush=True)

    runs = {}
    print("sequential …", flush=True)
    runs["sequential"] = run_mode("sequential", tasks) | {"workers": 1, "startup_s": 0.0}
    print(f"  {runs['sequential']['wall_s']:.1f} s", flush=True)
    if "local" in modes:
        print(f"local processes ({workers}) …", flush=True)
        runs["local"] = run_mode("local", tasks, workers=workers) | {"workers": workers, "startup_s": 0.0}
        print(f"  {runs['local']['wall_s']:.1f} s", flush=True)
    for n_dask in dask_counts if "dask" in modes else []:
        runs[f"dask-{n_dask}"] = run_dask(tasks, n_dask)
        print(f"  {runs[f'dask-{n_dask}']['wall_s']:.1f} s", flush=True)
    children_maxrss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    self_maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    ref = comparable(comparison_rows(runs["sequential"]["results"]))
    mode_rows = []
    for mode, r in runs.items():
        same = comparable(comparison_rows(r["results"])) == ref
        mode_rows.append(
            {
                "mode": mode.split("-")[0],
                "workers": r["workers"],
                "wall_s": round(r["wall_s"], 1),
                "sum_solve_s": round(r["solve_s"], 1),
                "speed_up": round(runs["sequential"]["wall_s"] / r["wall_s"], 2),
                "startup_s": round(r["startup_s"], 1),
                "peak_rss_total_mb": _mb(r["peak_total"]),
                "peak_rss_largest_mb": _mb(r["peak_largest"]),
                "same_figures": "yes" if same else "NO",
            }
        )
    dask_runs = [r for m, r in runs.items() if m.startswith("dask-")]
    one = next((r for r in dask_runs if r["workers"] == 1), None)
    speedup_lines = []
    if one is not None and len(dask_runs) > 1:
        speedup_lines = [
            "",
            "Dask speed-up (the same tasks on a `LocalCluster` of 1 and of N worker processes, one thread each; "
            "speed-up = wall with 1 worker / wall with N; the load average is beside each run):",
            "",
            "| Dask workers | wall (s) | speed-up over 1 worker | CPU of the workers (s) | sum of solve times (s) "
            "| load average at the start |",
            "|---:|---:|---:|---:|---:|---|",
            *(
                f"| {r['workers']} | {r['wall_s']:.1f} | {one['wall_s'] / r['wall_s']:.2f} | {r['cpu_s']:.1f} | "
                f"{r['solve_s']:.1f} | {r['load']} |"
                for r in dask_runs
            ),
        ]
    seq = runs["sequential"]["results"]
    n_v = sum(r.figures["villages_total"] for r in seq)
    n_p = sum(r.figures["population_total"] for r in seq)

    lines = [
        "# `planner compare` at province scale: Lai Châu, one scenario per district",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {platform.node()} ({cores} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, {platform.system()}). "
        f"Command: `python -m benchmarks.compare_scale --villages {args.villages} --weeks {args.weeks} "
        f"--max-iterations {args.max_iterations} --time-limit {args.time_limit:g}"
        + (f" --workers {args.workers}" if args.workers else "")
        + f" --dask-workers {args.dask_workers} --modes {args.modes}"
        + "`.",
        "",
        f"Problem: {len(seq)} districts, {n_v:,} villages, {n_p:,} people "
        f"(generated by `benchmarks/province.py` from the 108 real commune polygons; villages, populations and "
        f"roads are modelled). Each district: one van from its depot, the baseline scenario's rules, a "
        f"{args.weeks}-week cycle, work budget {args.max_iterations:,} search steps. Generation took {gen_s:.1f} s.",
        "",
        "| mode | workers | wall (s) | sum of solve times (s) | speed-up | cluster start-up (s) | peak RSS, all processes (MB) | peak RSS, largest process (MB) | same figures as sequential |",
        "|---|---:|---:|---:|---:|---:|---:|---:|:---:|",
        *(
            f"| {m['mode']} | {m['workers']} | {m['wall_s']} | {m['sum_solve_s']} | {m['speed_up']} | {m['startup_s']} | "
            f"{m['peak_rss_total_mb']} | {m['peak_rss_largest_mb']} | {m['same_figures']} |"
            for m in mode_rows
        ),
        *speedup_lines,
        "",
        f"`resource.getrusage`: this process's max RSS {self_maxrss_kb / 1024:,.0f} MB, largest waited-for child "
        f"{children_maxrss_kb / 1024:,.0f} MB. Wall time of a mode excludes generating the data and starting the "
        "Dask cluster; the local pool's time includes starting its worker processes (spawn).",
        "",
        "Per district (sequential run):",
        "",
        "| district | villages | people | served at frequency (%) | km | crew-days | solve (s) | stopped by |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        *(
            f"| {r.scenario.text('label', 'vi')} | {r.figures['villages_total']} | {r.figures['population_total']:,} | "
            f"{r.figures['population_at_frequency_pct']} | {r.figures['km_per_cycle']:,} | {r.figures['crew_days_per_cycle']} | "
            f"{r.figures['solve_time_s']} | {r.figures['stopped_by']} |"
            for r in seq
        ),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    with open(args.out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(mode_rows[0]))
        w.writeheader()
        w.writerows(mode_rows)
    if tmp is not None:
        tmp.cleanup()
    return 0 if all(m["same_figures"] == "yes" for m in mode_rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
