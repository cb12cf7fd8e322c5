"""Capacity planning: a configuration grid, replications with 95 % confidence intervals, SLOs, cost.

``plan_grid`` runs every combination of the ``--vary`` values, ``replications`` times each with
seeds ``seed, seed+1, ...`` (the same seeds for every configuration: common random numbers make
the comparison between configurations sharper), in parallel across processes. A configuration
meets an SLO such as ``code_p99<30s`` when the whole 95 % confidence interval of the metric's
mean over replications is on the right side of the threshold (conservative). Its cost comes from
the scenario's cost model (``[cost]``: fixed + per_worker*workers + per_sms_mps*mps). The answer is
the cheapest configuration meeting every SLO.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import PlanError
from simulator.metrics import FLAT_METRICS
from simulator.schema import ALIASES

__all__ = ["ConfigResult", "PlanResult", "Slo", "mean_ci95", "parse_slo", "parse_vary", "plan_grid"]

_T975: tuple[float, ...] = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
)
_T975 += (2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048)
_T975 += (2.045, 2.042)
_UNITS = {"": 1.0, "s": 1.0, "ms": 0.001, "min": 60.0, "%": 0.01}
_SLO = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|<|>)\s*([0-9.eE+-]+)\s*(ms|s|min|%)?\s*$")


@dataclass(frozen=True)
class Slo:
    """``metric op threshold``, e.g. code_p99 < 30 (seconds)."""

    text: str
    metric: str
    op: str
    threshold: float

    def met_by(self, mean: float, half_width: float) -> bool:
        """True when the whole confidence interval satisfies the objective."""
        if math.isnan(mean):
            return False
        if self.op in ("<", "<="):
            upper = mean + half_width
            return upper < self.threshold if self.op == "<" else upper <= self.threshold
        lower = mean - half_width
        return lower > self.threshold if self.op == ">" else lower >= self.threshold


def parse_slo(text: str) -> Slo:
    """Parse ``metric<30s``, ``activation_p99<=500ms``, ``completion_share>90%``."""
    match = _SLO.match(text)
    if match is None:
        raise PlanError(f"cannot parse SLO {text!r}; expected e.g. 'code_p99<30s' or 'abandoned_share<5%'")
    metric, op, number, unit = match.groups()
    try:
        value = float(number) * _UNITS[unit or ""]
    except ValueError as exc:
        raise PlanError(f"SLO {text!r}: {number!r} is not a number") from exc
    return Slo(text, metric, op, value)


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """Parse ``workers=1..32`` (inclusive integer range), ``a..b:step`` or ``sms_mps=1,10,100``."""
    if "=" not in text:
        raise PlanError(f"--vary {text!r}: expected key=values")
    key, spec = (part.strip() for part in text.split("=", 1))
    key = ALIASES.get(key, key)
    range_match = re.fullmatch(r"(-?\d+)\.\.(-?\d+)(?::(\d+))?", spec)
    if range_match:
        lo, hi, step = int(range_match[1]), int(range_match[2]), int(range_match[3] or 1)
        if hi < lo or step < 1:
            raise PlanError(f"--vary {text!r}: empty range")
        return key, list(range(lo, hi + 1, step))
    values: list[Any] = []
    for item in spec.split(","):
        item = item.strip()
        try:
            values.append(int(item))
        except ValueError:
            try:
                values.append(float(item))
            except ValueError as exc:
                raise PlanError(f"--vary {text!r}: {item!r} is not a number") from exc
    if not values:
        raise PlanError(f"--vary {text!r}: no values")
    return key, values


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % Student t confidence interval (nan values are kept)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = sum(values) / n
    if n == 1 or math.isnan(mean):
        return mean, math.inf if n == 1 else math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = _T975[n - 2] if n - 2 < len(_T975) else 1.96
    return mean, t * sd / math.sqrt(n)


@dataclass
class ConfigResult:
    """One grid point: its settings, cost, per-metric (mean, half-width) and SLO verdicts."""

    settings: dict[str, Any]
    cost: float
    metrics: dict[str, tuple[float, float]]
    slo_met: dict[str, bool] = field(default_factory=dict)

    @property
    def meets_all(self) -> bool:
        """True when every SLO is met."""
        return all(self.slo_met.values())


@dataclass
class PlanResult:
    """All grid points (in grid order) and the cheapest one meeting every SLO, if any."""

    configs: list[ConfigResult]
    slos: list[Slo]
    replications: int
    best: ConfigResult | None


def _run_config(task: tuple[str, tuple[str, ...], tuple[int, ...]]) -> tuple[float, list[dict[str, float]]]:
    """Worker-process body: load the scenario with overrides, run each seed, return flat metrics."""
    from simulator.metrics import flat_metrics
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario

    path, overrides, seeds = task
    scenario = load_scenario(path, overrides)
    cost = scenario.cost.of(scenario.system)
    return cost, [flat_metrics(run_scenario(scenario, seed, plots=False).summary) for seed in seeds]


def plan_grid(
    scenario_path: str | Path,
    vary: Sequence[tuple[str, list[Any]]],
    slos: Sequence[Slo],
    replications: int = 5,
    seed: int = 1,
    overrides: Sequence[str] = (),
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PlanResult:
    """Run the grid and pick the cheapest configuration meeting every SLO."""
    from simulator.scenario import load_scenario

    if replications < 2:
        raise PlanError("at least 2 replications are needed for a confidence interval")
    load_scenario(scenario_path, overrides)  # validates the overrides once, here
    keys = [k for k, _ in vary]
    grid = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in vary))]
    seeds = tuple(range(seed, seed + replications))
    tasks = [
        (str(scenario_path), (*overrides, *(f"{k}={v}" for k, v in point.items())), seeds) for point in grid
    ]
    for task in tasks:
        load_scenario(scenario_path, task[1])  # fail fast on a bad --vary key or value (milliseconds each)
    for slo in slos:
        if slo.metric not in FLAT_METRICS:
            raise PlanError(f"unknown SLO metric {slo.metric!r}; known: {list(FLAT_METRICS)}")
    workers = jobs or os.cpu_count() or 1
    results: list[ConfigResult] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, (point, (cost, runs)) in enumerate(zip(grid, pool.map(_run_config, tasks), strict=True), 1):
            metrics = {name: mean_ci95([run[name] for run in runs]) for name in runs[0]}
            config = ConfigResult(point, cost, metrics)
            config.slo_met = {slo.text: slo.met_by(*metrics[slo.metric]) for slo in slos}
            results.append(config)
            if progress is not None:
                progress(done, len(grid))
    passing = [c for c in results if c.meets_all]
    best = min(passing, key=lambda c: c.cost) if passing else None
    return PlanResult(results, list(slos), replications, best)
