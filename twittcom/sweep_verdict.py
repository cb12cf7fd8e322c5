"""``twittcom sweep --check``: the knee and the p95 at 50 % / 80 % of it, each judged on both sides' 95 %
intervals (:mod:`loadtests.sweep_intervals`, :func:`loadtests.judge.judge`), never on a point.

- **The knee** (tolerance 15 %): measured, the bracket it lies in, widened where the SLO crossing
  on the steps' p99 bounds falls outside it (:func:`~loadtests.sweep_intervals.knee_interval`);
  predicted, each model replication's knee at the same steps and at model-only steps past the
  grid's ends (:func:`~loadtests.sweep_intervals.model_rows_beyond`), their geometric mean with a
  Student-t interval (open above only when a replication kept up even there).
- **p95 at 50 % and 80 % of the measured knee** (tolerance 20 %): measured, the geometric mean of
  the check runs' p95 with a Student-t interval across the runs (one run's p95 moves by up to 3x at
  one rate, so the runs' spread, not the binomial count of their correlated events, is its
  noise); predicted, the same statistic in each replication. A p95 measured on the way up only (no
  check runs, an older document, ``--against``) has no spread to judge on.

Exit codes as ``storm --check``'s: 1 when a checked figure disagrees beyond its tolerance by more
than its noise, or nothing was measured to judge; 3 when one has too few runs (or replications, or
too coarse a bracket) to judge; 0 when all agree. Each verdict says what would tell.
``--against`` checks the knee only (its p95 lines are shown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from loadtests.judge import AGREES, DISAGREES, NOT_COMPARABLE, TOO_FEW, Judgement
from loadtests.sweep_intervals import (
    Interval,
    bracket,
    interpolates,
    judge_intervals,
    kept_up_again,
    knee_interval,
    log_mean_interval,
    log_sd,
    model_knee_interval,
    runs_needed,
)
from loadtests.sweep_steps import StepFigures
from twittcom.prechecks import EXIT_FAILED, EXIT_PASS, EXIT_UNJUDGED

__all__ = ["KNEE_TOLERANCE", "P95_TOLERANCE", "judge_sweep", "predicted_rows"]

KNEE_TOLERANCE = 0.15
P95_TOLERANCE = 0.20
_SAID = {AGREES: "AGREES", DISAGREES: "DISAGREES", TOO_FEW: "NOT JUDGED", NOT_COMPARABLE: "NOT COMPARABLE"}


def _limit(tolerance: float) -> float:
    """80 % of the tolerance band's half width on a log scale: what an interval must fit in."""
    return 0.8 * (math.log(1 + tolerance) - math.log(1 - tolerance)) / 2


def _plus_minus(half_width: float) -> str:
    """A log-scale half width as a reader takes it: +-N % when small, a factor either way when not."""
    if half_width < 0.4:
        return f"+-{math.expm1(half_width):.0%}"
    return f"a factor of {math.exp(half_width):.1f} either way"


def _rate(value: float) -> str:
    if math.isinf(value):
        return "open"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _ms(value: float) -> str:
    return "open" if math.isinf(value) else f"{value * 1e3:.0f}" if value >= 0.1 else f"{value * 1e3:.1f}"


def _shown(interval: Interval, fmt: Any) -> str:
    if interval.empty:
        return "none"
    bounds = f"[{fmt(interval.low)}, {fmt(interval.high)}]"
    return bounds if not math.isfinite(interval.value) else f"{fmt(interval.value)} {bounds}"


def _error(judgement: Judgement) -> str:
    """``: error +3% [-5%, +12%]``; the interval alone when one side is open (no central value)."""
    if judgement.error_low is None and judgement.error is None:
        return ""

    def pct(value: float | None) -> str:
        return "open" if value is None or math.isinf(value) else f"{value:+.0%}"

    centre = "" if judgement.error is None else f" {judgement.error:+.0%}"
    return f": error{centre} [{pct(judgement.error_low)}, {pct(judgement.error_high)}]"


