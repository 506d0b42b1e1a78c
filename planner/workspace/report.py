"""The directive's report from the visit log: ``report.pdf``, ``report.xlsx`` and charts.

Every figure is a sum over the recorded rows of the period (visits at villages and restocks
of fixed library points), computed once in :func:`report_data`; the PDF, the workbook and the
charts only lay it out. Adults are ``people - children``; km are the recorded km of the
sessions the van drove to (held or not held, not cancelled); cost = km x VND per km.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import select

from planner.io.runs import run_folder
from planner.model.area import UNITS, Area, units_2025
from planner.model.errors import InputError, Problem
from planner.render.i18n import tr
from planner.render.pdf import (
    CONTENT_WIDTH,
    FAMILY,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    register_fonts,
)
from planner.workspace.db import PlanRecord, Restock, Visit
from planner.workspace.service import load_run_plan
from planner.workspace.store import Workspace

FIGURES = (
    # key, Vietnamese label
    ("sessions_planned", "Buổi phục vụ theo kế hoạch"),
    ("sessions_held", "Buổi đã phục vụ"),
    ("sessions_not_held", "Buổi không phục vụ được"),
    ("sessions_cancelled", "Buổi hủy"),
    ("people", "Lượt bạn đọc"),
    ("adults", "Người lớn"),
    ("children", "Trẻ em"),
    ("books_lent", "Sách cho mượn"),
    ("books_returned", "Sách trả lại"),
    ("new_readers", "Bạn đọc mới"),
    ("km", "Km đã chạy"),
    ("cost_vnd", "Chi phí (đồng)"),
)
FIGURE_KEYS = tuple(k for k, _ in FIGURES)


def tally(rows: list[dict], cost_per_km: float) -> dict:
    """The report's figures over some log rows (each a dict of one visit or restock)."""
    t: dict[str, float] = {k: 0 for k in FIGURE_KEYS}
    for r in rows:
        t["sessions_planned"] += 1
        t["sessions_held"] += r["held"] == "yes"
        t["sessions_not_held"] += r["held"] == "no"
        t["sessions_cancelled"] += r["held"] == "cancelled"
        for k in ("people", "children", "books_lent", "books_returned", "new_readers"):
            t[k] += int(r[k])
        t["adults"] += int(r["people"]) - int(r["children"])
        if r["held"] != "cancelled":
            t["km"] += float(r["km"])
    t["km"] = round(t["km"], 2)
    t["cost_vnd"] = int(round(t["km"] * cost_per_km))
    return t


def _row(v, kind: str) -> dict:
    return {
        "kind": kind,
        "date": v.date,
        "stop_id": v.village_id if kind == "village" else v.site_id,
        "name": v.village_name if kind == "village" else v.site_name,
        "commune": v.commune,
        "vehicle": getattr(v, "vehicle", ""),
        "plan_id": v.plan_id,
        "held": v.held,
        "reason": v.reason,
        "people": v.people,
        "children": v.children,
        "books_lent": v.books_lent,
        "books_returned": v.books_returned,
        "new_readers": v.new_readers,
        "km": v.km,
        "notes": v.notes,
    }


def units_of_rows(rows: list[dict], area: Area | None, units: str) -> list[str]:
    """The commune each row is reported under: its own (pre-2025), or the 2025 commune its village
    (or, for a fixed point, its commune) merged into, by :func:`planner.model.area.units_2025`.

    Raises
    ------
    InputError
        2025 units without the area, a row whose commune the area does not know, or a commune with
        no ``post2025_commune``.
    """
    if units == "pre2025":
        return [r["commune"] for r in rows]
    if units not in UNITS or area is None:
        rule = f"one of {', '.join(UNITS)}" if units not in UNITS else "needs the area's communes (--data)"
        raise InputError([Problem("command line", "--units", "--units", units, rule)])
    code_of = {str(v): str(c) for v, c in zip(area.villages["id"], area.villages["commune_code"])}
    code_of_name = {str(n): str(c) for c, n in zip(area.communes["code"], area.communes["name"])}
    code_of_name |= {str(n): str(c) for c, n in zip(area.villages["commune_code"], area.villages["commune"])}
    unknown = sorted({r["commune"] for r in rows if r["stop_id"] not in code_of and r["commune"] not in code_of_name})
    if unknown:
        raise InputError(
            [Problem("visit log", f"commune={c}", "commune", c, "not a commune of the area") for c in unknown]
        )
    codes: list[str] = [
        (code_of.get(r["stop_id"]) if r["kind"] == "village" else None) or code_of_name[r["commune"]] for r in rows
    ]
    mapping = units_2025(area, [(r["stop_id"], c) for r, c in zip(rows, codes) if r["kind"] == "village"])
    return [
        mapping.of_village(r["stop_id"], c) if r["kind"] == "village" else mapping.of_code(c)
        for r, c in zip(rows, codes)
    ]


