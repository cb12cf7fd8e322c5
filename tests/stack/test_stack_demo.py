"""The full-stack demo: figures printed for a small population, and the core-only demo behind --core."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from twittcom.cli import main
from twittcom.stack_demo import percentile, run_stack_demo


def test_percentile_is_nearest_rank() -> None:
    """percentile picks the nearest-rank value; no values give 0."""
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([], 0.5) == 0.0 and percentile([7.0], 0.99) == 7.0


async def test_stack_demo_measures_codes_and_activations() -> None:
    """A small run registers users on every channel, activates packs and measures both latencies apart."""
    report = await run_stack_demo(60, seed=4, arrival_rate=None)
    assert set(report.channels) == {"tweet", "web", "dm"}
    assert report.outcomes.get("registered", 0) > 0 and report.activations > 0
    assert report.outcomes.get("wrong_code", 0) > 0
    assert len(report.processor_ms) == len(report.carrier_s) > 0
    assert all(c > 0 for c in report.carrier_s)
    assert all(t >= c for t, c in zip(report.total_s, report.carrier_s, strict=True))
    assert report.activations_per_second > 0 and report.activation_ms
    kinds = {e["kind"] for e in report.timeline}
    assert {"tweet_in", "debit", "sms_out"} <= kinds


def test_demo_command_prints_the_figures(tmp_path: Path) -> None:
    """`twittcom demo` prints latency percentiles, the carrier note, rates, outcomes and a timeline."""
    result = CliRunner().invoke(
        main, ["demo", "--users", "40", "--seed", "1", "--db", str(tmp_path / "d.db")]
    )
    assert result.exit_code == 0, result.output
    for text in (
        "p50",
        "p99",
        "processor's own share",
        "carrier delay",
        "activations/s",
        "runs x600",
        "Outcomes",
        "Timeline of @",
    ):
        assert text in result.output, text


def test_demo_core_flag_runs_the_core_only_demo(tmp_path: Path) -> None:
    """`twittcom demo --core` runs the earlier in-process core demo."""
    result = CliRunner().invoke(main, ["demo", "--core", "--users", "30", "--db", str(tmp_path / "c.db")])
    assert result.exit_code == 0, result.output
    assert "purchases/s" in result.output and "group commits" in result.output
