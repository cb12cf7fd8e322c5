"""Every setup mistake quoted in issue 12 stops its command at once: one line, exit 2, no traceback.

One test per quoted command (DSNs, ports in use, a load run's URLs, admin token, population file
and threshold metrics), each bounded at 5 s and checked for the absence of a traceback.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from twittcom.cli import main
from twittcom.commands.loadtest import _loopback_stack
from twittcom.prechecks import EXIT_SETUP, parse_dsn

ROOT = Path(__file__).resolve().parents[2]
SMOKE = str(ROOT / "scenarios" / "ci-smoke.toml")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def held_port() -> Iterator[int]:
    """A loopback port some other program is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.fixture(scope="module")
def stack():
    with _loopback_stack(200, "webhook", 0.25) as urls:
        yield urls


def _setup_error(args: list[str], *needles: str) -> Result:
    started = time.monotonic()
    result = CliRunner().invoke(main, args)
    elapsed = time.monotonic() - started
    assert result.exit_code == EXIT_SETUP, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and elapsed < 5.0, (elapsed, result.output)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], result.output
    return result


@pytest.mark.parametrize(
    ("db", "needle"),
    [
        ("mysql://foo", "unsupported scheme 'mysql'"),
        ("/nonexistent-dir/x.db", "folder /nonexistent-dir does not exist"),
        ("postgresql://bad dsn", "no spaces"),
    ],
)
def test_demo_refuses_a_bad_db(db, needle):
    """`twittcom demo --db ...`: scheme, folder and syntax faults named in one line."""
    _setup_error(["demo", "--db", db], needle)


def test_demo_refuses_a_postgres_nobody_listens_on():
    """`twittcom demo --db postgresql://nobody@127.0.0.1:<free>/none`: not reachable, said at once."""
    port = _free_port()
    _setup_error(["demo", "--db", f"postgresql://nobody@127.0.0.1:{port}/none"], f"127.0.0.1:{port}")


def test_up_refuses_a_bad_db_before_starting_anything():
    """`twittcom up --db mysql://foo`: no stack started, no seven tracebacks."""
    result = _setup_error(
        ["up", "--db", "mysql://foo", "--port", "0", "--x-port", "0", "--sms-port", "0"], "mysql"
    )
    assert "Task was destroyed" not in result.output


def test_serve_refuses_a_bad_dsn_scheme():
    """`twittcom serve --dsn mysql://foo`: one line before the banner."""
    result = _setup_error(["serve", "--dsn", "mysql://foo", "--port", "0"], "mysql")
    assert "twittcom serve on" not in result.output


def test_serve_never_creates_a_sqlite_file_named_after_a_libpq_string(tmp_path, monkeypatch):
    """`serve --dsn 'host=... dbname=...'` is refused; no file named after the string appears."""
    monkeypatch.chdir(tmp_path)
    _setup_error(["serve", "--dsn", "host=127.0.0.1 dbname=test", "--port", "0"], "postgresql://")
    assert list(tmp_path.iterdir()) == []


def test_crm_refuses_a_dsn_with_spaces():
    """`twittcom crm @x --db 'postgres://bad dsn with spaces'`."""
    _setup_error(["crm", "@x", "--db", "postgres://bad dsn with spaces"], "no spaces")


@pytest.mark.parametrize(
    ("command", "banner"),
    [
        (["serve", "--dsn", "memory://", "--port"], "twittcom serve on"),
        (["fake-twitter", "--port"], "fake X API"),
        (["fake-sms", "--port"], "fake-sms on"),
    ],
)
def test_a_port_in_use_is_named_before_any_banner(held_port, command, banner):
    """serve, fake-twitter and fake-sms name the taken port and print no "serving on" banner."""
    result = _setup_error([*command, str(held_port)], f"port {held_port}", "already in use")
    assert banner not in result.output


def test_up_names_the_port_in_use_at_once(held_port):
    """`twittcom up` with one of its ports taken: which one, in well under the 5-8 s it took."""
    _setup_error(
        ["up", "--port", "0", "--x-port", str(held_port), "--sms-port", "0"],
        f"port {held_port} (--x-port)",
    )


