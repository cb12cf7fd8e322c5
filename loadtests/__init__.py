"""Locust load tests of the Twittcom stack: open-model arrivals, journey metrics, thresholds, CI bench.

The pure parts are importable without locust (which monkey-patches the process with gevent when
imported): the arrival schedule, thresholds, sizing, population adapter, run summaries and the
benchmark comparison. :mod:`loadtests.locustfile` is what locust runs; :mod:`loadtests.runner`
starts it headless (``twittcom loadtest``). This package never imports ``reference``,
``fake_twitter`` or ``fake_sms``: it sees the stack over HTTP only.
"""

from __future__ import annotations

from loadtests.config import LoadtestConfig, parse_against
from loadtests.schedule import ArrivalLedger, ArrivalSchedule, ScheduledStart, split_stream
from loadtests.thresholds import Threshold, ThresholdError, ThresholdResult, evaluate, parse_threshold

__all__ = [
    "ArrivalLedger",
    "ArrivalSchedule",
    "LoadtestConfig",
    "ScheduledStart",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "evaluate",
    "parse_against",
    "parse_threshold",
    "split_stream",
]
