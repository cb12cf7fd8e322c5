"""Retrier: full-jitter backoff, server-directed waits, give-up rules; instant via injected sleep."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence

import httpx
import pytest
import respx

from reference.clients import (
    Retrier,
    RetryAttempt,
    RetryPolicy,
    TwilioThrottled,
    XApiClient,
    XBadRequest,
    XRateLimited,
    XServiceUnavailable,
    XUsageCapped,
    retry_all_transport_errors,
)

NOW = 1_700_000_000.0


class Sleeps:
    """An injected sleep that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def failing(errors: Sequence[Exception], result: str = "done") -> Callable[[], Awaitable[str]]:
    """An operation that raises the given errors in turn, then returns ``result``."""
    pending = list(errors)

    async def operation() -> str:
        if pending:
            raise pending.pop(0)
        return result

    return operation


def unavailable() -> XServiceUnavailable:
    return XServiceUnavailable(503, {"title": "Service Unavailable"})


def make_retrier(sleeps: Sleeps, seed: int = 1, **policy: float) -> Retrier:
    return Retrier(RetryPolicy(**policy), sleep=sleeps, clock=lambda: NOW, rng=random.Random(seed))  # type: ignore[arg-type]


async def test_retries_transient_errors_then_succeeds() -> None:
    """Two 503s then success: the result is returned after exactly two sleeps."""
    sleeps = Sleeps()
    assert await make_retrier(sleeps).run(failing([unavailable(), unavailable()])) == "done"
    assert len(sleeps.delays) == 2


async def test_full_jitter_stays_under_exponential_ceiling() -> None:
    """Each backoff lies in [0, min(max_delay, base * 2**(n-1))]."""
    sleeps = Sleeps()
    retrier = make_retrier(sleeps, max_attempts=8, base_delay=0.5, max_delay=4.0)
    await retrier.run(failing([unavailable() for _ in range(7)]))
    ceilings = [min(4.0, 0.5 * 2**n) for n in range(7)]
    assert all(0.0 <= d <= c for d, c in zip(sleeps.delays, ceilings, strict=True))
    assert len(set(sleeps.delays)) == 7  # jittered, not a fixed schedule


async def test_same_seed_gives_same_delays() -> None:
    """With the same RNG seed two runs wait exactly the same; another seed differs."""
    runs = []
    for seed in (3, 3, 4):
        sleeps = Sleeps()
        await make_retrier(sleeps, seed=seed).run(failing([unavailable()] * 3))
        runs.append(sleeps.delays)
    assert runs[0] == runs[1] and runs[0] != runs[2]


async def test_gives_up_after_max_attempts_with_last_error() -> None:
    """After max_attempts failures the last error is raised and no more attempts are made."""
    sleeps = Sleeps()
    errors = [unavailable() for _ in range(4)]
    with pytest.raises(XServiceUnavailable) as caught:
        await make_retrier(sleeps, max_attempts=3).run(failing(errors))
    assert caught.value is errors[2] and len(sleeps.delays) == 2


async def test_non_retryable_error_is_raised_at_once() -> None:
    """A 400 is never retried."""
    sleeps = Sleeps()
    with pytest.raises(XBadRequest):
        await make_retrier(sleeps).run(failing([XBadRequest(400, {"title": "Invalid Request"})]))
    assert sleeps.delays == []


async def test_usage_cap_is_not_waited_out() -> None:
    """A spent usage cap is raised immediately so the caller can fall back to SMS."""
    sleeps = Sleeps()
    capped = XUsageCapped(
        429, {"type": "https://api.twitter.com/2/problems/usage-capped", "title": "Usage cap"}
    )
    with pytest.raises(XUsageCapped):
        await make_retrier(sleeps).run(failing([capped]))
    assert sleeps.delays == []