def commune_tallies(visits: list[dict], cost_per_km: float, area: Area | None = None, units: str = "pre2025") -> dict:
    """The report's figures per commune (sorted by name): the log's communes, or the 2025 communes."""
    unit = units_of_rows(visits, area, units)
    return {c: tally([r for r, u in zip(visits, unit) if u == c], cost_per_km) for c in sorted(set(unit))}


def report_data(
    ws: Workspace,
    date_from: dt.date,
    date_to: dt.date,
    *,
    cost_per_km: float = 4000.0,
    area: Area | None = None,
    units: str = "pre2025",
) -> dict:
    """Every figure of the report, summed from the log of ``date_from`` to ``date_to`` (inclusive).

    Parameters
    ----------
    ws : Workspace
    date_from, date_to : date
    cost_per_km : float
        VND per km driven.
    area : Area, optional
        The villages to look for among those never reached (default: the villages of the
        plans of the period); needed for ``units="2025"``.
    units : {"pre2025", "2025"}
        The communes of ``by_commune``: the visit log's own, or the 2025 communes they merged
        into (each row then sums the pre-2025 communes mapped to it).

    Returns
    -------
    dict
        ``totals``, ``villages`` (van sessions), ``points`` (fixed-point sessions),
        ``by_commune``, ``by_point``, ``reasons``, ``never_reached``, ``rows``.
    """
    with ws.transaction() as s:
        visits = [
            _row(v, "village")
            for v in s.scalars(
                select(Visit)
                .where(Visit.date >= date_from, Visit.date <= date_to)
                .order_by(Visit.date, Visit.village_id)
            )
        ]
        restocks = [
            _row(v, "site")
            for v in s.scalars(
                select(Restock)
                .where(Restock.date >= date_from, Restock.date <= date_to)
                .order_by(Restock.date, Restock.site_id)
            )
        ]
        plans = s.scalars(
            select(PlanRecord).where(
                PlanRecord.start_date <= date_to,
                PlanRecord.end_date >= date_from,
                PlanRecord.status.in_(("published", "superseded")),
            )
        ).all()
        plan_dirs = {p.id: (Path(p.run_dir), p.status) for p in plans}
    rows = visits + restocks
    by_commune = commune_tallies(visits, cost_per_km, area, units)
    by_point = {}
    for sid in sorted({r["stop_id"] for r in restocks}):
        rs = [r for r in restocks if r["stop_id"] == sid]
        by_point[sid] = {"name": rs[0]["name"], "commune": rs[0]["commune"], **tally(rs, cost_per_km)}
    reasons: dict[str, int] = {}
    for r in rows:
        if r["held"] in ("no", "cancelled"):
            key = r["reason"] or "(không ghi lý do)"
            reasons[key] = reasons.get(key, 0) + 1
    never = never_reached(rows, plan_dirs, date_from, date_to, area)
    if units != "pre2025":  # the never-reached villages under the same communes as the tallies
        keyed = [{"stop_id": v["village_id"], "kind": "village", "commune": v["commune"]} for v in never]
        for v, unit in zip(never, units_of_rows(keyed, area, units)):
            v["commune"] = unit
        never.sort(key=lambda v: (v["commune"], v["name"]))
    return {
        "from": date_from,
        "to": date_to,
        "cost_per_km": cost_per_km,
        "totals": tally(rows, cost_per_km),
        "villages": tally(visits, cost_per_km),
        "points": tally(restocks, cost_per_km),
        "by_commune": by_commune,
        "units": units,
        "by_point": by_point,
        "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "never_reached": never,
        "rows": rows,
    }


