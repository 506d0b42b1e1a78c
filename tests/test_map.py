"""The review map: structure of the written page, offline assets, escaping, and once in a real browser.

Tiny area (hand-drawn, around Mường Tè town):

- communes A (west, 102.80–102.85) and B (east, 102.85–102.90), lat 22.35–22.40;
- villages v1 "Bản Một" (A), v2 "<script>alert(1)</script>" (B, walks to v1's stop on day 1),
  v3 "Bản Ba" (B, unserved: not enough time);
- depot d0 in A, culture centre c1 in B (coverage 1.5 km);
- roads: national r1 along the valley, commune r2 to v1, track r3 to v3.

Plan: van1 on Mon 30/11/2026 (depot → v1 → depot, v2 walks to v1) and
van1 on Tue 01/12/2026 (depot → c1 → depot): two route layers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from planner.model.area import Area
from planner.model.plan import Day, Plan, Stop, Unserved, VillageService
from planner.render.map import (
    APPROX_NOTICE_EN,
    APPROX_NOTICE_VI,
    day_layer_name,
    render_map,
)

EVIL = "<script>alert(1)</script>"
CRS = "EPSG:4326"


@pytest.fixture
def area() -> Area:
    communes = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["Xã A", "Xã B"], "population": [300, 200]},
        geometry=[
            Polygon([(102.80, 22.35), (102.85, 22.35), (102.85, 22.40), (102.80, 22.40)]),
            Polygon([(102.85, 22.35), (102.90, 22.35), (102.90, 22.40), (102.85, 22.40)]),
        ],
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {
            "id": ["v1", "v2", "v3"],
            "name": ["Bản Một", EVIL, "Bản Ba"],
            "commune_code": ["A", "B", "B"],
            "commune": ["Xã A", "Xã B", "Xã B"],
            "population": [120, 80, 60],
            "households": [30, 20, 15],
            "children": [40, 25, 20],
            "approx_position": [True, True, False],
            "approx_name": [False, False, False],
            "approx_population": [False, False, False],
        },
        geometry=[Point(102.84, 22.38), Point(102.851, 22.381), Point(102.88, 22.37)],
        crs=CRS,
    )
    sites = gpd.GeoDataFrame(
        {
            "id": ["d0", "c1"],
            "name": ["Trung tâm VH-TT-TT huyện", "Nhà văn hóa xã B"],
            "kind": ["depot", "culture_centre"],
            "commune_code": ["A", "B"],
            "commune": ["Xã A", "Xã B"],
            "approximated": [False, True],
            "lodging": [True, False],
            "coverage_radius_m": [None, 1500.0],
            "stock_books": [5000, 300],
            "active": [True, True],
        },
        geometry=[Point(102.81, 22.36), Point(102.87, 22.39)],
        crs=CRS,
    )
    roads = gpd.GeoDataFrame(
        {
            "id": ["r1", "r2", "r3"],
            "road_class": ["national", "commune", "track"],
            "surface": ["paved", "gravel", "earth"],
            "approximated": [False, True, True],
            "rainy_closed": [False, False, True],
        },
        geometry=[
            LineString([(102.81, 22.36), (102.85, 22.37), (102.89, 22.38)]),
            LineString([(102.83, 22.365), (102.84, 22.38)]),
            LineString([(102.87, 22.375), (102.88, 22.37)]),
        ],
        crs=CRS,
    )
    return Area(villages=villages, sites=sites, roads=roads, communes=communes, name="Tiny")


def _stop(seq, kind, sid, name, lon, lat, t0, t1, **kw) -> Stop:
    return Stop(
        seq=seq,
        kind=kind,
        stop_id=sid,
        stop_name=name,
        commune=kw.pop("commune", "Xã A"),
        commune_code=kw.pop("commune_code", "A"),
        lon=lon,
        lat=lat,
        arrival=t0,
        departure=t1,
        **kw,
    )


@pytest.fixture
def plan() -> Plan:
    d1, d2 = (
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
    )  # a Monday (T2) and a Tuesday (T3)

    def at(d, h, mi=0):
        return dt.datetime.combine(d, dt.time(h, mi))

    day1 = Day(
        vehicle="van1",
        date=d1,
        week=1,
        stops=(
            _stop(
                0,
                "start",
                "d0",
                "Trung tâm VH-TT-TT huyện",
                102.81,
                22.36,
                at(d1, 7),
                at(d1, 7),
            ),
            _stop(
                1,
                "village",
                "v1",
                "Bản Một",
                102.84,
                22.38,
                at(d1, 8),
                at(d1, 10),
                travel_km=5.0,
                travel_min=40,
                books=60,
                population_served=200,
                children_served=65,
                villages_served=("v1", "v2"),
                walkers=("v2",),
            ),
            _stop(
                2,
                "end",
                "d0",
                "Trung tâm VH-TT-TT huyện",
                102.81,
                22.36,
                at(d1, 11),
                at(d1, 11),
                travel_km=5.0,
                travel_min=40,
            ),
        ),
        legs=(
            ((102.81, 22.36), (102.83, 22.365), (102.84, 22.38)),
            ((102.84, 22.38), (102.83, 22.365), (102.81, 22.36)),
        ),
    )
    day2 = Day(
        vehicle="van1",
        date=d2,
        week=1,
        stops=(
            _stop(
                0,
                "start",
                "d0",
                "Trung tâm VH-TT-TT huyện",
                102.81,
                22.36,
                at(d2, 7),
                at(d2, 7),
            ),
            _stop(
                1,
                "site",
                "c1",
                "Nhà văn hóa xã B",
                102.87,
                22.39,
                at(d2, 8, 30),
                at(d2, 9, 30),
                commune="Xã B",
                commune_code="B",
                travel_km=7.0,
                travel_min=60,
                books=100,
            ),
            _stop(
                2,
                "end",
                "d0",
                "Trung tâm VH-TT-TT huyện",
                102.81,
                22.36,
                at(d2, 11),
                at(d2, 11),
                travel_km=7.0,
                travel_min=60,
            ),
        ),
        legs=(
            ((102.81, 22.36), (102.85, 22.37), (102.87, 22.39)),
            (),  # no geometry: drawn as a straight segment
        ),
    )
    villages = (
        VillageService(
            "v1",
            "Bản Một",
            "Xã A",
            "A",
            120,
            "van_stop",
            1,
            1,
            ("v1",),
            ("2026-11-30",),
        ),
        VillageService("v2", EVIL, "Xã B", "B", 80, "walk", 1, 1, ("v1",), ("2026-11-30",)),
        VillageService("v3", "Bản Ba", "Xã B", "B", 60, "unserved", 0, 1),
    )
    unserved = (Unserved("v3", "Bản Ba", "Xã B", 60, "not_enough_time", "needs 2 h more on " + EVIL),)
    return Plan(
        status="partial",
        days=(day1, day2),
        villages=villages,
        unserved=unserved,
        population_total=260,
        children_total=85,
        villages_total=3,
        notices=("Dữ liệu thử / test data",),
    )


@pytest.fixture
def page(tmp_path, plan, area) -> tuple[Path, str]:
    out = render_map(plan, area, tmp_path / "out" / "map.html", title="Bản đồ thử <b>x</b>")
    return out, out.read_text(encoding="utf-8")


def test_writes_the_file(page):
    path, text = page
    assert path.is_file()
    assert text.startswith("<!DOCTYPE html>")
    assert len(text) < 400_000  # Leaflet (~150 kB) plus a little data


def test_no_network_scripts_or_styles(page):
    _, text = page
    # No resource loaded from the network: no script/style/image tag with a remote src or href.
    # (Attribution <a href="https://..."> links, inside JS strings, load nothing.)
    tags = re.findall(r"<(?:script|link|style|img|iframe|embed|source)\b[^>]*>", text, re.IGNORECASE)
    assert tags, "no tags found"
    for tag in tags:
        assert not re.search(r"""\b(src|href)\s*=\s*\\?["']?\s*(https?:)?//""", tag, re.IGNORECASE), tag
    assert not re.search(r"""<script[^>]*\bsrc=""", text, re.IGNORECASE)  # every script is inline
    assert not re.search(r"""<link[^>]*stylesheet""", text, re.IGNORECASE)  # every style is inline
    assert not re.search(r"""@import|url\(\s*["']?(https?:)?//""", text, re.IGNORECASE)
    for lib in (
        "jquery",
        "bootstrap",
        "awesome-markers",
        "font-awesome",
        "fontawesome",
        "cdn.",
    ):
        assert lib not in text.lower(), lib
    assert "L.version" in text or 't.version="1.9.4"' in text  # Leaflet is inlined


