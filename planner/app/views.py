"""Routes, grouped by page. Every route declares its role with :func:`planner.app.auth.require`
(or :func:`public` for the login page and the language switch), which also checks the CSRF
token of every form."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import secrets
import tomllib
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from planner.app import operations, services
from planner.app.auth import check_csrf, require, verify_login
from planner.app.files import (
    UPLOAD_SUFFIXES,
    VILLAGE_FIELDS,
    VILLAGES_LOCK,
    apply_village_form,
    inside,
    layers_geojson,
    plain_name,
    problems_by_village,
    save_upload,
    village_row,
    zip_folder,
)
from planner.app.pages import lang_of, render
from planner.comparison.report import column_label, fmt
from planner.model.config import Config, load_config
from planner.model.errors import InputError, Problem
from planner.model.plan import Plan
from planner.model.plan_io import plan_from_dict


def public():
    """A route dependency for pages open to everyone (login, language): CSRF on forms only."""
    from fastapi import Depends

    async def dependency(request: Request) -> None:
        await check_csrf(request)

    dependency.role = "public"
    return Depends(dependency)


router = APIRouter()
#: What the last import found (read by the Data page right after the import).
LAST_IMPORT = "last_import.json"
VIEWER, PLANNER = require("viewer"), require("planner")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def local_next(value: str | None) -> str:
    """A redirect target only if it is a path on this site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


# ------------------------------------------------------------------ login and language
@router.get("/login", dependencies=[public()])
def login_page(request: Request):
    return render(request, "login.html", error=None)


@router.post("/login", dependencies=[public()])
def login(request: Request, username: str = Form(""), password: str = Form("")):
    client = request.client.host if request.client else "?"
    user, why = verify_login(request.app.state.store, username[:64], password[:1024], client)
    if user is None:
        code = 429 if why == "locked" else 401
        return render(request, "login.html", status_code=code, error="login_locked" if why == "locked" else "login_bad")
    request.session.clear()
    request.session["user"] = user["name"]
    request.session["csrf"] = secrets.token_urlsafe(24)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[VIEWER])
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}", dependencies=[public()])
def set_lang(request: Request, code: str, next: str = "/"):
    resp = RedirectResponse(local_next(next), status_code=303)
    if code in ("vi", "en"):
        resp.set_cookie("lang", code, max_age=3600 * 24 * 365, samesite="strict", httponly=True)
    return resp


# ------------------------------------------------------------------ overview
def latest_plan(request: Request) -> tuple[str | None, Plan | None]:
    """The published plan, else the newest run folder with a plan."""
    ws = request.app.state.ws
    pub = services.published(request.app.state.db)
    for run in ([pub] if pub else []) + ws.runs():
        f = ws.run_dir(run) / "plan.json"
        if f.exists():
            return run, plan_from_dict(json.loads(f.read_text(encoding="utf-8")))
    return None, None


@router.get("/", dependencies=[VIEWER])
def overview(request: Request):
    run, plan = latest_plan(request)
    trips, warnings = [], []
    if plan is not None:
        days = sorted(plan.days, key=lambda d: (d.date, d.vehicle))
        for d in days[:10]:
            stop_names = [s.stop_name for s in d.stops if s.kind in ("village", "site")]
            trips.append({"date": d.date.isoformat(), "vehicle": d.vehicle, "stops": stop_names})
        reasons: dict[str, int] = {}
        for u in plan.unserved:
            reasons[u.reason] = reasons.get(u.reason, 0) + 1
        warnings = [f"{n} × {r.replace('_', ' ')}" for r, n in sorted(reasons.items())]
    errors, _ = request.app.state.ws.check()
    db = request.app.state.db
    names: dict[str, str] = {}
    if plan is not None:
        names = {v.village_id: v.name for v in plan.villages}
    twice = services.left_out(db)
    return render(
        request,
        "overview.html",
        published=services.published(db),
        left_out=[(v, names.get(v, v), n) for v, n in sorted(twice.items())],
        closures=services.in_force(services.closures(db), dt.date.today(), upcoming=True),
        run=run,
        summary=plan.summary() if plan else None,
        trips=trips,
        warnings=warnings,
        data_errors=len(errors),
    )


# ------------------------------------------------------------------ data
def villages_context(request: Request, problems=None) -> dict:
    ws = request.app.state.ws
    gdf = ws.villages()
    errors, warnings = ws.check() if problems is None else problems
    ids = [str(v) for v in (gdf["id"] if "id" in gdf else [])]
    rows = [village_row(gdf, i) for i in range(len(gdf))]
    by = problems_by_village(errors, ids)
    for i, r in enumerate(rows):
        r["index"] = i
        r["errors"] = by.get(str(r["id"]), {})
    return {"rows": rows, "errors": errors, "warnings": warnings, "fields": VILLAGE_FIELDS}


