"""Fault injection per route: added latency drawn from a distribution, errors at a rate, outages.

A rule is keyed by a route key (``"POST /2/tweets"``) or ``"*"`` for every X route. Outage windows
are absolute times on the fake's clock; inside one every request gets 503 "Service Unavailable"
(what X answered when it went over capacity). Randomness comes from the backend's seeded RNG.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultDecision", "FaultPlan", "FaultRule", "Latency"]

_KINDS = ("fixed", "uniform", "exponential", "normal", "lognormal")
_Z95 = 1.6448536269514722  # standard normal quantile of 0.95
#: The fault route key of Account Activity deliveries (not matched by "*", which is X's API routes):
#: latency delays each delivery attempt, an error or an outage window loses the attempt, which is
#: then retried on the delivery schedule like a failed POST.
WEBHOOK_DELIVERY = "webhooks"
#: An added latency beyond 10 minutes would only park the request (and its client) forever.
MAX_LATENCY_MS = 600_000.0


@dataclass(frozen=True, slots=True)
class Latency:
    """Added latency in milliseconds: fixed ``a``; uniform [a, b]; exponential mean ``a``; normal(a, b);
    lognormal with median ``a`` and 95th percentile ``b`` (``b >= a > 0``)."""

    kind: str
    a: float
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"latency kind must be one of {_KINDS}")
        if not (0 <= self.a <= MAX_LATENCY_MS and 0 <= self.b <= MAX_LATENCY_MS):
            raise ValueError(f"latency parameters must be within [0, {MAX_LATENCY_MS:.0f}] ms")
        if self.kind == "lognormal" and not 0 < self.a <= self.b:
            raise ValueError("a lognormal latency needs 0 < a (median) <= b (95th percentile)")

    def sample_seconds(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            ms = self.a
        elif self.kind == "uniform":
            ms = rng.uniform(self.a, self.b)
        elif self.kind == "exponential":
            ms = rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        elif self.kind == "lognormal":
            ms = rng.lognormvariate(math.log(self.a), math.log(self.b / self.a) / _Z95)
        else:
            ms = max(0.0, rng.gauss(self.a, self.b))
        return min(ms, MAX_LATENCY_MS) / 1000.0


@dataclass(slots=True)
class FaultRule:
    latency: Latency | None = None
    error_rate: float = 0.0
    error_status: int = 503
    outages: list[tuple[float, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "latency": None
            if self.latency is None
            else {"kind": self.latency.kind, "a": self.latency.a, "b": self.latency.b},
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "outages": [{"start": s, "end": e} for s, e in self.outages],
        }


@dataclass(frozen=True, slots=True)
class FaultDecision:
    delay: float
    status: int | None


_NONE = FaultDecision(0.0, None)


class FaultPlan:
    """The rules in force; ``decide`` is called once per X API request."""

    def __init__(self) -> None:
        self.rules: dict[str, FaultRule] = {}

    def set_rule(self, route: str, rule: FaultRule) -> None:
        if not 0.0 <= rule.error_rate <= 1.0:
            raise ValueError("error_rate must be in [0, 1]")
        if not 400 <= rule.error_status <= 599:
            raise ValueError("error_status must be a 4xx or 5xx status")
        self.rules[route] = rule

    def clear(self) -> None:
        self.rules.clear()

    def decide(self, route: str, now: float, rng: random.Random) -> FaultDecision:
        if not self.rules:
            return _NONE
        delay = 0.0
        status: int | None = None
        wildcard = self.rules.get("*") if route != WEBHOOK_DELIVERY else None  # "*" is X's routes only
        for rule in (wildcard, self.rules.get(route)):
            if rule is None:
                continue
            if any(start <= now < end for start, end in rule.outages):
                return FaultDecision(delay, 503)
            if rule.latency is not None:
                delay += rule.latency.sample_seconds(rng)
            if status is None and rule.error_rate > 0 and rng.random() < rule.error_rate:
                status = rule.error_status
        return FaultDecision(delay, status)
