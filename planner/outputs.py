"""Run folders and the plan's plain outputs (``plan.json``, ``stops.csv``).

A run is written aside into a hidden temporary folder next to its destination and
moved into place in one rename when complete, so an interrupted run leaves no
half-written folder and an existing run is never overwritten without ``force``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

from planner.errors import OutputExistsError
from planner.io.safe import safe_child
from planner.plan import Plan

STOPS_COLUMNS = (
    "vehicle",
    "week",
    "date",
    "weekday",
    "seq",
    "kind",
    "stop_id",
    "stop_name",
    "commune",
    "commune_code",
    "lon",
    "lat",
    "arrival",
    "departure",
    "travel_min",
    "travel_km",
    "books",
    "population_served",
    "children_served",
    "villages_served",
    "walkers",
)


PARTIAL = ".partial-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(base: Path) -> list[Path]:
    """Delete half-written run folders left by a process that was killed (SIGKILL, power cut)."""
    removed = []
    for p in Path(base).glob(f".*{PARTIAL}*"):
        try:
            pid = int(p.name.split(PARTIAL, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if p.is_dir() and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _raise_on_sigterm():
    """Turn SIGTERM into an exception so a terminated run cleans up like an interrupted one."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread
        return None


@contextlib.contextmanager
def run_folder(base: Path, name: str, force: bool = False):
    """Yield a temporary folder; on success it becomes ``base/name`` atomically.

    The folder is written aside as ``.NAME.partial-PID-…``: an exception, Ctrl-C or SIGTERM
    removes it; after a SIGKILL the next run removes it (its process is gone).
    """
    import signal

    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    final = safe_child(base, name)
    if final.exists() and not force:
        raise OutputExistsError(f"output folder {final} exists; choose another --run name or pass --force to replace it")
    remove_stale_partials(base)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}{PARTIAL}{os.getpid()}-", dir=base))
    previous = _raise_on_sigterm()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if final.exists():  # --force: move the old run aside first, delete it only once the new one is in place
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=base))
        os.replace(final, old / "run")
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def stop_rows(plan: Plan) -> list[dict]:
    """One row per stop event, in the ``stops.csv`` contract (times ``HH:MM`` on the row's date)."""
    rows = []
    for day in plan.days:
        for s in day.stops:
            rows.append(
                {
                    "vehicle": day.vehicle,
                    "week": day.week,
                    "date": day.date.isoformat(),
                    "weekday": day.weekday,
                    "seq": s.seq,
                    "kind": s.kind,
                    "stop_id": s.stop_id,
                    "stop_name": s.stop_name,
                    "commune": s.commune,
                    "commune_code": s.commune_code,
                    "lon": s.lon,
                    "lat": s.lat,
                    "arrival": s.arrival.strftime("%H:%M"),
                    "departure": s.departure.strftime("%H:%M"),
                    "travel_min": s.travel_min,
                    "travel_km": s.travel_km,
                    "books": s.books,
                    "population_served": s.population_served,
                    "children_served": s.children_served,
                    "villages_served": ";".join(s.villages_served),
                    "walkers": ";".join(s.walkers),
                }
            )
    return rows


def write_stops_csv(plan: Plan, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=STOPS_COLUMNS)
        w.writeheader()
        w.writerows(stop_rows(plan))
    return path


def write_plan_json(plan: Plan, path: Path) -> Path:
    path.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path
