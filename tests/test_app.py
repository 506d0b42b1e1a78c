"""The web app over HTTP (FastAPI TestClient): security rules, pages, data editing and jobs.

Every test runs on its own workspace folder (a copy of the shipped data in ``tmp_path``).
"""

from __future__ import annotations

import io
import re
import sys
import time

import pytest
from fastapi.testclient import TestClient

from planner.app.auth import add_user
from planner.app.files import PathRefused, inside, plain_name
from planner.app.i18n import MESSAGES
from planner.app.server import create_app
from planner.app.store import Store
from planner.cli import main

PASSWORD = "correct horse battery"
LOCAL = "http://127.0.0.1:8000"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


@pytest.fixture
def app(tmp_path):
    return create_app(tmp_path / "ws", start_jobs=False)


@pytest.fixture
def client(app):
    return TestClient(app, base_url=LOCAL, raise_server_exceptions=False)


def accounts(app) -> None:
    for name, role in (("vi", "viewer"), ("pl", "planner"), ("ad", "admin")):
        add_user(app.state.store, name, role, PASSWORD)


def login(client, name: str) -> str:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/data").text) if name != "vi" else ""


# ------------------------------------------------------------------ modes and login
def test_loopback_without_accounts_opens_in_vietnamese(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "Tổng quan" in r.text and "Dữ liệu" in r.text and "Lập kế hoạch" in r.text
    assert 'lang="vi"' in r.text


def test_without_a_login_only_requests_to_this_machine_are_answered(app):
    """A page of another site that rebinds its name to 127.0.0.1 gets nothing (DNS rebinding)."""
    assert TestClient(app, base_url="http://evil.example:8000").get("/").status_code == 400
    assert TestClient(app, base_url="http://localhost:8000").get("/").status_code == 200


def test_english_switch(client):
    r = client.get("/lang/en?next=/data")
    assert r.status_code == 200 and "Villages" in r.text and 'lang="en"' in r.text
    # an outside redirect target is ignored
    r = client.get("/lang/vi?next=//evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_message_catalogue_has_the_same_keys_in_both_languages():
    assert set(MESSAGES["vi"]) == set(MESSAGES["en"])
    assert MESSAGES["vi"]["nav_overview"] == "Tổng quan" and MESSAGES["vi"]["nav_record"] == "Thực hiện"


def test_with_accounts_every_page_needs_a_login(app, client):
    accounts(app)
    for url in ("/", "/data", "/plan", "/compare", "/data/layers.json", "/runs/x/files/plan.json"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", url
    assert client.get("/static/htmx.min.js").status_code == 200


def test_on_another_address_even_a_workspace_without_accounts_needs_a_login(tmp_path):
    app = create_app(tmp_path / "ws", host="0.0.0.0", start_jobs=False)
    r = TestClient(app, base_url=LOCAL).get("/data", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_login_sets_a_httponly_samesite_cookie(app, client):
    accounts(app)
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"username": "pl", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    header = r.headers["set-cookie"].lower()
    assert header.startswith("planner_session=") and "httponly" in header and "samesite=strict" in header
    assert client.get("/").status_code == 200


def test_login_is_rate_limited(app, client):
    accounts(app)
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        r = client.post("/login", data={"username": "pl", "password": "wrong password", "csrf_token": token})
        assert r.status_code == 401 and "Sai tên đăng nhập" in r.text
    r = client.post("/login", data={"username": "pl", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "Quá nhiều lần" in r.text


def test_passwords_are_stored_as_argon2_hashes(app):
    accounts(app)
    h = app.state.store.user("pl")["password_hash"]
    assert h.startswith("$argon2id$") and PASSWORD not in h


# ------------------------------------------------------------------ CSRF and roles
def test_forms_without_a_csrf_token_are_refused(client):
    token = csrf_of(client.get("/plan").text)
    r = client.post("/plan/run", data={"scenario": "baseline"})
    assert r.status_code == 403
    r = client.post("/plan/run", data={"scenario": "baseline", "csrf_token": "forged"})
    assert r.status_code == 403
    r = client.post("/plan/run", data={"scenario": "baseline", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    # the login form is protected too
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 403


def test_a_viewer_reads_but_cannot_change(app, client):
    accounts(app)
    login(client, "vi")
    page = client.get("/data")
    assert page.status_code == 200 and 'action="/data/import"' not in page.text
    token = csrf_of(client.get("/plan").text)  # the logout form carries the token
    for url, data in (
        ("/plan/run", {"scenario": "baseline"}),
        ("/data/villages/0/delete", {"id": "03433-01"}),
        ("/compare/run", {"scenarios": ["baseline", "two_vans"]}),
        ("/jobs/1/cancel", {}),
        ("/runs/x/publish", {}),
        ("/edit", {"run": "x", "action": "pin", "village": "03433-01", "date": "2026-12-07"}),
        ("/record/replan", {"date_from": "2026-12-07", "close_place": "03433-01"}),
        ("/report", {"date_from": "2026-12-01", "date_to": "2026-12-31"}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert len(app.state.ws.villages()) == 105


def test_a_planner_may_plan(app, client):
    accounts(app)
    token = login(client, "pl")
    r = client.post("/plan/run", data={"scenario": "baseline", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert app.state.store.jobs()[0]["created_by"] == "pl"


def test_every_route_declares_a_role(app):
    from fastapi.routing import APIRoute

    for route in app.routes:
        if isinstance(route, APIRoute):
            roles = [getattr(d.call, "role", None) for d in route.dependant.dependencies]
            assert any(r in ("public", "viewer", "planner", "admin") for r in roles), route.path
            if "POST" in route.methods and route.path not in ("/login",):
                assert any(r in ("viewer", "planner", "admin") for r in roles), route.path


# ------------------------------------------------------------------ uploads and paths
def test_an_oversized_upload_is_refused(tmp_path):
    app = create_app(tmp_path / "ws", start_jobs=False, max_upload_bytes=10_000)
    client = TestClient(app, base_url=LOCAL, raise_server_exceptions=False)
    token = csrf_of(client.get("/data").text)
    big = io.BytesIO(b"id,name\n" + b"x" * 50_000)
    r = client.post("/data/import", data={"csrf_token": token}, files={"file": ("v.csv", big, "text/csv")})
    assert r.status_code == 413
    assert len(app.state.ws.villages()) == 105


def test_an_upload_of_the_wrong_type_is_refused(client, app):
    token = csrf_of(client.get("/data").text)
    for name, body in (("v.exe", b"MZ\x90\x00"), ("v.xlsx", b"not a zip"), ("v.csv", b"\x00\x01binary")):
        r = client.post("/data/import", data={"csrf_token": token}, files={"file": (name, io.BytesIO(body))})
        assert r.status_code == 415, name
        assert "Loại tệp không được hỗ trợ" in r.text
    assert not any(app.state.ws.uploads.iterdir())


@pytest.mark.parametrize(
    "url",
    [
        "/runs/..%2f..%2fapp.db",
        "/runs/x/files/..%2f..%2fapp.db",
        "/runs/x/files/%2e%2e/%2e%2e/app.db",
        "/runs/..%2F/files/app.db",
        "/runs/x/files//etc/passwd",
        "/plan?scenario=..%2f..%2fapp",
        "/runs/%2e%2e/files/data/villages.geojson",
    ],
)
def test_a_path_outside_the_workspace_is_refused(client, app, url):
    (app.state.ws.outputs / "x").mkdir()
    r = client.get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert "SQLite format" not in r.text and "root:" not in r.text


def test_inside_refuses_escapes(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    for parts in (("..", "x"), ("/etc/passwd",), ("a/../../x",), ("link", "secret"), ("a\x00b",)):
        with pytest.raises(PathRefused):
            inside(tmp_path / "out", *parts)
    assert inside(tmp_path / "out", "a", "b.pdf") == (tmp_path / "out" / "a" / "b.pdf").resolve()
    with pytest.raises(PathRefused):
        plain_name("../x")


# ------------------------------------------------------------------ escaping and errors
def test_a_script_in_a_village_name_shows_as_text(client, app):
    token = csrf_of(client.get("/data").text)
    row = client.get("/data/villages/0/edit").text
    values = dict(re.findall(r'name="(\w+)" value="([^"]*)"', row))
    values.update(name="<script>alert(1)</script>", csrf_token=token)
    r = client.post("/data/villages/0", data=values, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert app.state.ws.villages().iloc[0]["name"] == "<script>alert(1)</script>"
    page = client.get("/data").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_error_pages_show_no_traceback(client, app, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(type(app.state.ws), "check", boom)
    r = client.get("/data")
    assert r.status_code == 500
    assert "Traceback" not in r.text and "secret internals" not in r.text
    assert "Có lỗi trong chương trình" in r.text
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "Không tìm thấy" in r.text


def test_pages_load_nothing_from_outside(client):
    for url in ("/", "/data", "/plan", "/compare", "/edit", "/record", "/report", "/login"):
        html = client.get(url).text
        assert not re.search(r'(src|href)="(https?:)?//', html), url
        r = client.get(url)
        assert "default-src 'self'" in r.headers["content-security-policy"]


# ------------------------------------------------------------------ data editing
VILLAGES_CSV = """id,name,commune_code,commune,population,children,lon,lat
T-01,Bản Một,03451,Mù Cả,420,130,102.46722,22.46778
T-02,,03451,Mù Cả,300,90,102.463587,22.430206
T-03,Bản Ba,03451,Mù Cả,-5,2,102.425546,22.516393
"""


def test_import_lists_every_problem_and_the_table_fixes_them(client, app):
    token = csrf_of(client.get("/data").text)
    r = client.post(
        "/data/import",
        data={"csrf_token": token},
        files={"file": ("bản.csv", io.BytesIO(VILLAGES_CSV.encode()), "text/csv")},
    )
    assert r.status_code == 200
    assert "missing name" in r.text and "negative" in r.text
    assert "2 lỗi" in r.text
    errors, _ = app.state.ws.check()
    assert len(errors) == 2
    # fix both rows in the table; a wrong fix is refused beside its field
    bad = {"id": "T-03", "name": "Bản Ba", "commune_code": "03451", "commune": "Mù Cả"}
    bad |= {"population": "-7", "children": "2", "lon": "102.425546", "lat": "22.516393", "csrf_token": token}
    r = client.post("/data/villages/2", data=bad, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "negative" in r.text and 'aria-invalid="true"' in r.text
    r = client.post("/data/villages/2", data=bad | {"population": "60"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<tr" in r.text and "Bản Ba" in r.text and ">60<" in r.text
    fix = bad | {"id": "T-02", "name": "Bản Hai", "population": "300", "children": "90", "lon": "102.463587"}
    fix["lat"] = "22.430206"
    assert client.post("/data/villages/1", data=fix, follow_redirects=False).status_code == 303
    assert app.state.ws.check()[0] == []


def test_add_and_delete_a_village(client, app):
    token = csrf_of(client.get("/data").text)
    new = {"id": "NEW-1", "name": "Bản Mới", "commune_code": "03451", "commune": "Mù Cả", "population": "50"}
    new |= {"lon": "102.466", "lat": "22.468", "csrf_token": token}
    assert client.post("/data/villages", data=new, follow_redirects=False).status_code == 303
    gdf = app.state.ws.villages()
    assert len(gdf) == 106 and gdf.iloc[-1]["id"] == "NEW-1"
    r = client.post("/data/villages/105/delete", data={"id": "wrong", "csrf_token": token})
    assert r.status_code == 409
    r = client.post("/data/villages/105/delete", data={"id": "NEW-1", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and len(app.state.ws.villages()) == 105


def test_scenario_form_is_saved_as_toml(client, app):
    token = csrf_of(client.get("/plan").text)
    form = {"name": "hai_xe", "weeks": "2", "season": "rainy", "vans": "2", "start_date": "2026-12-07"}
    form |= {"visits_4w": "1", "penalty": "100000", "night_cost": "3600", "csrf_token": token}
    r = client.post("/plan/scenario", data=form, follow_redirects=False)
    assert r.status_code == 303
    from planner.model.config import load_config

    cfg = load_config(app.state.ws.scenario_path("hai_xe"))
    assert cfg.plan.weeks == 2 and cfg.season == "rainy" and len(cfg.vehicles) == 2
    r = client.post("/plan/scenario", data=form | {"name": "../evil", "weeks": "99"})
    assert r.status_code == 422 and "1..8" in r.text
    assert not (app.state.ws.root / "evil.toml").exists()


# ------------------------------------------------------------------ jobs
def wait_for(store: Store, job_id: int, states, timeout: float = 120) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        job = store.job(job_id)
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {store.job(job_id)['state']} after {timeout} s")


def test_a_plan_runs_in_a_worker_with_progress_and_survives_a_restart(tmp_path):
    app = create_app(tmp_path / "ws")
    with TestClient(app, base_url=LOCAL) as client:
        token = csrf_of(client.get("/plan").text)
        form = {"scenario": "baseline", "run": "tuan1", "weeks": "1", "max_iterations": "20000", "csrf_token": token}
        r = client.post("/plan/run", data=form, headers={"HX-Request": "true"})
        assert r.status_code == 200 and "<progress" in r.text and 'hx-trigger="every 1s"' in r.text
        job_id = int(re.search(r'id="job-(\d+)"', r.text).group(1))
        job = wait_for(app.state.store, job_id, ("done", "failed"))
        assert job["state"] == "done", job["message"]
        assert job["result"]["run"] == "tuan1" and job["result"]["summary"]["villages_served"] > 0
        page = client.get("/runs/tuan1").text
        assert "schedules/" in page and ".pdf" in page
        pdf = client.get("/runs/tuan1/files/schedules/all_communes.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        whole = client.get("/runs/tuan1/zip")
        assert whole.status_code == 200 and whole.content.startswith(b"PK")
        assert client.get(f"/jobs/{job_id}/json").json()["state"] == "done"
        assert "tuan1" in client.get("/").text
    # a second server on the same workspace still has the run
    app2 = create_app(tmp_path / "ws", start_jobs=False)
    assert "tuan1" in app2.state.ws.runs()


def test_cancel_stops_a_running_job_and_restart_fails_unfinished_ones(tmp_path):
    app = create_app(tmp_path / "ws")
    store = app.state.store
    with TestClient(app, base_url=LOCAL) as client:
        token = csrf_of(client.get("/plan").text)
        first = {"scenario": "baseline", "weeks": "4", "csrf_token": token}
        client.post("/plan/run", data=first)
        client.post("/plan/run", data=first | {"weeks": "1"})
        running, queued = store.jobs()[1]["id"], store.jobs()[0]["id"]
        wait_for(store, running, ("running",), 30)
        assert store.job(queued)["state"] == "queued"  # one at a time
        r = client.post(f"/jobs/{queued}/cancel", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and store.job(queued)["state"] == "cancelled"
        client.post(f"/jobs/{running}/cancel", data={"csrf_token": token})
        assert wait_for(store, running, ("cancelled", "failed", "done"), 30)["state"] == "cancelled"
        assert not [p for p in app.state.ws.outputs.iterdir()]  # no half-written run folder
    # a job left running by a killed server is failed with a reason on the next start
    job_id = store.add_job("plan", {"scenario": "baseline"}, "local")
    store.update_job(job_id, state="running")
    app3 = create_app(tmp_path / "ws")
    with TestClient(app3, base_url=LOCAL):
        job = store.job(job_id)
    assert job["state"] == "failed" and "server stopped" in job["message"]


# ------------------------------------------------------------------ command line
def test_serve_on_all_addresses_without_accounts_refuses_to_start(tmp_path, capsys):
    code = main(["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "w" / "planner.db"), "--no-browser"])
    assert code == 2
    assert "planner user add" in capsys.readouterr().err


def test_user_add_from_the_command_line(tmp_path, monkeypatch, capsys):
    db = tmp_path / "w" / "planner.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO("a good password\n"))
    assert main(["user", "add", "lan", "--role", "planner", "--db", str(db), "--password-stdin"]) == 0
    assert Store(db.parent / "app.db").user("lan")["role"] == "planner"
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["user", "add", "lan", "--role", "planner", "--db", str(db), "--password-stdin"]) == 2
    assert "8 characters" in capsys.readouterr().err


def test_road_speeds_are_saved_and_used_by_plans(client, app):
    from planner.app.jobs import plan_overrides
    from planner.model.config import load_config

    token = csrf_of(client.get("/data").text)
    form = {"csrf_token": token}
    for p in ("van", "motorbike"):
        for s in ("dry", "rainy"):
            for c in ("national", "provincial", "commune", "track"):
                form[f"{p}-{s}-{c}"] = "12" if (p, s, c) == ("van", "rainy", "commune") else "30"
    assert client.post("/data/speeds", data=form, follow_redirects=False).status_code == 303
    assert 'value="12.0"' in client.get("/data").text
    cfg = load_config(None, plan_overrides({}, app.state.ws.speeds()))
    assert cfg.profiles["van"].rainy.commune == 12.0
    assert cfg.profiles["van"].offroad_kph == 4  # the rest of the profile is kept
    assert client.post("/data/speeds", data=form | {"van-dry-track": "900"}).status_code == 400
