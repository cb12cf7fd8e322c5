"""`twittcom simulate` (scenario and mmc forms) and `twittcom plan` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from twittcom.cli import main


@pytest.fixture
def runner() -> CliRunner:
    """A click runner."""
    return CliRunner()


def test_simulate_scenario_form(runner, smoke, tmp_path):
    """`simulate SCENARIO.toml --set --seed --out` writes the report and prints the summary table."""
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "simulate",
            str(smoke),
            "--set",
            "workers=3",
            "--set",
            "sms_mps=50",
            "--seed",
            "9",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "code latency" in result.output and "report:" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 9
    assert summary["cost"] == pytest.approx(3 * 1.0 + 50 * 0.05)
    assert (out / "report.html").exists()


def test_simulate_json_is_deterministic(runner, smoke, tmp_path):
    """`--json` prints the summary; the same seed prints the same figures."""
    args = ["simulate", str(smoke), "--seed", "4", "--json", "--no-plots", "--out", str(tmp_path)]
    first, second = runner.invoke(main, args), runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    a.pop("wall_s")
    b.pop("wall_s")
    assert a == b and a["seed"] == 4


def test_simulate_reports_scenario_errors(runner, smoke):
    """A bad override or missing file is a one-line error with a non-zero exit code, not a traceback."""
    bad = runner.invoke(main, ["simulate", str(smoke), "--set", "workers=0"])
    assert bad.exit_code == 1
    assert "system.workers.count" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(main, ["simulate", "nowhere.toml"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_simulate_mmc_json(runner):
    """`simulate mmc ... --json` prints p_wait and mean_wait beside Erlang C."""
    result = runner.invoke(
        main,
        [
            "simulate",
            "mmc",
            "--arrival-rate",
            "0.2",
            "--service-time",
            "10",
            "--servers",
            "3",
            "--customers",
            "200000",
            "--seed",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["p_wait"] == pytest.approx(4 / 9, rel=0.05)
    assert data["mean_wait"] == pytest.approx(40 / 9, rel=0.08)
    assert data["warmup_customers"] == 20000


def test_simulate_mmc_refuses_an_unstable_queue(runner):
    """An offered load at or above the server count is a usage error."""
    result = runner.invoke(
        main, ["simulate", "mmc", "--arrival-rate", "1", "--service-time", "3", "--servers", "3", "--json"]
    )
    assert result.exit_code == 2
    assert "unstable" in result.output


def test_plan_finds_the_cheapest_configuration(runner, smoke, tmp_path):
    """`plan` runs the grid with replications and names the cheapest configuration meeting the SLOs."""
    result = runner.invoke(
        main,
        [
            "plan",
            str(smoke),
            "--slo",
            "code_p95<40s",
            "--slo",
            "activation_p99<5s",
            "--vary",
            "workers=1..2",
            "--vary",
            "sms_mps=1,50",
            "--replications",
            "5",
            "--jobs",
            "2",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["configs"]) == 4
    assert data["best"]["settings"] == {"system.workers.count": 1, "system.sms.mps": 50}
    assert {p.name for p in tmp_path.iterdir()} == {"plan.json", "plan.csv", "plan.png", "report.html"}


def test_plan_exits_non_zero_when_nothing_meets_the_slos(runner, smoke, tmp_path):
    """An impossible SLO gives exit code 1 and says so."""
    result = runner.invoke(
        main,
        [
            "plan",
            str(smoke),
            "--slo",
            "code_p50<10ms",
            "--vary",
            "workers=1,2",
            "--replications",
            "2",
            "--jobs",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "no configuration is proven to meet every SLO: every one fails" in result.output


def test_plan_rejects_unknown_metrics(runner, smoke, tmp_path):
    """An SLO on an unknown metric is a clear error listing the known ones."""
    result = runner.invoke(
        main, ["plan", str(smoke), "--slo", "speed<3", "--vary", "workers=1,2", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2  # a setup error: nothing was simulated
    assert "unknown SLO metric 'speed'" in result.output and "code_wait" in result.output


def test_simulate_table_shows_unbounded_percentiles(runner, scenarios_dir, tmp_path):
    """In the outage storm some codes never arrive: the table says '>end' for p99."""
    result = runner.invoke(
        main, ["simulate", str(scenarios_dir / "outage-storm.toml"), "--no-plots", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "p99 >end" in result.output
    assert "x_replies_user ran out" in result.output


def test_stage_durations_keep_their_digits():
    """Sub-second stage means are shown in ms or us rather than rounded to 0.00s."""
    from twittcom.commands.simulate import _seconds

    assert [_seconds(v) for v in (4.94, 0.0262, 0.0041, 0.000085, 0.0)] == [
        "4.94s",
        "26.2ms",
        "4.1ms",
        "85us",
        "0.00s",
    ]
