"""Queueing stations of the model, each computed exactly and cheaply.

- :class:`FifoServers`: c identical servers sharing one FIFO queue. Because the discipline is FIFO
  and a job's service time is drawn on arrival, its start time is exact on arrival by the
  Kiefer-Wolfowitz recursion (start = max(arrival, earliest free server)); the simpy model then
  schedules only the completion events that have consequences downstream.
- :class:`RateCappedSender`: a FIFO sender limited to ``mps`` messages/s (a D/1 queue, or D/c for
  a pool of numbers), by the Lindley recursion, with messages dropped once they would wait longer
  than their validity.
- :class:`SmppSubmit`: the SMPP sender in front of the SMSC's sender queue: submit_sm paced by the
  tightest of the processor's and the SMSC's throughput caps (a D/1 queue), then ``binds x window``
  slots each held for the SMSC's response time (c deterministic servers).
- :class:`WindowBudget`: a fixed-window request/write budget (X rate limits) that records when it
  ran out in each window.

The two queues report the exact time-average of their length over an interval
(:meth:`mean_queue`), which the depth time series shows: an instantaneous sample taken at a poll
instant would show the poll's whole batch even when it clears in milliseconds.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

__all__ = ["FifoServers", "RateCappedSender", "SmppSubmit", "WindowBudget"]


class FifoServers:
    """``servers`` FIFO servers; :meth:`admit` returns the start and completion time of a job."""

    __slots__ = ("_free", "_track", "_waiting", "busy_time", "jobs", "servers")

    def __init__(self, servers: int, track_queue: bool = True) -> None:
        self.servers = servers
        self._track = track_queue  # keep (arrival, start) of waiting jobs for mean_queue()
        self._free = [0.0] * servers  # a heap of the times each server next becomes free
        self._waiting: deque[tuple[float, float]] = deque()  # (arrival, start) of jobs that wait
        self.busy_time = 0.0
        self.jobs = 0

    def admit(self, now: float, service: float) -> tuple[float, float]:
        """Admit a job arriving at ``now`` needing ``service`` seconds; return (start, done)."""
        free = self._free
        earliest = free[0]
        start = earliest if earliest > now else now
        done = start + service
        heapq.heapreplace(free, done)
        if start > now and self._track:
            self._waiting.append((now, start))
        self.busy_time += service
        self.jobs += 1
        return start, done

    def mean_queue(self, since: float, now: float) -> float:
        """Time-average number of waiting jobs over [since, now]; call with consecutive intervals."""
        return _mean_queue(self._waiting, since, now)


class RateCappedSender:
    """FIFO messages over ``numbers`` sending numbers sharing ``mps`` messages/s; validity-bound.

    Each number sends one message per ``numbers / mps`` seconds (its slot); a message leaves through
    the number free soonest (a messaging service's pool: an M/D/c queue; one number: M/D/1). A
    message that would wait longer than ``validity`` seconds for its slot is dropped.
    :meth:`submit` returns the start of the message's slot; it is handed to the carrier at the
    slot's end, :attr:`slot_s` later.
    """

    __slots__ = ("_free", "_next_free", "_pending", "expired", "numbers", "sent", "slot_s", "validity")

    def __init__(self, mps: float, validity: float, numbers: int = 1) -> None:
        self.numbers = numbers
        self.slot_s = numbers / mps
        self._next_free = 0.0
        self._free = [0.0] * numbers  # a heap of when each number is next free (pools only)
        self._pending: deque[tuple[float, float]] = deque()  # (queued, dispatch) of messages that wait
        self.validity = validity
        self.sent = 0
        self.expired = 0

    def submit(self, now: float) -> float | None:
        """Queue a message at ``now``; return its slot's start, or None if it would expire first."""
        slot = self._next_free if self.numbers == 1 else self._free[0]
        dispatch = slot if slot > now else now
        if dispatch - now > self.validity:
            self.expired += 1
            return None
        if self.numbers == 1:
            self._next_free = dispatch + self.slot_s
        else:
            heapq.heapreplace(self._free, dispatch + self.slot_s)
        if dispatch > now:
            self._pending.append((now, dispatch))
        self.sent += 1
        return dispatch

    def mean_queue(self, since: float, now: float) -> float:
        """Time-average number of queued messages over [since, now]; consecutive intervals only."""
        return _mean_queue(self._pending, since, now)


class SmppSubmit:
    """submit_sm through ``slots`` (binds x window) at ``rate`` submit_sm/s (inf: no cap), each slot
    held ``latency`` seconds; :meth:`submit` returns when the SMSC has the message (its
    submit_sm_resp), or None when it would wait longer than ``validity``."""

    __slots__ = ("_cap", "_window", "latency")

    def __init__(self, rate: float, slots: int, latency: float, validity: float) -> None:
        self._cap = RateCappedSender(rate, validity) if math.isfinite(rate) else None
        self._window = FifoServers(slots) if latency > 0 else None
        self.latency = latency

    def submit(self, now: float) -> float | None:
        at = now
        if self._cap is not None:
            slot = self._cap.submit(now)
            if slot is None:
                return None
            at = slot
        if self._window is not None:
            at = self._window.admit(at, self.latency)[1]
        return at

    def mean_queue(self, since: float, now: float) -> float:
        """Time-average submit_sm waiting for the cap or a window slot over [since, now]."""
        total = 0.0
        if self._cap is not None:
            total += self._cap.mean_queue(since, now)
        if self._window is not None:
            total += self._window.mean_queue(since, now)
        return total


class WindowBudget:
    """``limit`` uses per fixed window of ``window_s`` seconds; remembers when each window ran out."""

    __slots__ = ("_used", "_window_end", "denied", "exhausted_at", "limit", "used_total", "window_s")

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._window_end = -1.0
        self._used = 0
        self.used_total = 0
        self.denied = 0
        self.exhausted_at: list[float] = []

    def remaining(self, now: float) -> int:
        """Uses left in the window containing ``now`` (call with non-decreasing ``now``)."""
        if now >= self._window_end:
            self._window_end = (now // self.window_s + 1) * self.window_s
            self._used = 0
        return self.limit - self._used

    def use_one(self, now: float) -> None:
        """Use one unit that :meth:`remaining` just said is available."""
        self._used += 1
        self.used_total += 1
        if self._used >= self.limit:
            self.exhausted_at.append(now)

    def take(self, now: float, amount: int = 1) -> int:
        """Use up to ``amount`` at ``now``; return how many were granted (the rest are denied)."""
        left = self.remaining(now)
        granted = amount if amount <= left else max(left, 0)
        self._used += granted
        self.used_total += granted
        self.denied += amount - granted
        if granted and self._used >= self.limit:
            self.exhausted_at.append(now)
        return granted


def _mean_queue(waiting: deque[tuple[float, float]], since: float, now: float) -> float:
    """Integrate the number of (arrival, start) intervals covering [since, now]; drop finished ones.

    FIFO starts are non-decreasing, so finished entries are at the left.
    """
    if now <= since:
        return 0.0
    area = 0.0
    for arrival, start in waiting:
        if arrival >= now:
            break
        lo = arrival if arrival > since else since
        hi = start if start < now else now
        if hi > lo:
            area += hi - lo
    while waiting and waiting[0][1] <= now:
        waiting.popleft()
    return area / (now - since)
