"""The open-model arrival schedule: when each journey starts, split across load-generator processes.

A scenario's arrival profile (:class:`scenario.arrivals.ArrivalProfile`, the same one the simulator
reads) yields a seeded non-homogeneous Poisson stream of ``(time, kind)``. Every process of a run
builds the same stream from the same seed and keeps arrival ``i`` only when ``i % workers ==
worker_index``, so the schedule is split across workers without double counting or gaps.

Journeys start on this schedule whether or not the system keeps up (an open model, like k6's
``ramping-arrival-rate``): an actor takes the next due start of its kind, sleeps until it, and runs
the journey; no response ever paces the next start. :class:`ArrivalLedger` records every start
against its scheduled time so a run can show target vs achieved arrival rate per second.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scenario import KINDS, ArrivalProfile

__all__ = ["KINDS", "ArrivalLedger", "ArrivalSchedule", "ScheduledStart", "add_ledger_counts", "split_stream"]


@dataclass(frozen=True, slots=True)
class ScheduledStart:
    """One journey start: its index in the whole run's stream, offset (s from t0) and kind."""

    index: int
    offset_s: float
    kind: str


def split_stream(
    profile: ArrivalProfile, seed: int, *, worker_index: int = 0, workers: int = 1, duration_s: float = 0.0
) -> Iterator[ScheduledStart]:
    """This worker's share of the profile's seeded stream (every ``workers``-th arrival).

    The stream is the one the simulator draws for the same seed (``random.Random(f"{seed}/arrivals")``,
    :class:`simulator.model.TwittcomModel`), so the live run and that seed's model see the same arrivals.
    """
    if workers < 1 or not 0 <= worker_index < workers:
        raise ValueError(f"worker_index {worker_index} is not in [0, {workers})")
    limit = duration_s if duration_s > 0 else math.inf
    for i, (t, kind_index) in enumerate(profile.stream(random.Random(f"{seed}/arrivals"))):
        if t >= limit:
            return
        if i % workers == worker_index:
            yield ScheduledStart(i, t, KINDS[kind_index])


class ArrivalSchedule:
    """Per-kind queues of this process's scheduled starts; actors take the next one of their kind."""

    def __init__(self, starts: Iterable[ScheduledStart]) -> None:
        self._queues: dict[str, deque[ScheduledStart]] = {kind: deque() for kind in KINDS}
        self.total = 0
        for start in starts:
            self._queues[start.kind].append(start)
            self.total += 1

    def take(self, kind: str) -> ScheduledStart | None:
        """The next unclaimed start of ``kind`` (None when that kind's schedule is exhausted)."""
        queue = self._queues[kind]
        return queue.popleft() if queue else None

    def remaining(self, kind: str | None = None) -> int:
        """Starts not yet claimed (of ``kind``, or all)."""
        if kind is not None:
            return len(self._queues[kind])
        return sum(len(q) for q in self._queues.values())

    def count_by_kind(self) -> dict[str, int]:
        """Unclaimed starts per kind."""
        return {kind: len(q) for kind, q in self._queues.items()}


@dataclass
class ArrivalLedger:
    """Scheduled and actual starts per second; a start later than ``tolerance_s`` counts as late."""

    tolerance_s: float = 1.0
    scheduled: dict[int, int] = field(default_factory=dict)
    started: dict[int, int] = field(default_factory=dict)
    on_time: dict[int, int] = field(default_factory=dict)
    max_lag_s: float = 0.0
    lag_total_s: float = 0.0
    count: int = 0

    def expect(self, offsets: Iterable[float]) -> None:
        """Register scheduled start offsets (seconds from t0)."""
        for offset in offsets:
            second = int(offset)
            self.scheduled[second] = self.scheduled.get(second, 0) + 1

    def record(self, scheduled_offset_s: float, actual_offset_s: float) -> None:
        """One journey actually started at ``actual_offset_s`` for its ``scheduled_offset_s``."""
        lag = max(0.0, actual_offset_s - scheduled_offset_s)
        second = int(actual_offset_s)
        self.started[second] = self.started.get(second, 0) + 1
        if lag <= self.tolerance_s:
            slot = int(scheduled_offset_s)
            self.on_time[slot] = self.on_time.get(slot, 0) + 1
        self.max_lag_s = max(self.max_lag_s, lag)
        self.lag_total_s += lag
        self.count += 1

    def merge(self, data: dict[str, object]) -> None:
        """Add another process's :meth:`export` (the master merges its workers' ledgers)."""
        for key in ("scheduled", "started", "on_time"):
            mine: dict[int, int] = getattr(self, key)
            theirs = data.get(key, {})
            assert isinstance(theirs, dict)
            for second, n in theirs.items():
                mine[int(second)] = mine.get(int(second), 0) + int(n)
        self.max_lag_s = max(self.max_lag_s, float(data.get("max_lag_s", 0.0)))  # type: ignore[arg-type]
        self.lag_total_s += float(data.get("lag_total_s", 0.0))  # type: ignore[arg-type]
        self.count += int(data.get("count", 0))  # type: ignore[call-overload]

    def export(self) -> dict[str, object]:
        """A JSON-able snapshot (for ``report_to_master``)."""
        return {
            "scheduled": dict(self.scheduled),
            "started": dict(self.started),
            "on_time": dict(self.on_time),
            "max_lag_s": self.max_lag_s,
            "lag_total_s": self.lag_total_s,
            "count": self.count,
        }

    def drain(self) -> dict[str, object]:
        """Export and forget (a worker sends increments, so the master can simply add them)."""
        data = self.export()
        self.scheduled, self.started, self.on_time = {}, {}, {}
        self.max_lag_s, self.lag_total_s, self.count = 0.0, 0.0, 0
        return data

    def achieved_ratio(self, until_s: float = math.inf) -> float:
        """On-time starts / scheduled starts (those scheduled before ``until_s``); 1.0 when none."""
        due = sum(n for s, n in self.scheduled.items() if s < until_s)
        if due == 0:
            return 1.0
        return sum(n for s, n in self.on_time.items() if s < until_s) / due

    def per_second(self, profile: ArrivalProfile | None = None) -> list[tuple[int, float, int, int, int]]:
        """Rows ``(second, target_rate, scheduled, started, on_time)`` from 0 to the last active second."""
        seconds = set(self.scheduled) | set(self.started) | set(self.on_time)
        last = max(seconds, default=-1)
        rows = []
        for s in range(last + 1):
            target = (
                profile.expected_count(s, s + 1) if profile is not None else float(self.scheduled.get(s, 0))
            )
            rows.append((s, target, self.scheduled.get(s, 0), self.started.get(s, 0), self.on_time.get(s, 0)))
        return rows


def add_ledger_counts(counts: dict[str, Any], export: dict[str, Any]) -> None:
    """Add one :meth:`ArrivalLedger.drain` export's scheduled and started journeys to ``counts``
    (the master keeps one such count per worker: ``per_worker`` in the summary)."""
    scheduled = sum(int(n) for n in export.get("scheduled", {}).values())
    counts["scheduled"] = counts.get("scheduled", 0) + scheduled
    counts["started"] = counts.get("started", 0) + int(export.get("count", 0))
