"""Service- and delay-time distributions: validated specs and fast seeded samplers.

A spec is written in TOML as a number (a constant) or an inline table with a ``dist`` key:

- ``{dist = "constant", value = 1.0}``
- ``{dist = "exponential", mean = 0.5}``
- ``{dist = "uniform", low = 1.0, high = 3.0}``
- ``{dist = "lognormal", p50 = 4.0, p95 = 12.0}`` or ``{dist = "lognormal", mean = 4.0, sd = 2.0}``

Samplers are zero-argument callables bound to one :class:`random.Random`, so a simulation can call
them in its inner loop without attribute lookups. This module imports no simpy.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scenario.errors import ScenarioError

__all__ = ["DistSpec", "Sampler", "Z95", "parse_dist"]

Sampler = Callable[[], float]

#: standard normal quantile of 0.95
Z95 = 1.6448536269514722

_PARAMS: dict[str, tuple[frozenset[str], ...]] = {
    "constant": (frozenset({"value"}),),
    "exponential": (frozenset({"mean"}),),
    "uniform": (frozenset({"low", "high"}),),
    "lognormal": (frozenset({"p50", "p95"}), frozenset({"mean", "sd"})),
}


@dataclass(frozen=True)
class DistSpec:
    """A validated distribution: ``kind`` plus its numeric parameters (seconds)."""

    kind: str
    params: tuple[tuple[str, float], ...]

    def param(self, name: str) -> float:
        """Return parameter ``name``."""
        return dict(self.params)[name]

    @property
    def mean(self) -> float:
        """The distribution's mean in seconds."""
        p = dict(self.params)
        if self.kind == "constant":
            return p["value"]
        if self.kind == "exponential":
            return p["mean"]
        if self.kind == "uniform":
            return (p["low"] + p["high"]) / 2
        mu, sigma = self._lognormal_mu_sigma()
        return math.exp(mu + sigma * sigma / 2)

    def _lognormal_mu_sigma(self) -> tuple[float, float]:
        p = dict(self.params)
        if "p50" in p:
            mu = math.log(p["p50"])
            return mu, (math.log(p["p95"]) - mu) / Z95
        sigma2 = math.log(1.0 + (p["sd"] / p["mean"]) ** 2)
        return math.log(p["mean"]) - sigma2 / 2, math.sqrt(sigma2)

    def sampler(self, rng: random.Random) -> Sampler:
        """Return a zero-argument callable drawing from this distribution with ``rng``."""
        p = dict(self.params)
        if self.kind == "constant":
            value = p["value"]
            return lambda: value
        if self.kind == "exponential":
            if p["mean"] == 0:
                return lambda: 0.0
            expo = rng.expovariate
            rate = 1.0 / p["mean"]
            return lambda: expo(rate)
        if self.kind == "uniform":
            uniform = rng.uniform
            low, high = p["low"], p["high"]
            return lambda: uniform(low, high)
        mu, sigma = self._lognormal_mu_sigma()
        if sigma == 0:
            value = math.exp(mu)
            return lambda: value
        lognorm = rng.lognormvariate
        return lambda: lognorm(mu, sigma)

    def to_toml_value(self) -> dict[str, Any]:
        """Return the spec as the inline table a scenario file would hold."""
        return {"dist": self.kind, **dict(self.params)}


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(key, f"expected a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ScenarioError(key, f"must be a finite number >= 0, got {value!r}")
    return float(value)


def parse_dist(key: str, raw: object) -> DistSpec:
    """Validate ``raw`` (a number or a ``{dist=...}`` table) found at ``key``."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return DistSpec("constant", (("value", _number(key, raw)),))
    if not isinstance(raw, Mapping):
        raise ScenarioError(key, f"expected a number or a table with 'dist', got {raw!r}")
    kind = raw.get("dist")
    if kind not in _PARAMS:
        raise ScenarioError(
            f"{key}.dist", f"unknown distribution {kind!r}; expected one of {sorted(_PARAMS)}"
        )
    given = frozenset(k for k in raw if k != "dist")
    for allowed in _PARAMS[kind]:
        if given == allowed:
            break
    else:
        options = " or ".join(str(sorted(a)) for a in _PARAMS[kind])
        raise ScenarioError(key, f"{kind} takes parameters {options}, got {sorted(given)}")
    params = {name: _number(f"{key}.{name}", raw[name]) for name in sorted(given)}
    if kind == "uniform" and params["low"] > params["high"]:
        raise ScenarioError(key, "uniform needs low <= high")
    if kind == "lognormal":
        if "p50" in params and not 0 < params["p50"] <= params["p95"]:
            raise ScenarioError(key, "lognormal needs 0 < p50 <= p95")
        if "mean" in params and params["mean"] <= 0:
            raise ScenarioError(f"{key}.mean", "lognormal needs mean > 0")
    return DistSpec(kind, tuple(params.items()))
