"""The fake's own carrier clock, in integer microseconds since the backend started.

Two variants (simpy style, subclasses rather than flags):

* :class:`ManualClock` stands still until :meth:`ManualClock.advance` moves it; tests use it so a
  10,000-message carrier day runs in milliseconds.
* :class:`ScaledClock` follows the wall clock times ``time_scale`` (carrier seconds run ``time_scale``
  times faster than wall seconds); the served app uses it.

``epoch`` is the wall-clock instant (UTC datetime) that carrier time 0 corresponds to; message dates
are ``epoch + carrier time``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["US_PER_S", "Clock", "ManualClock", "ScaledClock", "from_us", "to_us"]

US_PER_S = 1_000_000


def to_us(seconds: float) -> int:
    """Seconds -> integer microseconds (rounded)."""
    return round(seconds * US_PER_S)


def from_us(us: int) -> float:
    """Integer microseconds -> seconds."""
    return us / US_PER_S


class Clock:
    """Carrier time source. ``now_us()`` never goes backwards."""

    manual: bool = False

    def __init__(self, epoch: datetime | None = None) -> None:
        self.epoch = epoch or datetime(2026, 1, 1, tzinfo=UTC)

    def now_us(self) -> int:
        raise NotImplementedError

    def now(self) -> float:
        """Carrier seconds since start."""
        return self.now_us() / US_PER_S


class ManualClock(Clock):
    """A clock that only moves when told to (``advance``/``set``)."""

    manual = True

    def __init__(self, epoch: datetime | None = None, start_us: int = 0) -> None:
        super().__init__(epoch)
        self._now = start_us

    def now_us(self) -> int:
        return self._now

    def advance_us(self, delta_us: int) -> int:
        if delta_us < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += delta_us
        return self._now

    def advance(self, seconds: float) -> int:
        return self.advance_us(to_us(seconds))


class ScaledClock(Clock):
    """Wall time since construction times ``time_scale``; ``monotonic`` is injectable for tests."""

    def __init__(
        self,
        time_scale: float = 1.0,
        epoch: datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        super().__init__(epoch or datetime.now(UTC).replace(microsecond=0))
        self.time_scale = time_scale
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._offset_us = 0

    def now_us(self) -> int:
        return self._offset_us + int((self._monotonic() - self._t0) * self.time_scale * US_PER_S)

    def set_scale(self, time_scale: float) -> None:
        """Change the speed from now on without a jump in carrier time."""
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._offset_us = self.now_us()
        self._t0 = self._monotonic()
        self.time_scale = time_scale

    def wall_seconds_until(self, carrier_us: int) -> float:
        """Wall seconds until carrier time reaches ``carrier_us`` (0 if already past)."""
        return max(0.0, (carrier_us - self.now_us()) / US_PER_S / self.time_scale)