ROAD_CLASSES = ("national", "provincial", "commune", "track")
SPEED_PROFILES = ("van", "motorbike")


def speeds(ws) -> dict:
    """Road speeds by vehicle profile and season: the defaults with the workspace's own values over them."""
    own = ws.speeds()
    profiles = Config().to_dict()["profiles"]
    return {
        p: {s: {c: own.get(p, {}).get(s, {}).get(c, profiles[p][s][c]) for c in ROAD_CLASSES} for s in ("dry", "rainy")}
        for p in SPEED_PROFILES
    }


@router.post("/data/speeds", dependencies=[PLANNER])
async def save_speeds(request: Request):
    form = await request.form()
    values: dict = {}
    for p in SPEED_PROFILES:
        for season in ("dry", "rainy"):
            for c in ROAD_CLASSES:
                raw = str(form.get(f"{p}-{season}-{c}") or "").strip()
                try:
                    kph = float(raw)
                except ValueError:
                    kph = -1.0
                if not 0 <= kph <= 120:
                    raise HTTPException(status_code=400)
                values.setdefault(p, {}).setdefault(season, {})[c] = kph
    request.app.state.ws.save_speeds(values)
    return RedirectResponse("/data#speeds", status_code=303)


@router.get("/data", dependencies=[VIEWER])
def data_page(request: Request, imported: int = 0):
    ws = request.app.state.ws
    note = None
    errors, warnings = ws.check()
    if imported and (ws.root / LAST_IMPORT).exists():
        note = json.loads((ws.root / LAST_IMPORT).read_text(encoding="utf-8"))
        read = [Problem(**p) for p in note["problems"]]
        errors = [p for p in read if p.severity == "error"] + errors
        warnings = [p for p in read if p.severity != "error"] + warnings
    ctx = villages_context(request, (errors, warnings))
    return render(
        request, "data.html", **ctx, speeds=speeds(ws), imported=note, closures=services.closures(request.app.state.db)
    )


@router.get("/data/layers.json", dependencies=[VIEWER])
def data_layers(request: Request):
    return Response(layers_geojson(request.app.state.ws), media_type="application/json")


def village_index(request: Request, index: int):
    gdf = request.app.state.ws.villages()
    if not 0 <= index < len(gdf):
        raise HTTPException(status_code=404)
    return gdf


def checked_row(request: Request, index: int) -> dict:
    """Row ``index`` of the villages table with the checker's errors on its fields."""
    gdf = village_index(request, index)
    errors, _ = request.app.state.ws.check()
    row = village_row(gdf, index) | {"index": index}
    row["errors"] = problems_by_village(errors, [str(v) for v in gdf["id"]]).get(str(row["id"]), {})
    return row


@router.get("/data/villages/{index}/edit", dependencies=[VIEWER])
def village_edit(request: Request, index: int):
    row = checked_row(request, index)
    tpl = "village_form_row.html" if is_htmx(request) else "village_edit.html"
    return render(request, tpl, row=row, fields=VILLAGE_FIELDS)


@router.get("/data/villages/{index}", dependencies=[VIEWER])
def village_show(request: Request, index: int):
    row = checked_row(request, index)
    return render(request, "village_row.html", row=row, fields=VILLAGE_FIELDS)


async def save_village(request: Request, index: int | None):
    form = {k: (v if isinstance(v, str) else "") for k, v in (await request.form()).items()}
    return await run_in_threadpool(store_village, request, index, form)


def store_village(request: Request, index: int | None, form: dict):
    """Validate one row of the villages form against the whole area; save it or show why not."""
    with VILLAGES_LOCK:
        return store_village_locked(request, index, form)


def store_village_locked(request: Request, index: int | None, form: dict):
    ws = request.app.state.ws
    gdf = ws.villages()
    if index is not None and not 0 <= index < len(gdf):
        raise HTTPException(status_code=404)
    candidate, own = apply_village_form(gdf, index, form)
    pos = len(candidate) - 1 if index is None else index
    errors, warnings = ws.check(candidate) if not own else ([], [])
    ids = [str(v) for v in candidate["id"]]
    field_errors = dict(own)
    field_errors.update(problems_by_village(errors, ids).get(str(ids[pos]), {}) if not own else {})
    row = {f: form.get(f, "") for f in (*VILLAGE_FIELDS, "lon", "lat")} | {"index": pos, "errors": field_errors}
    if field_errors:
        tpl = "village_form_row.html" if is_htmx(request) else "village_edit.html"
        return render(request, tpl, status_code=422, row=row, fields=VILLAGE_FIELDS, new=index is None)
    ws.save_villages(candidate)
    if is_htmx(request) and index is not None:
        row = village_row(candidate, pos) | {"index": pos}
        row["errors"] = problems_by_village(errors, ids).get(str(ids[pos]), {})
        return render(request, "village_row.html", row=row, fields=VILLAGE_FIELDS)
    return RedirectResponse(f"/data#v-{pos}", status_code=303)


