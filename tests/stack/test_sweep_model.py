"""The sweep's calibration recovers a model from probes that model produced: the commits' fixed
cost, the per-event split and the store's share, from CPU per event, stage times and capacity."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from simulator.saturation import SaturationParams, _finished_rate, simulate_step
from twittcom.sweep_model import fit_params

TRUE = SaturationParams(
    cores=2.0,
    processes=2,
    workers=1,
    batch_size=64,
    request_s=0.0002,
    ingest_s=0.0002,
    batch_per_event_s=0.002,  # heavy enough that the write lock binds at saturation
    send_s=0.0004,  # the dispatch's 1 ms split 0.4 / 2 x 0.2 / 2 x 0.1, as the calibration assumes
    receive_s=0.0002,
    finish_s=0.0001,
    commit_fixed_s=0.0006,
    sink_s=0.0002,
    driver_s=0.0,
    background_cores=0.0,
    store_share=0.4,
    inline_store=True,
)
LOW, HIGH, SECONDS = 100.0, 1500.0, 1.0


def _probe(rate: float) -> dict[str, Any]:
    """What the live probe would report if the processor were ``TRUE`` on a quiet machine."""
    step = simulate_step(TRUE, rate, SECONDS, seed=3)
    cpu = TRUE.per_event_s + TRUE.commit_fixed_s * step.commits_per_event
    return {
        "seconds": SECONDS, "offered": step.offered, "service_cpu_per_event_s": cpu,
        "database_cpu_per_event_s": 0.0, "sink_cores": TRUE.sink_s * step.offered / SECONDS,
        "driver_cores": 0.0, "background_cores": 0.0, "other_cores_drained": 0.0,
        "p50_s": step.percentile(50), "p95_s": step.percentile(95),
        # stage medians in proportion to each stage's work (what the split reads)
        "stage_ingest_p50_s": 0.0004, "stage_batch_p50_s": 0.002, "stage_out_p50_s": 0.001,
    }  # fmt: skip


@pytest.mark.slow
def test_calibration_recovers_the_model_that_made_the_probes() -> None:
    """c = V + F k at two probes gives F and V; the stage split gives each task's share; the
    capacity gives the store's share; a quiet machine leaves no wall time beyond the CPU."""
    doc = {
        "store": "sqlite", "cores": 2.0, "processes": 2, "workers": 1, "batch_size": 64, "seed": 1,
        "probe": {"low_rate": LOW, "high_rate": HIGH, "seconds": SECONDS},
        "calibration": {"capacity_per_s": _finished_rate(TRUE, HIGH, SECONDS, seed=7),
                        "low_probe": _probe(LOW), "high_probe": _probe(HIGH)},
    }  # fmt: skip
    params, found = fit_params(doc)
    assert params.commit_fixed_s == pytest.approx(TRUE.commit_fixed_s, rel=0.1)
    assert params.per_event_s == pytest.approx(TRUE.per_event_s, rel=0.1)
    for name in ("request_s", "batch_per_event_s", "send_s", "finish_s"):
        assert getattr(params, name) == pytest.approx(getattr(TRUE, name), rel=0.1), name
    assert params.store_share == pytest.approx(TRUE.store_share, abs=0.1)
    assert params.hop_s < 0.0003 and params.slice_s == 0.0
    assert found["commits_per_event"][0] > 3 > 0.5 > found["commits_per_event"][1]
    postgres = fit_params(
        {**doc, "store": "postgresql", "calibration": {**doc["calibration"], "low_probe": {
            **doc["calibration"]["low_probe"], "database_cpu_per_event_s": 0.001}}}
    )[0]  # fmt: skip
    # the backends' CPU per event is the commits' store work at the low probe
    commit_work = replace(postgres, store_share=1.0)
    per_event_commits = (
        commit_work.commit_fixed_s * found["commits_per_event"][0]
        + commit_work.ingest_s + commit_work.batch_per_event_s + 2 * commit_work.finish_s
    )  # fmt: skip
    assert postgres.store_share * per_event_commits == pytest.approx(0.001, rel=0.1)
    assert not postgres.inline_store


def _step(rate: float, p95: float, load: float, **more: Any) -> dict[str, Any]:
    return {"target_rate": rate, "seconds": 1.0, "offered": int(rate), "accepted": int(rate),
            "processed_in_step": int(rate), "completed": int(rate), "p50_s": p95 / 2, "p95_s": p95,
            "p99_s": p95 * 1.2, "p95_interval_s": [p95, p95], "p99_interval_s": [p95, p95],
            "background_cores": load, "driver_cores": 0.0, **more}  # fmt: skip


