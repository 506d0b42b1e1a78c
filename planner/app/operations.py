"""Routes of the workspace pages: Edit (move, drop, add, pin, publish), Record (a day's visits,
a visit sheet, closures and re-plan) and Report. They call :mod:`planner.app.services` only."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse

from planner.app import services
from planner.app.auth import require
from planner.app.files import inside, plain_name, save_upload
from planner.app.pages import render
from planner.io import load_area
from planner.model.errors import InputError, Problem
from planner.model.plan_io import plan_from_dict

router = APIRouter()
VIEWER, PLANNER = require("viewer"), require("planner")
HELD = ("yes", "no", "cancelled")


def load_plan(folder: Path):
    return plan_from_dict(json.loads((folder / "plan.json").read_text(encoding="utf-8")))


def parse_date(value: object, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InputError([Problem("form", field, field, value, "must be a date YYYY-MM-DD")]) from None


def problems_of(exc: InputError, path: Path | None = None, shown: str = "") -> list[str]:
    """The problems as lines, with the server's file path replaced by the name the user knows."""
    lines = [str(p) for p in exc.problems] or [str(exc)]
    return [line.replace(str(path), shown) for line in lines] if path is not None else lines


# ------------------------------------------------------------------ edit
def edit_context(request: Request, run: str | None) -> dict:
    db, ws = request.app.state.db, request.app.state.ws
    plans = services.plans(db)
    runs = [p["run"] for p in plans if (ws.outputs / p["run"]).is_dir()]
    if run is None:
        pub = services.published(db)
        run = pub if pub in runs else (runs[0] if runs else None)
    visits = []
    if run:
        plain_name(run)
        if run not in runs:
            raise HTTPException(status_code=404)
        plan = load_plan(ws.run_dir(run))
        for d in sorted(plan.days, key=lambda d: (d.date, d.vehicle)):
            for s in d.stops:
                if s.kind in ("village", "site"):
                    visits.append(
                        {
                            "date": d.date.isoformat(),
                            "vehicle": d.vehicle,
                            "time": s.arrival.strftime("%H:%M"),
                            "id": s.stop_id,
                            "name": s.stop_name,
                            "commune": s.commune,
                        }
                    )
    return {"plans": plans, "run": run, "visits": visits, "result": None, "refused": None, "asked": {}}


@router.get("/edit", dependencies=[VIEWER])
def edit_page(request: Request, run: str | None = None):
    return render(request, "edit.html", **edit_context(request, run))


@router.post("/edit", dependencies=[PLANNER])
async def edit_apply(request: Request):
    form = await request.form()
    run = plain_name(str(form.get("run") or ""))
    action = str(form.get("action") or "")
    if action not in ("move", "drop", "add", "pin"):
        raise HTTPException(status_code=400)
    ctx = edit_context(request, run)
    user = request.state.user["name"]
    village = str(form.get("village") or "").strip()
    time = str(form.get("time") or "").strip() or None
    try:
        date = parse_date(form.get("date"), "date")
        area = load_area(request.app.state.ws.data)
        if action == "pin":
            services.pin(request.app.state.db, village, date, time, set(area.villages["id"].astype(str)), user)
            ctx["result"] = {"pinned": f"{village} {date}"}
        else:
            req = services.EditRequest(action=action, village=village, date=date, time=time)
            res = services.edit(request.app.state.db, area, run, req, request.app.state.ws.outputs, user)
            ctx["result"] = {"run": Path(res["path"]).name}
    except InputError as exc:
        ctx["refused"] = problems_of(exc)
        ctx["asked"] = {"action": action, "village": village, "date": str(form.get("date") or ""), "time": time or ""}
        return render(request, "edit.html", status_code=422, **ctx)
    return render(request, "edit.html", **ctx)


@router.post("/runs/{run}/publish", dependencies=[PLANNER])
def publish(request: Request, run: str):
    request.app.state.ws.run_dir(run)
    try:
        services.publish_run(request.app.state.db, run, request.state.user["name"])
    except InputError as exc:
        return render(request, "error.html", status_code=409, status=409, detail=problems_of(exc))
    return RedirectResponse(f"/runs/{run}", status_code=303)


