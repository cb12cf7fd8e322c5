"""The predicted sweep step of a system under test (:mod:`simulator.polled_sweep`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import load_scenario
from simulator.polled_sweep import read_cost_per_message, simulate_polled_step
from twittcom.sweep_against import model_capacity

TINY = Path(__file__).resolve().parents[2] / "examples" / "tiny-low.toml"
# tiny-low polls every 1 s; one worker at 40 ms a message: 25 messages/s
FORTY_MS = [f"system.workers.service.{kind}=0.04" for kind in ("noise", "reg", "act", "dm", "code")]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(TINY, FORTY_MS)


def test_the_calibrated_capacity_is_workers_over_the_mean_service_time(scenario):
    assert model_capacity(scenario) == pytest.approx(25.0)
    assert model_capacity(load_scenario(TINY, [*FORTY_MS, "workers=3"])) == pytest.approx(75.0)


def test_at_low_load_latency_is_the_poll_wait_and_one_service_time(scenario):
    step = simulate_polled_step(scenario, 2.0, 200.0, seed=1)
    assert step.offered > 300 and step.timed < step.offered  # noise is offered, not timed
    assert step.percentile(50) == pytest.approx(0.5 + 0.04, abs=0.1)
    assert 0.95 < step.percentile(99) <= 1.0 + 2 * 0.04 + 0.01


def test_latency_climbs_with_load_and_the_worker_falls_behind_past_capacity(scenario):
    p99 = [simulate_polled_step(scenario, rate, 30.0, seed=2).percentile(99) for rate in (5, 15, 22, 30)]
    assert p99 == sorted(p99)
    over = simulate_polled_step(scenario, 35.0, 30.0, seed=2)
    in_step_rate = over.processed_in_step * over.offered / over.timed / 30.0
    assert in_step_rate == pytest.approx(25.0, rel=0.1)  # the worker's capacity, not the offered 35/s
    assert over.percentile(99) > 5.0


def test_held_scales_what_a_message_holds_its_worker_not_its_low_load_latency(scenario):
    batched = simulate_polled_step(scenario, 35.0, 30.0, seed=3, held=0.5)  # capacity 50/s
    assert batched.percentile(99) < 1.5
    alone = simulate_polled_step(scenario, 1.0, 300.0, seed=3, held=0.5)
    assert alone.percentile(50) == pytest.approx(0.5 + 0.04, abs=0.1)  # still one whole service time
    slower = simulate_polled_step(scenario, 20.0, 30.0, seed=3, held=1.5)  # capacity 16.7/s
    assert slower.percentile(99) > 5.0


def test_the_read_budget_limits_ingestion(scenario):
    read_once_per_10_s = ["rate_limit_requests=1", "rate_limit_window_s=10", "page_size=5"]
    limited = load_scenario(TINY, [*FORTY_MS, *(f"system.ingestion.{o}" for o in read_once_per_10_s)])
    free = simulate_polled_step(scenario, 5.0, 30.0, seed=4)
    capped = simulate_polled_step(limited, 5.0, 30.0, seed=4)  # 5 mentions per 10 s read
    assert free.percentile(99) < 1.2 < capped.percentile(50)


def test_a_poller_that_waits_after_each_round_falls_behind_by_its_read_cost(scenario):
    cadence = simulate_polled_step(scenario, 20.0, 30.0, seed=5, held=0.1)
    rounds = simulate_polled_step(scenario, 20.0, 30.0, seed=5, held=0.1, read_cost=0.02)  # 0.4 s a round
    assert rounds.percentile(50) > cadence.percentile(50) + 0.2


def test_the_read_cost_is_the_gaps_beyond_the_interval_over_the_messages_read():
    # rounds read 10 posts each and take 0.05 s per post: each next round starts 1 + 0.5 s later
    starts = [1.5 * k for k in range(10)]
    posts = [s - 0.01 * (j + 1) for s in starts[1:] for j in range(10)]
    cost, stalls = read_cost_per_message(starts, posts, 1.0, [(0.0, 100.0)])
    assert cost == pytest.approx(0.05) and max(stalls) == pytest.approx(0.0, abs=1e-9)
    cadence = read_cost_per_message([float(k) for k in range(10)], posts, 1.0, [(0.0, 100.0)])
    assert cadence[0] == 0.0 and not any(cadence[1])  # a fixed cadence: no cost, no stalls
    assert read_cost_per_message(starts, posts, 1.0, [(0.0, 100.0)], max_read=9) == (0.0, ())  # cut short


def test_a_stalled_round_is_a_stall_not_a_cost_per_message():
    # rounds read 200 posts each at 1 ms a post (1.2 s apart); one round stalls 0.5 s more
    starts, t = [], 0.0
    for k in range(12):
        starts.append(t)
        t += 1.2 + (0.5 if k == 5 else 0.0)
    posts = [b - 1e-4 * (j + 1) for b in starts[1:] for j in range(200)]
    cost, stalls = read_cost_per_message(starts, posts, 1.0, [(0.0, 100.0)])
    assert cost == pytest.approx(0.001)
    assert sorted(stalls)[-1] == pytest.approx(0.5) and sorted(stalls)[-2] == pytest.approx(0.0, abs=1e-9)


def test_a_poller_more_than_x_s_800_newest_mentions_behind_loses_the_older(scenario):
    slow_polls = load_scenario(TINY, [*FORTY_MS, "system.ingestion.poll_interval_s=3"])
    within = simulate_polled_step(slow_polls, 200.0, 12.0, seed=6, held=0.001)  # ~480 mentions a round
    beyond = simulate_polled_step(slow_polls, 400.0, 12.0, seed=6, held=0.001)  # ~960: the oldest lost
    assert within.percentile(99) < 3.5
    assert beyond.percentile(95) > 100  # never answered: counted at the drain's end
    assert beyond.percentile(50) < 3.5  # the newest 800 of each round are still read
    stalled = simulate_polled_step(slow_polls, 200.0, 12.0, seed=6, held=0.001, stalls=(2.0,))
    assert stalled.percentile(95) > 100  # a 5 s round reads 900 mentions: it loses the oldest


def test_a_poller_that_reads_what_its_timeline_lost_from_search_loses_none(scenario):
    """``depth=None``: the system reads the mentions pushed out of X's 800 newest from recent search
    (the reference does), so a round further behind answers every mention, only later."""
    slow_polls = load_scenario(TINY, [*FORTY_MS, "system.ingestion.poll_interval_s=3"])
    beyond = simulate_polled_step(slow_polls, 400.0, 12.0, seed=6, held=0.001, depth=None)
    assert beyond.percentile(100) < 4.0  # a round's wait and a service time: nothing left unanswered
