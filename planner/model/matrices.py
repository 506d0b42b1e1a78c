"""Travel matrices between stops: plain, read-only arrays (seconds and metres).

Row and column ``i`` of every matrix is stop ``stop_ids[i]`` (villages first, then sites).
A pair with no path holds :data:`UNREACHABLE`, never a silent infinity or zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

UNREACHABLE = 10**9
"""Sentinel time (s) and distance (m) of a pair that has no path."""


class LegGeometry(Protocol):
    """Draws the road geometry of one leg on demand (only for the legs a plan uses)."""

    def path_lonlat(self, a: int, b: int) -> list[tuple[float, float]]: ...


@dataclass(frozen=True)
class Matrices:
    """Travel between stops for one profile; ``stop_ids[i]`` is row/column i."""

    profile: str
    stop_ids: tuple[str, ...]
    time_s: np.ndarray  # int64; UNREACHABLE where no path
    dist_m: np.ndarray  # int64; UNREACHABLE where no path
    connector_m: np.ndarray  # off-road distance of each stop to the network (nan = not joined)
    unreachable: tuple[tuple[str, str], ...]  # (from, to) pairs without a path
    geometry: LegGeometry | None = field(repr=False, compare=False, default=None)
    _pos: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for arr in (self.time_s, self.dist_m, self.connector_m):
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False
        object.__setattr__(self, "_pos", {sid: k for k, sid in enumerate(self.stop_ids)})

    @classmethod
    def from_arrays(
        cls,
        stop_ids,
        time_s,
        dist_m,
        *,
        profile: str = "van",
        connector_m=None,
    ) -> Matrices:
        """Matrices from plain square arrays (``None``/``inf``/negative entries mean no path)."""
        ids = tuple(str(s) for s in stop_ids)
        n = len(ids)

        def fix(a) -> np.ndarray:
            x = np.array(a, dtype=float).reshape(n, n)
            bad = ~np.isfinite(x) | (x < 0) | (x >= UNREACHABLE)
            out = np.where(bad, UNREACHABLE, np.rint(np.where(bad, 0, x))).astype(np.int64)
            np.fill_diagonal(out, 0)
            return out

        t, d = fix(time_s), fix(dist_m)
        bad_pairs = tuple((ids[a], ids[b]) for a, b in zip(*np.nonzero(t >= UNREACHABLE)))
        conn = np.zeros(n) if connector_m is None else np.asarray(connector_m, dtype=float)
        return cls(profile=profile, stop_ids=ids, time_s=t, dist_m=d, connector_m=conn, unreachable=bad_pairs)

    def index(self, stop_id: str) -> int:
        """Row of ``stop_id`` in the matrices (KeyError if it is not a stop)."""
        return self._pos[stop_id]

    def reachable(self, a: int, b: int) -> bool:
        return bool(self.time_s[a, b] < UNREACHABLE)

    def path_lonlat(self, a: int, b: int) -> list[tuple[float, float]]:
        """The road geometry from stop ``a`` to stop ``b`` as ``[lon, lat]`` points (empty if unknown)."""
        if not self.reachable(a, b):
            raise ValueError(f"no path from {self.stop_ids[a]} to {self.stop_ids[b]} for profile {self.profile}")
        if self.geometry is None:
            return []
        return self.geometry.path_lonlat(a, b)
