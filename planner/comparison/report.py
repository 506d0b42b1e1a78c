"""Renderers of a scenario comparison: charts (PNG), maps side by side, report (HTML + PDF).

Everything here takes the rows of :mod:`planner.comparison.run` (``comparison.csv`` and
``comparison_by_commune.csv`` as dicts) and writes artefacts; the report's HTML and PDF
are both drawn from one :func:`report_model`, so they quote the same figures as the table.
Each figure cell of ``report.html`` carries its raw value (``data-scenario``,
``data-key``, ``data-value``) so a program can check it against the CSV.

Fonts: DejaVu Sans from matplotlib's data folder (it covers Vietnamese), embedded in the PDF.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path

from planner.comparison.table import COLUMNS
from planner.io.safe import safe_child
from planner.render.map import render_map

#: Colours of the channels, as on the review map where it has them.
STATUS_COLOURS = {
    "van_stop": "#2b6cb0",
    "walk": "#63b3ed",
    "fixed_point": "#6a3d9a",
    "below_frequency": "#f6ad55",
    "never_reached": "#d7191c",
}

LABELS = {
    "scenario": ("Phương án", "Scenario"),
    "label": ("Tên phương án", "Scenario name"),
    "status": ("Kết quả lập kế hoạch", "Plan status"),
    "season": ("Mùa", "Season"),
    "weeks": ("Chu kỳ (tuần)", "Cycle (weeks)"),
    "vehicles": ("Phương tiện", "Vehicles"),
    "villages_total": ("Tổng số bản", "Villages in the area"),
    "population_total": ("Tổng dân số (người)", "Population of the area"),
    "villages_at_frequency": ("Số bản được phục vụ đủ tần suất", "Villages served at the required frequency"),
    "population_at_frequency": ("Số người được phục vụ đủ tần suất", "People served at the required frequency"),
    "population_at_frequency_pct": (
        "Tỷ lệ dân số được phục vụ đủ tần suất (%)",
        "Share of people served at the required frequency (%)",
    ),
    "villages_van_stop": ("– số bản: xe dừng tại bản", "– villages: van stops in the village"),
    "population_van_stop": ("– số người: xe dừng tại bản", "– people: van stops in the village"),
    "villages_walk": ("– số bản: đi bộ đến điểm xe dừng", "– villages: walk to a van stop"),
    "population_walk": ("– số người: đi bộ đến điểm xe dừng", "– people: walk to a van stop"),
    "villages_fixed_point": ("– số bản: điểm thư viện cố định", "– villages: fixed library point"),
    "population_fixed_point": ("– số người: điểm thư viện cố định", "– people: fixed library point"),
    "villages_below_frequency": ("Số bản được phục vụ chưa đủ tần suất", "Villages reached less often than required"),
    "population_below_frequency": ("Số người được phục vụ chưa đủ tần suất", "People reached less often than required"),
    "villages_never_reached": ("Số bản chưa được phục vụ", "Villages never reached"),
    "population_never_reached": ("Số người chưa được phục vụ", "People never reached"),
    "never_reached_unreachable": (
        "– trong đó: không có đường xe đi được (mùa này)",
        "– of which: no usable road this season",
    ),
    "never_reached_too_far_for_shift": ("– trong đó: quá xa cho một ca làm việc", "– of which: too far for one shift"),
    "never_reached_outside_its_hours": (
        "– trong đó: giờ của bản không trùng giờ làm việc",
        "– of which: its hours never meet the working hours",
    ),
    "never_reached_not_enough_time": ("– trong đó: không đủ thời gian", "– of which: not enough time"),
    "km_per_cycle": ("Quãng đường mỗi chu kỳ (km)", "Distance per cycle (km)"),
    "crew_days_per_cycle": ("Số ngày công tổ xe mỗi chu kỳ", "Crew-days per cycle"),
    "driving_h": ("Thời gian lái xe mỗi chu kỳ (giờ)", "Driving per cycle (h)"),
    "nights_away": ("Số đêm nghỉ ngoài trụ sở", "Nights away from the depot"),
    "books_moved": ("Số lượt sách luân chuyển", "Books handed out or swapped"),
    "stops": ("Số lượt dừng phục vụ", "Service stops"),
    "population_walk_uncredited": (
        "Số dân đi bộ xa, chỉ tính một phần",
        "People walking far, counted in part only",
    ),
    "worst_commune": ("Xã được phục vụ ít nhất", "Worst-served commune"),
    "worst_commune_pct": ("Tỷ lệ dân được phục vụ đủ ở xã đó (%)", "Its people served at frequency (%)"),
    "commune_gini": ("Chênh lệch giữa các xã (hệ số Gini)", "Spread between communes (Gini)"),
    "cost_fuel_vnd": ("Chi phí nhiên liệu (đồng)", "Fuel (VND)"),
    "cost_per_diem_vnd": ("Phụ cấp lưu trú (đồng)", "Per diem (VND)"),
    "cost_lodging_vnd": ("Tiền thuê phòng nghỉ (đồng)", "Lodging (VND)"),
    "cost_overtime_vnd": ("Làm thêm giờ (đồng)", "Overtime (VND)"),
    "cost_total_vnd": ("Tổng chi phí một chu kỳ (đồng)", "Total cost per cycle (VND)"),
    "cost_per_person_served_vnd": ("Chi phí trên một người được phục vụ (đồng)", "Cost per person served (VND)"),
    "population_upper_bound": (
        "Không kế hoạch nào theo cùng quy tắc phục vụ được quá (người)",
        "No plan under these rules can serve more than (people)",
    ),
    "objective_value": (
        "Giá trị mục tiêu có trọng số của kế hoạch (giá trị các lượt phục vụ trừ giây lái xe)",
        "Weighted objective of the plan (value of visits made minus driving seconds)",
    ),
    "objective_bound": (
        "Không kế hoạch nào theo cùng quy tắc đạt giá trị mục tiêu quá",
        "No plan under these rules reaches a weighted objective above",
    ),
    "stopped_by": ("Điều kiện dừng tính toán", "Search stopped by"),
    "solve_time_s": ("Thời gian tính toán (giây)", "Solve time (s)"),
    "commune_code": ("Mã xã", "Commune code"),
    "commune": ("Xã / thị trấn", "Commune / town"),
    "villages": ("Số bản", "Villages"),
    "population": ("Dân số", "Population"),
    "population_below_frequency_c": ("Chưa đủ tần suất", "Below frequency"),
}
STATUS_LABEL = {
    "van_stop": ("Xe dừng tại bản", "Van stops in the village"),
    "walk": ("Đi bộ đến điểm xe dừng", "Walk to a van stop"),
    "fixed_point": ("Điểm thư viện cố định", "Fixed library point"),
    "below_frequency": ("Chưa đủ tần suất", "Below the required frequency"),
    "never_reached": ("Chưa được phục vụ", "Never reached"),
}
VALUE_LABEL = {
    "dry": ("mùa khô", "dry"),
    "rainy": ("mùa mưa", "rainy"),
    "ok": ("phục vụ hết", "all served"),
    "partial": ("phục vụ một phần", "partial"),
    "empty": ("không phục vụ được bản nào", "none served"),
    "no_plan": ("không lập được kế hoạch", "no plan"),
    "work_budget": ("hết lượng tính toán định trước (tái lập được)", "work budget (reproducible)"),
    "search_ended": ("tìm kiếm tự kết thúc", "search ended by itself"),
    "no_search": ("không cần tìm kiếm", "nothing to search"),
    "time_limit": ("hết thời gian cho phép", "time limit"),
}
TEXT = {
    "vi": {
        "title": "Báo cáo so sánh các phương án phục vụ thư viện lưu động",
        "area": "Địa bàn: {communes} xã, thị trấn; {villages} bản; {population} người.",
        "area_2025": "Địa bàn: {communes} xã (đơn vị hành chính từ ngày 1/7/2025); {villages} bản; {population} người.",
        "note_units_2025": "Số liệu theo xã được tổng hợp theo các xã sau sắp xếp đơn vị hành chính (từ ngày 1/7/2025): mỗi xã mới cộng số liệu của các xã, thị trấn cũ sáp nhập vào đó (theo trường post2025_commune của dữ liệu). Mã xã là mã các xã cũ.",
        "made": "Lập ngày {date} bằng công cụ lập kế hoạch xe thư viện lưu động.",
        "s_scenarios": "1. Các phương án",
        "s_figures": "2. Số liệu so sánh (mỗi chu kỳ)",
        "s_charts": "3. Biểu đồ",
        "s_communes": "4. Tỷ lệ dân số được phục vụ đủ tần suất theo xã (%)",
        "s_notes": "5. Ghi chú",
        "figure": "Chỉ tiêu",
        "c_channel": "Dân số theo hình thức phục vụ, mỗi phương án",
        "c_effort": "Quãng đường và số ngày công mỗi chu kỳ",
        "c_heat": "Tỷ lệ dân số được phục vụ đủ tần suất theo xã",
        "x_people": "Số người",
        "x_km": "km mỗi chu kỳ",
        "x_days": "ngày công mỗi chu kỳ",
        "maps": "Bản đồ lộ trình các phương án",
        "open": "mở riêng",
        "no_plan": "không lập được kế hoạch",
        "note_freq": "Một bản được tính là “phục vụ đủ tần suất” khi xe dừng tại bản (hoặc người dân đi bộ đến điểm xe dừng) đủ số lần yêu cầu trong chu kỳ, hoặc bản được một điểm thư viện cố định phục vụ. Bản có xe đến nhưng chưa đủ số lần được tính riêng.",
        "note_reproducible": "Việc tính toán dừng theo một lượng tính toán định trước, nên cùng dữ liệu và tham số cho cùng kết quả trên mọi máy.",
        "note_approx": "Số liệu có phần ước tính: vị trí và dân số các bản, đường giao thông và vị trí các điểm thư viện là ước tính (không phải số liệu khảo sát); ranh giới và dân số các xã lấy từ số liệu thống kê. Các con số trong báo cáo chỉ dùng để so sánh giữa các phương án.",
        "note_exact": "Số liệu đầu vào không có đánh dấu ước tính.",
        "note_unserved": "“Chưa được phục vụ”: bản không được xe đến lần nào và không có điểm thư viện cố định phục vụ; lý do được ghi trong kế hoạch của từng phương án (plans/*.json).",
    },
    "en": {
        "title": "Comparison of mobile-library service scenarios",
        "area": "Area: {communes} communes and towns; {villages} villages; {population} people.",
        "area_2025": "Area: {communes} communes (administrative units since 1 July 2025); {villages} villages; {population} people.",
        "note_units_2025": "Commune figures are grouped by the communes formed on 1 July 2025: each sums the pre-2025 communes and town merged into it (the data's post2025_commune). The commune code lists the pre-2025 codes.",
        "made": "Made on {date} with the mobile-library planner.",
        "s_scenarios": "1. Scenarios",
        "s_figures": "2. Figures compared (per cycle)",
        "s_charts": "3. Charts",
        "s_communes": "4. Share of people served at the required frequency, by commune (%)",
        "s_notes": "5. Notes",
        "figure": "Figure",
        "c_channel": "People by how they are served, per scenario",
        "c_effort": "Distance and crew-days per cycle",
        "c_heat": "Share of people served at the required frequency, by commune",
        "x_people": "People",
        "x_km": "km per cycle",
        "x_days": "crew-days per cycle",
        "maps": "Route maps of the scenarios",
        "open": "open alone",
        "no_plan": "no plan",
        "note_freq": "A village counts as served at the required frequency when the van stops there (or its people walk to a van stop) as often as required in the cycle, or when a fixed library point serves it. Villages the van reaches less often are counted apart.",
        "note_reproducible": "The search stops on a fixed work budget, so the same data and parameters give the same figures on any machine.",
        "note_approx": "Some data are approximated: village positions and populations, roads and library-point positions are modelled, not surveyed; commune boundaries and populations come from statistics. Use the figures to compare scenarios with each other.",
        "note_exact": "No input is flagged as approximated.",
        "note_unserved": "“Never reached”: no van visit and no fixed library point; each scenario's plan (plans/*.json) gives the reason for every village.",
    },
}
#: Rows of the report's figure table: every column of the table but the scenario's name.
REPORT_ROWS = tuple(c for c in COLUMNS if c != "scenario")
BOLD_ROWS = {
    "population_at_frequency",
    "population_at_frequency_pct",
    "population_never_reached",
    "km_per_cycle",
    "crew_days_per_cycle",
}


def _i(lang: str) -> int:
    return 0 if lang == "vi" else 1


def column_label(key: str, lang: str) -> str:
    return LABELS.get(key, (key, key))[_i(lang)]


#: Scenarios side by side in one PDF table (more are split into further tables: A4 portrait).
PDF_COLUMNS = 5
#: Decimals shown for the float columns (others: 1).
DECIMALS = {"solve_time_s": 2}


def fmt(value, lang: str, key: str = "") -> str:
    """A number as the reader writes it: ``12.345`` and ``72,5`` in Vietnamese, ``12,345`` and ``72.5`` in English."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        s = f"{value:,}"
    elif isinstance(value, float):
        s = f"{value:,.{DECIMALS.get(key, 1)}f}"
    else:
        return VALUE_LABEL.get(str(value), (str(value), str(value)))[_i(lang)]
    if lang == "vi":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


