"""Service-level objectives for ``twittcom plan``: parsing, per-run values, three-state verdicts.

Three forms (units ``s``, ``ms``, ``min`` on times, ``%`` on shares):

* a summary figure: ``code_p99<30s``, ``abandoned_share<5%``, ``activations_per_s>=2`` (any name of
  :data:`simulator.metrics.FLAT_METRICS`);
* any percentile of a latency family: ``code_p80<20s``, ``code_wait_p90<=5s``,
  ``activation_p99.9<2s`` (families in :data:`FAMILIES`);
* a tail probability: ``P(code_wait > 25s) <= 10%`` (the share of the family's samples above 25 s).

``code_wait`` is the time a ``#reg`` waits in the worker queue before a worker takes it (the
queueing delay Erlang C speaks of). Samples still unfinished when the run ends rank above every
finished one (a percentile among them is infinite; they count as above any ``t``).

A verdict has three states (:meth:`Slo.verdict`): ``meets`` when the whole 95 % confidence interval
of the metric's mean over replications is on the right side of the threshold, ``fails`` when it is
wholly on the wrong side, ``undecided`` when it straddles the threshold (more replications may
decide it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.errors import PlanError
from simulator.journey import ACT, DM, RunRecord
from simulator.metrics import FLAT_METRICS, percentile

__all__ = ["FAMILIES", "MEETS", "FAILS", "UNDECIDED", "Slo", "metric_value", "parse_slo", "slo_help"]

MEETS, FAILS, UNDECIDED = "meets", "fails", "undecided"
_UNITS = {"": 1.0, "s": 1.0, "ms": 0.001, "min": 60.0, "%": 0.01}
_NUMBER = r"([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(ms|s|min|%)?"
_PLAIN = re.compile(rf"^\s*([a-z][a-z_0-9.]*)\s*(<=|>=|<|>)\s*{_NUMBER}\s*$")
_TAIL = re.compile(rf"^\s*P\(\s*([a-z][a-z_]*)\s*>\s*{_NUMBER}\s*\)\s*(<=|>=|<|>)\s*{_NUMBER}\s*$")
_PERCENTILE = re.compile(r"^([a-z][a-z_]*)_p([0-9]+(?:\.[0-9]+)?)$")

#: latency families whose samples any percentile or tail probability may be taken of
FAMILIES: tuple[str, ...] = ("code", "code_wait", "registration", "activation", "dm_activation")


def slo_help() -> str:
    """The valid SLO forms and names, for messages and ``--help``."""
    return (
        f"summary figures {', '.join(FLAT_METRICS)}; any percentile <family>_pN and tail "
        f"probabilities P(<family> > t) of the families {', '.join(FAMILIES)}"
    )


@dataclass(frozen=True)
class Slo:
    """``metric op threshold`` (threshold in seconds or as a share); ``metric`` may be ``P(code>25)``."""

    text: str
    metric: str
    op: str
    threshold: float

    def verdict(self, mean: float, half_width: float) -> str:
        """:data:`MEETS`, :data:`FAILS` or :data:`UNDECIDED` for a mean and its 95 % half-width."""
        if math.isnan(mean) or (math.isinf(mean) and half_width != 0.0):
            return UNDECIDED  # no runs, or unbounded in some runs only
        if half_width == 0.0:
            return MEETS if _holds(self.op, mean, self.threshold) else FAILS
        width = math.inf if math.isnan(half_width) else half_width
        low, high = mean - width, mean + width
        if self.op in ("<", "<="):
            best, worst = low, high
        else:
            best, worst = high, low
        if _holds(self.op, worst, self.threshold):
            return MEETS
        if not _holds(self.op, best, self.threshold):
            return FAILS
        return UNDECIDED

    def met_by(self, mean: float, half_width: float) -> bool:
        """True when the whole confidence interval satisfies the objective."""
        return self.verdict(mean, half_width) == MEETS


def _holds(op: str, value: float, threshold: float) -> bool:
    ops: dict[str, Callable[[float, float], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return ops[op](value, threshold)


def _known(metric: str) -> bool:
    if metric in FLAT_METRICS:
        return True
    match = _PERCENTILE.match(metric)
    return match is not None and match[1] in FAMILIES and 0 < float(match[2]) < 100


def parse_slo(text: str) -> Slo:
    """Parse one SLO in any of the three forms; :class:`PlanError` names what is wrong."""
    tail = _TAIL.match(text)
    if tail is not None:
        family, t, t_unit, op, value, unit = tail.groups()
        if family not in FAMILIES:
            raise PlanError(f"SLO {text!r}: unknown family {family!r}; valid: {slo_help()}")
        if (t_unit or "s") == "%":
            raise PlanError(f"SLO {text!r}: the time in P({family} > t) takes s, ms or min")
        seconds = float(t) * _UNITS[t_unit or ""]
        share = float(value) * _UNITS[unit or ""]
        if unit not in ("%", None) or not 0 <= share <= 1:
            raise PlanError(f"SLO {text!r}: a probability is a share between 0 and 1 (or 0-100 %)")
        return Slo(text.strip(), f"P({family}>{seconds:g})", op, share)
    plain = _PLAIN.match(text)
    if plain is None:
        raise PlanError(
            f"cannot parse SLO {text!r}; expected e.g. 'code_p99<30s', 'abandoned_share<5%' or "
            "'P(code_wait > 25s) <= 10%'"
        )
    metric, op, number, unit = plain.groups()
    if not _known(metric):
        raise PlanError(f"unknown SLO metric {metric!r}; valid: {slo_help()}")
    return Slo(text.strip(), metric, op, float(number) * _UNITS[unit or ""])


def _samples(record: RunRecord, warmup_s: float) -> dict[str, tuple[list[float], int]]:
    """family -> (finished samples, how many were still unfinished at the end)."""
    end = record.end_s
    journeys = [j for j in record.journeys if j.t_reg >= warmup_s]
    lost = ("sms_failed", "sms_expired")
    delivered = [j.t_delivered - j.t_reg for j in journeys if 0 <= j.t_delivered <= end]
    undelivered = sum(1 for j in journeys if not 0 <= j.t_delivered <= end and j.outcome not in lost)
    ingested = [j for j in journeys if 0 <= j.t_ingest <= end]
    waits = [j.t_start - j.t_ingest for j in ingested if 0 <= j.t_start <= end]
    activations = [(p, d, k) for p, d, k in record.activations if p >= warmup_s]
    return {
        "code": (delivered, undelivered),
        "code_wait": (waits, len(ingested) - len(waits)),
        "registration": ([j.t_registered - j.t_reg for j in journeys if j.t_registered >= 0], 0),
        "activation": ([d - p for p, d, k in activations if k == ACT], 0),
        "dm_activation": ([d - p for p, d, k in activations if k == DM], 0),
    }


def metric_value(metric: str, record: RunRecord, flat: dict[str, float], warmup_s: float) -> float:
    """One run's value of ``metric`` (a flat figure, a percentile or a tail probability)."""
    if metric in flat:
        return flat[metric]
    if metric.startswith("P("):
        family, t = metric[2:-1].split(">")
        values, unfinished = _samples(record, warmup_s)[family]
        total = len(values) + unfinished
        return (sum(1 for v in values if v > float(t)) + unfinished) / total if total else math.nan
    match = _PERCENTILE.match(metric)
    if match is None:
        raise PlanError(f"unknown SLO metric {metric!r}; valid: {slo_help()}")
    values, unfinished = _samples(record, warmup_s)[match[1]]
    return percentile(sorted(values) + [math.inf] * unfinished, float(match[2]))


def values_for(
    slos: Sequence[Slo], record: RunRecord, flat: dict[str, float], warmup_s: float
) -> dict[str, Any]:
    """``flat`` plus the value of every SLO metric that is not a flat figure."""
    out: dict[str, Any] = dict(flat)
    for slo in slos:
        if slo.metric not in out:
            out[slo.metric] = metric_value(slo.metric, record, flat, warmup_s)
    return out
