"""`twittcom storm --check` over SMPP: the shipped smpp-operator-launch scenario (about 105 s, slow).

The processor sends through two SMPP binds to fake SMS's SMSC; the acceptance figures (code p50
and p95 outside outages, activations/s) must not disagree with the simulator's SMPP station (binds x
window, throughput caps), and p50 and activations/s must be judged to agree within 15 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from earned import assert_check_earned  # tests/loadtests/earned.py, beside this file

from scenario import load_scenario
from twittcom.commands.storm import storm

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "smpp-operator-launch.toml"
#: judged and agreeing on a run of this size; the p95 of ~130 codes is too few samples to judge
JUDGED = ("code_outside_p50", "activations_per_s")


def test_the_shipped_smpp_scenario_sends_over_smpp() -> None:
    sms = load_scenario(SCENARIO).system.sms
    assert sms.protocol == "smpp" and sms.smpp.binds * sms.smpp.window == 10


@pytest.mark.slow
def test_storm_check_earns_its_verdict_over_smpp(tmp_path: Path) -> None:
    result = CliRunner().invoke(storm, [str(SCENARIO), "--out", str(tmp_path), "--check", "--seeds", "10"])
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    accepted = assert_check_earned(result.exit_code, result.output, comparison, JUDGED)
    assert set(accepted) == {*JUDGED, "code_outside_p95"}
    assert "sms_code" in result.output