@router.post("/data/villages/{index}", dependencies=[PLANNER])
async def village_save(request: Request, index: int):
    return await save_village(request, index)


@router.get("/data/villages-new", dependencies=[PLANNER])
def village_new(request: Request):
    row: dict[str, Any] = {f: "" for f in (*VILLAGE_FIELDS, "lon", "lat")} | {"index": None, "errors": {}}
    return render(request, "village_edit.html", row=row, fields=VILLAGE_FIELDS, new=True)


@router.post("/data/villages", dependencies=[PLANNER])
async def village_add(request: Request):
    return await save_village(request, None)


@router.post("/data/villages/{index}/delete", dependencies=[PLANNER])
def village_delete(request: Request, index: int, id: str = Form("")):
    ws = request.app.state.ws
    with VILLAGES_LOCK:
        gdf = village_index(request, index)
        if str(village_row(gdf, index)["id"]) != id:
            raise HTTPException(status_code=409)  # the table changed since the page was drawn
        ws.save_villages(gpd.GeoDataFrame(gdf.drop(index=gdf.index[index]).reset_index(drop=True), crs=gdf.crs))
    if is_htmx(request):
        return HTMLResponse("")
    return RedirectResponse("/data", status_code=303)


@router.post("/data/import", dependencies=[PLANNER])
async def data_import(request: Request, file: Annotated[UploadFile, File()]):
    ws = request.app.state.ws
    dest = await save_upload(file, ws.uploads, "upload", UPLOAD_SUFFIXES)
    if dest is None:
        return render(request, "error.html", status_code=415, status=415, message="bad_type")
    try:
        n, problems = ws.import_villages(dest)
    finally:
        dest.unlink(missing_ok=True)
    note = {"file": file.filename, "rows": n, "problems": [dataclasses.asdict(p) for p in problems]}
    (ws.root / LAST_IMPORT).write_text(json.dumps(note, ensure_ascii=False, default=str), encoding="utf-8")
    return RedirectResponse("/data?imported=1#problems", status_code=303)


# ------------------------------------------------------------------ plan
SCENARIO_FIELDS = ("weeks", "season", "vans", "start_date", "fixed_points", "visits_4w", "penalty", "night_cost")


def scenario_form(ws, name: str | None) -> dict:
    """Form values of a scenario file (merged with its base and the defaults)."""
    cfg = load_config(ws.scenario_path(name) if name else None).to_dict()
    return {
        "name": name or "",
        "weeks": cfg["plan"]["weeks"],
        "season": cfg["plan"]["season"],
        "vans": len(cfg["vehicles"]),
        "start_date": cfg["plan"]["start_date"] or "",
        "fixed_points": bool(cfg["plan"]["fixed_points"]),
        "visits_4w": cfg["frequency"]["default_visits_per_4_weeks"],
        "penalty": cfg["service"]["penalty_per_person"],
        "night_cost": cfg["service"]["night_away_cost"],
    }


