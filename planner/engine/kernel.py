"""The engine's routing kernel: one entry point for every routing job of the product.

``solve(model, ...)`` picks a backend: OR-Tools routing (every feature of
:class:`RoutingModel`: breaks, several windows, precedences, groups) or PyVRP (a
state-of-the-art solver for the plain capacitated / time-window cases, measured
side by side in ``benchmarks/vrp.py``). ``backend="auto"`` uses PyVRP when the
model has nothing PyVRP cannot express and PyVRP is installed, else OR-Tools.
"""

from __future__ import annotations

from planner.engine.backend_ortools import solve_ortools
from planner.engine.backend_pyvrp import solve_pyvrp
from planner.engine.model import KernelResult, RoutingModel

BACKENDS = ("auto", "ortools", "pyvrp")


def pyvrp_can_solve(model: RoutingModel) -> bool:
    if any(v.breaks for v in model.vehicles) or model.precedences:
        return False
    if any(len(w) > 1 for w in model.windows):
        return False
    if model.max_wait_s is not None and any(x is not None for x in model.max_wait_s):
        return False
    try:
        import pyvrp  # noqa: F401
    except ImportError:
        return False
    return True


def solve(
    model: RoutingModel,
    *,
    time_limit_s: float,
    seed: int = 0,
    backend: str = "auto",
    first_solution: str = "auto",
    max_iterations: int | None = None,
    on_progress=None,
    initial_routes=None,
) -> KernelResult:
    """Solve a routing model; see the module docstring for the choice of backend.

    ``initial_routes`` (lists of node indices per vehicle, without start/end) warm-start the
    PyVRP backend; OR-Tools ignores them.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not one of {BACKENDS}")
    auto = backend == "auto"
    if auto:
        backend = "pyvrp" if pyvrp_can_solve(model) else "ortools"
    if backend == "pyvrp":
        try:
            return solve_pyvrp(
                model,
                time_limit_s,
                seed,
                on_progress=on_progress,
                max_iterations=max_iterations,
                initial_routes=initial_routes,
            )
        except NotImplementedError:
            if not auto:
                raise
            # a feature PyVRP cannot express: OR-Tools handles every feature

    return solve_ortools(
        model,
        time_limit_s,
        seed=seed,
        first_solution=first_solution,
        max_iterations=max_iterations,
        on_progress=on_progress,
    )
