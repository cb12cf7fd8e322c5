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


def test_crm_refuses_a_missing_or_foreign_database_without_a_traceback(tmp_path: Path) -> None:
    """A --db that does not exist is not created; a file that is not SQLite gives a one-line error."""
    runner = CliRunner()
    missing = tmp_path / "typo.db"
    result = runner.invoke(main, ["crm", "@someone", "--db", str(missing)])
    assert result.exit_code == 2 and "no database at" in result.output  # a setup error
    assert not missing.exists()
    foreign = tmp_path / "notes.db"
    foreign.write_text("not a database at all, just text " * 10)
    for args in (["crm", "@someone", "--db", str(foreign)], ["demo", "--core", "--db", str(foreign)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output  # a setup error (README "Exit codes")
        assert "cannot open SQLite database" in result.output
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_crm_json_for_an_unknown_handle_fails_like_the_table(tmp_path: Path) -> None:
    """--json for a handle nobody used exits 1 with the same message instead of an empty export."""
    db = str(tmp_path / "crm.db")
    store = open_store(db)
    run_demo(store, users=10, seed=1)
    store.close()
    result = CliRunner().invoke(main, ["crm", "@nobody_here", "--db", db, "--json"])
    assert result.exit_code == 1 and "no timeline for @nobody_here" in result.output
