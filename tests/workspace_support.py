"""Shared pieces of the workspace tests: a fresh database per test on every engine available.

SQLite always; PostgreSQL when ``PLANNER_TEST_PG`` names a server (``.ci/run`` starts one and
sets it). In CI a missing PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENGINES = ["sqlite", "postgresql"] if (os.environ.get("PLANNER_TEST_PG") or os.environ.get("CI")) else ["sqlite"]


def fresh_pg_database() -> tuple[str, callable]:
    """A new empty database on the test server; returns its URL and a function that drops it."""
    base = os.environ.get("PLANNER_TEST_PG")
    if not base:
        pytest.fail("CI runs the workspace tests on PostgreSQL too, but PLANNER_TEST_PG is not set (see .ci/run)")
    name = f"ws_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    """The URL of a fresh, empty workspace database (not yet initialised) on each engine."""
    if request.param == "sqlite":
        yield str(tmp_path / "workspace" / "planner.db")
        return
    url, drop = fresh_pg_database()
    yield url
    drop()


def fill_rows(rows: list[dict], held: dict[int, tuple]) -> list[dict]:
    """Rows of a visit sheet filled in: ``held[i] = (held, reason, people, children, lent, returned, new)``."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        if i in held:
            h, reason, people, children, lent, returned, new = held[i]
            r.update(
                held=h,
                reason=reason,
                people=people,
                children=children,
                books_lent=lent,
                books_returned=returned,
                new_readers=new,
            )
        out.append(r)
    return out


def expected_figures(rows: list[dict], cost_per_km: float) -> dict:
    """The report's figures summed by the test itself from the rows it recorded (filled rows only)."""
    filled = [r for r in rows if r.get("held") not in (None, "")]
    norm = {"có": "yes", "yes": "yes", "không": "no", "no": "no", "hủy": "cancelled", "cancelled": "cancelled"}

    def tally(rs):
        t = dict.fromkeys(
            ("sessions_planned", "sessions_held", "sessions_not_held", "sessions_cancelled", "people", "adults",
             "children", "books_lent", "books_returned", "new_readers", "km", "cost_vnd"), 0)  # fmt: skip
        for r in rs:
            h = norm[r["held"]]
            t["sessions_planned"] += 1
            t["sessions_held"] += h == "yes"
            t["sessions_not_held"] += h == "no"
            t["sessions_cancelled"] += h == "cancelled"
            for k in ("people", "children", "books_lent", "books_returned", "new_readers"):
                t[k] += int(r.get(k) or 0)
            t["adults"] += int(r.get("people") or 0) - int(r.get("children") or 0)
            if h != "cancelled":
                t["km"] += float(r["km"])
        t["km"] = round(t["km"], 2)
        t["cost_vnd"] = int(round(t["km"] * cost_per_km))
        return t

    villages = [r for r in filled if r["kind"] in ("village", "bản")]
    points = [r for r in filled if r["kind"] not in ("village", "bản")]
    reasons: dict[str, int] = {}
    for r in filled:
        if norm[r["held"]] != "yes":
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    return {
        "totals": tally(filled),
        "villages": tally(villages),
        "points": tally(points),
        "by_commune": {c: tally([r for r in villages if r["commune"] == c]) for c in {r["commune"] for r in villages}},
        "by_point": {p: tally([r for r in points if r["stop_id"] == p]) for p in {r["stop_id"] for r in points}},
        "reasons": reasons,
    }


def check_report_workbook(path, expected: dict) -> int:
    """Every number of report.xlsx equals the test's own sums; returns the number of cells checked."""
    from openpyxl import load_workbook

    from planner.workspace.report import FIGURE_KEYS

    wb = load_workbook(path)
    checked = 0

    def same(cell, want, where):
        nonlocal checked
        got = cell.value
        assert got == pytest.approx(want), f"{where}: report says {got}, the recorded rows sum to {want}"
        checked += 1

    s = wb["Tổng hợp"]
    for i, key in enumerate(FIGURE_KEYS, start=2):
        same(s.cell(i, 2), expected["villages"][key], f"Tổng hợp {key} villages")
        same(s.cell(i, 3), expected["points"][key], f"Tổng hợp {key} points")
        same(s.cell(i, 4), expected["totals"][key], f"Tổng hợp {key} total")
    c = wb["Theo xã"]
    rows = list(c.iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows[:-1]} == set(expected["by_commune"]), "communes of the report differ from the log"
    for r in range(2, c.max_row + 1):
        name = c.cell(r, 1).value
        want = expected["villages"] if name == "Tổng cộng" else expected["by_commune"][name]
        for j, key in enumerate(FIGURE_KEYS, start=2):
            same(c.cell(r, j), want[key], f"Theo xã {name} {key}")
    p = wb["Điểm cố định"]
    for r in range(2, p.max_row + 1):
        sid = p.cell(r, 1).value
        want = expected["points"] if sid == "Tổng cộng" else expected["by_point"][sid]
        for j, key in enumerate(FIGURE_KEYS, start=4):
            same(p.cell(r, j), want[key], f"Điểm cố định {sid} {key}")
    reasons = {row[0]: row[1] for row in wb["Lý do"].iter_rows(min_row=2, values_only=True)}
    assert reasons == expected["reasons"]
    checked += len(reasons)
    return checked
