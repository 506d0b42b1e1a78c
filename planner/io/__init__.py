"""Reading input files: villages, sites, roads and communes, validated together.

The public entry points are re-exported here; see :mod:`planner.io.load` and
:mod:`planner.io.readers`.
"""

from planner.io.load import DEFAULT_DATA_DIR, FILES, check, find_layers, format_report, load_area, read_all
from planner.io.readers import read_communes, read_osm_places, read_roads, read_sites, read_villages

__all__ = [
    "DEFAULT_DATA_DIR",
    "FILES",
    "check",
    "find_layers",
    "format_report",
    "load_area",
    "read_all",
    "read_communes",
    "read_osm_places",
    "read_roads",
    "read_sites",
    "read_villages",
]
