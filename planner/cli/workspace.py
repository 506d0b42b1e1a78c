"""Workspace commands: init, publish, pin, edit, record, replan, report; and the hooks of ``plan``.

Exit codes (besides the planner's 0, 1, 2, 3, 4): 5 the workspace database cannot be used
(none yet: run ``planner init``; a schema newer than this program; not a database; locked by
another process for longer than ``PLANNER_DB_TIMEOUT`` seconds). Bad visit sheets, unknown
villages or runs and edits that break a rule are bad input: exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from planner.io import load_area
from planner.io.load import DEFAULT_DATA_DIR
from planner.model.errors import InputError, Problem
from planner.workspace.cycle import carry_over, cycle_history, next_cycle_start, with_priority
from planner.workspace.edit import EditRequest, edit_run
from planner.workspace.replan import ReplanRequest, apply_closures, replan
from planner.workspace.report import write_report
from planner.workspace.service import (
    add_pin,
    audit_lines,
    closures_between,
    closures_meta,
    is_registered,
    pins_between,
    plan_status,
    publish,
    record,
    register_run,
    remove_pin,
    run_meta,
    unmet_pins,
    write_meta,
)
from planner.workspace.store import db_url, init_workspace, open_workspace, sqlite_path

DEFAULT_OUT = Path("outputs")


def a_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from exc


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", default=None, help="workspace database: file or URL (default: $PLANNER_DB or workspace/planner.db)"
    )


def add_plan_options(p: argparse.ArgumentParser) -> None:
    """Options the workspace adds to ``planner plan``."""
    add_db(p)
    p.add_argument(
        "--next-cycle",
        action="store_true",
        help="plan the cycle after the published one; villages short of visits come first",
    )


def register(sub) -> dict:
    """Add the workspace sub-commands to the parser; return their handlers by name."""
    p = sub.add_parser("init", help="create the workspace database (workspace/planner.db)")
    add_db(p)
    p = sub.add_parser("publish", help="make a run the current plan and write its visit sheet")
    p.add_argument("run")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    add_db(p)
    p = sub.add_parser("pin", help="fix a village's visit to a date (and time)")
    p.add_argument("village")
    p.add_argument("date", type=a_date)
    p.add_argument("time", nargs="?", default=None, help="HH:MM")
    p.add_argument("--note", default="")
    p.add_argument("--remove", action="store_true", help="delete the pin")
    p.add_argument("--data", type=Path, default=None)
    add_db(p)
    p = sub.add_parser("edit", help="move, drop or add a visit by hand; the checker must pass")
    p.add_argument("run")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--move", nargs="+", metavar=("VILLAGE", "DATE"), help="VILLAGE DATE [TIME]")
    g.add_argument("--drop", nargs=2, metavar=("VILLAGE", "DATE"))
    g.add_argument("--add", nargs="+", metavar=("VILLAGE", "DATE"), help="VILLAGE DATE [TIME]")
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--name", default=None, help="name of the edited run (default RUN-edit-N)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi")
    add_db(p)
    p = sub.add_parser("record", help="load a filled visit sheet (.xlsx or .csv) into the visit log")
    p.add_argument("file", type=Path)
    add_db(p)
    p = sub.add_parser("replan", help="re-plan the published cycle from a date, keeping what is done")
    p.add_argument("--from", dest="date_from", type=a_date, required=True)
    p.add_argument("--close-road", action="append", default=[], metavar="ROAD_ID")
    p.add_argument("--close-place", action="append", default=[], metavar="ID")
    p.add_argument("--until", type=a_date, default=None, help="last day of the closures")
    p.add_argument("--reason", default="", help="why (kept with the closures)")
    p.add_argument("--vehicle-down", default=None, metavar="ID")
    p.add_argument("--days", type=int, default=0, help="working days the vehicle is down")
    p.add_argument("--max-iterations", type=int, default=None, help="work budget (default: the published plan's)")
    p.add_argument(
        "--time-limit", type=float, default=None, help="safety cap in seconds (default: the published plan's)"
    )
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--run", default=None)
    p.add_argument("--lang", choices=("vi", "en"), default="vi")
    add_db(p)
    p = sub.add_parser("report", help="the directive's report from the visit log: report.pdf, report.xlsx, charts")
    p.add_argument("--from", dest="date_from", type=a_date, required=True)
    p.add_argument("--to", dest="date_to", type=a_date, required=True)
    p.add_argument("--out", type=Path, default=None, help="folder (default outputs/report-FROM-TO)")
    p.add_argument("--cost-per-km", type=float, default=4000.0, help="VND per km (default 4,000)")
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--force", action="store_true")
    p.add_argument(
        "--units", choices=("pre2025", "2025"), default="pre2025", help="group the per-commune rows by these communes"
    )
    add_db(p)
    p = sub.add_parser("audit", help="who changed what, and when (newest first)")
    p.add_argument("--entity", default=None, help="plan, visit, restock, pin, road, place, dataset")
    p.add_argument("--limit", type=int, default=50)
    add_db(p)
    return {
        "audit": cmd_audit,
        "init": cmd_init,
        "publish": cmd_publish,
        "pin": cmd_pin,
        "edit": cmd_edit,
        "record": cmd_record,
        "replan": cmd_replan,
        "report": cmd_report,
    }


def workspace_exists(db) -> bool:
    url = db_url(db)
    path = sqlite_path(url)
    return path.exists() if path is not None else True


def prepare_plan(args, config, area):
    """Before ``planner plan``: next-cycle dates and priorities, pins from the workspace.

    Returns ``(config, area, context)``; ``context`` is None when there is no workspace.
    """
    db = getattr(args, "db", None)
    if not workspace_exists(db):
        if getattr(args, "next_cycle", False):
            open_workspace(db).close()  # raises: no workspace
        return config, area, None
    ctx = {"db": db, "kind": "plan", "carry": {}}
    with open_workspace(db) as ws:
        if args.run and plan_status(ws, args.run) in ("published", "superseded"):
            raise InputError(
                [
                    Problem(
                        "command line",
                        f"run={args.run}",
                        "--run",
                        args.run,
                        "a published plan's folder is never replaced; choose another name",
                    )
                ]
            )
        if getattr(args, "next_cycle", False):
            start, weeks = next_cycle_start(ws)
            ctx["carry"] = carry_over(cycle_history(ws))
            over = {"start_date": start.isoformat(), "carry_over": sorted(ctx["carry"])}
            if args.weeks is None:
                over["weeks"] = weeks
            config = config.replace(plan=over)
            area = with_priority(area, ctx["carry"])
            ctx["kind"] = "next_cycle"
        dates = config.working_dates()
        if dates:
            pins = pins_between(ws, dates[0], dates[-1])
            if pins:
                config = config.replace(pins=list(config.to_dict()["pins"]) + pins)
            roads, places = closures_between(ws, dates[0], dates[-1])
            if roads or places:
                area, problems = apply_closures(area, roads, places)
                if problems:
                    raise InputError(problems)
                ctx["closed"] = sorted(set(roads) | places)
                ctx["closures"] = closures_meta(roads, places)
    ctx["pins"] = list(config.to_dict()["pins"])
    return config, area, ctx


def after_plan(args, result, ctx) -> None:
    """After ``planner plan``: register the run as a draft; say which pins were not honoured."""
    if ctx is None:
        return
    with open_workspace(ctx["db"]) as ws:
        if ctx.get("closures"):  # a hand edit of this plan rebuilds it with the same closures
            write_meta(result["path"], {**run_meta(result["path"]), "closures": ctx["closures"]})
        register_run(ws, result["path"], kind=ctx["kind"], data_dir=_data_dir(args))
    print(
        f"  registered in the workspace as a draft ({ctx['kind']}); publish it with: planner publish {result['path'].name}"
    )
    if ctx.get("closed"):
        print(
            "  closed in the workspace for these dates (roads kept out of the weeks they touch; places left out): "
            + ", ".join(ctx["closed"])
        )
    if ctx["carry"]:
        plan = result["plan"]
        print(
            f"  {len(ctx['carry'])} village(s) carried over from earlier cycles get a higher priority and the first "
            f"week; {len(plan.late)} first visited later, {sum(u.village_id in ctx['carry'] for u in plan.unserved)} "
            "short of their visits (see plan.json: late, unserved)"
        )
    missed = unmet_pins(result["plan"], ctx["pins"])
    if missed:
        print("  warning: pins not honoured: " + ", ".join(f"{p['village']} {p['date']}" for p in missed))


def _data_dir(args) -> Path:
    return Path(args.data) if getattr(args, "data", None) else DEFAULT_DATA_DIR


def cmd_init(args) -> int:
    ws, created = init_workspace(args.db)
    where = ws.path or ws.url.split("@")[-1]
    print(f"workspace {'created' if created else 'is up to date'}: {where}")
    ws.close()
    return 0


def cmd_publish(args) -> int:
    with open_workspace(args.db) as ws:
        return publish_with(args, ws)


def publish_with(args, ws) -> int:
    run_dir = Path(args.run)
    if not (run_dir / "plan.json").is_file():
        run_dir = Path(args.out) / args.run
    if not is_registered(ws, run_dir.name):
        if not (run_dir / "plan.json").is_file():
            raise InputError(
                [
                    Problem(
                        "command line",
                        f"run={args.run}",
                        "run",
                        args.run,
                        f"neither a registered run nor a run folder in {args.out}",
                    )
                ]
            )
        register_run(ws, run_dir)
    res = publish(ws, run_dir.name)
    print(f"published {run_dir.name} ({res['plan'].start_date} to {res['plan'].end_date})")
    if res["superseded"]:
        print("  superseded: " + ", ".join(res["superseded"]))
    print(f"  visit sheet: {res['sheet']}")
    return 0


def cmd_pin(args) -> int:
    with open_workspace(args.db) as ws:
        return pin_with(args, ws)


def pin_with(args, ws) -> int:
    if args.remove:
        found = remove_pin(ws, args.village, args.date)
        print(f"pin {args.village} {args.date} {'removed' if found else 'not found'}")
        return 0
    area = load_area(args.data)
    add_pin(ws, args.village, args.date, args.time, args.note, known=set(area.villages["id"].astype(str)))
    print(f"pinned {args.village} on {args.date}{' at ' + args.time if args.time else ''}")
    return 0


def cmd_record(args) -> int:
    with open_workspace(args.db) as ws:
        return record_with(args, ws)


def record_with(args, ws) -> int:
    n = record(ws, args.file)
    print(
        f"recorded {args.file}: {n['added']} new, {n['replaced']} replaced, {n['unchanged']} unchanged, "
        f"{n['blank']} rows not filled in"
    )
    return 0


def cmd_replan(args) -> int:
    with open_workspace(args.db) as ws:
        return replan_with(args, ws)


def replan_with(args, ws) -> int:
    if (args.vehicle_down is None) != (args.days == 0):
        raise InputError(
            [
                Problem(
                    "command line",
                    "--vehicle-down",
                    "--days",
                    args.days,
                    "give --vehicle-down ID and --days N (N > 0) together",
                )
            ]
        )
    area = load_area(args.data)
    req = ReplanRequest(
        date_from=args.date_from,
        close_roads=tuple(args.close_road),
        close_places=tuple(args.close_place),
        until=args.until,
        vehicle_down=args.vehicle_down,
        down_days=args.days,
        reason=args.reason,
        max_iterations=args.max_iterations,
        time_limit_s=args.time_limit,
    )
    res = replan(ws, area, req, out=args.out, run=args.run, lang=args.lang)
    d = res["diff"]
    print(f"re-planned from {res['replanned_from']}: draft written to {res['path']}")
    print(
        f"  {len(d.moved)} moved, {len(d.dropped)} dropped, {len(d.added)} added; communes changed: {', '.join(d.communes) or 'none'}"
    )
    for note in res["notices"]:
        print(f"  note: {note}")
    print(f"  publish it with: planner publish {res['path'].name}")
    return 0


def cmd_edit(args) -> int:
    with open_workspace(args.db) as ws:
        return edit_with(args, ws)


def edit_with(args, ws) -> int:
    if args.move:
        action, vals = "move", args.move
    elif args.drop:
        action, vals = "drop", args.drop
    else:
        action, vals = "add", args.add
    if len(vals) not in (2, 3):
        raise InputError(
            [Problem("command line", f"--{action}", f"--{action}", " ".join(vals), "expects VILLAGE DATE [TIME]")]
        )
    try:
        date = dt.date.fromisoformat(vals[1])
    except ValueError as exc:
        raise InputError(
            [Problem("command line", f"--{action}", "DATE", vals[1], "must be a date YYYY-MM-DD")]
        ) from exc
    req = EditRequest(action=action, village=vals[0], date=date, time=vals[2] if len(vals) == 3 else None)
    area = load_area(args.data)
    res = edit_run(ws, area, args.run, req, out=args.out, name=args.name, lang=args.lang)
    print(f"edited {args.run}: {action} {req.village} {req.date}; written to {res['path']} (draft)")
    return 0


def cmd_report(args) -> int:
    with open_workspace(args.db) as ws:
        return report_with(args, ws)


def report_with(args, ws) -> int:
    if args.date_to < args.date_from:
        raise InputError(
            [Problem("command line", "--to", "--to", str(args.date_to), f"before --from {args.date_from}")]
        )
    out = args.out or DEFAULT_OUT / f"report-{args.date_from:%Y%m%d}-{args.date_to:%Y%m%d}"
    area = load_area(args.data)
    paths = write_report(
        ws,
        args.date_from,
        args.date_to,
        Path(out),
        cost_per_km=args.cost_per_km,
        area=area,
        force=args.force,
        units=getattr(args, "units", "pre2025"),
    )
    print(f"report written to {paths['folder']}: " + ", ".join(p.name for p in paths["files"]))
    return 0


def cmd_audit(args) -> int:
    with open_workspace(args.db) as ws:
        for line in audit_lines(ws, entity=args.entity, limit=args.limit):
            print(line)
    return 0
