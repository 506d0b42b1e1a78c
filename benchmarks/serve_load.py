"""Load on ``planner serve``: browsing and planning users at once, on loopback, for a bounded time.

    python benchmarks/serve_load.py [--browsers 20] [--planners 2] [--seconds 30]

It starts ``planner serve`` on a free 127.0.0.1 port with a fresh workspace (the shipped
data), then runs, at the same time:

- ``--browsers`` users, each looping over the pages (Overview, Data, Plan, Compare, Edit,
  Record, Report, the data map's layers, a run page, a static asset), each also saving one
  edit to its own village (a population) every few pages;
- ``--planners`` users, each queueing small plans (1 week, 20,000 search steps) and
  polling their progress until they finish.

It reports the page latencies (median and p95 per page and overall), checks that no request
failed (every status is 200/303), that every village edit is in the saved file (no lost
write) and that every queued plan finished, and writes ``benchmarks/results/serve_load.md``
and ``.json``. Exit code 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGES = ("/", "/data", "/plan", "/compare", "/edit", "/record", "/report", "/data/layers.json", "/static/htmx.min.js")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(ws: Path, port: int) -> subprocess.Popen:
    code = "import sys; from planner.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["serve", "--no-browser", "--port", str(port), "--db", str(ws / "workspace" / "planner.db")]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ws, env=env)
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def csrf(client: httpx.Client) -> str:
    html = client.get("/plan").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Recorder:
    """Latencies and failures from every user thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.failures: list[str] = []

    def call(self, client: httpx.Client, method: str, url: str, key: str | None = None, **kw) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            with self.lock:
                self.failures.append(f"{method} {url}: {type(exc).__name__}")
            return None
        dt_ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.times.setdefault(key or url, []).append(dt_ms)
            if r.status_code not in (200, 303):
                self.failures.append(f"{method} {url}: HTTP {r.status_code}")
        return r


def browser(base: str, rec: Recorder, stop: float, village: int, edits: dict, run_page: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = csrf(client)
        k = 0
        while time.monotonic() < stop:
            for page in (*PAGES, run_page):
                if time.monotonic() >= stop:
                    break
                rec.call(client, "GET", page, key=page if not page.startswith("/runs/") else "/runs/<run>")
            k += 1
            row = client.get(f"/data/villages/{village}/edit").text
            values = dict(re.findall(r'name="(\w+)" value="([^"]*)"', row))
            values.update(population=str(1000 + k), csrf_token=token)
            r = rec.call(client, "POST", f"/data/villages/{village}", key="POST village edit", data=values)
            if r is not None and r.status_code == 303:
                edits[village] = 1000 + k


def planner_user(base: str, rec: Recorder, stop: float, jobs: list) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = csrf(client)
        while time.monotonic() < stop:
            form = {"scenario": "baseline", "weeks": "1", "max_iterations": "20000", "csrf_token": token}
            r = rec.call(client, "POST", "/plan/run", key="POST plan", data=form)
            if r is None:
                continue
            job_id = int(r.headers["location"].rsplit("/", 1)[1])
            jobs.append(job_id)
            while time.monotonic() < stop + 120:
                j = rec.call(client, "GET", f"/jobs/{job_id}/json", key="GET job progress")
                if j is not None and j.json()["state"] not in ("queued", "running"):
                    break
                time.sleep(1)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--browsers", type=int, default=20)
    ap.add_argument("--planners", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        ws = Path(tmp)
        port = free_port()
        proc = start_server(ws, port)
        base = f"http://127.0.0.1:{port}"
        try:
            # one finished run, so the run page is part of the browsing
            with httpx.Client(base_url=base, timeout=60) as c:
                form = {"scenario": "baseline", "run": "warm", "weeks": "1", "max_iterations": "20000"}
                c.post("/plan/run", data=form | {"csrf_token": csrf(c)})
                while c.get("/jobs/1/json").json()["state"] in ("queued", "running"):
                    time.sleep(0.5)
            rec, edits, jobs = Recorder(), {}, []
            stop = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=browser, args=(base, rec, stop, i, edits, "/runs/warm"))
                for i in range(args.browsers)
            ]
            threads += [
                threading.Thread(target=planner_user, args=(base, rec, stop, jobs)) for _ in range(args.planners)
            ]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
            with httpx.Client(base_url=base, timeout=60) as c:
                states = {j: c.get(f"/jobs/{j}/json").json()["state"] for j in jobs}
            saved = gpd.read_file(next((ws / "workspace" / "data").glob("villages.*")))
            lost = [i for i, v in edits.items() if int(saved.iloc[i]["population"]) != v]
        finally:
            proc.terminate()
            proc.wait(30)

    all_ms = [x for v in rec.times.values() for x in v]
    rows = [
        {"page": k, "n": len(v), "median_ms": round(statistics.median(v), 1), "p95_ms": round(pct(v, 0.95), 1)}
        for k, v in sorted(rec.times.items())
    ]
    result = {
        "browsers": args.browsers,
        "planners": args.planners,
        "seconds": args.seconds,
        "wall_s": round(wall, 1),
        "requests": len(all_ms),
        "requests_per_s": round(len(all_ms) / wall, 1),
        "median_ms": round(statistics.median(all_ms), 1),
        "p95_ms": round(pct(all_ms, 0.95), 1),
        "failed_requests": rec.failures,
        "village_edits_saved": len(edits),
        "lost_writes": lost,
        "plans_queued": len(jobs),
        "plans_done": sum(1 for s in states.values() if s == "done"),
        "plan_states": states,
        "pages": rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_load.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    lines = [
        "# planner serve under load",
        "",
        f"`python benchmarks/serve_load.py --browsers {args.browsers} --planners {args.planners} --seconds {args.seconds:g}`"
        f" on {result['machine']}: {result['requests']} requests in {result['wall_s']} s "
        f"({result['requests_per_s']}/s); median {result['median_ms']} ms, p95 {result['p95_ms']} ms.",
        "",
        f"- failed requests: {len(rec.failures)}",
        f"- village edits saved: {len(edits)} users' last edits, lost: {len(lost)}",
        f"- plans queued {len(jobs)}, finished {result['plans_done']} (one at a time, in a worker process)",
        "",
        "| page | requests | median ms | p95 ms |",
        "| --- | ---: | ---: | ---: |",
        *[f"| `{r['page']}` | {r['n']} | {r['median_ms']} | {r['p95_ms']} |" for r in rows],
        "",
    ]
    (args.out / "serve_load.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    ok = not rec.failures and not lost and result["plans_done"] == len(jobs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
