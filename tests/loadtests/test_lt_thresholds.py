"""k6-style thresholds: parsing with units, evaluation, missing metrics."""

from __future__ import annotations

import pytest

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
