"""``planner calibrate``: fit road speeds to measured driving times and write the calibrated roads file."""

from __future__ import annotations

import argparse
from pathlib import Path

from planner.io import DEFAULT_DATA_DIR, find_layers, load_area
from planner.model.config import load_config
from planner.model.errors import InputError, Problem
from planner.planning.calibrate import fit_speeds, read_travel_times, write_calibrated_roads

DEFAULT_OUT = Path("outputs") / "roads_calibrated.geojson"


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of ``planner calibrate`` (pass a subparser to add them to it)."""
    p = parser or argparse.ArgumentParser(
        prog="planner calibrate",
        description="Fit road speeds to measured driving times; print fitted vs measured for every pair.",
    )
    p.add_argument(
        "travel_times", nargs="?", type=Path, default=None, help="CSV: from,to,minutes (default: DATA/travel_times.csv)"
    )
    p.add_argument("--data", type=Path, default=None, help="data folder (default: the shipped data)")
    p.add_argument("--config", type=Path, default=None, help="TOML file with the vehicle profiles")
    p.add_argument("--profile", default="van", help="vehicle profile whose speeds are fitted (default: van)")
    p.add_argument(
        "--season", choices=("dry", "rainy"), default=None, help="season of the measurements (default: the config's)"
    )
    p.add_argument(
        "--by", choices=("class", "road"), default="class", help="one multiplier per road class (default) or per road"
    )
    p.add_argument("--out", type=Path, default=None, help=f"calibrated roads file (default: {DEFAULT_OUT})")
    p.add_argument("--in-place", action="store_true", help="replace the data folder's roads file (GeoJSON only)")
    return p


def main_calibrate(argv: list[str] | None = None) -> int:
    """Run the fit; print the table; write the roads file. 0 on success, 2 on bad input."""
    args = build_parser().parse_args(argv)
    data = args.data or DEFAULT_DATA_DIR
    try:
        roads_path = find_layers(data)["roads"]
        if roads_path.suffix.lower() not in (".geojson", ".json"):
            raise InputError([Problem(str(roads_path), "file", "-", None, "calibrate writes GeoJSON roads only")])
        times = args.travel_times or Path(data) / "travel_times.csv"
        if not times.is_file():
            raise InputError([Problem(str(times), "file", "-", None, "travel times file not found")])
        area = load_area(data)
        overrides = {"plan": {"season": args.season}} if args.season else None
        config = load_config(args.config, overrides)
        if args.profile not in config.profiles:
            raise InputError(
                [Problem("config", "[profiles]", "profile", args.profile, f"one of {sorted(config.profiles)}")]
            )
        pairs = read_travel_times(times, area)
        fit = fit_speeds(area, config.profile(args.profile), pairs, by=args.by)
    except InputError as exc:
        print(f"error: {exc}")
        return InputError.exit_code
    out = roads_path if args.in_place else (args.out or DEFAULT_OUT)
    print(f"{'from':<28} {'to':<28} {'measured':>8} {'before':>8} {'fitted':>8} {'error':>7} {'error %':>7}")
    for p in fit.pairs:
        print(
            f"{p['from'][:28]:<28} {p['to'][:28]:<28} {p['measured_min']:>8.0f} {p['before_min']:>8.0f} "
            f"{p['fitted_min']:>8.0f} {p['error_min']:>+7.0f} {p['error_pct']:>+7.1f}"
        )
    print(
        f"RMS error: {fit.rmse_min('before_min'):.1f} min before, {fit.rmse_min():.1f} min fitted ({fit.rounds} rounds)"
    )
    changed = {k: m for k, m in fit.multipliers.items() if m != 1.0}
    print(
        f"speed multipliers by {fit.by}: " + (", ".join(f"{k} × {m:g}" for k, m in sorted(changed.items())) or "none")
    )
    write_calibrated_roads(roads_path, fit, out)
    print(f"calibrated roads written to {out} ({len(fit.road_speed_kph)} roads with a fitted speed_kph)")
    return 0
