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

from dataclasses import dataclass, field, replace

import geopandas as gpd

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
