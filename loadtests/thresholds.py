"""k6-style pass/fail thresholds on a load run's summary figures.

A threshold is ``<metric><op><value>[unit]``: ``code_p99<30s``, ``error_rate<1%``,
``activation_p95<=5000ms``, ``arrival_rate_achieved>95%``, ``activations_per_s>=2``. Operators are
``<``, ``<=``, ``>``, ``>=``, ``==``. Units: ``s`` and ``ms`` (latencies are compared in seconds),
``%`` (a ratio: ``1%`` is 0.01); a bare number is taken as is. Metric names are the keys of the run's
``figures`` (see :mod:`loadtests.report`); a percentile metric is ``<latency>_p<N>`` with any ``N``,
decimals allowed (``code_p99.9``). A metric the run did not measure fails its threshold and is shown
as missing, so a typo in a CI threshold cannot pass silently; :func:`unknown_metric` names a metric
no run can measure before the run starts (:func:`metric_names` lists the valid names).

A run whose journeys measured nothing must not pass: :func:`default_thresholds` adds, next to
``error_rate<1%`` and ``arrival_rate_achieved>95%``, ``journeys_done_<kind>>0`` for every traffic
kind the run's seeded schedule holds at least :data:`MIN_SCHEDULED` starts of (the schedule itself,
not its expectation: a kind that happens not to occur cannot fail the run), and
``codes_delivered>0`` when new subscribers are among them.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "BASE_THRESHOLDS",
    "DEFAULT_THRESHOLDS",
    "JOURNEY_KINDS",
    "MIN_SCHEDULED",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "default_thresholds",
    "evaluate",
    "metric_names",
    "parse_threshold",
    "unknown_metric",
]

#: checked on every run without ``--threshold`` (HTTP errors, arrivals on time)
BASE_THRESHOLDS: tuple[str, ...] = ("error_rate<1%", "arrival_rate_achieved>95%")
#: kept for callers that want the static part only
DEFAULT_THRESHOLDS = BASE_THRESHOLDS
#: traffic kind -> the figure counting its journeys that got an answer (see :mod:`loadtests.report`)
JOURNEY_KINDS: dict[str, str] = {
    "reg": "journeys_done_reg",
    "act": "journeys_done_act",
    "dm": "journeys_done_dm",
    "noise": "journeys_done_noise",
}
#: a kind scheduled fewer times than this in the run gets no journey threshold (too few to insist on)
MIN_SCHEDULED = 3

#: figures every run reports (see :mod:`loadtests.report`), besides the latency families below
_PLAIN = (
    "activations", "activations_per_s", "requests", "requests_per_s", "error_rate", "arrivals_scheduled",
    "arrivals_started", "arrival_rate_achieved", "arrival_max_lag_s", "generator_cpu_max",
    "generator_cpu_mean", "code_undelivered", "codes_delivered", *JOURNEY_KINDS.values(),
)  # fmt: skip
#: latency families: ``<prefix>_count``, ``<prefix>_mean``, ``<prefix>_p<N>``
_LATENCY_PREFIXES = (
    "code", "code_delivered", "code_outside", "code_processor", "code_carrier", "activation",
    "dm_activation",
)  # fmt: skip
_PERCENTILE = re.compile(r"^(?P<base>[a-z][a-z0-9_]*)_p(?P<q>\d+(?:\.\d+)?)$")


def metric_names() -> list[str]:
    """Every metric a threshold may name (``<prefix>_pN`` takes any N in (0, 100))."""
    families = [f"{p}_{suffix}" for p in _LATENCY_PREFIXES for suffix in ("count", "mean", "pN")]
    return [*_PLAIN, *families]


def unknown_metric(metric: str) -> str | None:
    """None when a run can measure ``metric``; else a one-line message listing the valid names."""
    if metric in _PLAIN:
        return None
    percentile = _PERCENTILE.match(metric)
    if percentile is not None and percentile["base"] in _LATENCY_PREFIXES:
        if 0 < float(percentile["q"]) < 100:
            return None
        return f"percentile {percentile['q']} of {metric!r} is not between 0 and 100"
    base, _, suffix = metric.rpartition("_")
    if base in _LATENCY_PREFIXES and suffix in ("count", "mean"):
        return None
    return f"unknown threshold metric {metric!r}; valid: {', '.join(metric_names())}"


def default_thresholds(scheduled: Mapping[str, float]) -> tuple[str, ...]:
    """The thresholds of a run without ``--threshold``, given its scheduled starts per kind."""
    journeys = tuple(
        f"{figure}>0" for kind, figure in JOURNEY_KINDS.items() if scheduled.get(kind, 0) >= MIN_SCHEDULED
    )
    codes = ("codes_delivered>0",) if scheduled.get("reg", 0) >= MIN_SCHEDULED else ()
    return BASE_THRESHOLDS + journeys + codes


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_PATTERN = re.compile(
    r"^\s*(?P<metric>[a-z][a-z0-9_]*(?:_p\d+(?:\.\d+)?)?)\s*(?P<op><=|>=|==|<|>)\s*"
    r"(?P<value>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|%)?\s*$"
)
_UNITS = {None: 1.0, "s": 1.0, "ms": 0.001, "%": 0.01}


class ThresholdError(ValueError):
    """A threshold expression that cannot be parsed."""


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold: ``metric op value`` (value already in seconds or as a ratio)."""

    expression: str
    metric: str
    op: str
    value: float

    @property
    def percentile(self) -> float | None:
        """``99.9`` for ``code_p99.9``; None for a metric that is no percentile (``activations_per_s``)."""
        match = _PERCENTILE.match(self.metric)
        return None if match is None else float(match["q"])

    def check(self, measured: float) -> bool:
        """True when ``measured`` satisfies the threshold (NaN never does)."""
        return not math.isnan(measured) and _OPS[self.op](measured, self.value)


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold with what was measured (None: metric missing) and whether it passed."""

    threshold: Threshold
    measured: float | None
    passed: bool

    def line(self) -> str:
        """One human-readable line: ``PASS code_p99<30s (measured 4.2)``."""
        shown = "missing" if self.measured is None else f"{self.measured:.4g}"
        return f"{'PASS' if self.passed else 'FAIL'} {self.threshold.expression} (measured {shown})"


def parse_threshold(expression: str) -> Threshold:
    """Parse ``code_p99<30s``-style text; raises :class:`ThresholdError` saying what is wrong."""
    match = _PATTERN.match(expression)
    if match is None:
        raise ThresholdError(
            f"cannot parse threshold {expression!r}: expected <metric><op><number>[s|ms|%] "
            "such as 'code_p99<30s' or 'error_rate<1%'"
        )
    value = float(match["value"]) * _UNITS[match["unit"]]
    problem = unknown_metric(match["metric"])
    if problem is not None:
        raise ThresholdError(f"threshold {expression.strip()!r}: {problem}")
    return Threshold(expression.strip(), match["metric"], match["op"], value)


def _lookup(figures: Mapping[str, float], metric: str) -> float | None:
    if metric in figures:
        return float(figures[metric])
    percentile = re.fullmatch(r"(?P<base>.+)_p(?P<q>\d+(?:\.\d+)?)", metric)
    if percentile is not None:
        q = percentile["q"].rstrip("0").rstrip(".") if "." in percentile["q"] else percentile["q"]
        key = f"{percentile['base']}_p{q}"
        if key in figures:
            return float(figures[key])
    return None


def evaluate(thresholds: Iterable[Threshold | str], figures: Mapping[str, float]) -> list[ThresholdResult]:
    """Check every threshold against ``figures``; a missing metric fails."""
    results = []
    for item in thresholds:
        threshold = parse_threshold(item) if isinstance(item, str) else item
        measured = _lookup(figures, threshold.metric)
        passed = measured is not None and threshold.check(measured)
        results.append(ThresholdResult(threshold, measured, passed))
    return results