def predicted_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's steps by rate: at each measured step and the model-only ones past the grid."""
    rows = [*doc.get("predicted", []), *doc.get("predicted_beyond", [])]
    return sorted(rows, key=lambda p: float(p["target_rate"]))


def _model_knee(doc: dict[str, Any]) -> Interval:
    """Each replication's knee at the measured steps and the model-only ones beyond them (older rows
    without replications: the crossing on the predicted steps' range, as wide as the replications
    spread)."""
    rows, seconds, slo = predicted_rows(doc), doc["step_seconds"], doc["slo_p99_s"]
    found = model_knee_interval(rows, seconds, slo)
    if not found.empty:
        return found
    steps = []
    for row in rows:
        offered = max(1, round(row["offered_rate"]["median"] * seconds))
        p99 = row["p99_s"]
        steps.append(StepFigures(row["target_rate"], seconds, offered, offered, offered, offered,
                                 p99["median"], p99["median"], p99["median"], tuple(p99["interval"]),
                                 tuple(p99["interval"])))  # type: ignore[arg-type]  # fmt: skip
    found = knee_interval(steps, slo)
    return Interval(found.value, found.low, found.high, int(doc.get("replications", 1)))


def _knee_how(steps: Sequence[StepFigures], slo: float, measured: Interval) -> str:
    if measured.empty:
        return "no step kept up"
    if math.isinf(measured.high) and not kept_up_again(steps, slo):
        return "every step kept up: a lower bound"
    found = bracket(steps, slo)
    if found is None:
        return "no bracket"
    ends = f"{_rate(found[0].offered_rate)} and {_rate(found[1].offered_rate)}/s"
    again = kept_up_again(steps, slo)
    said = ""
    if again:
        said = "; steps above kept up again, " + (
            "the top one too" if math.isinf(again) else f"up to {_rate(again)}/s"
        )
    if interpolates(*found):
        return f"p99 crosses the SLO between the steps at {ends}, or where their p99 bounds cross it{said}"
    return f"between the last passing and the first failing step, at {ends}{said}"


def _knee_tell(judgement: Judgement, measured: Interval, model: Interval, again: float) -> str:
    if judgement.verdict != TOO_FEW:
        return ""
    limit = _limit(KNEE_TOLERANCE)
    if again:
        return "steps above the first failure kept up again: another sweep, on a quieter machine, would tell"
    if math.isinf(measured.high):
        return "every step kept up: steps reaching higher (--steps) would tell"
    if not model.bounded:
        return (
            "a model replication kept up at every step (or at none), even past the measured grid: "
            "check the calibration (a model that never saturates has a station left out)"
        )
    if model.half_width >= limit or (model.half_width > measured.half_width):
        spread = _plus_minus(model.half_width)
        return f"the model's knees over {model.n} replications spread {spread}: more --replications"
    return (
        f"the measured knee is known to {_plus_minus(measured.half_width)} only ({_rate(measured.low)}-"
        f"{_rate(measured.high)}/s): a finer bracket (more --refine-steps, or --steps closer together "
        "near the knee) would tell"
    )


def _knee(doc: dict[str, Any]) -> dict[str, Any]:
    steps = [StepFigures.from_json(r) for r in doc["measured"]]
    slo = doc["slo_p99_s"]
    measured, model = knee_interval(steps, slo), _model_knee(doc)
    judgement = judge_intervals(measured, model, KNEE_TOLERANCE)
    how = _knee_how(steps, slo, measured)
    tell = _knee_tell(judgement, measured, model, kept_up_again(steps, slo))
    line = (
        f"{_SAID[judgement.verdict]} knee: measured {_shown(measured, _rate)}/s ({how}), model "
        f"{_shown(model, _rate)}/s ({model.n} replications' knees){_error(judgement)} "
        f"(tolerance +-{KNEE_TOLERANCE:.0%})" + (f"; {tell}" if tell else "")
    )
    return _figure("knee", True, measured, model, judgement, KNEE_TOLERANCE, tell, line, how=how)


