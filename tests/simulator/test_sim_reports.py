"""Shipped scenarios run and produce the report files; calibration from pytest-benchmark JSON."""

from __future__ import annotations

import json

import pytest

from scenario import CalibrationError, ScenarioError, load_scenario
from simulator.runner import run_scenario

SHIPPED = ["steady", "launch", "outage-storm", "record-spike", "ci-smoke"]
FILES = {"summary.json", "timeseries.csv", "queues.csv", "journeys.csv", "latency.png", "throughput.png"}
FILES |= {"queues.png", "report.html"}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_run_and_write_reports(scenarios_dir, tmp_path, name):
    """Each shipped scenario runs and writes JSON, CSV, PNG and an HTML report embedding the plots."""
    scenario = load_scenario(scenarios_dir / f"{name}.toml")
    outcome = run_scenario(scenario, out_dir=tmp_path)
    assert {p.name for p in outcome.files} == FILES
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["journeys"]["started"] > 0
    assert summary["code_latency_s"]["count"] > 0
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (tmp_path / "journeys.csv").read_text().splitlines()
    assert len(rows) == len(outcome.record.journeys) + 1


def test_outage_storm_report_shows_the_damage(scenarios_dir):
    """In the outage storm, Kolkata's users abandon and the documented reply budget runs out."""
    s = run_scenario(load_scenario(scenarios_dir / "outage-storm.toml")).summary
    assert s["journeys"]["abandoned"]["late_code"] > 0
    assert s["budgets"]["x_replies_user"]["exhausted_at"]
    assert s["replies"]["dropped"] > s["replies"]["posted"]


def _bench_json(path, entries):
    path.write_text(json.dumps({"benchmarks": entries}))
    return path


def test_service_times_calibrated_from_benchmark_json(smoke, tmp_path):
    """A mapped command's service time gets the benchmark's mean (per op) and stddev."""
    _bench_json(
        tmp_path / "bench.json",
        [
            {
                "name": "test_purchase",
                "stats": {"mean": 0.02, "stddev": 0.004},
                "extra_info": {"ops_per_round": 10},
            },
            {"name": "test_register", "stats": {"mean": 0.003, "stddev": 0.0}},
            {"name": "test_batch", "stats": {"mean": 2.0, "stddev": 0.0}, "extra_info": {"purchases": 1000}},
        ],
    )
    text = smoke.read_text() + (
        '\n[system.workers.calibration_map]\nact = "test_purchase"\nreg = "test_register"\n'
        'dm = "test_batch:purchases"\n'
    )
    text = text.replace("[system.workers]\n", '[system.workers]\ncalibration_file = "bench.json"\n')
    path = tmp_path / "calibrated.toml"
    path.write_text(text)
    sc = load_scenario(path)
    act = sc.system.workers.service_of("act")
    assert act.kind == "lognormal" and act.mean == pytest.approx(0.002)
    assert sc.system.workers.service_of("reg").kind == "constant"
    assert sc.system.workers.service_of("reg").mean == pytest.approx(0.003)
    assert sc.system.workers.service_of("dm").mean == pytest.approx(0.002)


def test_calibration_errors_are_clear(smoke, tmp_path):
    """A missing file or a benchmark name not in the file raises CalibrationError."""
    _bench_json(tmp_path / "bench.json", [{"name": "a", "stats": {"mean": 0.1}}])
    base = smoke.read_text().replace("[system.workers]\n", '[system.workers]\ncalibration_file = "{f}"\n')
    for f, problem in (("missing.json", "not found"), ("bench.json", "'zzz'")):
        path = tmp_path / "c.toml"
        path.write_text(base.replace("{f}", f) + '\n[system.workers.calibration_map]\nact = "zzz"\n')
        with pytest.raises(CalibrationError, match=problem) as caught:
            load_scenario(path)
        assert isinstance(caught.value, ScenarioError)
        assert caught.value.key == "system.workers.calibration_file"


class _Axes:
    """Records axvspan calls the way matplotlib's Axes receives them."""

    def __init__(self):
        self.spans = []

    def axvspan(self, start, stop, **kwargs):
        self.spans.append((start, stop, kwargs.get("label")))


def test_time_plots_shade_sms_outages_clipped_to_the_run(scenarios_dir):
    """Each SMS outage window is shaded up to the end of the run and labelled with its circles."""
    from simulator.report import _shade_outages

    outcome = run_scenario(load_scenario(scenarios_dir / "outage-storm.toml"))
    ax = _Axes()
    _shade_outages(ax, outcome.record, outcome.record.end_s)
    assert ax.spans == [(8.0, outcome.record.end_s, "SMS outage: Kolkata")]
    ax = _Axes()
    _shade_outages(ax, run_scenario(load_scenario(scenarios_dir / "steady.toml")).record, 100.0)
    assert ax.spans == []


def test_report_overview_reads_as_text_not_python_reprs(scenarios_dir, tmp_path):
    """The HTML overview lists counts as 'name value' pairs, names the outage window and percentages."""
    run_scenario(load_scenario(scenarios_dir / "outage-storm.toml"), out_dir=tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "{" not in page.split("<body>", 1)[1].split("<h2>Plots", 1)[0]
    assert "Kolkata from 8 s to 3600 s" in page
    assert "abandoned registrations</th><td>" in page and "late_code" in page
    assert "x_replies_user</th><td>used 100, denied" in page and "ran out at 5.0" in page
    assert "%</td>" in page