def scenario_toml(values: dict, vehicle: dict) -> str:
    """A scenario file from form values (strings quoted as TOML basic strings)."""
    lines = ["# written by planner serve", "[plan]", f"weeks = {int(values['weeks'])}"]
    lines.append(f'season = "{values["season"]}"')
    if values.get("start_date"):
        lines.append(f'start_date = "{values["start_date"]}"')
    lines.append(f"fixed_points = {'true' if values.get('fixed_points') else 'false'}")
    lines += ["", "[service]", f"penalty_per_person = {int(values['penalty'])}"]
    lines += [f"night_away_cost = {int(values['night_cost'])}", "", "[frequency]"]
    lines.append(f"default_visits_per_4_weeks = {int(values['visits_4w'])}")
    for k in range(int(values["vans"])):
        lines += ["", "[[vehicles]]", f'id = "van{k + 1}"']
        for key in ("profile", "capacity_books", "depot", "overnight_kinds", "max_driving_h_per_day"):
            lines.append(f"{key} = {json.dumps(vehicle[key], ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def plan_context(request: Request, name: str | None = None, **extra) -> dict:
    ws = request.app.state.ws
    names = ws.scenario_names()
    if name is None:
        name = "baseline" if "baseline" in names else (names[0] if names else None)
    store = request.app.state.store
    return {
        "scenarios": names,
        "form": scenario_form(ws, name),
        "form_errors": {},
        "jobs": store.jobs(15),
        "runs": [r for r in ws.runs() if (ws.run_dir(r) / "plan.json").exists()],
        **extra,
    }


@router.get("/plan", dependencies=[VIEWER])
def plan_page(request: Request, scenario: str | None = None):
    if scenario is not None:
        plain_name(scenario)
    return render(request, "plan.html", **plan_context(request, scenario))


@router.post("/plan/scenario", dependencies=[PLANNER])
async def save_scenario(request: Request):
    ws = request.app.state.ws
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("name", *SCENARIO_FIELDS)}
    values["fixed_points"] = form.get("fixed_points") == "on"
    errs: dict[str, str] = {}
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", values["name"]):
        errs["name"] = "letters, digits, _ or -"
    limits = {"weeks": (1, 8), "vans": (1, 4), "visits_4w": (1, 8), "penalty": (0, 10**9), "night_cost": (0, 10**9)}
    for k, (lo, hi) in limits.items():
        if not values[k].isdigit() or not lo <= int(values[k]) <= hi:
            errs[k] = f"a whole number in {lo}..{hi}"
    if values["season"] not in ("dry", "rainy"):
        errs["season"] = "dry or rainy"
    if values["start_date"] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["start_date"]):
        errs["start_date"] = "YYYY-MM-DD"
    text = "" if errs else scenario_toml(values, Config().to_dict()["vehicles"][0])
    if not errs:
        try:
            tomllib.loads(text)
            target = ws.scenario_path(values["name"])
            tmp = target.with_suffix(".toml.tmp")
            tmp.write_text(text, encoding="utf-8")
            load_config(tmp)
            tmp.replace(target)
        except InputError as exc:
            errs["name"] = str(exc)
            Path(ws.scenario_path(values["name"]).with_suffix(".toml.tmp")).unlink(missing_ok=True)
    if errs:
        ctx = plan_context(request)
        ctx["form"] = values
        ctx["form_errors"] = errs
        return render(request, "plan.html", status_code=422, **ctx)
    return RedirectResponse(f"/plan?scenario={values['name']}&saved=1", status_code=303)


def job_params(form, ws) -> dict:
    params: dict = {"lang": "vi"}
    scen = str(form.get("scenario") or "")
    if scen:
        params["scenario"] = plain_name(scen)
        ws.scenario_path(scen)
    run = str(form.get("run") or "").strip()
    if run:
        params["run"] = plain_name(run)
    start = str(form.get("start_date") or "").strip()
    if start:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", start):
            raise HTTPException(status_code=400)
        params["start_date"] = start
    for key, cast in (("weeks", int), ("max_iterations", int), ("time_limit_s", float)):
        v = str(form.get(key) or "").strip()
        if v:
            try:
                params[key] = cast(v)
            except ValueError:
                raise HTTPException(status_code=400) from None
    return params


@router.post("/plan/run", dependencies=[PLANNER])
async def plan_run(request: Request):
    form = await request.form()
    params = job_params(form, request.app.state.ws) | {"db": request.app.state.db}
    job_id = request.app.state.store.add_job("plan", params, request.state.user["name"])
    if is_htmx(request):
        return render(request, "job.html", job=request.app.state.store.job(job_id))
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}", dependencies=[VIEWER])
def job_page(request: Request, job_id: int):
    job = request.app.state.store.job(job_id)
    if job is None:
        raise HTTPException(status_code=404)
    if is_htmx(request):
        return render(request, "job.html", job=job)
    return render(request, "job_page.html", job=job)


@router.get("/jobs/{job_id}/json", dependencies=[VIEWER])
def job_json(request: Request, job_id: int):
    job = request.app.state.store.job(job_id)
    if job is None:
        raise HTTPException(status_code=404)
    keep = ("id", "kind", "state", "progress", "message", "result", "created", "started", "finished")
    return JSONResponse({k: job[k] for k in keep})


@router.post("/jobs/{job_id}/cancel", dependencies=[PLANNER])
def job_cancel(request: Request, job_id: int):
    store = request.app.state.store
    if store.job(job_id) is None:
        raise HTTPException(status_code=404)
    store.request_cancel(job_id)
    if is_htmx(request):
        return render(request, "job.html", job=store.job(job_id))
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