def never_reached(rows, plan_dirs, date_from, date_to, area) -> list[dict]:
    """Villages no held session served in the period (own stop, walking, or a restocked point), with why."""
    texts = tr("vi")
    served_at: dict[tuple[int, str, str], tuple[str, ...]] = {}
    villages: dict[str, dict] = {}
    unserved: dict[str, str] = {}
    fixed: dict[str, tuple[str, ...]] = {}
    for pid, (run_dir, status) in plan_dirs.items():
        plan = load_run_plan(run_dir)
        for d in plan.days:
            for st in d.stops:
                if st.kind in ("village", "site"):
                    served_at[(pid, d.date.isoformat(), st.stop_id)] = st.villages_served
        for v in plan.villages:
            villages.setdefault(v.village_id, {"name": v.name, "commune": v.commune})
            if v.channel == "fixed_point":
                fixed[v.village_id] = v.served_by
        if status == "published":
            for u in plan.unserved:
                unserved[u.village_id] = texts.reason(u.reason)
    if area is not None:
        for _, r in area.villages.iterrows():
            villages.setdefault(str(r["id"]), {"name": str(r["name"]), "commune": str(r.get("commune", ""))})
    reached: set[str] = set()
    held_points: set[str] = set()
    missed: dict[str, list[str]] = {}
    for r in rows:
        if r["held"] == "yes":
            if r["kind"] == "village":
                reached.add(r["stop_id"])
                reached.update(served_at.get((r["plan_id"], r["date"].isoformat(), r["stop_id"]), ()))
            else:
                held_points.add(r["stop_id"])
        elif r["kind"] == "village":
            missed.setdefault(r["stop_id"], []).append(f"{r['date']:%d/%m}: {r['reason'] or 'không ghi lý do'}")
    reached.update(v for v, pts in fixed.items() if set(pts) & held_points)
    out = []
    for vid, info in sorted(villages.items(), key=lambda kv: (kv[1]["commune"], kv[1]["name"])):
        if vid in reached:
            continue
        if vid in missed:
            why = "Buổi phục vụ không thực hiện được (" + "; ".join(missed[vid]) + ")"
        elif vid in unserved:
            why = unserved[vid]
        else:
            why = "Chưa có lịch hoặc chưa ghi kết quả trong kỳ báo cáo"
        out.append({"village_id": vid, "name": info["name"], "commune": info["commune"], "why": why})
    return out


# --------------------------------------------------------------------------- writers


def write_report(
    ws: Workspace,
    date_from: dt.date,
    date_to: dt.date,
    folder: Path,
    *,
    cost_per_km: float = 4000.0,
    area: Area | None = None,
    force: bool = False,
    units: str = "pre2025",
) -> dict:
    """Write ``report.pdf``, ``report.xlsx`` and the charts into ``folder`` (atomically).

    Parameters
    ----------
    ws : Workspace
    date_from, date_to : date
    folder : path
        The report folder (replaced only with ``force``).
    cost_per_km : float
    area : Area, optional
    force : bool
    units : {"pre2025", "2025"}
        Group the per-commune rows by the 2025 communes (see :func:`report_data`).

    Returns
    -------
    dict
        ``{"folder": Path, "files": [Path], "data": dict}``.
    """
    data = report_data(ws, date_from, date_to, cost_per_km=cost_per_km, area=area, units=units)
    folder = Path(folder)
    with run_folder(folder.parent, folder.name, force=force) as tmp:
        charts = write_charts(data, tmp)
        write_xlsx(data, tmp / "report.xlsx")
        write_pdf(data, charts, tmp / "report.pdf")
    files = [folder / "report.pdf", folder / "report.xlsx", *[folder / c.name for c in charts]]
    return {"folder": folder, "files": files, "data": data}


def n(x) -> str:
    """Vietnamese number format: 12.345 ; 1.234,5."""
    if isinstance(x, float) and not x.is_integer():
        whole, frac = f"{x:,.1f}".split(".")
        return whole.replace(",", ".") + "," + frac
    return f"{int(x):,}".replace(",", ".")


def commune_heading(data: dict) -> str:
    """The heading of the per-commune column: pre-2025 communes, or the communes since 1/7/2025."""
    return "Xã (từ 1/7/2025)" if data.get("units") == "2025" else "Xã"


