"""``planner check``: list every problem of the input files."""

from __future__ import annotations

import argparse
from pathlib import Path

from planner.io import DEFAULT_DATA_DIR, check, find_layers, format_report
from planner.io.validate import DEFAULT_MAX_OFFROAD_M, LAYERS
from planner.model.errors import InputError


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
    return p


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
    print(format_report(errors, warnings))
    return InputError.exit_code if errors else 0
