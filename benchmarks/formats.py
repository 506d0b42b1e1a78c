"""Benchmark file formats (one parser per format) and the independent solution checkers.

Formats
-------
* Cordeau PVRP instances (type 1) and their ``.res`` solutions
  (see ``../shared/benchmarks/pvrp/SOURCES.md``);
* TSPLIB-style CVRP / CVRPTW files: CVRPLIB X (``EUC_2D``, rounded) and LKH-3's Solomon
  files (``FLOOR_2D`` at ``SCALE``), plus their best-known-solution files (CVRPLIB ``.sol``
  and LKH-3 ``.tour``; see ``../shared/benchmarks/instances/SOURCES.md``).

Conventions: node 0 is the depot everywhere; PVRP days are 0-based in memory and
1-based in files; VRP distances, times and costs are integers in the file's scaled
unit (``scale`` = 10 for Solomon: tenths), divide by ``scale`` to report.
The checkers never trust a solver: they recompute every cost from the coordinates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Tolerance for float comparisons of PVRP durations (D is given with 0 decimals).
_EPS = 1e-6


# --------------------------------------------------------------------------- PVRP


@dataclass(frozen=True)
class PVRPInstance:
    """A periodic VRP instance in Cordeau's format; node 0 is the depot.

    ``combos[i]`` lists the allowed visit-day sets of customer ``i`` (0-based days);
    ``combos[0] == ()``. ``max_duration == 0`` means no route duration limit.
    """

    name: str
    n_vehicles: int
    n_days: int
    max_duration: float
    capacity: int
    xy: np.ndarray
    service: np.ndarray
    demand: np.ndarray
    frequency: np.ndarray
    combos: tuple[tuple[frozenset[int], ...], ...]
    notes: tuple[str, ...] = ()

    @property
    def n_customers(self) -> int:
        return len(self.demand) - 1

    def distance_matrix(self) -> np.ndarray:
        """Unrounded Euclidean distances (the convention of the reference costs)."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        return np.hypot(diff[..., 0], diff[..., 1])


def decode_combo(code: int, n_days: int) -> frozenset[int]:
    """Cordeau's day bitmask: binary, left-padded to ``n_days`` digits, left digit = day 1.

    >>> sorted(decode_combo(5, 5))  # 00101: days 3 and 5 (0-based 2 and 4)
    [2, 4]
    """
    return frozenset(d for d in range(n_days) if code >> (n_days - 1 - d) & 1)


def encode_combo(days: frozenset[int] | set[int], n_days: int) -> int:
    return sum(1 << (n_days - 1 - d) for d in days)


