"""Exact FIFO stations: Kiefer-Wolfowitz servers, rate-capped sender, window budgets."""

from __future__ import annotations

import pytest

from simulator.stations import FifoServers, RateCappedSender, WindowBudget


def test_fifo_servers_start_jobs_when_a_server_frees():
    """With 2 servers, the third job starts when the first one finishes."""
    s = FifoServers(2)
    assert s.admit(0.0, 5.0) == (0.0, 5.0)
    assert s.admit(1.0, 1.0) == (1.0, 2.0)
    assert s.admit(1.5, 4.0) == (2.0, 6.0)
    assert s.admit(1.6, 1.0) == (5.0, 6.0)
    assert s.busy_time == 11.0


def test_fifo_servers_time_average_queue():
    """Mean queue over [0, 10] integrates the waiting intervals (0.5 + 3.4 s over 10 s)."""
    s = FifoServers(2)
    for now, service in [(0.0, 5.0), (1.0, 1.0), (1.5, 4.0), (1.6, 1.0)]:
        s.admit(now, service)
    assert s.mean_queue(0.0, 10.0) == pytest.approx((0.5 + 3.4) / 10)
    assert s.mean_queue(10.0, 20.0) == 0.0


def test_sender_spaces_messages_by_the_cap_and_expires_late_ones():
    """At 2 msg/s messages leave 0.5 s apart; one that would wait beyond validity is dropped."""
    sender = RateCappedSender(2.0, validity=1.0)
    assert [sender.submit(0.0) for _ in range(3)] == [0.0, 0.5, 1.0]
    assert sender.submit(0.0) is None
    assert sender.expired == 1 and sender.sent == 3
    assert sender.submit(5.0) == 5.0


def test_window_budget_resets_each_window_and_records_exhaustion():
    """A budget of 3 per 10 s runs out at the third use and refills in the next window."""
    b = WindowBudget(3, 10.0)
    assert b.take(1.0, 2) == 2
    assert b.take(2.0, 5) == 1
    assert b.exhausted_at == [2.0] and b.denied == 4
    assert b.remaining(9.9) == 0
    assert b.remaining(10.0) == 3
    b.use_one(11.0)
    assert b.used_total == 4


def test_rate_capped_sender_is_an_md1_queue():
    """Poisson messages at 80/s into a 100 msg/s sender wait as M/D/1 (Pollaczek-Khinchine) says."""
    import random

    rng = random.Random(5)
    sender = RateCappedSender(100.0, validity=1e9)
    t, total, n = 0.0, 0.0, 400_000
    for _ in range(n):
        t += rng.expovariate(80.0)
        dispatch = sender.submit(t)
        assert dispatch is not None
        total += dispatch - t
    rho = 0.8
    expected = rho / (2 * 100.0 * (1 - rho))  # W_q of M/D/1
    assert total / n == pytest.approx(expected, rel=0.03)  # spread over seeds at 300k: ~0.7 %


def test_a_pool_sends_through_the_number_free_soonest():
    """Two numbers sharing 2 msg/s: each takes 1 s per message, two leave at once (M/D/2)."""
    sender = RateCappedSender(2.0, validity=10.0, numbers=2)
    assert sender.slot_s == 1.0
    assert [sender.submit(0.0) for _ in range(5)] == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert sender.submit(5.0) == 5.0


def test_smpp_submit_is_paced_by_the_tightest_cap_then_the_window() -> None:
    """SMPP stage: 10 submit_sm/s from the caps; binds x window = 2 slots of 0.5 s carry 4/s."""
    from simulator.stations import SmppSubmit

    capped = SmppSubmit(10.0, 100, 0.0, validity=1e9)
    times = [capped.submit(0.0) for _ in range(50)]
    assert times[0] == 0.0 and times[-1] == pytest.approx(4.9)
    windowed = SmppSubmit(float("inf"), 2, 0.5, validity=1e9)
    done = [windowed.submit(0.0) for _ in range(40)]
    assert done[:2] == [0.5, 0.5] and done[-1] == pytest.approx(10.0)  # 40 / (2 / 0.5) = 10 s
    assert SmppSubmit(1.0, 1, 0.0, validity=5.0).submit(0.0) == 0.0


def test_smpp_scenario_keys_reach_the_model(tmp_path) -> None:
    """protocol = "smpp" with a tight window makes codes wait at the SMPP stage; twilio ignores it."""
    from scenario import load_scenario
    from simulator.runner import run_scenario

    path = tmp_path / "smpp.toml"
    path.write_text(
        '[[arrivals.segments]]\nkind = "constant"\nduration_s = 30\nrate = 20\n'
        '[system.sms]\nprotocol = "smpp"\nmps = 1000\n'
        "[system.sms.smpp]\nbinds = 1\nwindow = 1\nsubmit_latency_s = 0.1\n"
    )
    tight = load_scenario(path)
    assert tight.system.sms.smpp.window_rate == pytest.approx(10.0)
    loose = load_scenario(path, ["system.sms.smpp.window=20"])
    twilio = load_scenario(path, ["system.sms.protocol=twilio"])
    waits = {
        name: run_scenario(sc, seed=1).summary["code_latency_stages_s"]["sms_queue"]["mean"]
        for name, sc in (("tight", tight), ("loose", loose), ("twilio", twilio))
    }
    assert waits["tight"] > 1.0 > waits["loose"] >= waits["twilio"]
