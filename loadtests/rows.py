"""One compared figure of a storm: measured beside simulated, and whether they agree.

Its own module so that the report (:mod:`loadtests.compare`) and the verdict sentence
(:mod:`loadtests.storm_verdict`) both use it without importing each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtests.judge import AGREES, Judgement, judge

__all__ = ["ACCEPTANCE", "TOLERANCE", "Row"]

TOLERANCE = 0.15
#: the figures ``twittcom storm --check`` judges (code percentiles outside outages when there are any)
ACCEPTANCE: tuple[str, ...] = ("code_p50", "code_p95", "activations_per_s")


@dataclass(frozen=True)
class Row:
    """One compared figure: measured, and simulated as a mean over seeds with its 95 % interval.

    ``key`` names the figure in ``comparison.json``; ``acceptance`` rows are the ones
    ``twittcom storm --check`` judges.
    """

    label: str
    measured: float | None
    simulated: float | None
    low: float | None = None
    high: float | None = None
    seeds: int = 1
    key: str = ""
    acceptance: bool = False
    #: the measured figure's 95 % interval and how many samples it rests on (None: not known)
    measured_low: float | None = None
    measured_high: float | None = None
    samples: int = 0

    @property
    def error(self) -> float | None:
        """(simulated - measured) / measured, None when either is missing or measured is 0."""
        if self.measured is None or self.simulated is None or self.measured in (0, math.inf):
            return None
        return (self.simulated - self.measured) / self.measured

    @property
    def agrees(self) -> bool | None:
        """Within the 15 % acceptance tolerance; both unbounded agrees (None when not comparable)."""
        if self.measured == math.inf and self.simulated == math.inf:
            return True
        return None if self.error is None else abs(self.error) <= TOLERANCE

    @property
    def judgement(self) -> Judgement:
        """The verdict earned on both sides' intervals (:mod:`loadtests.judge`): agrees, disagrees,
        too few samples to judge, or not comparable."""
        return judge(
            self.measured, (self.measured_low, self.measured_high), self.samples,
            self.simulated, (self.low, self.high), self.seeds, TOLERANCE,
        )  # fmt: skip

    @property
    def passes(self) -> bool:
        """What ``--check`` asks of an acceptance figure: both sides finite (samples on both) and
        judged to agree on enough samples."""
        finite = all(v is not None and math.isfinite(v) for v in (self.measured, self.simulated))
        return finite and self.judgement.verdict == AGREES
