"""Searches in forked processes: results in order, a child's failure raised, daemonic workers served."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from planner.engine.parallel import fork_all


def square_and_pid(k: int) -> tuple[int, int]:
    return k * k, os.getpid()


def test_results_come_back_in_order_from_other_processes():
    got = fork_all(square_and_pid, 3, wait_until=time.perf_counter() + 30)
    assert [v for v, _ in got] == [0, 1, 4]
    assert got[0][1] == os.getpid()  # run 0 in this process
    assert len({pid for _, pid in got}) == 3  # the others each in their own


def fail_in_child(k: int) -> int:
    if k == 1:
        raise ValueError("bad data in search 1")
    return k


def test_a_failing_child_is_reported():
    with pytest.raises(RuntimeError, match="search 1 failed in its process: ValueError\\('bad data in search 1'\\)"):
        fork_all(fail_in_child, 2, wait_until=time.perf_counter() + 30)


def run_in_daemon(out) -> None:
    got = fork_all(square_and_pid, 2, wait_until=time.perf_counter() + 30)
    out.put([v for v, _ in got] + [len({pid for _, pid in got})])


def test_a_daemonic_worker_runs_the_searches_in_turn():
    # Dask's and multiprocessing's workers are daemonic: they may not have children, so the searches
    # run one after the other there (same results, one process)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=run_in_daemon, args=(out,), daemon=True)
    proc.start()
    assert out.get(timeout=30) == [0, 1, 1]
    proc.join(timeout=5)
