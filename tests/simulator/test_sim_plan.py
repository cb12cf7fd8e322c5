"""Plan building blocks: SLO and grid parsing, confidence intervals, SLO verdicts."""

from __future__ import annotations

import math

import pytest

from simulator.errors import PlanError
from simulator.plan import Slo, mean_ci95, parse_slo, parse_vary


def test_parse_slo_units():
    """Thresholds accept s, ms, min and %; the operator is kept."""
    assert parse_slo("code_p99<30s") == Slo("code_p99<30s", "code_p99", "<", 30.0)
    assert parse_slo("activation_p99 <= 500ms").threshold == pytest.approx(0.5)
    assert parse_slo("completion_share>90%").threshold == pytest.approx(0.9)
    with pytest.raises(PlanError, match="cannot parse"):
        parse_slo("code_p99 about 30")


def test_parse_vary_ranges_and_lists():
    """`workers=1..32` is inclusive, `a..b:step` steps, `x=1,10,100` lists; aliases resolve."""
    assert parse_vary("workers=1..32") == ("system.workers.count", list(range(1, 33)))
    assert parse_vary("workers=2..8:3") == ("system.workers.count", [2, 5, 8])
    assert parse_vary("sms_mps=1,10,100") == ("system.sms.mps", [1, 10, 100])
    assert parse_vary("user.typo_rate=0.01,0.1") == ("user.typo_rate", [0.01, 0.1])
    for bad in ("workers", "workers=5..1", "workers=a,b"):
        with pytest.raises(PlanError):
            parse_vary(bad)


def test_mean_ci95_uses_student_t():
    """Two values 1 and 3 give mean 2 and half-width 12.706 * sqrt(2) / sqrt(2)."""
    mean, half = mean_ci95([1.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(12.706)
    assert mean_ci95([5.0, 5.0, 5.0]) == (5.0, 0.0)
    assert math.isinf(mean_ci95([1.0])[1])


def test_slo_needs_the_whole_interval_on_the_right_side():
    """`<` is met only when mean + half-width is below the threshold; nan never meets."""
    slo = parse_slo("code_p99<30s")
    assert slo.met_by(25.0, 4.0)
    assert not slo.met_by(25.0, 6.0)
    assert not slo.met_by(math.nan, 0.0)
    floor = parse_slo("completion_share>=50%")
    assert floor.met_by(0.6, 0.1) and not floor.met_by(0.55, 0.1)
