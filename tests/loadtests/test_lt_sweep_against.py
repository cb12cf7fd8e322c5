"""``twittcom sweep --against``: bad input refused with one line, before anything is started."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from twittcom.commands.sweep import sweep

TINY_LOW = Path(__file__).resolve().parents[2] / "examples" / "tiny-low.toml"


def _refused(args: list[str]) -> str:
    result = CliRunner().invoke(sweep, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_against_needs_the_systems_scenario():
    assert "needs SCENARIO" in _refused(["--against", "python my.py --x {x_url}"])


def test_an_unknown_placeholder_is_named():
    assert "x_ulr" in _refused([str(TINY_LOW), "--against", "python my.py --x {x_ulr}"])


def test_running_urls_need_the_population_file():
    assert "--population" in _refused(
        [str(TINY_LOW), "--against", "x=http://127.0.0.1:9,sms=http://127.0.0.1:10"]
    )
