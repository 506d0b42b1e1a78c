"""Independent searches at once in forked processes (the engine's use of several cores)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether searches can run in forked processes here: Linux, and not inside a daemonic process
    (a Dask or multiprocessing worker may not have children); elsewhere they run in turn."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def fork_all(run: Callable[[int], T], n: int, wait_until: float) -> list[T]:
    """``[run(0), run(1), ..., run(n - 1)]``, with ``run(0)`` in this process and the others in
    forked processes at the same time.

    A child's exception is raised here (as ``RuntimeError`` naming the child). Children are waited
    for until ``wait_until`` (``time.perf_counter()`` seconds), then joined or terminated. Without
    ``fork`` the runs go one after the other in this process.
    """
    if n <= 1 or not can_fork():
        return [run(k) for k in range(n)]
    ctx = multiprocessing.get_context("fork")
    outbox = ctx.Queue()

    def child(k: int) -> None:
        try:
            outbox.put((k, run(k)))
        except BaseException as exc:  # reported, not lost: the parent raises it
            outbox.put((k, exc))

    procs = [ctx.Process(target=child, args=(k,), daemon=True) for k in range(1, n)]
    for proc in procs:
        proc.start()
    try:
        results = [run(0)]
        got: dict[int, T] = {}
        while len(got) < n - 1:
            k, res = outbox.get(timeout=max(1.0, wait_until - time.perf_counter()))
            if isinstance(res, BaseException):
                raise RuntimeError(f"search {k} failed in its process: {res!r}") from res
            got[k] = res
        return results + [got[k] for k in sorted(got)]
    finally:
        for proc in procs:
            proc.join(timeout=5.0)
            if proc.is_alive():
                proc.terminate()
