"""k6-style pass/fail thresholds on a load run's summary figures.

A threshold is ``<metric><op><value>[unit]``: ``code_p99<30s``, ``error_rate<1%``,
``activation_p95<=5000ms``, ``arrival_rate_achieved>95%``, ``activations_per_s>=2``. Operators are
``<``, ``<=``, ``>``, ``>=``, ``==``. Units: ``s`` and ``ms`` (latencies are compared in seconds),
``%`` (a ratio: ``1%`` is 0.01); a bare number is taken as is. Metric names are the keys of the run's
``figures`` (see :mod:`loadtests.report`); a percentile metric is ``<latency>_p<N>`` with any ``N``,
decimals allowed (``code_p99.9``). A metric the run did not measure fails its threshold and is shown
as missing, so a typo in a CI threshold cannot pass silently.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "evaluate",
    "parse_threshold",
]

#: what ``twittcom loadtest`` checks when no ``--threshold`` is given
DEFAULT_THRESHOLDS: tuple[str, ...] = ("error_rate<1%", "arrival_rate_achieved>95%")

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
