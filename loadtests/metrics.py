"""Journey metrics as locust request events, so locust's CSV and HTML reports carry them.

Latencies go into HDR histograms (:mod:`loadtests.hdr`, the source of every latency figure) and
are also fired as ``request_type="JOURNEY"`` with the metric's name (``code_latency``,
``code_latency_processor``, ``code_latency_carrier``, ``activation_latency`` (buys by tweet and by
DM), ``dm_activation_latency`` (by DM only)) and the latency in ms; the request-per-second column
of ``activation_latency`` is activations per second. Outcomes are
fired as ``request_type="OUTCOME"``, ``name="<actor>:<outcome>"`` with a zero response time (their
counts are the outcome counts). HTTP errors are the failures of every other request type.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from loadtests.hdr import JourneyHistograms

__all__ = ["JOURNEY", "LATENCIES", "OUTCOME", "EventsSink", "MetricSink", "RecordingSink"]

JOURNEY = "JOURNEY"
OUTCOME = "OUTCOME"
#: latency metric name -> threshold/figure prefix
LATENCIES: dict[str, str] = {
    "code_latency": "code",
    "code_latency_outside_outages": "code_outside",
    "code_latency_processor": "code_processor",
    "code_latency_carrier": "code_carrier",
    "activation_latency": "activation",
    "dm_activation_latency": "dm_activation",
}


class MetricSink(Protocol):
    """Where journeys report what they measured."""

    def latency(self, name: str, seconds: float) -> None:
        """One sample of latency metric ``name``."""

    def outcome(self, actor: str, outcome: str) -> None:
        """One journey of ``actor`` ended with ``outcome``."""


class EventsSink:
    """Fires locust ``events.request`` for each metric (works on master, worker or local runner) and
    records each latency in this process's HDR ``histograms``: locust's rows feed its CSV/HTML
    reports and the per-second history, the histograms every latency figure."""

    def __init__(self, events: Any, histograms: JourneyHistograms | None = None) -> None:
        self._fire = events.request.fire
        self.histograms = histograms if histograms is not None else JourneyHistograms()

    def latency(self, name: str, seconds: float) -> None:
        self.histograms.record(name, seconds)
        self._fire(
            request_type=JOURNEY,
            name=name,
            response_time=seconds * 1000.0,
            response_length=0,
            response=None,
            context={},
            exception=None,
        )

    def outcome(self, actor: str, outcome: str) -> None:
        self._fire(
            request_type=OUTCOME,
            name=f"{actor}:{outcome}",
            response_time=0,
            response_length=0,
            response=None,
            context={},
            exception=None,
        )


class RecordingSink:
    """Keeps every sample in memory (tests and the capacity benchmark)."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.outcomes: Counter[str] = Counter()

    def latency(self, name: str, seconds: float) -> None:
        self.latencies.setdefault(name, []).append(seconds)

    def outcome(self, actor: str, outcome: str) -> None:
        self.outcomes[f"{actor}:{outcome}"] += 1
