"""The PVRP command on an instance file of Cordeau's format that is not shipped (written here)."""

from __future__ import annotations

import re

import numpy as np

from benchmarks import pvrp
from benchmarks.formats import check_pvrp, parse_pvrp, parse_pvrp_solution


def write_instance(path, n=12, t=4, m=2, seed=5):
    """A type-1 (PVRP) file: header `type m n t`, t lines `D Q`, depot, then customers
    `i x y d q f a combos...`; combinations are day bitmasks written in binary with the left
    digit = day 1 (with t = 4: 8 = day 1 ... 1 = day 4; 10 = 1010 = days 1 and 3)."""
    rng = np.random.default_rng(seed)
    lines = [f"1 {m} {n} {t}"] + ["0 100"] * t + [" 0 50 50 0 0 0 0"]
    for i in range(1, n + 1):
        x, y = rng.integers(0, 100, size=2)
        q = int(rng.integers(5, 25))
        f = int(rng.choice([1, 2]))
        if f == 1:
            combos = [1, 2, 4, 8]  # any single day
        else:
            combos = [10, 5]  # days {1,3} or {2,4}
        lines.append(f"{i} {x} {y} 0 {q} {f} {len(combos)} " + " ".join(map(str, combos)))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_unshipped_instance_solves_checks_and_round_trips(tmp_path, capsys):
    inst = write_instance(tmp_path / "syn01")
    out = tmp_path / "syn01.res"
    code = pvrp.main([str(inst), "--time-limit", "5", "--write-solution", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert re.search(r"(?<!in)feasible", printed.lower()) and "infeasible" not in printed.lower()
    assert out.is_file() and out.read_text().strip()
    # the written .res reads back and passes the independent checker
    report = check_pvrp(parse_pvrp(inst), parse_pvrp_solution(out))
    assert report.feasible, report
