"""Printable schedules, workbook, calendars and interchange CSV from a small hand-made plan."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import geopandas as gpd
import icalendar  # noqa: E402
import openpyxl  # noqa: E402
import pypdf  # noqa: E402
import pytest
from shapely.geometry import LineString, Point, box

from planner.model.area import Area
from planner.model.plan import Day, Plan, Stop, Unserved, VillageService
from planner.render.document import (
    STOP_COLUMNS,
    slugify,
    stop_table,
)
from planner.render.printables import render_printables

FORMULA = '=HYPERLINK("x")'
SCRIPT = "<script>alert(1)</script>"

# id, name, commune_code, commune, population, lon, lat
VILLAGES = [
    ("V1", "Tó Khò", "C1", "Mù Cả", 320, 102.40, 22.60),
    ("V2", "Xi Nế", "C1", "Mù Cả", 210, 102.41, 22.61),
    ("V3", "Phìn Khò", "C1", "Mù Cả", 150, 102.43, 22.62),
    ("V4", "Mò Su", "C1", "Mù Cả", 90, 102.45, 22.64),
    ("V5", FORMULA, "C2", "Ka Lăng", 120, 102.30, 22.70),
    ("V6", SCRIPT, "C2", "Ka Lăng", 80, 102.31, 22.71),
    ("V7", "Nậm Củm", "C2", "Ka Lăng", 60, 102.33, 22.73),
]
START = dt.date(2026, 12, 7)  # a Monday


def make_area(extra_commune: tuple[str, str] | None = None) -> Area:
    villages = [
        {
            "id": i,
            "name": n,
            "commune_code": c,
            "commune": cn,
            "population": p,
            "approx_position": (i == "V4"),
            "approx_population": False,
        }
        for i, n, c, cn, p, _, _ in VILLAGES
    ]
    geoms = [Point(lon, lat) for *_, lon, lat in VILLAGES]
    communes = [{"code": "C1", "name": "Mù Cả"}, {"code": "C2", "name": "Ka Lăng"}]
    cgeoms = [box(102.35, 22.55, 102.5, 22.7), box(102.25, 22.65, 102.35, 22.8)]
    if extra_commune:
        code, name = extra_commune
        villages.append(
            {
                "id": "V9",
                "name": "Bản Lạ",
                "commune_code": code,
                "commune": name,
                "population": 10,
                "approx_position": False,
                "approx_population": False,
            }
        )
        geoms.append(Point(102.2, 22.5))
        communes.append({"code": code, "name": name})
        cgeoms.append(box(102.1, 22.4, 102.25, 22.55))
    sites = gpd.GeoDataFrame(
        [
            {
                "id": "D1",
                "name": "Trung tâm VHTT&TT huyện",
                "kind": "depot",
                "commune_code": "C0",
                "commune": "Mường Tè",
                "approximated": False,
            },
            {
                "id": "S1",
                "name": "Nhà văn hóa xã Ka Lăng",
                "kind": "culture_centre",
                "commune_code": "C2",
                "commune": "Ka Lăng",
                "approximated": False,
            },
        ],
        geometry=[Point(102.6, 22.4), Point(102.32, 22.72)],
        crs="EPSG:4326",
    )
    roads = gpd.GeoDataFrame(
        [{"id": "R1", "road_class": "commune", "surface": "unpaved", "approximated": True}],
        geometry=[LineString([(102.6, 22.4), (102.4, 22.6)])],
        crs="EPSG:4326",
    )
    return Area(
        villages=gpd.GeoDataFrame(villages, geometry=geoms, crs="EPSG:4326"),
        sites=sites,
        roads=roads,
        communes=gpd.GeoDataFrame(communes, geometry=cgeoms, crs="EPSG:4326"),
        name="test",
    )


def _stop(seq, kind, sid, name, code, commune, date, t0, t1, served=(), walkers=(), books=0, pop=0):
    a = dt.datetime.combine(date, dt.time(*t0))
    d = dt.datetime.combine(date, dt.time(*t1))
    return Stop(
        seq=seq,
        kind=kind,
        stop_id=sid,
        stop_name=name,
        commune=commune,
        commune_code=code,
        lon=102.4,
        lat=22.6,
        arrival=a,
        departure=d,
        travel_min=30.0,
        travel_km=12.5,
        books=books,
        population_served=pop,
        villages_served=tuple(served),
        walkers=tuple(walkers),
    )


def make_plan() -> Plan:
    days = []
    for week in (1, 2):
        mon = START + dt.timedelta(days=7 * (week - 1))
        stops = [
            _stop(0, "start", "D1", "Trung tâm", "C0", "Mường Tè", mon, (7, 0), (7, 0)),
            # same weekday and time both weeks -> one RRULE event
            _stop(
                1,
                "village",
                "V1",
                "Tó Khò",
                "C1",
                "Mù Cả",
                mon,
                (9, 0),
                (10, 30),
                served=("V1", "V2"),
                walkers=("V2",),
                books=60,
                pop=530,
            ),
            _stop(2, "lunch", "L", "Nghỉ trưa", "C1", "Mù Cả", mon, (11, 0), (12, 0)),
            _stop(3, "end", "D1", "Trung tâm", "C0", "Mường Tè", mon, (16, 0), (16, 0)),
        ]
        if week == 1:  # only in week 1: two one-off visits
            stops[2:2] = [
                _stop(
                    2,
                    "village",
                    "V3",
                    "Phìn Khò",
                    "C1",
                    "Mù Cả",
                    mon,
                    (10, 50),
                    (11, 40),
                    served=("V3",),
                    books=30,
                    pop=150,
                ),
            ]
            stops = [s if i < 3 else Stop(**{**s.__dict__, "seq": i}) for i, s in enumerate(stops)]
        days.append(Day(vehicle="van1", date=mon, week=week, stops=tuple(stops), legs=()))
    wed = START + dt.timedelta(days=2)
    days.append(
        Day(
            vehicle="van1",
            date=wed,
            week=1,
            stops=(
                _stop(0, "start", "D1", "Trung tâm", "C0", "Mường Tè", wed, (7, 0), (7, 0)),
                _stop(
                    1,
                    "village",
                    "V5",
                    FORMULA,
                    "C2",
                    "Ka Lăng",
                    wed,
                    (9, 0),
                    (10, 0),
                    served=("V5", "V6"),
                    walkers=("V6",),
                    books=40,
                    pop=200,
                ),
                _stop(
                    2,
                    "site",
                    "S1",
                    "Nhà văn hóa xã Ka Lăng",
                    "C2",
                    "Ka Lăng",
                    wed,
                    (10, 30),
                    (11, 30),
                    served=(),
                    books=100,
                ),
                _stop(3, "end", "D1", "Trung tâm", "C0", "Mường Tè", wed, (15, 0), (15, 0)),
            ),
            legs=(),
        )
    )
    villages = (
        VillageService(
            "V1",
            "Tó Khò",
            "Mù Cả",
            "C1",
            320,
            "van_stop",
            2,
            2,
            ("V1",),
            (str(START), str(START + dt.timedelta(7))),
        ),
        VillageService("V2", "Xi Nế", "Mù Cả", "C1", 210, "walk", 2, 2, ("V1",)),
        VillageService("V3", "Phìn Khò", "Mù Cả", "C1", 150, "van_stop", 1, 2, ("V3",)),
        VillageService("V4", "Mò Su", "Mù Cả", "C1", 90, "unserved", 0, 2),
        VillageService("V5", FORMULA, "Ka Lăng", "C2", 120, "van_stop", 1, 1, ("V5",)),
        VillageService("V6", SCRIPT, "Ka Lăng", "C2", 80, "walk", 1, 1, ("V5",)),
        VillageService("V7", "Nậm Củm", "Ka Lăng", "C2", 60, "fixed_point", 0, 1, ("S1",)),
    )
    unserved = (Unserved("V4", "Mò Su", "Mù Cả", 90, "unreachable", "no dry-season road reaches it"),)
    return Plan(
        status="partial",
        days=tuple(days),
        villages=villages,
        unserved=unserved,
        population_total=1030,
        children_total=300,
        villages_total=7,
        run={"created": "2026-11-26T08:00:00"},
        notices=("village_positions_approximated",),
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("printables")
    plan, area = make_plan(), make_area()
    written = render_printables(plan, area, out, issuer={"date": dt.date(2026, 11, 26)})
    return out, plan, area, written


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def test_files_written(rendered):
    out, _, _, written = rendered
    for name in (
        "schedules/mu-ca.pdf",
        "schedules/ka-lang.pdf",
        "schedules/all_communes.pdf",
        "schedules/mu-ca.html",
        "schedule.xlsx",
        "calendars/mu-ca.ics",
        "calendars/ka-lang.ics",
        "calendars/all.ics",
        "stops_interchange.csv",
    ):
        assert (out / name).is_file(), name
    assert all(p.exists() for paths in written.values() for p in paths)


def test_slugify():
    assert slugify("Mù Cả") == "mu-ca"
    assert slugify("Đồng Hiếu") == "dong-hieu"
    assert slugify("../../etc") == "etc"
    assert slugify("///") == "commune"


def test_pdf_text_and_title(rendered):
    out = rendered[0]
    text = pdf_text(out / "schedules" / "mu-ca.pdf")
    for s in (
        "LỊCH PHỤC VỤ THƯ VIỆN LƯU ĐỘNG",
        "Xã Mù Cả",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Tó Khò",
        "Xi Nế",
        "Phìn Khò",
        "Mò Su",
        "Thứ Hai",
        "Mường Tè, ngày 26 tháng 11 năm 2026",
        "/LPV-TTVHTTTT",
        "Nơi nhận:",
        "GIÁM ĐỐC",
        "ước tính",
        "Từ ngày 07/12/2026 đến ngày 14/12/2026",
    ):
        assert s in text, s
    other = pdf_text(out / "schedules" / "ka-lang.pdf")
    flat = other.replace("\n", "")
    assert FORMULA in flat and SCRIPT in flat and "Nậm Củm" in other
    both = pdf_text(out / "schedules" / "all_communes.pdf")
    assert "Xã Mù Cả" in both and "Xã Ka Lăng" in both


def test_pdf_fonts_embedded(rendered):
    out = rendered[0]
    reader = pypdf.PdfReader(str(out / "schedules" / "mu-ca.pdf"))
    fonts = {}
    for page in reader.pages:
        for name, ref in page["/Resources"]["/Font"].items():
            fonts[name] = ref.get_object()
    assert fonts
    for font in fonts.values():
        assert "DejaVuSerif" in str(font["/BaseFont"])
        descendants = font.get("/DescendantFonts")
        desc = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
        assert any(k in desc for k in ("/FontFile2", "/FontFile", "/FontFile3")), font


def test_english_version(tmp_path):
    render_printables(make_plan(), make_area(), tmp_path, lang="en", issuer={"date": dt.date(2026, 11, 26)})
    text = pdf_text(tmp_path / "schedules" / "mu-ca.pdf")
    for s in (
        "MOBILE LIBRARY SERVICE SCHEDULE",
        "SOCIALIST REPUBLIC OF VIET NAM",
        "Monday",
        "Tó Khò",
        "Recipients:",
        "DIRECTOR",
    ):
        assert s in text, s
    assert "Thứ Hai" not in text


def test_workbook(rendered):
    out, plan, _, _ = rendered
    wb = openpyxl.load_workbook(out / "schedule.xlsx")
    assert {"Lịch", "Tổng hợp", "Mù Cả", "Ka Lăng"} <= set(wb.sheetnames)
    ws = wb["Lịch"]
    header = [c.value for c in ws[1]]
    assert header == list(STOP_COLUMNS)
    assert ws.freeze_panes == "A2" and ws[1][0].font.bold
    expected = stop_table(plan)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(expected) == sum(len(d.stops) for d in plan.days)  # every row of stops.csv
    for got, exp in zip(rows, expected):
        got = dict(zip(header, got))
        assert isinstance(got["date"], dt.datetime) and got["date"].date() == exp["date"]
        assert isinstance(got["arrival"], dt.time) and got["arrival"] == exp["arrival"].time()
        assert got["departure"] == exp["departure"].time()
        for k in (
            "vehicle",
            "weekday",
            "seq",
            "kind",
            "stop_id",
            "stop_name",
            "commune",
            "books",
            "population_served",
        ):
            assert got[k] == exp[k], k
    col = {name: openpyxl.utils.get_column_letter(k + 1) for k, name in enumerate(header)}
    assert ws[f"{col['date']}2"].number_format == "dd/mm/yyyy" and ws[f"{col['arrival']}2"].number_format == "hh:mm"
    # the formula-like village name is text, not a formula
    cells = [c for sheet in wb for row in sheet.iter_rows() for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells)
    assert wb["Mù Cả"].freeze_panes == "A2"
    assert int(wb["Mù Cả"].page_setup.paperSize) == 9 and wb["Lịch"].page_setup.orientation == "landscape"
    assert wb["Lịch"].print_title_rows == "$1:$1" and wb["Lịch"].auto_filter.ref


def _expand(event) -> list[dt.datetime]:
    from dateutil.rrule import rrulestr

    start = event.decoded("dtstart")
    if "RRULE" not in event:
        return [start]
    return list(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))


def test_calendar(rendered):
    out, plan, _, _ = rendered
    cal = icalendar.Calendar.from_ical((out / "calendars" / "all.ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    assert cal.walk("VTIMEZONE")
    visits = sorted(s.arrival for d in plan.days for s in d.stops if s.kind in ("village", "site"))
    assert len(events) == 4  # 5 visits, the weekly one folded into an RRULE
    occurrences = sorted(o.replace(tzinfo=None) for e in events for o in _expand(e))
    assert occurrences == visits
    rr = [e for e in events if "RRULE" in e]
    assert len(rr) == 1 and rr[0]["RRULE"]["INTERVAL"] == [1] and rr[0]["RRULE"]["COUNT"] == [2]
    ev = rr[0]
    assert str(ev["SUMMARY"]) == "Thư viện lưu động: Tó Khò"
    assert ev["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert "Xi Nế" in str(ev["DESCRIPTION"])
    assert ev["GEO"].latitude == pytest.approx(22.6)
    assert len({str(e["UID"]) for e in events}) == 4
    mu_ca = icalendar.Calendar.from_ical((out / "calendars" / "mu-ca.ics").read_bytes())
    assert len(list(mu_ca.walk("VEVENT"))) == 2


def test_calendar_deterministic(rendered, tmp_path):
    out = rendered[0]
    render_printables(make_plan(), make_area(), tmp_path, issuer={"date": dt.date(2026, 11, 26)})
    assert (tmp_path / "calendars" / "all.ics").read_bytes() == (out / "calendars" / "all.ics").read_bytes()


def test_interchange(rendered):
    out = rendered[0]
    with open(out / "stops_interchange.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys())[:17] == [
        "organisation",
        "mobile",
        "route",
        "community",
        "stop",
        "address",
        "postcode",
        "geox",
        "geoy",
        "day",
        "type",
        "arrival",
        "departure",
        "frequency",
        "start",
        "end",
        "timetable",
    ]
    assert len(rows) == 4  # one per stop series
    weekly = [r for r in rows if r["stop_id"] == "V1"]
    assert weekly[0]["frequency"] == "FREQ=WEEKLY;INTERVAL=1;COUNT=2" and weekly[0]["day"] == "Monday"
    assert weekly[0]["start"] == "2026-12-07" and weekly[0]["end"] == "2026-12-14"
    formula = next(r for r in rows if r["stop_id"] == "V5")
    assert formula["stop"] == "'" + FORMULA


def test_html_escaped(rendered):
    out = rendered[0]
    html = (out / "schedules" / "ka-lang.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "@page" in html and "A4" in html
    assert "http://" not in html and "https://" not in html
    assert "Nậm Củm" in html


def test_path_like_commune_stays_inside(tmp_path):
    out = tmp_path / "out"
    written = render_printables(make_plan(), make_area(extra_commune=("C9", "../../etc")), out)
    paths = [p.resolve() for ps in written.values() for p in ps]
    assert all(out.resolve() in p.parents for p in paths)
    assert (out / "schedules" / "etc.pdf").exists()
    assert not (tmp_path / "etc").exists()
    wb = openpyxl.load_workbook(out / "schedule.xlsx")
    assert all(not set(n) & set("[]:*?/\\") and len(n) <= 31 for n in wb.sheetnames)