def test_data_text_is_escaped(page):
    _, text = page
    assert EVIL not in text
    # Leaflet gets the name HTML-escaped, inside a JSON string (< > & are \u-escaped there too).
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text.replace("\\u0026", "&")
    assert "<b>x</b>" not in text  # the title is escaped too
    assert "Bản đồ thử &lt;b&gt;x&lt;/b&gt;" in text


def test_one_route_layer_per_vehicle_day(page, plan):
    _, text = page
    names = [day_layer_name(d) for d in plan.days]
    assert names == ["van1 · T2 30/11", "van1 · T3 01/12"]
    for name in names:
        assert f"{json.dumps(html.escape(name))} :" in text  # an overlay in the layer control
    assert text.count('"className": "bm-route"') == len(plan.days)


def test_notice_legend_print_and_scale(page):
    _, text = page
    assert APPROX_NOTICE_VI in text and APPROX_NOTICE_EN in text
    assert 'id="bm-legend"' in text and "Chú giải / Legend" in text
    assert "@media print" in text and "window.print()" in text and "In / Print" in text
    assert "L.control.scale()" in text
    for layer in (
        "Bản được phục vụ / Served villages",
        "Bản chưa được phục vụ / Unserved villages",
        "Điểm thư viện cố định / Fixed library points",
        "Ranh giới xã / Commune boundaries",
        "Quốc lộ / National road",
        "Đường đất, đường mòn / Track",
    ):
        assert f"{json.dumps(layer)} :" in text, layer