def write_xlsx(data: dict, path: Path) -> Path:
    """``report.xlsx``: totals, per commune, per fixed point, reasons, villages never reached, the log."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook starts with one worksheet
    ws.title = "Tổng hợp"
    ws.append(["Chỉ tiêu", "Tại các bản", "Tại điểm cố định", "Tổng cộng"])
    for key, label in FIGURES:
        ws.append([label, data["villages"][key], data["points"][key], data["totals"][key]])
    ws.append([])
    ws.append(["Kỳ báo cáo", f"{data['from']:%d/%m/%Y} - {data['to']:%d/%m/%Y}"])
    ws.append(["Đơn giá (đồng/km)", data["cost_per_km"]])
    sheets = [ws]
    c = wb.create_sheet("Theo xã")
    c.append([commune_heading(data), *[label for _, label in FIGURES]])
    for commune, t in data["by_commune"].items():
        c.append([commune, *[t[k] for k in FIGURE_KEYS]])
    c.append(["Tổng cộng", *[data["villages"][k] for k in FIGURE_KEYS]])
    sheets.append(c)
    p = wb.create_sheet("Điểm cố định")
    p.append(["Mã điểm", "Tên điểm", "Xã", *[label for _, label in FIGURES]])
    for sid, t in data["by_point"].items():
        p.append([sid, t["name"], t["commune"], *[t[k] for k in FIGURE_KEYS]])
    p.append(["Tổng cộng", "", "", *[data["points"][k] for k in FIGURE_KEYS]])
    sheets.append(p)
    r = wb.create_sheet("Lý do")
    r.append(["Lý do không phục vụ / hủy", "Số buổi"])
    for reason, k in data["reasons"].items():
        r.append([reason, k])
    sheets.append(r)
    nv = wb.create_sheet("Bản chưa đến")
    nv.append(["Mã bản", "Tên bản", commune_heading(data), "Lý do"])
    for v in data["never_reached"]:
        nv.append([v["village_id"], v["name"], v["commune"], v["why"]])
    sheets.append(nv)
    log = wb.create_sheet("Nhật ký")
    keys = (
        "date",
        "kind",
        "stop_id",
        "name",
        "commune",
        "vehicle",
        "held",
        "reason",
        "people",
        "children",
        "books_lent",
        "books_returned",
        "new_readers",
        "km",
        "notes",
    )
    log.append(list(keys))
    for row in data["rows"]:
        log.append([row[k] for k in keys])
    sheets.append(log)
    for sh in sheets:
        for cell in sh[1]:
            cell.font = Font(bold=True)
        sh.column_dimensions["A"].width = 34
    wb.save(path)
    return path


def write_charts(data: dict, folder: Path) -> list[Path]:
    """PNG charts: sessions per commune (held / not held / cancelled), readers, books, reasons."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "DejaVu Sans"
    communes = list(data["by_commune"])
    t = data["by_commune"]
    out = []

    def bars(name, title, series):
        fig, ax = plt.subplots(figsize=(8, max(3, 0.35 * len(communes) + 1.5)))
        left = [0] * len(communes)
        for label, key in series:
            vals = [t[c][key] for c in communes]
            ax.barh(communes, vals, left=left, label=label)
            left = [a + b for a, b in zip(left, vals)]
        ax.set_title(title)
        ax.invert_yaxis()
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        path = folder / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        out.append(path)

    bars(
        "sessions.png",
        "Buổi phục vụ theo xã",
        [("Đã phục vụ", "sessions_held"), ("Không phục vụ được", "sessions_not_held"), ("Hủy", "sessions_cancelled")],
    )
    bars("readers.png", "Bạn đọc theo xã", [("Người lớn", "adults"), ("Trẻ em", "children")])
    bars("books.png", "Sách luân chuyển theo xã", [("Cho mượn", "books_lent"), ("Trả lại", "books_returned")])
    if data["reasons"]:
        fig, ax = plt.subplots(figsize=(8, 0.4 * len(data["reasons"]) + 1.5))
        ax.barh(list(data["reasons"]), list(data["reasons"].values()), color="#c0504d")
        ax.set_title("Lý do buổi phục vụ không thực hiện được")
        ax.invert_yaxis()
        fig.tight_layout()
        path = folder / "reasons.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        out.append(path)
    return out


