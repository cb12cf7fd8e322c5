"""The storm comparison: rows, prediction error, activation series from locust history, HTML report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadtests.compare import Row, activation_series, comparison_rows, format_rows, write_storm_report
from twittcom.commands.storm import storm

SIMULATED = {
    "warmup_s": 0,
    "code_latency_s": {"p50": 4.4, "p95": 12.0, "p99": 30.0},
    "code_latency_stages_s": {
        "ingestion": {"mean": 0.5},
        "worker_queue": {"mean": 0.01},
        "worker_service": {"mean": 0.01},
        "sms_queue": {"mean": 0.03},
        "carrier": {"mean": 5.0},
    },
    "activation_latency_s": {"p50": 0.5, "p95": 1.0},
    "activations": {"per_s_mean": 5.0},
    "timeseries": {"t": [0, 1, 2], "activations_per_s": [4, 5, 6]},
}
MEASURED = {
    "arrivals_per_second": [[0, 10.0, 11, 11, 11], [1, 10.0, 9, 9, 9]],
    "arrivals_target": 20,
    "arrivals_s": 10,
    "figures": {
        "code_p50": 4.0,
        "code_p95": 12.0,
        "code_p99": 20.0,
        "code_processor_mean": 0.55,
        "code_carrier_mean": 5.2,
        "activation_p50": 0.8,
        "activation_p95": 1.2,
    },
    "outcomes": {"new_subscriber:activated": 3},
}


def _history(path, t0):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Timestamp", "Type", "Name", "Total Request Count"])
        for second, total in enumerate([0, 4, 9, 15, 20, 26, 30, 36, 40, 46, 50, 51]):
            writer.writerow([t0 + second, "JOURNEY", "activation_latency", total])
            writer.writerow([t0 + second, "", "Aggregated", 999])


def test_prediction_error_and_agreement():
    """Error is (simulated - measured) / measured; agreement means within 15 %; missing is not compared."""
    assert Row("x", 4.0, 4.4).error == 0.10000000000000009 and Row("x", 4.0, 4.4).agrees
    assert Row("x", 1.0, 1.2).agrees is False
    assert Row("x", None, 1.0).agrees is None and Row("x", 0.0, 1.0).error is None


def test_activation_series_is_the_rate_of_the_cumulative_count(tmp_path):
    """Per-second activations come from differences of the cumulative activation_latency count."""
    path = tmp_path / "h.csv"
    _history(path, 1000.0)
    series = activation_series(path, t0=1000.0)
    assert series[0] == (1.0, 4.0) and series[1] == (2.0, 5.0) and len(series) == 11


def test_rows_cover_latency_shares_and_throughput(tmp_path):
    """The table compares code percentiles, the processor's and carrier's shares and activations/s."""
    path = tmp_path / "h.csv"
    _history(path, 0.0)
    rows = comparison_rows(SIMULATED, MEASURED, activation_series(path, 0.0))
    by_label = {r.label: r for r in rows}
    assert by_label["code latency p50 (s)"].agrees and not by_label["code latency p99 (s)"].agrees
    # the model's SMS queue is on the carrier's side: the gateway queues after creating the message
    assert abs(by_label["processor's share, mean (s)"].simulated - 0.52) < 1e-9
    assert abs(by_label["carrier's share, mean (s)"].simulated - 5.03) < 1e-9
    assert by_label["activations/s (arrival window)"].measured == 5.0
    # no measured interval in this summary: the point estimate's side only, in parentheses
    assert "code latency p99 (s)" in format_rows(rows) and "(no)" in format_rows(rows)


def test_report_is_one_html_page_with_plots(tmp_path):
    """The storm report is self-contained HTML: table, three PNG plots, the generator's arrivals and CPU."""
    out = tmp_path / "report.html"
    rows = comparison_rows(SIMULATED, MEASURED, [(1.0, 4.0), (2.0, 5.0)])
    write_storm_report(out, "ci-smoke", rows, SIMULATED, MEASURED, [(1.0, 4.0), (2.0, 5.0)])
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 3 and "code latency p95" in page
    assert "Load generator" in page and "generator CPU" in page


