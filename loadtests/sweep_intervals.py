"""The sweep's judged figures with their 95 % intervals: the knee's bracket and its refinement, a
figure over repeated runs, and the judgement of measured against predicted (pure arithmetic).

**Refinement.** A grid knows the knee only to within the step above it: when the first failing step
fails on acceptance the knee is the last passing step's rate, and the true one lies anywhere up to
the failing step (with ``--steps 0.4,0.75,0.9,1.2``, anywhere in 0.9-1.2 of the capacity, wider
than the 15 % tolerance). :func:`refine` bisects that bracket (at the geometric midpoint of its
ends' offered rates) with extra steps until its ends are at most :data:`REFINE_RATIO` apart or the
steps allowed are used.

**The measured knee's interval** (:func:`knee_interval`): the bracket it lies in (last passing ..
first failing step); when the knee is interpolated to the SLO crossing, widened to wherever the
crossings computed with the steps' p99 interval bounds fall (a p99 bound that passes a failing step
or fails a passing one moves the crossing to the next bracket; every step passing on its lower
bounds leaves the interval open above); and when a step above the first failing one kept up
again, up to the first failure above the highest step that kept up (:func:`kept_up_again`: the
knee stays the first failure's, "noise is not capacity", but one step's burst of other load must
not decide a verdict). Not the p99-bound crossings alone: on thousands of events a
step's binomial p99 interval is +-1-2 %, so they pin the crossing to +-0.1 % while the log-linear
interpolation between the bracket's ends, an assumption about the curve, can be off by most of the
bracket, and the knee of one machine moved 838 -> 927/s between two default sweeps 15 minutes
apart. The bracket is what the steps show; refinement narrows it.

**A figure over repeats** (:func:`log_mean_interval`): the geometric mean of independent runs'
values with a Student-t 95 % interval on their logs; a single run has no spread and so no interval.
The p95 of one check run moves by up to 3x between runs at one rate (autocorrelated stalls), so
its honest interval is the spread between runs, not the binomial count of thousands of correlated
events. The model's knee and p95 get theirs the same way, from its replications.

**The judgement** (:func:`judge_intervals`): :func:`loadtests.judge.judge` on the two intervals'
centres and widths; an interval open on one side (a knee above every step, a run that never kept
up) is judged on interval arithmetic: disagrees only when even its closed end is outside the
tolerance, otherwise too few to judge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from loadtests.judge import DISAGREES, NOT_COMPARABLE, TOO_FEW, Judgement, judge
from loadtests.sweep_steps import ACCEPT_SHARE, StepFigures, knee, knee_rate
from simulator.seeds import mean_interval, t975

__all__ = [
    "DEFAULT_REFINE_STEPS", "REFINE_RATIO", "Interval", "bracket", "bracket_said", "interpolates",
    "judge_intervals",
    "kept_up_again",
    "knee_interval", "log_mean_interval", "log_sd", "model_knee_interval", "model_rows_beyond", "refine",
    "refine_bracket",
    "refinement_rate", "replication_knees", "runs_needed",
]  # fmt: skip

#: refine until the bracket's ends are at most this far apart: +-5 % about its centre, a third of
#: the 15 % knee tolerance, so the model's own interval still fits beside it
REFINE_RATIO = 1.10
#: extra steps the refinement may take (a bracket 2x wide needs three)
DEFAULT_REFINE_STEPS = 3


@dataclass(frozen=True)
class Interval:
    """A figure's estimate and 95 % interval, and how many runs (steps, replications) it rests
    on; ``low`` 0 or ``high`` inf: open on that side; nan throughout: nothing to estimate from."""

    value: float
    low: float
    high: float
    n: int

    @property
    def bounded(self) -> bool:
        return 0 < self.low <= self.high < math.inf

    @property
    def empty(self) -> bool:
        return self.n == 0 or math.isnan(self.low) or math.isnan(self.high)

    @property
    def half_width(self) -> float:
        """Half the width on a log scale (a share of the value): inf when open."""
        return (math.log(self.high) - math.log(self.low)) / 2 if self.bounded else math.inf

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "interval": [self.low, self.high], "n": self.n}


NOTHING = Interval(math.nan, math.nan, math.nan, 0)


def bracket(steps: Sequence[StepFigures], slo_p99_s: float) -> tuple[StepFigures, StepFigures] | None:
    """The knee step and the first failing step above it (by offered rate); None when no step keeps
    up or none fails."""
    ordered = sorted(steps, key=lambda s: s.offered_rate)
    found = knee(ordered, slo_p99_s)
    if found is None or found is ordered[-1]:
        return None
    return found, ordered[ordered.index(found) + 1]


def refinement_rate(
    steps: Sequence[StepFigures], slo_p99_s: float, ratio: float = REFINE_RATIO
) -> float | None:
    """The rate to bisect the knee's bracket at: the geometric midpoint of its ends' offered rates
    (what the steps carried: at tens of events a second a step's Poisson count is +-8 % off its
    target, so a refining step should carry its rate exactly, :func:`loadtests.sweep_driver.
    exact_offsets`); None when there is no bracket or its ends are at most ``ratio`` apart."""
    found = bracket(steps, slo_p99_s)
    if found is None or found[1].offered_rate <= ratio * found[0].offered_rate:
        return None
    return math.sqrt(found[0].offered_rate * found[1].offered_rate)


def refine(
    run_step: Callable[[float], StepFigures],
    steps: Sequence[StepFigures],
    slo_p99_s: float,
    max_steps: int = DEFAULT_REFINE_STEPS,
    ratio: float = REFINE_RATIO,
) -> list[StepFigures]:
    """Bisect the knee's bracket: ``run_step(rate)`` at :func:`refinement_rate` until the bracket
    is at most ``ratio`` wide or ``max_steps`` steps were run; the steps run (in order)."""
    added: list[StepFigures] = []
    while len(added) < max_steps:
        rate = refinement_rate([*steps, *added], slo_p99_s, ratio)
        if rate is None:
            break
        added.append(run_step(rate))
    return added


def refine_bracket(
    run_step: Callable[[float], StepFigures],
    steps: Sequence[StepFigures],
    slo_p99_s: float,
    max_steps: int = DEFAULT_REFINE_STEPS,
    ratio: float = REFINE_RATIO,
) -> tuple[list[StepFigures], dict[str, Any]]:
    """:func:`refine`, and what it did for the sweep's document: the bracket's ends (offered
    events/s) on the grid and after, and the steps it ran."""
    record: dict[str, Any] = {"max_steps": max_steps, "ratio": ratio, "steps_run": 0,
                              "grid_bracket_per_s": None, "bracket_per_s": None}  # fmt: skip
    before = bracket(steps, slo_p99_s)
    if before is None:
        return [], record
    added = refine(run_step, steps, slo_p99_s, max_steps, ratio)
    after = bracket([*steps, *added], slo_p99_s) or before
    record.update(
        steps_run=len(added),
        grid_bracket_per_s=[before[0].offered_rate, before[1].offered_rate],
        bracket_per_s=[after[0].offered_rate, after[1].offered_rate],
    )
    return added, record


def bracket_said(record: Mapping[str, Any]) -> str:
    """One line on a :func:`refine_bracket` record."""
    before, after = record.get("grid_bracket_per_s"), record.get("bracket_per_s")
    if not before or not after:
        return "the knee has no bracket to refine (no step failed, or none kept up)"
    return (
        f"the knee's bracket: {before[0]:,.1f}-{before[1]:,.1f}/s on the grid, {after[0]:,.1f}-"
        f"{after[1]:,.1f}/s after {record['steps_run']} refining step(s) (at most {record['max_steps']}, "
        f"until its ends are {record['ratio']:.2f}x apart)"
    )


def interpolates(found: StepFigures, after: StepFigures) -> bool:
    """Whether :func:`~loadtests.sweep_steps.knee_rate` interpolates between these two steps."""
    return after.accepted >= ACCEPT_SHARE * after.offered and after.p99 > found.p99 > 0


def _crossing(ordered: Sequence[StepFigures], slo_p99_s: float, bound: int) -> float:
    """The knee with each step's p99 at its interval's lower (``bound`` 0) or upper (1) end: 0 when
    no step keeps up then, inf when every one does on the lower ends."""
    moved = [replace(s, p99=s.p99_interval[bound]) for s in ordered]
    found = knee(moved, slo_p99_s)
    if found is None:
        return 0.0
    if found is moved[-1]:
        return math.inf if bound == 0 else found.offered_rate
    return knee_rate(moved, slo_p99_s) or 0.0


def knee_interval(steps: Sequence[StepFigures], slo_p99_s: float) -> Interval:
    """The measured knee's 95 % interval (see the module docstring) and the steps it rests on;
    its value is the interval's geometric centre (the knee lies anywhere in a bracket)."""
    ordered = sorted(steps, key=lambda s: s.offered_rate)
    found = knee(ordered, slo_p99_s)
    if found is None:
        return NOTHING
    point = knee_rate(ordered, slo_p99_s) or found.offered_rate
    if found is ordered[-1]:
        return Interval(math.inf, found.offered_rate, math.inf, len(ordered))
    after = ordered[ordered.index(found) + 1]
    low, high = found.offered_rate, after.offered_rate
    if interpolates(found, after):  # the bracket, and wherever the p99 bounds move the crossing
        low = min(low, _crossing(ordered, slo_p99_s, 1))
        high = max(high, _crossing(ordered, slo_p99_s, 0))
    high = max(high, kept_up_again(ordered, slo_p99_s))
    value = math.sqrt(low * high) if 0 < low and math.isfinite(high) else point
    return Interval(value, low, high, len(ordered))


