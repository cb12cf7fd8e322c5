"""Clocks of the fake: wall time that tests can push forward, or a manual clock that never moves alone.

Rate-limit windows, snowflake ids, ``created_at`` values and outage windows all read the backend's
clock, so a test advances time (``clock.advance(900)`` or ``POST /_fake/clock/advance``) instead of
sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Seconds since the Unix epoch, plus a way to move forward."""

    def time(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time plus an offset that :meth:`advance` grows."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds


class ManualClock:
    """A clock that stands still until advanced (deterministic tests and seeds)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.now += seconds
