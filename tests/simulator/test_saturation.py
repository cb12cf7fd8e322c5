"""The saturation model against what can be worked out by hand: an idle system, a saturated loop,
processor sharing, group commits, the store on SQLite (inline, serial) and on PostgreSQL (backends
beside the loops), the sink's round trip, and the fits of the store's share and the wake-up slice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.saturation import (
    SaturationParams,
    _finished_rate,
    fit_share,
    fit_slice,
    other_threads,
    simulate_step,
)

BASE = SaturationParams(
    cores=2.0,
    processes=1,
    workers=1,
    batch_size=64,
    request_s=0.0005,
    ingest_s=0.0002,
    batch_per_event_s=0.0005,
    send_s=0.0006,
    receive_s=0.0003,
    finish_s=0.0001,
    commit_fixed_s=0.001,
    sink_s=0.0004,
    driver_s=0.0,
    background_cores=0.0,
    store_share=0.0,
    inline_store=True,
)
#: one event alone: request, its ingest commit, its batch, the send, the sink's first answer, then
#: both answers read one after the other (each read, 0.3 ms, outlasts the sink's second half, 0.2 ms)
IDLE = 0.0005 + (0.001 + 0.0002) + (0.001 + 0.0005) + 0.0006 + 0.0002 + 2 * 0.0003
#: what the one loop does per event when saturated: everything but the commits' fixed cost
#: (shared by full batches) and the sink (its own process)
LOOP = 0.0005 + 0.0002 + 0.0005 + 0.0006 + 2 * 0.0003 + 2 * 0.0001


def test_an_idle_system_answers_in_the_sum_of_the_work_on_the_path() -> None:
    """One event at a time (0.2/s): the path in the module docstring, nothing shared."""
    step = simulate_step(BASE, rate=0.2, seconds=200, seed=1)
    assert step.offered > 20
    assert step.percentile(50) == pytest.approx(IDLE, rel=1e-6)
    assert step.latencies[-1] == pytest.approx(IDLE, rel=1e-6)
    # each event's own ingest commit, batch and one result commit per answer
    assert step.commits_per_event == pytest.approx(4.0)


def test_the_sink_round_trip_adds_its_wall_time_each_way() -> None:
    step = simulate_step(replace(BASE, hop_s=0.002), rate=0.2, seconds=200, seed=1)
    assert step.percentile(50) == pytest.approx(IDLE + 2 * 0.002, rel=1e-6)


def test_a_saturated_loop_finishes_at_the_rate_its_full_group_commits_cost() -> None:
    """Far above capacity the one loop does everything back to back with full group commits (the
    fixed 1 ms shared by up to 64 events); the sink has the other core."""
    rate = _finished_rate(BASE, 2500, 3, seed=2)
    assert 1 / (LOOP + 3 * 0.001 / 8) < rate < 1 / LOOP * 1.02
    busy = simulate_step(BASE, 2500, 3, seed=2)
    assert busy.commits_per_event < 0.2 and busy.mean_batch > 20


def test_two_processes_share_two_cores_with_the_sink_and_other_load() -> None:
    """Processor sharing: two loops and the sink use both cores (all the CPU per event, sink
    included, over two cores); other load that takes one core of the two leaves them the other."""
    two = _finished_rate(replace(BASE, processes=2), 4000, 2, seed=3)
    assert two == pytest.approx(2 / (LOOP + 0.0004), rel=0.06)
    loaded = _finished_rate(replace(BASE, processes=2, background_cores=1.0), 4000, 2, seed=3)
    assert loaded == pytest.approx(two / 2, rel=0.08)


def test_other_load_becomes_the_threads_that_take_its_cpu() -> None:
    """Half the time none of ours runs (they take min(k, 2)), half the time two do (2k / (2 + k)):
    one core on average needs (k + 2k / (2 + k)) / 2 = 1, i.e. k^2 + 2k - 4 = 0, k = sqrt(5) - 1."""
    assert other_threads({0: 1.0, 2: 1.0}, 2.0, 1.0) == pytest.approx(5**0.5 - 1, rel=1e-6)
    assert other_threads({0: 1.0}, 2.0, 0.5) == pytest.approx(0.5)
    assert other_threads({}, 2.0, 0.5) == 0.5


def test_postgresql_backends_work_beside_the_loop_and_add_their_wait() -> None:
    """The same work with half of every commit on the backends: the loop keeps only the Python (so
    it saturates later), and an idle event waits two store calls (ingest commit, batch)."""
    pg = replace(BASE, inline_store=False, serial_share=0.0, store_share=0.5)
    commits = 0.0002 + 0.0005 + 2 * 0.0001
    assert _finished_rate(pg, 4000, 2, seed=4) == pytest.approx(1 / (LOOP - 0.5 * commits), rel=0.08)
    idle = simulate_step(replace(pg, store_wait_s=0.003), rate=0.2, seconds=200, seed=1)
    assert idle.percentile(50) == pytest.approx(IDLE + 2 * 0.003, rel=1e-6)


@pytest.mark.slow
def test_sqlite_serialises_the_store_work_of_processes_and_the_fit_recovers_its_share() -> None:
    """Two processes on four cores: alone each loop finishes 1 / 6.5 ms; with 90 % of the commits'
    4.4 ms per event under the one write lock they share 4 ms of it per event."""
    two = replace(BASE, processes=2, cores=4.0, batch_per_event_s=0.004)
    free = _finished_rate(two, 2000, 1, seed=5)
    assert free == pytest.approx(2 / (LOOP + 0.0035), rel=0.06)
    locked = _finished_rate(replace(two, store_share=0.9), 2000, 1, seed=5)
    assert locked < 1 / (0.9 * 0.0044) * 1.02
    fitted = fit_share(two, "store_share", 2000, 1, locked, seed=5)
    assert fitted.store_share == pytest.approx(0.9, abs=0.05)


def test_latency_climbs_with_load() -> None:
    low, high = (simulate_step(replace(BASE, processes=2), r, 10, seed=6) for r in (100, 900))
    assert high.percentile(99) > 2 * low.percentile(99)
    assert high.mean_batch > low.mean_batch


@pytest.mark.slow
def test_wake_ups_under_other_load_lengthen_the_tail_and_the_fit_finds_the_slice() -> None:
    """With other load a sleeping loop waits its turn; the fitted slice reproduces a p95 (within the
    p95's own noise: the slice's random draws shift the arrival stream)."""
    loaded = replace(BASE, background_cores=1.0)
    quiet = simulate_step(loaded, 100, 10, seed=6)
    slow = simulate_step(replace(loaded, slice_s=0.008), 100, 10, seed=6)
    assert slow.percentile(95) > quiet.percentile(95) + 0.004
    runs = [simulate_step(replace(loaded, slice_s=0.008), 100, 10, 11 + k).percentile(95) for k in range(3)]
    assert fit_slice(loaded, 100, 10, sorted(runs)[1]).slice_s == pytest.approx(0.008, rel=0.25)


def test_a_wake_up_waits_behind_the_runnable_threads_per_core_ours_included() -> None:
    """Mean wait ``slice_s`` x (our running servers + the other load's threads) / cores; none
    without other load."""
    from simulator.saturation_sim import Engine

    engine = Engine(replace(BASE, background_cores=1.0, slice_s=0.002), 10.0, seed=1, threads=1.0)
    engine.running = 3
    draws = [engine._wake_wait() for _ in range(20000)]
    assert sum(draws) / len(draws) == pytest.approx(0.002 * 4 / 2, rel=0.03)
    quiet = Engine(replace(BASE, slice_s=0.002), 10.0, seed=1, threads=0.0)
    assert quiet._wake_wait() == 0.0


def test_postgresql_round_trips_each_wait_a_wake_up() -> None:
    """One event at a time under one core of other load (one thread, nothing of ours running when a
    store call returns): the ingest commit's 3 and the batch's 18 round trips add 21 waits of mean
    ``slice_s`` / 2 to the mean latency; the results' commit times nothing."""
    pg = replace(BASE, inline_store=False, serial_share=0.0, store_share=0.5, background_cores=1.0,
                 slice_s=0.002)  # fmt: skip
    plain = simulate_step(pg, rate=5, seconds=200, seed=1)
    trips = simulate_step(replace(pg, round_trips=(3, 3, 18)), rate=5, seconds=200, seed=1)
    extra = sum(trips.latencies) / len(trips.latencies) - sum(plain.latencies) / len(plain.latencies)
    assert extra == pytest.approx(21 * 0.002 / 2, rel=0.15)


def test_measured_runnable_threads_stand_before_each_wake_up_and_none_means_no_wait() -> None:
    """A step that counted its other load's runnable threads runs with that count (not the count
    inferred from their CPU); a count of 0 (an idle machine between samples) waits nothing."""
    loaded = replace(BASE, background_cores=0.5, slice_s=0.004)
    few = simulate_step(replace(loaded, background_threads=0.5), 100, 10, seed=6)
    many = simulate_step(replace(loaded, background_threads=6.0), 100, 10, seed=6)
    assert many.percentile(95) > few.percentile(95)
    idle = simulate_step(replace(loaded, background_threads=0.0), 100, 10, seed=6)
    assert idle.offered == len(idle.latencies) > 0
