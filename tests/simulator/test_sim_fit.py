"""Fitting the stations to observed jobs: a system of known timing, observed as the fakes would."""

from __future__ import annotations

import heapq
import random

import pytest

from simulator.fit import fit_stations, poll_period

SERVICE = {"reg": 0.040, "code": 0.055, "act": 0.070, "dm": 0.045, "noise": 0.030}


def _observed(workers: int, seed: int = 1, poll: float = 1.0, rate: float = 8.0, cv: float = 0.05) -> dict:
    """Jobs through ``workers`` FIFO servers fed by polls every ``poll`` s (DMs every 2 s)."""
    rng = random.Random(seed)
    mix = ["reg", "code", "act", "dm", "noise"]
    posted = sorted((rng.uniform(0, 60), rng.choice(mix)) for _ in range(int(rate * 60)))
    phase = rng.uniform(0, poll)
    mention_reads = [phase + k * poll for k in range(int(62 / poll))]
    dm_reads = [phase + 0.3 + k * 2.0 for k in range(31)]

    def first_read(t: float, reads: list[float]) -> float:
        return next(r for r in reads if r >= t)

    jobs = [(first_read(t, dm_reads if c == "dm" else mention_reads), t, c) for t, c in posted]
    jobs.sort()
    free = [0.0] * workers
    out = []
    for ingest, t, command in jobs:
        start = max(ingest, free[0])
        done = start + SERVICE[command] * rng.lognormvariate(0, cv)
        heapq.heapreplace(free, done)
        out.append([command, t, None if command == "noise" else done])
    return {
        "jobs": out,
        "reads": {"mentions": mention_reads, "dms": dm_reads},
        "page_sizes": [100],
        "replied": {"reg": 0, "code": 0, "act": 0},
        "counts": {c: sum(1 for j in out if j[0] == c) for c in mix},
    }


def test_one_worker_recovers_each_commands_service_and_the_poll_periods():
    fit = fit_stations(_observed(workers=1), workers=1)
    assert fit.mode == "polling" and fit.workers == 1
    assert fit.poll_interval_s == pytest.approx(1.0) and fit.dm_poll_interval_s == pytest.approx(2.0)
    for command, mean in SERVICE.items():  # noise is never answered: it shows only as others' waiting
        assert fit.service_mean_s[command] == pytest.approx(mean, rel=0.05 if command != "noise" else 0.15)
    assert fit.error < 0.02 and fit.reply_to == []
    keys = fit.scenario_keys()["system"]
    assert keys["workers"]["service"]["reg"]["dist"] == "constant"  # cv 0.05 is below the threshold


@pytest.mark.parametrize("workers", [1, 3])
def test_fit_workers_finds_the_concurrency_the_run_had(workers):
    fit = fit_stations(_observed(workers=workers, rate=20.0), workers=1, fit_workers=True)
    assert fit.workers == workers
    assert min(fit.error_by_workers, key=fit.error_by_workers.__getitem__) == workers


def test_variable_services_become_lognormal():
    fit = fit_stations(_observed(workers=1, cv=0.5, rate=3.0), workers=1)
    spec = fit.service_spec("reg")
    assert spec["dist"] == "lognormal" and spec["sd"] > 0.1 * spec["mean"]


def test_without_reads_the_system_takes_webhooks():
    observed = _observed(workers=1)
    observed["reads"] = {"mentions": [], "dms": []}
    fit = fit_stations(observed, workers=1, webhook_delay_s=0.3)
    assert fit.mode == "webhook" and fit.poll_interval_s is None


def test_nothing_answered_is_refused():
    observed = _observed(workers=1)
    for job in observed["jobs"]:
        job[2] = None
    with pytest.raises(ValueError, match="no answered job"):
        fit_stations(observed, workers=1)


def test_pages_of_one_poll_count_once():
    assert poll_period([0.0, 0.01, 0.02, 1.0, 1.01, 2.0, 3.0]) == pytest.approx(1.0)
    assert poll_period([0.0, 1.0]) is None
