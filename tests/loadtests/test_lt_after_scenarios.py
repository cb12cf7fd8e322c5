"""The issue's sequence: `twittcom scenarios` against a stack, then `twittcom loadtest` against it.

The stories move fake X's clock forward (16 minutes per expiry story); the load run used to date
each #reg by that clock, wait for codes "from the future", measure nothing and pass. Now the run
takes the clock's offset out and measures real journeys (or its default thresholds fail it).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from twittcom.commands.loadtest import _loopback_stack, loadtest
from twittcom.qa.client import Endpoints
from twittcom.qa.suite import run_suite, select

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_loadtest_after_scenarios_measures_real_journeys_and_the_stack_is_left_as_found(tmp_path):
    with _loopback_stack(300, "webhook", 0.25) as urls:
        httpx.post(f"{urls.x}/_fake/faults", json={"route": "GET /2/users/me", "error_rate": 0.001})
        endpoints = Endpoints(urls.x, urls.sms, urls.processor, urls.admin_token, "tatadocomo")
        notes: list[str] = []
        results = asyncio.run(
            run_suite(endpoints, select(keyword="register_by_tweet"), on_change=notes.append)
        )
        assert results and all(r.passed for r in results), results
        # the fault rule in force before the suite is back; the clock it moved is reported
        assert set(httpx.get(f"{urls.x}/_fake/faults").json()) == {"GET /2/users/me"}
        httpx.delete(f"{urls.x}/_fake/faults")
        assert len(notes) == 1 and "clock moved forward" in notes[0]
        prefix = tmp_path / "after"
        against = f"x={urls.x},sms={urls.sms},processor={urls.processor}"
        result = CliRunner().invoke(loadtest, [
            str(ROOT / "scenarios" / "ci-smoke.toml"), "--against", against,
            "--admin-token", urls.admin_token, "--duration", "6s", "--drain", "10s", "--csv", str(prefix),
        ])  # fmt: skip
    summary = json.loads(Path(f"{prefix}_summary.json").read_text())
    assert result.exit_code == 0, (result.output, summary["thresholds"])
    figures = summary["figures"]
    assert figures["codes_delivered"] > 0 and figures["journeys_done_reg"] > 0
    assert {t["expression"] for t in summary["thresholds"]} >= {"codes_delivered>0", "journeys_done_reg>0"}