# ------------------------------------------------------------------ record
def record_context(request: Request, day: str | None) -> dict:
    db, ws = request.app.state.db, request.app.state.ws
    pub = services.published(db)
    dates, rows = [], []
    if pub and (ws.outputs / pub).is_dir():
        plan = load_plan(ws.run_dir(pub))
        dates = sorted({d.date.isoformat() for d in plan.days if any(s.kind in ("village", "site") for s in d.stops)})
        chosen = parse_date(day, "day") if day else (dt.date.fromisoformat(dates[0]) if dates else None)
        if chosen:
            rows = services.day_rows(ws.run_dir(pub), pub, chosen, plan)
        day = chosen.isoformat() if chosen else None
    jobs = request.app.state.store.jobs(5, kind="replan")
    return {
        "published": pub,
        "dates": dates,
        "day": day,
        "rows": rows,
        "closures": services.closures(db),
        "jobs": jobs,
        "result": None,
        "problems": None,
        "held_values": HELD,
    }


@router.get("/record", dependencies=[VIEWER])
def record_page(request: Request, day: str | None = None):
    return render(request, "record.html", **record_context(request, day))


@router.post("/record/day", dependencies=[PLANNER])
async def record_day(request: Request):
    form = await request.form()
    ws = request.app.state.ws
    ctx = record_context(request, str(form.get("day") or ""))
    filled = []
    for i, row in enumerate(ctx["rows"]):
        values = dict(row)
        for key in ("held", "reason", "people", "children", "books_lent", "books_returned", "new_readers", "notes"):
            values[key] = str(form.get(f"{key}-{i}") or "").strip()
        if values["held"]:
            filled.append(values)
    path = inside(ws.uploads, f"day-{secrets.token_hex(6)}.csv")
    try:
        services.write_day_sheet(filled, path)
        ctx["result"] = services.record_sheet(request.app.state.db, path, request.state.user["name"])
    except InputError as exc:
        ctx["problems"] = problems_of(exc, path, f"{ctx['day']}")
        return render(request, "record.html", status_code=422, **ctx)
    finally:
        path.unlink(missing_ok=True)
    return render(request, "record.html", **ctx)


@router.post("/record/sheet", dependencies=[PLANNER])
async def record_upload(request: Request, file: Annotated[UploadFile, File()]):
    path = await save_upload(file, request.app.state.ws.uploads, "sheet", (".xlsx", ".csv"))
    if path is None:
        return render(request, "error.html", status_code=415, status=415, message="bad_type")
    ctx = record_context(request, None)
    try:
        ctx["result"] = services.record_sheet(request.app.state.db, path, request.state.user["name"])
    except InputError as exc:
        ctx["problems"] = problems_of(exc, path, file.filename or "")
        return render(request, "record.html", status_code=422, **ctx)
    finally:
        path.unlink(missing_ok=True)
    return render(request, "record.html", **ctx)


@router.post("/record/replan", dependencies=[PLANNER])
async def record_replan(request: Request):
    form = await request.form()
    ctx = record_context(request, None)
    try:
        date_from = parse_date(form.get("date_from"), "date_from")
        until = parse_date(form.get("until"), "until") if form.get("until") else None
    except InputError as exc:
        ctx["problems"] = problems_of(exc)
        return render(request, "record.html", status_code=422, **ctx)
    roads = [r.strip() for r in str(form.get("close_road") or "").split(",") if r.strip()]
    places = [r.strip() for r in str(form.get("close_place") or "").split(",") if r.strip()]
    params = {
        "db": request.app.state.db,
        "date_from": date_from.isoformat(),
        "until": until.isoformat() if until else None,
        "close_roads": roads,
        "close_places": places,
        "reason": str(form.get("reason") or "")[:200],
        "lang": "vi",
    }
    job_id = request.app.state.store.add_job("replan", params, request.state.user["name"])
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


# ------------------------------------------------------------------ report
@router.get("/report", dependencies=[VIEWER])
def report_page(request: Request):
    return render(request, "report.html", files=None, folder=None, problems=None, date_from="", date_to="")


@router.post("/report", dependencies=[PLANNER])
async def report_make(request: Request):
    form = await request.form()
    ws = request.app.state.ws
    try:
        date_from = parse_date(form.get("date_from"), "date_from")
        date_to = parse_date(form.get("date_to"), "date_to")
        if date_to < date_from:
            raise InputError([Problem("form", "date_to", "date_to", str(date_to), "before the first date")])
        name = f"report-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
        area = load_area(ws.data)
        paths = services.report(
            request.app.state.db, date_from, date_to, ws.outputs / name, area, request.state.user["name"]
        )
    except InputError as exc:
        ctx = {"files": None, "folder": None, "problems": problems_of(exc)}
        return render(request, "report.html", status_code=422, date_from="", date_to="", **ctx)
    files = sorted(Path(p).relative_to(paths["folder"]).as_posix() for p in paths["files"])
    return render(
        request,
        "report.html",
        files=files,
        folder=Path(paths["folder"]).name,
        problems=None,
        date_from=date_from.isoformat(),
        date_to=date_to.isoformat(),
    )