def _p95(check: dict[str, Any], checked: bool) -> dict[str, Any]:
    pooled = check.get("measured_how") == "pooled"
    runs = [float(v) for v in check.get("runs_p95_s", [])] if pooled else []
    if runs:
        measured = log_mean_interval(runs)
    else:  # measured on the way up: one figure, no spread between runs to judge it on
        measured = Interval(float(check["measured_p95_s"]), 0.0, math.inf, 1)
    guess = check["predicted"]
    per_replication = guess.get("p95_of_runs_s" if pooled else "p95_s", {}).get("replications", [])
    model = (
        log_mean_interval(per_replication)
        if per_replication
        else Interval(float(guess["p95_s"]["median"]), 0.0, math.inf, 1)
    )
    judgement = judge_intervals(measured, model, P95_TOLERANCE)
    tell = ""
    if judgement.verdict == TOO_FEW:
        if not checked:
            tell = "shown only: a sweep --against runs no check steps (its p95 is read on the way up)"
        elif len(runs) < 2:
            tell = "no spread between check runs to judge on: --check-repeats 3 or more"
        elif not model.bounded or model.half_width >= _limit(P95_TOLERANCE):
            tell = f"the model's {model.n} replications spread too far: more --replications"
        else:
            needed = runs_needed(log_sd(runs), model.half_width, P95_TOLERANCE)
            if needed is not None and needed <= len(runs):  # narrow enough, outside by less than it
                needed = 2 * len(runs)
            tell = f"{len(runs)} check runs give {_plus_minus(measured.half_width)}" + (
                f": about {needed} (--check-repeats {needed}) would tell" if needed else ": over 100 needed"
            )
    if runs:
        each = ", ".join(_ms(v) for v in runs)
        how = f"{len(runs)} check runs' geometric mean: {each} ms; pooled {_ms(check['measured_p95_s'])} ms"
    else:
        how = "on the way up"
    line = (
        f"{'' if checked else '(shown, not checked) '}{_SAID[judgement.verdict]} p95 at "
        f"{check['share']:.0%} of the knee ({_rate(check['rate'])}/s): measured {_shown(measured, _ms)} ms "
        f"({how}), model {_shown(model, _ms)} ms ({model.n} replications){_error(judgement)} "
        f"(tolerance +-{P95_TOLERANCE:.0%})" + (f"; {tell}" if tell else "")
    )
    name = f"p95_at_{round(check['share'] * 100)}"
    return _figure(name, checked, measured, model, judgement, P95_TOLERANCE, tell, line, how=how)


def _figure(
    name: str, checked: bool, measured: Interval, model: Interval, judgement: Judgement,
    tolerance: float, tell: str, line: str, how: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "figure": name, "checked": checked, "verdict": judgement.verdict, "tolerance": tolerance,
        "measured": {**measured.as_json(), "how": how}, "predicted": model.as_json(),
        "error": judgement.error, "error_interval": [judgement.error_low, judgement.error_high],
        "why": judgement.why, "tell": tell, "line": line,
    }  # fmt: skip


def judge_sweep(doc: dict[str, Any]) -> dict[str, Any]:
    """Every checked figure's verdict (and the p95 lines ``--against`` only shows), the exit code
    of ``--check``, and the lines the terminal and the report print."""
    against = "against" in doc
    figures = [_knee(doc)] + [_p95(check, not against) for check in doc.get("at_knee_share", [])]
    checked = [f for f in figures if f["checked"]]
    if not against and len(checked) < 3:
        figures.append({"figure": "p95_at_knee_shares", "checked": True, "verdict": NOT_COMPARABLE,
                        "line": "NOT COMPARABLE p95 at 50 % / 80 % of the knee: no knee was measured",
                        "tell": "", "why": "nothing measured"})  # fmt: skip
        checked = [f for f in figures if f["checked"]]
    verdicts = {f["verdict"] for f in checked}
    if verdicts & {DISAGREES, NOT_COMPARABLE}:
        code = EXIT_FAILED
    elif TOO_FEW in verdicts:
        code = EXIT_UNJUDGED
    else:
        code = EXIT_PASS
    return {"exit_code": code, "figures": figures, "lines": [f["line"] for f in figures]}
