"""VRPTW (Solomon) and CVRP (CVRPLIB X) side by side: the engine's kernel against PyVRP and VROOM.

    python -m benchmarks.vrp [--time-limit 60] [--instances DIR] [--solvers LIST] [--only NAMES]

Solvers (each gets the same time limit and the same integer matrix, one after the other):

* ``engine-ortools``: :func:`planner.engine.kernel.solve` with ``backend="ortools"``;
* ``engine-pyvrp``: the same kernel call with ``backend="pyvrp"`` (our translation);
* ``pyvrp``: PyVRP called directly on the instance (the reference for the translation);
* ``vroom``: pyvroom (exploration level 5, one thread, ``timeout`` = the limit; it
  usually stops well before).

Conventions: Solomon files use LKH-3's ``FLOOR_2D`` at ``SCALE 10`` (distances truncated
to 0.1, travel time = distance) with a fleet of 25; X files use ``EUC_2D`` rounded with
a fleet of ``k + max(2, ceil(k/4))``. BKS = the distance-only tour / ``.sol`` cost. Every
solution is re-checked by :func:`benchmarks.formats.check_vrp` (capacity, windows, each
customer once, fleet size), which also recomputes the cost; a solver's own cost is never
used. Writes ``benchmarks/results/vrp_<date>.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.formats import VRPInstance, check_vrp, parse_cvrplib_sol, parse_lkh_tour, parse_tsplib_vrp
from benchmarks.pvrp import DATA_ROOT, REPO_ROOT

SOLVERS = ("engine-ortools", "engine-pyvrp", "pyvrp", "vroom")


# --------------------------------------------------------------------------- instances


def find_instances(root: Path) -> list[Path]:
    files = sorted(root.rglob("*.vrptw")) + sorted(root.rglob("*.vrp"))
    return [f for f in files if f.is_file()]


def bks_of(path: Path, inst: VRPInstance) -> int | None:
    """Distance-only BKS: ``<name>.sol`` beside an X file, or the LKH-3 tour of a Solomon file."""
    sol = path.with_suffix(".sol")
    if sol.exists():
        return parse_cvrplib_sol(sol)[1]
    tours = sorted((path.parent / "tours_distance_only").glob(f"{inst.name}.*.tour"))
    if tours:
        return parse_lkh_tour(tours[0], inst.n_customers)[1]
    return None


def to_routing_model(inst: VRPInstance):
    """The instance as a kernel :class:`RoutingModel` (all customers mandatory)."""
    from planner.engine.model import MANDATORY, RoutingModel, VehicleSpec

    n = inst.n_customers + 1
    if inst.windows is not None:
        horizon = int(inst.windows[0, 1])
        windows = tuple(() if i == 0 else ((int(inst.windows[i, 0]), int(inst.windows[i, 1])),) for i in range(n))
        tw = (int(inst.windows[0, 0]), horizon)
    else:
        horizon = int(inst.dist.max()) * (n + 1) + int(inst.service.sum()) + 1
        windows = tuple(() for _ in range(n))
        tw = (0, horizon)
    vehicles = tuple(
        VehicleSpec(start=0, end=0, capacity=inst.capacity, tw_start_s=tw[0], tw_end_s=tw[1], name=f"v{k + 1}")
        for k in range(inst.n_vehicles)
    )
    return RoutingModel(
        time_s=(inst.dist.copy(),),
        dist_m=(inst.dist.copy(),),
        service_s=inst.service.copy(),
        demand=inst.demand.copy(),
        windows=windows,
        penalty=np.full(n, MANDATORY, dtype=np.int64),
        vehicles=vehicles,
        horizon_s=horizon,
        meta={"benchmark": inst.name},
    )


# --------------------------------------------------------------------------- solvers


def solve_engine(inst: VRPInstance, backend: str, time_limit_s: float, seed: int) -> list[list[int]] | None:
    from planner.engine.kernel import solve

    res = solve(to_routing_model(inst), time_limit_s=time_limit_s, seed=seed, backend=backend)
    if res.status not in ("optimal", "feasible"):
        return None
    return [[v.node for v in r.visits[1:-1]] for r in res.routes]


def solve_pyvrp_direct(inst: VRPInstance, time_limit_s: float, seed: int) -> list[list[int]] | None:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    n = inst.n_customers + 1
    tw = inst.windows
    big = int(np.iinfo(np.int64).max)
    locations = [pyvrp.Location(0.0, 0.0) for _ in range(n)]
    depots = [
        pyvrp.Depot(
            0, tw_early=int(tw[0, 0]) if tw is not None else 0, tw_late=int(tw[0, 1]) if tw is not None else big
        )
    ]
    clients = [
        pyvrp.Client(
            i,
            delivery=[int(inst.demand[i])],
            service_duration=int(inst.service[i]),
            tw_early=int(tw[i, 0]) if tw is not None else 0,
            tw_late=int(tw[i, 1]) if tw is not None else big,
        )
        for i in range(1, n)
    ]
    vt = [
        pyvrp.VehicleType(
            num_available=inst.n_vehicles,
            capacity=[inst.capacity],
            tw_early=int(tw[0, 0]) if tw is not None else 0,
            tw_late=int(tw[0, 1]) if tw is not None else big,
        )
    ]
    data = pyvrp.ProblemData(locations, clients, depots, vt, [inst.dist], [inst.dist])
    res = pyvrp.solve(data, MaxRuntime(time_limit_s), seed=seed, display=False)
    if not res.best.is_feasible():
        return None
    return [[a.idx + 1 for a in r.schedule() if a.is_client()] for r in res.best.routes()]


def solve_vroom(inst: VRPInstance, time_limit_s: float, seed: int) -> list[list[int]] | None:
    import datetime

    import vroom

    del seed  # VROOM is deterministic
    n = inst.n_customers + 1
    tw = inst.windows
    problem = vroom.Input()
    problem.set_durations_matrix("car", inst.dist)
    problem.set_costs_matrix("car", inst.dist)
    for k in range(inst.n_vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                k + 1,
                start=0,
                end=0,
                capacity=[inst.capacity],
                time_window=None if tw is None else vroom.TimeWindow(int(tw[0, 0]), int(tw[0, 1])),
            )
        )
    for i in range(1, n):
        problem.add_job(
            vroom.Job(
                i,
                location=i,
                default_service=int(inst.service[i]),
                delivery=[int(inst.demand[i])],
                time_windows=() if tw is None else [vroom.TimeWindow(int(tw[i, 0]), int(tw[i, 1]))],
            )
        )
    sol = problem.solve(exploration_level=5, nb_threads=1, timeout=datetime.timedelta(seconds=time_limit_s))
    frame = sol.routes
    jobs = frame[frame["type"] == "job"]
    routes = [list(map(int, g["id"])) for _, g in jobs.groupby("vehicle_id", sort=True)]
    return routes


RUNNERS: dict[str, Callable[[VRPInstance, float, int], list[list[int]] | None]] = {
    "engine-ortools": lambda inst, t, s: solve_engine(inst, "ortools", t, s),
    "engine-pyvrp": lambda inst, t, s: solve_engine(inst, "pyvrp", t, s),
    "pyvrp": solve_pyvrp_direct,
    "vroom": solve_vroom,
}


# --------------------------------------------------------------------------- main


def _fmt(v, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def run_one(inst: VRPInstance, solver: str, time_limit_s: float, seed: int, bks: int | None) -> dict:
    t0 = time.perf_counter()
    try:
        routes = RUNNERS[solver](inst, time_limit_s, seed)
        error = None
    except Exception as exc:  # a solver crash is a result to report, not a harness failure
        routes, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    if routes is None:
        return {"cost": None, "gap": None, "feasible": False, "seconds": seconds, "note": error or "no solution"}
    chk = check_vrp(inst, routes)
    cost = chk.cost / inst.scale
    gap = 100.0 * (chk.cost - bks) / bks if bks and chk.feasible else None
    note = "; ".join(chk.violations[:3])
    return {"cost": cost, "gap": gap, "feasible": chk.feasible, "seconds": seconds, "note": note}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.vrp", description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--instances", type=Path, default=DATA_ROOT / "instances", help="folder searched for *.vrptw / *.vrp"
    )
    ap.add_argument("--solvers", default=",".join(SOLVERS), help=f"comma-separated subset of {','.join(SOLVERS)}")
    ap.add_argument("--only", help="comma-separated instance names, e.g. C101,X-n101-k25")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    ap.add_argument("--tag", default="", help="suffix for the result file names")
    args = ap.parse_args(argv)
    solvers = [s for s in args.solvers.split(",") if s]
    unknown = [s for s in solvers if s not in RUNNERS]
    if unknown:
        print(f"error: unknown solver(s) {unknown}; choose from {SOLVERS}", file=sys.stderr)
        return 2
    files = find_instances(args.instances)
    if args.only:
        wanted = set(args.only.split(","))
        files = [f for f in files if f.name.split(".")[0] in wanted]
    if not files:
        print(f"error: no *.vrptw / *.vrp files under {args.instances}", file=sys.stderr)
        return 2

    rows = []
    print(f"time limit {args.time_limit:g} s, seed {args.seed}; cost / gap % / feasible / seconds per solver")
    for path in files:
        inst = parse_tsplib_vrp(path)
        bks = bks_of(path, inst)
        row: dict = {"instance": inst.name, "BKS": None if bks is None else bks / inst.scale}
        for solver in solvers:
            r = run_one(inst, solver, args.time_limit, args.seed, bks)
            for key in ("cost", "gap", "feasible", "seconds"):
                row[f"{solver} {key}"] = r[key]
            cells = f"{_fmt(r['cost'], 1)} / {_fmt(r['gap'])} / {_fmt(r['feasible'])} / {r['seconds']:.1f}s"
            print(f"{inst.name:>12} {solver:>15}: {cells} {r['note']}", flush=True)
        rows.append(row)

    means = {}
    print("\nmean gap % (feasible runs) and feasible count per solver:")
    for solver in solvers:
        gaps = [r[f"{solver} gap"] for r in rows if r[f"{solver} gap"] is not None]
        feas = sum(1 for r in rows if r[f"{solver} feasible"])
        means[solver] = (sum(gaps) / len(gaps) if gaps else None, feas)
        print(f"  {solver:>15}: {_fmt(means[solver][0])} %  feasible {feas}/{len(rows)}")

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"vrp_{dt.date.today().isoformat()}{args.tag}"
    fields = ["instance", "BKS"] + [f"{s} {k}" for s in solvers for k in ("cost", "gap", "feasible", "seconds")]
    with open(args.out / f"{stem}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    head = ["instance", "BKS"] + [f"{s} cost / gap % / ok / s" for s in solvers]
    md = [
        f"# VRPTW / CVRP benchmark, {dt.date.today().isoformat()}",
        "",
        f"Command: `python -m benchmarks.vrp --time-limit {args.time_limit:g} --seed {args.seed}"
        f" --solvers {','.join(solvers)}`. Costs recomputed by `benchmarks.formats.check_vrp`"
        " (Solomon: FLOOR_2D at scale 10, fleet 25; X: EUC_2D rounded, fleet k + max(2, ceil(k/4))).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [r["instance"], _fmt(r["BKS"], 1)]
        for s in solvers:
            cells.append(
                f"{_fmt(r[f'{s} cost'], 1)} / {_fmt(r[f'{s} gap'])} / {_fmt(r[f'{s} feasible'])} / {r[f'{s} seconds']:.1f}"
            )
        md.append("| " + " | ".join(cells) + " |")
    md.append(
        "| **mean gap %** | | "
        + " | ".join(f"{_fmt(means[s][0])} (feasible {means[s][1]}/{len(rows)})" for s in solvers)
        + " |"
    )
    md.append("")
    (args.out / f"{stem}.md").write_text("\n".join(md))
    print(f"wrote {args.out / stem}.md and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
