"""The workspace database on a tiny area: schema, errors with exit codes, record, two writers, report cells.

Runs on SQLite and on PostgreSQL (when ``PLANNER_TEST_PG`` is set; in CI it must be).
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing as mp
import sqlite3

import geopandas as gpd
import openpyxl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import write_area
from sqlalchemy import func, select, text
from workspace_support import check_report_workbook, expected_figures, tiny_toml

from planner import cli
from planner.workspace import service
from planner.workspace.cycle import carry_over
from planner.workspace.db import Audit, Base, Pin, PlanRecord, Visit
from planner.workspace.sheet import COLUMNS, planned_rows
from planner.workspace.store import ADVISORY_KEY, backup_sqlite, init_workspace, open_workspace

CONFIG = tiny_toml()
KEYS = [k for k, _, _ in COLUMNS]


@pytest.fixture
def tiny(tmp_path):
    data = write_area(
        tmp_path / "data",
        villages=[
            ("V1", "Bản Một", 5.0, 100),
            ("V2", "Bản Hai", 10.0, 300),
            ("V3", "Bản Ba", -10.0, 200),
            ("V4", "Bản Bốn", -20.0, 150),
            ("V5", "Bản Năm", 20.0, 120),
        ],
        roads=[("R1", "commune", -20.0, 0.0), ("R2", "commune", 0.0, 5.0), ("R3", "commune", 5.0, 20.0)],
    )
    cfg = tmp_path / "plan.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    return data, cfg, tmp_path / "out"


def published_tiny(tiny, url) -> list[dict]:
    data, cfg, out = tiny
    assert cli.main(["init", "--db", url]) == 0
    args = ["plan", "--data", str(data), "--config", str(cfg), "--out", str(out), "--quiet", "--no-printables"]
    assert cli.main([*args, "--run", "t1", "--db", url]) == 0
    assert cli.main(["publish", "t1", "--out", str(out), "--db", url]) == 0
    return planned_rows(service.load_run_plan(out / "t1"), "t1")


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=KEYS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def test_init_creates_the_schema_of_the_models(db_url, capsys):
    assert cli.main(["init", "--db", db_url]) == 0
    assert "created" in capsys.readouterr().out
    assert cli.main(["init", "--db", db_url]) == 0
    assert "up to date" in capsys.readouterr().out
    with open_workspace(db_url) as ws, ws.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"the migrations and the ORM models disagree: {diff}"


def test_sqlite_workspace_is_wal_with_foreign_keys(tmp_path):
    ws, created = init_workspace(tmp_path / "w.db")
    assert created
    with ws.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with ws.transaction() as s:
            s.execute(
                text(
                    "INSERT INTO edits (plan_id, action, village_id, date, created_at) VALUES (999, 'drop', 'V1', '2026-11-30', '2026-11-30')"
                )
            )
    ws.close()


def test_no_workspace_newer_schema_and_corrupt_file_exit_5(db_url, tmp_path, capsys):
    if "://" not in db_url:
        assert cli.main(["record", "x.csv", "--db", db_url]) == 5
        assert "planner init" in capsys.readouterr().err
    assert cli.main(["init", "--db", db_url]) == 0
    with open_workspace(db_url) as ws, ws.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    assert cli.main(["record", "x.csv", "--db", db_url]) == 5
    err = capsys.readouterr().err
    assert "newer" in err and "9999" in err and "Traceback" not in err
    bad = tmp_path / "broken.db"
    bad.write_bytes(b"this is not an SQLite file at all" * 100)
    assert cli.main(["record", "x.csv", "--db", str(bad)]) == 5
    assert "not a readable workspace database" in capsys.readouterr().err


def test_locked_database_exits_5(db_url, tiny, monkeypatch, capsys):
    assert cli.main(["init", "--db", db_url]) == 0
    monkeypatch.setenv("PLANNER_DB_TIMEOUT", "0.5")
    if "://" in db_url:
        import psycopg

        holder = psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
    else:
        holder = sqlite3.connect(db_url, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    try:
        code = cli.main(["pin", "V1", "2026-11-30", "--data", str(tiny[0]), "--db", db_url])
    finally:
        holder.close()
    assert code == 5
    assert "locked by another process" in capsys.readouterr().err
    assert cli.main(["pin", "V1", "2026-11-30", "--data", str(tiny[0]), "--db", db_url]) == 0


def test_backup_copies_the_sqlite_file(tmp_path):
    ws, _ = init_workspace(tmp_path / "w.db")
    with ws:
        service.add_pin(ws, "V1", dt.date(2026, 11, 30))
    copy = backup_sqlite(tmp_path / "w.db")
    assert copy.name.startswith("w.db.bak-")
    con = sqlite3.connect(copy)
    assert con.execute("SELECT village_id FROM pins").fetchall() == [("V1",)]
    con.close()


def add_pins(url: str, who: int, n: int, start) -> None:
    start.wait(30)
    with open_workspace(url) as ws:
        for k in range(n):
            service.add_pin(ws, f"P{who}-{k}", dt.date(2026, 11, 30) + dt.timedelta(days=k))


def test_two_processes_writing_at_once_lose_nothing(db_url):
    ws, _ = init_workspace(db_url)
    ws.close()
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=add_pins, args=(db_url, w, 40, start)) for w in (1, 2)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with open_workspace(db_url) as ws, ws.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Pin)) == 80
        assert s.scalar(select(func.count()).select_from(Audit).where(Audit.action == "pin")) == 80


def test_record_refuses_a_bad_file_whole_listing_every_problem(db_url, tiny, tmp_path, capsys):
    rows = published_tiny(tiny, db_url)
    assert len(rows) >= 3
    good = dict(rows[0], held="có", people=20, children=5, books_lent=10, books_returned=0, new_readers=3)
    bad = [
        good,
        dict(rows[1], stop_id="NOPE", held="có", people=5, children=1),  # unknown village
        dict(rows[2], date="2027-03-01", held="có", people=5, children=1),  # outside the plan
        dict(rows[1], held="có", people=-4, children=0),  # negative
        dict(rows[2], held="có", people=3, children=9),  # children > people
        dict(rows[2], stop_id=rows[0]["stop_id"], date=rows[0]["date"], held="có"),  # held, no counts (and duplicate)
    ]
    assert cli.main(["record", str(write_csv(tmp_path / "bad.csv", bad)), "--db", db_url]) == 2
    err = capsys.readouterr().err
    for rule in ("row 3", "unknown village", "row 4", "outside the plan", "row 5", "must not be negative", "row 6",
                 "more children than people", "row 7", "a held visit needs its counts"):  # fmt: skip
        assert rule in err, f"{rule!r} missing from:\n{err}"
    with open_workspace(db_url) as ws, ws.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 0, "a refused file wrote rows"


def test_record_is_idempotent_and_a_corrected_file_replaces_with_an_audit(db_url, tiny, tmp_path, capsys):
    rows = published_tiny(tiny, db_url)
    filled = [dict(rows[0], held="có", people=20, children=5, books_lent=10, books_returned=2, new_readers=3),
              dict(rows[1], held="hủy", reason="Xe hỏng")]  # fmt: skip
    path = write_csv(tmp_path / "log.csv", filled + rows[2:])
    assert cli.main(["record", str(path), "--db", db_url]) == 0
    assert "2 new" in capsys.readouterr().out
    assert cli.main(["record", str(path), "--db", db_url]) == 0
    assert "0 new, 0 replaced, 2 unchanged" in capsys.readouterr().out
    filled[0]["people"] = 25
    assert cli.main(["record", str(write_csv(tmp_path / "log2.csv", filled)), "--db", db_url]) == 0
    assert "1 replaced" in capsys.readouterr().out
    with open_workspace(db_url) as ws, ws.transaction() as s:
        v = s.scalar(select(Visit).where(Visit.village_id == rows[0]["stop_id"]))
        assert (v.people, v.children, v.adults, v.source) == (25, 5, 20, "log2.csv")
        a = s.scalars(select(Audit).where(Audit.action == "record-replace")).all()
        assert len(a) == 1 and a[0].before == {"people": 20} and a[0].after == {"people": 25}
        assert s.scalar(select(PlanRecord.status).where(PlanRecord.run == "t1")) == "published"
    out = tmp_path / "rep"
    assert (
        cli.main(
            [
                "report",
                "--from",
                "2026-11-30",
                "--to",
                "2026-12-06",
                "--out",
                str(out),
                "--data",
                str(tiny[0]),
                "--db",
                db_url,
            ]
        )
        == 0
    )
    assert check_report_workbook(out / "report.xlsx", expected_figures(filled, 4000.0)) > 50
    # --units 2025: the tiny data has no post2025_commune, so exit 2 naming the commune; once its one
    # commune says it merged into "Xã Mới", the per-commune sheet has that one row, equal to the total
    rep = ["report", "--from", "2026-11-30", "--to", "2026-12-06", "--out", str(tmp_path / "rep25")]
    rep += ["--data", str(tiny[0]), "--db", db_url, "--units", "2025"]
    capsys.readouterr()
    assert cli.main(rep) == 2
    assert "code=00001" in capsys.readouterr().err
    communes = gpd.read_file(tiny[0] / "communes.geojson")
    communes["post2025_commune"] = "Xã Mới"
    communes.to_file(tiny[0] / "communes.geojson", driver="GeoJSON")
    assert cli.main(rep) == 0
    sheet = openpyxl.load_workbook(tmp_path / "rep25" / "report.xlsx")["Theo xã"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert [r[0] for r in rows] == ["Xã (từ 1/7/2025)", "Xã Mới", "Tổng cộng"] and rows[1][1:] == rows[2][1:]
    # the villages never reached are listed under the same 2025 commune as the tallies
    never = [
        [c.value for c in r]
        for r in openpyxl.load_workbook(tmp_path / "rep25" / "report.xlsx")["Bản chưa đến"].iter_rows()
    ]
    assert never[0][2] == "Xã (từ 1/7/2025)" and len(never) > 1 and {r[2] for r in never[1:]} == {"Xã Mới"}


def test_an_interrupted_record_writes_nothing(db_url, tiny, tmp_path, monkeypatch):
    rows = published_tiny(tiny, db_url)
    filled = [dict(r, held="có", people=10, children=2) for r in rows]
    calls = {"n": 0}
    real = service.audit

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(service, "audit", failing)
    with pytest.raises(KeyboardInterrupt), open_workspace(db_url) as ws:
        service.record(ws, write_csv(tmp_path / "x.csv", filled))
    with open_workspace(db_url) as ws, ws.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 0


def test_carry_over_counts_cycles_in_a_row_below_frequency():
    history = [
        {"required": {"A": 1, "B": 2, "C": 1}, "held": {"A": 0, "B": 2, "C": 0}},
        {"required": {"A": 1, "B": 2, "C": 1}, "held": {"A": 0, "B": 1, "C": 1}},
    ]
    # A missed twice in a row, B short in the last cycle only, C caught up
    assert carry_over(history) == {"A": 2, "B": 1}


def test_a_published_run_is_never_replaced(db_url, tiny, capsys):
    published_tiny(tiny, db_url)
    data, cfg, out = tiny
    args = ["plan", "--data", str(data), "--config", str(cfg), "--out", str(out), "--quiet", "--no-printables"]
    assert cli.main([*args, "--run", "t1", "--force", "--db", db_url]) == 2
    assert "published plan's folder is never replaced" in capsys.readouterr().err
    assert cli.main(["publish", "nope", "--out", str(out), "--db", db_url]) == 2


def test_migrating_an_older_sqlite_file_backs_it_up_first(tmp_path, monkeypatch):
    from planner.workspace import store

    ws, _ = init_workspace(tmp_path / "w.db")
    ws.close()
    upgraded = []
    monkeypatch.setattr(store, "head_revision", lambda: "0002")  # pretend this program knows a newer schema
    monkeypatch.setattr(store.command, "upgrade", lambda cfg, rev: upgraded.append(list(tmp_path.glob("w.db.bak-*"))))
    open_workspace(tmp_path / "w.db").close()
    assert upgraded and len(upgraded[0]) == 1, "the upgrade ran without a backup beside the file"