# --------------------------------------------------------------------------- charts


def render_charts(rows, crows, results, folder: Path, *, lang: str = "vi") -> dict[str, Path]:
    """Three PNG charts: people by channel (stacked), km and crew-days, commune heat table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    T = TEXT[lang]
    ok = [r for r in rows if r["status"] != "no_plan"]
    names = [r["scenario"] for r in ok]
    out = {}

    fig, ax = plt.subplots(figsize=(8, 0.6 * len(ok) + 2.2), dpi=150)
    left = np.zeros(len(ok))
    for s, colour in STATUS_COLOURS.items():
        vals = np.array([r[f"population_{s}"] for r in ok], dtype=float)
        ax.barh(names, vals, left=left, color=colour, label=STATUS_LABEL[s][_i(lang)], edgecolor="white", linewidth=0.5)
        left += vals
    for k, r in enumerate(ok):
        ax.text(
            r["population_at_frequency"] / 2,
            k,
            f"{fmt(r['population_at_frequency_pct'], lang)} %",
            va="center",
            ha="center",
            color="white",
            fontsize=8,
            fontweight="bold",
        )
    ax.invert_yaxis()
    ax.set_xlabel(T["x_people"])
    ax.set_title(T["c_channel"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8, frameon=False)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: fmt(int(x), lang)))
    fig.tight_layout()
    out["chart_channels"] = folder / "population_by_channel.png"
    fig.savefig(out["chart_channels"])
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 * len(ok) + 2.0), dpi=150, sharey=True)
    for ax, key, xlabel, colour in (
        (axes[0], "km_per_cycle", T["x_km"], "#4a5568"),
        (axes[1], "crew_days_per_cycle", T["x_days"], "#2f855a"),
    ):
        values = [r[key] for r in ok]
        ax.barh(names, values, color=colour)
        for k, v in enumerate(values):
            ax.text(v, k, " " + fmt(v, lang), va="center", fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, max(values + [1]) * 1.25)
    axes[0].invert_yaxis()
    fig.suptitle(T["c_effort"])
    fig.tight_layout()
    out["chart_effort"] = folder / "km_and_crew_days.png"
    fig.savefig(out["chart_effort"])
    plt.close(fig)

    communes = sorted({(c["commune_code"], c["commune"]) for c in crows})
    grid = np.full((len(communes), len(names)), np.nan)
    for c in crows:
        if c["scenario"] in names:
            grid[communes.index((c["commune_code"], c["commune"])), names.index(c["scenario"])] = c[
                "population_at_frequency_pct"
            ]
    fig, ax = plt.subplots(figsize=(1.3 * len(names) + 3.0, 0.32 * len(communes) + 1.8), dpi=150)
    ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for i in range(len(communes)):
        for j in range(len(names)):
            if not np.isnan(grid[i, j]):
                ax.text(
                    j,
                    i,
                    fmt(float(grid[i, j]), lang),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if grid[i, j] < 25 or grid[i, j] > 85 else "black",
                )
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(communes)), [n for _, n in communes], fontsize=8)
    ax.set_title(T["c_heat"], fontsize=9)
    fig.tight_layout()
    out["chart_communes"] = folder / "commune_coverage.png"
    fig.savefig(out["chart_communes"])
    plt.close(fig)
    return out


# --------------------------------------------------------------------------- maps


def render_maps(results, area, folder: Path, *, lang: str = "vi") -> dict[str, Path]:
    """``maps/<scenario>.html`` per scenario with a plan, and ``maps/index.html`` two per row."""

    folder.mkdir(parents=True, exist_ok=True)
    T = TEXT[lang]
    out, cells = {}, []
    for r in results:
        label = html.escape(r.scenario.text("label", lang))
        if r.plan is None:
            cells.append(
                f'<div class="cell"><h2>{label}</h2><p>{html.escape(T["no_plan"])}: {html.escape(r.error)}</p></div>'
            )
            continue
        path = safe_child(folder, f"{r.name}.html")
        render_map(r.plan, area, path, title=f"{r.scenario.text('label', lang)} ({r.name})")
        out[f"map_{r.name}"] = path
        f = r.figures
        cells.append(
            f'<div class="cell"><h2>{label} <small>({html.escape(r.name)}: {fmt(f["population_at_frequency_pct"], lang)} %, '
            f'{fmt(f["km_per_cycle"], lang)} km) · <a href="{path.name}" target="_blank">{html.escape(T["open"])}</a></small></h2>'
            f'<iframe src="{path.name}" title="{label}" loading="lazy"></iframe></div>'
        )
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(T["maps"])}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 0.8rem; }}
h1 {{ font-size: 1.2rem; margin: 0 0 0.6rem; }}
.grid {{ display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.8rem; }}
.cell h2 {{ font-size: 0.95rem; margin: 0 0 0.3rem; }}
.cell small {{ font-weight: normal; }}
iframe {{ width: 100%; height: 70vh; border: 1px solid #bbb; }}
@media (max-width: 900px) {{ .grid {{ grid-template-columns: 1fr; }} }}
</style></head>
<body><h1>{html.escape(T["maps"])}</h1>
<div class="grid">
{chr(10).join(cells)}
</div></body></html>
"""
    out["maps_index"] = folder / "index.html"
    out["maps_index"].write_text(page, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- report


def report_model(
    rows: Sequence[dict], crows: Sequence[dict], results, area, *, lang: str = "vi", charts=None, units="pre2025"
) -> dict:
    """Everything the report says, as plain data; the HTML and the PDF both render this.

    With ``units="2025"`` the communes (their count and the commune table) are the 2025 communes."""
    T = TEXT[lang]
    scen = [r["scenario"] for r in rows]
    by_name = {r.name: r for r in results}
    pop = int(area.villages["population"].sum()) if area is not None else (rows[0]["population_total"] if rows else 0)
    n_communes = len(area.communes) if area is not None else len({c["commune_code"] for c in crows})
    if units == "2025":
        n_communes = len({c["commune"] for c in crows})
    n_villages = len(area.villages) if area is not None else (rows[0]["villages_total"] if rows else 0)
    figures = [
        {
            "key": k,
            "label": column_label(k, lang),
            "bold": k in BOLD_ROWS,
            "cells": [
                {"scenario": r["scenario"], "value": r.get(k, ""), "text": fmt(r.get(k, ""), lang, k)} for r in rows
            ],
        }
        for k in REPORT_ROWS
    ]
    communes = sorted({(c["commune_code"], c["commune"]) for c in crows})
    cgrid = {(c["scenario"], c["commune_code"]): c for c in crows}
    commune_table = [
        {
            "code": code,
            "name": name,
            "population": next((cgrid[(s, code)]["population"] for s in scen if (s, code) in cgrid), ""),
            "cells": [
                {
                    "scenario": s,
                    "value": cgrid[(s, code)]["population_at_frequency_pct"] if (s, code) in cgrid else "",
                    "text": fmt(cgrid[(s, code)]["population_at_frequency_pct"], lang) if (s, code) in cgrid else "–",
                }
                for s in scen
            ],
        }
        for code, name in communes
    ]
    notes = [T["note_freq"], T["note_unserved"], T["note_reproducible"]]
    approximated = bool(area is not None and area.approximated)
    notes.insert(0, T["note_approx"] if approximated else T["note_exact"])
    if units == "2025":
        notes.append(T["note_units_2025"])
    return {
        "lang": lang,
        "title": T["title"],
        "area": T["area_2025" if units == "2025" else "area"].format(
            communes=n_communes, villages=fmt(n_villages, lang), population=fmt(pop, lang)
        ),
        "made": T["made"].format(date=dt.date.today().strftime("%d/%m/%Y")),
        "scenarios": [
            {
                "name": s,
                "label": by_name[s].scenario.text("label", lang),
                "description": by_name[s].scenario.text("description", lang),
                "error": by_name[s].error,
            }
            for s in scen
        ],
        "figures": figures,
        "commune_table": commune_table,
        "charts": [{"path": Path(p), "caption": T[c]} for p, c in (charts or [])],
        "notes": notes,
        "approximated": approximated,
        "T": T,
    }


def _e(x) -> str:
    return "" if x is None else html.escape(str(x), quote=True)


def report_html(model: dict) -> str:
    T = model["T"]
    scen = model["scenarios"]
    head = "".join(f'<th data-scenario="{_e(s["name"])}">{_e(s["name"])}</th>' for s in scen)
    fig_rows = []
    for row in model["figures"]:
        cls = ' class="b"' if row["bold"] else ""
        tds = "".join(
            f'<td data-scenario="{_e(c["scenario"])}" data-key="{_e(row["key"])}" data-value="{_e(c["value"])}">{_e(c["text"])}</td>'
            for c in row["cells"]
        )
        fig_rows.append(f'<tr{cls}><th scope="row">{_e(row["label"])}</th>{tds}</tr>')
    c_rows = []
    for row in model["commune_table"]:
        tds = "".join(
            f'<td data-scenario="{_e(c["scenario"])}" data-commune="{_e(row["code"])}" data-key="population_at_frequency_pct" '
            f'data-value="{_e(c["value"])}">{_e(c["text"])}</td>'
            for c in row["cells"]
        )
        c_rows.append(f'<tr><th scope="row">{_e(row["name"])}</th>{tds}</tr>')
    scen_items = "".join(
        f"<li><b>{_e(s['label'])}</b> (<code>{_e(s['name'])}</code>): {_e(s['description'])}"
        + (f" <i>({_e(T['no_plan'])}: {_e(s['error'])})</i>" if s["error"] else "")
        + "</li>"
        for s in scen
    )
    charts = "".join(
        f'<figure><img src="{_e(c["path"].parent.name + "/" + c["path"].name)}" alt="{_e(c["caption"])}">'
        f"<figcaption>{_e(c['caption'])}</figcaption></figure>"
        for c in model["charts"]
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in model["notes"])
    approx = f'<p class="approx">{_e(T["note_approx"])}</p>' if model["approximated"] else ""
    return f"""<!DOCTYPE html>
<html lang="{model["lang"]}"><head><meta charset="utf-8"><title>{_e(model["title"])}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.35rem; text-align: center; }} h2 {{ font-size: 1.05rem; margin-top: 1.6rem; }}
table {{ border-collapse: collapse; font-size: 0.85rem; }} th, td {{ border: 1px solid #999; padding: 0.2rem 0.45rem; }}
td {{ text-align: right; }} th[scope=row] {{ text-align: left; font-weight: normal; }}
tr.b th, tr.b td {{ font-weight: bold; background: #f3f6fa; }}
.approx {{ border: 1px solid #c05621; background: #fffaf0; padding: 0.4rem 0.6rem; }}
figure {{ margin: 1rem 0; }} img {{ max-width: 100%; }} figcaption {{ font-size: 0.85rem; color: #555; }}
.meta {{ text-align: center; color: #555; }}
</style></head><body>
<h1>{_e(model["title"])}</h1>
<p class="meta">{_e(model["area"])}<br>{_e(model["made"])}</p>
{approx}
<h2>{_e(T["s_scenarios"])}</h2><ul>{scen_items}</ul>
<h2>{_e(T["s_figures"])}</h2>
<table id="figures"><thead><tr><th>{_e(T["figure"])}</th>{head}</tr></thead><tbody>
{chr(10).join(fig_rows)}
</tbody></table>
<h2>{_e(T["s_charts"])}</h2>{charts}
<h2>{_e(T["s_communes"])}</h2>
<table id="communes"><thead><tr><th>{_e(column_label("commune", model["lang"]))}</th>{head}</tr></thead><tbody>
{chr(10).join(c_rows)}
</tbody></table>
<h2>{_e(T["s_notes"])}</h2><ul>{notes}</ul>
<p><a href="maps/index.html">{_e(T["maps"])}</a></p>
</body></html>
"""


_FONT = "DejaVuSans"


def _register_fonts() -> None:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(f"{_FONT}-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(f"{_FONT}-Oblique", str(ttf / "DejaVuSans-Oblique.ttf")))
    pdfmetrics.registerFontFamily(
        _FONT, normal=_FONT, bold=f"{_FONT}-Bold", italic=f"{_FONT}-Oblique", boldItalic=f"{_FONT}-Bold"
    )


def report_pdf(model: dict, path: Path) -> Path:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_fonts()
    T = model["T"]
    base = ParagraphStyle("b", fontName=_FONT, fontSize=9.5, leading=12.5)
    st = {
        "title": ParagraphStyle(
            "t", parent=base, fontName=f"{_FONT}-Bold", fontSize=14, leading=18, alignment=TA_CENTER, spaceAfter=4
        ),
        "meta": ParagraphStyle("m", parent=base, alignment=TA_CENTER, textColor=colors.HexColor("#555555")),
        "h": ParagraphStyle(
            "h", parent=base, fontName=f"{_FONT}-Bold", fontSize=11, leading=14, spaceBefore=10, spaceAfter=4
        ),
        "p": base,
        "li": ParagraphStyle("li", parent=base, leftIndent=5 * mm, firstLineIndent=-3 * mm, spaceAfter=2),
        "th": ParagraphStyle("th", parent=base, fontName=f"{_FONT}-Bold", fontSize=7.5, leading=9, alignment=TA_CENTER),
        "tl": ParagraphStyle("tl", parent=base, fontSize=7.5, leading=9),
        "tlb": ParagraphStyle("tlb", parent=base, fontName=f"{_FONT}-Bold", fontSize=7.5, leading=9),
        "td": ParagraphStyle("td", parent=base, fontSize=7.5, leading=9, alignment=TA_RIGHT),
        "tdb": ParagraphStyle(
            "tdb", parent=base, fontName=f"{_FONT}-Bold", fontSize=7.5, leading=9, alignment=TA_RIGHT
        ),
        "cap": ParagraphStyle(
            "cap", parent=base, fontSize=8, textColor=colors.HexColor("#555555"), alignment=TA_CENTER
        ),
        "approx": ParagraphStyle(
            "ap",
            parent=base,
            borderColor=colors.HexColor("#c05621"),
            borderWidth=0.6,
            borderPadding=4,
            backColor=colors.HexColor("#fffaf0"),
            spaceBefore=4,
            spaceAfter=6,
        ),
    }
    e = html.escape
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=model["title"],
        author="planner",
        lang=model["lang"],
    )
    width = A4[0] - 33 * mm
    story: list = [
        Paragraph(e(model["title"]), st["title"]),
        Paragraph(e(model["area"]) + "<br/>" + e(model["made"]), st["meta"]),
    ]
    if model["approximated"]:
        story.append(Paragraph(e(T["note_approx"]), st["approx"]))
    story.append(Paragraph(e(T["s_scenarios"]), st["h"]))
    for s in model["scenarios"]:
        extra = f" <i>({e(T['no_plan'])}: {e(s['error'])})</i>" if s["error"] else ""
        story.append(Paragraph(f"• <b>{e(s['label'])}</b> ({e(s['name'])}): {e(s['description'])}{extra}", st["li"]))

    scen = model["scenarios"]
    label_w = 62 * mm

    def tables(header, body, bold_rows=()) -> list:
        """The table, split into groups of at most PDF_COLUMNS scenarios (the label column repeated)."""
        out = []
        for lo in range(0, max(1, len(scen)), PDF_COLUMNS):
            cut = slice(lo + 1, lo + 1 + PDF_COLUMNS)
            part = [r[:1] + r[cut] for r in [header, *body]]
            out += [table(part[0], part[1:], bold_rows), Spacer(1, 3 * mm)]
        return out

    def table(header, body, bold_rows=()):
        n = max(1, len(header) - 1)
        col_w = (width - label_w) / max(n, 3)
        t = Table([header, *body], colWidths=[label_w] + [col_w] * n, repeatRows=1, hAlign="LEFT")
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e2e8f0")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]
        for k in bold_rows:
            style.append(("BACKGROUND", (0, k + 1), (-1, k + 1), colors.HexColor("#f3f6fa")))
        t.setStyle(TableStyle(style))
        return t

    header = [Paragraph(e(T["figure"]), st["th"])] + [Paragraph(e(s["name"]), st["th"]) for s in scen]
    body, bold = [], []
    for k, row in enumerate(model["figures"]):
        b = row["bold"]
        if b:
            bold.append(k)
        body.append(
            [Paragraph(e(row["label"]), st["tlb" if b else "tl"])]
            + [Paragraph(e(c["text"]), st["tdb" if b else "td"]) for c in row["cells"]]
        )
    story += [Paragraph(e(T["s_figures"]), st["h"]), *tables(header, body, bold)]

    story.append(Paragraph(e(T["s_charts"]), st["h"]))
    for c in model["charts"]:
        img = Image(str(c["path"]))
        scale = min(width / img.imageWidth, 115 * mm / img.imageHeight)
        img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
        story.append(KeepTogether([img, Paragraph(e(c["caption"]), st["cap"]), Spacer(1, 4 * mm)]))

    header = [Paragraph(e(column_label("commune", model["lang"])), st["th"])] + [
        Paragraph(e(s["name"]), st["th"]) for s in scen
    ]
    body = [
        [Paragraph(e(r["name"]), st["tl"])] + [Paragraph(e(c["text"]), st["td"]) for c in r["cells"]]
        for r in model["commune_table"]
    ]
    story += [Paragraph(e(T["s_communes"]), st["h"]), *tables(header, body)]
    story.append(Paragraph(e(T["s_notes"]), st["h"]))
    story += [Paragraph("• " + e(x), st["li"]) for x in model["notes"]]

    def page_number(canvas, doc_):
        canvas.saveState()
        canvas.setFont(_FONT, 8)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, str(doc_.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return path


def render_report(rows, crows, results, area, folder: Path, *, lang: str = "vi", units="pre2025") -> dict[str, Path]:
    """``report.html`` and ``report.pdf`` from one :func:`report_model` (charts from ``folder/charts``)."""
    charts = [
        (folder / "charts" / f, c)
        for f, c in (
            ("population_by_channel.png", "c_channel"),
            ("km_and_crew_days.png", "c_effort"),
            ("commune_coverage.png", "c_heat"),
        )
        if (folder / "charts" / f).exists()
    ]
    model = report_model(rows, crows, results, area, lang=lang, charts=charts, units=units)
    (folder / "report.html").write_text(report_html(model), encoding="utf-8")
    report_pdf(model, folder / "report.pdf")
    return {"report_html": folder / "report.html", "report_pdf": folder / "report.pdf"}
