"""``twittcom demo`` and ``twittcom crm``, plus the demo driver's determinism."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reference.bootstrap import open_store
from reference.demo import run_demo
from reference.domain.outcomes import Outcome
from twittcom.cli import main


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    """Two runs with one seed give identical outcome counts and featured timeline texts."""
    reports = []
    for name in ("a.db", "b.db"):
        store = open_store(str(tmp_path / name))
        reports.append(run_demo(store, users=80, seed=9))
        store.close()
    first, second = reports
    assert first.outcomes == second.outcomes
    assert [e["text"] for e in first.timeline] == [e["text"] for e in second.timeline]
    for outcome in (Outcome.CODE_SENT, Outcome.REGISTERED, Outcome.ACTIVATED, Outcome.DUPLICATE):
        assert first.outcomes[outcome] > 0


def test_demo_command_prints_counts_rate_and_a_timeline(tmp_path: Path) -> None:
    """The demo prints outcome counts, the purchase rate and one customer's timeline."""
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(main, ["demo", "--users", "60", "--seed", "2", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "activated" in result.output and "purchases/s" in result.output
    assert "Timeline of @" in result.output


def test_crm_prints_and_exports_a_timeline(tmp_path: Path) -> None:
    """crm shows a customer's timeline; --json exports it oldest first; unknown handles fail."""
    db = str(tmp_path / "crm.db")
    store = open_store(db)
    report = run_demo(store, users=40, seed=4)
    store.close()
    handle = report.featured_handle
    runner = CliRunner()
    shown = runner.invoke(main, ["crm", f"@{handle}", "--db", db])
    assert shown.exit_code == 0, shown.output
    assert "tweet_in" in shown.output
    exported = runner.invoke(main, ["crm", handle, "--db", db, "--json"])
    document = json.loads(exported.output)
    assert document["handle"] == handle and len(document["user_ids"]) == 1
    moments = [e["at"] for e in document["entries"]]
    assert moments == sorted(moments) and len(moments) == len(report.timeline)
    missing = runner.invoke(main, ["crm", "@nobody_here", "--db", db])
    assert missing.exit_code != 0 and "no timeline" in missing.output
