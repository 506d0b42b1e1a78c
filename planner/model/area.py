"""The planning area: villages, sites, roads and communes, validated once.

All frames are GeoDataFrames in WGS84 (EPSG:4326, ``[lon, lat]``); distances are
computed in UTM zone 48N (EPSG:32648), see :data:`METRIC_CRS`.

Schemas (properties of the GeoJSON files in ``data/``):

- villages (Point): ``id, name, commune_code, commune, population, households,
  children, approx_position, approx_name, approx_population`` and optionally
  ``visits_per_cycle``.
- sites (Point): ``id, name, kind, commune_code, commune, approximated, lodging,
  coverage_radius_m, stock_books, active``; exactly one ``kind == "depot"`` per depot.
- roads (LineString): ``id, road_class, surface, approximated`` and optionally
  ``rainy_closed``, ``name``, ``speed_kph`` (a measured speed, km/h) or ``time_min``
  (driving time of the whole line, min), either overriding the class speed, and
  ``closed_from`` / ``closed_until`` (``YYYY-MM-DD``, or ``MM-DD`` every year).
- communes (Polygon/MultiPolygon): ``code, name, population`` and optionally
  ``post2025_commune``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import geopandas as gpd

from planner.model.errors import InputError, Problem

GEO_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:32648"  # UTM 48N, covers Lai Châu

ROAD_CLASSES = ("national", "provincial", "commune", "track")
SITE_KINDS = (
    "depot",
    "culture_centre",
    "learning_centre",
    "post_office_point",
    "private_library",
    "school",
    "border_post",
)
#: Kinds of the directive's fixed library points (the van restocks them).
FIXED_POINT_KINDS = ("culture_centre", "learning_centre", "post_office_point", "private_library")

VILLAGE_FIELDS = ("id", "name", "commune_code", "commune", "population")
SITE_FIELDS = ("id", "name", "kind", "commune_code", "commune")
ROAD_FIELDS = ("id", "road_class")
#: Optional road fields: per-road speed or time (override the class speed) and closures.
ROAD_OPTIONAL_FIELDS = ("rainy_closed", "name", "speed_kph", "time_min", "closed_from", "closed_until")
COMMUNE_FIELDS = ("code", "name")


@dataclass(frozen=True)
class Area:
    """Validated inputs of one planning area. Build with :func:`planner.io.load_area`."""

    villages: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    name: str = "area"
    notices: tuple[str, ...] = ()
    source: dict = field(default_factory=dict, compare=False)

    @property
    def depot(self):
        depots = self.sites[self.sites["kind"] == "depot"]
        return depots.iloc[0]

    @property
    def approximated(self) -> bool:
        """True if any position, population or road is approximated."""
        flags = []
        for col in ("approx_position", "approx_population"):
            if col in self.villages:
                flags.append(bool(self.villages[col].any()))
        if "approximated" in self.roads:
            flags.append(bool(self.roads["approximated"].any()))
        if "approximated" in self.sites:
            flags.append(bool(self.sites["approximated"].any()))
        return any(flags)

    def with_sites(self, sites: gpd.GeoDataFrame) -> Area:
        return replace(self, sites=sites)


#: Administrative units a plan's figures can be grouped by: the data's pre-2025 communes, or the
#: communes they merged into on 1 July 2025 (``post2025_commune`` of the villages or communes).
UNITS = ("pre2025", "2025")


@dataclass(frozen=True)
class Units2025:
    """Where each pre-2025 unit went in the 2025 reform, from the data's ``post2025_commune``.

    A 2025 commune is named (and keyed) by its name. A village's own ``post2025_commune`` wins
    over its commune's (a commune split between two new ones); a commune with no value of its own
    takes the one its villages share.
    """

    by_code: dict[str, str]  # pre-2025 commune code -> 2025 commune
    by_village: dict[str, str]  # village id -> 2025 commune (its own value)
    order: tuple[str, ...]  # the 2025 communes, in the order of their first pre-2025 unit in the communes file

    def of_village(self, village_id: str, code: str) -> str:
        """The 2025 commune of a village (id) of the pre-2025 commune ``code``."""
        return self.by_village.get(str(village_id)) or self.by_code[str(code)]

    def of_code(self, code: str) -> str:
        """The 2025 commune of a pre-2025 commune code."""
        return self.by_code[str(code)]

    def codes_of(self, new: str) -> list[str]:
        """The pre-2025 commune codes merged into the 2025 commune ``new`` (sorted)."""
        return sorted(c for c, n in self.by_code.items() if n == new)


def _text(v: object) -> str:
    return v if isinstance(v, str) and v.strip() else ""


def units_2025(area: Area, villages: Iterable[tuple[str, str]] | None = None) -> Units2025:
    """The 2025 units of ``villages`` ((village id, pre-2025 commune code) pairs; default: the area's).

    Raises
    ------
    InputError
        One problem per pre-2025 commune of those villages with no ``post2025_commune`` (neither
        its own nor on all of its villages).
    """
    by_code: dict[str, str] = {}
    order: list[str] = []
    if "post2025_commune" in area.communes:
        for code, new in zip(area.communes["code"].astype(str), area.communes["post2025_commune"]):
            if _text(new):
                by_code[code] = new
                order.append(new)
    by_village: dict[str, str] = {}
    seen: dict[str, set[str]] = {}
    if "post2025_commune" in area.villages:
        codes = (
            area.villages["commune_code"].astype(str) if "commune_code" in area.villages else [""] * len(area.villages)
        )
        for vid, code, new in zip(area.villages["id"].astype(str), codes, area.villages["post2025_commune"]):
            if _text(new):
                by_village[vid] = new
                seen.setdefault(code, set()).add(new)
    for code, news in seen.items():
        if code and code not in by_code and len(news) == 1:
            by_code[code] = next(iter(news))
    pairs = (
        list(villages)
        if villages is not None
        else list(zip(area.villages["id"].astype(str), area.villages["commune_code"].astype(str)))
    )
    missing = sorted({str(c) for v, c in pairs if str(v) not in by_village and str(c) not in by_code})
    if missing:
        raise InputError(
            [
                Problem("communes", f"code={c}", "post2025_commune", None, "needed to group by 2025 units")
                for c in missing
            ]
        )
    order += sorted(set(by_code.values()) | set(by_village.values()))
    return Units2025(by_code, by_village, tuple(dict.fromkeys(order)))
