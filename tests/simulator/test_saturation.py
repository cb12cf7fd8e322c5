"""The saturation model against what can be worked out by hand: an idle system, a saturated loop,
processor sharing, the store lane and the fit of its serial share."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.saturation import SaturationParams, _finished_rate, fit_serial_share, fit_slice, simulate_step

BASE = SaturationParams(
    cores=1.0,
    processes=1,
    workers=1,
    batch_size=64,
    ingest_s=0.001,
    batch_fixed_s=0.002,
    batch_per_event_s=0.0005,
    dispatch_s=0.001,
    sink_s=0.0004,
    driver_s=0.0,
    background_threads=0.0,
    serial_share=0.0,
    inline_store=True,
)


def test_an_idle_system_answers_in_the_sum_of_the_work() -> None:
    """One event at a time (0.2/s): ingest + group commit of one + dispatch + the sink's two answers;
    the sink runs beside the loop, so its two halves share the one core only with each other."""
    step = simulate_step(BASE, rate=0.2, seconds=200, seed=1)
    expected = 0.001 + 0.002 + 0.0005 + 0.001 + 0.0004
    assert step.offered > 20
    assert step.percentile(50) == pytest.approx(expected, rel=1e-6)
    assert step.latencies[-1] == pytest.approx(expected, rel=1e-6)


def test_a_saturated_loop_finishes_at_the_rate_its_full_batches_cost() -> None:
    """Far above capacity the one loop does ingest, dispatch and full group commits back to back;
    the sink (0.4 ms) takes its share of the single core too."""
    per_event = 0.001 + 0.0005 + 0.002 / 64 + 0.001 + 0.0004
    rate = _finished_rate(BASE, 1500, 4, seed=2)
    assert rate == pytest.approx(1 / per_event, rel=0.06)


def test_more_cores_help_only_as_many_processes_as_there_are() -> None:
    two = replace(BASE, cores=2.0, processes=2)
    one_core = replace(two, cores=1.0)
    assert _finished_rate(two, 2500, 3, seed=3) > 1.6 * _finished_rate(one_core, 2500, 3, seed=3)
    # one process on two cores: the loop is the limit (the sink has the other core)
    loop_per_event = 0.001 + 0.0005 + 0.002 / 64 + 0.001
    assert _finished_rate(replace(BASE, cores=2.0), 2500, 3, seed=3) == pytest.approx(
        1 / loop_per_event, rel=0.06
    )


def test_latency_climbs_with_load_and_background_load_takes_cores() -> None:
    low, high = (simulate_step(BASE, r, 20, seed=4) for r in (50, 350))
    assert high.percentile(99) > 2 * low.percentile(99)
    busy = simulate_step(replace(BASE, background_threads=0.5), 350, 20, seed=4)
    assert busy.percentile(99) > high.percentile(99)


def test_a_serial_store_lane_limits_two_processes_and_the_fit_recovers_its_share() -> None:
    two = replace(BASE, cores=2.0, processes=2)
    free, serial = (
        _finished_rate(two, 2500, 3, seed=5),
        _finished_rate(replace(two, serial_share=0.8), 2500, 3, seed=5),
    )
    assert serial < 0.75 * free
    fitted = fit_serial_share(two, 2500, 3, serial, seed=5)
    assert fitted.serial_share == pytest.approx(0.8, abs=0.05)


def test_wake_ups_under_other_load_lengthen_the_tail_and_the_fit_finds_the_slice() -> None:
    """With other threads runnable a sleeping loop waits its turn; the fitted slice reproduces a p95
    (within the p95's own noise: the slice's random draws shift the arrival stream)."""
    loaded = replace(BASE, background_threads=4.0)
    quiet = simulate_step(loaded, 100, 40, seed=6)
    slow = simulate_step(replace(loaded, slice_s=0.004), 100, 40, seed=6)
    assert slow.percentile(95) > quiet.percentile(95) + 0.004
    runs = [simulate_step(replace(loaded, slice_s=0.004), 100, 40, 11 + k).percentile(95) for k in range(3)]
    assert fit_slice(loaded, 100, 40, sorted(runs)[1]).slice_s == pytest.approx(0.004, rel=0.2)
