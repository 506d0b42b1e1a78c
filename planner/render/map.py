"""Review map of a plan: one self-contained, offline HTML page.

:func:`render_map` writes a folium (Leaflet) map with one toggleable layer per
vehicle-day (route along the legs' road geometry, direction arrows, numbered
stops), the villages by how they are served, the unserved villages with the
reason, the fixed library points with their coverage circles, the depot, the
communes and the roads, a legend, a scale, a print button and, when the area
data is approximated, a bilingual notice.

The page needs no network: Leaflet 1.9.4 (vendored in ``assets/``, BSD-2) is
inlined, and folium's CDN links (jQuery, Bootstrap, awesome-markers, Font
Awesome) are dropped. Only the optional OpenStreetMap background tiles come
from the internet; the data draws without them.

Every text from the input data is HTML-escaped here before it reaches Leaflet,
which sets popup, tooltip and layer-control text as HTML. Popups and tooltips
are bound by this module's own elements (folium's ``Popup`` needs jQuery).

Coordinates are WGS84 ``[lon, lat]`` in the inputs; geometries are simplified
to :data:`SIMPLIFY_TOLERANCE_M` in UTM 48N and rounded to
:data:`COORD_DECIMALS` decimals (about 1 m) to keep the file small.
"""

from __future__ import annotations

import base64
import colorsys
import datetime as dt
import html
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NotRequired, TypedDict, TypeVar

import folium
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, mapping
from shapely.geometry.base import BaseGeometry

from planner.model.area import FIXED_POINT_KINDS, GEO_CRS, METRIC_CRS, Area
from planner.model.plan import Day, Plan, Stop

__all__ = ["APPROX_NOTICE_EN", "APPROX_NOTICE_VI", "day_layer_name", "render_map"]

ASSETS_DIR = Path(__file__).parent / "assets"
SIMPLIFY_TOLERANCE_M = 10.0
COORD_DECIMALS = 5
#: Fallback centre (Mường Tè town) when the area has no geometry at all.
DEFAULT_CENTRE_LATLON = (22.38, 102.83)

WEEKDAY_ABBR_VI = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
WEEKDAY_VI = (
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
)

APPROX_NOTICE_VI = "Vị trí bản và đường giao thông là ước tính (không phải số liệu khảo sát)"
APPROX_NOTICE_EN = "Village positions and roads are approximated, not surveyed"

#: Qualitative colours for routes; no pure red (red marks unserved villages).
ROUTE_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#008080",
    "#a55194",
    "#e6550d",
)
UNSERVED_COLOUR = "#d7191c"
FIXED_POINT_COLOUR = "#6a3d9a"
VILLAGE_COLOUR = "#2b6cb0"
NOT_IN_PLAN_COLOUR = "#8a8a8a"


class _RoadStyle(TypedDict):
    color: str
    weight: float
    label: str
    dash_array: NotRequired[str]


ROAD_STYLE: dict[str, _RoadStyle] = {
    "national": {"color": "#d08c00", "weight": 4.5, "label": "Quốc lộ / National road"},
    "provincial": {
        "color": "#e0b000",
        "weight": 3.5,
        "label": "Tỉnh lộ / Provincial road",
    },
    "commune": {"color": "#7a7a7a", "weight": 2.2, "label": "Đường xã / Commune road"},
    "track": {
        "color": "#9a8a74",
        "weight": 1.6,
        "dash_array": "5 4",
        "label": "Đường đất, đường mòn / Track",
    },
}

STOP_KIND_LABEL = {
    "start": "Xuất phát / Start",
    "village": "Dừng tại bản / Village stop",
    "site": "Điểm thư viện, địa điểm / Library site",
    "lunch": "Nghỉ trưa / Lunch break",
    "overnight": "Nghỉ đêm / Overnight",
    "end": "Kết thúc / End",
}
CHANNEL_LABEL = {
    "van_stop": "Xe dừng tại bản / Van stops here",
    "walk": "Đi bộ đến điểm xe dừng / Walks to a van stop",
    "fixed_point": "Điểm thư viện cố định / Fixed library point",
    "unserved": "Chưa được phục vụ / Not served",
}
UNSERVED_REASON_LABEL = {
    "unreachable": "Xe không có đường đi tới (mùa này) / No usable road this season",
    "too_far_for_shift": "Quá xa cho một ca làm việc / Too far for one shift",
    "not_enough_time": "Không đủ thời gian, ưu tiên bản khác / Not enough time",
    "fixed_point_only": "Chỉ qua điểm thư viện cố định / Fixed library point only",
}
SITE_KIND_LABEL = {
    "depot": "Kho sách, nơi xe xuất phát / Depot",
    "culture_centre": "Trung tâm văn hóa - thể thao xã / Commune culture and sports centre",
    "learning_centre": "Trung tâm học tập cộng đồng / Community learning centre",
    "post_office_point": "Điểm bưu điện - văn hóa xã / Post-office cultural point",
    "private_library": "Thư viện tư nhân / Private library",
    "school": "Trường học / School",
    "border_post": "Đồn biên phòng / Border guard post",
}

_TO_METRIC = Transformer.from_crs(GEO_CRS, METRIC_CRS, always_xy=True)
_TO_GEO = Transformer.from_crs(METRIC_CRS, GEO_CRS, always_xy=True)


# --------------------------------------------------------------------------- public API


def day_layer_name(day: Day) -> str:
    """Plain-text layer name of a vehicle-day, e.g. ``"van1 · T2 30/11"`` (not escaped)."""
    return f"{day.vehicle} · {WEEKDAY_ABBR_VI[day.date.weekday()]} {day.date:%d/%m}"


