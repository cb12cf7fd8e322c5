"""The X write budget: how many more tweets (or DMs) the operator may post right now.

X documents POST /2/tweets at 100 per 15 minutes per user and 10,000 per 24 hours per app
(``x-api.md`` §2). :class:`WriteBudget` counts the process's own writes in sliding windows for
each configured limit and also learns from the ``x-rate-limit-*`` headers of every answer (X's
own count, which includes writes by other processes) and from a 429's ``x-rate-limit-reset``.
When any of them says "none left", the dispatcher skips the reply tweet and the SMS carries
the confirmation alone.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reference.clients.x_models import RateLimitState
from reference.runtime.config import ServiceConfig

__all__ = ["WindowLimit", "WriteBudget", "write_budgets"]


@dataclass(frozen=True, slots=True)
class WindowLimit:
    """``limit`` writes per ``window_s`` seconds (``limit`` 0 = no limit)."""

    limit: int
    window_s: float
    name: str = ""


class _Window:
    __slots__ = ("limit", "stamps")

    def __init__(self, limit: WindowLimit) -> None:
        self.limit = limit
        self.stamps: deque[float] = deque()

    def left(self, now: float) -> float:
        stamps, horizon = self.stamps, now - self.limit.window_s
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return float(self.limit.limit - len(stamps))


class WriteBudget:
    """Sliding-window counts of our writes plus what X's headers say.

    Arguments:
        limits: the windows to respect; a limit of 0 is ignored.
        clock: Unix time in seconds (``time.time``; tests pass a fake).
    """

    def __init__(self, limits: Sequence[WindowLimit], *, clock: Callable[[], float] = time.time) -> None:
        self._windows = [_Window(limit) for limit in limits if limit.limit > 0]
        self._clock = clock
        self._server_remaining: int | None = None
        self._server_reset = 0.0
        self._paused_until = 0.0

    def left(self) -> float:
        """Writes still allowed now (``inf`` when nothing limits them)."""
        now = self._clock()
        if now < self._paused_until:
            return 0.0
        left = math.inf
        for window in self._windows:
            left = min(left, window.left(now))
        if self._server_remaining is not None and now < self._server_reset:
            left = min(left, float(self._server_remaining))
        return max(left, 0.0)

    def available(self) -> bool:
        """Whether one more write fits."""
        return self.left() >= 1

    def take(self) -> bool:
        """Reserve one write if it fits (the caller then sends it)."""
        if not self.available():
            return False
        now = self._clock()
        for window in self._windows:
            window.stamps.append(now)
        if self._server_remaining is not None and now < self._server_reset:
            self._server_remaining -= 1
        return True

    def learn(self, state: RateLimitState | None) -> None:
        """Adopt X's own count from a response's ``x-rate-limit-*`` headers."""
        if state is None:
            return
        self._server_remaining = state.remaining
        self._server_reset = float(state.reset_at)

    def pause_until(self, reset_at: float) -> None:
        """X answered 429: no writes until ``reset_at`` (Unix time)."""
        self._paused_until = max(self._paused_until, reset_at)

    @property
    def paused_until(self) -> float:
        """Unix time until which X told us to stop (0 when it never did)."""
        return self._paused_until


def write_budgets(config: ServiceConfig, epoch: Callable[[], float]) -> tuple[WriteBudget, WriteBudget]:
    """The tweet budget (the operator's and the app's windows) and the DM budget of one process,
    each limit cut to its share when ``config.processes`` processes share them."""
    tweets = WriteBudget(
        [
            WindowLimit(config.share(config.x_user_tweet_limit), config.x_user_tweet_window_s, "user"),
            WindowLimit(config.share(config.x_app_tweet_limit), config.x_app_tweet_window_s, "app"),
        ],
        clock=epoch,
    )
    dms = WriteBudget([WindowLimit(config.share(config.x_dm_limit), config.x_dm_window_s, "dm")], clock=epoch)
    return tweets, dms
