"""``planner compare``: run scenario files and write one comparison folder."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from planner.comparison.run import (
    ScenarioResult,
    choose_mode,
    default_workers,
    load_scenarios,
    run_scenarios,
    write_comparison,
)
from planner.io import load_area
from planner.io.runs import free_name, run_folder
from planner.model.area import units_2025
from planner.model.errors import NoPlanError, OutputExistsError


def _progress(total: int, quiet: bool, mode: str):
    """A rich progress display: (on_done callback, stop)."""
    if quiet:
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    progress.start()
    tid = progress.add_task(f"scenarios ({mode})", total=total)

    def on_done(r: ScenarioResult, done: int, n: int):
        if r.status == "no_plan":
            msg = f"[red]✗[/] {r.name}: no plan ({r.error.splitlines()[0] if r.error else ''})"
        else:
            f = r.figures
            msg = (
                f"[green]✓[/] {r.name}: {f['population_at_frequency_pct']} % of people at their frequency, "
                f"{f['km_per_cycle']:,} km, {f['crew_days_per_cycle']} crew-days "
                f"(solve {f['solve_time_s']} s on {r.worker})"
            )
        progress.console.print(msg)
        progress.update(tid, completed=done)

    return on_done, progress.stop


def main_compare(args) -> int:
    """``planner compare``: run the scenarios and write one comparison folder."""

    overrides = {"plan": {"time_limit_s": args.time_limit}} if getattr(args, "time_limit", None) is not None else None
    scenarios = load_scenarios(args.scenarios, overrides)
    area = load_area(args.data)
    if getattr(args, "units", "pre2025") == "2025":
        units_2025(area)  # the data must map every commune to its 2025 commune: say so before solving
    mode, address = choose_mode(getattr(args, "sequential", False), getattr(args, "dask", None))

    name = args.run or free_name(args.out, dt.datetime.now().strftime("compare-%Y%m%d-%H%M%S"))
    if (Path(args.out) / name).exists() and not args.force:
        raise OutputExistsError(
            f"output folder {Path(args.out) / name} exists; choose another --run name or pass --force"
        )
    on_done, stop = _progress(
        len(scenarios), args.quiet, mode if mode != "local" else f"local, {args.workers or default_workers()} workers"
    )
    t0 = time.perf_counter()
    try:
        results = run_scenarios(scenarios, area, mode=mode, workers=args.workers, dask=address, on_done=on_done)
    finally:
        stop()
    wall = time.perf_counter() - t0
    failed = [r for r in results if r.status == "no_plan"]
    if len(failed) == len(results):
        raise NoPlanError("no scenario could be planned:\n" + "\n".join(f"  {r.name}: {r.error}" for r in failed))
    with run_folder(Path(args.out), name, force=args.force) as tmp:
        write_comparison(results, area, tmp, lang=args.lang, units=getattr(args, "units", "pre2025"))
    path = Path(args.out) / name
    if not args.quiet:
        print_table(results)
    print(f"comparison of {len(results)} scenarios written to {path} ({mode}, {wall:.1f} s)")
    for r in failed:
        print(f"  {r.name}: no plan: {r.error}")
    return 0


def print_table(results: Sequence[ScenarioResult]) -> None:
    """A plain-text summary of the comparison (people at their frequency by channel, and the work)."""
    head = (
        "scenario",
        "van stop",
        "walk",
        "fixed pt",
        "at freq %",
        "never reached",
        "km",
        "crew-days",
        "nights",
        "books",
    )
    lines = []
    for r in results:
        f = r.figures
        if not f:
            lines.append((r.name, *["-"] * 9))
            continue
        lines.append(
            (
                r.name,
                f"{f['population_van_stop']:,}",
                f"{f['population_walk']:,}",
                f"{f['population_fixed_point']:,}",
                f"{f['population_at_frequency_pct']:.1f}",
                f"{f['population_never_reached']:,} ({f['villages_never_reached']} v.)",
                f"{f['km_per_cycle']:,.1f}",
                str(f["crew_days_per_cycle"]),
                str(f["nights_away"]),
                f"{f['books_moved']:,}",
            )
        )
    widths = [max(len(str(x[k])) for x in [head, *lines]) for k in range(len(head))]
    print("people served per cycle at their required frequency, by channel; work per cycle")
    for row in [head, *lines]:
        print(
            "  "
            + "  ".join(str(x).ljust(w) if k == 0 else str(x).rjust(w) for k, (x, w) in enumerate(zip(row, widths)))
        )