async def test_rate_limit_waits_until_reset() -> None:
    """XRateLimited waits until x-rate-limit-reset plus the margin (and at most base_delay of jitter)."""
    sleeps = Sleeps()
    limited = XRateLimited(429, {"title": "Too Many Requests"}, retry_at=NOW + 30)
    await make_retrier(sleeps, base_delay=0.1, reset_margin=1.0).run(failing([limited]))
    assert 31.0 <= sleeps.delays[0] <= 31.1


async def test_retry_after_seconds_are_honoured() -> None:
    """A Twilio 20429 with Retry-After: 2 waits about two seconds, not the backoff."""
    sleeps = Sleeps()
    throttled = TwilioThrottled(20429, "Too Many Requests", 429, retry_after=2.0)
    await make_retrier(sleeps, base_delay=0.05).run(failing([throttled]))
    assert 2.0 <= sleeps.delays[0] <= 2.05


async def test_reset_in_the_past_retries_promptly() -> None:
    """A reset time already passed does not produce a negative or long wait."""
    sleeps = Sleeps()
    limited = XRateLimited(429, {"title": "Too Many Requests"}, retry_at=NOW - 100)
    await make_retrier(sleeps, base_delay=0.1, reset_margin=0.0).run(failing([limited]))
    assert 0.0 <= sleeps.delays[0] <= 0.1


async def test_too_long_server_wait_gives_up() -> None:
    """A reset further away than max_server_wait raises at once instead of stalling the outbox."""
    sleeps = Sleeps()
    limited = XRateLimited(429, {"title": "Too Many Requests"}, retry_at=NOW + 3600)
    with pytest.raises(XRateLimited):
        await make_retrier(sleeps, max_server_wait=900).run(failing([limited]))
    assert sleeps.delays == []


async def test_connect_errors_retried_read_timeouts_not_by_default() -> None:
    """A connection never made is retried; a read timeout (the POST may have landed) is not."""
    sleeps = Sleeps()
    assert await make_retrier(sleeps).run(failing([httpx.ConnectError("refused")])) == "done"
    with pytest.raises(httpx.ReadTimeout):
        await make_retrier(sleeps).run(failing([httpx.ReadTimeout("slow")]))
    assert len(sleeps.delays) == 1


async def test_all_transport_errors_predicate_for_idempotent_reads() -> None:
    """With retry_all_transport_errors a read timeout is retried too."""
    sleeps = Sleeps()
    retrier = Retrier(sleep=sleeps, rng=random.Random(1), is_retryable=retry_all_transport_errors)
    assert await retrier.run(failing([httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")])) == "done"
    assert len(sleeps.delays) == 2


async def test_on_retry_reports_each_wait() -> None:
    """on_retry sees the failed attempt number, the delay and whether the server chose it."""
    seen: list[RetryAttempt] = []
    sleeps = Sleeps()
    limited = XRateLimited(429, {"title": "Too Many Requests"}, retry_at=NOW + 5)
    retrier = Retrier(sleep=sleeps, clock=lambda: NOW, rng=random.Random(2), on_retry=seen.append)
    await retrier.run(failing([unavailable(), limited]))
    assert [(a.attempt, a.server_directed) for a in seen] == [(1, False), (2, True)]
    assert [a.delay for a in seen] == sleeps.delays


def test_policy_rejects_nonsense() -> None:
    """Zero attempts or negative delays are configuration errors."""
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)


async def test_x_client_429_then_success_through_retrier(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """End to end: a real 429 response's reset header drives the single wait before the retry."""
    limited = httpx.Response(
        429,
        json={"title": "Too Many Requests", "type": "about:blank", "status": 429},
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(NOW) + 60),
        },
    )
    x_router.post("/2/tweets").side_effect = [
        limited,
        httpx.Response(201, json={"data": {"id": "9", "text": "t"}}),
    ]
    sleeps = Sleeps()
    retrier = Retrier(RetryPolicy(base_delay=0.0), sleep=sleeps, clock=lambda: NOW, rng=random.Random(0))
    created = await retrier.run(lambda: x_client.create_tweet("t"))
    assert created.id == "9" and sleeps.delays == [61.0]