def test_no_notice_when_surveyed(tmp_path, plan, area):
    surveyed = Area(
        villages=area.villages.assign(approx_position=False),
        sites=area.sites.assign(approximated=False),
        roads=area.roads.assign(approximated=False),
        communes=area.communes,
    )
    text = render_map(plan, surveyed, tmp_path / "m.html").read_text(encoding="utf-8")
    assert APPROX_NOTICE_VI not in text


def test_empty_plan_still_renders(tmp_path, area):
    empty = Plan("empty", (), (), (), 0, 0, 0)
    text = render_map(empty, area, tmp_path / "m.html").read_text(encoding="utf-8")
    assert "leaflet" in text.lower() and "bm-route" not in text.replace("bm-route {", "")


# --------------------------------------------------------------------------- in a real browser

_HOOK = """<script>
window.__errors = [];
window.onerror = function (msg) { window.__errors.push(String(msg)); document.title = "ERROR " + msg; };
window.alert = function (m) { window.__errors.push("alert " + m); document.title = "ALERT " + m; };
</script>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def test_page_runs_in_headless_chromium(page, tmp_path, plan):
    assert _chromium(), "no chromium on PATH: install Debian's chromium (apt-get install chromium); .ci/run does"
    path, text = page
    probe = path.with_name("probe.html")
    map_var = re.search(r"var (map_\w+) = L\.map\(", text).group(1)
    # The hook goes first in <head>; the probe runs last: it opens every popup and tooltip
    # (so their HTML is really parsed), collects their text and writes its findings into the DOM.
    report = (
        "<script>(function () {"
        f"var map = window.{map_var}, texts = [], tags = 0, failed = 0;"
        "map.eachLayer(function (l) { try {"
        "  if (l.getPopup && l.getPopup()) { l.openPopup();"
        "    var c = l.getPopup().getElement().querySelector('.leaflet-popup-content');"
        "    if (c) { texts.push(c.textContent); tags += c.querySelectorAll('script,img,iframe').length; }"
        "    l.closePopup(); }"
        "  if (l.getTooltip && l.getTooltip()) { l.openTooltip(); var t = l.getTooltip().getElement();"
        "    if (t) { texts.push(t.textContent); tags += t.querySelectorAll('script,img,iframe').length; }"
        "    l.closeTooltip(); }"
        "} catch (e) { failed += 1; } });"
        "var pre = document.createElement('pre'); pre.id = 'probe-texts';"
        "pre.textContent = texts.join('\\n'); document.body.appendChild(pre);"
        "var b = document.body;"
        "b.setAttribute('data-errors', String(window.__errors.length));"
        "b.setAttribute('data-leaflet', typeof L === 'undefined' ? 'none' : L.version);"
        "b.setAttribute('data-popup-tags', String(tags));"
        "b.setAttribute('data-probe-failed', String(failed));"
        "})();</script>"
    )
    probe.write_text(
        text.replace("<head>", "<head>" + _HOOK, 1).replace("</html>", report + "</html>"),
        "utf-8",
    )
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: tiles fail at once, the data must still draw
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probe.as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, env=env)
    dom = res.stdout
    assert "leaflet-container" in dom, res.stderr[-2000:]
    assert 'data-leaflet="1.9.4"' in dom
    assert 'data-errors="0"' in dom, re.findall(r"<title>(.*?)</title>", dom)
    titles = "".join(re.findall(r"<title>(.*?)</title>", dom))
    assert "ERROR" not in titles and "ALERT" not in titles, titles
    classes = re.findall(r'<path class="([^"]*)"', dom)
    assert sum({"bm-route", "leaflet-interactive"} <= set(c.split()) for c in classes) == len(plan.days)
    assert "leaflet-control-layers" in dom and "leaflet-control-scale" in dom
    assert 'class="bm-legend leaflet-control"' in dom  # moved into a Leaflet control
    assert EVIL not in dom
    # Every popup and tooltip opened: data text shows as text, no element came from the data.
    assert 'data-probe-failed="0"' in dom and 'data-popup-tags="0"' in dom
    texts = dom.split('<pre id="probe-texts">', 1)[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texts  # the village, as text
    assert "needs 2 h more on &lt;script&gt;" in texts  # the unserved reason detail
    assert "van1 · T2 30/11" in texts and "Bản Một" in texts


def test_every_data_text_is_escaped(tmp_path, plan, area):
    """Names from every input (vehicle, commune, road class, site, stop, notice) reach the page escaped."""
    img = '<img src=x onerror="alert(2)">'
    day = plan.days[0]
    stops = tuple(dataclasses.replace(s, stop_name=img, commune=img) if s.kind == "village" else s for s in day.stops)
    evil_plan = dataclasses.replace(
        plan,
        days=(dataclasses.replace(day, vehicle=img, stops=stops), plan.days[1]),
        notices=(img,),
    )
    evil_area = Area(
        villages=area.villages,
        sites=area.sites.assign(name=img, kind=["depot", img]),
        roads=area.roads.assign(road_class=["national", img, "track"]),
        communes=area.communes.assign(name=img),
        name=img,
    )
    text = render_map(evil_plan, evil_area, tmp_path / "m.html").read_text(encoding="utf-8")
    assert img not in text and 'onerror="' not in text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in text
