"""Capacity planning: a configuration grid, replications with 95 % confidence intervals, SLOs, cost.

``plan_grid`` runs every combination of the ``--vary`` values, ``replications`` times each with
seeds ``seed, seed+1, ...`` (the same seeds for every configuration: common random numbers make
the comparison between configurations sharper), in parallel across processes. A configuration
meets an SLO such as ``code_p99<30s`` when the whole 95 % confidence interval of the metric's
mean over replications is on the right side of the threshold, fails it when the interval is wholly
on the wrong side, and is undecided when the interval straddles it (:mod:`simulator.slo`). Configurations
left undecided that could still be the answer (cheaper than the cheapest proven one) get more
replications, doubling each round with the next seeds, until decided or ``max_replications``. Its
cost comes from the scenario's cost model (``[cost]``: fixed + per_worker*workers +
per_sms_mps*mps). The answer is the cheapest configuration meeting every SLO; those still
undecided at the cap are reported as such.
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

from scenario.schema import ALIASES
from simulator.errors import PlanError
from simulator.slo import FAILS, MEETS, UNDECIDED, Slo, parse_slo

__all__ = ["ConfigResult", "PlanResult", "Slo", "mean_ci95", "parse_slo", "parse_vary", "plan_grid"]

#: replications per configuration at most, unless the caller sets its own cap
MAX_REPLICATIONS = 40

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
    """Mean and the half-width of its 95 % Student t confidence interval (nan values are kept).

    Unbounded (infinite) in every run: half-width 0; in some runs only: the mean is infinite and the
    half-width nan (the verdict is undecided).
    """
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = sum(values) / n
    if n > 1 and all(math.isinf(v) and v == values[0] for v in values):
        return mean, 0.0  # unbounded in every run: no doubt about it
    if n == 1 or math.isnan(mean):
        return mean, math.inf if n == 1 else math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = _T975[n - 2] if n - 2 < len(_T975) else 1.96
    return mean, t * sd / math.sqrt(n)


@dataclass
class ConfigResult:
    """One grid point: settings, cost, per-metric (mean, half-width), SLO states, replications run."""

    settings: dict[str, Any]
    cost: float
    metrics: dict[str, tuple[float, float]]
    slo_met: dict[str, bool] = field(default_factory=dict)
    slo_state: dict[str, str] = field(default_factory=dict)
    replications: int = 0

    @property
    def meets_all(self) -> bool:
        """True when every SLO is met."""
        return all(self.slo_met.values())

    @property
    def state(self) -> str:
        """fails if any SLO fails, meets if all are met, else undecided."""
        states = set(self.slo_state.values())
        return FAILS if FAILS in states else MEETS if states <= {MEETS} else UNDECIDED


@dataclass
class PlanResult:
    """All grid points (in grid order), the cheapest one meeting every SLO, and the undecided ones
    that are cheaper than it (or all undecided ones when none is proven to meet the SLOs)."""

    configs: list[ConfigResult]
    slos: list[Slo]
    replications: int
    best: ConfigResult | None
    undecided: list[ConfigResult] = field(default_factory=list)
    max_replications: int = MAX_REPLICATIONS


Task = tuple[str, tuple[str, ...], tuple[int, ...], tuple[Slo, ...]]


def _run_config(task: Task) -> tuple[float, list[dict[str, float]]]:
    """Worker-process body: load the scenario with overrides, run each seed, return its metrics."""
    from scenario import load_scenario
    from simulator.metrics import flat_metrics
    from simulator.runner import run_scenario
    from simulator.slo import values_for

    path, overrides, seeds, slos = task
    scenario = load_scenario(path, overrides)
    cost = scenario.cost.of(scenario.system)
    out = []
    for seed in seeds:
        run = run_scenario(scenario, seed, plots=False)
        out.append(values_for(slos, run.record, flat_metrics(run.summary), float(run.summary["warmup_s"])))
    return cost, out


def _judge(config: ConfigResult, runs: list[dict[str, float]], slos: Sequence[Slo]) -> None:
    config.metrics = {name: mean_ci95([run[name] for run in runs]) for name in runs[0]}
    config.slo_state = {slo.text: slo.verdict(*config.metrics[slo.metric]) for slo in slos}
    config.slo_met = {text: state == MEETS for text, state in config.slo_state.items()}
    config.replications = len(runs)


def _open(configs: Sequence[ConfigResult]) -> list[int]:
    """Indices of undecided configurations that could still be the answer."""
    proven = [c.cost for c in configs if c.state == MEETS]
    ceiling = min(proven) if proven else math.inf
    return [i for i, c in enumerate(configs) if c.state == UNDECIDED and c.cost < ceiling]


def plan_grid(
    scenario_path: str | Path,
    vary: Sequence[tuple[str, list[Any]]],
    slos: Sequence[Slo],
    replications: int = 5,
    seed: int = 1,
    overrides: Sequence[str] = (),
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_replications: int = MAX_REPLICATIONS,
) -> PlanResult:
    """Run the grid, add replications where a verdict is open, pick the cheapest proven configuration."""
    from scenario import load_scenario

    if replications < 2:
        raise PlanError("at least 2 replications are needed for a confidence interval")
    load_scenario(scenario_path, overrides)  # validates the overrides once, here
    keys = [k for k, _ in vary]
    grid = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in vary))]
    settings = [(*overrides, *(f"{k}={v}" for k, v in point.items())) for point in grid]
    for assignment in settings:
        load_scenario(scenario_path, assignment)  # fail fast on a bad --vary key or value (milliseconds each)
    cap = max(replications, max_replications)
    workers = jobs or os.cpu_count() or 1
    configs = [ConfigResult(point, 0.0, {}) for point in grid]
    runs: list[list[dict[str, float]]] = [[] for _ in grid]
    pending, batch, done_seeds = list(range(len(grid))), replications, 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        while pending:
            seeds = tuple(range(seed + done_seeds, seed + done_seeds + batch))
            tasks: list[Task] = [(str(scenario_path), settings[i], seeds, tuple(slos)) for i in pending]
            for done, (i, (cost, more)) in enumerate(
                zip(pending, pool.map(_run_config, tasks), strict=True), 1
            ):
                configs[i].cost = cost
                runs[i].extend(more)
                _judge(configs[i], runs[i], slos)
                if progress is not None:
                    progress(done, len(pending))
            done_seeds += batch
            batch = min(done_seeds, cap - done_seeds)  # double the replications, up to the cap
            pending = _open(configs) if batch > 0 else []
    passing = [c for c in configs if c.state == MEETS]
    best = min(passing, key=lambda c: c.cost) if passing else None
    undecided = [configs[i] for i in _open(configs)]
    return PlanResult(configs, list(slos), replications, best, undecided, cap)
