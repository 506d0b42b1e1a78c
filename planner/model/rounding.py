"""Whole numbers that keep a total: the largest-remainder rule."""

from __future__ import annotations

import numpy as np


def largest_remainder(weights, total: int) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly.

    Each gets the floor of its share; the units left go to the largest fractional parts,
    ties to the earlier one. ``largest_remainder([3, 1], 1001)`` -> ``[751, 250]``.
    """
    w = np.asarray(weights, dtype=float)
    raw = w / w.sum() * total
    base = np.floor(raw).astype(int)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[: total - int(base.sum())]:
        base[i] += 1
    return [int(b) for b in base]
