"""Load-run verdicts: default thresholds on journeys, metric names known before the run, live lines."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from loadtests.hdr import JourneyHistograms
from loadtests.journeys import JourneyKit
from loadtests.metrics import JOURNEY, OUTCOME
from loadtests.report import figures_from_stats, live_line
from loadtests.schedule import ArrivalLedger
from loadtests.thresholds import (
    BASE_THRESHOLDS,
    ThresholdError,
    default_thresholds,
    evaluate,
    metric_names,
    parse_threshold,
    unknown_metric,
)
from scenario import load_scenario
from twittcom.cli import main
from twittcom.commands.loadtest import scheduled_arrivals

ROOT = Path(__file__).resolve().parents[2]
SMOKE = str(ROOT / "scenarios" / "ci-smoke.toml")


def _ctrl_c_default() -> None:
    """In the child before exec: Ctrl-C back to its default. A runner that started the suite in the
    background (CI's shell, an xdist worker) passes SIGINT on as ignored, and a Python child that
    starts with SIGINT ignored never raises KeyboardInterrupt: the Ctrl-C the test sends is lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stats(outcomes: dict[str, int], codes: int) -> SimpleNamespace:
    entries: dict[tuple[str, str], SimpleNamespace] = {
        (name, OUTCOME): SimpleNamespace(num_requests=n, num_failures=0) for name, n in outcomes.items()
    }
    if codes:
        entries[("code_latency", JOURNEY)] = SimpleNamespace(
            num_requests=codes, num_failures=0, avg_response_time=500.0,
            get_response_time_percentile=lambda q: 500.0,
        )  # fmt: skip
    return SimpleNamespace(entries=entries)


def _figures(outcomes: dict[str, int], codes: int) -> dict[str, float]:
    ledger = ArrivalLedger()
    ledger.expect([0.5, 1.5])
    ledger.record(0.5, 0.5)
    ledger.record(1.5, 1.5)
    histograms = JourneyHistograms()
    for _ in range(codes):
        histograms.record("code_latency", 0.5)
    figures, _ = figures_from_stats(
        _stats(outcomes, codes), ledger, histograms=histograms, arrivals_end_s=2.0, measured_s=4.0,
        cpu={"local": [10.0]},
    )  # fmt: skip
    return figures


def test_a_run_whose_journeys_measured_nothing_fails_the_default_thresholds():
    """The issue's run after `twittcom scenarios`: arrivals on time, no errors, 0 codes -> FAIL."""
    scenario = load_scenario(ROOT / "scenarios" / "ci-smoke.toml")
    checks = default_thresholds(scheduled_arrivals(scenario, 10.0))
    assert set(BASE_THRESHOLDS) <= set(checks)
    assert {"journeys_done_reg>0", "journeys_done_act>0", "journeys_done_dm>0", "codes_delivered>0"} <= set(
        checks
    )
    nothing = {
        "new_subscriber:code_cut_off": 44, "new_subscriber:abandoned_late_code": 3,
        "repeat_buyer:unconfirmed": 30, "dm_buyer:unconfirmed": 10, "complainer:sent": 23,
    }  # fmt: skip
    results = evaluate(checks, _figures(nothing, codes=0))
    failed = {r.threshold.expression for r in results if not r.passed}
    assert failed == {"journeys_done_reg>0", "journeys_done_act>0", "journeys_done_dm>0", "codes_delivered>0"}
    measured = {
        "new_subscriber:registered": 40, "repeat_buyer:activated": 28, "dm_buyer:not_registered": 9,
        "complainer:sent": 23,
    }  # fmt: skip
    assert all(r.passed for r in evaluate(checks, _figures(measured, codes=41)))


def test_kinds_the_schedule_does_not_hold_get_no_journey_threshold():
    """A noise-only schedule is not failed for having no #reg journeys; two #act starts are too few."""
    checks = default_thresholds({"noise": 50, "reg": 0, "act": 2, "dm": 0})
    assert checks == (*BASE_THRESHOLDS, "journeys_done_noise>0")


def test_the_documented_activations_threshold_parses_and_is_no_percentile():
    """`activations_per_s>=2` (loadtests/README.md) used to die with "could not convert 'er_s'"."""
    threshold = parse_threshold("activations_per_s>=2")
    assert threshold.metric == "activations_per_s" and threshold.percentile is None
    assert parse_threshold("code_p99.9<25s").percentile == 99.9
    assert parse_threshold("code_carrier_p80<2s").percentile == 80.0


@pytest.mark.parametrize("expression", ["bogus_metric<3", "code_p100<3s", "activation_p0<1s", "codes<1"])
def test_an_unknown_metric_is_refused_before_the_run_with_the_valid_names(expression):
    """A typo is a parse error listing the valid metrics, not a FAIL after the whole run."""
    with pytest.raises(ThresholdError) as caught:
        parse_threshold(expression)
    message = str(caught.value)
    assert "\n" not in message
    assert ("valid:" in message and "activations_per_s" in message) or "between 0 and 100" in message


def test_every_listed_metric_name_is_known_and_measured_by_a_run():
    """metric_names() (shown in --help) and unknown_metric() agree; plain names are real figures."""
    for name in metric_names():
        assert unknown_metric(name.replace("_pN", "_p95")) is None, name
    figures = _figures({"new_subscriber:registered": 1}, codes=1)
    plain = [n for n in metric_names() if not n.endswith(("_pN", "_count", "_mean"))]
    assert set(plain) <= set(figures), set(plain) - set(figures)


def test_the_live_line_counts_arrivals_codes_and_journeys():
    """The progress line names arrivals due and on time, codes delivered and journeys done per kind."""
    ledger = ArrivalLedger()
    ledger.expect([0.2, 1.2, 6.0])
    ledger.record(0.2, 0.3)
    ledger.record(1.2, 3.0)
    line = live_line(5.2, ledger, _stats({"new_subscriber:registered": 1, "complainer:sent": 2}, codes=1))
    assert "2 started" in line and "1/2 due on time" in line
    assert "codes delivered 1" in line and "reg 1" in line and "noise 2" in line


def test_journeys_take_fake_x_clock_offset_out():
    """After `scenarios` moved fake X's clock 16 min ahead, a #reg's time is still the wall clock's."""
    kit = JourneyKit.__new__(JourneyKit)
    kit.x_clock_offset_s = 960.0
    snowflake = int((1_800_000_000_000 - 1_288_834_974_657) << 22)
    assert kit.x_time(snowflake) == pytest.approx(1_800_000_000.0 - 960.0)


@pytest.mark.slow
def test_the_documented_activations_threshold_runs_to_a_summary(tmp_path):
    """`--threshold 'activations_per_s>=2'` used to die in on_quitting ('er_s'), no summary, exit 2."""
    prefix = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "loadtest", SMOKE, "--fakes-only", "--duration", "4s", "--drain", "4s",
        "--threshold", "activations_per_s>=0.01", "--threshold", "codes_delivered>0", "--csv", str(prefix),
    ])  # fmt: skip
    summary = json.loads(Path(f"{prefix}_summary.json").read_text())
    assert result.exit_code == 0, (result.output, summary["thresholds"])
    assert [t["expression"] for t in summary["thresholds"]] == [
        "activations_per_s>=0.01",
        "codes_delivered>0",
    ]


@pytest.mark.slow
def test_ctrl_c_prints_the_summary_and_exits_130(tmp_path):
    """Ctrl-C in a load test: the summary so far, one line saying so, exit code 130."""
    command = [sys.executable, "-c", "from twittcom.cli import main; main()", "loadtest", SMOKE,
               "--fakes-only", "--duration", "60s", "--drain", "5s"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_ctrl_c_default,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120  # a busy machine takes a while to start the stack and locust
    while not any(line.startswith("[") and "arrivals" in line for line in lines):
        assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.2)
    time.sleep(2)  # a few seconds into the run, as a user would press it
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    reader.join(timeout=10)
    output = "".join(lines)
    assert process.returncode == 130, output
    assert "load run 'ci-smoke'" in output and "interrupted (Ctrl-C)" in output
    assert "Traceback" not in output
