"""Seeded statistical tests of the carrier model on the manual clock (10,000 messages each)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_SERVICE_SID, DEFAULT_SHORT_CODE, ManualClock, SmsBackend
from fake_sms.carrier import LatencyModel

N = 10_000
ACCOUNT = DEFAULT_ACCOUNT_SID
FAST = "FASTLANE"  # an alphanumeric sender fast enough that queueing never matters


def _backend(seed: int = 3, **carrier) -> SmsBackend:
    config = {
        "carrier": {"default": carrier} if carrier else {},
        "accounts": [{"sid": ACCOUNT, "senders": [{"number": FAST, "kind": "alphanumeric", "rate": 1e6}]}],
    }
    return SmsBackend(clock=ManualClock(), seed=seed, config=config)


def _send_many(backend: SmsBackend, n: int, sender: str, **extra: str) -> list:
    account = backend.accounts[ACCOUNT]
    params = {"From": sender, "Body": "Your Twittcom code is 123456", **extra}
    return [backend.create_message(account, {**params, "To": f"+9198{i:08d}"}) for i in range(n)]


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def test_default_latency_fits_the_indian_otp_figures():
    """The default model has p50 4 s, p95 12 s and p99 under 30 s."""
    model = LatencyModel.from_percentiles()
    assert model.quantile(0.5) == pytest.approx(4.0)
    assert model.quantile(0.95) == pytest.approx(12.0)
    assert model.quantile(0.99) < 30.0


@pytest.mark.parametrize(("p50", "p95"), [(4.0, 12.0), (2.0, 9.0)])
def test_measured_latency_percentiles_within_5_percent(p50, p95):
    """Over 10,000 messages, measured sent->delivered p50/p95/p99 are within 5 % of the configured ones."""
    backend = _backend(latency={"p50": p50, "p95": p95}, failure_rates={})
    messages = _send_many(backend, N, FAST)
    backend.advance(3600)
    assert all(m.status == "delivered" for m in messages)
    latencies = sorted((m.done_us - m.sent_us) / 1e6 for m in messages)
    model = LatencyModel.from_percentiles(p50, p95)
    for q in (0.5, 0.95, 0.99):
        assert _quantile(latencies, q) == pytest.approx(model.quantile(q), rel=0.05), q


def _max_per_window(times_us: list[int]) -> int:
    return max(Counter(t // 1_000_000 for t in times_us).values())


def test_short_code_never_exceeds_100_per_second():
    """10,000 messages on a short code: no 1-second window holds more than 100 sends, and the sender
    runs at its cap (100 s of carrier time)."""
    backend = _backend()
    messages = _send_many(backend, N, DEFAULT_SHORT_CODE)
    backend.advance(200)
    sends = [m.sending_us for m in messages]
    assert None not in sends
    assert _max_per_window(sends) == 100
    assert max(sends) == pytest.approx(99.99e6, abs=1)


def test_long_code_sends_one_segment_per_second():
    """A long code sends 1 segment/s: single-segment messages 1 s apart, 3-segment ones 3 s apart."""
    backend = _backend()
    account = backend.accounts[ACCOUNT]
    short = [
        backend.create_message(account, {"From": "+15005550006", "To": "+919800000001", "Body": "x"})
        for _ in range(5)
    ]
    long_body = "y" * 400  # 3 GSM-7 segments
    long = [
        backend.create_message(account, {"From": "+15005550006", "To": "+919800000002", "Body": long_body})
        for _ in range(3)
    ]
    backend.advance(60)
    assert [m.sending_us for m in short] == [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]
    assert [m.num_segments for m in long] == [3, 3, 3]
    assert [m.sending_us for m in long] == [5_000_000, 8_000_000, 11_000_000]


def test_messaging_service_pool_spreads_and_caps():
    """The default service pool of 10 long codes sends 10 messages/s in total and 1/s per number."""
    backend = _backend()
    messages = _send_many(backend, 1000, "", MessagingServiceSid=DEFAULT_SERVICE_SID)
    backend.advance(300)
    by_sender: dict[str, list[int]] = {}
    for m in messages:
        by_sender.setdefault(m.sender, []).append(m.sending_us)
    assert len(by_sender) == 10
    assert all(_max_per_window(times) == 1 for times in by_sender.values())
    assert _max_per_window([m.sending_us for m in messages]) == 10


def test_queue_expiry_fails_with_30036():
    """On a 1 msg/s long code with ValidityPeriod 30, the first 31 go out and the rest fail with
    30036 exactly when their validity runs out, never having been sent."""
    backend = _backend(failure_rates={})
    messages = _send_many(backend, 100, "+15005550006", ValidityPeriod="30")
    backend.advance(600)
    sent = [m for m in messages if m.sent_us is not None]
    failed = [m for m in messages if m.status == "failed"]
    assert len(sent) == 31 and len(failed) == 69
    assert all(m.error_code == 30036 and m.done_us == 30_000_000 for m in failed)
    assert all(m.status == "delivered" for m in sent)


def test_service_pool_overflow_fails_after_creation_with_30001():
    """When every pool number is beyond its queue window, the message is accepted, then fails 30001."""
    backend = _backend(failure_rates={})
    account = backend.accounts[ACCOUNT]
    backend.configure(
        {
            "accounts": [
                {
                    "sid": ACCOUNT,
                    "services": [
                        {"sid": DEFAULT_SERVICE_SID, "pool": [{"number": "+15005550200", "queue_window": 2}]}
                    ],
                }
            ]
        }
    )
    params = {"MessagingServiceSid": DEFAULT_SERVICE_SID, "To": "+919800000003", "Body": "x"}
    messages, statuses = [], []
    for _ in range(5):
        messages.append(backend.create_message(account, params))
        statuses.append(messages[-1].status)
    assert statuses == ["accepted"] * 5
    backend.advance(60)
    # 1 msg/s and a 2 s window: backlogs 0, 1, 2 fit; 3 and 4 s overflow
    assert [m.error_code for m in messages] == [None, None, None, 30001, 30001]
    assert [m.status for m in messages] == ["delivered"] * 3 + ["failed"] * 2


def test_failure_rates_within_tolerance():
    """Over 10,000 messages each undelivered code occurs at its configured rate (4 standard errors)."""
    rates = {"30003": 0.05, "30005": 0.02, "30006": 0.01, "30007": 0.01, "30008": 0.01}
    backend = _backend(failure_rates=rates)
    messages = _send_many(backend, N, FAST)
    backend.advance(3600)
    codes = Counter(m.error_code for m in messages if m.status == "undelivered")
    for code, rate in rates.items():
        tolerance = 4 * math.sqrt(rate * (1 - rate) / N)
        assert abs(codes[int(code)] / N - rate) <= tolerance, code
    delivered = sum(m.status == "delivered" for m in messages)
    assert delivered + sum(codes.values()) == N


def test_same_seed_same_history():
    """Two backends with the same seed and requests give the same sids, latencies and outcomes."""
    runs = []
    for _ in range(2):
        backend = _backend(seed=99)
        messages = _send_many(backend, 500, DEFAULT_SHORT_CODE)
        backend.advance(600)
        runs.append([(m.sid, m.done_us, m.status, m.error_code) for m in messages])
    assert runs[0] == runs[1]
    other = _backend(seed=100)
    assert _send_many(other, 1, DEFAULT_SHORT_CODE)[0].sid != runs[0][0][0]


def test_outage_holds_delivery_until_the_circle_returns():
    """During a circle's outage nothing is delivered there; held messages arrive after it ends,
    while other circles deliver normally."""
    backend = _backend(failure_rates={})
    backend.register_handsets({"+919800000010": "DL", "+919800000020": "MU"})
    backend.add_outage("DL", 0.0, 120.0)
    account = backend.accounts[ACCOUNT]
    dl = [
        backend.create_message(account, {"From": FAST, "To": "+919800000010", "Body": f"{i}"})
        for i in range(50)
    ]
    mu = [
        backend.create_message(account, {"From": FAST, "To": "+919800000020", "Body": f"{i}"})
        for i in range(50)
    ]
    backend.advance(119)
    assert all(m.status == "sent" for m in dl)
    assert backend.handset_messages("+919800000010") == []
    assert all(m.status == "delivered" for m in mu if m.latency_us < 119e6)
    backend.advance(3600)
    assert all(m.status == "delivered" and m.done_us >= 120e6 for m in dl)
    assert all(m.done_us == 120_000_000 + m.retry_latency_us for m in dl)
    assert len(backend.handset_messages("+919800000010")) == 50


def test_outage_longer_than_validity_leaves_messages_undelivered():
    """A message held in an outage that outlasts its validity ends undelivered (30003) at expiry."""
    backend = _backend(failure_rates={})
    backend.circles.set_prefixes({"+9198": "DL"})
    backend.add_outage("DL", 0.0, 10_000.0)
    messages = _send_many(backend, 20, FAST, ValidityPeriod="600")
    backend.advance(20_000)
    assert all(m.status == "undelivered" and m.error_code == 30003 for m in messages)
    assert all(m.done_us == m.expires_us for m in messages)


def test_removing_an_open_ended_outage_releases_held_messages():
    """An outage without an end holds messages until it is removed; then they are retried."""
    backend = _backend(failure_rates={})
    backend.register_handsets({"+919800000030": "KA"})
    outage = backend.add_outage("KA")
    account = backend.accounts[ACCOUNT]
    m = backend.create_message(account, {"From": FAST, "To": "+919800000030", "Body": "code 1"})
    backend.advance(500)
    assert m.status == "sent" and m.held
    backend.remove_outage(outage.id)
    backend.advance(500)
    assert m.status == "delivered" and m.done_us == 500_000_000 + m.retry_latency_us
    assert [r.body for r in backend.handset_messages("+919800000030")] == ["code 1"]


def test_circle_profiles_override_the_default():
    """A circle's own profile (here: every message filtered, 30007) applies only to that circle."""
    backend = _backend(failure_rates={})
    backend.configure(
        {"carrier": {"circles": {"TN": {"failure_rates": {"30007": 1.0}}}, "prefixes": {"+9194": "TN"}}}
    )
    account = backend.accounts[ACCOUNT]
    tn = backend.create_message(account, {"From": FAST, "To": "+919400000001", "Body": "x"})
    other = backend.create_message(account, {"From": FAST, "To": "+919800000001", "Body": "x"})
    backend.advance(600)
    assert (tn.status, tn.error_code) == ("undelivered", 30007)
    assert other.status == "delivered"