def render_map(plan: Plan, area: Area, path: Path, *, title: str | None = None) -> Path:
    """Write the review map of ``plan`` over ``area`` to ``path`` (one offline HTML file).

    Parameters
    ----------
    plan, area
        The plan to show and the area it was planned on (villages, sites, roads, communes).
    path
        Output file; parent folders are created.
    title
        Page title; defaults to a bilingual title with the area name.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    title = title or f"Thư viện lưu động – lộ trình / Mobile library routes: {area.name}"
    m = _OfflineMap(
        location=_centre(area),
        tiles=None,
        zoom_start=10,
        control_scale=True,
        font_size="0.85rem",
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.title = html.escape(title)
    figure.header.add_child(_Raw(_page_head()), name="bm_offline_assets")
    figure.html.add_child(_Raw(_header_html(plan, area, title)), name="bm_header")

    folium.TileLayer(
        "OpenStreetMap",
        name="Nền OpenStreetMap (cần mạng) / OpenStreetMap background (online)",
        overlay=True,
        show=False,  # offline by default: the officer ticks it when the office PC is online
    ).add_to(m)

    lookup = _Lookup(plan, area)
    roads_present = _add_communes_and_roads(m, area)
    _add_sites(m, area, lookup)
    not_in_plan = _add_villages(m, plan, area, lookup)
    day_rows = _add_days(m, plan, lookup)

    m.add_child(_Legend(_legend_html(day_rows, roads_present, not_in_plan), m))
    m.add_child(_PrintHook(m))
    bounds = _bounds(area)
    if bounds:
        m.fit_bounds(bounds)
    folium.LayerControl(collapsed=len(plan.days) > 8).add_to(m)

    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(path))
    return path


# --------------------------------------------------------------------------- folium plumbing


class _OfflineMap(folium.Map):
    """A folium map that links no CDN; the page head inlines Leaflet instead."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


class _Raw(Element):
    """Literal text in the page (not run through Jinja, so ``{{`` in Leaflet's code is safe)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


def _js_string(text: str) -> str:
    """A JS string literal that is safe inside ``<script>``: no ``<`` at all, UTF-8 kept (smaller file)."""
    return (
        json.dumps(text, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class _BindPopup(MacroElement):
    """Bind already-escaped HTML as the parent layer's popup (no jQuery)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.js_html }}, {maxWidth: 320});
        {% endmacro %}"""
    )

    def __init__(self, escaped_html: str):
        super().__init__()
        self._name = "BindPopup"
        self.js_html = _js_string(escaped_html)


class _BindTooltip(MacroElement):
    """Bind already-escaped HTML as the parent layer's tooltip."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip({{ this.js_html }}, {sticky: true});
        {% endmacro %}"""
    )

    def __init__(self, escaped_html: str):
        super().__init__()
        self._name = "BindTooltip"
        self.js_html = _js_string(escaped_html)


class _Legend(MacroElement):
    """The legend: a block of HTML in the page, moved into a Leaflet control once the map runs."""

    _template = Template(
        """{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var el = document.getElementById("bm-legend");
            if (!el) { return; }
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function () {
                L.DomEvent.disableClickPropagation(el);
                L.DomEvent.disableScrollPropagation(el);
                return el;
            };
            legend.addTo({{ this.map.get_name() }});
            // The legend left the page flow, so the map grew: let Leaflet measure it again.
            {{ this.map.get_name() }}.invalidateSize();
        })();
        {% endmacro %}"""
    )

    def __init__(self, body: str, map_: folium.Map):
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.map = map_


class _PrintHook(MacroElement):
    """Resize the map to the printed page before printing."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        window.addEventListener("beforeprint", function () { {{ this.map.get_name() }}.invalidateSize(); });
        window.addEventListener("afterprint", function () { {{ this.map.get_name() }}.invalidateSize(); });
        {% endmacro %}"""
    )

    def __init__(self, map_: folium.Map):
        super().__init__()
        self._name = "PrintHook"
        self.map = map_


# --------------------------------------------------------------------------- page head and header

_PAGE_CSS = """
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: "Segoe UI", "Noto Sans", "DejaVu Sans",
  Arial, sans-serif; color: #222; }
