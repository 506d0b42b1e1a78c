"""``planner import-osm FILE.osm.pbf --communes communes.geojson --out DIR``: a data folder from OSM."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from planner.io.osm_import import import_osm
from planner.model.errors import InputError, OutputExistsError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planner import-osm",
        description="Write villages, sites, roads and communes GeoJSON for the communes from an OSM extract.",
    )
    p.add_argument("pbf", type=Path, help="OpenStreetMap extract (.osm.pbf)")
    p.add_argument("--communes", type=Path, required=True, help="communes file (polygons with code and name)")
    p.add_argument("--out", type=Path, required=True, help="data folder to write (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    p.add_argument(
        "--depot", default=None, metavar="LON,LAT", help="position of the depot (default: a documented rule)"
    )
    return p


def main_import_osm(argv: list[str] | None = None) -> int:
    """Import; print the report. 0 on success, 2 on bad input, 4 if the folder exists."""
    args = build_parser().parse_args(argv)
    depot = None
    if args.depot:
        try:
            lon, lat = (float(x) for x in args.depot.split(","))
            depot = (lon, lat)
        except ValueError:
            print(f"error: --depot {args.depot!r}: expected LON,LAT in degrees")
            return InputError.exit_code
    try:
        report = import_osm(args.pbf, args.communes, args.out, force=args.force, depot_lonlat=depot)
    except (InputError, OutputExistsError) as exc:
        print(f"error: {exc}")
        return exc.exit_code
    print(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"data folder written to {args.out}; check it with: planner check {args.out}")
    return 0
