"""The sweep's knee refinement and the intervals its verdicts are judged on (pure functions, fast)."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from loadtests.judge import AGREES, DISAGREES, NOT_COMPARABLE, TOO_FEW
from loadtests.sweep_driver import exact_offsets
from loadtests.sweep_intervals import (
    REFINE_RATIO,
    Interval,
    bracket,
    bracket_said,
    judge_intervals,
    kept_up_again,
    knee_interval,
    log_mean_interval,
    log_sd,
    model_knee_interval,
    model_rows_beyond,
    refine,
    refine_bracket,
    refinement_rate,
    replication_knees,
    runs_needed,
)
from loadtests.sweep_steps import StepFigures

SLO = 2.0


def _step(rate: float, p99: float, accepted_share: float = 1.0, spread: float = 1.0) -> StepFigures:
    offered = round(rate * 100)
    return StepFigures(rate, 100.0, offered, round(offered * accepted_share), offered, offered,
                       p99 / 3, p99 / 2, p99, (p99 / 2, p99 / 2), (p99 / spread, p99 * spread))  # fmt: skip


def _processor(knee: float):
    """A processor that keeps up below ``knee`` events/s and refuses deliveries above it."""
    ran: list[float] = []

    def run(rate: float) -> StepFigures:
        ran.append(rate)
        return _step(rate, 0.5) if rate < knee else _step(rate, 0.5, accepted_share=0.9)

    return run, ran


def test_the_bracket_is_the_knee_step_and_the_first_failing_one():
    steps = [_step(8, 0.5), _step(15, 0.6), _step(18, 0.8), _step(24, 0.9, 0.9), _step(30, 5.0)]
    low, high = bracket(steps, SLO) or (None, None)
    assert (low.target_rate, high.target_rate) == (18, 24)
    assert bracket(steps[:3], SLO) is None  # no step failed: nothing to bisect
    assert bracket([_step(8, 3.0), _step(15, 0.5)], SLO) is None  # the lowest failed: no knee


def test_refinement_bisects_the_grids_bracket_until_it_is_narrow_enough():
    """The plan-your-own grid 0.4, 0.75, 0.9, 1.2 of a 20/s capacity, the true knee at 21.3/s: the
    grid knows it only within 18-24/s (1.33x, wider than the 15 % tolerance); two bisections
    bring the bracket to at most 1.10x around the true knee."""
    run, ran = _processor(21.3)
    grid = [run(f * 20) for f in (0.4, 0.75, 0.9, 1.2)]
    added = refine(run, grid, SLO, max_steps=3)
    assert len(added) == 2 and ran[4:] == pytest.approx(
        [math.sqrt(18 * 24), math.sqrt(math.sqrt(18 * 24) * 24)], rel=1e-3
    )
    low, high = bracket(grid + added, SLO) or (None, None)
    assert low.target_rate < 21.3 < high.target_rate
    assert high.target_rate / low.target_rate <= REFINE_RATIO
    assert refinement_rate(grid + added, SLO) is None


def test_refinement_stops_after_the_steps_allowed_and_records_the_brackets():
    run, _ = _processor(70.0)
    grid = [run(50.0), run(100.0)]
    added, record = refine_bracket(run, grid, SLO, max_steps=1)
    assert [s.target_rate for s in added] == [pytest.approx(math.sqrt(5000))]
    assert record["steps_run"] == 1 and record["grid_bracket_per_s"] == [50.0, 100.0]
    assert record["bracket_per_s"] == [50.0, pytest.approx(math.sqrt(5000), rel=0.01)]  # it failed
    assert "after 1 refining step" in bracket_said(record)
    assert refine(run, grid, SLO, max_steps=0) == []
    nothing, empty = refine_bracket(run, [run(80.0)], SLO)  # the only step fails: no bracket
    assert nothing == [] and empty["grid_bracket_per_s"] is None and "no bracket" in bracket_said(empty)


def test_a_knee_that_fails_on_acceptance_lies_in_its_bracket():
    interval = knee_interval([_step(10, 0.5), _step(18, 0.6), _step(24, 0.7, 0.9)], SLO)
    assert (interval.low, interval.high) == (18, 24) and interval.value == pytest.approx(math.sqrt(18 * 24))


def test_an_interpolated_knee_lies_in_its_bracket_widened_where_the_p99_bounds_cross_outside():
    steps = [_step(10, 0.5, spread=1.2), _step(18, 1.0, spread=1.2), _step(24, 8.0, spread=1.2)]
    interval = knee_interval(steps, SLO)
    assert (interval.low, interval.high) == (18, 24)  # not the +-0.1 % of the interpolation alone
    # a failing step whose p99 could be under the SLO moves the upper end into the next bracket
    wide = knee_interval([_step(10, 0.5), _step(18, 1.0), _step(20, 2.2, spread=1.5), _step(24, 8.0)], SLO)
    assert wide.low == 18 and 20 < wide.high < 24
    # a passing step whose p99 could be over it moves the lower end into the bracket below
    low = knee_interval([_step(10, 0.5), _step(18, 1.9, spread=1.2), _step(20, 4.0)], SLO)
    assert 10 < low.low < 18 and low.high == 20


def test_the_bracket_is_bisected_on_the_rates_the_steps_carried():
    """At tens of events a second a step's Poisson count is +-8 % off its target: in one sweep of
    the tiny processor the target 20.9 step carried 24.2/s, past the 22.4 one's 24.0/s, and three
    refining steps aimed by target never narrowed the bracket. Steps are ordered, and the bracket
    bisected, by what they carried (refining steps carry their rate exactly)."""

    def carried(target: float, offered: float, p99: float) -> StepFigures:
        return replace(_step(target, p99), offered=round(offered * 100))

    steps = [carried(10.0, 9.8, 1.1), carried(18.7, 18.25, 1.7), carried(20.9, 24.2, 2.2),
             carried(22.4, 24.0, 2.2)]  # fmt: skip
    low, high = bracket(steps, SLO) or (None, None)
    assert (low.offered_rate, high.offered_rate) == (18.25, 24.0)
    assert refinement_rate(steps, SLO) == pytest.approx(math.sqrt(18.25 * 24.0), rel=1e-3)
    # a failing step that carried less than a passing one below it: noise is not capacity
    crossed = [carried(10.0, 9.8, 0.5), carried(18.5, 18.25, 1.6), carried(20.3, 17.9, 2.1)]
    interval = knee_interval(crossed, SLO)  # and the step above it kept up again: open above
    assert interval.low == pytest.approx(9.8) and math.isinf(interval.high)


def test_a_refining_step_carries_its_rate_exactly():
    offsets = exact_offsets(20.9, 8.0, seed=3)
    assert len(offsets) == 167 and offsets == sorted(offsets) and 0 <= offsets[0] and offsets[-1] < 8.0
    assert exact_offsets(0.0, 8.0, seed=3) == []


def test_a_knee_above_every_step_is_open_and_none_kept_up_is_nothing():
    open_above = knee_interval([_step(10, 0.5), _step(18, 0.6)], SLO)
    assert open_above.low == 18 and math.isinf(open_above.high) and not open_above.bounded
    assert knee_interval([_step(10, 3.0)], SLO).empty


def test_a_figure_over_runs_needs_two_runs_for_an_interval():
    one = log_mean_interval([0.1])
    assert one.low == 0 and math.isinf(one.high) and one.value == 0.1
    three = log_mean_interval([0.05, 0.1, 0.2])
    assert three.value == pytest.approx(0.1) and three.low < 0.05 and three.high > 0.2  # t(2) = 4.3
    assert log_mean_interval([0.1, 0.2, math.inf]).high == math.inf
    assert log_mean_interval([0.0, 0.1, 0.2]).low == 0.0
    assert log_mean_interval([]).empty


def test_the_runs_interval_covers_the_true_geometric_mean_about_95_times_in_100():
    rng = random.Random(4)
    covered = 0
    for _ in range(1000):
        runs = [math.exp(rng.gauss(math.log(0.1), 0.5)) for _ in range(3)]
        interval = log_mean_interval(runs)
        covered += interval.low <= 0.1 <= interval.high
    assert 0.93 <= covered / 1000 <= 0.97


def _p95_verdicts(model_ratio: float, runs: int, trials: int = 400) -> dict[str, int]:
    """Check runs whose p95 moves by a factor of ~3 between runs (log sd 0.45), judged against a
    model of 5 replications (log sd 0.05) whose geometric mean is ``model_ratio`` times the truth."""
    rng = random.Random(9)
    counts = {AGREES: 0, DISAGREES: 0, TOO_FEW: 0}
    for _ in range(trials):
        measured = log_mean_interval([math.exp(rng.gauss(math.log(0.1), 0.45)) for _ in range(runs)])
        model = log_mean_interval([0.1 * model_ratio * math.exp(rng.gauss(0, 0.05)) for _ in range(5)])
        counts[judge_intervals(measured, model, 0.20).verdict] += 1
    return counts


def test_a_right_model_fails_on_the_runs_noise_in_fewer_than_1_check_in_40():
    for runs in (3, 10, 30):
        counts = _p95_verdicts(1.0, runs)
        assert counts[DISAGREES] / 400 < 1 / 40, (runs, counts)
    assert _p95_verdicts(1.0, 3)[TOO_FEW] >= 380  # three runs 3x apart cannot judge a 20 % bound
    assert _p95_verdicts(1.0, 30)[AGREES] >= 300


def test_a_model_far_off_fails_even_on_three_runs():
    """4x off: three runs 3x apart catch it in about two checks of three (never pass it); ten always."""
    counts = _p95_verdicts(4.0, 3)
    assert counts[DISAGREES] >= 240 and counts[AGREES] == 0, counts
    assert _p95_verdicts(4.0, 10)[DISAGREES] == 400


def test_runs_needed_says_how_many_runs_would_judge_a_p95():
    needed = runs_needed(0.45, 0.02, 0.20)
    assert needed is not None and 20 <= needed <= 40
    assert runs_needed(0.1, 0.02, 0.20) == 4  # t(3) 3.18 x 0.1 / 2 fits in 80 % of the 20 % band
    assert runs_needed(0.45, 0.5, 0.20) is None  # the model's own interval is already too wide
    assert log_sd([0.1]) != log_sd([0.1])  # nan: one run has no spread


def test_the_old_ci_failure_is_not_judged_on_the_grid_and_judged_once_refined():
    """CI failed once on the tiny processor's knee: measured 22/s (the 0.9 step; the 1.2 step failed
    on acceptance), the model 27/s: a ratio of 1.20 on a knee the grid knew only within 22-29/s."""
    model = Interval(27.0, 26.0, 28.0, 3)
    grid = judge_intervals(knee_interval([_step(22, 0.5), _step(29.3, 0.6, 0.9)], SLO), model, 0.15)
    assert grid.verdict in (TOO_FEW, AGREES) and grid.verdict != DISAGREES
    refined = knee_interval(
        [_step(22, 0.5), _step(25.4, 0.5), _step(27.3, 0.6, 0.9), _step(29.3, 0.6, 0.9)], SLO
    )
    assert judge_intervals(refined, model, 0.15).verdict == AGREES
    below = knee_interval([_step(22, 0.5), _step(23.2, 0.6, 0.9), _step(29.3, 0.6, 0.9)], SLO)
    # the knee is 22-23/s: 27 is 18-23 % above it, outside the band by less than the noise; 30 is not
    assert judge_intervals(below, model, 0.15).verdict == TOO_FEW
    assert judge_intervals(below, Interval(30.0, 29.0, 31.0, 3), 0.15).verdict == DISAGREES


def test_open_intervals_are_judged_on_their_closed_end():
    measured = Interval(math.inf, 100.0, math.inf, 5)  # every step kept up to 100/s
    assert judge_intervals(measured, Interval(105.0, 100.0, 110.0, 5), 0.15).verdict == TOO_FEW
    assert judge_intervals(measured, Interval(60.0, 55.0, 65.0, 5), 0.15).verdict == DISAGREES
    one_run = Interval(0.1, 0.0, math.inf, 1)
    assert judge_intervals(one_run, Interval(0.1, 0.09, 0.11, 5), 0.2).verdict == TOO_FEW
    assert judge_intervals(Interval(math.nan, math.nan, math.nan, 0), one_run, 0.2).verdict == NOT_COMPARABLE


def test_each_model_replication_has_its_own_knee():
    rows = [
        {"target_rate": 10.0, "offered_rate": {"replications": [10.0, 10.0, 10.0]},
         "p99_s": {"replications": [0.5, 0.6, 0.5]}},
        {"target_rate": 20.0, "offered_rate": {"replications": [20.0, 20.0, 20.0]},
         "p99_s": {"replications": [4.0, 1.0, 8.0]}},
    ]  # fmt: skip
    knees = replication_knees(rows, 10.0, SLO)
    assert knees[0] == pytest.approx(10 + 10 * math.log(4) / math.log(8))
    assert math.isinf(knees[1])  # this replication kept up at every step
    assert knees[2] == pytest.approx(10 + 10 * math.log(4) / math.log(16))
    assert replication_knees([{**rows[0], "p99_s": {"median": 0.5}}], 10.0, SLO) == []


def test_a_model_replication_that_keeps_up_everywhere_leaves_the_interval_open_above():
    def row(rate: float, p99s: list[float]) -> dict:
        return {"target_rate": rate, "offered_rate": {"median": rate, "replications": [rate] * len(p99s)},
                "p99_s": {"replications": p99s}}  # fmt: skip

    rows = [row(10.0, [0.5, 0.5, 0.5]), row(20.0, [4.0, 1.0, 8.0])]
    interval = model_knee_interval(rows, 10.0, SLO)
    assert interval.low == pytest.approx(10 + 10 * math.log(4) / math.log(16)) and math.isinf(interval.high)
    none_kept_up = model_knee_interval([row(10.0, [3.0, 0.5]), row(20.0, [4.0, 4.0])], 10.0, SLO)
    assert none_kept_up.low == 0.0 and none_kept_up.high == pytest.approx(10 + 10 * math.log(4) / math.log(8))
    every = model_knee_interval([row(10.0, [0.5, 0.5]), row(20.0, [1.0, 1.0])], 10.0, SLO)
    assert (every.low, every.high) == (20.0, math.inf) and math.isnan(every.value)


def test_steps_that_keep_up_again_above_the_first_failure_widen_the_knee_not_move_it():
    """A default sweep on a quiet machine: 1,336/s failed (p99 283 ms) and 1,431-1,628/s kept up,
    1,725/s failed: the knee stays at the first failure, its interval reaches 1,725/s."""
    steps = [_step(1146, 0.11), _step(1235, 0.12), _step(1336, 0.28), _step(1431, 0.06), _step(1628, 0.22),
             _step(1725, 1.39)]  # fmt: skip
    assert kept_up_again(steps, 0.25) == 1725
    interval = knee_interval(steps, 0.25)
    assert interval.low == 1235 and interval.high == 1725
    assert judge_intervals(interval, Interval(1795.0, 1791.0, 1798.0, 5), 0.15).verdict == TOO_FEW
    assert math.isinf(kept_up_again([*steps[:4]], 0.25))  # the top step kept up: open above
    assert kept_up_again(steps[:3], 0.25) == 0.0


def _queue_row(rate: float, capacities: list[float]) -> dict:
    """A model row whose replication ``r`` is a queue of ``capacities[r]``/s: p99 grows as 1/(1-rho)."""
    p99s = [0.2 / (1 - rate / c) if rate < c else 60.0 for c in capacities]
    return {"target_rate": rate, "offered_rate": {"median": rate, "replications": [rate] * len(p99s)},
            "p99_s": {"replications": p99s}}  # fmt: skip


def test_the_model_runs_past_the_measured_grid_until_every_replication_has_its_own_knee():
    """The tiny processor's sweep: the measured grid stopped at its first failure, where some model
    replications still kept up, so their knee was only a bound. Model-only steps 1.25x apart
    above the grid give every replication a crossing, and the knee a two-sided interval."""
    capacities = [26.0, 29.0, 31.0]  # each replication's p99 crosses 2 s at 90 % of it
    rows = [_queue_row(rate, capacities) for rate in (8.0, 15.0, 20.0, 24.0)]
    open_above = model_knee_interval(rows, 10.0, SLO)
    assert math.isinf(open_above.high)
    asked: list[float] = []

    def predict_at(rate: float) -> dict:
        asked.append(rate)
        return _queue_row(rate, capacities)

    beyond = model_rows_beyond(rows, predict_at, 10.0, SLO)
    assert asked == [pytest.approx(30.0)] and all(r["model_only"] for r in beyond)
    closed = model_knee_interval([*rows, *beyond], 10.0, SLO)
    assert closed.bounded and closed.n == 3 and 24.0 < closed.value < 30.0
    knees = replication_knees([*rows, *beyond], 10.0, SLO)
    # each near its true crossing at 90 % of its capacity (log-linear interpolation across 1.25x)
    assert all(0.85 < k / c <= 0.9 for k, c in zip(knees, capacities, strict=True))


def test_model_only_steps_go_below_the_grid_too_and_stop_at_their_limit():
    capacities = [5.0, 12.0]  # the first replication fails at every measured step
    rows = [_queue_row(rate, capacities) for rate in (8.0, 10.0)]
    beyond = model_rows_beyond(rows, lambda rate: _queue_row(rate, capacities), 10.0, SLO)
    # three below until the first keeps up (4.1/s), one above for the second (12.5/s fails)
    assert [r["target_rate"] for r in beyond] == pytest.approx([8 / 1.25**3, 8 / 1.25**2, 8 / 1.25, 12.5])
    knees = replication_knees([*rows, *beyond], 10.0, SLO)
    assert all(0 < k < math.inf for k in knees)
    never_saturates = model_rows_beyond(rows, lambda rate: _queue_row(rate, [5.0, 1e9]), 10.0, SLO, most=3)
    assert len([r for r in never_saturates if r["target_rate"] > 10]) == 3  # gives up: stays open above
    bracketed = [_queue_row(rate, [20.0, 20.0]) for rate in (8.0, 25.0)]  # each replication's knee inside
    assert model_rows_beyond(bracketed, lambda rate: _queue_row(rate, [20.0, 20.0]), 10.0, SLO) == []
