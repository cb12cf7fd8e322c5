"""Short headless locust runs against the two fakes served on loopback (stand-in mode).

The generator stands in for the processor (it sends each code SMS itself), so these runs check the
load machinery: request events for the journey metrics in locust's CSV, the open-model schedule
achieved, thresholds turned into the exit code, and distributed mode with two workers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from loadtests.config import LoadtestConfig
from loadtests.fakes import serve_fakes
from loadtests.runner import run_locust
from loadtests.schedule import split_stream
from scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "ci-smoke.toml")
ARRIVALS_S, DRAIN_S = 5.0, 3.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fakes():
    with serve_fakes(sms_time_scale=20.0) as urls:
        yield urls


def _config(fakes, **changes) -> LoadtestConfig:
    return LoadtestConfig(
        scenario_path=SCENARIO,
        x_url=fakes.x,
        sms_url=fakes.sms,
        duration_s=ARRIVALS_S,
        drain_s=DRAIN_S,
        poll_interval_s=0.1,
        run_tag=changes.pop("run_tag"),
        **changes,
    )


def _scheduled_total() -> int:
    scenario = load_scenario(SCENARIO)
    return sum(1 for _ in split_stream(scenario.arrivals, scenario.run.seed, duration_s=ARRIVALS_S))


def test_local_run_fires_journey_metrics_into_csv_and_fails_on_a_threshold(fakes, tmp_path):
    """Journey latencies and outcomes are locust rows in the CSV; a violated threshold exits 1."""
    prefix = str(tmp_path / "run")
    config = _config(
        fakes, run_tag="aa01", thresholds=("error_rate<1%", "arrival_rate_achieved>95%", "code_p50<1ms")
    )
    result = run_locust(
        config, csv_prefix=prefix, html=str(tmp_path / "report.html"), timeout=120, quiet=True
    )
    assert result.exit_code == 1
    with open(f"{prefix}_stats.csv") as handle:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(handle)}
    for name in ("code_latency", "code_latency_processor", "code_latency_carrier", "activation_latency"):
        assert int(rows[("JOURNEY", name)]["Request Count"]) > 0, name
    assert any(kind == "OUTCOME" and name.endswith(":activated") for kind, name in rows)
    assert "activation_latency" in (tmp_path / "report.html").read_text()
    summary = result.summary
    passed = {t["expression"]: t["passed"] for t in summary["thresholds"]}
    assert passed == {"error_rate<1%": True, "arrival_rate_achieved>95%": True, "code_p50<1ms": False}
    figures = summary["figures"]
    assert figures["arrivals_scheduled"] == _scheduled_total() == figures["arrivals_started"]
    assert figures["generator_cpu_max"] > 0 and figures["activations_per_s"] > 0
    arrivals_csv = Path(str(result.summary_path).removesuffix(".json") + "_arrivals.csv").read_text()
    assert arrivals_csv.startswith("second,target_rate,scheduled,started,on_time")


def test_two_workers_split_the_schedule_without_double_counting(fakes, tmp_path):
    """With --processes 2 the workers together start exactly the single-process schedule, on time."""
    config = _config(
        fakes, run_tag="bb02", workers=2, thresholds=("error_rate<1%", "arrival_rate_achieved>95%")
    )
    result = run_locust(config, csv_prefix=str(tmp_path / "dist"), timeout=120, quiet=True)
    summary = result.summary
    assert summary["workers"] == 2 and len(summary["generator_cpu"]) == 2
    assert (
        summary["figures"]["arrivals_scheduled"]
        == _scheduled_total()
        == summary["figures"]["arrivals_started"]
    )
    assert summary["outcomes"].get("new_subscriber:registered", 0) > 0
    assert result.exit_code == 0, summary["thresholds"]
