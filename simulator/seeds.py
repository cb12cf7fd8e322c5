"""Several seeds of one scenario, in parallel processes, and each figure as a mean with its 95 % interval.

One seed of a storm scenario varies by a few per cent from the next, so a prediction compared with
a measurement is the mean over ``seeds`` independent runs (seeds ``run.seed``, ``run.seed + 1``,
...) with a Student-t 95 % confidence interval for that mean (:func:`mean_interval`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from scenario import Scenario

__all__ = ["DEFAULT_SEEDS", "Estimate", "mean_interval", "run_seeds", "t975"]

DEFAULT_SEEDS = 10

#: two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % interval (``low == high == mean`` from one seed; all
    infinite when any seed's value is unbounded; None when no seed has a value)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int

    def to_json(self) -> dict[str, Any]:
        def num(v: float | None) -> float | str | None:
            return None if v is None else ("inf" if math.isinf(v) else round(v, 6))

        return {"mean": num(self.mean), "low": num(self.low), "high": num(self.high), "seeds": self.n}


def t975(degrees_of_freedom: int) -> float:
    """Student's t two-sided 95 % quantile (1.96 beyond 30 degrees of freedom; inf below 1)."""
    if degrees_of_freedom < 1:
        return math.inf
    return _T975[degrees_of_freedom - 1] if degrees_of_freedom <= len(_T975) else 1.96


def mean_interval(values: Sequence[float | None]) -> Estimate:
    """The mean of ``values`` (None skipped) with a Student-t 95 % confidence interval."""
    xs = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return Estimate(None, None, None, 0)
    if any(math.isinf(x) for x in xs):
        return Estimate(math.inf, math.inf, math.inf, len(xs))
    n = len(xs)
    mean = sum(xs) / n
    if n == 1:
        return Estimate(mean, mean, mean, 1)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def _one(args: tuple[Scenario, int]) -> dict[str, Any]:
    from simulator.runner import run_scenario

    scenario, seed = args
    return run_scenario(scenario, seed=seed, plots=False).summary


def run_seeds(scenario: Scenario, seeds: int = DEFAULT_SEEDS, processes: int = 0) -> list[dict[str, Any]]:
    """Summaries of ``seeds`` runs (seeds ``run.seed`` .. ``run.seed + seeds - 1``), in parallel
    processes (``processes`` 0: one per CPU, at most ``seeds``)."""
    if seeds < 1:
        raise ValueError("seeds must be at least 1")
    jobs = [(scenario, scenario.run.seed + k) for k in range(seeds)]
    workers = min(seeds, processes or os.cpu_count() or 1)
    if workers == 1:
        return [_one(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_one, jobs))
