"""Command line: a thin shell over the library.

Exit codes: 0 success; 2 bad input (data or configuration); 3 no plan can be made;
4 the output folder exists (use --force); 5 the workspace database cannot be used; 1 the program failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from pathlib import Path

from planner.cli.calibrate import main_calibrate
from planner.cli.check import main_check
from planner.cli.compare import main_compare
from planner.cli.import_osm import main_import_osm
from planner.cli.serve import add_serve_parsers, cmd_serve, cmd_user  # web app (issue 12)
from planner.cli.workspace import add_plan_options, after_plan, prepare_plan  # workspace (issue 11)
from planner.cli.workspace import register as register_workspace  # workspace (issue 11)
from planner.io import load_area
from planner.model.config import load_config
from planner.model.errors import PlannerError
from planner.model.fairness import fairness_figures
from planner.runs import print_existing, run_plan

#: Sub-commands that parse their own arguments (issue 10).
DIRECT_COMMANDS = {"calibrate": main_calibrate, "import-osm": main_import_osm}
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("outputs")


def gap_pct(value: float, bound: float) -> float:
    """How far ``value`` is below ``bound``, in % of the bound."""
    return 100.0 * (bound - value) / abs(bound) if bound else 0.0


def _add_plan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=None, help="folder with villages/sites/roads/communes (default: data/)")
    p.add_argument("--config", type=Path, default=None, help="TOML file with planning parameters")
    p.add_argument("--start-date", default=None, help="first day of the plan, YYYY-MM-DD (default: next Monday)")
    p.add_argument("--weeks", type=int, default=None, help="length of the cycle in weeks (1-8)")
    p.add_argument("--season", choices=("dry", "rainy"), default=None)
    p.add_argument("--time-limit", type=float, default=None, help="solver time limit in seconds")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--vans", type=int, default=None, help="number of identical vans (overrides the config's fleet)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description="Plan mobile-library (book van) service.")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("plan", help="plan the service and write plan.json, stops.csv, map and schedules")
    _add_plan_args(p)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder where runs are written (default: outputs/)")
    p.add_argument("--run", default=None, help="name of the run folder (default: date and time)")
    p.add_argument("--force", action="store_true", help="replace an existing run folder of the same name")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the printable schedules")
    p.add_argument("--no-printables", action="store_true", help="skip PDFs, workbook and calendars")
    # issue 10 part 8 (begin): schedules by pre-2025 or 2025 communes
    p.add_argument("--units", choices=("pre2025", "2025"), default=None, help="group schedules by these communes")
    # issue 10 part 8 (end)
    p.add_argument("--quiet", action="store_true", help="no progress display")
    add_plan_options(p)  # workspace (issue 11): --db, --next-cycle

    c = sub.add_parser("check", help="validate input files and list every problem")
    c.add_argument("check_args", nargs=argparse.REMAINDER)

    pr = sub.add_parser("print", help="write printable schedules for an existing run")
    pr.add_argument("run_dir", type=Path)
    pr.add_argument("--data", type=Path, default=None)
    pr.add_argument("--lang", choices=("vi", "en"), default="vi")
    pr.add_argument("--force", action="store_true")
    pr.add_argument("--units", choices=("pre2025", "2025"), default=None, help="group schedules by these communes")

    cmp_ = sub.add_parser("compare", help="run several scenario files and compare them")
    cmp_.add_argument("scenarios", nargs="+", type=Path)
    cmp_.add_argument("--data", type=Path, default=None)
    cmp_.add_argument("--out", type=Path, default=DEFAULT_OUT)
    cmp_.add_argument("--run", default=None)
    cmp_.add_argument("--force", action="store_true")
    cmp_.add_argument("--time-limit", type=float, default=None)
    cmp_.add_argument("--workers", type=int, default=None, help="local processes (default: cores)")
    cmp_.add_argument("--sequential", action="store_true")
    cmp_.add_argument("--dask", default=None, help="address of a Dask scheduler (or env PLANNER_DASK_ADDRESS)")
    cmp_.add_argument("--lang", choices=("vi", "en"), default="vi")
    cmp_.add_argument(
        "--units",
        choices=("pre2025", "2025"),
        default="pre2025",
        help="group the per-commune figures by these communes",
    )
    cmp_.add_argument("--quiet", action="store_true")
    # issue 10 (begin): calibrate, import-osm
    cal = sub.add_parser("calibrate", help="fit road speeds to measured driving times (travel_times.csv)")
    cal.add_argument("calibrate_args", nargs=argparse.REMAINDER)
    osm = sub.add_parser("import-osm", help="write a data folder from an OSM extract and a communes file")
    osm.add_argument("import_args", nargs=argparse.REMAINDER)
    # issue 10 (end)
    parser.set_defaults(workspace_handlers=register_workspace(sub))  # workspace (issue 11)
    # --- web app (issue 12): serve, user add
    add_serve_parsers(sub)
    # --- end web app
    return parser


def overrides_from_args(args) -> dict:
    plan: dict = {}
    if getattr(args, "start_date", None):
        plan["start_date"] = args.start_date
    if getattr(args, "weeks", None) is not None:
        plan["weeks"] = args.weeks
    if getattr(args, "season", None):
        plan["season"] = args.season
    if getattr(args, "time_limit", None) is not None:
        plan["time_limit_s"] = args.time_limit
    if getattr(args, "seed", None) is not None:
        plan["seed"] = args.seed
    out: dict = {"plan": plan}
    return out


def _progress(limit_s: float, quiet: bool):
    """A terminal progress display fed by the solver's improvement callback."""
    state = {"best": None, "n": 0, "t0": time.monotonic(), "done": False}
    if quiet:
        return (lambda t, obj: None), (lambda: None)
    from rich.console import Console

    console = Console(stderr=True)

    def on_progress(t, obj):
        state["best"], state["n"] = obj, state["n"] + 1

    def ticker():
        with console.status("") as status:
            while not state["done"]:
                el = time.monotonic() - state["t0"]
                best = f"{state['best']:,}" if state["best"] is not None else "searching…"
                status.update(
                    f"solving: {el:5.1f} s of at most {limit_s:.0f} s (time left ≤ {max(0, limit_s - el):.0f} s) · "
                    f"best objective {best} · {state['n']} improvements"
                )
                time.sleep(0.25)

    th = threading.Thread(target=ticker, daemon=True)
    th.start()

    def stop():
        state["done"] = True
        th.join(timeout=2)

    return on_progress, stop


