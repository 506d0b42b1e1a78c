"""Solve one Cordeau PVRP instance with the engine's periodic solver and check it independently.

    python -m benchmarks.pvrp PATH [--time-limit 60] [--seed 0] [--backend auto] [--workers 2]
                                   [--write-solution FILE] [--reference FILE.res]

Prints the solver's cost, the checker's recomputed cost, feasibility and the gap to the
reference value (line 1 of ``../solutions/<name>.res`` beside the instance folder, or
``--reference``). ``--workers`` searches run at once (seeds ``seed``, ``seed + 7919``...; the default 2
uses both cores of the reference machine); they meet twice to go on from the best solution of all, and
the cheapest result is kept. Exit codes: 0
feasible, 1 infeasible or no solution, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.formats import (
    CheckReport,
    PVRPInstance,
    PVRPRoute,
    PVRPSolution,
    check_pvrp,
    format_pvrp_solution,
    parse_pvrp,
    parse_pvrp_solution,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO_ROOT.parent / "shared" / "benchmarks"


@dataclass(frozen=True)
class PVRPRun:
    instance: PVRPInstance
    solution: PVRPSolution
    check: CheckReport
    reference: float | None
    seconds: float
    iterations: int
    kernel_calls: int

    @property
    def gap_pct(self) -> float | None:
        if self.reference is None or not self.check.feasible:
            return None
        return 100.0 * (self.check.cost - self.reference) / self.reference


def reference_path(instance_path: Path) -> Path:
    """``<dir>/../solutions/<name>.res``, the layout of the shared benchmark folder."""
    return instance_path.resolve().parent.parent / "solutions" / f"{instance_path.name}.res"


DEFAULT_WORKERS = 2
"""Independent searches run at once by default: the benchmark's budget is 60 s on 2 cores."""


def solve_instance(
    inst: PVRPInstance, *, time_limit_s: float, seed: int = 0, backend: str = "auto", workers: int = DEFAULT_WORKERS
) -> tuple[PVRPSolution, int, int]:
    """Run :func:`planner.engine.periodic.solve_periodic`; routes numbered 1..m per day."""
    from planner.engine.periodic import PeriodicProblem, solve_periodic

    problem = PeriodicProblem(
        dist=inst.distance_matrix(),
        demand=inst.demand.copy(),
        service=inst.service.copy(),
        combos=inst.combos,
        n_days=inst.n_days,
        n_vehicles=inst.n_vehicles,
        capacity=inst.capacity,
        max_duration=inst.max_duration,
    )
    res = solve_periodic(problem, time_limit_s=time_limit_s, seed=seed, backend=backend, workers=workers)
    routes = tuple(
        PVRPRoute(day=day, vehicle=k + 1, customers=tuple(r))
        for day, day_routes in enumerate(res.routes)
        for k, r in enumerate(day_routes)
    )
    return PVRPSolution(cost=res.cost, routes=routes), res.iterations, res.kernel_calls


def run(
    path: Path,
    *,
    time_limit_s: float,
    seed: int = 0,
    backend: str = "auto",
    reference: Path | None = None,
    workers: int = DEFAULT_WORKERS,
) -> PVRPRun:
    inst = parse_pvrp(path)
    ref_file = reference if reference is not None else reference_path(path)
    ref_value = parse_pvrp_solution(ref_file).cost if ref_file.exists() else None
    t0 = time.perf_counter()
    sol, iters, calls = solve_instance(inst, time_limit_s=time_limit_s, seed=seed, backend=backend, workers=workers)
    seconds = time.perf_counter() - t0
    return PVRPRun(inst, sol, check_pvrp(inst, sol), ref_value, seconds, iters, calls)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pvrp", description=__doc__.split("\n")[0])
    ap.add_argument("path", type=Path, help="Cordeau-format PVRP instance file")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds for the whole solve (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--backend", default="auto", choices=("auto", "pyvrp", "ortools"), help="kernel backend for the days"
    )
    ap.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="independent searches at once, best kept (default 2)"
    )
    ap.add_argument("--write-solution", type=Path, help="write the solution in .res format")
    ap.add_argument("--reference", type=Path, help="reference .res (default ../solutions/<name>.res)")
    args = ap.parse_args(argv)
    try:
        result = run(
            args.path,
            time_limit_s=args.time_limit,
            seed=args.seed,
            backend=args.backend,
            reference=args.reference,
            workers=args.workers,
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    inst, chk = result.instance, result.check
    for note in inst.notes + chk.notes:
        print(f"note: {note}")
    print(
        f"{inst.name}: n={inst.n_customers} t={inst.n_days} m={inst.n_vehicles} Q={inst.capacity} "
        f"D={inst.max_duration:g}"
    )
    print(f"solver cost   {result.solution.cost:.2f}")
    print(f"checked cost  {chk.cost:.2f}  feasible={chk.feasible}")
    for v in chk.violations:
        print(f"  violation: {v}")
    if result.reference is not None:
        gap = result.gap_pct
        print(f"reference     {result.reference:.2f}  gap {'n/a' if gap is None else f'{gap:+.2f} %'}")
    print(
        f"time          {result.seconds:.1f} s ({result.iterations} LNS iterations, {result.kernel_calls} kernel calls, "
        f"{args.workers} worker(s)); load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if args.write_solution is not None:
        args.write_solution.parent.mkdir(parents=True, exist_ok=True)
        args.write_solution.write_text(format_pvrp_solution(inst, result.solution))
        print(f"wrote {args.write_solution}")
    return 0 if chk.feasible else 1


if __name__ == "__main__":
    sys.exit(main())
