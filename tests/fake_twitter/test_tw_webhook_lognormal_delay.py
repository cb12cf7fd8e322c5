"""A lognormal fault latency (median a, 95th percentile b, in ms), as a scenario's webhook delay."""

from __future__ import annotations

import random

import pytest

from fake_twitter.faults import Latency


def test_lognormal_latency_has_the_given_median_and_95th_percentile():
    latency = Latency("lognormal", 300.0, 1000.0)
    rng = random.Random(2)
    draws = sorted(latency.sample_seconds(rng) for _ in range(40_000))
    assert draws[20_000] == pytest.approx(0.3, rel=0.03)
    assert draws[38_000] == pytest.approx(1.0, rel=0.05)
    with pytest.raises(ValueError):
        Latency("lognormal", 0.0, 10.0)
