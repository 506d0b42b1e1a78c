"""Periodic VRP (PVRP) on the routing kernel.

Each customer must be visited on every day of exactly one of its allowed day
combinations; every day is a CVRP (``n_vehicles`` routes from the depot, capacity,
optional route duration limit = travel + service). This is the shape of the district's
multi-week plan (which villages on which days), and of Cordeau's PVRP benchmark.

Method (the days are routed by :func:`planner.engine.kernel.solve`):

1. construction: customers by decreasing demand take the combination whose summed
   cheapest insertion into the day routes is lowest (load and duration excess penalised),
   then a steepest descent over single-customer combination changes;
2. whole-horizon kernel solve: one model with ``n_days * n_vehicles`` vehicles; day ``d`` is
   the time interval ``[d * span, (d + 1) * span)`` and its vehicles work inside it. A
   customer whose combinations are all single days is one node with no time window (the
   kernel picks its day; when only some days are allowed, ``allowed_vehicles`` restricts it);
   any other keeps its combination, one node per visit whose time window is its day. A visit
   on a wrong day is then late, which the kernel's local search (PyVRP) repairs through its
   time-warp penalty, on one routing profile. (Until 2026-12-01 pinned visits were
   forbidden on other days' vehicles through ``allowed_vehicles``, i.e. one routing profile
   per day with unreachable arcs; measured equal within noise on p05 and p12, and simpler.)
   The result is kept when feasible and cheaper;
3. when some customers have multi-day combinations, large neighbourhood search over
   combinations (remove k customers: random, related or worst; reinsert each, greedy or
   regret-2, with its cheapest combination; 2-opt the changed routes, then a descent
   between the routes of each changed day: move a customer to another route or swap two
   customers of two routes, 2-opting both; decaying record-to-record acceptance on the
   penalised cost; penalty weights adapt to hover near feasibility). The descent between
   routes was added on 2026-12-02: it makes each LNS iteration slower but the routes on
   which combinations are compared much closer to what the kernel makes of them (p05, p10,
   p12 at 60 s, 3 seeds: mean gap 1.46 % without it, 0.94 % with moves only, 0.75 % with
   swaps too; ``benchmarks/README.md``). It runs FIRST, from the construction, for 65 % of
   the time: its routes are still only local optima of these simple moves, so it compares
   combinations fairly only against routes of the same quality (run after a kernel solve it
   could not beat the polished routes and changed almost no combination). A walk whose own best has not improved for ``max(300, 10 n)``
   iterations restarts from a new construction (demands scaled by random factors in
   [0.5, 1.5]): on held-out instances the walks' local optima differ by up to 3 % between
   seeds, so several walks beat one long one. Then descent and a whole-horizon kernel solve
   (20 %), and descent again. (Until 2026-12-01 the LNS had 45 % and cycles of LNS +
   kernel solve ran until 70 %; on held-out p12 at 60 s the longer first phase was better.)
4. a final whole-horizon kernel solve with the time left.

Every whole-horizon solve is warm-started from the current routes when
``kernel.solve`` accepts ``initial_routes`` (the PyVRP backend does).

With ``workers = k`` the whole search runs ``k`` times at once in forked processes (seeds
``seed + j * 7919``) and the cheapest result is kept. The searches are independent during
the LNS phase (their walks' local optima differ much, so diversity pays there) and meet
twice (:class:`Exchange`, queues between the processes). After the LNS phase search ``j``
takes the ``j``-th best solution of all, so that the ``k`` best combinations found get a
kernel polish (the LNS cost of a combination predicts its polished cost only roughly);
after that polish every search takes the best solution of all, so that the final phase
runs ``k`` kernel solves with different seeds on it. With ``max_iterations`` there are no meeting
points (the searches stay reproducible).

Everything runs under one time limit and a seed. Costs are floats (the matrix as
given); the kernel sees the matrix scaled to integers, with travel times rounded up so
that a kernel-feasible route is feasible in the original units. With a time limit the
result depends on machine speed like any anytime solver; ``max_iterations`` makes the
search itself reproducible.
"""

from __future__ import annotations

import inspect
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from planner.engine import kernel
from planner.engine.model import MANDATORY, RoutingModel, VehicleSpec
from planner.engine.parallel import can_fork, fork_all

_EPS = 1e-7