def kept_up_again(steps: Sequence[StepFigures], slo_p99_s: float) -> float:
    """When a step above the knee's first failing one kept up again (the first failure a burst of
    other load, not capacity): the first failing step above the highest that kept up (inf when that
    is the top step); else 0. The knee stays the first failure's; its interval reaches this far."""
    ordered = sorted(steps, key=lambda s: s.offered_rate)
    found = knee(ordered, slo_p99_s)
    if found is None:
        return 0.0
    above = ordered[ordered.index(found) + 1 :]
    passing = [i for i, s in enumerate(above) if s.keeps_up(slo_p99_s)]
    if not passing:
        return 0.0
    later = [s for s in above[passing[-1] + 1 :] if not s.keeps_up(slo_p99_s)]
    return later[0].offered_rate if later else math.inf


def log_mean_interval(values: Sequence[float]) -> Interval:
    """The geometric mean of ``values`` (runs or replications) with a Student-t 95 % interval on
    their logs; open (0 .. inf) from one value, open below with a value <= 0 (a run that never
    kept up) and above with an infinite one."""
    xs = [float(v) for v in values if not math.isnan(v)]
    if not xs:
        return NOTHING
    finite = [x for x in xs if 0 < x < math.inf]
    low_open, high_open = any(x <= 0 for x in xs), any(math.isinf(x) for x in xs)
    if len(xs) == 1 or len(finite) < 2:
        only = finite[0] if finite else math.nan
        return Interval(only, 0.0, math.inf, len(xs))
    estimate = mean_interval([math.log(x) for x in finite])
    assert estimate.mean is not None and estimate.low is not None and estimate.high is not None
    return Interval(
        math.exp(estimate.mean),
        0.0 if low_open else math.exp(estimate.low),
        math.inf if high_open else math.exp(estimate.high),
        len(xs),
    )


