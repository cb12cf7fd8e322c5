"""Whether a measured figure and the model's agree, judged only on enough samples.

A figure's verdict is earned on both sides' uncertainty: the measured figure's 95 % interval (a
percentile's from the binomial count of samples below it, a rate's from its Poisson count) and the
simulated mean's 95 % interval over the seeds. On a log scale (errors are ratios) the two sides'
reaches add in quadrature to the error's interval, each end on its own (a percentile's interval is
lopsided: the low end of the error takes the measurement's upper reach and the model's lower one);
``h`` is that interval's half-width. Then, against the fixed tolerance
band (error within +-15 %):

* **too few samples to judge** when ``h`` is wider than half the band: the run cannot tell a model
  that is right from one that is 15 % off, so it neither passes nor fails; the judgement says how
  many samples (or seeds) would resolve it;
* **agrees** when the error is inside the band;
* **disagrees** when the whole interval of the error lies outside the band (outside by more than
  the noise: a right model fails on noise alone in fewer than 1 run in 40);
* **too few samples to judge** when the error is outside the band by less than its noise.

So no figure passes on nothing (a handful of samples is too few), and none fails on noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "AGREES",
    "DISAGREES",
    "NOT_COMPARABLE",
    "TOO_FEW",
    "Z95",
    "Judgement",
    "judge",
    "percentile_bounds",
    "rate_interval",
]

Z95 = 1.959964
AGREES, DISAGREES, TOO_FEW, NOT_COMPARABLE = "agrees", "disagrees", "too few samples", "not comparable"


def percentile_bounds(n: int, q: float, *, censored: int = 0) -> tuple[float, float]:
    """The percentiles (0-100, of the ``n`` recorded samples) whose values bound a 95 % interval
    for the ``q`` percentile of ``n + censored`` samples, the ``censored`` ones ranking above every
    recorded one (codes that never arrived). A bound past 100 is unbounded (``math.inf``)."""
    total = n + censored
    if n <= 0 or total <= 0:
        return math.nan, math.nan
    p = q / 100
    spread = Z95 * math.sqrt(total * p * (1 - p))
    low_rank = max(0.0, total * p - spread - 1)
    high_rank = total * p + spread + 1
    high = math.inf if high_rank > n else 100 * high_rank / n
    return 100 * min(low_rank, n) / n, high


def rate_interval(rate: float, count: float) -> tuple[float, float]:
    """A 95 % interval for a rate measured from ``count`` Poisson events (log-normal approximation)."""
    if count <= 0 or rate <= 0:
        return 0.0, math.inf
    spread = math.exp(Z95 / math.sqrt(count))
    return rate / spread, rate * spread


def _sides(value: float, low: float | None, high: float | None) -> tuple[float, float]:
    """How far ``[low, high]`` reaches below and above ``value`` on a log scale (inf: unknown or
    unbounded). A percentile's interval is lopsided: a tail reaches far further up than down."""
    if low is None or high is None or not (0 < low <= value <= high) or not math.isfinite(high):
        return math.inf, math.inf
    return math.log(value / low), math.log(high / value)


@dataclass(frozen=True)
class Judgement:
    """A figure's verdict, its error with a 95 % interval, and what would resolve a non-verdict."""

    verdict: str
    error: float | None = None
    error_low: float | None = None
    error_high: float | None = None
    why: str = ""

    @property
    def judged(self) -> bool:
        return self.verdict in (AGREES, DISAGREES)


def judge(
    measured: float | None,
    measured_interval: tuple[float | None, float | None],
    samples: int,
    simulated: float | None,
    simulated_interval: tuple[float | None, float | None],
    seeds: int,
    tolerance: float,
) -> Judgement:
    """Judge ``simulated`` against ``measured`` (see the module docstring)."""
    if measured is None or simulated is None or math.isnan(measured) or math.isnan(simulated):
        return Judgement(NOT_COMPARABLE, why="no samples on one side")
    if math.isinf(measured) and math.isinf(simulated):
        return Judgement(AGREES, why="unbounded on both sides")
    if not (math.isfinite(measured) and math.isfinite(simulated)) or measured <= 0 or simulated <= 0:
        return Judgement(NOT_COMPARABLE, why="not finite (or zero) on one side")
    ratio = math.log(simulated / measured)
    error = simulated / measured - 1
    down_m, up_m = _sides(measured, *measured_interval)
    down_s, up_s = _sides(simulated, *simulated_interval) if seeds >= 2 else (math.inf, math.inf)
    # the error's interval: its low end is the model low and the measurement high, and so on
    h_low, h_high = math.hypot(up_m, down_s), math.hypot(down_m, up_s)
    h_measured, h_model = (down_m + up_m) / 2, (down_s + up_s) / 2
    h = (h_low + h_high) / 2
    band_low, band_high = math.log(1 - tolerance), math.log(1 + tolerance)
    limit = (band_high - band_low) / 2
    low = math.exp(ratio - h_low) - 1 if math.isfinite(h_low) else -1.0
    high = math.exp(ratio + h_high) - 1 if math.isfinite(h_high) else math.inf
    if ratio - h_low > band_high or ratio + h_high < band_low:
        return Judgement(DISAGREES, error, low, high, "outside the tolerance by more than the noise")
    if not h <= limit:
        return Judgement(TOO_FEW, error, low, high, _needed(h_measured, h_model, samples, seeds, limit))
    if band_low <= ratio <= band_high:
        return Judgement(AGREES, error, low, high)
    return Judgement(
        TOO_FEW, error, low, high, "outside the tolerance by less than the noise: run longer to tell"
    )


def _needed(h_measured: float, h_model: float, samples: int, seeds: int, limit: float) -> str:
    """What would narrow the interval to the tolerance: more samples (said first when the measured
    side has no bounded interval at all: more seeds cannot help then), or more model seeds."""
    target = 0.8 * limit  # aim inside the limit, not at it
    if not math.isfinite(h_measured) or samples <= 0:
        return f"too few samples ({samples}) for a bounded interval: run longer"
    if h_model >= target or not math.isfinite(h_model):
        more = math.ceil(max(seeds, 2) * (h_model / target) ** 2) if math.isfinite(h_model) else 10
        return f"the model's interval over {seeds} seed(s) is too wide: about {max(more, seeds + 1)} seeds"
    room = math.sqrt(target**2 - h_model**2)
    needed = math.ceil(samples * (h_measured / room) ** 2)
    return f"{samples} samples give +-{100 * h_measured:.0f} %: about {needed} needed"
