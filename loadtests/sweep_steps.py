"""The figures of one sweep step and the knee of a sweep: pure arithmetic on what was measured.

A step is summarised from the driver's per-event record (:class:`~loadtests.sweep_driver.DriverResult`)
and each event's completion time (when its last outbound message was accepted upstream, read from
the processor's outbox): latency is completion minus the event's *scheduled* send time, kept in an
HDR histogram (:mod:`loadtests.hdr`); percentiles carry a 95 % distribution-free interval (the
binomial order-statistic one). An accepted event that never completed is counted at the moment the
step was read (a lower bound), so a lost event makes the tail worse, never better.

The knee (:func:`knee`) is the highest offered rate, below the first step that fails, at which
accepted >= 99 % of offered and p99 < the SLO; :func:`knee_rate` interpolates the crossing between
that step and the next (p99 on a log scale), so two sweeps on the same grid can differ by less than
a step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loadtests.hdr import JourneyHistograms
from loadtests.judge import Z95
from loadtests.sweep_driver import DriverResult

__all__ = [
    "ACCEPT_SHARE", "StepFigures", "interpolated", "knee", "knee_rate", "latencies", "quantile_interval",
    "step_figures",
]  # fmt: skip

#: a step keeps up when at least this share of the offered events was accepted
ACCEPT_SHARE = 0.99


@dataclass(frozen=True)
class StepFigures:
    """One step: rates per second, latencies in seconds (``p99_interval`` is a 95 % interval)."""

    target_rate: float
    seconds: float
    offered: int
    accepted: int
    processed_in_step: int
    completed: int
    p50: float
    p95: float
    p99: float
    p95_interval: tuple[float, float]
    p99_interval: tuple[float, float]
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def offered_rate(self) -> float:
        return self.offered / self.seconds if self.seconds else 0.0

    @property
    def accepted_rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def processed_rate(self) -> float:
        return self.processed_in_step / self.seconds if self.seconds else 0.0

    def keeps_up(self, slo_p99_s: float) -> bool:
        """Accepted >= 99 % of offered and p99 under the SLO (never true on zero events)."""
        if self.offered == 0:
            return False
        return self.accepted >= ACCEPT_SHARE * self.offered and self.p99 < slo_p99_s

    def as_json(self) -> dict[str, object]:
        return {
            "target_rate": self.target_rate,
            "seconds": self.seconds,
            "offered": self.offered,
            "accepted": self.accepted,
            "processed_in_step": self.processed_in_step,
            "completed": self.completed,
            "offered_rate": self.offered_rate,
            "accepted_rate": self.accepted_rate,
            "processed_rate": self.processed_rate,
            "p50_s": self.p50,
            "p95_s": self.p95,
            "p99_s": self.p99,
            "p95_interval_s": list(self.p95_interval),
            "p99_interval_s": list(self.p99_interval),
            **self.extra,
        }

    @classmethod
    def from_json(cls, row: Mapping[str, object]) -> StepFigures:
        """A step back from :meth:`as_json` (a saved ``sweep.json``); its numeric extras kept."""
        extra = {k: float(v) for k, v in row.items() if k not in _DERIVED and isinstance(v, (int, float))}

        def pair(key: str) -> tuple[float, float]:
            values: Sequence[float] = row[key]  # type: ignore[assignment]
            return float(values[0]), float(values[1])

        def num(key: str) -> float:
            return float(row[key])  # type: ignore[arg-type]

        return cls(
            num("target_rate"), num("seconds"), int(num("offered")), int(num("accepted")),
            int(num("processed_in_step")), int(num("completed")), num("p50_s"), num("p95_s"), num("p99_s"),
            pair("p95_interval_s"), pair("p99_interval_s"), extra,
        )  # fmt: skip


_DERIVED = frozenset({
    "target_rate", "seconds", "offered", "accepted", "processed_in_step", "completed", "offered_rate",
    "accepted_rate", "processed_rate", "p50_s", "p95_s", "p99_s", "p95_interval_s", "p99_interval_s",
})  # fmt: skip


def quantile_interval(sorted_values: Sequence[float], q: float) -> tuple[float, float]:
    """A 95 % interval for the ``q`` (0-1) quantile from sorted samples (normal approximation to
    the binomial count below it); (nan, nan) without samples."""
    n = len(sorted_values)
    if n == 0:
        return math.nan, math.nan
    spread = Z95 * math.sqrt(n * q * (1 - q))
    lo = max(0, math.floor(n * q - spread) - 1)
    hi = min(n - 1, math.ceil(n * q + spread))
    return sorted_values[lo], sorted_values[hi]


def latencies(
    seconds: float, driven: DriverResult, completions: Mapping[int, float], read_at_epoch: float
) -> tuple[list[float], int]:
    """Every accepted event's latency (seconds from its scheduled send; an unfinished one counts at
    ``read_at_epoch``), sorted, and how many finished within the ``seconds`` offered."""
    out: list[float] = []
    step_end = driven.start_epoch + seconds
    processed_in_step = 0
    for index, scheduled in enumerate(driven.scheduled):
        if not 200 <= driven.statuses[index] < 300:
            continue
        done = completions.get(index)
        if done is not None and done <= step_end:
            processed_in_step += 1
        out.append((done if done is not None else read_at_epoch) - (driven.start_epoch + scheduled))
    out.sort()
    return out, processed_in_step


def step_figures(
    target_rate: float,
    seconds: float,
    driven: DriverResult,
    completions: Mapping[int, float],
    read_at_epoch: float,
    extra: Mapping[str, float] | None = None,
) -> StepFigures:
    """Summarise one step; ``completions`` maps event index -> completion (wall-clock epoch s)."""
    values, processed_in_step = latencies(seconds, driven, completions, read_at_epoch)
    histograms = JourneyHistograms()
    for latency in values:
        histograms.record("latency", latency)
    return StepFigures(
        target_rate=target_rate,
        seconds=seconds,
        offered=driven.offered,
        accepted=driven.accepted,
        processed_in_step=processed_in_step,
        completed=len(completions),
        p50=histograms.percentile("latency", 50),
        p95=histograms.percentile("latency", 95),
        p99=histograms.percentile("latency", 99),
        p95_interval=quantile_interval(values, 0.95),
        p99_interval=quantile_interval(values, 0.99),
        extra=dict(extra or {}),
    )


def knee(steps: Sequence[StepFigures], slo_p99_s: float) -> StepFigures | None:
    """The last step (by offered rate: at tens of events a second a step's Poisson count can carry
    it past a neighbour's) that keeps up before the first that does not; None when the lowest step
    already fails."""
    best = None
    for step in sorted(steps, key=lambda s: s.offered_rate):
        if not step.keeps_up(slo_p99_s):
            break
        best = step
    return best


def knee_rate(steps: Sequence[StepFigures], slo_p99_s: float) -> float | None:
    """The knee's offered rate, interpolated towards the next (failing) step where p99 crosses the
    SLO (log p99); the knee step's own rate when the next one fails on acceptance or when every
    step keeps up; None when none does."""
    ordered = sorted(steps, key=lambda s: s.offered_rate)
    found = knee(ordered, slo_p99_s)
    if found is None:
        return None
    position = ordered.index(found)
    if position + 1 == len(ordered):
        return found.offered_rate
    after = ordered[position + 1]
    if after.accepted < ACCEPT_SHARE * after.offered or not (after.p99 > found.p99 > 0):
        return found.offered_rate
    share = (math.log(slo_p99_s) - math.log(found.p99)) / (math.log(after.p99) - math.log(found.p99))
    share = min(1.0, max(0.0, share))
    return found.offered_rate + share * (after.offered_rate - found.offered_rate)


def interpolated(steps: Sequence[StepFigures], rate: float, value: str) -> float:
    """``value`` (``"p95"``, ``"p99"`` or an ``extra`` key) at offered ``rate``, between the two steps
    around it (log-linear for latencies, linear otherwise); the nearest step's outside the grid."""
    ordered = sorted(steps, key=lambda s: s.offered_rate)

    def of(step: StepFigures) -> float:
        return float(getattr(step, value)) if value in ("p50", "p95", "p99") else step.extra[value]

    if not ordered:
        return math.nan
    if rate <= ordered[0].offered_rate:
        return of(ordered[0])
    for below, above in zip(ordered, ordered[1:], strict=False):
        if below.offered_rate <= rate <= above.offered_rate:
            span = above.offered_rate - below.offered_rate
            share = (rate - below.offered_rate) / span if span else 0.0
            lo, hi = of(below), of(above)
            if value in ("p50", "p95", "p99") and lo > 0 and hi > 0:
                return math.exp(math.log(lo) + share * (math.log(hi) - math.log(lo)))
            return lo + share * (hi - lo)
    return of(ordered[-1])
