"""Journey latencies in HDR histograms: 3 significant digits, mergeable across locust processes.

Locust's own response-time buckets round times above 100 ms to two significant digits and above
10 s to whole seconds (a p95 of 12.3 s shows as 12 or 13 s), so no journey figure is read from them.
Each process records every journey latency into one :class:`hdrh.histogram.HdrHistogram` per metric
(1 µs to 1 h, 3 significant digits: 12.345 s is kept as 12.34 s); workers send their histograms,
HDR-encoded, with each stats report and reset them, and the master adds them up
(:meth:`JourneyHistograms.merge`), so the figures cover every process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from hdrh.histogram import HdrHistogram

__all__ = ["HIGHEST_US", "JourneyHistograms", "SIGNIFICANT_DIGITS"]

#: the longest latency kept (longer ones are recorded as this): one hour, in microseconds
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3


def _histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)


class JourneyHistograms:
    """One HDR histogram per latency metric name (values recorded in seconds, kept in µs)."""

    def __init__(self) -> None:
        self._by_name: dict[str, HdrHistogram] = {}

    def record(self, name: str, seconds: float) -> None:
        """One sample of ``name``; negative values count as 0, values over an hour as an hour."""
        if math.isnan(seconds):
            return
        value = min(HIGHEST_US, max(1, round(seconds * 1_000_000)))
        histogram = self._by_name.get(name)
        if histogram is None:
            histogram = self._by_name[name] = _histogram()
        histogram.record_value(value)

    def names(self) -> Iterable[str]:
        """Metric names with at least one sample."""
        return [name for name, h in self._by_name.items() if h.get_total_count()]

    def count(self, name: str) -> int:
        histogram = self._by_name.get(name)
        return 0 if histogram is None else int(histogram.get_total_count())

    def mean(self, name: str) -> float:
        """Mean in seconds (nan without samples)."""
        histogram = self._by_name.get(name)
        if histogram is None or not histogram.get_total_count():
            return math.nan
        return float(histogram.get_mean_value()) / 1_000_000

    def percentile(self, name: str, q: float) -> float:
        """The ``q`` percentile (0-100) in seconds, to 3 significant digits (nan without samples)."""
        histogram = self._by_name.get(name)
        if histogram is None or not histogram.get_total_count():
            return math.nan
        return float(histogram.get_value_at_percentile(min(100.0, max(0.0, q)))) / 1_000_000

    def encode(self) -> dict[str, str]:
        """Each histogram in HDR's compressed base64 form (what a worker sends its master)."""
        return {name: h.encode().decode("ascii") for name, h in self._by_name.items() if h.get_total_count()}

    def reset(self) -> None:
        """Forget every sample (after sending them)."""
        self._by_name.clear()

    def merge(self, encoded: Mapping[str, str]) -> None:
        """Add histograms sent by another process (:meth:`encode`)."""
        for name, text in encoded.items():
            incoming = HdrHistogram.decode(text.encode("ascii"))
            histogram = self._by_name.get(name)
            if histogram is None:
                histogram = self._by_name[name] = _histogram()
            histogram.add(incoming)
