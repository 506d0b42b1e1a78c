"""``planner check``: list every problem of the input files."""

from __future__ import annotations

import argparse
from pathlib import Path

from planner.io import DEFAULT_DATA_DIR, check, find_layers, format_report, load_area
from planner.io.validate import DEFAULT_MAX_OFFROAD_M, LAYERS
from planner.model.config import load_config
from planner.model.errors import InputError
from planner.planning.calibrate import DEFAULT_TOLERANCE_PCT, TRAVEL_TIMES_FILE, check_travel_times, read_travel_times


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of ``planner check`` (pass a subparser to add them to it)."""
    p = parser or argparse.ArgumentParser(
        prog="planner check",
        description="Check input files; exit 0 if they can be planned (warnings allowed), 2 if not.",
    )
    p.add_argument(
        "data_dir",
        nargs="?",
        default=None,
        help="folder with villages/sites/roads/communes files (default: the shipped data)",
    )
    for kind in LAYERS:
        p.add_argument(f"--{kind}", metavar="FILE", help=f"{kind} file (overrides the one in DATA_DIR)")
    p.add_argument(
        "--max-offroad-m",
        type=float,
        default=DEFAULT_MAX_OFFROAD_M,
        help="warn for villages farther than this from any road (default %(default)s)",
    )
    p.add_argument(
        "--tolerance-pct",
        type=float,
        default=DEFAULT_TOLERANCE_PCT,
        help="report travel_times.csv pairs the model gets wrong by more than this (default %(default)s %%)",
    )
    return p


def _travel_times(base: Path, tolerance_pct: float, errors: list, warnings: list) -> tuple[list, list]:
    """Compare ``base/travel_times.csv`` with the modelled times (default config's van); add its problems."""
    path = Path(base) / TRAVEL_TIMES_FILE
    if not path.is_file():
        return errors, warnings
    try:
        area = load_area(base)
        pairs = read_travel_times(path, area)
    except InputError as exc:
        return errors + [p for p in exc.problems if p.severity == "error"], warnings
    profile = load_config(None).profile("van")
    return errors, warnings + check_travel_times(area, profile, pairs, tolerance_pct)


def main_check(argv: list[str] | None = None) -> int:
    """``planner check``: print every problem grouped by file; 0 when clean (warnings allowed), 2 on bad input."""

    args = build_parser().parse_args(argv)
    base = (
        Path(args.data_dir) if args.data_dir else (None if any(getattr(args, k) for k in LAYERS) else DEFAULT_DATA_DIR)
    )
    try:
        paths = find_layers(base) if base is not None else {}
    except InputError as exc:
        print(format_report(exc.problems, []))
        return InputError.exit_code
    for kind in LAYERS:
        if getattr(args, kind):
            paths[kind] = Path(getattr(args, kind))
    errors, warnings = check(paths, max_offroad_m=args.max_offroad_m)
    if base is not None and not errors:  # issue 10: measured driving times, when the folder has them
        errors, warnings = _travel_times(base, args.tolerance_pct, errors, warnings)
    print(format_report(errors, warnings))
    return InputError.exit_code if errors else 0
