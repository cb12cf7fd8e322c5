"""The carrier latency takes a scenario's distribution tables (as the simulator draws them)."""

from __future__ import annotations

import random

import pytest

from fake_sms.carrier import LatencyModel
from fake_sms.exceptions import ControlError


@pytest.mark.parametrize(
    ("table", "mean"),
    [
        ({"dist": "constant", "value": 2.5}, 2.5),
        ({"dist": "exponential", "mean": 3.0}, 3.0),
        ({"dist": "uniform", "low": 1.0, "high": 5.0}, 3.0),
        ({"dist": "lognormal", "mean": 4.0, "sd": 2.0}, 4.0),
        ({"dist": "lognormal", "p50": 3.0, "p95": 9.0}, None),
    ],
)
def test_distribution_tables_sample_with_their_mean(table, mean):
    model = LatencyModel.from_json(table)
    rng = random.Random(3)
    draws = [model.sample(rng) for _ in range(40_000)]
    if mean is not None:
        assert sum(draws) / len(draws) == pytest.approx(mean, rel=0.03)
    else:
        assert sorted(draws)[len(draws) // 2] == pytest.approx(3.0, rel=0.03)
    assert model.to_json()["dist"] == table["dist"]


@pytest.mark.parametrize(
    "table",
    [{"dist": "weibull", "k": 1}, {"dist": "uniform", "low": 3, "high": 1}, {"dist": "exponential"}],
)
def test_bad_tables_are_control_errors(table):
    with pytest.raises(ControlError):
        LatencyModel.from_json(table)
