"""Plan your own processor, the whole loop, on a processor the harness did not write (slow, ~4 minutes).

``examples/tiny_processor.py`` (standard library only: polls X every second, one worker thread, a
40 ms cost per message, SQLite, SMS-only answers) through: a low-load storm (``--against`` a command
template) -> ``calibrate`` -> ``plan`` for a launch ten times larger -> a verification storm at the
planned configuration and load (80 s of arrivals), whose code p50 and activations/s must be judged
to agree with the calibrated model's prediction within 15 % and whose code p95 must not disagree
(``storm --check``: ~930 codes may be too few samples to judge a p95, tests/loadtests/earned.py);
and a short offered-load sweep of the same processor (``sweep --against --check``, four steps and
up to three bisecting the knee's bracket) whose knee the calibrated model must be judged to predict
within 15 %, or, when even the refined bracket is too coarse to judge it, be said so (exit 3).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from earned import assert_check_earned  # tests/loadtests/earned.py, beside this file

from twittcom.commands.calibrate import calibrate
from twittcom.commands.plan import plan
from twittcom.commands.storm import storm
from twittcom.commands.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]
TINY = (
    f"{sys.executable} {ROOT / 'examples' / 'tiny_processor.py'} --x {{x_url}} --sms {{sms_url}} "
    "--population {population} --workers {workers} --poll {poll_interval} --dm-poll {dm_poll_interval} "
    "--cost-ms 40"
)
LAUNCH = "arrivals.segments.0.rate=30"  # tiny-low.toml's 3 events/s, ten times
#: the verification storm's arrival window: 20 s gave ~230 codes, whose p95 alone moves by about 10 %
#: (one standard error) between runs of the same system, so a 15 % check failed on sampling noise
#: (once, -18 %, with p50, p99 and activations/s all within 4 %); 80 s (~930 codes) halves that
VERIFY_S = "arrivals.segments.0.duration_s=80"

pytestmark = pytest.mark.slow


def _invoke(command, args):
    result = CliRunner().invoke(command, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


# five commands in a row, 287 s in a quiet CI run: the suite's 300 s guard is too close
@pytest.mark.timeout(600)
@pytest.mark.early
def test_low_storm_calibrate_plan_and_verify_the_plan_on_a_processor_of_its_own(tmp_path):
    low = tmp_path / "low"
    run = _invoke(storm, [ROOT / "examples" / "tiny-low.toml", "--against", TINY, "--out", low, "--seeds", 2])
    assert run.exit_code == 0, run.output
    observed = json.loads((low / "observed.json").read_text())
    assert observed["reads"]["mentions"] and observed["counts"]["reg"] > 10

    fitted = _invoke(calibrate, [low, "--seeds", 2])
    assert fitted.exit_code == 0, fitted.output
    calibrated = low / "calibrated.toml"
    import tomllib

    keys = tomllib.loads(calibrated.read_text())["system"]
    # what the fakes saw recovers the processor's own timing: polls every 1 s, a 40 ms cost per message
    assert abs(keys["ingestion"]["poll_interval_s"] - 1.0) < 0.05
    assert keys["workers"]["count"] == 1 and keys["x_budget"]["reply_to"] == []
    for command in ("reg", "code", "act"):  # the well-sampled ones (a low-load run has few DMs)
        spec = keys["workers"]["service"][command]
        assert 0.039 <= spec.get("value", spec.get("mean", 0)) <= 0.1, (command, spec)

    # the knee: one worker at ~44 ms a message saturates near 22 messages/s; p99 under 2 s. The grid
    # knows it only within its 0.9-1.2 bracket (1.33x, wider than the 15 % tolerance: CI failed once
    # on a ratio of 1.20 there); up to three refining steps bisect it, then --check judges it on both
    # sides' intervals (10 model replications: each costs milliseconds, and with 3 the Student-t
    # interval of the model's knee alone was +-20 %, too wide to judge a 15 % tolerance)
    swept = _invoke(
        sweep,
        [calibrated, "--against", TINY, "--steps", "0.4,0.75,0.9,1.2", "--step-seconds", 8,
         "--probe-seconds", 4, "--replications", 10, "--out", tmp_path / "sweep", "--check"],
    )  # fmt: skip
    document = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert 15 < document["capacity_per_s"] < 30, document["calibration"]
    assert all(m["accepted"] == m["offered"] > 0 for m in document["measured"])
    assert document["knee"]["measured_per_s"] and document["knee"]["predicted_per_s"], swept.output
    refinement = document["refinement"]
    assert refinement["grid_bracket_per_s"] and refinement["steps_run"] >= 1, refinement
    low, high = refinement["bracket_per_s"]
    assert high / low < refinement["grid_bracket_per_s"][1] / refinement["grid_bracket_per_s"][0]
    assert len(document["predicted"]) == len(document["measured"])  # the refining steps predicted too
    knee = document["verdicts"]["figures"][0]
    assert knee["figure"] == "knee" and knee["checked"], knee
    # judged and agreeing; or, when even the refined bracket cannot judge it, said so with what would
    # tell (exit 3), never failed on the grid's quantisation
    assert knee["verdict"] in ("agrees", "too few samples"), swept.output
    assert swept.exit_code == (0 if knee["verdict"] == "agrees" else 3), swept.output
    assert knee["line"] in swept.output and (knee["verdict"] == "agrees" or knee["tell"]), swept.output

    planned = _invoke(
        plan,
        [calibrated, "--set", LAUNCH, "--vary", "workers=1..5", "--slo", "code_p95<5s",
         "--replications", 3, "--max-replications", 12, "--out", tmp_path / "plan"],
    )  # fmt: skip
    best = json.loads((tmp_path / "plan" / "plan.json").read_text())["best"]
    assert best is not None, planned.output
    workers = best["settings"]["system.workers.count"]
    assert workers > 1  # one worker at 40 ms a message cannot carry the launch

    verify = tmp_path / "verify"
    checked = _invoke(
        storm,
        [calibrated, "--set", LAUNCH, "--set", VERIFY_S, "--set", f"workers={workers}", "--against", TINY,
         "--out", verify, "--seeds", 10, "--check"],
    )  # fmt: skip
    comparison = json.loads((verify / "comparison.json").read_text())
    judged = assert_check_earned(
        checked.exit_code, checked.output, comparison, ("code_p50", "activations_per_s")
    )
    assert set(judged) == {"code_p50", "code_p95", "activations_per_s"}
    assert all(f["measured"] > 0 for f in judged.values())
