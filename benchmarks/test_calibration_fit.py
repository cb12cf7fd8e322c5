"""Jobs fitted per second by ``twittcom calibrate``'s station fit, beside the replay it is made of.

The workload: a minute of observed jobs (a storm's ``observed.json`` shape) from one FIFO worker
fed by polls every second, 5 commands, noise never answered: 20,000 jobs (1,000 in short mode).
The figure is jobs per wall-clock second of :func:`simulator.fit.fit_stations` over its default
concurrency candidates. Its ceiling, measured in the same run, is one FIFO replay of the same jobs
(jobs/s, per concurrency candidate) divided by the replays the fit makes of each (counted): the
jobs/s of a fit that did nothing but replay. The ratio (figure / ceiling) is the share of the fit
spent replaying. A storm observes a few thousand jobs; the target is a fit in under 10 s for
20,000 (>= 2,000 jobs/s). On a shared machine wall time counts the neighbours' turns on the core,
so jobs per CPU second are reported beside it.

Full run: ``.venv/bin/python -m pytest benchmarks/test_calibration_fit.py --benchmark-only -s``
"""

from __future__ import annotations

import heapq
import os
import random
import time
from typing import Any

import simulator.fit as fit_module
from simulator.fit import fit_stations

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
JOBS = 1_000 if SHORT else 20_000
SERVICE = {"reg": 0.004, "code": 0.005, "act": 0.006, "dm": 0.004, "noise": 0.002}


def _observed(count: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    span = 60.0
    posted = sorted((rng.uniform(0, span), rng.choice(list(SERVICE))) for _ in range(count))
    reads = [0.37 + k for k in range(int(span) + 2)]
    free, jobs = [0.0], []
    for t, command in posted:
        ingest = reads[next(k for k in range(int(t), len(reads)) if reads[k] >= t)]
        start = max(ingest, free[0])
        done = start + SERVICE[command] * rng.lognormvariate(0, 0.2)
        heapq.heapreplace(free, done)
        jobs.append([command, t, None if command == "noise" else done])
    return {"jobs": jobs, "reads": {"mentions": reads, "dms": reads}, "page_sizes": [100], "counts": {}}


def test_station_fit_jobs_per_second(benchmark):
    observed = _observed(JOBS)
    calls: dict[int, int] = {}
    replay = fit_module._replay

    def counted(*args: Any) -> list[float]:
        calls[args[-1]] = calls.get(args[-1], 0) + 1  # per concurrency candidate
        return replay(*args)

    fit_module._replay = counted
    try:
        cpu = time.process_time()
        fit = benchmark.pedantic(lambda: fit_stations(observed, workers=1), rounds=1, iterations=1)
        cpu = time.process_time() - cpu
    finally:
        fit_module._replay = replay
    seconds = benchmark.stats.stats.mean if benchmark.stats else 0.0
    kinds = [list(SERVICE).index(j[0]) for j in observed["jobs"]]
    ingest = [j[1] for j in observed["jobs"]]
    replaying = 0.0  # what the fit's replays alone cost: one replay per candidate, times its count
    for c, count in calls.items():
        started = time.perf_counter()
        replay(list(range(len(kinds))), kinds, ingest, [0.005] * 5, c)
        replaying += (time.perf_counter() - started) * count
    figure = JOBS / seconds if seconds else float("nan")
    ceiling = JOBS / replaying
    replays = sum(calls.values())
    benchmark.extra_info.update(
        {"jobs": JOBS, "jobs_per_s": figure, "jobs_per_cpu_s": JOBS / cpu, "replays": replays,
         "ceiling_jobs_per_s": ceiling, "ratio": figure / ceiling}
    )  # fmt: skip
    ratio = figure / ceiling
    print(f"\nfit: {figure:,.0f} jobs/s ({JOBS / cpu:,.0f} per CPU s; {replays} replays)")
    print(f"ceiling {ceiling:,.0f} jobs/s; ratio {ratio:.2f}")
    assert fit.workers == 1 and fit.answered > 0
