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
