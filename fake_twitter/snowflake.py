"""Snowflake ids as X makes them: milliseconds since the Twitter epoch, worker id and sequence.

``(ms - 1288834974657) << 22 | worker << 12 | sequence`` gives 19-digit ids today; ids never go
backwards even if the clock does (the generator then continues from the last id).
"""

from __future__ import annotations

from fake_twitter.clock import Clock

__all__ = ["TWITTER_EPOCH_MS", "SnowflakeGenerator", "snowflake_time"]

TWITTER_EPOCH_MS = 1_288_834_974_657


def snowflake_time(snowflake: int) -> float:
    """The Unix time (seconds) encoded in a snowflake id."""
    return ((snowflake >> 22) + TWITTER_EPOCH_MS) / 1000.0


class SnowflakeGenerator:
    """Strictly increasing ids on the injected clock."""

    def __init__(self, clock: Clock, worker_id: int = 1) -> None:
        if not 0 <= worker_id < 1024:
            raise ValueError("worker_id must be in [0, 1024)")
        self.clock = clock
        self.worker_bits = worker_id << 12
        self.last = 0

    def next_id(self) -> int:
        ms = int(self.clock.time() * 1000) - TWITTER_EPOCH_MS
        candidate = (ms << 22) | self.worker_bits
        if candidate <= self.last:
            candidate = self.last + 1
        self.last = candidate
        return candidate