def log_sd(values: Sequence[float]) -> float:
    """The sample standard deviation of the logs of the positive finite ``values`` (nan below two)."""
    logs = [math.log(v) for v in values if 0 < v < math.inf]
    if len(logs) < 2:
        return math.nan
    mean = sum(logs) / len(logs)
    return math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))


def runs_needed(spread: float, other_half_width: float, tolerance: float, most: int = 100) -> int | None:
    """Runs whose Student-t interval (log sd ``spread`` between runs) beside the other side's half
    width fits inside 80 % of the tolerance band's half width; None when no number up to ``most``
    would (the other side alone is too wide) or the spread is unknown."""
    limit = 0.8 * (math.log(1 + tolerance) - math.log(1 - tolerance)) / 2
    if not math.isfinite(spread) or other_half_width >= limit:
        return None
    room = math.sqrt(limit**2 - other_half_width**2)
    for n in range(2, most + 1):
        if t975(n - 1) * spread / math.sqrt(n) <= room:
            return n
    return None


def replication_knees(rows: Sequence[Mapping[str, Any]], seconds: float, slo_p99_s: float) -> list[float]:
    """Each model replication's knee from predicted steps that keep their replications' figures
    (``offered_rate`` and ``p99_s`` ``replications``): 0 when its lowest step fails, inf when none
    does (the model accepts every event: it fails on p99 alone). Empty without them."""
    count = min((len(row["p99_s"].get("replications", [])) for row in rows), default=0)
    knees = []
    for r in range(count):
        figures = []
        for row in rows:
            offered = max(1, round(row["offered_rate"]["replications"][r] * seconds))
            p99 = float(row["p99_s"]["replications"][r])
            figures.append(StepFigures(float(row["target_rate"]), seconds, offered, offered, offered, offered,
                                       p99, p99, p99, (p99, p99), (p99, p99)))  # fmt: skip
        ordered = sorted(figures, key=lambda s: s.target_rate)
        found = knee(ordered, slo_p99_s)
        if found is None:
            knees.append(0.0)
        else:
            knees.append(math.inf if found is ordered[-1] else knee_rate(ordered, slo_p99_s) or 0.0)
    return knees


