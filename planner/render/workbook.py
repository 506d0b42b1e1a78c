"""The schedule as an Excel workbook (openpyxl).

Sheets: one per commune (the rows of its printed schedule), the full schedule
(``Lịch``: the columns of ``stops.csv``, one row per village/site stop) and a
summary (``Tổng hợp``: ``plan.summary()`` and per-commune totals).

Dates and times are real date/time cells (``dd/mm/yyyy``, ``hh:mm``); headers are
bold and frozen, with autofilter and A4 print set-up. Text from the data that a
spreadsheet could take for a formula (starting with ``= + - @``, tab or CR) is
stored as a string with Excel's quote prefix, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from planner.render.document import STOP_COLUMNS, stop_table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FMT = "dd/mm/yyyy"
TIME_FMT = "hh:mm"
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8E8E8")


def sheet_title(name: str, used: set[str]) -> str:
    """Excel-safe, unique (case-insensitive) sheet name of at most 31 characters."""
    title = BAD_SHEET_CHARS.sub("_", str(name)).strip().strip("'") or "Sheet"
    if title.lower() == "history":
        title = "History_"
    title = title[:31]
    base, n = title, 2
    while title.lower() in {u.lower() for u in used}:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title


def put(ws, row: int, col: int, value, number_format: str | None = None):
    """Write one cell; text never becomes a formula."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # Excel's leading apostrophe: shown and kept as text
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format
    return cell


def _header(ws, headers: list[str], row: int = 1) -> None:
    for c, h in enumerate(headers, 1):
        cell = put(ws, row, c, h)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _finish(ws, widths: list[float], *, landscape: bool, header_row: int = 1) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    last = max(ws.max_row, header_row)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(widths))}{last}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6


def _time(value: dt.datetime) -> dt.time:
    return value.time().replace(second=0, microsecond=0)


def write_commune_sheet(ws, doc, commune) -> None:
    t = doc.texts
    headers = [
        t[k]
        for k in (
            "col_no",
            "col_village",
            "col_date",
            "col_weekday",
            "col_arrival",
            "col_departure",
            "col_stop",
            "col_walkers",
            "col_vehicle",
            "col_books",
        )
    ]
    _header(ws, headers)
    r = 1
    for i, row in enumerate(commune.rows, 1):
        r += 1
        put(ws, r, 1, i)
        put(ws, r, 2, row.villages)
        put(ws, r, 3, row.date, DATE_FMT)
        put(ws, r, 4, row.weekday)
        put(ws, r, 5, _time(row.arrival), TIME_FMT)
        put(ws, r, 6, _time(row.departure), TIME_FMT)
        put(ws, r, 7, row.stop)
        put(ws, r, 8, ", ".join(row.walkers))
        put(ws, r, 9, row.vehicle)
        put(ws, r, 10, row.books)
    _finish(ws, [5, 22, 12, 10, 9, 9, 30, 30, 10, 9], landscape=True)
    if commune.others:  # villages without a van visit, below the table (outside the filter)
        r += 2
        put(ws, r, 2, t["section_other"]).font = HEADER_FONT
        for o in commune.others:
            r += 1
            put(ws, r, 2, o.name)
            put(ws, r, 3, o.situation)


def write_schedule_sheet(ws, plan) -> None:
    _header(ws, list(STOP_COLUMNS))
    formats = {
        "date": DATE_FMT,
        "arrival": TIME_FMT,
        "departure": TIME_FMT,
        "travel_min": "0",
        "travel_km": "0.0",
    }
    for r, row in enumerate(stop_table(plan), 2):
        for c, key in enumerate(STOP_COLUMNS, 1):
            value = row[key]
            if key in ("arrival", "departure"):
                value = _time(value)
            put(ws, r, c, value, formats.get(key))
    widths = {"stop_name": 28, "commune": 16, "villages_served": 24, "walkers": 20, "stop_id": 14, "date": 12}
    _finish(ws, [widths.get(k, 10) for k in STOP_COLUMNS], landscape=True)


def write_summary_sheet(ws, plan, doc) -> None:
    t = doc.texts
    put(ws, 1, 1, t["summary_heading"]).font = Font(bold=True, size=12)
    _header(ws, [t["summary_key"], "key", t["summary_value"]], row=2)
    r = 2
    for key, value in plan.summary().items():
        r += 1
        put(ws, r, 1, t.summary_label(key))
        put(ws, r, 2, key)
        put(ws, r, 3, value)
    r += 2
    put(ws, r, 1, t["communes_heading"]).font = Font(bold=True, size=12)
    r += 1
    cols = [
        "col_commune",
        "col_villages_total",
        "col_villages_served",
        "col_population_total",
        "col_population_served",
        "col_visits",
        "col_books",
    ]
    for c, k in enumerate(cols, 1):
        cell = put(ws, r, c, t[k])
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for commune in doc.communes:
        r += 1
        values = [
            commune.name,
            len(commune.village_names),
            commune.villages_served,
            commune.population,
            commune.population_served,
            len({(x.date, x.stop_id, x.vehicle) for x in commune.rows}),
            sum(x.books for x in commune.rows),
        ]
        for c, v in enumerate(values, 1):
            put(ws, r, c, v)
    for i, w in enumerate([34, 20, 16, 12, 18, 12, 10], 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A3"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_workbook(plan, doc, path: Path) -> Path:
    t = doc.texts
    wb = Workbook()
    used: set[str] = set()
    summary = wb.active
    assert summary is not None  # a new Workbook always has its first sheet
    summary.title = sheet_title(t["sheet_summary"], used)
    schedule = wb.create_sheet(sheet_title(t["sheet_schedule"], used))
    write_summary_sheet(summary, plan, doc)
    write_schedule_sheet(schedule, plan)
    for commune in doc.communes:
        ws = wb.create_sheet(sheet_title(commune.name, used))
        write_commune_sheet(ws, doc, commune)
    wb.properties.creator = "planner"
    wb.properties.title = t["title"]
    fixed = dt.datetime(2000, 1, 1)
    if doc.period_start:
        fixed = dt.datetime.combine(doc.period_start, dt.time())
    wb.properties.created = wb.properties.modified = fixed
    wb.save(path)
    return path
