"""Small units: clocks, circle lookup, sender slots, config merging, message listing filters."""

from __future__ import annotations

import pytest

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_SERVICE_SID, CircleMap, ManualClock, ScaledClock, SmsBackend
from fake_sms.config import merge_config
from fake_sms.exceptions import ControlError
from fake_sms.senders import Sender


def test_scaled_clock_runs_time_scale_times_faster():
    """Carrier time is wall time x scale; changing the scale does not jump carrier time."""
    wall = [100.0]
    clock = ScaledClock(10.0, monotonic=lambda: wall[0])
    wall[0] += 1.5
    assert clock.now() == pytest.approx(15.0)
    clock.set_scale(2.0)
    assert clock.now() == pytest.approx(15.0)
    wall[0] += 1.0
    assert clock.now() == pytest.approx(17.0)
    assert clock.wall_seconds_until(clock.now_us() + 4_000_000) == pytest.approx(2.0)


def test_manual_clock_only_moves_forward():
    """The manual clock advances on demand and refuses to go back."""
    clock = ManualClock()
    clock.advance(2.5)
    assert clock.now_us() == 2_500_000
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_circle_lookup_order():
    """Registry beats the longest prefix, which beats shorter prefixes and the default."""
    circles = CircleMap({"+91": "IN", "+9198": "DL", "+91981": "DL-north"})
    circles.register("+919812345678", "MU")
    assert circles.circle_of("+919812345678") == "MU"
    assert circles.circle_of("+919811111111") == "DL-north"
    assert circles.circle_of("+919822222222") == "DL"
    assert circles.circle_of("+917000000000") == "IN"
    assert circles.circle_of("+15005550006") == "default"


def test_sender_slots_round_up():
    """A 3/s sender spaces single-segment messages by ceil(1e6/3) us, so it never exceeds 3/s."""
    sender = Sender("X", "alphanumeric", 3.0)
    starts = [sender.take_slot(0, 1)[0] for _ in range(4)]
    assert starts == [0, 333_334, 666_668, 1_000_002]
    assert sender.backlog_us(500_000) == 833_336


def test_merge_config_rules():
    """Dicts merge, failure_rates replace whole, accounts append, other values replace."""
    base = {"a": {"b": 1, "c": 2}, "failure_rates": {"1": 1}, "accounts": [1], "x": 1}
    merged = merge_config(base, {"a": {"c": 3}, "failure_rates": {"2": 2}, "accounts": [2], "x": 5})
    assert merged == {"a": {"b": 1, "c": 3}, "failure_rates": {"2": 2}, "accounts": [1, 2], "x": 5}
    assert base["a"] == {"b": 1, "c": 2}
    with pytest.raises(ControlError):
        merge_config(base, [1])  # type: ignore[arg-type]


def test_service_message_goes_accepted_then_queued():
    """A messaging-service message is accepted at creation, then queued, sending, sent, delivered."""
    backend = SmsBackend(clock=ManualClock(), seed=2, config={"carrier": {"default": {"failure_rates": {}}}})
    account = backend.accounts[DEFAULT_ACCOUNT_SID]
    m = backend.create_message(
        account,
        {
            "MessagingServiceSid": DEFAULT_SERVICE_SID,
            "To": "+919800000001",
            "Body": "x",
            "StatusCallback": "http://cb",
        },
    )
    assert m.status == "accepted"
    backend.advance(600)
    assert [job.params["MessageStatus"] for job in backend.engine.callbacks] == [
        "queued",
        "sending",
        "sent",
        "delivered",
    ]
    assert m.sending_us == 0 and m.sent_us == 1_000_000 and m.done_us == m.sent_us + m.latency_us


def test_bad_configuration_is_rejected():
    """Unknown failure codes, rates above 1, bad sids and empty pools are control errors."""
    backend = SmsBackend(clock=ManualClock())
    for patch in (
        {"carrier": {"default": {"failure_rates": {"12345": 0.1}}}},
        {"carrier": {"default": {"failure_rates": {"30003": 0.7, "30005": 0.7}}}},
        {"carrier": {"default": {"latency": {"p50": 10, "p95": 5}}}},
        {"accounts": [{"sid": "nope", "auth_token": "t"}]},
        {"accounts": [{"sid": DEFAULT_ACCOUNT_SID, "services": [{"sid": "MG" + "1" * 32, "pool": []}]}]},
        {"accounts": [{"sid": DEFAULT_ACCOUNT_SID, "senders": [{"number": "+1", "kind": "pigeon"}]}]},
        {"faults": {"api_error_rate": 2}},
    ):
        with pytest.raises(ControlError):
            backend.configure(patch)
