"""The adaptive drain: a run ends once the journeys still running cannot finish before its bound."""

from __future__ import annotations

from loadtests.drain import code_lost, drain_over, held_past_end

OUTAGES = (("KO", 8.0, 3600.0),)


def test_a_code_to_a_circle_down_past_the_end_is_held_past_the_end():
    """Kolkata's SMS is down from 8 s to past the run's end: its waiting subscribers cannot finish."""
    assert held_past_end("ko", 1200.0, OUTAGES, t0=1000.0, now=1070.0, run_end=1120.0)


def test_other_circles_and_outages_not_yet_started_or_ending_in_time_can_still_deliver():
    """Another circle, an outage not yet begun, or one that ends before the run's end: still waiting."""
    assert not held_past_end("DL", 1200.0, OUTAGES, t0=1000.0, now=1070.0, run_end=1120.0)
    assert not held_past_end("KO", 1200.0, OUTAGES, t0=1000.0, now=1005.0, run_end=1120.0)
    assert not held_past_end("KO", 1200.0, (("KO", 8.0, 100.0),), t0=1000.0, now=1070.0, run_end=1120.0)


def test_a_user_who_gives_up_within_the_run_is_waited_for():
    """A journey that will end (abandoned) before the run's bound is not hopeless: the drain waits for it."""
    assert not held_past_end("KO", 1110.0, OUTAGES, t0=1000.0, now=1070.0, run_end=1120.0)
    assert not code_lost([{"status": "undelivered"}], 1110.0, 1120.0)


def test_a_code_sms_is_lost_only_when_every_message_to_the_number_failed():
    """Failed or undelivered codes never arrive; one still on its way, or none sent yet, may."""
    assert code_lost([{"status": "undelivered"}, {"status": "failed"}], 1200.0, 1120.0)
    assert not code_lost([{"status": "undelivered"}, {"status": "sent"}], 1200.0, 1120.0)
    assert not code_lost([], 1200.0, 1120.0)


def test_the_drain_is_over_only_after_the_arrivals_with_every_start_claimed_and_nothing_finishable():
    """Before the arrivals end, with starts unclaimed, or with a journey that can finish, it goes on."""
    assert drain_over(now=61.0, arrivals_end=60.0, unclaimed=0, running=3, hopeless=3)
    assert not drain_over(now=59.0, arrivals_end=60.0, unclaimed=0, running=0, hopeless=0)
    assert not drain_over(now=61.0, arrivals_end=60.0, unclaimed=1, running=0, hopeless=0)
    assert not drain_over(now=61.0, arrivals_end=60.0, unclaimed=0, running=4, hopeless=3)
