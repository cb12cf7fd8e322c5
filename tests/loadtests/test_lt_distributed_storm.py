"""A storm whose two locust workers run in two network namespaces (issue 16): both drive journeys,
the master merges their figures, and ``--check`` judges the agreement as in a single-process run.

About 40 s on this machine (slow): ci-smoke shortened to 10 s of arrivals and 10 s of drain, no
warm-up (a distributed run always waits its whole warm-up lead).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from twittcom.commands.storm import CHECK_FAILED, storm
from twittcom.prechecks import EXIT_UNJUDGED

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.platform != "linux" or os.geteuid() != 0 or shutil.which("ip") is None,
        reason="needs root and iproute2's ip",
    ),
]


def test_two_workers_in_two_namespaces_run_the_storm_and_check_is_judged(tmp_path: Path) -> None:
    result = CliRunner().invoke(storm, [
        str(ROOT / "scenarios" / "ci-smoke.toml"), "--duration", "10s", "--set", "run.drain_s=10",
        "--seeds", "2", "--preregister", "0", "--locust-workers", "2", "--netns", "--check",
        "--out", str(tmp_path),
    ])  # fmt: skip
    assert result.exit_code in (0, CHECK_FAILED, EXIT_UNJUDGED), result.output
    summary = json.loads((tmp_path / "locust_summary.json").read_text())
    assert summary["workers"] == 2
    # each worker (own namespace, own process) took its half of the schedule and started journeys
    workers = summary["per_worker"]
    assert sorted(w["index"] for w in workers) == [0, 1]
    # (under a loaded CI a worker joining late may not start its last scheduled journeys before the
    # bounded run stops: every start is counted once, never more than scheduled)
    assert all(w["scheduled"] > 0 and 0 < w["started"] <= w["scheduled"] for w in workers)
    assert sum(w["started"] for w in workers) == summary["figures"]["arrivals_started"]
    assert "journeys started per locust worker (of scheduled): worker 0:" in result.output
    # the master's merged figures cover both workers' journeys
    figures = summary["figures"]
    assert figures["code_count"] > 0 and figures["activation_count"] > 0
    assert 0 < figures["code_processor_p50"] < figures["code_p50"]
    # --check judged every acceptance figure, measured beside simulated
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    accepted = [f for f in comparison["figures"] if f["acceptance"]]
    assert {f["figure"] for f in accepted} == {"code_p50", "code_p95", "activations_per_s"}  # no outages
    assert all(isinstance(f["agrees"], bool) and f["verdict"] for f in accepted)
    by_name = {f["figure"]: f for f in accepted}
    assert all(math.isfinite(by_name[name]["measured"]) for name in ("code_p50", "code_p95"))
    # a 10 s run may end before an activation lands inside the arrival window: then the figure is
    # missing on the measured side and judged as a disagreement, never as agreement
    rate = by_name["activations_per_s"]
    assert math.isfinite(rate["measured"]) if rate["measured"] is not None else rate["agrees"] is False
    assert (result.exit_code == 0) == comparison["passed"]
    # 10 s of arrivals on 2 seeds is too short to judge a figure either way: said, not passed
    assert (result.exit_code == EXIT_UNJUDGED) == (not comparison["failures"] and not comparison["judged"])
    # the namespaces are gone
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"twittcom-{os.getpid()}-" not in left