def test_loadtest_against_nothing():
    """`twittcom loadtest ... --against` URLs where nothing listens: named, no 20 s idle run."""
    port = _free_port()
    against = f"x=http://127.0.0.1:{port},sms=http://127.0.0.1:{port},processor=http://127.0.0.1:{port}"
    _setup_error(["loadtest", SMOKE, "--against", against, "--admin-token", "T"], "nothing answers")


def test_loadtest_with_a_wrong_admin_token(stack):
    """A wrong admin token is refused before the first arrival."""
    against = f"x={stack.x},sms={stack.sms},processor={stack.processor}"
    _setup_error(
        ["loadtest", SMOKE, "--against", against, "--admin-token", "WRONG"], "refused the admin token"
    )


def test_loadtest_without_an_admin_token(stack, monkeypatch):
    """No token and no population file: says which option gives one."""
    monkeypatch.delenv("TWITTCOM_ADMIN_TOKEN", raising=False)
    against = f"x={stack.x},sms={stack.sms},processor={stack.processor}"
    _setup_error(["loadtest", SMOKE, "--against", against], "--admin-token")


def test_loadtest_with_a_missing_population_file(stack, tmp_path):
    """`--population` naming no file: one line, before the run."""
    against = f"x={stack.x},sms={stack.sms},processor={stack.processor}"
    missing = tmp_path / "nobody.json"
    _setup_error(
        [
            "loadtest",
            SMOKE,
            "--against",
            against,
            "--admin-token",
            stack.admin_token,
            "--population",
            str(missing),
        ],
        "cannot read population file",
    )


def test_loadtest_with_an_unknown_threshold_metric():
    """An unknown metric is refused before the run, with the valid names."""
    _setup_error(["loadtest", SMOKE, "--fakes-only", "--threshold", "bogus_metric<3"], "valid:", "code_pN")


def test_loadtest_help_lists_the_threshold_metrics():
    """--help carries the metric names a threshold may use."""
    help_text = CliRunner().invoke(main, ["loadtest", "--help"]).output
    assert "activations_per_s" in help_text and "journeys_done_reg" in help_text


def test_the_dsn_parser_accepts_what_the_stores_open(tmp_path):
    """postgresql URLs, sqlite:/// paths, plain .db paths, existing files and memory:// parse."""
    existing = tmp_path / "store"
    existing.write_bytes(b"")
    for text, kind in [
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql"),
        ("postgres://u:p@db.example:6543/app?sslmode=disable", "postgresql"),
        (f"sqlite:///{tmp_path}/x.db", "sqlite"),
        (str(tmp_path / "x.sqlite3"), "sqlite"),
        (str(existing), "sqlite"),
        ("memory://", "memory"),
    ]:
        assert parse_dsn(text).kind == kind, text


def test_loadtest_checks_the_population_file_without_against_too(tmp_path):
    """A self-started run with a missing --population file stops before starting anything."""
    _setup_error(
        ["loadtest", SMOKE, "--fakes-only", "--population", str(tmp_path / "none.json")], "none.json"
    )


def test_scenarios_against_nothing():
    """`twittcom scenarios --against` URLs nobody answers at: one line, exit 2, nothing run."""
    port = _free_port()
    against = f"x=http://127.0.0.1:{port},sms=http://127.0.0.1:{port},processor=http://127.0.0.1:{port}"
    _setup_error(["scenarios", "--against", against, "--admin-token", "T"], "does not answer")


def test_storm_refuses_a_scenario_the_live_stack_cannot_run(tmp_path: Path) -> None:
    """`twittcom storm scenarios/record-spike.toml`: its 500 events/s peak is beyond the load
    generator here, refused before the stack starts with the key and the limit (exit 2)."""
    _setup_error(
        ["storm", str(ROOT / "scenarios" / "record-spike.toml"), "--out", str(tmp_path)],
        "arrivals.segments",
        "events/s",
    )


def test_ctrl_c_before_a_command_handles_it_exits_130_with_one_line(monkeypatch) -> None:
    """Ctrl-C while a command is still starting (before its own handler): 130 and one line, as a
    shell expects of an interrupted command, not click's "Aborted!" and exit code 1."""
    import click
    from click.testing import CliRunner

    from twittcom.cli import LazyGroup, main

    @click.command()
    def starting() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(LazyGroup, "get_command", lambda self, ctx, name: starting)
    result = CliRunner().invoke(main, ["loadtest"])
    assert result.exit_code == 130, result.output
    assert result.output.strip() == "interrupted (Ctrl-C)"
