"""One planning run end to end: area + config -> plan -> every output, in one run folder."""

from __future__ import annotations

import json
from pathlib import Path

from planner.io import load_area
from planner.io.runs import free_name, run_folder
from planner.model.area import Area
from planner.model.config import Config
from planner.model.errors import PlannerError
from planner.model.plan_io import plan_from_dict
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.solve import solve
from planner.render.map import render_map
from planner.render.printables import render_printables
from planner.render.tables import write_plan_json, write_stops_csv


def write_outputs(
    plan,
    problem,
    folder: Path,
    *,
    lang: str = "vi",
    printables: bool = True,
    map_: bool = True,
    units: str | None = None,
) -> dict:
    """Write every artefact of a plan into ``folder``.

    Parameters
    ----------
    plan : Plan
        The checked plan.
    problem : Problem
        What it was made for (its area and configuration are written beside it).
    folder : path
        An existing folder (normally the hidden temporary folder of :func:`run_folder`).
    lang : {"vi", "en"}
        Language of the printables.
    printables, map_ : bool
        Whether to write the PDFs/workbook/calendars and the map.

    Returns
    -------
    dict
        Paths written, by kind.
    """

    written: dict[str, Path | dict[str, list[Path]]] = {
        "plan": write_plan_json(plan, folder / "plan.json"),
        "stops": write_stops_csv(plan, folder / "stops.csv"),
    }
    (folder / "config.json").write_text(
        json.dumps(problem.config.to_dict(), ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    if map_:
        written["map"] = render_map(plan, problem.area, folder / "map.html")
    if printables:
        # issue 10 part 8: the configuration's [document] section names the issuer and the units
        document = problem.config.document.issuer()
        written["printables"] = render_printables(plan, problem.area, folder, lang=lang, issuer=document, units=units)
    return written


def run_plan(
    area: Area,
    config: Config,
    *,
    out: Path,
    run: str,
    force: bool = False,
    lang: str = "vi",
    printables: bool = True,
    on_progress=None,
    auto_suffix: bool = False,
    units: str | None = None,
) -> dict:
    """Plan and write one run folder atomically; returns ``{"plan", "problem", "path"}``."""
    if auto_suffix:
        run = free_name(out, run)
    problem = build_problem(area, config)
    plan = solve(problem, on_progress=on_progress)
    bad = violations(plan, problem)
    if bad:
        raise PlannerError("the plan failed its own checks (a bug; please report it):\n  " + "\n  ".join(bad[:30]))
    with run_folder(Path(out), run, force=force) as tmp:
        write_outputs(plan, problem, tmp, lang=lang, printables=printables, units=units)
    return {"plan": plan, "problem": problem, "path": Path(out) / run}


def print_existing(
    run_dir: Path, *, data=None, lang: str = "vi", force: bool = False, units: str | None = None
) -> Path:
    """Re-render the printables of a saved run (from its plan.json) into ``run_dir/print-<lang>``.

    The run's saved ``[document]`` section (``config.json``) names the issuer; ``units``
    ("pre2025" or "2025") overrides its grouping, and "2025" writes ``print-<lang>-2025``.
    """

    run_dir = Path(run_dir)
    plan = plan_from_dict(json.loads((run_dir / "plan.json").read_text(encoding="utf-8")))
    area = load_area(data)
    saved = run_dir / "config.json"
    document = json.loads(saved.read_text(encoding="utf-8")).get("document") if saved.exists() else None
    name = f"print-{lang}" + ("-2025" if units == "2025" else "")
    with run_folder(run_dir, name, force=force) as tmp:
        render_printables(plan, area, tmp, lang=lang, issuer=document, units=units)
    return run_dir / name
