"""The ``twittcom loadtest`` and ``twittcom bench`` command lines: options and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from twittcom.cli import main
from twittcom.commands.bench import baseline_path
from twittcom.commands.loadtest import parse_duration

ROOT = Path(__file__).resolve().parents[2]
SMOKE = str(ROOT / "scenarios" / "ci-smoke.toml")


def test_both_commands_are_listed_and_document_their_options():
    """`twittcom --help` lists loadtest and bench; their help shows the main options."""
    runner = CliRunner()
    assert {"loadtest", "bench"} <= set(runner.invoke(main, ["--help"]).output.split())
    help_text = runner.invoke(main, ["loadtest", "--help"]).output
    for option in ("--against", "--duration", "--workers", "--threshold", "--csv", "--html", "--fakes-only"):
        assert option in help_text
    bench_help = runner.invoke(main, ["bench", "--help"]).output
    for option in ("--save", "--compare", "--fail-over", "--short"):
        assert option in bench_help


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("2m", 120.0), ("500ms", 0.5)])
def test_durations(text, seconds):
    """Durations take s, ms, m and h suffixes, seconds by default."""
    assert parse_duration(text) == seconds


def test_bad_threshold_is_a_clear_error_before_anything_starts():
    """An unparsable --threshold fails at once with the expected syntax."""
    result = CliRunner().invoke(main, ["loadtest", SMOKE, "--threshold", "p99 under 3s", "--fakes-only"])
    assert result.exit_code != 0 and "expected <metric><op><number>" in result.output


def test_bad_against_names_the_expected_form():
    """--against must name x= and sms= URLs."""
    result = CliRunner().invoke(main, ["loadtest", SMOKE, "--against", "http://127.0.0.1:1"])
    assert result.exit_code != 0 and "x=URL" in result.output


def test_missing_calibration_file_is_a_clear_error_naming_the_key(tmp_path):
    """A scenario naming a calibration file that is not there fails at once with the key, not a traceback
    (a CalibrationError is a ScenarioError, which the command reports)."""
    scenario = tmp_path / "calibrated.toml"
    scenario.write_text(
        Path(SMOKE)
        .read_text(encoding="utf-8")
        .replace("[system.workers]\n", '[system.workers]\ncalibration_file = "missing.json"\n')
        + '\n[system.workers.calibration_map]\nact = "test_purchase"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["loadtest", str(scenario), "--fakes-only"])
    assert result.exit_code != 0
    assert "system.workers.calibration_file: calibration file not found" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bench_rejects_a_missing_baseline_and_a_bad_fail_over():
    """--compare needs an existing baseline; --fail-over must be a percentage below 100."""
    runner = CliRunner()
    missing = runner.invoke(main, ["bench", "--compare", "no-such-baseline"])
    assert missing.exit_code != 0 and "no-such-baseline" in missing.output
    bad = runner.invoke(main, ["bench", "--fail-over", "150%"])
    assert bad.exit_code != 0 and "--fail-over" in bad.output


def test_baseline_names_live_under_dot_benchmarks():
    """A bare NAME is .benchmarks/twittcom/NAME.json; a .json path is used as given."""
    assert baseline_path("main") == Path(".benchmarks/twittcom/main.json")
    assert baseline_path("/tmp/x.json") == Path("/tmp/x.json")