def cmd_plan(args) -> int:

    config = load_config(args.config, overrides_from_args(args))
    if args.vans is not None:
        base = config.to_dict()["vehicles"][0]
        config = config.replace(vehicles=[dict(base, id=f"van{k + 1}") for k in range(args.vans)])
    area = load_area(args.data)
    config, area, ws_ctx = prepare_plan(args, config, area)  # workspace (issue 11): pins, --next-cycle
    name = args.run or dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")
    on_progress, stop = _progress(config.plan.time_limit_s, args.quiet)
    try:
        result = run_plan(
            area,
            config,
            out=args.out,
            run=name,
            force=args.force,
            lang=args.lang,
            printables=not args.no_printables,
            on_progress=on_progress,
            auto_suffix=args.run is None,
            units=args.units,  # issue 10 part 8
        )
    finally:
        stop()
    print_summary(result["plan"], result["path"])
    after_plan(args, result, ws_ctx)  # workspace (issue 11): register the run as a draft
    return 0


def print_summary(plan, path) -> None:
    s = plan.summary()
    print(f"plan written to {path}")
    print(
        f"  status {plan.status}: {s['villages_served']}/{s['villages_total']} villages, "
        f"{s['population_served']:,}/{s['population_total']:,} people ({s['population_served_pct']} %), "
        f"{s['distance_km']} km, {s['driving_h']} h driving, {s['service_h']} h at stops, "
        f"{s['nights_away']} nights away, {s['books']} books"
    )
    reasons: dict[str, int] = {}
    for u in plan.unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    if reasons:
        print("  short of their visits: " + ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in sorted(reasons.items())))
    at_freq = s["population_served_at_frequency"]
    line = f"  at their frequency: {at_freq:,} people ({100 * at_freq / max(1, s['population_total']):.1f} %)"
    bound = plan.run.get("bound")
    if bound:
        ub = bound["population_upper_bound"]
        line += (
            f"; no plan under these rules can serve more than {ub:,} ({100 * ub / max(1, s['population_total']):.1f} %)"
        )
    print(line)
    if s.get("objective_bound") is not None and s.get("objective_value") is not None:
        ov, ob = s["objective_value"], s["objective_bound"]
        print(
            f"  weighted objective (value of visits made minus driving seconds): {ov:,.0f}; "
            f"no plan under these rules can reach more than {ob:,.0f} (gap {gap_pct(ov, ob):.1f} %)"
        )
    f = fairness_figures(plan)
    print(
        f"  fairness: worst-served commune {f['worst_commune']} ({f['worst_commune_pct']} %), "
        f"spread between communes (Gini) {f['commune_gini']}, {f['villages_never_reached']} villages never reached"
    )
    c = plan.costs
    if c:
        print(
            f"  cost per cycle: {c['total_vnd']:,} VND (fuel {c['fuel_vnd']:,}, per diem {c['per_diem_vnd']:,}, "
            f"lodging {c['lodging_vnd']:,}, overtime {c['overtime_vnd']:,})"
            + (f"; {c['over_budget_vnd']:,} VND over the budget cap" if c.get("over_budget_vnd") else "")
        )
    for b in plan.run.get("commune_floor", {}).get("below", []):
        print(f"  below the commune floor: {b['commune']} {b['pct']} %: {b['why']}")
    for sc in plan.run.get("school_sessions", []):
        held = ", ".join(sc["dates"]) or "none"
        why = f" ({sc['reason'].replace('_', ' ')}: {sc['detail']})" if sc.get("reason") else ""
        print(f"  school sessions at {sc['name']}: {sc['sessions']}/{sc['required']} on {held}{why}")
    print(f"  solver: {plan.run['solve_time_s']} s, stopped by {plan.run['stopped_by'].replace('_', ' ')}")


def cmd_check(args) -> int:

    return int(main_check(args.check_args))


def cmd_print(args) -> int:

    paths = print_existing(args.run_dir, data=args.data, lang=args.lang, force=args.force, units=args.units)
    print(f"printables written to {paths}")
    return 0


def cmd_compare(args) -> int:

    return int(main_compare(args))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["plan", *argv]
    if argv and argv[0] in DIRECT_COMMANDS:  # issue 10: sub-commands with their own parsers
        return int(DIRECT_COMMANDS[argv[0]](argv[1:]))
    args = parser.parse_args(argv)
    handlers = {"plan": cmd_plan, "check": cmd_check, "print": cmd_print, "compare": cmd_compare}
    handlers.update(args.workspace_handlers)  # workspace (issue 11)
    handlers.update({"serve": cmd_serve, "user": cmd_user})  # web app (issue 12)
    try:
        return handlers[args.command](args)
    except PlannerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; no partial run folder was left", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
