"""Token-bucket rate limiting keyed by client IP or handle, on an injected clock.

Each key owns a bucket of ``capacity`` tokens refilled at ``capacity / per_s`` tokens a second; a
request takes one token or is told how long to wait for the next. Buckets live in an LRU map of at
most ``max_keys`` entries, so a flood of distinct keys costs bounded memory (an evicted key simply
starts again with a full bucket, which only ever errs towards letting a request through).
These buckets are per process. :class:`SharedWindowCounter` counts through a counter that every
process shares (the service passes its store's): with N ``twittcom serve`` processes a client still
gets the budget once, not N times. Both are :class:`RateLimiter` objects.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from reference.web.errors import WebConfigError

logger = logging.getLogger(__name__)

__all__ = [
    "KeyedTokenBuckets",
    "LimiterFactory",
    "RateLimit",
    "RateLimiter",
    "RegistrationRateLimits",
    "SharedWindowCounter",
]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``capacity`` requests at once, refilled evenly over ``per_s`` seconds."""

    capacity: int
    per_s: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.per_s <= 0:
            raise WebConfigError(f"a rate limit needs capacity >= 1 and per_s > 0, got {self}")

    @property
    def refill_per_s(self) -> float:
        return self.capacity / self.per_s


@dataclass(frozen=True, slots=True)
class RegistrationRateLimits:
    """Budgets for ``POST /register``: per client IP (all posts) and per handle (valid posts)."""

    per_ip: RateLimit = field(default_factory=lambda: RateLimit(capacity=20, per_s=600.0))
    per_handle: RateLimit = field(default_factory=lambda: RateLimit(capacity=5, per_s=600.0))
    max_keys: int = 100_000


class RateLimiter(Protocol):
    """Takes one request's worth of budget for a key."""

    #: ``take`` does I/O (a database): the page calls it off the event loop
    blocking: ClassVar[bool]

    def take(self, key: str) -> float:
        """0.0 if granted, else the seconds until the key may try again."""
        ...


#: (scope -- "ip" or "handle" --, its limit) -> the limiter of that scope
LimiterFactory = Callable[[str, RateLimit], RateLimiter]


class SharedWindowCounter:
    """Fixed windows of ``limit.per_s`` seconds, each allowing ``limit.capacity`` requests per key,
    counted through ``hit`` (adds one to a named counter shared by every process and returns the new
    count; the service passes its store's atomic ``count_hit``). Keys are hashed into counter names,
    so any client-supplied text is safe to store. A client may get up to twice the capacity across a
    window boundary (the price of one counter per window)."""

    blocking: ClassVar[bool] = True

    def __init__(
        self, limit: RateLimit, scope: str, *, hit: Callable[[str], int], clock: Callable[[], float]
    ) -> None:
        self.limit = limit
        self.scope = scope
        self._hit = hit
        self._clock = clock

    def take(self, key: str) -> float:
        now = self._clock()
        window = int(now // self.limit.per_s)
        digest = hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        try:
            count = self._hit(f"{self.scope}/{window}/{digest}")
        except Exception:
            # The shared counter is down: let the post through. The core still limits the codes
            # sent per number, in its own transaction.
            logger.warning("rate-limit counter unavailable; %s window %s not limited", self.scope, window)
            return 0.0
        if count <= self.limit.capacity:
            return 0.0
        return max(0.001, (window + 1) * self.limit.per_s - now)


class KeyedTokenBuckets:
    """One token bucket per key, all sharing one :class:`RateLimit` and one clock."""

    blocking: ClassVar[bool] = False

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float], max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise WebConfigError("max_keys must be >= 1")
        self.limit = limit
        self._clock = clock
        self._max_keys = max_keys
        #: key -> (tokens left, time of last update)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if granted, else the seconds until one is available."""
        now = self._clock()
        capacity = float(self.limit.capacity)
        state = self._buckets.get(key)
        if state is None:
            tokens = capacity
        else:
            tokens, last = state
            # max(): a clock that steps backwards must not drain the bucket
            tokens = min(capacity, tokens + max(0.0, now - last) * self.limit.refill_per_s)
            self._buckets.move_to_end(key)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._evict()
            return 0.0
        self._buckets[key] = (tokens, now)
        self._evict()
        return (1.0 - tokens) / self.limit.refill_per_s

    def _evict(self) -> None:
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