def model_knee_interval(rows: Sequence[Mapping[str, Any]], seconds: float, slo_p99_s: float) -> Interval:
    """The model's knee: its replications' knees (:func:`replication_knees`), geometric mean and
    Student-t interval; when a replication kept up at every step the interval runs from the lowest
    knee (at most the top step's rate) to inf, when one kept up at none from 0 (to at least the
    lowest step's rate). Empty without replication figures."""
    knees = replication_knees(rows, seconds, slo_p99_s)
    exact = [k for k in knees if 0 < k < math.inf]
    if len(exact) == len(knees):
        return log_mean_interval(knees)
    rates = sorted(float(row["offered_rate"]["median"]) for row in rows)
    above, below = any(math.isinf(k) for k in knees), any(k <= 0 for k in knees)
    low = 0.0 if below else min([*exact, rates[-1]])
    high = math.inf if above else max([*exact, rates[0]])
    return Interval(math.nan, low, high, len(knees))  # no central value: some knees are bounds


#: how far apart the model-only steps beyond the measured grid lie (a grid's 1.25x, so each
#: replication's knee is interpolated across a bracket no wider than the measured grid's)
BEYOND_FACTOR = 1.25
#: model-only steps allowed each way (1.25 ** 6: nearly 4x past the measured grid's end)
BEYOND_MOST = 6


def model_rows_beyond(
    rows: Sequence[Mapping[str, Any]],
    predict_at: Callable[[float], dict[str, Any]],
    seconds: float,
    slo_p99_s: float,
    factor: float = BEYOND_FACTOR,
    most: int = BEYOND_MOST,
) -> list[dict[str, Any]]:
    """Model-only steps past the measured grid's ends, so each replication's knee is its own and not
    a bound set by where the measured grid stopped: above the top rate (``factor`` more each) while a
    replication keeps up at every step, below the lowest (``factor`` less each) while one keeps up at
    none; at most ``most`` each way. Simulating a step costs milliseconds, measuring one seconds;
    the judge then sees an open model knee only when the model keeps up ``factor ** most`` past the
    grid. ``predict_at(rate)`` gives one predicted row (with its replications' figures)."""
    extra: list[dict[str, Any]] = []
    for upward in (True, False):
        for _ in range(most):
            knees = replication_knees([*rows, *extra], seconds, slo_p99_s)
            if not knees or not (any(math.isinf(k) for k in knees) if upward else any(k <= 0 for k in knees)):
                break
            rates = [float(r["target_rate"]) for r in [*rows, *extra]]
            rate = max(rates) * factor if upward else min(rates) / factor
            extra.append({**predict_at(rate), "model_only": True})
    return sorted(extra, key=lambda r: float(r["target_rate"]))


def judge_intervals(measured: Interval, model: Interval, tolerance: float) -> Judgement:
    """``model`` judged against ``measured`` (see the module docstring)."""
    if measured.empty:
        return Judgement(NOT_COMPARABLE, why="nothing measured")
    if model.empty:
        return Judgement(NOT_COMPARABLE, why="no prediction")
    if measured.bounded and model.bounded:
        return judge(
            measured.value, (measured.low, measured.high), measured.n,
            model.value, (model.low, model.high), model.n, tolerance,
        )  # fmt: skip
    error_low = model.low / measured.high - 1 if math.isfinite(measured.high) else -1.0
    error_high = model.high / measured.low - 1 if measured.low > 0 else math.inf
    error = (
        model.value / measured.value - 1
        if 0 < measured.value < math.inf and math.isfinite(model.value)
        else None
    )
    if error_low > tolerance or error_high < -tolerance:
        return Judgement(
            DISAGREES, error, error_low, error_high, "outside the tolerance even at its open end"
        )
    side = "measured" if not measured.bounded else "predicted"
    return Judgement(TOO_FEW, error, error_low, error_high, f"the {side} interval is open on one side")
