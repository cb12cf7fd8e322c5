"""Utilisation per resource over the arrival window, and the verdict sentences built from it."""

from __future__ import annotations

import re

import pytest

from scenario import load_scenario
from simulator.runner import run_scenario
from simulator.stations import BusyMeter, WindowBudget
from simulator.utilisation import budget_utilisation, station_utilisation
from simulator.verdict import binding_resource, simulate_verdict


def _summary(path, overrides=(), seed=None):
    return run_scenario(load_scenario(path, overrides), seed).summary


def test_busy_meter_splits_work_over_the_bins_it_spans():
    meter = BusyMeter(width=5.0, horizon=20.0)
    meter.add(arrival=3.0, start=4.0, end=11.0)  # 1 s in bin 0, 5 s in bin 1, 1 s in bin 2
    assert meter.busy[:3] == pytest.approx([1.0, 5.0, 1.0])
    assert meter.offered[:3] == pytest.approx([7.0, 0.0, 0.0])  # offered where it arrived
    meter.offer(100.0, 2.0)  # past the horizon: the last bin
    assert meter.offered[-1] == 2.0


def test_station_utilisation_is_over_the_window_and_names_its_busiest_bin():
    meter = BusyMeter(width=10.0, horizon=100.0)
    for t in range(20):  # 2 servers: bin 1 (10-20 s) offered 20 x 3 s = 60 server-s of 20
        meter.add(10.0 + t / 2, 10.0 + t / 2, 10.0 + t / 2 + 3.0)
    figures = station_utilisation(meter, 2, (0.0, 40.0), "2 workers", 1.0)
    assert figures["peak_offered"] == pytest.approx(3.0)
    assert (figures["peak_from_s"], figures["peak_to_s"]) == (10.0, 20.0)
    assert figures["mean"] == pytest.approx(60.0 / (2 * 40.0))
    assert figures["needed_for_80"] == 8  # 3.0 x 2 servers / 0.8 = 7.5 -> 8


def test_budget_utilisation_counts_windows_opened_during_the_arrivals():
    budget = WindowBudget(limit=4, window_s=10.0)
    for t in (1.0, 2.0, 3.0, 4.0, 5.0, 12.0, 31.0):
        budget.take(t)
    figures = budget_utilisation(budget, arrivals_end_s=20.0)
    assert figures["peak"] == 1.0 and figures["ran_out_at_s"] == 4.0 and figures["used"] == 5


def test_worker_utilisation_leaves_the_drain_out(smoke):
    """rho 0.9 with a drain as long as the arrivals: 0.9 over the arrivals (the whole run would say 0.45)."""
    sets = [
        "arrivals.mix={noise=1.0}",
        "arrivals.segments.0.rate=450",
        "arrivals.segments.0.duration_s=200",
        'system.ingestion.mode="webhook"',
        "system.ingestion.webhook_delay=0.05",
        "workers=2",
        'system.workers.service.noise={dist="exponential", mean=0.004}',
        "run.drain_s=200",
    ]
    s = _summary(smoke, sets, seed=3)
    assert s["worker_utilization"] == pytest.approx(0.9, rel=0.03)
    assert s["utilisation"]["workers"]["mean"] == s["worker_utilization"]


def test_verdict_names_the_saturated_sender_with_its_figures(scenarios_dir):
    s = _summary(scenarios_dir / "launch.toml")
    sender = s["utilisation"]["sms_sender"]
    assert binding_resource(s["utilisation"]) == "sms_sender" and sender["peak_offered"] > 1
    first = simulate_verdict(s)[0]
    assert first.startswith("The binding resource is the SMS sender (100 msg/s)")
    assert f"{sender['peak_offered']:.0%} of its capacity" in first
    assert f"takes {sender['needed_for_80']} msg/s" in first


def test_verdict_follows_the_run_not_a_template(scenarios_dir):
    """A faster sender moves the binding figure: the sentence is computed from the run."""
    slow = " ".join(simulate_verdict(_summary(scenarios_dir / "launch.toml")))
    fast = " ".join(simulate_verdict(_summary(scenarios_dir / "launch.toml", ["sms_mps=400"])))
    assert "(400 msg/s)" in fast and slow != fast
    offered = lambda text: int(re.search(r"(\d+)% of its capacity was offered", text)[1])  # noqa: E731
    assert offered(fast) < offered(slow)


def test_verdict_names_a_budget_that_ran_out_and_the_codes_that_never_arrived(scenarios_dir):
    s = _summary(scenarios_dir / "outage-storm.toml", ["run.seed=4"])
    text = " ".join(simulate_verdict(s))
    dropped, asked = s["replies"]["dropped"], s["replies"]["posted"] + s["replies"]["dropped"]
    assert text.startswith("The binding resource is X's x_replies_user budget")
    assert f"{dropped:,} of {asked:,} reply tweets were dropped" in text
    censored = s["code_latency_s"]["censored"]
    assert censored and f"{censored:,} of {censored + s['code_latency_s']['count']:,} codes" in text
