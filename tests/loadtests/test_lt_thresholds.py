"""k6-style thresholds: parsing with units, evaluation, missing metrics."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from loadtests.hdr import JourneyHistograms
from loadtests.report import figures_from_stats
from loadtests.schedule import ArrivalLedger
from loadtests.thresholds import ThresholdError, evaluate, parse_threshold


@pytest.mark.parametrize(
    ("text", "metric", "op", "value"),
    [
        ("code_p99<30s", "code_p99", "<", 30.0),
        ("error_rate<1%", "error_rate", "<", 0.01),
        ("activation_p95<=5000ms", "activation_p95", "<=", 5.0),
        ("arrival_rate_achieved>95%", "arrival_rate_achieved", ">", 0.95),
        ("activations_per_s >= 2", "activations_per_s", ">=", 2.0),
        ("code_p99.9<45s", "code_p99.9", "<", 45.0),
    ],
)
def test_parse_units_and_operators(text, metric, op, value):
    """Units s/ms/% convert to seconds or ratios; every operator parses."""
    t = parse_threshold(text)
    assert (t.metric, t.op) == (metric, op) and t.value == pytest.approx(value)


@pytest.mark.parametrize("text", ["code_p99", "p99<30s<40", "code_p99<abc", "code_p99 ~ 3s", "Code<1"])
def test_bad_expressions_are_rejected_with_the_syntax(text):
    """An unparsable threshold raises ThresholdError naming the expected form."""
    with pytest.raises(ThresholdError, match="expected <metric><op><number>"):
        parse_threshold(text)


def test_evaluate_passes_fails_and_reports_missing():
    """Satisfied thresholds pass, violated ones fail, a metric the run lacks fails as missing."""
    figures = {"code_p99": 12.0, "error_rate": 0.02, "code_p99.9": 20.0}
    results = evaluate(["code_p99<30s", "error_rate<1%", "activation_p95<5s", "code_p99.90<25s"], figures)
    assert [r.passed for r in results] == [True, False, False, True]
    assert results[2].measured is None and "missing" in results[2].line()
    assert results[1].line().startswith("FAIL error_rate<1%")


def test_nan_never_passes():
    """A NaN measurement fails whatever the operator."""
    assert not evaluate(["code_p99<30s"], {"code_p99": float("nan")})[0].passed


class _Entry:
    """A stand-in for a locust stats entry holding raw samples in ms."""

    def __init__(self, samples_ms, failures=0):
        self.samples = sorted(samples_ms)
        self.num_requests = len(samples_ms)
        self.num_failures = failures
        self.avg_response_time = sum(samples_ms) / len(samples_ms)

    def get_response_time_percentile(self, fraction):
        return self.samples[min(len(self.samples) - 1, max(0, math.ceil(fraction * len(self.samples)) - 1))]


def _codes(n: int) -> JourneyHistograms:
    """Code latencies of 1, 2, ..., n seconds in an HDR histogram (the source of the figures)."""
    histograms = JourneyHistograms()
    for i in range(n):
        histograms.record("code_latency", float(i + 1))
    return histograms


def test_undelivered_codes_rank_above_every_delivered_one():
    """code_pN ranks codes that never arrived above all others (inf among them), like the simulator."""
    stats = SimpleNamespace(
        entries={
            ("code_latency", "JOURNEY"): _Entry([1000.0 * (i + 1) for i in range(90)]),
            ("new_subscriber:abandoned_late_code", "OUTCOME"): _Entry([0.0] * 10),
            ("new_subscriber:registered", "OUTCOME"): _Entry([0.0] * 90),
            ("POST /2/tweets #reg", "POST"): _Entry([5.0] * 100, failures=1),
        }
    )
    figures, outcomes = figures_from_stats(
        stats, ArrivalLedger(), histograms=_codes(90), arrivals_end_s=10, measured_s=10, cpu={}
    )
    assert figures["code_delivered_p50"] == pytest.approx(45.0, rel=1e-3)
    assert figures["code_p50"] == pytest.approx(50.0, rel=1e-3)
    assert figures["code_p95"] == math.inf and figures["code_undelivered"] == 10
    assert figures["error_rate"] == 0.01 and outcomes["new_subscriber:abandoned_late_code"] == 10
    assert not evaluate(["code_p95<30s"], figures)[0].passed


def test_codes_still_awaited_at_the_end_count_as_never_arrived():
    """Journeys cut off by the adaptive drain while waiting for a code rank above delivered codes too."""
    stats = SimpleNamespace(
        entries={
            ("code_latency", "JOURNEY"): _Entry([1000.0 * (i + 1) for i in range(90)]),
            ("new_subscriber:abandoned_late_code", "OUTCOME"): _Entry([0.0] * 4),
            ("new_subscriber:code_pending_at_end", "OUTCOME"): _Entry([0.0] * 6),
        }
    )
    figures, _ = figures_from_stats(
        stats, ArrivalLedger(), histograms=_codes(90), arrivals_end_s=10, measured_s=10, cpu={}
    )
    assert figures["code_undelivered"] == 10 and figures["code_p50"] == pytest.approx(50.0, rel=1e-3)
    assert figures["code_p95"] == math.inf
