"""Verdicts earned on both sides' intervals: simulated runs of a right and a wrong model.

Each trial draws a run's code latencies (log-normal, as the carrier's delay is), measures its p95
and the p95's 95 % interval the way a load run does (:func:`loadtests.judge.percentile_bounds`),
and judges it against a model whose mean is known to within its own interval over 10 seeds.
"""

from __future__ import annotations

import math
import random

import pytest

from loadtests.judge import (
    AGREES,
    DISAGREES,
    NOT_COMPARABLE,
    TOO_FEW,
    judge,
    percentile_bounds,
    rate_interval,
)

SIGMA = 0.5
TRUE_P95 = math.exp(1.6448536 * SIGMA)


def _measured_p95(rng: random.Random, n: int, censored: int = 0) -> tuple[float, float, float]:
    values = sorted(rng.lognormvariate(0.0, SIGMA) for _ in range(n))

    def at(percentile: float) -> float:
        if math.isinf(percentile):
            return math.inf
        return values[min(n - 1, max(0, math.ceil(percentile / 100 * n) - 1))]

    low, high = percentile_bounds(n, 95.0, censored=censored)
    shifted = 95.0 * (n + censored) / n
    return (math.inf if shifted > 100 else at(shifted)), at(low), at(high)


def _verdicts(model_p95: float, n: int, trials: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {AGREES: 0, DISAGREES: 0, TOO_FEW: 0}
    for _ in range(trials):
        p95, low, high = _measured_p95(rng, n)
        judgement = judge(p95, (low, high), n, model_p95, (model_p95 * 0.97, model_p95 * 1.03), 10, 0.15)
        counts[judgement.verdict] += 1
    return counts


def test_the_percentile_interval_covers_the_true_p95_about_95_times_in_100():
    rng = random.Random(1)
    covered = 0
    for _ in range(1000):
        _, low, high = _measured_p95(rng, 400)
        covered += low <= TRUE_P95 <= high
    assert 0.93 <= covered / 1000 <= 0.99


def test_the_rate_interval_covers_a_poisson_rate_about_95_times_in_100():
    rng = random.Random(2)
    covered = 0
    for _ in range(1000):
        count = sum(1 for _ in range(4000) if rng.random() < 0.1)  # 400 expected events in 100 s
        low, high = rate_interval(count / 100, count)
        covered += low <= 4.0 <= high
    assert 0.93 <= covered / 1000 <= 0.98


def test_a_right_model_is_never_passed_on_a_handful_of_samples():
    counts = _verdicts(TRUE_P95, n=20, trials=300)
    assert counts[AGREES] == 0 and counts[DISAGREES] == 0 and counts[TOO_FEW] == 300


def test_a_right_model_fails_on_noise_in_fewer_than_1_run_in_40():
    for n in (150, 400, 1500):
        counts = _verdicts(TRUE_P95, n=n, trials=400)
        assert counts[DISAGREES] / 400 < 1 / 40, (n, counts)


def test_a_right_model_passes_once_the_run_is_long_enough():
    counts = _verdicts(TRUE_P95, n=3000, trials=200)
    assert counts[AGREES] >= 190, counts


@pytest.mark.parametrize("off", [0.5, 2.0])
def test_a_model_far_off_fails_even_on_a_short_run(off):
    counts = _verdicts(TRUE_P95 * off, n=150, trials=200)
    assert counts[DISAGREES] >= 180 and counts[AGREES] == 0, counts


def test_a_model_just_outside_the_tolerance_is_not_passed_when_the_run_can_tell():
    counts = _verdicts(TRUE_P95 * 1.25, n=3000, trials=200)
    assert counts[AGREES] == 0 and counts[DISAGREES] >= 150, counts


def test_codes_that_never_arrived_make_the_upper_bound_unbounded():
    assert percentile_bounds(100, 95.0, censored=3)[1] == math.inf
    low, high = percentile_bounds(1000, 95.0)
    assert 93.0 < low < 95.0 < high < 97.0
    p95, low_value, high_value = _measured_p95(random.Random(3), 100, censored=3)
    judgement = judge(p95, (low_value, high_value), 103, TRUE_P95, (TRUE_P95, TRUE_P95), 10, 0.15)
    assert judgement.verdict == TOO_FEW


def test_too_few_seeds_and_missing_sides_are_said():
    one_seed = judge(10.0, (9.9, 10.1), 5000, 10.0, (10.0, 10.0), 1, 0.15)
    assert one_seed.verdict == TOO_FEW and "seed" in one_seed.why
    wide = judge(10.0, (9.9, 10.1), 5000, 10.0, (7.0, 13.0), 4, 0.15)
    assert wide.verdict == TOO_FEW and "about" in wide.why and "seeds" in wide.why
    assert judge(None, (None, None), 0, 10.0, (9.0, 11.0), 10, 0.15).verdict == NOT_COMPARABLE
    assert judge(math.inf, (1.0, math.inf), 50, math.inf, (math.inf, math.inf), 10, 0.15).verdict == AGREES


def test_a_lopsided_percentile_interval_is_read_on_the_side_the_model_lies():
    """30mps-registration-wave's activation p95 (measured 7 December): DM buyers, about 5 % of the
    activations, wait for a 5 s DM poll, so the p95 sits at the edge of their mode; the measured
    interval reaches 2.5x up and 0.8x down. A model above the measurement is within that reach."""
    judgement = judge(0.656, (0.517, 1.653), 494, 1.595, (1.041, 2.149), 10, 0.15)
    assert judgement.verdict == TOO_FEW and judgement.error_low is not None and judgement.error_low < 0.15
    below = judge(0.656, (0.517, 1.653), 494, 0.3, (0.29, 0.31), 10, 0.15)  # under the short reach
    assert below.verdict == DISAGREES