@dataclass(frozen=True)
class PeriodicProblem:
    """A PVRP. Node 0 is the depot; ``combos[i]`` are the allowed 0-based day sets of node i.

    Parameters
    ----------
    dist
        Square travel matrix (cost and travel time), node 0 = depot.
    demand, service
        Per node (depot entries ignored); the same demand on every visit.
    combos
        Per node, the allowed visit-day combinations; ``combos[0]`` and customers with
        no combination are ignored. Each combination's size is the frequency.
    n_days, n_vehicles, capacity
        Horizon length, vehicles per day, capacity per vehicle.
    max_duration
        Route limit on travel + service (0 = none).
    """

    dist: np.ndarray
    demand: np.ndarray
    service: np.ndarray
    combos: tuple[tuple[frozenset[int], ...], ...]
    n_days: int
    n_vehicles: int
    capacity: int
    max_duration: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.demand)
        problems = []
        if self.dist.shape != (n, n):
            problems.append(f"dist: shape {self.dist.shape}, expected {(n, n)}")
        if len(self.service) != n or len(self.combos) != n:
            problems.append("service, combos: one entry per node (depot first) is required")
        for i in range(1, min(n, len(self.combos))):
            for combo in self.combos[i]:
                if not combo or any(not 0 <= d < self.n_days for d in combo):
                    problems.append(f"customer {i}: combination {sorted(combo)} outside days 0..{self.n_days - 1}")
            if self.combos[i] and self.demand[i] > self.capacity:
                problems.append(f"customer {i}: demand {self.demand[i]} exceeds capacity {self.capacity}")
        if self.n_days < 1 or self.n_vehicles < 1:
            problems.append("n_days and n_vehicles must be >= 1")
        if problems:
            raise ValueError("invalid periodic problem:\n  " + "\n  ".join(problems))
        for arr in (self.dist, self.demand, self.service):
            arr.setflags(write=False)

    @classmethod
    def from_coordinates(cls, xy: np.ndarray, **kwargs) -> PeriodicProblem:
        """Euclidean (unrounded) distances from ``(n+1, 2)`` coordinates."""
        xy = np.asarray(xy, dtype=float)
        diff = xy[:, None, :] - xy[None, :, :]
        return cls(dist=np.hypot(diff[..., 0], diff[..., 1]), **kwargs)

    @property
    def customers(self) -> list[int]:
        return [i for i in range(1, len(self.demand)) if self.combos[i]]


@dataclass(frozen=True)
class PeriodicSolution:
    """Plain result: ``routes[day]`` = non-empty routes (customer tuples, depot excluded)."""

    routes: tuple[tuple[tuple[int, ...], ...], ...]
    combos: tuple[frozenset[int] | None, ...]
    cost: float
    feasible: bool
    solve_time_s: float
    iterations: int = 0
    kernel_calls: int = 0
    history: tuple[tuple[float, float], ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            **self.summary(),
            "routes_by_day": [[list(r) for r in day] for day in self.routes],
            "combos": {i: sorted(k) for i, k in enumerate(self.combos) if k is not None},
        }

    def summary(self) -> dict:
        return {
            "cost": round(self.cost, 3),
            "feasible": self.feasible,
            "routes": sum(len(d) for d in self.routes),
            "days": len(self.routes),
            "iterations": self.iterations,
            "kernel_calls": self.kernel_calls,
            "solve_time_s": round(self.solve_time_s, 2),
        }


