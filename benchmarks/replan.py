"""How long ``planner replan`` takes on the default Mường Tè data (aim: under 20 s on 2 cores).

A fresh workspace; a 4-week cycle planned with ``--max-iterations`` (default 20,000) and
published; half of the first week recorded as held; then ``replan --from`` the Wednesday of
week 2 with a road closed that a route uses after that date, timed end to end (matrices,
solve, checker, outputs, diff and the changed communes' printables), as wall time and as the
process's CPU time (the wall time grows on a busy machine). Repeated ``--repeat``
times on fresh folders; the replan's budget is ``--replan-iterations`` (default: the plan's).

    python -m benchmarks.replan [--max-iterations 20000] [--replan-iterations N] [--repeat 3] \\
        [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from planner.io import load_area
from planner.io.load import DEFAULT_DATA_DIR
from planner.model.config import load_config
from planner.runs import run_plan
from planner.workspace.replan import ReplanRequest, replan
from planner.workspace.service import publish, register_run
from planner.workspace.store import init_workspace

ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2026, 11, 30)
FROM = START + dt.timedelta(days=9)  # Wednesday of week 2


def road_in_use(plan, since: dt.date) -> str:
    """A road id whose line a leg after ``since`` runs along (checked at a leg's segment midpoint)."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    roads = gpd.read_file(DEFAULT_DATA_DIR / "roads.geojson").to_crs(32648)
    for day in plan.days:
        if day.date < since:
            continue
        for leg in day.legs:
            if len(leg) < 2:
                continue
            line = gpd.GeoSeries([LineString(leg)], crs=4326).to_crs(32648).iloc[0]
            pts = list(line.coords)
            for a, b in zip(pts, pts[1:]):
                mid = Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                for k in roads.sindex.query(mid.buffer(0.5), predicate="intersects"):
                    if roads.iloc[k]["road_class"] != "national":
                        return str(roads.iloc[k]["id"])
    raise SystemExit("no road in use after the re-plan date")


def one(tmp: Path, area, iterations: int, replan_iterations: int | None) -> dict:
    config = load_config(None, {"plan": {"start_date": START.isoformat(), "weeks": 4, "max_iterations": iterations}})
    ws, _ = init_workspace(tmp / "planner.db")
    with ws:
        res = run_plan(area, config, out=tmp / "outputs", run="c1", printables=False)
        register_run(ws, res["path"])
        publish(ws, "c1")
        road = road_in_use(res["plan"], FROM)
        t0, c0 = time.perf_counter(), time.process_time()
        out = replan(
            ws,
            area,
            ReplanRequest(date_from=FROM, close_roads=(road,), reason="benchmark", max_iterations=replan_iterations),
            out=tmp / "outputs",
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    d = out["diff"]
    s = out["plan"].summary()
    return {
        "replan_s": round(wall, 2),
        "replan_cpu_s": round(cpu, 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "solve_s": out["plan"].run.get("solve_time_s"),
        "people_served": s["population_served"],
        "people_at_frequency": s["population_served_at_frequency"],
        "closed_road": road,
        "moved": len(d.moved),
        "dropped": len(d.dropped),
        "added": len(d.added),
        "communes_changed": len(d.communes),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-iterations", type=int, default=20000)
    ap.add_argument("--replan-iterations", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    area = load_area(None)
    rows = []
    for k in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            row = one(Path(tmp), area, args.max_iterations, args.replan_iterations)
        rows.append({"run": k + 1, **row})
        print(json.dumps(rows[-1], ensure_ascii=False))
    times = [r["replan_s"] for r in rows]
    cpu = [r["replan_cpu_s"] for r in rows]
    line = (
        f"replan on the default data ({os.cpu_count()} cores, plan budget {args.max_iterations} steps, "
        f"replan budget {args.replan_iterations or args.max_iterations}): median {statistics.median(times):.1f} s, "
        f"max {max(times):.1f} s over {len(times)} runs (CPU time of this process: median {statistics.median(cpu):.1f} s; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "replan.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (args.out / "replan.md").write_text(markdown(rows, line), encoding="utf-8")
    return 0


def markdown(rows: list[dict], line: str) -> str:
    """The table of runs, with the summary line and how to read it."""
    head = list(rows[0])
    out = [
        f"# Re-plan benchmark ({dt.date.today()})",
        "",
        "`python -m benchmarks.replan` on the default data: a 4-week cycle published, half of week 1 held, then "
        "`replan --from` the Wednesday of week 2 with a road in use closed, timed end to end (matrices, solve, "
        "checker, outputs, diff, the changed communes' printables). `replan_s` is wall time, `replan_cpu_s` "
        "the process's CPU time; `load_1min` the machine's load average when the run ended (2 cores shared "
        "with other jobs: wall time grows with the load). `people_served` / `people_at_frequency`: the "
        "re-planned cycle (kept days + new days).",
        "",
        line,
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    out += ["| " + " | ".join(str(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