def write_pdf(data: dict, charts: list[Path], path: Path) -> Path:
    """``report.pdf`` in the layout of Decree 30/2020 (administrative report, A4 portrait)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        HRFlowable,
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    register_fonts()
    texts = tr("vi")
    base = ParagraphStyle("b", fontName=FAMILY, fontSize=11.5, leading=15)

    def st(**kw):
        return ParagraphStyle("x", parent=base, **kw)

    center, bold = st(alignment=TA_CENTER), f"{FAMILY}-Bold"
    body = st(alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=4)
    section = st(fontName=bold, spaceBefore=6, spaceAfter=4)
    th = st(fontName=bold, fontSize=8.5, leading=10.5, alignment=TA_CENTER)
    td = st(fontSize=8.5, leading=10.5)
    tdr = st(fontSize=8.5, leading=10.5, alignment=2)

    def P(text, style=body):
        return Paragraph(escape(str(text)), style)

    today = dt.date.today()
    left_w = 75 * mm
    header = Table(
        [
            [
                [
                    P(texts["parent_body"], st(fontSize=10.5, leading=14, alignment=TA_CENTER)),
                    P(texts["issuing_body"], st(fontName=bold, fontSize=10.5, leading=14, alignment=TA_CENTER)),
                    HRFlowable(width=30 * mm, thickness=0.6, color=colors.black, hAlign="CENTER", spaceBefore=3),
                ],
                [
                    P(texts["national_title"], st(fontName=bold, fontSize=10, leading=14, alignment=TA_CENTER)),
                    P(texts["motto"], st(fontName=bold, fontSize=11, alignment=TA_CENTER)),
                    HRFlowable(width=45 * mm, thickness=0.6, color=colors.black, hAlign="CENTER", spaceBefore=2),
                ],
            ],
            [
                P("Số:      /BC-TTVHTTTT", center),
                P(texts.place_date(texts["place"], today), st(fontName=f"{FAMILY}-Italic", alignment=TA_CENTER)),
            ],
        ],
        colWidths=[left_w, CONTENT_WIDTH - left_w],
    )
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 7),
            ]
        )
    )
    period = f"từ ngày {data['from']:%d/%m/%Y} đến ngày {data['to']:%d/%m/%Y}"
    story = [
        header,
        Spacer(1, 8 * mm),
        P("BÁO CÁO", st(fontName=bold, fontSize=13.5, leading=18, alignment=TA_CENTER)),
        P(
            f"Kết quả hoạt động thư viện lưu động {period}",
            st(fontName=bold, fontSize=12.5, leading=16, alignment=TA_CENTER),
        ),
        HRFlowable(width=40 * mm, thickness=0.6, color=colors.black, hAlign="CENTER", spaceBefore=4, spaceAfter=8),
    ]
    T, V, F = data["totals"], data["villages"], data["points"]
    story.append(
        P(
            f"Thực hiện chủ trương phát triển mô hình thư viện lưu động phục vụ người dân học tập suốt đời tại cơ sở, "
            f"{texts['organisation']} báo cáo kết quả hoạt động thư viện lưu động {period} như sau:"
        )
    )
    story.append(P("I. KẾT QUẢ CHUNG", section))
    story.append(
        P(
            f"Theo kế hoạch có {n(T['sessions_planned'])} buổi phục vụ ({n(V['sessions_planned'])} buổi tại các bản, "
            f"{n(F['sessions_planned'])} buổi tại điểm thư viện cố định); đã phục vụ {n(T['sessions_held'])} buổi, "
            f"không phục vụ được {n(T['sessions_not_held'])} buổi, hủy {n(T['sessions_cancelled'])} buổi. "
            f"Đã phục vụ {n(T['people'])} lượt bạn đọc ({n(T['adults'])} người lớn, {n(T['children'])} trẻ em), "
            f"cho mượn {n(T['books_lent'])} cuốn sách, nhận lại {n(T['books_returned'])} cuốn, "
            f"có thêm {n(T['new_readers'])} bạn đọc mới. Xe đã chạy {n(T['km'])} km, chi phí ước tính "
            f"{n(T['cost_vnd'])} đồng (đơn giá {n(data['cost_per_km'])} đồng/km)."
        )
    )

    def table(head, rows, widths):
        t = Table(
            [[P(h, th) for h in head]]
            + [
                [
                    P(c, td)
                    if i == 0 or isinstance(c, str) and not c.replace(".", "").replace(",", "").isdigit()
                    else P(c, tdr)
                    for i, c in enumerate(r)
                ]
                for r in rows
            ],
            colWidths=widths,
            repeatRows=1,
        )
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ]
            )
        )
        return t

    keys = (
        "sessions_planned",
        "sessions_held",
        "sessions_not_held",
        "sessions_cancelled",
        "adults",
        "children",
        "books_lent",
        "books_returned",
        "new_readers",
        "km",
    )
    heads = ("KH", "Đã PV", "Không PV", "Hủy", "Người lớn", "Trẻ em", "Sách mượn", "Sách trả", "BĐ mới", "Km")
    story.append(P("1. Tổng hợp", section))
    story.append(
        table(
            ["Chỉ tiêu", "Tại các bản", "Điểm cố định", "Tổng cộng"],
            [[label, n(V[k]), n(F[k]), n(T[k])] for k, label in FIGURES],
            [70 * mm, 33 * mm, 33 * mm, CONTENT_WIDTH - 136 * mm],
        )
    )
    story.append(P("II. KẾT QUẢ THEO XÃ", section))
    w0 = 30 * mm
    wk = (CONTENT_WIDTH - w0) / len(keys)
    rows = [[c, *[n(t[k]) for k in keys]] for c, t in data["by_commune"].items()]
    rows.append(["Tổng cộng", *[n(V[k]) for k in keys]])
    story.append(table([commune_heading(data), *heads], rows, [w0] + [wk] * len(keys)))
    story.append(
        P("KH: buổi theo kế hoạch; PV: phục vụ; BĐ: bạn đọc.", st(fontName=f"{FAMILY}-Italic", fontSize=9, leading=12))
    )
    story.append(P("III. KẾT QUẢ TẠI CÁC ĐIỂM THƯ VIỆN CỐ ĐỊNH", section))
    if data["by_point"]:
        rows = [[f"{t['name']} ({t['commune']})", *[n(t[k]) for k in keys]] for t in data["by_point"].values()]
        rows.append(["Tổng cộng", *[n(F[k]) for k in keys]])
        story.append(table(["Điểm", *heads], rows, [w0] + [wk] * len(keys)))
    else:
        story.append(P("Trong kỳ báo cáo chưa ghi nhận buổi luân chuyển sách nào tại điểm thư viện cố định."))
    story.append(P("IV. BUỔI PHỤC VỤ KHÔNG THỰC HIỆN ĐƯỢC VÀ LÝ DO", section))
    if data["reasons"]:
        story.append(
            table(
                ["Lý do", "Số buổi"],
                [[r, n(k)] for r, k in data["reasons"].items()],
                [CONTENT_WIDTH - 30 * mm, 30 * mm],
            )
        )
    else:
        story.append(P("Không có."))
    story.append(P("V. CÁC BẢN CHƯA ĐƯỢC PHỤC VỤ TRONG KỲ", section))
    if data["never_reached"]:
        story.append(
            P(f"Có {n(len(data['never_reached']))} bản chưa được xe thư viện hoặc điểm thư viện cố định phục vụ:")
        )
        story.append(
            table(
                ["Bản", commune_heading(data), "Lý do"],
                [[v["name"], v["commune"], v["why"]] for v in data["never_reached"]],
                [45 * mm, 35 * mm, CONTENT_WIDTH - 80 * mm],
            )
        )
    else:
        story.append(P("Tất cả các bản đều đã được phục vụ."))
    story.append(P("VI. BIỂU ĐỒ", section))
    for c in charts:
        from PIL import Image as PILImage

        with PILImage.open(c) as im:
            w, h = im.size
        width = CONTENT_WIDTH * 0.9
        story.append(KeepTogether([Image(str(c), width=width, height=width * h / w), Spacer(1, 4 * mm)]))
    recips = [
        P("Nơi nhận:", st(fontName=f"{FAMILY}-BoldItalic", fontSize=11, leading=14)),
        P("- Phòng Văn hóa và Thông tin huyện;", st(fontSize=10, leading=13)),
        P("- Sở Văn hóa, Thể thao và Du lịch tỉnh Lai Châu;", st(fontSize=10, leading=13)),
        P("- Lưu: VT.", st(fontSize=10, leading=13)),
    ]
    sign = [P(texts["signer_title"], st(fontName=bold, alignment=TA_CENTER)), Spacer(1, 22 * mm)]
    foot = Table([[recips, sign]], colWidths=[CONTENT_WIDTH / 2, CONTENT_WIDTH / 2])
    foot.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [Spacer(1, 6 * mm), KeepTogether([foot])]
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title="Báo cáo kết quả hoạt động thư viện lưu động",
        author=texts["organisation"],
    )

    def page_no(canvas, d):
        if d.page > 1:
            canvas.setFont(FAMILY, 10)
            canvas.drawCentredString(A4[0] / 2, A4[1] - 12 * mm, str(d.page))

    doc.build(story, onFirstPage=page_no, onLaterPages=page_no)
    return path
