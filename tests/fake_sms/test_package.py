"""Package surface: curated exports, and the twittcom fake-sms command."""

from __future__ import annotations

import importlib
import pkgutil

from click.testing import CliRunner

import fake_sms
from twittcom.cli import main


def test_exports_sorted_and_importable():
    """fake_sms.__all__ is sorted and every name in it exists."""
    assert list(fake_sms.__all__) == sorted(fake_sms.__all__)
    assert all(hasattr(fake_sms, name) for name in fake_sms.__all__)


def test_every_module_declares_all_and_docstring():
    """Each module of the package has a docstring and an __all__ naming real attributes."""
    for info in pkgutil.iter_modules(fake_sms.__path__):
        module = importlib.import_module(f"fake_sms.{info.name}")
        assert module.__doc__, info.name
        assert all(hasattr(module, name) for name in module.__all__), info.name


def test_isolation_from_other_fakes():
    """fake_sms imports neither reference/ nor fake_twitter/."""
    for info in pkgutil.iter_modules(fake_sms.__path__):
        source = importlib.import_module(f"fake_sms.{info.name}").__file__
        text = open(source, encoding="utf-8").read()
        assert "import reference" not in text and "fake_twitter" not in text and "from reference" not in text


def test_cli_help_lists_options():
    """`twittcom fake-sms --help` documents host, port, time scale, seed and config."""
    result = CliRunner().invoke(main, ["fake-sms", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--time-scale", "--seed", "--config"):
        assert option in result.output


def test_cli_refuses_non_loopback_host():
    """The fake only binds loopback addresses."""
    result = CliRunner().invoke(main, ["fake-sms", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "loopback" in result.output


def test_cli_reports_a_bad_config_file(tmp_path):
    """A malformed --config file is reported as a clean error, not a traceback."""
    path = tmp_path / "bad.toml"
    path.write_text("[carrier.default.failure_rates]\n'99999' = 0.5\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fake-sms", "--config", str(path)])
    assert result.exit_code != 0
    assert "bad configuration" in result.output and "99999" in result.output