def test_retention_bounds_stored_messages():
    """Stored messages are capped by retention.max_messages, oldest evicted first."""
    backend = _backend()
    backend.configure({"retention": {"max_messages": 100}})
    messages = _send_many(backend, 250, FAST)
    assert len(backend.messages) == 100
    assert list(backend.messages) == [m.sid for m in messages[-100:]]
    assert backend.live_counters()["counters"]["evicted"] == 150


def test_long_run_keeps_every_store_bounded():
    """20,000 messages to 5,000 phones with small retention bounds: stored messages, inboxes, phones and
    pending callbacks all stay within their bounds, the newest phones and messages are the ones kept, and
    a lowered bound applies from the next message on."""
    backend = _backend()
    bounds = {"max_messages": 300, "max_per_handset": 2, "max_handsets": 50, "max_pending_callbacks": 40}
    backend.configure({"retention": bounds})
    account = backend.accounts[ACCOUNT]
    for n in range(20_000):
        backend.create_message(
            account,
            {"From": FAST, "To": f"+9198{n % 5000:08d}", "Body": f"c{n}", "StatusCallback": "http://h/cb"},
        )
        if n % 500 == 499:
            backend.advance(60)
    backend.advance(600)
    counters = backend.live_counters()
    assert counters["stored_messages"] == 300 and counters["handsets"] == 50
    assert counters["pending_callbacks"] <= 40
    inboxes = [backend.handset_messages(f"+9198{n:08d}") for n in range(5000)]
    kept = [inbox for inbox in inboxes if inbox]
    assert len(kept) == 50 and all(len(inbox) <= 2 for inbox in kept)
    assert backend.live_counters()["counters"]["callbacks_dropped"] > 0
    backend.configure({"retention": {"max_messages": 10}})
    backend.create_message(account, {"From": FAST, "To": "+919800000001", "Body": "last"})
    assert len(backend.messages) == 10 and list(backend.messages.values())[-1].body == "last"
