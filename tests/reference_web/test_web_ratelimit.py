"""Token buckets per client IP and per handle, on the injected clock; 429 pages with Retry-After."""

from __future__ import annotations

import pytest

from reference.web import RateLimit, RegistrationRateLimits
from reference.web.errors import WebConfigError
from reference.web.ratelimit import KeyedTokenBuckets

from .support import client_for, submit


def test_bucket_grants_capacity_then_refuses(clock):
    """A full bucket grants `capacity` requests at once, then refuses."""
    buckets = KeyedTokenBuckets(RateLimit(capacity=3, per_s=30), clock=clock)
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") > 0


def test_refusal_says_when_the_next_token_comes(clock):
    """The wait returned is the time until one token has refilled (per_s / capacity when empty)."""
    buckets = KeyedTokenBuckets(RateLimit(capacity=2, per_s=60), clock=clock)
    buckets.take("k")
    buckets.take("k")
    assert buckets.take("k") == pytest.approx(30.0)
    clock.advance(20)
    assert buckets.take("k") == pytest.approx(10.0)
    clock.advance(10)
    assert buckets.take("k") == 0.0


def test_keys_have_separate_buckets(clock):
    """One key's exhaustion does not affect another key."""
    buckets = KeyedTokenBuckets(RateLimit(capacity=1, per_s=60), clock=clock)
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0.0


def test_clock_stepping_back_does_not_drain_or_refill(clock):
    """A clock that goes backwards neither adds tokens nor makes the wait negative."""
    buckets = KeyedTokenBuckets(RateLimit(capacity=1, per_s=60), clock=clock)
    buckets.take("k")
    clock.advance(-1000)
    assert buckets.take("k") == pytest.approx(60.0)


def test_bucket_map_is_bounded(clock):
    """At most max_keys buckets are kept (least recently used dropped first)."""
    buckets = KeyedTokenBuckets(RateLimit(capacity=1, per_s=60), clock=clock, max_keys=100)
    for i in range(1000):
        buckets.take(f"ip{i}")
    assert len(buckets) == 100


@pytest.mark.parametrize("capacity, per_s", [(0, 60), (1, 0), (-1, 10)])
def test_nonsense_limits_are_config_errors(capacity, per_s):
    """Zero or negative limits are refused when configured."""
    with pytest.raises(WebConfigError):
        RateLimit(capacity=capacity, per_s=per_s)


async def test_per_ip_limit_answers_429_with_retry_after(make_app, port):
    """Posts beyond the per-IP budget get a 429 page with Retry-After; the core is not called."""
    limits = RegistrationRateLimits(per_ip=RateLimit(2, 120), per_handle=RateLimit(100, 60))
    async with client_for(make_app(rate_limit=limits)) as c:
        assert (await submit(c, handle="a1")).status_code == 200
        assert (await submit(c, handle="a2")).status_code == 200
        refused = await submit(c, handle="a3")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert "Too many tries" in refused.text
    assert "about 1 minute" in refused.text
    assert [call.handle for call in port.calls] == ["a1", "a2"]


async def test_per_ip_limit_recovers_with_time(make_app, clock):
    """Once the bucket has refilled on the injected clock, the same IP may post again."""
    limits = RegistrationRateLimits(per_ip=RateLimit(1, 60), per_handle=RateLimit(100, 60))
    async with client_for(make_app(rate_limit=limits)) as c:
        assert (await submit(c, handle="a1")).status_code == 200
        assert (await submit(c, handle="a2")).status_code == 429
        clock.advance(60)
        assert (await submit(c, handle="a3")).status_code == 200


async def test_other_ips_are_not_limited_by_one_busy_ip(make_app):
    """The per-IP budget is per IP: a second client address still gets through."""
    limits = RegistrationRateLimits(per_ip=RateLimit(1, 60), per_handle=RateLimit(100, 60))
    app = make_app(rate_limit=limits)
    async with client_for(app, "198.51.100.1") as first:
        await submit(first, handle="a1")
        assert (await submit(first, handle="a2")).status_code == 429
    async with client_for(app, "198.51.100.2") as second:
        assert (await submit(second, handle="a3")).status_code == 200