class PeriodicState:
    """Mutable search state: routes per day and vehicle, loads, durations, costs."""

    def __init__(self, p: PeriodicProblem, rng: np.random.Generator) -> None:
        self.p = p
        self.rng = rng
        self.d = np.asarray(p.dist, dtype=float)
        self.q = np.asarray(p.demand, dtype=float)
        self.s = np.asarray(p.service, dtype=float)
        self.t, self.m = p.n_days, p.n_vehicles
        self.Q = float(p.capacity)
        self.D = float(p.max_duration) if p.max_duration > 0 else np.inf
        self.routes: list[list[list[int]]] = [[[] for _ in range(self.m)] for _ in range(self.t)]
        self.choice: dict[int, int] = {}
        self.load = np.zeros((self.t, self.m))
        self.dur = np.zeros((self.t, self.m))
        self.cost = np.zeros((self.t, self.m))
        scale_d = float(np.mean(self.d[0, 1:])) if len(self.d) > 1 else 1.0
        self.w_load = max(1e-3, 2.0 * scale_d / max(1.0, float(np.mean(self.q[1:])) if len(self.q) > 1 else 1.0))
        self.w_dur = 2.0
        self.version = np.zeros(self.t, dtype=np.int64)
        self._flat: dict[int, tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._masks: dict[int, np.ndarray] = {}
        # undo log of the current move: (day, v) -> (route, cost, load, dur); customer -> choice
        self._undo_routes: dict[tuple[int, int], tuple[list[int], float, float, float]] = {}
        self._undo_choice: dict[int, int | None] = {}

    # ---- move transactions (cheap rollback of a rejected LNS move)
    def touch(self, day: int, v: int) -> None:
        key = (day, v)
        if key not in self._undo_routes:
            self._undo_routes[key] = (list(self.routes[day][v]), self.cost[day, v], self.load[day, v], self.dur[day, v])

    def touched_days(self) -> list[int]:
        """Days whose routes the current (uncommitted) move changed."""
        return sorted({day for day, _ in self._undo_routes})

    def commit(self) -> None:
        self._undo_routes.clear()
        self._undo_choice.clear()

    def rollback(self) -> None:
        for (day, v), (r, c, ld, du) in self._undo_routes.items():
            self.routes[day][v] = r
            self.cost[day, v], self.load[day, v], self.dur[day, v] = c, ld, du
            self.version[day] += 1
        for c, k in self._undo_choice.items():
            if k is None:
                self.choice.pop(c, None)
            else:
                self.choice[c] = k
        self.commit()

    # ---- bookkeeping
    def refresh(self, day: int, v: int) -> None:
        r = self.routes[day][v]
        nodes = np.array([0, *r, 0])
        self.cost[day, v] = float(self.d[nodes[:-1], nodes[1:]].sum())
        self.load[day, v] = float(self.q[r].sum()) if r else 0.0
        self.dur[day, v] = self.cost[day, v] + (float(self.s[r].sum()) if r else 0.0)
        self.version[day] += 1

    def excess(self) -> tuple[float, float]:
        el = float(np.maximum(0.0, self.load - self.Q).sum())
        ed = float(np.maximum(0.0, self.dur - self.D).sum()) if np.isfinite(self.D) else 0.0
        return el, ed

    def penalised(self) -> float:
        el, ed = self.excess()
        return float(self.cost.sum()) + self.w_load * el + self.w_dur * ed

    def feasible(self) -> bool:
        el, ed = self.excess()
        return el <= _EPS and ed <= 1e-6

    def snapshot(self) -> tuple:
        return ([[list(r) for r in day] for day in self.routes], dict(self.choice))

    def restore(self, snap: tuple) -> None:
        routes, choice = snap
        self.routes = [[list(r) for r in day] for day in routes]
        self.choice = dict(choice)
        for day in range(self.t):
            for v in range(self.m):
                self.refresh(day, v)

    # ---- insertion
    def _day_positions(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every insertion position of ``day``: (node before, node after, vehicle, arc cost)."""
        cached = self._flat.get(day)
        if cached is not None and cached[0] == self.version[day]:
            return cached[1], cached[2], cached[3], cached[4]
        prev, nxt, veh = [], [], []
        empty_done = False
        for v, r in enumerate(self.routes[day]):
            if not r:
                if empty_done:
                    continue
                empty_done = True
            nodes = [0, *r, 0]
            prev.extend(nodes[:-1])
            nxt.extend(nodes[1:])
            veh.extend([v] * (len(nodes) - 1))
        a, b = np.array(prev), np.array(nxt)
        out = (a, b, np.array(veh), self.d[a, b])
        self._flat[day] = (int(self.version[day]), *out)
        return out

    def insertion_costs(self, day: int, custs: np.ndarray) -> np.ndarray:
        """Penalised cost of inserting each of ``custs`` at each insertion position of ``day``
        (rows: customers; columns: the positions of :meth:`_day_positions`)."""
        prev, nxt, veh, arc = self._day_positions(day)
        d = self.d
        delta = d[prev[None, :], custs[:, None]] + d[custs[:, None], nxt[None, :]] - arc[None, :]
        load = self.load[day, veh][None, :]
        new_load = load + self.q[custs][:, None]
        pen = delta + self.w_load * (np.maximum(0.0, new_load - self.Q) - np.maximum(0.0, load - self.Q))
        if np.isfinite(self.D):
            dur = self.dur[day, veh][None, :]
            new_dur = dur + delta + self.s[custs][:, None]
            pen = pen + self.w_dur * (np.maximum(0.0, new_dur - self.D) - np.maximum(0.0, dur - self.D))
        return pen

    def insertion(self, day: int, custs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cheapest penalised insertion of each of ``custs`` into ``day``: (cost, vehicle, flat pos)."""
        veh = self._day_positions(day)[2]
        pen = self.insertion_costs(day, custs)
        best = np.argmin(pen, axis=1)
        rows = np.arange(len(custs))
        return pen[rows, best], veh[best], best

    def insert_at(self, day: int, c: int, flat_pos: int) -> None:
        veh = self._day_positions(day)[2]
        v = int(veh[flat_pos])
        # position inside route v: count earlier flat entries of v
        first = int(np.argmax(veh == v))
        self.touch(day, v)
        self.routes[day][v].insert(flat_pos - first, c)
        self.refresh(day, v)

    def remove(self, c: int) -> None:
        k = self.choice.pop(c)
        self._undo_choice.setdefault(c, k)
        for day in self.p.combos[c][k]:
            for v, r in enumerate(self.routes[day]):
                if c in r:
                    self.touch(day, v)
                    r.remove(c)
                    self.refresh(day, v)
                    break

    def insert_customers(self, custs: list[int], regret: bool) -> None:
        """Reinsert ``custs`` with their cheapest combinations (given order, or regret-2)."""
        if not regret:
            for c in custs:
                days = sorted(set().union(*self.p.combos[c]))
                arr = np.array([c])
                per_day = {day: self.insertion(day, arr) for day in days}
                scores = [sum(per_day[day][0][0] for day in combo) for combo in self.p.combos[c]]
                k = int(np.argmin(scores))
                self._place(c, k, {day: int(per_day[day][2][0]) for day in self.p.combos[c][k]})
            return
        pending = list(custs)
        days = sorted(set().union(*(set().union(*self.p.combos[c]) for c in pending)))
        arr = np.array(pending)
        table = {day: self.insertion(day, arr) for day in days}
        # one row per (pending customer, combination): its days as a 0/1 mask, grouped by customer
        mask = np.concatenate([self.combo_mask(c) for c in pending])
        owner = np.repeat(np.arange(len(pending)), [len(self.p.combos[c]) for c in pending])
        cost = np.zeros((self.t, len(pending)))
        while pending:
            for day in days:
                cost[day, : len(pending)] = table[day][0]
            scores = (mask * cost[:, owner].T).sum(axis=1)  # each combination's summed insertion cost
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            first = np.minimum.reduceat(scores, starts)
            at_min = np.flatnonzero(scores == first[owner])
            _, keep_first = np.unique(owner[at_min], return_index=True)
            argmin = at_min[keep_first]  # per customer, its cheapest combination's row (lowest index on ties)
            rest = scores.copy()
            rest[argmin] = np.inf
            gain = np.minimum.reduceat(rest, starts) - first  # the regret; inf for a single combination
            top = np.flatnonzero(gain == gain.max())
            best_i = int(top[np.argmin(first[top])])
            best_k = int(argmin[best_i] - starts[best_i])
            pick = pending.pop(best_i)
            changed = self.p.combos[pick][best_k]
            self._place(pick, best_k, {day: int(table[day][2][best_i]) for day in changed})
            if not pending:
                break
            keep = np.arange(len(pending) + 1) != best_i
            arr = arr[keep]
            rows = owner != best_i
            mask, owner = mask[rows], owner[rows] - (owner[rows] > best_i)
            for day in days:
                if day in changed:
                    table[day] = self.insertion(day, arr)
                else:
                    table[day] = tuple(x[keep] for x in table[day])

    def combo_mask(self, c: int) -> np.ndarray:
        """``(combinations of c, days)`` 0/1 matrix: row k marks the days of combination k."""
        got = self._masks.get(c)
        if got is None:
            got = np.zeros((len(self.p.combos[c]), self.t))
            for k, combo in enumerate(self.p.combos[c]):
                got[k, sorted(combo)] = 1.0
            self._masks[c] = got
        return got

    def _place(self, c: int, k: int, pos_of: dict[int, int]) -> None:
        self._undo_choice.setdefault(c, self.choice.get(c))
        self.choice[c] = k
        for day, pos in pos_of.items():
            self.insert_at(day, c, pos)
            self.two_opt(day, self._route_of(day, c))

    def removal_gains(self, day: int) -> dict[int, float]:
        """Penalised cost saved by removing each customer of ``day`` (route otherwise unchanged)."""
        out: dict[int, float] = {}
        for v, r in enumerate(self.routes[day]):
            if not r:
                continue
            nodes = np.array([0, *r, 0])
            a, b, c = nodes[:-2], nodes[1:-1], nodes[2:]
            delta = self.d[a, b] + self.d[b, c] - self.d[a, c]
            ld, du = self.load[day, v], self.dur[day, v]
            gain = delta + self.w_load * (max(0.0, ld - self.Q) - np.maximum(0.0, ld - self.q[b] - self.Q))
            if np.isfinite(self.D):
                gain = gain + self.w_dur * (max(0.0, du - self.D) - np.maximum(0.0, du - delta - self.s[b] - self.D))
            out.update(zip(r, gain.tolist(), strict=False))
        return out

    def combo_descent(self, custs: list[int], max_moves: int) -> int:
        """Steepest descent on single-customer combination changes; returns the moves made."""
        moves = 0
        arr = np.array(custs)
        while moves < max_moves:
            ins = {day: self.insertion(day, arr)[0] for day in range(self.t)}
            rem = {day: self.removal_gains(day) for day in range(self.t)}
            best, best_c, best_k = -1e-7, -1, -1
            for i, c in enumerate(custs):
                cur = self.p.combos[c][self.choice[c]]
                for k, combo in enumerate(self.p.combos[c]):
                    if combo == cur:
                        continue
                    delta = sum(ins[d][i] for d in combo - cur) - sum(rem[d][c] for d in cur - combo)
                    if delta < best:
                        best, best_c, best_k = delta, c, k
            if best_c < 0:
                break
            c = best_c
            cur = self.p.combos[c][self.choice[c]]
            new = self.p.combos[c][best_k]
            for day in cur - new:
                v = self._route_of(day, c)
                self.touch(day, v)
                self.routes[day][v].remove(c)
                self.refresh(day, v)
            self._undo_choice.setdefault(c, self.choice[c])
            self.choice[c] = best_k
            one = np.array([c])
            for day in new - cur:
                _, _, pos = self.insertion(day, one)
                self.insert_at(day, c, int(pos[0]))
                self.two_opt(day, self._route_of(day, c))
            moves += 1
        return moves

    def relocate_descent(self, day: int, max_moves: int = 100) -> int:
        """Steepest descent between the routes of ``day`` on the penalised cost: move one customer
        to the best position of another route, or swap two customers of two routes in place;
        the two routes are 2-opted after each move. Returns the moves made."""
        moves = 0
        d = self.d
        while moves < max_moves:
            gains = self.removal_gains(day)
            if len(gains) < 2:
                break
            custs = np.fromiter(gains, dtype=np.int64, count=len(gains))
            gain = np.fromiter(gains.values(), dtype=float, count=len(gains))
            own = np.array([v for v, r in enumerate(self.routes[day]) for _ in r])
            prev, _, veh, _ = self._day_positions(day)
            pen = self.insertion_costs(day, custs)
            pen[own[:, None] == veh[None, :]] = np.inf  # another route only
            total = pen - gain[:, None]
            i, j = np.unravel_index(np.argmin(total), total.shape)
            best_relocate = float(total[i, j])
            # swaps: customer a takes b's place and b takes a's (routes otherwise unchanged)
            before = np.array([x for r in self.routes[day] if r for x in [0, *r[:-1]]])
            after = np.array([x for r in self.routes[day] if r for x in [*r[1:], 0]])
            out = d[before, custs] + d[custs, after]  # arcs around each customer now
            into = d[before[:, None], custs[None, :]] + d[custs[None, :], after[:, None]]  # [a, b]: b at a's place
            moved = into - out[:, None]  # route of a: change of travel when b replaces a
            dq = self.q[custs][None, :] - self.q[custs][:, None]  # route of a: load change
            ds = self.s[custs][None, :] - self.s[custs][:, None]
            side = moved + self._excess_change(day, own[:, None], dq, moved + ds)
            swap = side + side.T
            swap[own[:, None] == own[None, :]] = np.inf
            a, b = np.unravel_index(np.argmin(swap), swap.shape)
            if min(best_relocate, float(swap[a, b])) >= -1e-7:
                break
            if best_relocate <= float(swap[a, b]):
                c, v_from, v_to, at = int(custs[i]), int(own[i]), int(veh[j]), int(prev[j])
                self.touch(day, v_from)
                self.routes[day][v_from].remove(c)
                self.refresh(day, v_from)
                self.touch(day, v_to)
                r = self.routes[day][v_to]
                r.insert(0 if at == 0 else r.index(at) + 1, c)
                self.refresh(day, v_to)
            else:
                ca, cb, v_from, v_to = int(custs[a]), int(custs[b]), int(own[a]), int(own[b])
                for v, x, y in ((v_from, ca, cb), (v_to, cb, ca)):
                    self.touch(day, v)
                    r = self.routes[day][v]
                    r[r.index(x)] = y
                    self.refresh(day, v)
            self.two_opt(day, v_from)
            self.two_opt(day, v_to)
            moves += 1
        return moves

    def _excess_change(self, day: int, veh: np.ndarray, dq: np.ndarray, ddur: np.ndarray) -> np.ndarray:
        """Change of the load and duration penalties of routes ``veh`` of ``day`` when their load
        changes by ``dq`` and their duration by ``ddur`` (broadcast)."""
        load = self.load[day, veh]
        out = self.w_load * (np.maximum(0.0, load + dq - self.Q) - np.maximum(0.0, load - self.Q))
        if np.isfinite(self.D):
            dur = self.dur[day, veh]
            out = out + self.w_dur * (np.maximum(0.0, dur + ddur - self.D) - np.maximum(0.0, dur - self.D))
        return out

    def _route_of(self, day: int, c: int) -> int:
        for v, r in enumerate(self.routes[day]):
            if c in r:
                return v
        raise KeyError(c)

    def two_opt(self, day: int, v: int) -> None:
        r = self.routes[day][v]
        if len(r) < 3:
            return
        nodes = np.array([0, *r, 0])
        d = self.d
        improved = False
        while True:
            a, b = nodes[:-1], nodes[1:]
            # reverse nodes[i+1..j]: arcs (a_i, b_i), (a_j, b_j) -> (a_i, a_j), (b_i, b_j)
            old = d[a, b]
            delta = d[a[:, None], a[None, :]] + d[b[:, None], b[None, :]] - old[:, None] - old[None, :]
            delta = np.triu(delta, k=2)
            i, j = np.unravel_index(np.argmin(delta), delta.shape)
            if delta[i, j] >= -_EPS:
                break
            nodes[i + 1 : j + 1] = nodes[i + 1 : j + 1][::-1].copy()
            improved = True
        if improved:
            self.touch(day, v)
            self.routes[day][v] = [int(x) for x in nodes[1:-1]]
            self.refresh(day, v)

    # ---- removal heuristics
    def pick_removal(self, k: int) -> list[int]:
        custs = list(self.choice)
        k = min(k, len(custs))
        mode = self.rng.random()
        if mode < 0.4:  # related to a random seed customer
            seed = custs[int(self.rng.integers(len(custs)))]
            arr = np.array(custs)
            closeness = self.d[seed, arr] * (1.0 + 0.3 * self.rng.random(len(arr)))
            return [int(x) for x in arr[np.argsort(closeness)[:k]]]
        if mode < 0.7:  # worst: largest saving per visit, randomised
            savings = []
            for c in custs:
                total = 0.0
                for day in self.p.combos[c][self.choice[c]]:
                    v = self._route_of(day, c)
                    nodes = [0, *self.routes[day][v], 0]
                    i = nodes.index(c)
                    total += self.d[nodes[i - 1], c] + self.d[c, nodes[i + 1]] - self.d[nodes[i - 1], nodes[i + 1]]
                savings.append(total / len(self.p.combos[c][self.choice[c]]))
            noisy = np.array(savings) * self.rng.uniform(0.6, 1.0, len(savings))
            return [custs[i] for i in np.argsort(-noisy)[:k]]
        return [custs[i] for i in self.rng.choice(len(custs), size=k, replace=False)]


def horizon_model(
    p: PeriodicProblem, S: PeriodicState, scale: float
) -> tuple[RoutingModel, list[tuple[int, int | None]], list[list[int]]]:
    """The whole horizon as one kernel model: vehicle ``day * m + k`` is route k of ``day``.

    A customer whose combinations are all single days is one node the kernel may put on
    any vehicle of those days (so the kernel chooses its day); any other customer keeps
    its current combination, one node per visit pinned to that day's vehicles.
    Returns the model, ``info[node] = (customer, pinned day or None)`` and the current
    routes as node lists (a warm start).
    """
    m, t = p.n_vehicles, p.n_days
    info: list[tuple[int, int | None]] = [(0, None)]
    allowed: list[tuple[int, ...] | None] = [None]
    pinned_day: list[int | None] = [None]
    node_of: dict[tuple[int, int | None], int] = {}
    for c in sorted(S.choice):
        combos = p.combos[c]
        if all(len(k) == 1 for k in combos):
            days = sorted(set().union(*combos))
            node_of[(c, None)] = len(info)
            info.append((c, None))
            allowed.append(None if len(days) == t else tuple(d * m + k for d in days for k in range(m)))
            pinned_day.append(None)
        else:
            for d in sorted(combos[S.choice[c]]):
                node_of[(c, d)] = len(info)
                info.append((c, d))
                allowed.append(None)
                pinned_day.append(d)
    nodes = [c for c, _ in info]
    sub = np.asarray(p.dist, dtype=float)[np.ix_(nodes, nodes)]
    dist = np.rint(sub * scale).astype(np.int64)
    tm = np.ceil(sub * scale - 1e-9).astype(np.int64)
    service = np.rint(np.asarray(p.service, dtype=float)[nodes] * scale).astype(np.int64)
    service[0] = 0
    limit = int(np.floor(p.max_duration * scale + 1e-9)) if p.max_duration > 0 else None
    # day d is the time interval [d * span, (d + 1) * span): its vehicles work inside it and a
    # visit pinned to day d has that interval as its time window, so a visit on the wrong day is
    # late (time warp), which the kernel's local search repairs smoothly
    span = limit if limit is not None else int(tm.max() * (len(nodes) + 1) + service.sum() + 1)
    horizon = span * t
    windows = tuple(() if d is None else ((d * span, (d + 1) * span),) for d in pinned_day)
    demand = np.asarray(p.demand, dtype=np.int64)[nodes].copy()
    demand[0] = 0
    vehicles = tuple(
        VehicleSpec(
            start=0,
            end=0,
            capacity=int(p.capacity),
            tw_start_s=d * span,
            tw_end_s=(d + 1) * span,
            max_duration_s=limit,
            name=f"d{d + 1}v{k + 1}",
        )
        for d in range(t)
        for k in range(m)
    )
    n = len(nodes)
    model = RoutingModel(
        time_s=(tm,),
        dist_m=(dist,),
        service_s=service,
        demand=demand,
        windows=windows,
        penalty=np.full(n, MANDATORY, dtype=np.int64),
        vehicles=vehicles,
        horizon_s=horizon,
        allowed_vehicles=None if all(a is None for a in allowed) else tuple(allowed),
        meta={"kind": "pvrp-horizon"},
    )
    initial = [
        [node_of[(c, None)] if (c, None) in node_of else node_of[(c, d)] for c in S.routes[d][k]]
        for d in range(t)
        for k in range(m)
    ]
    return model, info, initial


#: Record-to-record threshold of the LNS at the start of a walk (relative); it decays to 0.
THRESHOLD = 0.01
#: A first-phase walk restarts from a new construction after this many iterations without a
#: new best of its own (``max(RESTART_MIN, RESTART_PER_CUSTOMER * customers)``).
RESTART_MIN = 300
#: Share of the time of the first LNS phase (its walks and restarts).
LNS_SHARE = 0.65
RESTART_PER_CUSTOMER = 10

#: Seed offset between the independent searches of :func:`solve_periodic` (``workers > 1``).
WORKER_SEED_STEP = 7919
#: Longest wait (s) at a meeting point of the parallel searches for the others' best solutions.
EXCHANGE_WAIT_S = 3.0
#: Wall time kept back from the searches in child processes to start them and collect their result (s).
WORKER_MARGIN_S = 0.4


class Exchange:
    """Meeting points of the parallel searches of :func:`solve_periodic`.

    At meeting point ``tag`` every search posts its best solution to the others and takes the
    cheapest of all (ties: the lowest search index), so that the next phase of every search
    starts from the best solution found so far by any of them. A search that does not answer
    within :data:`EXCHANGE_WAIT_S` (or by the deadline) is skipped.
    """

    def __init__(self, index: int, inboxes: list, deadline: float) -> None:
        self.index, self.inboxes, self.deadline = index, inboxes, deadline

    def __call__(self, tag: int, key: tuple[bool, float], snap: tuple, rank: int = 0) -> tuple | None:
        """Post ``(key, snap)``; return the ``rank``-th best snapshot of all (0 = the best) when it
        is another search's, else None."""
        for i, box in enumerate(self.inboxes):
            if i != self.index:
                box.put((tag, self.index, key, snap))
        got = [(key, self.index, snap)]
        while len(got) < len(self.inboxes):
            left = min(EXCHANGE_WAIT_S, self.deadline - time.perf_counter())
            if left <= 0:
                break
            try:
                other_tag, i, other_key, other_snap = self.inboxes[self.index].get(timeout=left)
            except queue.Empty:
                break
            if other_tag == tag:
                got.append((other_key, i, other_snap))
        ranked = sorted(got, key=lambda g: (g[0], g[1]))
        pick = ranked[min(rank, len(ranked) - 1)]
        return None if pick[1] == self.index else pick[2]


def solve_periodic(
    problem: PeriodicProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    backend: str = "auto",
    max_iterations: int | None = None,
    on_progress: Callable[[float, float], None] | None = None,
    workers: int = 1,
) -> PeriodicSolution:
    """Solve ``problem`` within ``time_limit_s`` (see the module docstring for the method).

    With ``workers > 1`` the same search runs ``workers`` times at once, with seeds ``seed``,
    ``seed + 7919``, ``seed + 2 * 7919``... (the first in this process, the others in forked
    processes), and the cheapest feasible result is kept (ties: the lowest seed). The searches
    meet after their LNS phase and after their first polish and go on from the best solution of
    all (see the module docstring); ``iterations`` and ``kernel_calls`` add up over the searches.
    Where searches cannot fork (not Linux, or inside a daemonic worker: :func:`can_fork`) one search runs.
    """
    if workers <= 1 or not can_fork():
        return _search(problem, time_limit_s, seed, backend, max_iterations, on_progress)
    import multiprocessing

    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    inboxes = [ctx.Queue() for _ in range(workers)]
    exchanges = [Exchange(j, inboxes, t0 + time_limit_s) for j in range(workers)]

    def one(k: int) -> PeriodicSolution:
        # the first search runs in this process (it reports progress), the others in forked ones
        margin = WORKER_MARGIN_S / 2 if k == 0 else WORKER_MARGIN_S
        return _search(
            problem,
            time_limit_s - margin,
            seed + k * WORKER_SEED_STEP,
            backend,
            max_iterations,
            on_progress if k == 0 else None,
            exchanges[k],
        )

    # a late child is waited for, not lost
    results = fork_all(one, workers, wait_until=t0 + time_limit_s + 30.0)
    feasible = [r for r in results if r.feasible]
    best = min(feasible or results, key=lambda r: r.cost)  # min keeps the first of equal costs
    return PeriodicSolution(
        routes=best.routes,
        combos=best.combos,
        cost=best.cost,
        feasible=best.feasible,
        solve_time_s=time.perf_counter() - t0,
        iterations=sum(r.iterations for r in results),
        kernel_calls=sum(r.kernel_calls for r in results),
        history=best.history,
    )


def _search(
    problem: PeriodicProblem,
    time_limit_s: float,
    seed: int,
    backend: str,
    max_iterations: int | None,
    on_progress: Callable[[float, float], None] | None,
    exchange: Exchange | None = None,
) -> PeriodicSolution:
    """One search of :func:`solve_periodic` (see the module docstring for the method)."""

    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    p = problem
    rng = np.random.default_rng(seed)
    S = PeriodicState(p, rng)
    custs = p.customers
    positive = np.asarray(p.dist)[np.asarray(p.dist) > 0]
    scale = 10_000.0 / float(np.median(positive)) if positive.size else 1.0  # kernel integer units
    kernel_calls = 0
    history: list[tuple[float, float]] = []

    def construct(noisy: bool) -> tuple:
        """Empty routes, then greedy insertion: big demands first (packing), then far customers
        first; ``noisy`` multiplies each demand by a random factor in [0.5, 1.5] (a restart)."""
        S.restore(([[[] for _ in range(p.n_vehicles)] for _ in range(p.n_days)], {}))
        noise = rng.uniform(0.5, 1.5, len(p.demand)) if noisy else np.ones(len(p.demand))
        order = sorted(
            custs, key=lambda c: (-float(p.demand[c]) * len(p.combos[c][0]) * noise[c], -float(p.dist[0, c]))
        )
        S.insert_customers(order, regret=False)
        S.commit()
        return S.snapshot()

    # 1. construction
    construct(noisy=False)

    best_snap = S.snapshot()
    best_pen, best_feas = S.penalised(), S.feasible()
    best_cost = float(S.cost.sum()) if best_feas else np.inf

    def record() -> None:
        nonlocal best_snap, best_pen, best_feas, best_cost
        feas = S.feasible()
        cost = float(S.cost.sum())
        pen = S.penalised()
        better = (feas and (not best_feas or cost < best_cost - 1e-9)) or (
            not best_feas and not feas and pen < best_pen
        )
        if better:
            best_snap, best_pen, best_feas = S.snapshot(), pen, feas
            best_cost = cost if feas else np.inf
            history.append((time.perf_counter() - t0, cost if feas else float("inf")))
            if on_progress is not None and feas:
                on_progress(time.perf_counter() - t0, cost)

    warm_start = "initial_routes" in inspect.signature(kernel.solve).parameters

    def joint(budget_s: float) -> None:
        """Re-solve the whole horizon with the kernel; keep the result if feasible and cheaper."""
        nonlocal kernel_calls
        budget_s = min(budget_s, deadline - time.perf_counter() - 0.05)
        if budget_s <= 0.05 or float(S.load.sum()) > S.Q * p.n_vehicles * p.n_days + _EPS:
            return
        model, info, init = horizon_model(p, S, scale)
        res = kernel.solve(
            model,
            time_limit_s=budget_s,
            seed=seed + kernel_calls,
            backend=backend,
            initial_routes=init if warm_start else None,
        )
        kernel_calls += 1
        if res.status not in ("optimal", "feasible") or res.dropped:
            return
        old, old_feas, old_cost = S.snapshot(), S.feasible(), float(S.cost.sum())
        routes: list[list[list[int]]] = [[[] for _ in range(p.n_vehicles)] for _ in range(p.n_days)]
        choice = dict(S.choice)
        for r in res.routes:
            day, k = divmod(r.vehicle, p.n_vehicles)
            for visit in r.visits[1:-1]:
                c, pinned = info[visit.node]
                routes[day][k].append(c)
                if pinned is None:
                    choice[c] = p.combos[c].index(frozenset({day}))
        S.restore((routes, choice))
        if not S.feasible() or (old_feas and float(S.cost.sum()) >= old_cost - 1e-9):
            S.restore(old)
        else:
            record()

    def meet(tag: int, spread: bool = False) -> None:
        """Take the best solution of all parallel searches (when there are several); with
        ``spread`` search j takes the j-th best instead."""
        nonlocal best_snap, best_pen, best_feas, best_cost
        if exchange is None:
            return
        rank = exchange.index if spread else 0
        other = exchange(tag, (not best_feas, best_cost if best_feas else best_pen), best_snap, rank)
        if other is not None:
            S.restore(other)
            best_snap, best_pen, best_feas = S.snapshot(), S.penalised(), S.feasible()
            best_cost = float(S.cost.sum()) if best_feas else np.inf

    multi = [c for c in custs if len(p.combos[c]) > 1]

    def descend() -> None:
        if multi:
            S.commit()
            S.combo_descent(multi, max_moves=len(multi))
            S.commit()
            record()

    n_c = len(custs)
    it = 0

    def lns(until: float, iterations: int | None, start_from: tuple | None = None, patience: int | None = None) -> None:
        """Destroy-and-repair over combinations from ``start_from`` (default: the best solution).

        Stops at ``until`` (or after ``iterations``), or when the walk's own best has not improved
        for ``patience`` iterations."""
        nonlocal it
        S.restore(best_snap if start_from is None else start_from)
        cur_pen = S.penalised()
        rec_pen = cur_pen
        start, done, since = time.perf_counter(), 0, 0
        while n_c > 1:
            now = time.perf_counter()
            if (iterations is not None and done >= iterations) or (iterations is None and now >= until):
                break
            if patience is not None and since >= patience:
                break
            it += 1
            done += 1
            progress = (done / iterations) if iterations else min(1.0, (now - start) / max(1e-9, until - start))
            threshold = THRESHOLD * (1.0 - progress)
            S.commit()
            k = int(rng.integers(2, max(3, min(30, int(0.25 * n_c))) + 1))
            removed = S.pick_removal(k)
            if multi and rng.random() < 0.3:  # make sure combination changes are tried
                extra = int(rng.choice(multi))
                if extra not in removed:
                    removed.append(extra)
            for c in removed:
                S.remove(c)
            rng.shuffle(removed)
            S.insert_customers(removed, regret=rng.random() < 0.5)
            for day in S.touched_days():
                S.relocate_descent(day)
            new_pen = S.penalised()
            since += 1
            if new_pen < rec_pen - 1e-9:
                since = 0
            if new_pen < cur_pen - 1e-9 or new_pen <= cur_pen * (1.0 + threshold):
                cur_pen = new_pen
                rec_pen = min(rec_pen, new_pen)
                S.commit()
                record()
            else:
                S.rollback()
            if it % 50 == 0:  # keep the penalties such that the search hovers near feasibility
                el, ed = S.excess()
                S.w_load *= 1.3 if el > _EPS else 1 / 1.1
                S.w_dur *= 1.3 if ed > 1e-6 else 1 / 1.1
                S.w_load, S.w_dur = max(S.w_load, 1e-3), max(S.w_dur, 1e-3)
                cur_pen = S.penalised()
                rec_pen = min(rec_pen, cur_pen)
        S.commit()

    # 2. combinations the kernel cannot choose itself (several days each) need the LNS;
    #    single-day choices are made by the kernel in the whole-horizon model.
    descend()
    needs_lns = any(not all(len(k) == 1 for k in p.combos[c]) for c in multi)
    if max_iterations is not None:
        lns(deadline, max_iterations)
        S.restore(best_snap)
        descend()
    elif needs_lns:
        # combinations first, on routes of one quality (insertion + 2-opt), then polish;
        # a walk that stalls restarts from a new construction (the walks' local optima differ much)
        phase_end = t0 + LNS_SHARE * time_limit_s
        start_snap = S.snapshot()
        while time.perf_counter() < phase_end - 0.01 * time_limit_s:
            lns(phase_end, None, start_from=start_snap, patience=max(RESTART_MIN, RESTART_PER_CUSTOMER * n_c))
            start_snap = construct(noisy=True)
        meet(0, spread=True)
        S.restore(best_snap)
        descend()
        S.restore(best_snap)
        joint(0.2 * time_limit_s)
        S.restore(best_snap)
        descend()
        meet(1)
    # 3. final whole-horizon solve with what is left
    S.restore(best_snap)
    joint(deadline - time.perf_counter())
    S.restore(best_snap)

    routes = tuple(tuple(tuple(r) for r in S.routes[day] if r) for day in range(p.n_days))
    combos = tuple(p.combos[i][S.choice[i]] if i in S.choice else None for i in range(len(p.demand)))
    return PeriodicSolution(
        routes=routes,
        combos=combos,
        cost=float(S.cost.sum()),
        feasible=S.feasible(),
        solve_time_s=time.perf_counter() - t0,
        iterations=it,
        kernel_calls=kernel_calls,
        history=tuple(history),
    )