def test_the_checks_p95_is_pooled_over_their_runs_and_predicted_at_each_runs_load() -> None:
    """Three runs at one share: the measured p95 is the 95th percentile of all their events, not
    a mean of their p95s; the model runs each at its own other load; an older document (one run per
    share, no latencies) is judged on the way-up interpolation as before."""
    from twittcom.sweep_model import _at_share, _check_runs, _measured

    grid = _measured([_step(50.0, 0.010, 0.0), _step(150.0, 0.030, 0.0)])
    runs = [
        _step(100.0, 0.005, 0.0, share=0.5, repeat=0, latencies_ms=[1.0] * 90 + [2.0] * 10),
        _step(60.0, 0.050, 0.0, share=0.8, repeat=0, latencies_ms=[3.0]),
        _step(100.0, 0.050, 0.5, share=0.5, repeat=1, latencies_ms=[1.0] * 50 + [50.0] * 50),
    ]
    doc = {"knee_share_runs": runs}
    assert [r["repeat"] for r in _check_runs(doc, 0.5)] == [0, 1]
    found = _at_share(TRUE, grid, 0.5, 200.0, _check_runs(doc, 0.5), 2.0, 2, 1)
    # 200 events, the 190th of them sorted: among the second run's slow half
    assert found["measured_p95_s"] == pytest.approx(0.050) and found["events"] == 200
    assert found["measured_how"] == "pooled" and found["runs"] == 2
    assert found["other_load_cores"] == pytest.approx(0.25)
    assert found["measured_way_up_p95_s"] == pytest.approx((0.010 * 0.030) ** 0.5)  # log-linear
    assert found["p95_ratio"] == pytest.approx(found["predicted"]["p95_s"]["median"] / 0.050)
    old = {"knee_share_runs": [_step(100.0, 0.02, 0.0), _step(160.0, 0.03, 0.0)]}
    assert [r["target_rate"] for r in _check_runs(old, 0.8)] == [160.0]
    legacy = _at_share(TRUE, grid, 0.5, 200.0, _check_runs(old, 0.5), 2.0, 2, 1)
    assert legacy["measured_how"] == "way_up"
    assert legacy["measured_p95_s"] == legacy["measured_way_up_p95_s"]
    assert legacy["measured_after_sweep"]["p95_s"] == 0.02


def test_the_model_follows_the_machines_speed_between_the_saturating_probes() -> None:
    """The same code's saturated CPU per event moved 1.05 -> 1.45 ms between two quiet sweeps ten
    minutes apart: each step is predicted at the speed the probes around it read (linear in time),
    CPU costs scaled, wall-clock waits not; the capacity the model finds falls as the machine slows."""
    from twittcom.sweep_model import at_speed, speed_at

    probes = [{"at_s": 10.0, "cpu_per_event_s": 0.001}, {"at_s": 110.0, "cpu_per_event_s": 0.0014},
              {"at_s": 210.0, "cpu_per_event_s": 0.0012}]  # fmt: skip
    assert speed_at(probes, 10.0) == 1.0 and speed_at(probes, 0.0) == 1.0  # before the first: its own
    assert speed_at(probes, 60.0) == pytest.approx(1.2) and speed_at(probes, 160.0) == pytest.approx(1.3)
    assert speed_at(probes, 500.0) == pytest.approx(1.2) and speed_at(probes, None) == 1.0
    assert speed_at([], 60.0) == 1.0  # an older document: calibrated once
    slow = at_speed(replace(TRUE, hop_s=0.001, store_wait_s=0.002), 1.4)
    assert slow.per_event_s == pytest.approx(1.4 * TRUE.per_event_s)
    assert slow.commit_fixed_s == pytest.approx(1.4 * TRUE.commit_fixed_s) and slow.sink_s == pytest.approx(
        1.4 * TRUE.sink_s
    )
    assert (slow.hop_s, slow.store_wait_s) == (0.001, 0.002)
    assert at_speed(TRUE, 1.0) is TRUE
    fast, slower = (
        _finished_rate(TRUE, HIGH, SECONDS, seed=7),
        _finished_rate(at_speed(TRUE, 1.4), HIGH, SECONDS, 7),
    )
    assert slower < 0.85 * fast


def test_the_directory_holds_a_new_number_for_every_reg_the_sweep_can_post() -> None:
    """A ``#reg`` event's number is its index past its run's base, and every run (probes, grid,
    refining and check steps, speed probes, settling steps) moves the base by rate x seconds x 1.5 +
    50: the pool covers the longest sweep the spec allows, whatever the mix's #reg share."""
    from twittcom.sweep_run import SweepSpec, fresh_numbers_needed

    spec = SweepSpec(reg_share=0.2, steps=(0.5, 1.0, 1.3), check_repeats=5, refine_steps=3, reprobe_every=3)

    def taken(rate: float, seconds: float) -> int:
        return int(rate * seconds * 1.5) + 50

    top = spec.probe_high_rate * 1.3
    runs = [taken(100.0, 1.0), taken(100.0, 4.0), taken(2500.0, 4.0)]  # warm-up, low and high probes
    measured = 3 + 3 + 10
    runs += [taken(top, 8.0)] * measured
    runs += [taken(2500.0, 4.0)] * (measured // 3 + 1)  # speed probes, the last after the last step
    runs += [taken(100.0, 2.0)] * (measured + measured // 3 + 1)  # a settling step after each
    assert fresh_numbers_needed(spec) >= sum(runs)
    assert fresh_numbers_needed(replace(spec, reprobe_every=0)) < fresh_numbers_needed(spec)