def parse_pvrp(path: str | Path) -> PVRPInstance:
    """Read a Cordeau type-1 (PVRP) instance.

    Known anomaly fixed with a note: a customer whose frequency ``f`` differs from the
    (common) size of its allowed combinations takes that size (p11, customer 131,
    ``f = 0`` with five single-day combinations, is visited once in the reference).
    """
    path = Path(path)
    tokens = path.read_text().split()
    pos = 0

    def take(k: int) -> list[str]:
        nonlocal pos
        if pos + k > len(tokens):
            raise ValueError(f"{path.name}: file ends early (wanted {k} more numbers at token {pos})")
        out = tokens[pos : pos + k]
        pos += k
        return out

    kind, m, n, t = (int(x) for x in take(4))
    if kind != 1:
        raise ValueError(f"{path.name}: problem type {kind} is not 1 (PVRP)")
    limits = [(float(a), int(float(b))) for a, b in (take(2) for _ in range(t))]
    if len(set(limits)) != 1:
        raise ValueError(f"{path.name}: per-day limits differ {sorted(set(limits))}; only equal days are supported")
    max_duration, capacity = limits[0]
    xy = np.zeros((n + 1, 2))
    service = np.zeros(n + 1)
    demand = np.zeros(n + 1, dtype=np.int64)
    freq = np.zeros(n + 1, dtype=np.int64)
    combos: list[tuple[frozenset[int], ...]] = []
    notes: list[str] = []
    for row in range(n + 1):
        i, x, y, d, q, f, a = take(7)
        if int(i) != row:
            raise ValueError(f"{path.name}: node line {row + 1} has id {i}, expected {row}")
        a_int = int(a)
        codes = [int(c) for c in take(a_int)]
        xy[row] = float(x), float(y)
        service[row] = float(d)
        demand[row] = int(float(q))
        sets = tuple(decode_combo(c, t) for c in codes)
        f_int = int(f)
        sizes = {len(s) for s in sets}
        if row > 0 and sets and sizes != {f_int}:
            if len(sizes) == 1:
                notes.append(
                    f"customer {row}: frequency {f_int} but its combinations have {sizes.pop()} day(s); "
                    "using the combination size (as the reference solution does)"
                )
                f_int = len(sets[0])
            else:
                raise ValueError(f"{path.name}: customer {row}: combinations of mixed sizes {sorted(sizes)}")
        if any(c >= 1 << t or c <= 0 for c in codes):
            raise ValueError(f"{path.name}: customer {row}: combination outside 1..2^{t}-1 in {codes}")
        freq[row] = f_int
        combos.append(sets)
    if demand.max() > capacity:
        worst = int(np.argmax(demand))
        raise ValueError(f"{path.name}: customer {worst}: demand {demand[worst]} exceeds capacity {capacity}")
    return PVRPInstance(
        name=path.name,
        n_vehicles=m,
        n_days=t,
        max_duration=max_duration,
        capacity=capacity,
        xy=xy,
        service=service,
        demand=demand,
        frequency=freq,
        combos=tuple(combos),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class PVRPRoute:
    day: int  # 0-based
    vehicle: int  # 1-based, as in the files
    customers: tuple[int, ...]


@dataclass(frozen=True)
class PVRPSolution:
    cost: float  # as stated (line 1 of a .res file) or as computed by the solver
    routes: tuple[PVRPRoute, ...]


def parse_pvrp_solution(path: str | Path) -> PVRPSolution:
    """Read a ``.res`` file: line 1 total cost, then ``day vehicle duration load 0 c1 .. 0``."""
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{path.name}: empty solution file")
    cost = float(lines[0][0])
    routes = []
    for k, parts in enumerate(lines[1:], start=2):
        if len(parts) < 6:
            raise ValueError(f"{path.name}: line {k}: expected 'day vehicle duration load 0 ... 0'")
        day, veh = int(parts[0]), int(parts[1])
        nodes = [int(x) for x in parts[4:]]
        if nodes[0] != 0 or nodes[-1] != 0:
            raise ValueError(f"{path.name}: line {k}: route must start and end at depot 0")
        routes.append(PVRPRoute(day=day - 1, vehicle=veh, customers=tuple(nodes[1:-1])))
    return PVRPSolution(cost=cost, routes=tuple(routes))


def route_stats(
    inst: PVRPInstance, dist: np.ndarray, customers: tuple[int, ...] | list[int]
) -> tuple[float, float, int]:
    """(travel distance, duration = travel + service, load) of one route."""
    nodes = [0, *customers, 0]
    travel = float(sum(dist[a, b] for a, b in zip(nodes[:-1], nodes[1:], strict=False)))
    duration = travel + float(sum(inst.service[c] for c in customers))
    load = int(sum(int(inst.demand[c]) for c in customers))
    return travel, duration, load


def format_pvrp_solution(inst: PVRPInstance, sol: PVRPSolution) -> str:
    """The ``.res`` text of ``sol`` (cost recomputed from the routes; empty routes skipped)."""
    dist = inst.distance_matrix()
    lines = []
    total = 0.0
    for r in sorted(sol.routes, key=lambda r: (r.day, r.vehicle)):
        if not r.customers:
            continue
        travel, duration, load = route_stats(inst, dist, r.customers)
        total += travel
        body = " ".join(str(c) for c in (0, *r.customers, 0))
        lines.append(f"{r.day + 1} {r.vehicle} {duration:10.2f} {load:6d}   {body}")
    return "\n".join([f"{total:.2f}", *lines]) + "\n"


@dataclass(frozen=True)
class CheckReport:
    """What a checker found: recomputed ``cost``, every ``violations`` message, ``notes``."""

    cost: float
    violations: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def feasible(self) -> bool:
        return not self.violations


def _complete_depot_customers(inst: PVRPInstance, sol: PVRPSolution) -> tuple[PVRPSolution, list[str]]:
    """Add zero-cost routes ``0 c 0`` for unlisted customers located at the depot.

    Reference files omit such customers (p01, customer 51: demand = Q at the depot). They
    cost nothing, so the listing is complete if a free vehicle exists on each day of one
    of their combinations; the added routes are reported as notes, never silently.
    """
    listed = {c for r in sol.routes for c in r.customers}
    routes = [r for r in sol.routes if r.customers]
    notes = []
    for c in range(1, inst.n_customers + 1):
        if c in listed or not inst.combos[c] or not np.allclose(inst.xy[c], inst.xy[0]):
            continue
        for combo in inst.combos[c]:
            free = {}
            for d in sorted(combo):
                taken = {r.vehicle for r in routes if r.day == d}
                spare = [v for v in range(1, inst.n_vehicles + 1) if v not in taken]
                if not spare:
                    break
                free[d] = spare[0]
            else:
                routes += [PVRPRoute(day=d, vehicle=v, customers=(c,)) for d, v in free.items()]
                days = sorted(d + 1 for d in combo)
                notes.append(
                    f"customer {c} (at the depot, not listed) served at zero cost by a free vehicle on day(s) {days}"
                )
                break
    return PVRPSolution(cost=sol.cost, routes=tuple(routes)), notes


def check_pvrp(inst: PVRPInstance, sol: PVRPSolution) -> CheckReport:
    """Recompute the cost of ``sol`` and list every violated rule (none = feasible).

    Rules: each customer is visited on exactly one of its allowed day combinations and
    at most once per day; per route load <= Q and (when D > 0) travel + service <= D;
    at most m non-empty routes per day, vehicle numbers 1..m and distinct per day.
    Customers located at the depot and not listed are completed first (see notes).
    """
    dist = inst.distance_matrix()
    n, t, m = inst.n_customers, inst.n_days, inst.n_vehicles
    sol, notes = _complete_depot_customers(inst, sol)
    problems: list[str] = []
    total = 0.0
    days_of: dict[int, list[int]] = {}
    used: dict[int, list[int]] = {}
    for r in sol.routes:
        if not r.customers:
            continue
        label = f"day {r.day + 1} vehicle {r.vehicle}"
        if not 0 <= r.day < t:
            problems.append(f"{label}: day outside 1..{t}")
        if not 1 <= r.vehicle <= m:
            problems.append(f"{label}: vehicle number outside 1..{m}")
        used.setdefault(r.day, []).append(r.vehicle)
        bad = [c for c in r.customers if not 1 <= c <= n]
        if bad:
            problems.append(f"{label}: unknown customer(s) {bad}")
            continue
        travel, duration, load = route_stats(inst, dist, r.customers)
        total += travel
        if load > inst.capacity:
            problems.append(f"{label}: load {load} exceeds capacity {inst.capacity}")
        if inst.max_duration > 0 and duration > inst.max_duration + _EPS:
            problems.append(f"{label}: duration {duration:.2f} exceeds limit {inst.max_duration:g}")
        for c in r.customers:
            days_of.setdefault(c, []).append(r.day)
    for day, vehicles in sorted(used.items()):
        if len(vehicles) > m:
            problems.append(f"day {day + 1}: {len(vehicles)} routes but only {m} vehicles")
        dup = sorted({v for v in vehicles if vehicles.count(v) > 1})
        if dup:
            problems.append(f"day {day + 1}: vehicle(s) {dup} used on two routes")
    for c in range(1, n + 1):
        days = days_of.get(c, [])
        if not inst.combos[c]:
            if days:
                problems.append(f"customer {c}: visited but has no allowed combination")
            continue
        if len(days) != len(set(days)):
            problems.append(f"customer {c}: visited twice on one day ({sorted(d + 1 for d in days)})")
        if frozenset(days) not in inst.combos[c]:
            shown = sorted(d + 1 for d in set(days))
            problems.append(f"customer {c}: visit days {shown} are not an allowed combination")
    return CheckReport(cost=total, violations=tuple(problems), notes=tuple(notes))


# --------------------------------------------------------------------------- VRP / VRPTW


@dataclass(frozen=True)
class VRPInstance:
    """A CVRP or CVRPTW instance with an integer distance matrix (travel time = distance).

    ``windows`` is ``None`` for CVRP; otherwise ``(n+1, 2)`` start-of-service windows in
    the same scaled unit as the matrix; ``service`` likewise.
    """

    name: str
    dist: np.ndarray
    demand: np.ndarray
    capacity: int
    n_vehicles: int
    service: np.ndarray
    windows: np.ndarray | None
    scale: int = 1
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def n_customers(self) -> int:
        return len(self.demand) - 1


def _tsplib_sections(path: Path) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("SECTION"):
            current = line
            sections[current] = []
        elif re.match(r"^[A-Z_]+\s*:", line):
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
            current = None
        elif current is not None:
            sections[current].append(line.split())
    return header, sections


def parse_tsplib_vrp(path: str | Path, n_vehicles: int | None = None) -> VRPInstance:
    """Read a CVRPLIB ``.vrp`` (``EUC_2D``: rounded) or LKH-3 ``.vrptw`` (``FLOOR_2D`` at ``SCALE``).

    The fleet defaults to the benchmark convention: 25 for Solomon (VRPTW) files,
    ``k + max(2, ceil(k / 4))`` for CVRP files named ``...-k<k>``.
    """
    path = Path(path)
    header, sec = _tsplib_sections(path)
    n = int(header["DIMENSION"])
    scale = int(header.get("SCALE", "1"))
    kind = header.get("EDGE_WEIGHT_TYPE", "EUC_2D")
    coords = np.array([[float(v) for v in row[1:3]] for row in sec["NODE_COORD_SECTION"]])
    ids = [int(row[0]) for row in sec["NODE_COORD_SECTION"]]
    if ids != list(range(1, n + 1)) or len(coords) != n:
        raise ValueError(f"{path.name}: NODE_COORD_SECTION must list nodes 1..{n} in order")
    depots = [int(row[0]) for row in sec.get("DEPOT_SECTION", [["1"]]) if int(row[0]) != -1]
    if depots != [1]:
        raise ValueError(f"{path.name}: only a single depot at node 1 is supported (got {depots})")
    diff = coords[:, None, :] - coords[None, :, :]
    exact = np.hypot(diff[..., 0], diff[..., 1])
    if kind == "EUC_2D":
        dist = np.floor(exact * scale + 0.5).astype(np.int64)
    elif kind == "FLOOR_2D":
        dist = np.floor(exact * scale + 1e-9).astype(np.int64)
    else:
        raise ValueError(f"{path.name}: EDGE_WEIGHT_TYPE {kind} not supported (EUC_2D, FLOOR_2D)")
    demand = np.array([int(row[1]) for row in sec["DEMAND_SECTION"]], dtype=np.int64)
    service = np.zeros(n, dtype=np.int64)
    if "SERVICE_TIME" in header:
        service[1:] = round(float(header["SERVICE_TIME"]) * scale)
    windows = None
    if "TIME_WINDOW_SECTION" in sec:
        windows = np.array(
            [[round(float(r[1]) * scale), round(float(r[2]) * scale)] for r in sec["TIME_WINDOW_SECTION"]]
        )
    if n_vehicles is None:
        if windows is not None:
            n_vehicles = 25
        else:
            k_match = re.search(r"-k(\d+)", path.stem)
            if not k_match:
                raise ValueError(f"{path.name}: give n_vehicles (no '-k<k>' in the name)")
            k = int(k_match.group(1))
            n_vehicles = k + max(2, math.ceil(k / 4))
    return VRPInstance(
        name=path.name.split(".")[0],
        dist=dist,
        demand=demand,
        capacity=int(header["CAPACITY"]),
        n_vehicles=n_vehicles,
        service=service,
        windows=windows,
        scale=scale,
        meta={"edge_weight_type": kind, "path": str(path)},
    )


def parse_cvrplib_sol(path: str | Path) -> tuple[list[list[int]], int]:
    """CVRPLIB ``.sol``: ``Route #k: c1 c2 ...`` (customers 1..n) and ``Cost N``."""
    routes, cost = [], None
    for line in Path(path).read_text().splitlines():
        if line.startswith("Route"):
            routes.append([int(x) for x in line.split(":", 1)[1].split()])
        elif line.lower().startswith("cost"):
            cost = int(float(line.split()[1]))
    if cost is None:
        raise ValueError(f"{path}: no 'Cost' line")
    return routes, cost


def parse_lkh_tour(path: str | Path, n_customers: int) -> tuple[list[list[int]], int]:
    """LKH-3 CVRPTW giant tour: node 1 and nodes > n+1 are depot copies; cost from COMMENT."""
    text = Path(path).read_text()
    m = re.search(r"Cost\s*=\s*(\d+)_(\d+)", text)
    if not m:
        raise ValueError(f"{path}: no 'Cost = <a>_<b>' comment")
    cost = int(m.group(2))
    body = text.split("TOUR_SECTION", 1)[1].split()
    routes: list[list[int]] = [[]]
    for tok in body:
        node = int(tok)
        if node == -1:
            break
        if node == 1 or node > n_customers + 1:
            routes.append([])
        else:
            routes[-1].append(node - 1)
    return [r for r in routes if r], cost


def check_vrp(inst: VRPInstance, routes: list[list[int]]) -> CheckReport:
    """Recompute the (scaled integer) cost of ``routes`` and list every violated rule.

    Rules: every customer exactly once; at most ``n_vehicles`` non-empty routes; load
    <= capacity; with windows: start of service = max(arrival, window start) <= window
    end, and the return to the depot <= the depot's window end.
    """
    n = inst.n_customers
    problems: list[str] = []
    total = 0
    seen: dict[int, int] = {}
    routes = [list(r) for r in routes if r]
    if len(routes) > inst.n_vehicles:
        problems.append(f"{len(routes)} routes but only {inst.n_vehicles} vehicles")
    for k, r in enumerate(routes, start=1):
        bad = [c for c in r if not 1 <= c <= n]
        if bad:
            problems.append(f"route {k}: unknown customer(s) {bad}")
            continue
        nodes = [0, *r, 0]
        total += int(sum(int(inst.dist[a, b]) for a, b in zip(nodes[:-1], nodes[1:], strict=False)))
        load = int(inst.demand[r].sum())
        if load > inst.capacity:
            problems.append(f"route {k}: load {load} exceeds capacity {inst.capacity}")
        for c in r:
            seen[c] = seen.get(c, 0) + 1
        if inst.windows is not None:
            t = int(inst.windows[0, 0])
            for a, b in zip(nodes[:-1], nodes[1:], strict=False):
                t += int(inst.service[a]) + int(inst.dist[a, b])
                if b == 0:
                    if t > inst.windows[0, 1]:
                        problems.append(
                            f"route {k}: returns to the depot at {t} after its closing {inst.windows[0, 1]}"
                        )
                    break
                t = max(t, int(inst.windows[b, 0]))
                if t > inst.windows[b, 1]:
                    problems.append(f"route {k}: customer {b} served at {t} after its window end {inst.windows[b, 1]}")
    missing = [c for c in range(1, n + 1) if c not in seen]
    if missing:
        problems.append(f"{len(missing)} customer(s) not visited, e.g. {missing[:5]}")
    twice = sorted(c for c, k in seen.items() if k > 1)
    if twice:
        problems.append(f"customer(s) visited more than once: {twice[:5]}")
    return CheckReport(cost=total, violations=tuple(problems))