.folium-map { flex: 1 1 auto; height: auto !important; min-height: 300px; }
.leaflet-container { background: #f3f1ea; }
.bm-header { flex: 0 0 auto; z-index: 1001; box-shadow: 0 1px 4px rgba(0,0,0,.25); }
.bm-titlebar { display: flex; align-items: center; gap: 12px; padding: 6px 12px;
  background: #1e3a5f; color: #fff; }
.bm-titlebar h1 { font-size: 1.1rem; margin: 0; font-weight: 600; }
.bm-sub { font-size: .85rem; opacity: .9; flex: 1 1 auto; }
.bm-print { font: inherit; font-size: .85rem; padding: 4px 12px; border: 1px solid #fff;
  border-radius: 4px; background: transparent; color: #fff; cursor: pointer; white-space: nowrap; }
.bm-print:hover { background: rgba(255,255,255,.15); }
.bm-notice { display: flex; gap: 10px; align-items: center; padding: 6px 12px;
  background: #fff4cc; border-bottom: 2px solid #e0a800; font-size: .9rem; line-height: 1.35; }
.bm-notice svg { flex: 0 0 auto; }
.bm-notice .bm-en { color: #555; font-style: italic; }
.bm-notice ul { margin: 2px 0 0 0; padding-left: 18px; font-size: .8rem; color: #555; }
.bm-legend { background: rgba(255,255,255,.95); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,.3); font-size: .78rem; line-height: 1.3; max-width: 300px;
  max-height: 55vh; overflow-y: auto; }
.bm-legend h3 { font-size: .85rem; margin: 0 0 4px 0; }
.bm-legend h4 { font-size: .78rem; margin: 6px 0 2px 0; color: #444; }
.bm-legend .bm-row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.bm-legend .bm-sym { flex: 0 0 28px; display: flex; justify-content: center; align-items: center; }
.bm-stop { width: 20px; height: 20px; border-radius: 50%; border: 2px solid #fff; color: #fff;
  font: bold 11px/20px "DejaVu Sans", Arial, sans-serif; text-align: center;
  box-shadow: 0 0 2px rgba(0,0,0,.6); box-sizing: content-box; }
.bm-stop-aux { border-radius: 3px; background: #fff !important; border-width: 2px; border-style: solid; }
.bm-arrow { width: 14px; height: 14px; }
.bm-arrow svg { display: block; }
.bm-fixed { width: 12px; height: 12px; transform: rotate(45deg); border: 2px solid #fff;
  box-shadow: 0 0 2px rgba(0,0,0,.7); }
.bm-depot { width: 22px; height: 22px; }
.bm-site { width: 10px; height: 10px; background: #555; border: 1px solid #fff; }
.bm-commune-label { color: #5b4a3a; font-size: 11px; font-style: italic; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; transform: translate(-50%, -50%);
  display: inline-block; }
.bm-pop h4 { margin: 0 0 4px 0; font-size: .95rem; }
.bm-pop table { border-collapse: collapse; font-size: .8rem; }
.bm-pop th { text-align: left; color: #555; font-weight: normal; padding: 1px 8px 1px 0;
  vertical-align: top; white-space: nowrap; }
.bm-pop td { padding: 1px 0; vertical-align: top; }
@media print {
  @page { size: A4 landscape; margin: 8mm; }
  html, body { height: auto; }
  body { display: block; }
  .leaflet-control-layers, .leaflet-control-zoom, .bm-print { display: none !important; }
  .folium-map { height: 165mm !important; width: 100% !important; }
  .bm-header, .bm-legend, .bm-stop, .bm-fixed, .leaflet-container { -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
  .bm-header { box-shadow: none; }
  .bm-legend { max-height: none; overflow: visible; box-shadow: none; border: 1px solid #999;
    column-count: 2; column-gap: 10px; max-width: 140mm; font-size: 7.5pt; }
  .bm-legend h3 { column-span: all; }
  .bm-legend h4 { break-after: avoid; }
  .bm-legend .bm-row { break-inside: avoid; }
}
"""

_WARNING_SVG = (
    '<svg width="22" height="20" viewBox="0 0 22 20" aria-hidden="true">'
    '<path d="M11 1 L21 19 H1 Z" fill="#f2b600" stroke="#7a5a00" stroke-width="1.2"/>'
    '<rect x="10" y="7" width="2" height="6" fill="#3a2a00"/>'
    '<rect x="10" y="14.5" width="2" height="2" fill="#3a2a00"/></svg>'
)
_DEPOT_SVG = (
    '<svg width="22" height="22" viewBox="0 0 22 22" aria-hidden="true">'
    '<rect x="1" y="1" width="20" height="20" rx="4" fill="#1e3a5f" stroke="#fff" stroke-width="1.5"/>'
    '<path d="M5 11 L11 5.5 L17 11 V17 H13 V13 H9 V17 H5 Z" fill="#fff"/></svg>'
)


def _page_head() -> str:
    return f"<style>{_leaflet_css()}</style>\n<script>{_leaflet_js()}</script>\n<style>{_PAGE_CSS}</style>\n"


def _leaflet_js() -> str:
    js = (ASSETS_DIR / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)
    return js.replace("</script", "<\\/script")


def _leaflet_css() -> str:
    css = (ASSETS_DIR / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        image = ASSETS_DIR / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def _header_html(plan: Plan, area: Area, title: str) -> str:
    e = html.escape
    summary = plan.summary()
    dates = sorted(d.date for d in plan.days)
    parts = []
    if dates:
        parts.append(f"{dates[0]:%d/%m/%Y} – {dates[-1]:%d/%m/%Y}")
    vehicles = plan.vehicles()
    if vehicles:
        parts.append("Xe / Vehicles: " + ", ".join(vehicles))
    parts.append(f"Bản được phục vụ / Villages served: {summary['villages_served']}/{summary['villages_total']}")
    parts.append(
        f"Dân số / Population: {summary['population_served']:,}/{summary['population_total']:,}"
        f" ({summary['population_served_pct']}%)"
    )
    sub = " · ".join(e(str(p)) for p in parts)
    out = [
        '<header class="bm-header">',
        '<div class="bm-titlebar">',
        f"<h1>{e(title)}</h1>",
        f'<span class="bm-sub">{sub}</span>',
        (
            '<button type="button" class="bm-print" onclick="window.print()" '
            'title="In bản đồ / Print the map">In / Print</button>'
        ),
        "</div>",
    ]
    notices = [n for n in dict.fromkeys(str(n) for n in plan.notices) if n]
    if area.approximated or notices:
        out.append('<div class="bm-notice" role="note">' + _WARNING_SVG + "<div>")
        if area.approximated:
            out.append(f"<div><strong>Lưu ý:</strong> {e(APPROX_NOTICE_VI)}.</div>")
            out.append(f'<div class="bm-en" lang="en"><strong>Note:</strong> {e(APPROX_NOTICE_EN)}.</div>')
        if notices:
            out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notices) + "</ul>")
        out.append("</div></div>")
    out.append("</header>")
    return "\n".join(out)


# --------------------------------------------------------------------------- geometry helpers


def _r(x: float) -> float:
    return round(float(x), COORD_DECIMALS)


def _latlon(lon: float, lat: float) -> list[float]:
    return [_r(lat), _r(lon)]


_G = TypeVar("_G", bound=BaseGeometry)


def _reproject(geom: _G, transformer: Transformer) -> _G:
    """``geom`` with its coordinates run through ``transformer`` (all x and all y at once)."""
    # types-shapely only types the interleaved (one (N, 2) array) callable, not interleaved=False's (x, y)
    return shapely.transform(geom, transformer.transform, interleaved=False)  # type: ignore[arg-type]


def _simplify_lonlat(coords: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """Simplify a [lon, lat] path to ~10 m and round it; drop repeated points."""
    pts = [(float(c[0]), float(c[1])) for c in coords]
    if len(pts) > 2:
        metric = _reproject(LineString(pts), _TO_METRIC)
        simple = metric.simplify(SIMPLIFY_TOLERANCE_M, preserve_topology=False)
        if not simple.is_empty and len(simple.coords) >= 2:
            pts = [(c[0], c[1]) for c in _reproject(simple, _TO_GEO).coords]
    out: list[tuple[float, float]] = []
    for lon, lat in pts:
        p = (_r(lon), _r(lat))
        if not out or out[-1] != p:
            out.append(p)
    return out


def _round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [_r(v) for v in obj[:2]]
        return [_round_coords(o) for o in obj]
    return obj


def _simplified(gdf):
    """The frame in WGS84 with geometries simplified to ~10 m (in UTM 48N)."""
    if gdf is None or len(gdf) == 0:
        return gdf
    if gdf.crs is None:
        gdf = gdf.set_crs(GEO_CRS)
    metric = gdf.to_crs(METRIC_CRS)
    metric = metric.set_geometry(metric.geometry.simplify(SIMPLIFY_TOLERANCE_M))
    return metric.to_crs(GEO_CRS)


def _screen_angle_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Clockwise screen angle (Web Mercator) of the direction a→b, 0 = east."""
    x1, x2 = math.radians(a[0]), math.radians(b[0])
    y1 = math.log(math.tan(math.pi / 4 + math.radians(a[1]) / 2))
    y2 = math.log(math.tan(math.pi / 4 + math.radians(b[1]) / 2))
    return math.degrees(math.atan2(-(y2 - y1), x2 - x1))


def _arrow_points(
    path: Sequence[tuple[float, float]],
) -> list[tuple[float, float, float]]:
    """Arrow positions ``(lon, lat, angle)`` along a leg: one per ~5 km, 1 to 4."""
    if len(path) < 2:
        return []
    metric = _reproject(LineString(path), _TO_METRIC)
    length_m = metric.length
    if length_m < 1.0:
        return []
    n = max(1, min(4, round(length_m / 5000)))
    out = []
    for i in range(n):
        at = length_m * (i + 0.5) / n
        step = min(25.0, length_m / 10)
        p0 = metric.interpolate(max(0.0, at - step))
        p1 = metric.interpolate(min(length_m, at + step))
        mid = metric.interpolate(at)
        a = _TO_GEO.transform(p0.x, p0.y)
        b = _TO_GEO.transform(p1.x, p1.y)
        lon, lat = _TO_GEO.transform(mid.x, mid.y)
        out.append((lon, lat, _screen_angle_deg(a, b)))
    return out


def _centre(area: Area) -> list[float]:
    bounds = _bounds(area)
    if not bounds:
        return list(DEFAULT_CENTRE_LATLON)
    (s, w), (n, e) = bounds
    return [_r((s + n) / 2), _r((w + e) / 2)]


def _bounds(area: Area) -> list[list[float]] | None:
    boxes = []
    for gdf in (area.communes, area.villages, area.sites):
        if gdf is not None and len(gdf) and not gdf.geometry.is_empty.all():
            boxes.append(gdf.total_bounds)
    if not boxes:
        return None
    w = min(b[0] for b in boxes)
    s = min(b[1] for b in boxes)
    e = max(b[2] for b in boxes)
    n = max(b[3] for b in boxes)
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        return None
    return [[_r(s), _r(w)], [_r(n), _r(e)]]


# --------------------------------------------------------------------------- text helpers


def _val(row, col, default=None):
    if col not in row.index:
        return default
    v = row[col]
    if v is None:
        return default
    try:
        if pd.isna(v):
            return default
    except (TypeError, ValueError):
        pass
    return v


def _table_html(heading: str, rows: Iterable[tuple[str, object]]) -> str:
    """Popup HTML: every heading, label and value escaped here."""
    e = html.escape
    body = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in rows if v not in (None, ""))
    return f'<div class="bm-pop"><h4>{e(str(heading))}</h4><table>{body}</table></div>'


def _yes_no(v) -> str:
    return "có / yes" if bool(v) else "không / no"


def _fmt_int(v) -> str:
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return str(v)


def _date_vi(d: dt.date) -> str:
    return f"{WEEKDAY_VI[d.weekday()]} ({WEEKDAY_ABBR_VI[d.weekday()]}), {d:%d/%m/%Y}"


class _Lookup:
    """Names and positions by id, from the plan and the area."""

    def __init__(self, plan: Plan, area: Area):
        self.village_pos: dict[str, tuple[float, float]] = {}
        self.village_row: dict[str, pd.Series] = {}
        self.names: dict[str, str] = {}
        for _, row in area.villages.iterrows():
            vid = str(row["id"])
            self.village_row[vid] = row
            self.names[vid] = str(row["name"])
            g = row.geometry
            if g is not None and not g.is_empty:
                self.village_pos[vid] = (g.x, g.y)
        for _, row in area.sites.iterrows():
            self.names.setdefault(str(row["id"]), str(row["name"]))
        for v in plan.villages:
            self.names[v.village_id] = v.name
        for u in plan.unserved:
            self.names.setdefault(u.village_id, u.name)
        for d in plan.days:
            for s in d.stops:
                self.names.setdefault(s.stop_id, s.stop_name)

    def name(self, ident: str) -> str:
        return self.names.get(ident, ident)


# --------------------------------------------------------------------------- layers


def _add_communes_and_roads(m: folium.Map, area: Area) -> list[str]:
    communes = _simplified(area.communes)
    if communes is not None and len(communes):
        group = folium.FeatureGroup(name=html.escape("Ranh giới xã / Commune boundaries"))
        for _, row in communes.iterrows():
            geom = row.geometry
            if geom is None or geom.is_empty:
                continue
            name = str(_val(row, "name", _val(row, "code", "")))
            feature = {
                "type": "Feature",
                "properties": {},
                "geometry": _round_coords(mapping(geom)),
            }
            gj = folium.GeoJson(
                feature,
                style_function=lambda _f: {
                    "color": "#6b5b4b",
                    "weight": 1.5,
                    "dashArray": "6 3",
                    "fillColor": "#efe6d2",
                    "fillOpacity": 0.35,
                },
                highlight_function=None,
                control=False,
                smooth_factor=1.0,
            )
            gj.add_child(_BindTooltip(f"Xã / Commune: <b>{html.escape(name)}</b>"))
            group.add_child(gj)
            p = geom.representative_point()
            folium.Marker(
                _latlon(p.x, p.y),
                icon=folium.DivIcon(
                    html=f'<span class="bm-commune-label">{html.escape(name)}</span>',
                    icon_size=(0, 0),
                    icon_anchor=(0, 0),
                ),
                interactive=False,
                keyboard=False,
                z_index_offset=-2000,
            ).add_to(group)
        group.add_to(m)

    present: list[str] = []
    roads = _simplified(area.roads)
    if roads is None or not len(roads):
        return present
    classes = [c for c in ROAD_STYLE if c in set(roads["road_class"].astype(str))]
    classes += sorted(set(roads["road_class"].astype(str)) - set(ROAD_STYLE))
    for cls in classes:
        style = ROAD_STYLE.get(cls, ROAD_STYLE["track"])
        label = style["label"] if cls in ROAD_STYLE else f"Đường / Road: {cls}"
        sub = roads[roads["road_class"].astype(str) == cls]
        closed = (
            sub["rainy_closed"].fillna(False).astype(bool)
            if "rainy_closed" in sub
            else pd.Series(False, index=sub.index)
        )
        group = folium.FeatureGroup(name=html.escape(label))
        for is_closed, part in ((False, sub[~closed]), (True, sub[closed])):
            lines = []
            for geom in part.geometry:
                if geom is None or geom.is_empty:
                    continue
                parts = geom.geoms if isinstance(geom, MultiLineString) else [geom]
                for line in parts:
                    pts = [_latlon(x, y) for x, y, *_ in line.coords]
                    if len(pts) >= 2:
                        lines.append(pts)
            if not lines:
                continue
            tip = html.escape(label + (" · đóng mùa mưa / closed in the rainy season" if is_closed else ""))
            pl = folium.PolyLine(
                lines,
                color=style["color"],
                weight=style["weight"],
                opacity=0.9,
                dash_array="2 6" if is_closed else style.get("dash_array"),
                class_name="bm-road",
            )
            pl.add_child(_BindTooltip(tip))
            group.add_child(pl)
        group.add_to(m)
        present.append(cls)
    return present


def _add_sites(m: folium.Map, area: Area, lookup: _Lookup) -> None:
    sites = area.sites
    if sites is None or not len(sites):
        return
    fixed = folium.FeatureGroup(name=html.escape("Điểm thư viện cố định / Fixed library points"))
    other = folium.FeatureGroup(name=html.escape("Địa điểm khác / Other sites"), show=False)
    n_fixed = n_other = 0
    for _, row in sites.iterrows():
        g = row.geometry
        if g is None or g.is_empty:
            continue
        kind = str(_val(row, "kind", ""))
        name = str(_val(row, "name", row["id"]))
        active = bool(_val(row, "active", True))
        radius = _val(row, "coverage_radius_m")
        rows = [
            ("Loại / Kind", SITE_KIND_LABEL.get(kind, kind)),
            ("Xã / Commune", _val(row, "commune", "")),
            ("Mã / Id", row["id"]),
        ]
        if kind in FIXED_POINT_KINDS:
            rows += [
                (
                    "Bán kính phục vụ / Coverage",
                    f"{_fmt_int(radius)} m" if radius else None,
                ),
                (
                    "Sách trong kho / Books in stock",
                    _fmt_int(_val(row, "stock_books")) if _val(row, "stock_books") is not None else None,
                ),
                ("Đang hoạt động / Active", _yes_no(active)),
            ]
        if _val(row, "lodging") is not None and kind != "depot":
            rows.append(("Có chỗ ngủ / Lodging", _yes_no(_val(row, "lodging"))))
        if bool(_val(row, "approximated", False)):
            rows.append(("Vị trí / Position", "ước tính / approximated"))
        popup = _BindPopup(_table_html(name, rows))
        tooltip = _BindTooltip(html.escape(name))
        loc = _latlon(g.x, g.y)
        if kind == "depot":
            marker = folium.Marker(
                loc,
                icon=folium.DivIcon(
                    html=f'<div class="bm-depot">{_DEPOT_SVG}</div>',
                    icon_size=(22, 22),
                    icon_anchor=(11, 11),
                ),
                z_index_offset=1000,
            )
            marker.add_child(popup)
            marker.add_child(tooltip)
            marker.add_to(m)  # the depot is always shown
        elif kind in FIXED_POINT_KINDS:
            colour = FIXED_POINT_COLOUR if active else NOT_IN_PLAN_COLOUR
            if radius and float(radius) > 0:
                folium.Circle(
                    loc,
                    radius=float(radius),
                    color=colour,
                    weight=1.2,
                    dash_array="4 4",
                    fill=True,
                    fill_color=colour,
                    fill_opacity=0.08,
                    interactive=False,
                ).add_to(fixed)
            marker = folium.Marker(
                loc,
                icon=folium.DivIcon(
                    html=f'<div class="bm-fixed" style="background:{colour}"></div>',
                    icon_size=(16, 16),
                    icon_anchor=(8, 8),
                ),
            )
            marker.add_child(popup)
            marker.add_child(tooltip)
            marker.add_to(fixed)
            n_fixed += 1
        else:
            marker = folium.Marker(
                loc,
                icon=folium.DivIcon(
                    html='<div class="bm-site"></div>',
                    icon_size=(12, 12),
                    icon_anchor=(6, 6),
                ),
            )
            marker.add_child(popup)
            marker.add_child(tooltip)
            marker.add_to(other)
            n_other += 1
    if n_fixed:
        fixed.add_to(m)
    if n_other:
        other.add_to(m)


class _ChannelStyle(TypedDict):
    color: str
    fill_color: str
    weight: float
    radius: float
    dash_array: NotRequired[str]


_CHANNEL_STYLE: dict[str, _ChannelStyle] = {
    "van_stop": {
        "color": "#ffffff",
        "fill_color": VILLAGE_COLOUR,
        "weight": 1.5,
        "radius": 5,
    },
    "walk": {
        "color": VILLAGE_COLOUR,
        "fill_color": "#ffffff",
        "weight": 2,
        "radius": 4.5,
        "dash_array": "2 2",
    },
    "fixed_point": {
        "color": "#ffffff",
        "fill_color": FIXED_POINT_COLOUR,
        "weight": 1.5,
        "radius": 5,
    },
    "unserved": {
        "color": "#ffffff",
        "fill_color": UNSERVED_COLOUR,
        "weight": 1.5,
        "radius": 6,
    },
    "not_in_plan": {
        "color": "#ffffff",
        "fill_color": NOT_IN_PLAN_COLOUR,
        "weight": 1,
        "radius": 4,
    },
}


def _village_marker(lon, lat, channel, popup_html, name) -> folium.CircleMarker:
    style = _CHANNEL_STYLE[channel]
    marker = folium.CircleMarker(
        _latlon(lon, lat),
        radius=style["radius"],
        fill=True,
        fill_opacity=0.95,
        opacity=1,
        class_name=f"bm-village bm-{channel}",
        color=style["color"],
        fill_color=style["fill_color"],
        weight=style["weight"],
        dash_array=style.get("dash_array"),  # None is folium's default
    )
    marker.add_child(_BindPopup(popup_html))
    marker.add_child(_BindTooltip(html.escape(name)))
    return marker


def _add_villages(m: folium.Map, plan: Plan, area: Area, lookup: _Lookup) -> bool:
    """Add the served and unserved village layers; return True if some villages are not in the plan."""
    unserved_by_id = {u.village_id: u for u in plan.unserved}
    served = folium.FeatureGroup(name=html.escape("Bản được phục vụ / Served villages"))
    unserved = folium.FeatureGroup(name=html.escape("Bản chưa được phục vụ / Unserved villages"))
    outside = folium.FeatureGroup(name=html.escape("Bản ngoài kế hoạch / Villages not in this plan"), show=False)
    seen: set[str] = set()

    def extra_rows(vid: str) -> list[tuple[str, object]]:
        row = lookup.village_row.get(vid)
        rows: list[tuple[str, object]] = []
        if row is not None:
            if _val(row, "children") is not None:
                rows.append(("Trẻ em / Children", _fmt_int(_val(row, "children"))))
            if bool(_val(row, "approx_position", False)):
                rows.append(("Vị trí / Position", "ước tính / approximated"))
        return rows

    for v in plan.villages:
        seen.add(v.village_id)
        pos = lookup.village_pos.get(v.village_id)
        if pos is None:
            continue
        channel = v.channel if v.channel in CHANNEL_LABEL else "unserved"
        rows: list[tuple[str, object]] = [
            ("Xã / Commune", v.commune),
            ("Dân số / Population", _fmt_int(v.population)),
            *extra_rows(v.village_id),
            ("Phục vụ / Service", CHANNEL_LABEL.get(v.channel, v.channel)),
            ("Lượt xe / Van visits", f"{v.visits}/{v.visits_required}"),
            ("Ngày / Dates", ", ".join(v.visit_dates)),
            ("Qua / Served by", ", ".join(lookup.name(s) for s in v.served_by)),
        ]
        u = unserved_by_id.get(v.village_id)
        if u is not None:
            rows += [
                ("Lý do / Reason", UNSERVED_REASON_LABEL.get(u.reason, u.reason)),
                ("Chi tiết / Detail", u.detail),
            ]
        marker = _village_marker(pos[0], pos[1], channel, _table_html(v.name, rows), v.name)
        marker.add_to(unserved if channel == "unserved" else served)

    for u in plan.unserved:
        if u.village_id in seen:
            continue
        seen.add(u.village_id)
        pos = lookup.village_pos.get(u.village_id)
        if pos is None:
            continue
        rows = [
            ("Xã / Commune", u.commune),
            ("Dân số / Population", _fmt_int(u.population)),
            *extra_rows(u.village_id),
            ("Lý do / Reason", UNSERVED_REASON_LABEL.get(u.reason, u.reason)),
            ("Chi tiết / Detail", u.detail),
            ("Lượt xe / Van visits", f"{u.visits}/{u.visits_required}"),
        ]
        _village_marker(pos[0], pos[1], "unserved", _table_html(u.name, rows), u.name).add_to(unserved)

    n_outside = 0
    for vid, row in lookup.village_row.items():
        if vid in seen or vid not in lookup.village_pos:
            continue
        lon, lat = lookup.village_pos[vid]
        name = str(row["name"])
        rows = [
            ("Xã / Commune", _val(row, "commune", "")),
            ("Dân số / Population", _fmt_int(_val(row, "population", 0))),
            *extra_rows(vid),
            ("Phục vụ / Service", "Không có trong kế hoạch này / Not in this plan"),
        ]
        _village_marker(lon, lat, "not_in_plan", _table_html(name, rows), name).add_to(outside)
        n_outside += 1

    served.add_to(m)
    unserved.add_to(m)
    if n_outside:
        outside.add_to(m)
    return n_outside > 0


def _day_colour(i: int) -> str:
    if i < len(ROUTE_PALETTE):
        return ROUTE_PALETTE[i]
    hue = (0.11 + (i - len(ROUTE_PALETTE)) * 0.618034) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.42, 0.7)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _day_path(day: Day) -> list[list[tuple[float, float]]]:
    """The simplified [lon, lat] path of every leg; a straight segment where a leg has no geometry."""
    legs = []
    for i in range(1, len(day.stops)):
        prev, stop = day.stops[i - 1], day.stops[i]
        raw = day.legs[i - 1] if i - 1 < len(day.legs) else ()
        pts = list(raw) if len(raw) >= 2 else [(prev.lon, prev.lat), (stop.lon, stop.lat)]
        legs.append(_simplify_lonlat(pts))
    return legs


def _stop_popup(stop: Stop, day: Day, lookup: _Lookup) -> str:
    visit = stop.kind in ("village", "site")
    rows: list[tuple[str, object]] = [
        ("Loại / Kind", STOP_KIND_LABEL.get(stop.kind, stop.kind)),
        ("Xã / Commune", stop.commune),
        ("Ngày / Date", _date_vi(stop.arrival.date())),
        ("Giờ / Time", f"{stop.arrival:%H:%M}–{stop.departure:%H:%M}"),
        ("Xe / Vehicle", f"{day.vehicle} (tuần / week {day.week})"),
    ]
    if stop.travel_km or stop.travel_min:
        rows.append(
            (
                "Từ điểm trước / From previous",
                f"{stop.travel_km:.1f} km, {stop.travel_min:.0f} phút / min",
            )
        )
    if visit:
        rows += [
            ("Sách / Books", _fmt_int(stop.books)),
            ("Dân số phục vụ / Population served", _fmt_int(stop.population_served)),
            ("Trẻ em / Children", _fmt_int(stop.children_served)),
            ("Đi bộ đến / Walkers", ", ".join(lookup.name(w) for w in stop.walkers)),
        ]
    return _table_html(f"{stop.seq}. {stop.stop_name}", rows)


def _add_days(m: folium.Map, plan: Plan, lookup: _Lookup) -> list[tuple[str, str, str]]:
    """One layer per vehicle-day; return legend rows ``(colour, escaped name, escaped note)``."""
    rows = []
    used: dict[str, int] = {}
    days = sorted(plan.days, key=lambda d: (d.date, d.vehicle))
    for i, day in enumerate(days):
        colour = _day_colour(i)
        label = day_layer_name(day)
        used[label] = used.get(label, 0) + 1
        if used[label] > 1:
            label = f"{label} ({used[label]})"
        name = html.escape(label)
        group = folium.FeatureGroup(name=name)

        legs = _day_path(day)
        line: list[list[float]] = []
        for leg in legs:
            for lon, lat in leg:
                p = [lat, lon]
                if not line or line[-1] != p:
                    line.append(p)
        if len(line) >= 2:
            route = folium.PolyLine(line, color=colour, weight=4, opacity=0.85, class_name="bm-route")
            route.add_child(_BindTooltip(name))
            group.add_child(route)
        for leg in legs:
            for lon, lat, angle in _arrow_points(leg):
                folium.Marker(
                    _latlon(lon, lat),
                    icon=folium.DivIcon(
                        html=(
                            f'<div class="bm-arrow" style="transform:rotate({angle:.0f}deg)">'
                            '<svg width="14" height="14" viewBox="0 0 14 14">'
                            f'<path d="M2 2 L12 7 L2 12 L5 7 Z" fill="{colour}" stroke="#fff" '
                            'stroke-width="1"/></svg></div>'
                        ),
                        icon_size=(14, 14),
                        icon_anchor=(7, 7),
                    ),
                    interactive=False,
                    keyboard=False,
                    z_index_offset=-1000,
                ).add_to(group)

        for stop in day.stops:
            for w in stop.walkers:
                pos = lookup.village_pos.get(w)
                if pos is None:
                    continue
                walk = folium.PolyLine(
                    [_latlon(*pos), _latlon(stop.lon, stop.lat)],
                    color=colour,
                    weight=1.5,
                    opacity=0.9,
                    dash_array="3 4",
                    class_name="bm-walk",
                )
                walk.add_child(_BindTooltip(html.escape(f"{lookup.name(w)} → {stop.stop_name} (đi bộ / walk)")))
                group.add_child(walk)

        for stop in day.stops:
            visit = stop.kind in ("village", "site")
            if visit:
                badge = f'<div class="bm-stop" style="background:{colour}">{int(stop.seq)}</div>'
            else:
                badge = f'<div class="bm-stop bm-stop-aux" style="border-color:{colour};color:{colour}">{int(stop.seq)}</div>'
            marker = folium.Marker(
                _latlon(stop.lon, stop.lat),
                icon=folium.DivIcon(
                    html=badge,
                    icon_size=(24, 24),
                    icon_anchor=(12, 12),
                    class_name="bm-stop-icon",
                ),
                z_index_offset=500 if visit else 0,
            )
            marker.add_child(_BindPopup(_stop_popup(stop, day, lookup)))
            marker.add_child(_BindTooltip(html.escape(f"{stop.seq}. {stop.stop_name} · {stop.arrival:%H:%M}")))
            group.add_child(marker)
        group.add_to(m)

        s = day.summary()
        note = html.escape(f"{s['stops']} điểm dừng / stops · {s['distance_km']} km")
        rows.append((colour, name, note))
    return rows


# --------------------------------------------------------------------------- legend


def _legend_html(day_rows: list[tuple[str, str, str]], roads: list[str], not_in_plan: bool) -> str:
    def row(symbol: str, text: str) -> str:
        return f'<div class="bm-row"><span class="bm-sym">{symbol}</span><span>{text}</span></div>'

    def dot(fill: str, stroke: str = "#fff", dashed: bool = False, r: int = 5) -> str:
        dash = ' stroke-dasharray="2 2"' if dashed else ""
        return (
            f'<svg width="16" height="16"><circle cx="8" cy="8" r="{r}" fill="{fill}" stroke="{stroke}"'
            f' stroke-width="2"{dash}/></svg>'
        )

    def line(colour: str, width: float, dash: str | None = None) -> str:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<svg width="28" height="10"><line x1="1" y1="5" x2="27" y2="5" stroke="{colour}"'
            f' stroke-width="{width}"{d}/></svg>'
        )

    e = html.escape
    out = ['<div id="bm-legend" class="bm-legend">', "<h3>Chú giải / Legend</h3>"]
    if day_rows:
        out.append("<h4>Lộ trình theo ngày / Routes by day</h4>")
        for colour, name, note in day_rows:
            out.append(row(line(colour, 4), f"<b>{name}</b> <small>{note}</small>"))
        out.append(
            row(
                f'<div class="bm-stop" style="background:{ROUTE_PALETTE[0]};width:16px;height:16px;'
                'line-height:16px;font-size:10px">3</div>',
                e("Điểm dừng, số thứ tự / Stop and its order"),
            )
        )
        out.append(
            row(
                f'<div class="bm-stop bm-stop-aux" style="border-color:{ROUTE_PALETTE[0]};color:{ROUTE_PALETTE[0]};'
                'width:14px;height:14px;line-height:14px;font-size:10px">0</div>',
                e("Xuất phát, nghỉ trưa, nghỉ đêm, kết thúc / Start, lunch, overnight, end"),
            )
        )
        out.append(
            row(
                '<svg width="14" height="14" viewBox="0 0 14 14"><path d="M2 2 L12 7 L2 12 L5 7 Z" '
                f'fill="{ROUTE_PALETTE[0]}"/></svg>',
                e("Hướng đi / Direction of travel"),
            )
        )
        out.append(
            row(
                line(ROUTE_PALETTE[0], 1.5, "3 4"),
                e("Người dân đi bộ đến điểm dừng / People walk to the stop"),
            )
        )
    out.append("<h4>Bản / Villages</h4>")
    out.append(row(dot(VILLAGE_COLOUR), e(CHANNEL_LABEL["van_stop"])))
    out.append(row(dot("#fff", VILLAGE_COLOUR, dashed=True, r=4), e(CHANNEL_LABEL["walk"])))
    out.append(row(dot(FIXED_POINT_COLOUR), e(CHANNEL_LABEL["fixed_point"])))
    out.append(row(dot(UNSERVED_COLOUR, r=6), e(CHANNEL_LABEL["unserved"])))
    if not_in_plan:
        out.append(
            row(
                dot(NOT_IN_PLAN_COLOUR, r=4),
                e("Không có trong kế hoạch / Not in this plan"),
            )
        )
    out.append("<h4>Điểm thư viện / Library points</h4>")
    out.append(
        row(
            _DEPOT_SVG.replace('width="22" height="22"', 'width="18" height="18"'),
            e("Kho sách, nơi xe xuất phát / Depot"),
        )
    )
    out.append(
        row(
            f'<div class="bm-fixed" style="background:{FIXED_POINT_COLOUR};width:9px;height:9px"></div>',
            e("Điểm thư viện cố định / Fixed library point"),
        )
    )
    out.append(
        row(
            f'<svg width="22" height="16"><circle cx="11" cy="8" r="7" fill="{FIXED_POINT_COLOUR}" fill-opacity="0.1"'
            f' stroke="{FIXED_POINT_COLOUR}" stroke-dasharray="3 3"/></svg>',
            e("Vùng phục vụ của điểm / Coverage of the point"),
        )
    )
    out.append("<h4>Nền / Base</h4>")
    for cls in roads:
        style = ROAD_STYLE.get(cls, ROAD_STYLE["track"])
        label = style["label"] if cls in ROAD_STYLE else f"Đường / Road: {cls}"
        out.append(row(line(style["color"], style["weight"], style.get("dash_array")), e(label)))
    out.append(
        row(
            '<svg width="28" height="14"><rect x="1" y="1" width="26" height="12" fill="#efe6d2" '
            'stroke="#6b5b4b" stroke-dasharray="6 3"/></svg>',
            e("Ranh giới xã / Commune boundary"),
        )
    )
    out.append("</div>")
    return "\n".join(out)
