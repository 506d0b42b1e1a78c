"""The routing kernel's input: a generic, validated, read-only routing model.

Every planning job of the product (the district's weekly and multi-week plans,
the periodic-VRP benchmark, the VRPTW/CVRP benchmarks) is expressed as one or
more :class:`RoutingModel` objects and solved by :func:`planner.engine.kernel.solve`.

Conventions (stated once): node indices are 0-based rows of the matrices; times
are integer seconds (``_s``) from the start of the horizon; distances integer
metres (``_m``); an arc whose time is ``>= UNREACHABLE`` can never be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.model.matrices import UNREACHABLE as UNREACHABLE  # arcs with this time/distance are never driven

#: Penalty value meaning "this node must be visited".
MANDATORY = -1


@dataclass(frozen=True)
class Break:
    """A break the crew must take, e.g. lunch: starts in [start_min_s, start_max_s]."""

    start_min_s: int
    start_max_s: int
    duration_s: int


@dataclass(frozen=True)
class VehicleSpec:
    """One route of the kernel (for the district: one vehicle over one week)."""

    start: int
    end: int
    capacity: int = 10**9
    profile: int = 0
    tw_start_s: int = 0
    tw_end_s: int | None = None
    max_duration_s: int | None = None
    max_distance_m: int | None = None
    fixed_cost: int = 0
    breaks: tuple[Break, ...] = ()
    name: str = ""
    max_driving_per_day_s: int | None = None  # driving (not service) between two overnight stops
    #: Per day of the :class:`DaySchedule`, the interval (absolute seconds) in which this vehicle
    #: serves: a visit starts at or after ``lo`` and ends by ``hi``; ``None`` = the vehicle does not
    #: work that day. ``None`` for the whole tuple: no rule beyond the node windows.
    day_windows: tuple[tuple[int, int] | None, ...] | None = None


@dataclass(frozen=True)
class NodeGroup:
    """At most ``max_cardinality`` of ``nodes`` are visited; each missing one costs ``penalty``.

    A penalty of :data:`MANDATORY` makes exactly ``max_cardinality`` visits required.
    """

    nodes: tuple[int, ...]
    penalty: int
    max_cardinality: int = 1


@dataclass(frozen=True)
class Precedence:
    """If both are visited: visit of ``after`` starts at least ``min_gap_s`` after ``before``."""

    before: int
    after: int
    min_gap_s: int = 0


@dataclass(frozen=True)
class DaySchedule:
    """Working days inside the horizon, so that routes cross nights only where allowed.

    Each route carries a day counter that only ``step`` nodes (overnight stops) advance;
    a node with a ``shift`` must be served within that window of the day the counter
    points at: ``offsets_s[day] + shift[0] <= start <= offsets_s[day] + shift[1]``.
    A route can therefore never wait or drive through a night except at a step node.
    """

    offsets_s: tuple[int, ...]  # start (00:00) of each working day, in seconds from the horizon start
    step: tuple[int, ...]  # per node: day counter increment after visiting it (1 at an overnight stop)
    shift: tuple[tuple[int, int] | None, ...]  # per node: allowed start of service within its day
    fixed_day: tuple[int | None, ...]  # per node: the day it must be visited on (overnight stops)


@dataclass(frozen=True)
class RoutingModel:
    """A rich VRP: time windows (several per node), capacity, optional nodes, breaks.

    Parameters
    ----------
    time_s, dist_m
        One square integer matrix per vehicle profile (read-only copies are kept).
    service_s, demand
        Per node.
    windows
        Per node, a tuple of allowed ``(start_s, end_s)`` intervals for the start of
        service (inclusive); an empty tuple means the whole horizon.
    penalty
        Per node: cost of not visiting it (``MANDATORY`` = must be visited). Depot
        and start/end nodes are ignored. Nodes listed in a :class:`NodeGroup` take the
        group's penalty instead.
    max_wait_s
        Per node, the longest wait allowed after it before leaving (``None`` = horizon).
    arc_cost
        ``"distance"`` or ``"time"``: what the objective counts per arc.
    """

    time_s: tuple[np.ndarray, ...]
    dist_m: tuple[np.ndarray, ...]
    service_s: np.ndarray
    demand: np.ndarray
    windows: tuple[tuple[tuple[int, int], ...], ...]
    penalty: np.ndarray
    vehicles: tuple[VehicleSpec, ...]
    horizon_s: int
    groups: tuple[NodeGroup, ...] = ()
    precedences: tuple[Precedence, ...] = ()
    allowed_vehicles: tuple[tuple[int, ...] | None, ...] | None = None
    max_wait_s: tuple[int | None, ...] | None = None
    arc_cost: str = "distance"
    names: tuple[str, ...] | None = None
    span_cost_per_s: int = 0
    visit_cost: np.ndarray | None = None  # per node, added to the cost of every arc entering it
    days: DaySchedule | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        n = len(self.service_s)
        for label, mats in (("time_s", self.time_s), ("dist_m", self.dist_m)):
            if not mats:
                problems.append(f"{label}: at least one matrix is required")
            for p, m in enumerate(mats):
                if m.shape != (n, n):
                    problems.append(f"{label}[{p}]: shape {m.shape}, expected {(n, n)}")
                elif (np.asarray(m) < 0).any():
                    problems.append(f"{label}[{p}]: negative entries")
        for label, arr in (("demand", self.demand), ("penalty", self.penalty)):
            if len(arr) != n:
                problems.append(f"{label}: length {len(arr)}, expected {n}")
        if len(self.windows) != n:
            problems.append(f"windows: length {len(self.windows)}, expected {n}")
        else:
            for i, ws in enumerate(self.windows):
                for a, b in ws:
                    if a > b or a < 0 or b > self.horizon_s:
                        problems.append(f"windows[{i}]: bad interval ({a}, {b}) for horizon {self.horizon_s}")
        for v, veh in enumerate(self.vehicles):
            for label, idx in (("start", veh.start), ("end", veh.end)):
                if not 0 <= idx < n:
                    problems.append(f"vehicle {v} ({veh.name}): {label} node {idx} out of range")
            if veh.profile >= len(self.time_s):
                problems.append(f"vehicle {v} ({veh.name}): profile {veh.profile} has no matrix")
        for g in self.groups:
            if any(not 0 <= i < n for i in g.nodes):
                problems.append(f"group {g.nodes}: node out of range")
        if self.allowed_vehicles is not None and len(self.allowed_vehicles) != n:
            problems.append("allowed_vehicles: length differs from node count")
        if self.max_wait_s is not None and len(self.max_wait_s) != n:
            problems.append("max_wait_s: length differs from node count")
        if self.arc_cost not in ("distance", "time"):
            problems.append(f"arc_cost: {self.arc_cost!r} is not 'distance' or 'time'")
        if problems:
            raise ValueError("invalid routing model:\n  " + "\n  ".join(problems))
        for mats in (self.time_s, self.dist_m):
            for m in mats:
                m.setflags(write=False)
        for arr in (self.service_s, self.demand, self.penalty):
            arr.setflags(write=False)

    @property
    def n_nodes(self) -> int:
        return len(self.service_s)


@dataclass(frozen=True)
class Visit:
    """One node on a solved route: start of service ``start_s`` (after any wait)."""

    node: int
    start_s: int
    load: int = 0


@dataclass(frozen=True)
class Route:
    vehicle: int
    visits: tuple[Visit, ...]  # includes start and end nodes
    breaks: tuple[tuple[int, int], ...] = ()  # (start_s, duration_s) of breaks taken
    distance_m: int = 0
    duration_s: int = 0


@dataclass(frozen=True)
class KernelResult:
    status: str  # "optimal", "feasible", "no_solution", "timeout_no_solution"
    routes: tuple[Route, ...]
    dropped: tuple[int, ...]
    objective: int
    solve_time_s: float
    backend: str
    history: tuple[tuple[float, int], ...] = ()  # (seconds, objective) of improving solutions
    #: What ended the search, as the solver reports it: "work_budget" (``max_iterations``),
    #: "time_limit", "search_ended" (the search finished by itself) or "no_search".
    stopped_by: str = "search_ended"
