"""A CI-sized storm against the live stack (fake X, fake SMS, processor on loopback) with thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from twittcom.commands.loadtest import loadtest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_ci_storm_against_the_live_stack_meets_its_thresholds(tmp_path):
    """ci-smoke through the real processor after a warm-up: codes arrive, buys activate, thresholds hold."""
    prefix = tmp_path / "storm"
    result = CliRunner().invoke(loadtest, [
        str(ROOT / "scenarios" / "ci-smoke.toml"), "--duration", "8s", "--drain", "6s",
        "--threshold", "code_p99<30s", "--threshold", "error_rate<1%",
        "--threshold", "arrival_rate_achieved>95%", "--threshold", "activation_p95<5s",
        "--csv", str(prefix), "--preregister", "6",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(Path(f"{prefix}_summary.json").read_text())
    assert summary["mode"] == "live" and summary["passed"]
    figures = summary["figures"]
    assert figures["code_count"] > 0 and figures["activation_count"] > 0
    assert 0 < figures["code_processor_p50"] < figures["code_p50"]
    outcomes = summary["outcomes"]
    assert outcomes.get("new_subscriber:registered", 0) > 0
    # buyers draw on the warm-up's registered users from the first second
    assert outcomes.get("repeat_buyer:not_registered", 0) == 0
    assert outcomes.get("repeat_buyer:activated", 0) > 0
    assert "PASS code_p99<30s" in result.output
