"""The storm report's opening sentences come from the run's rows and the model's summary."""

from __future__ import annotations

import math
from pathlib import Path

from loadtests.compare import Row, write_storm_report
from loadtests.storm_verdict import storm_verdict
from scenario import load_scenario
from simulator.runner import run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _rows(p95_measured: float, p95_simulated: float, samples: int = 1000) -> list[Row]:
    """Measured intervals as 1,000 samples give them (+-5 %), or as 100 do (+-25 %)."""
    spread = 1.05 if samples >= 1000 else 1.25
    return [
        Row("code latency p50 (s)", 4.0, 4.2, 4.1, 4.3, 10, "code_p50", True,
            4.0 / spread, 4.0 * spread, samples),
        Row("code latency p95 (s)", p95_measured, p95_simulated, 12.0, 13.0, 10, "code_p95", True,
            p95_measured / spread, p95_measured * spread, samples),
        Row("activations/s (arrival window)", 2.5, 2.4, 2.35, 2.45, 10, "activations_per_s", True,
            2.5 / spread, 2.5 * spread, samples),
    ]  # fmt: skip


def test_the_verdict_states_the_measured_figures_the_agreement_and_the_binding_resource(tmp_path):
    simulated = run_scenario(load_scenario(SCENARIOS / "launch.toml", ()), None).summary
    sentences = storm_verdict(_rows(12.0, 12.5), simulated)
    assert sentences[0] == (
        "Measured on the live stack, codes reached the handset in p50 4 s, p95 12 s, "
        "with 2.5 activations/s over the arrival window."
    )
    assert sentences[1].startswith("The simulator agrees within 15 % on all 3 acceptance figures")
    assert sentences[2].startswith(
        "In the model of the same scenario: the binding resource is the SMS sender"
    )
    write_storm_report(tmp_path / "r.html", "launch", _rows(12.0, 12.5), simulated, {}, [])
    assert "id='verdict'" in (tmp_path / "r.html").read_text()


def test_a_disagreement_and_an_unbounded_percentile_are_said_as_such():
    sentences = storm_verdict(_rows(math.inf, 20.0), {})
    assert "p95 inf (codes still undelivered at the end)" in sentences[0]
    assert sentences[1] == (
        "The simulator disagrees on 1 of 3 acceptance figures: code_p95 not comparable (missing on one side)."
    )
    assert len(sentences) == 2  # no model summary with utilisation: nothing invented


def test_a_run_too_short_to_judge_says_so_rather_than_agreeing():
    sentences = storm_verdict(_rows(12.0, 12.5, samples=100), {})
    assert sentences[1].startswith("Too few samples to judge 3 of 3 acceptance figures: code_p50 +5 %")
