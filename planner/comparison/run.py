"""Compare coverage scenarios: run several scenario files, tabulate the figures, write one report.

A *scenario* is a TOML configuration file (usually ``base = "baseline.toml"`` plus the
keys that change). :func:`run_scenario` takes one scenario and the area, builds the
problem, solves it, checks the plan and computes its figures; it is the one function that
runs everywhere: in this process (``mode="sequential"``), in local worker processes
(``mode="local"``, :class:`concurrent.futures.ProcessPoolExecutor`) or on a Dask cluster
(``mode="dask"``, :meth:`distributed.Client.submit`). The solver stops on a work budget
(``max_iterations``), so the figures are the same number for number whichever way the
scenarios ran; only ``solve_time_s`` differs (see :data:`TIMING_COLUMNS`).

The figures are pure functions of a :class:`planner.model.plan.Plan`:

- :func:`village_status` puts every village in one class: served at its required frequency
  through a van stop, a walk to a van stop or a fixed library point; reached but fewer
  times than required (``below_frequency``); or never reached;
- :func:`scenario_figures` sums them per scenario with the fleet's work (km, crew-days,
  nights away, books) and :func:`commune_figures` per commune.

:func:`write_comparison` writes ``comparison.csv``/``.xlsx``, ``comparison_by_commune.csv``,
the charts, one map per scenario, ``maps/index.html`` and ``report.html``/``report.pdf``
(:mod:`planner.comparison.report`), all from the same rows.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planner.comparison.report import column_label, render_charts, render_maps, render_report
from planner.comparison.table import (  # noqa: F401  (re-exported for callers)
    COLUMNS,
    COMMUNE_COLUMNS,
    NEVER_REASONS,
    SERVED_CHANNELS,
    STATUSES,
    TIMING_COLUMNS,
)
from planner.io import load_area
from planner.io.safe import safe_child, slug
from planner.model.area import UNITS, Units2025, units_2025
from planner.model.config import load_config, make_config
from planner.model.errors import InputError, NoPlanError, PlannerError
from planner.model.errors import Problem as InputProblem
from planner.model.fairness import fairness_figures
from planner.model.plan import Plan
from planner.planning.build import build_problem
from planner.planning.checker import violations
from planner.planning.costs import COST_KEYS
from planner.planning.solve import solve

ENV_DASK = "PLANNER_DASK_ADDRESS"


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """One scenario: a name (file stem, unique), its merged configuration and what it asks."""

    name: str
    raw: dict  # the validated configuration (``Config.raw``)
    source: str = ""
    label: dict = field(default_factory=dict)  # {"vi": short label, "en": ...}
    description: dict = field(default_factory=dict)  # {"vi": what it asks, "en": ...}

    def text(self, what: str, lang: str) -> str:
        d = self.label if what == "label" else self.description
        return d.get(lang) or d.get("en") or d.get("vi") or self.name


_HEADER = re.compile(r"^#\s*(vi|en)\s*:\s*(.*)$")


def scenario_header(text: str) -> tuple[dict, dict]:
    """Label and description from a scenario file's leading comment.

    Lines ``# en: Short label | what the scenario asks`` and ``# vi: ...``; further
    comment lines continue the description of the language above them, up to a bare ``#``.
    """
    label: dict[str, str] = {}
    desc: dict[str, list[str]] = {}
    lang = None
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("#"):
            if s:
                break
            continue
        m = _HEADER.match(s)
        if m:
            lang = m.group(1)
            short, _, rest = m.group(2).partition("|")
            label[lang] = short.strip()
            desc[lang] = [rest.strip()] if rest.strip() else []
        elif not s.lstrip("#").strip():
            lang = None  # a bare "#" ends the description; later comments are for the file's readers
        elif lang:
            desc[lang].append(s.lstrip("#").strip())
    return label, {k: " ".join(x for x in v if x) for k, v in desc.items()}


def _header_of(path: Path, depth: int = 0) -> tuple[dict, dict]:
    """The header of ``path``, else of the file it names as ``base`` (a thin wrapper keeps its base's words)."""
    import tomllib

    text = path.read_text(encoding="utf-8")
    label, desc = scenario_header(text)
    if not label and depth < 10:
        base = tomllib.loads(text).get("base")
        if base and (path.parent / base).is_file():
            return _header_of(path.parent / base, depth + 1)
    return label, desc


def load_scenarios(paths: Sequence[Path | str], overrides: dict | None = None) -> list[Scenario]:
    """Read and validate every scenario file; one :class:`InputError` lists every problem."""

    out: list[Scenario] = []
    problems: list[InputProblem] = []
    seen: dict[str, str] = {}
    for p in paths:
        p = Path(p)
        name = slug(p.stem)
        if name in seen:
            problems.append(
                InputProblem(str(p), "scenario", "name", name, f"same name as {seen[name]}; rename one file")
            )
            continue
        seen[name] = str(p)
        try:
            cfg = load_config(p, overrides)
        except InputError as exc:
            problems.extend(exc.problems or [InputProblem(str(p), "scenario", "-", None, str(exc))])
            continue
        label, desc = _header_of(p)
        out.append(Scenario(name=name, raw=cfg.to_dict(), source=str(p), label=label, description=desc))
    if problems:
        raise InputError(problems)
    return out


# --------------------------------------------------------------------------- figures


def village_status(v) -> str:
    """The class of one :class:`planner.model.plan.VillageService`, one of :data:`STATUSES`.

    A village counts in its channel only when it is served at its frequency
    (:attr:`VillageService.at_frequency`: for a fixed-point village, when its point got the
    required restocks), else it is ``below_frequency``.
    """
    if v.channel == "unserved":
        return "never_reached"
    if v.channel in ("van_stop", "walk", "fixed_point"):
        return v.channel if v.at_frequency else "below_frequency"
    raise ValueError(
        f"village {v.village_id}: unknown channel {v.channel!r} (expected one of van_stop, walk, fixed_point, unserved)"
    )


def _crew_days(plan) -> int:
    """Vehicle-days on which a crew worked away from home: any visit, night away or driving."""
    return sum(
        1 for d in plan.days if any(s.kind in ("village", "site", "overnight") or s.travel_km > 0 for s in d.stops)
    )


def _tally(villages) -> dict:
    t = {f"{k}_{s}": 0 for s in STATUSES for k in ("villages", "population")}
    for v in villages:
        s = village_status(v)
        t[f"villages_{s}"] += 1
        t[f"population_{s}"] += int(v.population) if s in ("below_frequency", "never_reached") else v.people_served
    # people of walking villages beyond the full-credit distance, not counted as served
    t["population_walk_uncredited"] = sum(
        int(v.population) - v.people_served for v in villages if village_status(v) in SERVED_CHANNELS
    )
    t["villages_at_frequency"] = sum(t[f"villages_{c}"] for c in SERVED_CHANNELS)
    t["population_at_frequency"] = sum(t[f"population_{c}"] for c in SERVED_CHANNELS)
    return t


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def scenario_figures(plan, units: Units2025 | None = None) -> dict:
    """The comparison figures of one plan (every column of :data:`COLUMNS` but the scenario's own);
    with ``units``, the fairness figures are over the 2025 communes."""
    s = plan.summary()
    t = _tally(plan.villages)
    reasons = {r: 0 for r in NEVER_REASONS}
    never = {v.village_id for v in plan.villages if v.channel == "unserved"}
    for u in plan.unserved:
        if u.village_id in never and u.reason in reasons:
            reasons[u.reason] += 1
    pop_total = int(plan.population_total)
    row = {
        "villages_total": int(plan.villages_total),
        "population_total": pop_total,
        "villages_at_frequency": t["villages_at_frequency"],
        "population_at_frequency": t["population_at_frequency"],
        "population_at_frequency_pct": _pct(t["population_at_frequency"], pop_total),
    }
    for c in SERVED_CHANNELS:
        row[f"villages_{c}"] = t[f"villages_{c}"]
        row[f"population_{c}"] = t[f"population_{c}"]
    for c in ("below_frequency", "never_reached"):
        row[f"villages_{c}"] = t[f"villages_{c}"]
        row[f"population_{c}"] = t[f"population_{c}"]
    row["population_walk_uncredited"] = t["population_walk_uncredited"]
    row.update({f"never_reached_{r}": n for r, n in reasons.items()})
    row.update(
        km_per_cycle=round(float(s["distance_km"]), 1),
        crew_days_per_cycle=_crew_days(plan),
        driving_h=round(float(s["driving_h"]), 1),
        nights_away=int(s["nights_away"]),
        books_moved=int(s["books"]),
        stops=int(s["stops"]),
        **{k: v for k, v in fairness_figures(plan, units).items() if k != "villages_never_reached"},
        **{f"cost_{k}": int(plan.costs.get(k, 0)) for k in COST_KEYS},
        cost_per_person_served_vnd=round(plan.costs.get("total_vnd", 0) / t["population_at_frequency"])
        if t["population_at_frequency"]
        else 0,
        population_upper_bound=plan.run.get("bound", {}).get("population_upper_bound", ""),
        objective_value=_or_blank(plan.run.get("bound", {}).get("objective_value")),
        objective_bound=_or_blank(plan.run.get("bound", {}).get("objective_bound")),
        stopped_by=str(plan.run.get("stopped_by", "")),
        solve_time_s=round(float(plan.run.get("solve_time_s", 0.0)), 2),
    )
    return row


def _or_blank(x) -> int | str:
    """A whole number for the table, or blank when the run has none."""
    return "" if x is None else int(x)


def commune_figures(plan, units: Units2025 | None = None) -> list[dict]:
    """Per commune (sorted by code): villages, population, how they are served and the cost.

    With ``units`` (:func:`planner.model.area.units_2025`) the rows are the 2025 communes (sorted
    by name): each figure is the sum over the pre-2025 communes merged into it, and
    ``commune_code`` lists their codes joined by ``+``.
    """
    by: dict[tuple[str, str], list] = {}
    for v in plan.villages:
        if units is None:
            key = (str(v.commune_code), str(v.commune))
        else:
            key = (str(v.commune_code), units.of_village(v.village_id, v.commune_code))
        by.setdefault(key, []).append(v)
    if units is not None:  # one row per 2025 commune, its pre-2025 codes joined
        merged: dict[str, list] = {}
        codes: dict[str, set[str]] = {}
        for (code, new), vs in by.items():
            merged.setdefault(new, []).extend(vs)
            codes.setdefault(new, set()).add(code)
        by = {("+".join(sorted(codes[new])), new): vs for new, vs in merged.items()}
    costs = plan.costs.get("per_commune", {})
    rows = []
    for (code, name), vs in sorted(by.items(), key=lambda kv: kv[0] if units is None else (kv[0][1], kv[0][0])):
        t = _tally(vs)
        pop = sum(int(v.population) for v in vs)
        row = {
            "commune_code": code,
            "commune": name,
            "villages": len(vs),
            "population": pop,
            "villages_at_frequency": t["villages_at_frequency"],
            "population_at_frequency": t["population_at_frequency"],
            "population_at_frequency_pct": _pct(t["population_at_frequency"], pop),
        }
        for c in (*SERVED_CHANNELS, "below_frequency", "never_reached"):
            row[f"population_{c}"] = t[f"population_{c}"]
        row["cost_vnd"] = sum(int(costs.get(c, {}).get("total_vnd", 0)) for c in code.split("+"))
        rows.append(row)
    return rows


def with_units(results: Sequence[ScenarioResult], area, units: str) -> list[ScenarioResult]:
    """The results with their fairness figures and commune rows grouped by ``units``
    (``"pre2025"``: as run; ``"2025"``: by the 2025 communes, mapped from the data)."""
    if units == "pre2025":
        return list(results)
    if units not in UNITS:
        raise InputError([InputProblem("command line", "--units", "--units", units, f"one of {', '.join(UNITS)}")])
    if area is None:
        raise InputError([InputProblem("command line", "--units", "--units", units, "needs the area's communes")])
    mapping = units_2025(area)
    return [
        dataclasses.replace(
            r, figures=scenario_figures(r.plan, mapping), communes=tuple(commune_figures(r.plan, mapping))
        )
        if r.plan is not None
        else r
        for r in results
    ]


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class ScenarioResult:
    """What one scenario run returns (plain, picklable data)."""

    scenario: Scenario
    status: str  # "ok", "partial", "empty" (the plan's status) or "no_plan"
    plan: Plan | None = None  # None when no plan could be made
    error: str = ""
    figures: dict = field(default_factory=dict)
    communes: tuple = ()
    wall_s: float = 0.0
    worker: str = ""

    @property
    def name(self) -> str:
        return self.scenario.name

    def row(self, lang: str = "en") -> dict:
        """The scenario's row of ``comparison.csv``."""
        raw = self.scenario.raw
        vehicles = raw.get("vehicles", [])
        base = {
            "scenario": self.name,
            "label": self.scenario.text("label", lang),
            "status": self.status,
            "season": raw.get("plan", {}).get("season", ""),
            "weeks": raw.get("plan", {}).get("weeks", ""),
            "vehicles": " + ".join(f"{v.get('id')} ({v.get('profile', 'van')})" for v in vehicles),
        }
        return {c: self.figures.get(c, base.get(c, "")) for c in COLUMNS} | base

    def commune_rows(self) -> list[dict]:
        return [{"scenario": self.name, **r} for r in self.communes]


@functools.lru_cache(maxsize=4)
def _area_from(data_dir: str | None):

    return load_area(data_dir)


def run_scenario(scenario: Scenario, area=None) -> ScenarioResult:
    """Build, solve and check one scenario; return the plan and its figures.

    ``area`` is an :class:`planner.model.area.Area`, or a data folder (``None``: the default
    data), read once per process. A scenario with no possible plan returns
    ``status="no_plan"`` and the reason; a plan that fails its own checks raises.
    """
    import socket

    t0 = time.perf_counter()
    if area is None or isinstance(area, (str, os.PathLike)):
        area = _area_from(None if area is None else str(area))
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        problem = build_problem(area, make_config(scenario.raw, scenario.source or scenario.name))
        plan = solve(problem)
    except NoPlanError as exc:
        return ScenarioResult(scenario, "no_plan", error=str(exc), wall_s=time.perf_counter() - t0, worker=worker)
    bad = violations(plan, problem)
    if bad:
        raise PlannerError(
            f"scenario {scenario.name}: the plan failed its own checks (a bug; please report it):\n  "
            + "\n  ".join(bad[:30])
        )
    return ScenarioResult(
        scenario,
        plan.status,
        plan=plan,
        figures=scenario_figures(plan),
        communes=tuple(commune_figures(plan)),
        wall_s=time.perf_counter() - t0,
        worker=worker,
    )


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_scenarios(
    scenarios: Sequence[Scenario],
    area=None,
    *,
    mode: str = "local",
    workers: int | None = None,
    dask=None,
    on_done: Callable[[ScenarioResult, int, int], None] | None = None,
    task: Callable = run_scenario,
    tasks: Sequence | None = None,
) -> list[ScenarioResult]:
    """Run every scenario and return the results in the order of ``scenarios``.

    Parameters
    ----------
    scenarios
        From :func:`load_scenarios`.
    area
        An Area, a data folder or ``None`` (default data); passed to every run.
    mode
        ``"sequential"`` (this process), ``"local"`` (worker processes) or ``"dask"``.
    workers
        Local processes (default: the usable cores, at most one per scenario).
    dask
        Scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``; default
        the environment variable ``PLANNER_DASK_ADDRESS``.
    on_done
        Called as ``on_done(result, done, total)`` when each scenario finishes.
    task, tasks
        The function to run (default :func:`run_scenario`) and, instead of
        ``(scenario, area)`` for each scenario, a list of argument tuples (benchmarks run
        each district's own area this way).
    """
    args = list(tasks) if tasks is not None else [(s, area) for s in scenarios]
    n = len(args)
    results: list = [None] * n
    done = 0

    def finish(i, r):
        nonlocal done
        results[i] = r
        done += 1
        if on_done:
            on_done(r, done, n)

    if mode == "sequential" or n == 0:
        for i, a in enumerate(args):
            finish(i, task(*a))
    elif mode == "local":
        from concurrent.futures import ProcessPoolExecutor, as_completed

        k = max(1, min(workers or default_workers(), n))
        # spawn: a clean interpreter per worker, as on Windows/macOS; no fork of a threaded parent
        with ProcessPoolExecutor(max_workers=k, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(task, *a): i for i, a in enumerate(args)}
            for f in as_completed(futures):
                finish(futures[f], f.result())
    elif mode == "dask":
        from distributed import Client
        from distributed import as_completed as dask_as_completed

        address = dask or os.environ.get(ENV_DASK)
        if not address:
            raise InputError(f"mode 'dask' needs a scheduler address (--dask tcp://host:8786 or {ENV_DASK})")
        own = not isinstance(address, Client)
        client = address if isinstance(address, Client) else Client(address)
        try:
            # big shared arguments (an Area) go to the workers once, not once per task
            shared: dict[int, object] = {}
            scattered = []
            for a in args:
                row = []
                for x in a:
                    if not isinstance(x, (Scenario, str, int, float, type(None), os.PathLike)):
                        if id(x) not in shared:
                            shared[id(x)] = client.scatter(x, broadcast=True, hash=False)
                        x = shared[id(x)]
                    row.append(x)
                scattered.append(row)
            submitted = [
                client.submit(task, *a, pure=False, key=f"planner-scenario-{i}-{os.getpid()}-{time.time_ns()}")
                for i, a in enumerate(scattered)
            ]
            index = {f.key: i for i, f in enumerate(submitted)}
            for fut in dask_as_completed(submitted):
                finish(index[fut.key], fut.result())
        finally:
            if own:
                client.close()
    else:
        raise ValueError(f"mode must be 'sequential', 'local' or 'dask', not {mode!r}")
    return results


# --------------------------------------------------------------------------- tables


def comparison_rows(results: Sequence[ScenarioResult], lang: str = "en") -> list[dict]:
    return [r.row(lang) for r in results]


def commune_rows(results: Sequence[ScenarioResult]) -> list[dict]:
    return [row for r in results for row in r.commune_rows()]


def comparable(rows: Sequence[dict]) -> list[dict]:
    """Rows without the timing columns: equal whichever way the scenarios ran."""
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


def _write_csv(rows: Sequence[dict], columns: Sequence[str], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def _write_xlsx(rows, crows, results, path: Path, lang: str) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    sheets = [("comparison", COLUMNS, rows), ("by_commune", COMMUNE_COLUMNS, crows)]
    for k, (title, cols, data) in enumerate(sheets):
        ws = wb.active if k == 0 else wb.create_sheet()
        assert isinstance(ws, Worksheet)  # a new, not write-only, workbook's sheets
        ws.title = title
        ws.append(list(cols))
        ws.append([column_label(c, lang) for c in cols])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for cell in ws[2]:
            cell.font = Font(italic=True)
        for r in data:
            ws.append([r.get(c, "") for c in cols])
        ws.freeze_panes = "B3"
        for i, col in enumerate(ws.columns, 1):  # columns start at A
            ws.column_dimensions[get_column_letter(i)].width = max(
                10, min(40, max(len(str(c.value or "")) for c in col) + 2)
            )
    ws = wb.create_sheet("scenarios")
    ws.append(["scenario", "label", "description", "source", "error"])
    for r in results:
        ws.append(
            [r.name, r.scenario.text("label", lang), r.scenario.text("description", lang), r.scenario.source, r.error]
        )
    wb.save(path)
    return path


def write_comparison(
    results: Sequence[ScenarioResult],
    area,
    folder: Path,
    *,
    lang: str = "vi",
    maps: bool = True,
    units: str = "pre2025",
) -> dict[str, Path]:
    """Write every comparison artefact into ``folder`` (which exists); returns the paths.

    ``units="2025"`` groups the per-commune figures (fairness columns, ``comparison_by_commune``,
    the report's commune table) by the 2025 communes."""

    folder = Path(folder)
    results = with_units(results, area, units)
    rows = comparison_rows(results, lang)
    crows = commune_rows(results)
    written = {
        "csv": _write_csv(rows, COLUMNS, folder / "comparison.csv"),
        "by_commune": _write_csv(crows, COMMUNE_COLUMNS, folder / "comparison_by_commune.csv"),
        "xlsx": _write_xlsx(rows, crows, results, folder / "comparison.xlsx", lang),
    }
    scen = {
        r.name: {
            "source": r.scenario.source,
            "label": r.scenario.label,
            "description": r.scenario.description,
            "status": r.status,
            "error": r.error,
            "config": r.scenario.raw,
        }
        for r in results
    }
    (folder / "scenarios.json").write_text(
        json.dumps(scen, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    plans = folder / "plans"
    plans.mkdir()
    for r in results:
        if r.plan is not None:
            safe_child(plans, f"{r.name}.json").write_text(
                json.dumps(r.plan.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
            )
    written.update(render_charts(rows, crows, results, folder / "charts", lang=lang))
    if maps:
        written.update(render_maps(results, area, folder / "maps", lang=lang))
    written.update(render_report(rows, crows, results, area, folder, lang=lang, units=units))
    return written


def choose_mode(sequential: bool = False, dask: str | None = None) -> tuple[str, str | None]:
    """``--dask`` wins, then ``--sequential``, then the environment's scheduler, then local processes."""
    if dask:
        return "dask", dask
    if sequential:
        return "sequential", None
    env = os.environ.get(ENV_DASK)
    if env:
        return "dask", env
    return "local", None


def compare(
    scenario_paths: Sequence[Path | str],
    *,
    area=None,
    data: Path | str | None = None,
    overrides: dict | None = None,
    mode: str = "local",
    workers: int | None = None,
    dask=None,
    on_done=None,
) -> list[ScenarioResult]:
    """Load scenario files and run them (writes nothing).

    Parameters
    ----------
    scenario_paths : sequence of paths
        TOML scenario files (``base = "baseline.toml"`` plus what changes).
    area : Area, optional
        Already loaded layers; otherwise read from ``data``.
    data : path, optional
        Data folder (default: the shipped ``data/``).
    overrides : dict, optional
        Configuration that wins over every scenario (e.g. a time limit).
    mode : {"local", "sequential", "dask"}
        Where the scenarios run; the figures are the same in every mode.
    workers : int, optional
        Local processes (default: cores).
    dask : str or Client, optional
        Dask scheduler for ``mode="dask"``.
    on_done : callable, optional
        Called as ``on_done(result, done, total)``.

    Returns
    -------
    list of ScenarioResult
        One per scenario, in the given order, with its plan and figures.
    """

    scenarios = load_scenarios(scenario_paths, overrides)
    if area is None:
        area = load_area(data)
    return run_scenarios(scenarios, area, mode=mode, workers=workers, dask=dask, on_done=on_done)