DOWNLOAD_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ics": "text/calendar; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


@router.get("/runs/{run}", dependencies=[VIEWER])
def run_page(request: Request, run: str):
    folder = request.app.state.ws.run_dir(run)
    if not folder.is_dir():
        raise HTTPException(status_code=404)
    if (folder / "comparison.csv").exists():
        return render(request, "compare_result.html", **compare_context(folder, run, lang_of(request)))
    plan = plan_from_dict(json.loads((folder / "plan.json").read_text(encoding="utf-8")))
    pdfs = sorted(p.name for p in (folder / "schedules").glob("*.pdf")) if (folder / "schedules").is_dir() else []
    icss = sorted(p.name for p in (folder / "calendars").glob("*.ics")) if (folder / "calendars").is_dir() else []
    diff = json.loads((folder / "diff.json").read_text(encoding="utf-8")) if (folder / "diff.json").exists() else None
    status = next((p["status"] for p in services.plans(request.app.state.db) if p["run"] == run), None)
    return render(
        request,
        "run.html",
        run=run,
        diff=diff,
        status=status,
        summary=plan.summary(),
        unserved=plan.unserved,
        pdfs=pdfs,
        icss=icss,
        has=lambda f: (folder / f).exists(),
    )


@router.get("/runs/{run}/files/{path:path}", dependencies=[VIEWER])
def run_file(request: Request, run: str, path: str):
    folder = request.app.state.ws.run_dir(run)
    parts = path.split("/")
    target = inside(folder, *parts)
    if not target.is_file() or target.name.startswith("."):
        raise HTTPException(status_code=404)
    media = DOWNLOAD_TYPES.get(target.suffix.lower(), "application/octet-stream")
    inline = target.suffix.lower() in (".pdf", ".html", ".png", ".svg")
    return FileResponse(target, media_type=media, content_disposition_type="inline" if inline else "attachment")


@router.get("/runs/{run}/zip", dependencies=[VIEWER])
def run_zip(request: Request, run: str):
    folder = request.app.state.ws.run_dir(run)
    if not folder.is_dir():
        raise HTTPException(status_code=404)
    return Response(
        zip_folder(folder),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{plain_name(run)}.zip"'},
    )


# ------------------------------------------------------------------ compare
def compare_context(folder: Path, run: str, lang: str = "vi") -> dict:
    """The comparison table with the report's column names and number style in ``lang``."""
    import csv

    with (folder / "comparison.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cols = list(rows[0].keys()) if rows else []
    charts = sorted(p.name for p in (folder / "charts").glob("*.png")) if (folder / "charts").is_dir() else []
    maps = (
        sorted(p.name for p in (folder / "maps").glob("*.html") if p.name != "index.html")
        if (folder / "maps").is_dir()
        else []
    )
    return {
        "run": run,
        "rows": [{c: show_cell(r[c], c, lang) for c in cols} for r in rows],
        "cols": cols,
        "heads": {c: column_label(c, lang) for c in cols},
        "charts": charts,
        "maps": maps,
        "has_pdf": (folder / "report.pdf").exists(),
    }


def show_cell(text: str, key: str, lang: str) -> str:
    """A CSV cell as the report writes it: numbers in the reader's style, codes by their label."""
    for kind in (int, float):
        try:
            return fmt(kind(text), lang, key)
        except ValueError:
            continue
    return fmt(text, lang, key) if text else ""


@router.get("/compare", dependencies=[VIEWER])
def compare_page(request: Request):
    ws = request.app.state.ws
    runs = [r for r in ws.runs() if (ws.run_dir(r) / "comparison.csv").exists()]
    jobs = request.app.state.store.jobs(10, kind="compare")
    return render(request, "compare.html", scenarios=ws.scenario_names(), runs=runs, jobs=jobs)


@router.post("/compare/run", dependencies=[PLANNER])
async def compare_run(request: Request):
    ws = request.app.state.ws
    form = await request.form()
    names = [plain_name(str(n)) for n in form.getlist("scenarios")]
    for n in names:
        if not ws.scenario_path(n).exists():
            raise HTTPException(status_code=404)
    if len(names) < 2:
        raise HTTPException(status_code=400)
    params = job_params(form, ws) | {"scenarios": names}
    params.pop("scenario", None)
    job_id = request.app.state.store.add_job("compare", params, request.state.user["name"])
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/healthz", dependencies=[public()])
def healthz(request: Request):
    return {"ok": True, "workspace_api": services.available()}


def register(app: FastAPI) -> None:
    """Add every route to ``app``."""
    app.include_router(router)
    app.include_router(operations.router)