@pytest.mark.slow
def test_storm_command_writes_measured_beside_simulated(tmp_path):
    """`twittcom storm` runs both sides on one scenario and writes the comparison report."""
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "ci-smoke.toml"
    result = CliRunner().invoke(
        storm,
        [
            str(scenario),
            "--duration",
            "6s",
            "--set",
            "run.drain_s=6",
            "--preregister",
            "0",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "measured vs simulated" in result.output and "code latency p50 (s)" in result.output
    assert (tmp_path / "report.html").exists() and (tmp_path / "simulated.json").exists()


def test_unbounded_on_both_sides_agrees_and_outage_rows_appear_when_measured(tmp_path):
    """Codes never delivered make p95 unbounded on both sides (agreement); outside-outage rows compare too."""
    simulated = dict(SIMULATED)
    simulated["code_latency_s"] = {"p50": 4.4, "p95": None, "p99": None, "censored": 30}
    simulated["code_latency_outside_outages_s"] = {"p50": 4.2, "p95": 12.5, "censored": 0}
    measured = {**MEASURED, "figures": {**MEASURED["figures"], "code_p95": float("inf"),
                                        "code_outside_p50": 4.0, "code_outside_p95": 12.0}}  # fmt: skip
    rows = {r.label: r for r in comparison_rows(simulated, measured, [])}
    assert rows["code latency p95 (s)"].agrees is True and rows["code latency p95 (s)"].error is None
    assert rows["  outside outages p95 (s)"].agrees and rows["  outside outages p50 (s)"].simulated == 4.2
    assert "  outside outages p50 (s)" not in {r.label for r in comparison_rows(SIMULATED, MEASURED, [])}


def test_infinite_percentiles_plot_without_warnings(tmp_path):
    """Codes that never arrived make p95/p99 infinite: the plot marks them instead of drawing
    an infinite bar (which matplotlib answers with RuntimeWarnings on the storm's console)."""
    import math
    import warnings

    measured = {**MEASURED, "figures": {**MEASURED["figures"], "code_p95": math.inf, "code_p99": math.inf}}
    simulated = {**SIMULATED, "code_latency_s": {**SIMULATED["code_latency_s"], "p99": math.inf}}
    rows = comparison_rows(simulated, measured, [(1.0, 4.0)])
    out = tmp_path / "report.html"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_storm_report(out, "ci-smoke", rows, simulated, measured, [(1.0, 4.0)])
    assert out.read_text().count("data:image/png;base64,") == 3


def test_activation_latency_compares_buys_by_tweet_and_dm_together_and_dm_on_its_own(tmp_path):
    """A load run measures every buyer's activation (tweet and DM); the model's figure for the same
    buyers is ``all_activation_latency_s``, and the DM buyers (answered after a DM poll) get rows of
    their own against ``dm_activation_latency_s``."""
    path = tmp_path / "h.csv"
    _history(path, 0.0)
    simulated = {
        **SIMULATED,
        "all_activation_latency_s": {"p50": 0.7, "p95": 2.5},
        "dm_activation_latency_s": {"p50": 2.4, "p95": 4.5},
    }
    measured = {**MEASURED, "figures": {**MEASURED["figures"], "dm_activation_count": 40,
                                         "dm_activation_p50": 2.5, "dm_activation_p95": 4.4}}  # fmt: skip
    rows = {r.key: r for r in comparison_rows(simulated, measured, activation_series(path, 0.0))}
    assert rows["activation_p95"].simulated == 2.5  # not the #act tweets' 1.0
    assert rows["dm_activation_p50"].measured == 2.5 and rows["dm_activation_p50"].simulated == 2.4
    assert "dm_activation_p50" not in {r.key for r in comparison_rows(SIMULATED, MEASURED, [])}
