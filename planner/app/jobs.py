"""Long work aside: plans and comparisons run in a worker process, one at a time, from a queue.

The queue is the ``jobs`` table of :class:`planner.app.store.Store`. A :class:`Dispatcher`
thread in the server takes the oldest queued job, starts one worker process for it
(``spawn``, so the solver never shares the server's threads), and stops it when a Cancel is
asked. The worker writes its progress and result into the same table. Run folders are
written atomically by :func:`planner.runs.run_plan`, so a killed worker leaves nothing
half-written, and a restarted server marks what was unfinished as failed (see
:meth:`Store.fail_unfinished`).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import time
import traceback
from pathlib import Path

from planner.app import services
from planner.app.files import Workspace, plain_name
from planner.app.store import Store
from planner.comparison.run import compare, write_comparison
from planner.io import load_area
from planner.io.runs import free_name, run_folder
from planner.model.config import load_config
from planner.model.errors import PlannerError
from planner.runs import run_plan

RESTART_REASON = "the server stopped before this job finished; start it again"


def plan_overrides(params: dict, speeds: dict | None = None) -> dict:
    """Configuration overrides from a job's parameters (weeks, season, start date, budget) and the road speeds."""
    plan = {k: params[k] for k in ("weeks", "season", "start_date", "max_iterations", "time_limit_s") if params.get(k)}
    out: dict = {"plan": plan} if plan else {}
    if speeds:
        out["profiles"] = speeds
    return out


def execute(job_id: int, store_path: str, root: str) -> None:
    """Run one job to the end in this process, recording progress and the outcome.

    Parameters
    ----------
    job_id : int
        The job in the store.
    store_path, root : str
        The app database and the workspace folder.

    Returns
    -------
    None
        The outcome is written to the job's row: ``done`` with a result, or ``failed`` with a message.
    """
    store = Store(Path(store_path))
    ws = Workspace(Path(root))
    job = store.job(job_id)
    if job is None:  # the dispatcher only starts jobs it has just claimed from the store
        raise LookupError(f"job {job_id} is not in the store")
    params = job["params"]
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] > 0.3 or fraction >= 1:
            last[0] = now
            store.update_job(job_id, progress=round(min(max(fraction, 0.0), 1.0), 3), message=message)

    try:
        if job["kind"] == "plan":
            result = _plan(ws, params, progress)
            if params.get("db"):
                services.register(params["db"], ws.run_dir(result["run"]), data_dir=ws.data, user=job["created_by"])
        elif job["kind"] == "replan":
            result = _replan(ws, params, job["created_by"], progress)
        else:
            result = _compare(ws, params, progress)
        store.update_job(job_id, state="done", progress=1.0, message="done", result=result)
    except PlannerError as exc:
        store.update_job(job_id, state="failed", message=str(exc)[:4000])
    except Exception as exc:  # the worker must record every failure; the page shows the message, not the trace
        traceback.print_exc()
        store.update_job(job_id, state="failed", message=f"the program failed: {type(exc).__name__}: {exc}"[:4000])


def _plan(ws: Workspace, params: dict, progress) -> dict:
    progress(0.02, "loading data")
    area = load_area(ws.data, name=params.get("area_name"))
    scenario = ws.scenario_path(params["scenario"]) if params.get("scenario") else None
    config = load_config(scenario, plan_overrides(params, ws.speeds()))
    limit = config.plan.time_limit_s
    progress(0.05, "building the problem")
    t0 = time.monotonic()

    def on_progress(t, obj):
        progress(0.1 + 0.75 * min(1.0, (time.monotonic() - t0) / max(limit, 1.0)), f"solving: best {obj:,}")

    run = free_name(ws.outputs, plain_name(params.get("run") or time.strftime("run-%Y%m%d-%H%M%S")))
    out = run_plan(area, config, out=ws.outputs, run=run, lang=params.get("lang", "vi"), on_progress=on_progress)
    progress(0.99, "outputs written")
    return {"run": out["path"].name, "summary": out["plan"].summary()}


def _replan(ws: Workspace, params: dict, user: str, progress) -> dict:
    progress(0.05, "loading data")
    area = load_area(ws.data)
    until = dt.date.fromisoformat(params["until"]) if params.get("until") else None
    req = services.ReplanRequest(
        date_from=dt.date.fromisoformat(params["date_from"]),
        close_roads=tuple(params.get("close_roads", ())),
        close_places=tuple(params.get("close_places", ())),
        until=until,
        reason=params.get("reason") or "",
    )
    progress(0.1, "re-planning")
    return services.replan_from(params["db"], area, req, ws.outputs, user, lang=params.get("lang", "vi"))


def _compare(ws: Workspace, params: dict, progress) -> dict:
    names = [plain_name(n) for n in params["scenarios"]]
    progress(0.02, "loading data")
    area = load_area(ws.data)
    paths = [ws.scenario_path(n) for n in names]

    def on_done(result, done, total):
        progress(0.05 + 0.8 * done / total, f"{done}/{total} scenarios solved")

    results = compare(
        paths, area=area, overrides=plan_overrides(params, ws.speeds()), mode="sequential", on_done=on_done
    )
    run = free_name(ws.outputs, plain_name(params.get("run") or time.strftime("compare-%Y%m%d-%H%M%S")))
    progress(0.9, "writing the comparison")
    with run_folder(ws.outputs, run) as tmp:
        write_comparison(results, area, tmp, lang=params.get("lang", "vi"))
    return {"run": run, "scenarios": names}


class Dispatcher:
    """Runs queued jobs one at a time in worker processes (one dispatcher per workspace).

    Parameters
    ----------
    store : Store
        The queue.
    root : path
        The workspace folder.
    poll_s : float
        How often the queue and Cancel requests are looked at.
    """

    def __init__(self, store: Store, root: Path, poll_s: float = 0.25):
        self.store, self.root, self.poll_s = store, Path(root), poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx = multiprocessing.get_context("spawn")

    def start(self) -> None:
        """Mark unfinished jobs of a previous server failed, then start taking jobs."""
        self.store.fail_unfinished(RESTART_REASON)
        self._thread = threading.Thread(target=self._loop, name="planner-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking jobs; a running worker is terminated and its job marked failed."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=15)

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.claim_next()
            if job is None:
                self._stop.wait(self.poll_s)
                continue
            self._run(job)

    def _run(self, job: dict) -> None:
        proc = self._ctx.Process(
            target=execute, args=(job["id"], str(self.store.path), str(self.root)), name=f"planner-job-{job['id']}"
        )
        proc.start()
        while proc.is_alive():
            proc.join(self.poll_s)
            if self._stop.is_set():
                proc.terminate()
                proc.join(10)
                self.store.update_job(job["id"], state="failed", message=RESTART_REASON)
                return
            row = self.store.job(job["id"])
            if row and row["cancel_requested"] and proc.is_alive():
                proc.terminate()  # SIGTERM: the run folder's temporary copy is removed
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
                self.store.update_job(job["id"], state="cancelled", message="cancelled")
                return
        row = self.store.job(job["id"])
        if row and row["state"] == "running":
            self.store.update_job(job["id"], state="failed", message=f"the worker stopped (exit code {proc.exitcode})")
