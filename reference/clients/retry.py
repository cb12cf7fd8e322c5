"""Retrying outbound calls: exponential backoff with full jitter that defers to the server's reset.

A :class:`Retrier` runs an async operation up to ``max_attempts`` times. Between attempts it
sleeps for ``uniform(0, min(max_delay, base_delay * 2**(attempt-1)))`` ("full jitter"), unless the
error carries the server's own instruction: ``retry_at`` (absolute Unix time, from X's
``x-rate-limit-reset``) or ``retry_after`` (seconds, from ``Retry-After``), in which case it sleeps
until then (plus a little jitter so many workers do not wake at once). A server-directed wait
longer than ``max_server_wait`` is not waited out: the error is raised at once so the caller
can take another path (e.g. confirm by SMS alone when X's write budget is spent).

Clock, sleep and RNG are injected, so tests run instantly and deterministically::

    retrier = Retrier(RetryPolicy(max_attempts=4), sleep=fake_sleep, clock=lambda: now,
                      rng=random.Random(7))
    tweet = await retrier.run(lambda: x.create_tweet(text, in_reply_to_tweet_id=tid))
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from reference.clients.errors import ClientError

__all__ = [
    "Clock",
    "RetryAttempt",
    "RetryPolicy",
    "Retrier",
    "Sleep",
    "outcome_unknown",
    "retry_all_transport_errors",
    "retry_safe_errors",
]

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Failures before the request reached the server: always safe to repeat, even for a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_safe_errors(error: BaseException) -> bool:
    """Retry errors the server marked retryable and transport failures before the request left.

    A read timeout on a POST is *not* retried: the tweet or SMS may already exist.
    """
    if isinstance(error, ClientError):
        return error.retryable
    return isinstance(error, _NOT_SENT)


def outcome_unknown(error: BaseException) -> bool:
    """A transport failure after the request may have left (read timeout, connection dropped):
    the tweet or SMS may exist, so it must be looked up at the gateway before it is sent again."""
    return isinstance(error, httpx.TransportError) and not isinstance(error, _NOT_SENT)


def retry_all_transport_errors(error: BaseException) -> bool:
    """Like :func:`retry_safe_errors`, and also any transport error (for idempotent reads)."""
    if isinstance(error, ClientError):
        return error.retryable
    return isinstance(error, httpx.TransportError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry. Times are seconds."""

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0
    max_server_wait: float = 900.0
    reset_margin: float = 1.0  # x-rate-limit-reset has whole-second resolution

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_server_wait < 0 or self.reset_margin < 0:
            raise ValueError("delays must not be negative")

    def backoff_ceiling(self, attempt: int) -> float:
        """The largest jittered delay after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * (2.0 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class RetryAttempt:
    """Reported to ``on_retry`` before each sleep: which attempt failed, how, and the wait."""

    attempt: int
    delay: float
    error: BaseException
    server_directed: bool


class Retrier:
    """Runs async operations under a :class:`RetryPolicy`.

    Arguments:
        policy: attempts and delays.
        sleep: ``asyncio.sleep`` by default; tests pass a recorder.
        clock: current Unix time (``time.time`` by default), to turn ``retry_at`` into a delay.
        rng: source of jitter; pass ``random.Random(seed)`` for reproducible runs.
        is_retryable: which errors to retry (default :func:`retry_safe_errors`).
        on_retry: called with a :class:`RetryAttempt` before each wait (metrics, logs).
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        is_retryable: Callable[[BaseException], bool] = retry_safe_errors,
        on_retry: Callable[[RetryAttempt], None] | None = None,
    ) -> None:
        self.policy = policy if policy is not None else RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._is_retryable = is_retryable
        self._on_retry = on_retry

    def delay_for(self, attempt: int, error: BaseException) -> tuple[float, bool] | None:
        """``(delay, server_directed)`` before the next attempt, or None to give up now."""
        if attempt >= self.policy.max_attempts or not self._is_retryable(error):
            return None
        server_wait = self._server_wait(error)
        if server_wait is not None:
            if server_wait > self.policy.max_server_wait:
                return None
            return server_wait + self._rng.uniform(0.0, self.policy.base_delay), True
        return self._rng.uniform(0.0, self.policy.backoff_ceiling(attempt)), False

    def _server_wait(self, error: BaseException) -> float | None:
        retry_at = getattr(error, "retry_at", None)
        if isinstance(retry_at, (int, float)):
            return max(0.0, float(retry_at) - self._clock() + self.policy.reset_margin)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, (int, float)):
            return max(0.0, float(retry_after))
        return None

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Await ``operation()`` until it succeeds, raising its last error when retries end."""
        attempt = 1
        while True:
            try:
                return await operation()
            except Exception as error:
                decision = self.delay_for(attempt, error)
                if decision is None:
                    raise
                delay, server_directed = decision
                if self._on_retry is not None:
                    self._on_retry(RetryAttempt(attempt, delay, error, server_directed))
                await self._sleep(delay)
                attempt += 1
