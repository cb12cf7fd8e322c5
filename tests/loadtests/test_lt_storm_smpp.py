"""`twittcom storm --check` over SMPP: the shipped smpp-operator-launch scenario (about 80 s, slow).

The processor sends through two SMPP binds to fake SMS's SMSC; the acceptance figures (code p50
and p95 outside outages, activations/s) must agree with the simulator's SMPP station (binds x
window, throughput caps) within 15 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenario import load_scenario
from twittcom.commands.storm import storm

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "smpp-operator-launch.toml"


def test_the_shipped_smpp_scenario_sends_over_smpp() -> None:
    sms = load_scenario(SCENARIO).system.sms
    assert sms.protocol == "smpp" and sms.smpp.binds * sms.smpp.window == 10


@pytest.mark.slow
def test_storm_check_passes_over_smpp(tmp_path: Path) -> None:
    result = CliRunner().invoke(storm, [str(SCENARIO), "--out", str(tmp_path), "--check", "--seeds", "10"])
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    assert result.exit_code == 0, result.output + "\n" + "\n".join(comparison["failures"])
    accepted = [f for f in comparison["figures"] if f["acceptance"]]
    assert accepted and all(f["agrees"] for f in accepted)
    assert "sms_code" in result.output
