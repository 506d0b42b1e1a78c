"""The visit sheet: one row per planned visit, filled in by the crew, read back by ``planner record``.

``visit_sheet.xlsx`` has Vietnamese headers and Excel data validation: drop-down lists for
*held* (``có`` / ``không`` / ``hủy``) and the reason, whole-number ranges for the counts,
and a rule that the children are not more than the people. The same columns (by key or by
header) may come as CSV.

Columns (key, header): see :data:`COLUMNS`. ``people`` is everybody who came, ``children``
those of them under 16; adults are ``people - children``.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from planner.model.errors import InputError, Problem

#: (key, Vietnamese header, width); the first eight are filled from the plan.
COLUMNS = (
    ("run", "Kế hoạch", 14),
    ("date", "Ngày", 11),
    ("vehicle", "Xe", 7),
    ("commune", "Xã", 18),
    ("kind", "Loại điểm", 11),
    ("stop_id", "Mã điểm", 12),
    ("stop_name", "Tên bản / điểm", 28),
    ("arrival", "Giờ đến (kế hoạch)", 10),
    ("held", "Đã phục vụ? (có/không/hủy)", 14),
    ("reason", "Lý do (nếu không/hủy)", 24),
    ("people", "Số người đến", 10),
    ("children", "Trong đó trẻ em", 10),
    ("books_lent", "Sách cho mượn", 10),
    ("books_returned", "Sách trả lại", 10),
    ("new_readers", "Bạn đọc mới", 10),
    ("km", "Km đã chạy", 9),
    ("notes", "Ghi chú", 30),
)
COUNT_FIELDS = ("people", "children", "books_lent", "books_returned", "new_readers")
MAX_COUNT = 100000
KIND_LABELS = {"village": "bản", "site": "điểm cố định"}
HELD_LABELS = {"yes": "có", "no": "không", "cancelled": "hủy"}
HELD_SYNONYMS = {
    "yes": "yes", "có": "yes", "co": "yes", "x": "yes", "y": "yes",
    "no": "no", "không": "no", "khong": "no", "n": "no",
    "cancelled": "cancelled", "canceled": "cancelled", "hủy": "cancelled", "huỷ": "cancelled", "huy": "cancelled",
}  # fmt: skip
REASONS = (
    "Đường bị sạt lở / chắn",
    "Xe hỏng",
    "Thời tiết xấu",
    "Bản có việc (đám, lễ, mùa vụ)",
    "Thiếu cán bộ",
    "Khác (ghi chú)",
)


@dataclass(frozen=True)
class SheetRow:
    """One row read from a visit sheet, as text, with its row number in the file."""

    row: int
    values: dict


def planned_rows(plan, run: str) -> list[dict]:
    """The visit rows of a plan: one per village stop or fixed-point restock, in time order.

    ``km`` is the planned driving into the stop; the last stop of a day also carries the rest
    of the day's driving (to the lodging or depot), so the rows of a day add up to its km.
    """
    rows = []
    for day in sorted(plan.days, key=lambda d: (d.date, d.vehicle)):
        visits = [s for s in day.stops if s.kind in ("village", "site")]
        if not visits:
            continue
        km_into: dict[int, float] = {}
        pending = 0.0
        for s in day.stops[1:]:
            pending += s.travel_km
            if s.kind in ("village", "site"):
                km_into[s.seq] = pending
                pending = 0.0
        km_into[visits[-1].seq] += pending
        for s in visits:
            rows.append(
                {
                    "run": run,
                    "date": day.date.isoformat(),
                    "vehicle": day.vehicle,
                    "commune": s.commune,
                    "kind": s.kind,
                    "stop_id": s.stop_id,
                    "stop_name": s.stop_name,
                    "arrival": s.arrival.strftime("%H:%M"),
                    "km": round(km_into[s.seq], 2),
                    "villages_served": list(s.villages_served),
                }
            )
    return rows


def write_visit_sheet(rows: list[dict], path: Path) -> Path:
    """Write the fillable ``visit_sheet.xlsx`` (atomically) with drop-downs and number ranges.

    Parameters
    ----------
    rows : list of dict
        From :func:`planned_rows`.
    path : path
        Destination file.

    Returns
    -------
    Path
        ``path``.
    """
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook starts with one worksheet
    ws.title = "Nhật ký phục vụ"
    ws.append([h for _, h, _ in COLUMNS])
    for c, (_, _, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=c)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = width
    fill = PatternFill("solid", fgColor="FFF7D6")
    keys = [k for k, _, _ in COLUMNS]
    for r in rows:
        ws.append([KIND_LABELS.get(r.get("kind", ""), r.get(k)) if k == "kind" else r.get(k) for k in keys])
    n = len(rows) + 1
    col = {k: get_column_letter(i) for i, k in enumerate(keys, start=1)}
    for k in ("held", "reason", *COUNT_FIELDS, "km", "notes"):
        for row_no in range(2, n + 1):
            ws[f"{col[k]}{row_no}"].fill = fill
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("Danh mục")
    for i, label in enumerate(HELD_LABELS.values(), start=1):
        lists.cell(row=i, column=1, value=label)
    for i, text in enumerate(REASONS, start=1):
        lists.cell(row=i, column=2, value=text)
    lists.sheet_state = "hidden"
    if n >= 2:
        held = DataValidation(
            type="list",
            formula1=f"='Danh mục'!$A$1:$A${len(HELD_LABELS)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Đã phục vụ?",
            error="Chọn: có, không hoặc hủy",
        )
        held.add(f"{col['held']}2:{col['held']}{n}")
        reason_dv = DataValidation(
            type="list",
            formula1=f"='Danh mục'!$B$1:$B${len(REASONS)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Lý do",
            error="Chọn một lý do trong danh sách (ghi thêm ở cột Ghi chú)",
        )
        reason_dv.add(f"{col['reason']}2:{col['reason']}{n}")
        counts = DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2=str(MAX_COUNT),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Số lượng",
            error=f"Nhập số nguyên từ 0 đến {MAX_COUNT}",
        )
        for k in ("people", "books_lent", "books_returned", "new_readers"):
            counts.add(f"{col[k]}2:{col[k]}{n}")
        children = DataValidation(
            type="custom",
            formula1=f"AND(ISNUMBER({col['children']}2),{col['children']}2>=0,{col['children']}2<=N({col['people']}2))",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Trẻ em",
            error="Số trẻ em là số nguyên từ 0 và không lớn hơn số người đến",
        )
        children.add(f"{col['children']}2:{col['children']}{n}")
        km = DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2="2000",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Km",
            error="Nhập số km từ 0 đến 2000",
        )
        km.add(f"{col['km']}2:{col['km']}{n}")
        for v in (held, reason_dv, counts, children, km):
            ws.add_data_validation(v)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def header_keys(header: list) -> tuple[list[str | None], list[str]]:
    """Map a header row (Vietnamese headers or keys) to column keys; also the missing keys."""
    by_label = {h.lower(): k for k, h, _ in COLUMNS} | {k: k for k, _, _ in COLUMNS}
    keys = [by_label.get(str(h).strip().lower()) if h is not None else None for h in header]
    required = ("run", "date", "stop_id", "held", *COUNT_FIELDS)
    return keys, [k for k in required if k not in keys]


def read_sheet(path: Path) -> list[SheetRow]:
    """Rows of a filled visit sheet (``.xlsx`` or ``.csv``), values as found.

    Raises
    ------
    InputError
        The file is missing, unreadable, or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), "file", "-", None, "file not found")])
    table: list[list[Any]]
    try:
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                table = [row for row in csv.reader(f)]
        elif path.suffix.lower() in (".xlsx", ".xlsm"):
            wb = load_workbook(path, read_only=True, data_only=True)
            table = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
            wb.close()
        else:
            raise InputError([Problem(str(path), "file", "-", path.suffix, "must be a .xlsx or .csv visit sheet")])
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError([Problem(str(path), "file", "-", None, f"cannot be read as a visit sheet: {exc}")]) from exc
    if not table:
        raise InputError([Problem(str(path), "row 1", "header", None, "the file is empty")])
    keys, missing = header_keys(table[0])
    if missing:
        raise InputError(
            [Problem(str(path), "row 1", k, None, "required column missing (see the visit sheet)") for k in missing]
        )
    out = []
    for i, raw in enumerate(table[1:], start=2):
        values = {k: v for k, v in zip(keys, raw) if k is not None}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        out.append(SheetRow(i, values))
    return out


def as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def blank(value) -> bool:
    return value is None or str(value).strip() == ""
