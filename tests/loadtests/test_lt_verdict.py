"""comparison.json and the --check decision: intervals over seeds, acceptance figures, earned verdicts."""

from __future__ import annotations

import json
import math

from loadtests.compare import Row, comparison_rows, format_rows, write_storm_report
from loadtests.verdict import check_failures, check_unjudged, write_comparison
from simulator.seeds import mean_interval

SEED = {
    "warmup_s": 0,
    "code_latency_s": {"p50": 4.4, "p95": 12.0, "p99": 30.0},
    "code_latency_stages_s": {k: {"mean": 0.1} for k in ("ingestion", "worker_queue", "worker_service")}
    | {"sms_queue": {"mean": 0.0}, "carrier": {"mean": 5.0}},
    "activation_latency_s": {"p50": 0.5, "p95": 1.0},
    "activations": {"per_s_mean": 5.0},
}
MEASURED = {
    "arrivals_s": 400,
    "figures": {"code_p50": 4.5, "code_p95": 12.2, "code_p99": 20.0, "code_processor_mean": 0.3,
                "code_carrier_mean": 5.0, "activation_p50": 0.5, "activation_p95": 1.0,
                "code_count": 2000, "code_undelivered": 0, "code_p50_low": 4.4, "code_p50_high": 4.6,
                "code_p95_low": 11.6, "code_p95_high": 12.9},
}  # fmt: skip
#: 5 activations/s over 400 s: 2,000 of them, a +-4.4 % interval
SERIES = [(float(t), 5.0) for t in range(1, 401)]


def _seeds(*p50s: float) -> list[dict]:
    return [{**SEED, "code_latency_s": {**SEED["code_latency_s"], "p50": v}} for v in p50s]


def test_the_simulated_figure_is_the_mean_over_seeds_with_a_95_percent_interval():
    estimate = mean_interval([4.0, 4.4, 4.2, 4.6, 3.8])
    assert math.isclose(estimate.mean or 0, 4.2)
    half = 2.776 * math.sqrt(0.1 / 5)  # t(0.975, 4) * sd / sqrt(n), sd^2 = 0.1
    assert math.isclose(estimate.low or 0, 4.2 - half) and math.isclose(estimate.high or 0, 4.2 + half)
    assert mean_interval([1.0, math.inf]).mean == math.inf and mean_interval([None]).n == 0
    row = {r.key: r for r in comparison_rows(_seeds(4.0, 4.4, 4.2, 4.6, 3.8), MEASURED, SERIES)}["code_p50"]
    assert row.seeds == 5 and math.isclose(row.simulated or 0, 4.2) and row.low is not None
    assert row.acceptance and "[" in format_rows([row])


def test_check_passes_only_when_every_acceptance_figure_is_finite_and_agrees(tmp_path):
    rows = comparison_rows(_seeds(4.4, 4.5, 4.45, 4.42, 4.48), MEASURED, SERIES)
    assert {r.key for r in rows if r.acceptance} == {"code_p50", "code_p95", "activations_per_s"}
    assert check_failures(rows) == [] and check_unjudged(rows) == []
    document = write_comparison(tmp_path / "comparison.json", "s", rows, {"sms_code": {"measured": 3}})
    assert document["passed"] and json.loads((tmp_path / "comparison.json").read_text())["tolerance"] == 0.15
    figure = next(f for f in document["figures"] if f["figure"] == "code_p50")
    assert figure["measured"] == 4.5 and figure["simulated"]["seeds"] == 5 and figure["agrees"] is True
    assert figure["verdict"] == "agrees"
    assert figure["measured_interval"] == {"low": 4.4, "high": 4.6, "samples": 2000}
    assert document["judged"] and document["unjudged"] == []
    write_storm_report(tmp_path / "r.html", "s", rows, SEED, MEASURED, SERIES)
    assert "95 % interval" in (tmp_path / "r.html").read_text()


def test_check_fails_beyond_15_percent_on_zero_samples_and_on_unbounded_figures():
    far = comparison_rows(_seeds(6.0, 6.1, 6.05, 6.02), MEASURED, SERIES)
    assert any(
        line.startswith("code_p50:") and "disagrees: outside the tolerance by more than the noise" in line
        for line in check_failures(far)
    )
    no_activations = comparison_rows(_seeds(4.5), MEASURED, [])
    assert any(line.startswith("activations_per_s:") for line in check_failures(no_activations))
    unbounded = Row("code p95", math.inf, math.inf, key="code_p95", acceptance=True)
    assert unbounded.agrees is True and not unbounded.passes
    assert check_failures([unbounded]) == []  # unbounded on both sides agrees, but --check wants finite
    assert check_failures([]) == ["no acceptance figure was compared"]


def test_a_short_run_is_neither_passed_nor_failed_and_says_what_would_tell(tmp_path):
    """60 codes and 50 activations: the same point estimates as the long run, too few to judge."""
    short = {
        "arrivals_s": 10,
        "figures": {**MEASURED["figures"], "code_count": 60, "code_p50_low": 3.9, "code_p50_high": 5.3,
                    "code_p95_low": 9.0, "code_p95_high": 20.0},
    }  # fmt: skip
    rows = comparison_rows(_seeds(4.4, 4.5, 4.45, 4.42, 4.48), short, SERIES[:10])
    assert check_failures(rows) == []
    unjudged = check_unjudged(rows)
    assert {line.split(":")[0] for line in unjudged} == {"code_p50", "code_p95", "activations_per_s"}
    assert any("50 samples give +-28 %: about" in line for line in unjudged), unjudged
    document = write_comparison(tmp_path / "comparison.json", "s", rows)
    assert not document["passed"] and not document["judged"]
    assert "few" in format_rows(rows)
