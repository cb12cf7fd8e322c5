"""The carrier side of the model: delivery latency, delivery failures, circles and outage windows.

* :class:`LatencyModel` is a lognormal distribution of the time from ``sent`` to the delivery
  receipt; :meth:`LatencyModel.from_percentiles` fits it to a p50 and a p95 (default 4 s and 12 s,
  which puts p99 near 19 s, under the 30 s of the Indian OTP figures).
* :class:`CarrierProfile` pairs a latency model with per-error-code failure probabilities (Twilio's
  undelivered codes, :data:`DELIVERY_ERRORS`). One profile per circle, plus a default.
* :class:`CircleMap` finds the circle of a number: an explicit number -> circle registry first
  (seeded by the control API), then the longest matching prefix, then ``default``.
* :class:`Outage` is a window ``[start, end)`` of carrier time in which a circle delivers nothing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from .exceptions import ControlError

__all__ = [
    "DEFAULT_CIRCLE",
    "DELIVERY_ERRORS",
    "FAILED_ERRORS",
    "Z95",
    "CarrierProfile",
    "CircleMap",
    "LatencyModel",
    "Outage",
]

Z95 = 1.6448536269514722  # standard normal quantile of 0.95
DEFAULT_CIRCLE = "default"

#: Twilio's codes for a message the carrier did not deliver (status ``undelivered``).
DELIVERY_ERRORS: dict[int, str] = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}
#: Twilio's codes for a message that never left Twilio (status ``failed``).
FAILED_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30036: "Validity Period Expired",
}


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Latency in seconds. ``lognormal`` (default): ``exp(mu + sigma * Z)``, ``sigma == 0`` a fixed
    delay; also ``constant`` (``low``), ``exponential`` (mean ``low``) and ``uniform``
    (``low``..``high``), so a scenario's carrier latency runs here as the simulator draws it."""

    mu: float
    sigma: float
    kind: str = "lognormal"
    low: float = 0.0
    high: float = 0.0

    @classmethod
    def from_percentiles(cls, p50: float = 4.0, p95: float = 12.0) -> LatencyModel:
        """Fit the lognormal whose median is ``p50`` and 95th percentile is ``p95`` seconds."""
        if p50 <= 0 or p95 < p50:
            raise ControlError("latency needs 0 < p50 <= p95")
        return cls(math.log(p50), math.log(p95 / p50) / Z95)

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> LatencyModel:
        """The lognormal with this mean and standard deviation."""
        if mean <= 0 or sd < 0:
            raise ControlError("latency needs mean > 0 and sd >= 0")
        sigma2 = math.log(1.0 + (sd / mean) ** 2)
        return cls(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    def quantile(self, q: float) -> float:
        """The configured ``q`` quantile in seconds (0 < q < 1)."""
        from statistics import NormalDist

        if self.kind == "constant":
            return self.low
        if self.kind == "exponential":
            return -self.low * math.log(1.0 - q)
        if self.kind == "uniform":
            return self.low + q * (self.high - self.low)
        return math.exp(self.mu + self.sigma * NormalDist().inv_cdf(q))

    def sample(self, rng: random.Random) -> float:
        kind = self.kind
        if kind == "lognormal":
            # gauss (Box-Muller, second value cached) is cheaper than lognormvariate's rejection loop
            return math.exp(rng.gauss(self.mu, self.sigma)) if self.sigma > 0 else math.exp(self.mu)
        if kind == "exponential":
            return rng.expovariate(1.0 / self.low) if self.low > 0 else 0.0
        if kind == "uniform":
            return rng.uniform(self.low, self.high)
        return self.low

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dist": self.kind}
        if self.kind == "lognormal":
            out.update(mu=self.mu, sigma=self.sigma)
        else:
            out.update(low=self.low, high=self.high)
        out.update(p50=self.quantile(0.5), p95=self.quantile(0.95), p99=self.quantile(0.99))
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LatencyModel:
        """Accept ``{"p50", "p95"}`` (fit) or ``{"mu", "sigma"}``, or a scenario's distribution table:
        ``{"dist": "lognormal", "p50", "p95"}`` / ``{"dist": "lognormal", "mean", "sd"}``,
        ``{"dist": "constant", "value"}``, ``{"dist": "exponential", "mean"}``,
        ``{"dist": "uniform", "low", "high"}``."""
        try:
            kind = str(data.get("dist", "lognormal"))
            if kind == "constant":
                return cls._checked(cls(0.0, 0.0, "constant", float(data["value"])))
            if kind == "exponential":
                return cls._checked(cls(0.0, 0.0, "exponential", float(data["mean"])))
            if kind == "uniform":
                return cls._checked(cls(0.0, 0.0, "uniform", float(data["low"]), float(data["high"])))
            if kind != "lognormal":
                raise ControlError(
                    f"latency dist must be lognormal, constant, exponential or uniform, not {kind!r}"
                )
            if "mu" in data:
                return cls(float(data["mu"]), float(data.get("sigma", 0.0)))
            if "mean" in data:
                return cls.from_mean_sd(float(data["mean"]), float(data.get("sd", 0.0)))
            return cls.from_percentiles(float(data.get("p50", 4.0)), float(data.get("p95", 12.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ControlError(f"bad latency model: {exc}") from exc

    @staticmethod
    def _checked(model: LatencyModel) -> LatencyModel:
        if not (math.isfinite(model.low) and math.isfinite(model.high)) or model.low < 0:
            raise ControlError("latency parameters must be finite and >= 0")
        if model.kind == "uniform" and model.high < model.low:
            raise ControlError("uniform latency needs low <= high")
        return model


def _default_failures() -> dict[int, float]:
    return {30003: 0.01, 30005: 0.003, 30006: 0.002, 30008: 0.001}


@dataclass(slots=True)
class CarrierProfile:
    """Delivery behaviour of one circle/carrier."""

    latency: LatencyModel = field(default_factory=LatencyModel.from_percentiles)
    failure_rates: dict[int, float] = field(default_factory=_default_failures)
    _cumulative: list[tuple[float, int]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        total = 0.0
        cumulative: list[tuple[float, int]] = []
        for code in sorted(self.failure_rates):
            if code not in DELIVERY_ERRORS:
                raise ControlError(f"{code} is not a delivery error code ({sorted(DELIVERY_ERRORS)})")
            rate = self.failure_rates[code]
            if rate < 0:
                raise ControlError("failure rates must be >= 0")
            total += rate
            cumulative.append((total, code))
        if total > 1.0 + 1e-9:
            raise ControlError("failure rates add up to more than 1")
        self._cumulative = cumulative

    def sample_outcome(self, rng: random.Random) -> int | None:
        """An undelivered error code, or ``None`` for a delivered message."""
        u = rng.random()
        for bound, code in self._cumulative:
            if u < bound:
                return code
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "latency": self.latency.to_json(),
            "failure_rates": {str(code): rate for code, rate in sorted(self.failure_rates.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], base: CarrierProfile | None = None) -> CarrierProfile:
        """A profile from JSON; keys left out keep ``base``'s values (or the defaults)."""
        base = base or cls()
        latency = LatencyModel.from_json(data["latency"]) if "latency" in data else base.latency
        rates = dict(base.failure_rates)
        if "failure_rates" in data:
            try:
                rates = {int(code): float(rate) for code, rate in dict(data["failure_rates"]).items()}
            except (TypeError, ValueError) as exc:
                raise ControlError(f"bad failure_rates: {exc}") from exc
        return cls(latency=latency, failure_rates=rates)


@dataclass(frozen=True, slots=True)
class Outage:
    """A circle's network down from ``start_us`` until ``end_us`` (``None``: until removed)."""

    id: int
    circle: str
    start_us: int
    end_us: int | None

    def covers(self, t_us: int) -> bool:
        return self.start_us <= t_us and (self.end_us is None or t_us < self.end_us)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "circle": self.circle,
            "start": self.start_us / 1e6,
            "end": None if self.end_us is None else self.end_us / 1e6,
        }


class CircleMap:
    """Number -> circle: explicit registry, then longest prefix, then :data:`DEFAULT_CIRCLE`."""

    def __init__(self, prefixes: dict[str, str] | None = None) -> None:
        self.registry: dict[str, str] = {}
        self.prefixes: dict[str, str] = dict(prefixes or {})
        self._lengths = sorted({len(p) for p in self.prefixes}, reverse=True)
        self._cache: dict[str, str] = {}

    def set_prefixes(self, prefixes: dict[str, str]) -> None:
        self.prefixes = dict(prefixes)
        self._lengths = sorted({len(p) for p in self.prefixes}, reverse=True)
        self._cache.clear()

    def register(self, number: str, circle: str) -> None:
        self.registry[number] = circle

    def circle_of(self, number: str) -> str:
        circle = self.registry.get(number)
        if circle is not None:
            return circle
        cached = self._cache.get(number)
        if cached is not None:
            return cached
        found = DEFAULT_CIRCLE
        for length in self._lengths:
            hit = self.prefixes.get(number[:length])
            if hit is not None:
                found = hit
                break
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[number] = found
        return found