async def test_per_handle_limit_spans_ips_and_case(make_app, port):
    """One handle is limited whatever IP it comes from and however it is capitalised."""
    limits = RegistrationRateLimits(per_ip=RateLimit(100, 60), per_handle=RateLimit(2, 600))
    app = make_app(rate_limit=limits)
    for ip, handle in [("198.51.100.1", "@Priya_K"), ("198.51.100.2", "priya_k")]:
        async with client_for(app, ip) as c:
            assert (await submit(c, handle=handle)).status_code == 200
    async with client_for(app, "198.51.100.3") as c:
        refused = await submit(c, handle="PRIYA_K")
    assert refused.status_code == 429
    assert "this Twitter handle" in refused.text
    assert int(refused.headers["retry-after"]) == 300
    assert len(port.calls) == 2


async def test_invalid_posts_do_not_spend_the_handle_budget(make_app):
    """Only valid forms take a token from the handle's bucket."""
    limits = RegistrationRateLimits(per_ip=RateLimit(100, 60), per_handle=RateLimit(1, 600))
    async with client_for(make_app(rate_limit=limits)) as c:
        assert (await submit(c, handle="priya", mobile="12")).status_code == 422
        assert (await submit(c, handle="priya")).status_code == 200


async def test_forwarded_for_is_used_only_when_trusted(make_app, port):
    """X-Forwarded-For sets the client IP only with trust_forwarded_for (nearest proxy's entry)."""
    for trusted, expected in [(False, "203.0.113.7"), (True, "192.0.2.55")]:
        async with client_for(make_app(trust_forwarded_for=trusted)) as c:
            c.headers["X-Forwarded-For"] = "10.9.9.9, 192.0.2.55"
            await submit(c)
        assert port.calls[-1].client_ip == expected


async def test_rate_limit_none_turns_limits_off(make_app):
    """rate_limit=None disables both budgets."""
    async with client_for(make_app(rate_limit=None)) as c:
        statuses = {(await submit(c, handle="same")).status_code for _ in range(30)}
    assert statuses == {200}


def test_shared_window_counter_counts_every_process_against_one_window(clock):
    """Two limiters (two processes) on one shared counter grant the capacity once per window, say
    how long until the next window, start afresh in it, and never store the raw key."""
    from collections import Counter

    from reference.web.ratelimit import SharedWindowCounter

    counts: Counter[str] = Counter()

    def hit(name: str) -> int:
        counts[name] += 1
        return counts[name]

    clock.now = 6000.0  # the start of a 60 s window
    limit = RateLimit(capacity=3, per_s=60)
    first, second = (SharedWindowCounter(limit, "ip", hit=hit, clock=clock) for _ in range(2))
    granted = [limiter.take("203.0.113.7") for limiter in (first, second, first, second)]
    assert granted[:3] == [0.0, 0.0, 0.0] and granted[3] == pytest.approx(60.0)
    clock.advance(45)
    assert second.take("203.0.113.7") == pytest.approx(15.0)
    assert first.take("198.51.100.1") == 0.0  # another key has its own budget
    clock.advance(15)
    assert first.take("203.0.113.7") == 0.0  # a new window
    assert all("203.0.113.7" not in name and name.startswith("ip/") for name in counts)


def test_shared_window_counter_lets_posts_through_when_the_store_is_down(clock, caplog):
    from reference.web.ratelimit import SharedWindowCounter

    def down(name: str) -> int:
        raise OSError("connection refused")

    limiter = SharedWindowCounter(RateLimit(capacity=1, per_s=60), "handle", hit=down, clock=clock)
    assert limiter.take("asha") == 0.0
    assert "rate-limit counter unavailable" in caplog.text
