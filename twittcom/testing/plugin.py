"""The pytest plugin (a ``pytest11`` entry point named ``twittcom.testing.plugin``): fixtures,
markers and the fakes' call log under failing tests.

Fixtures (each a fresh, seeded fake per test; usable from sync and async tests):

* ``fake_x``: :class:`~twittcom.testing.FakeX` answering for api.x.com and api.twitter.com;
* ``fake_sms``: :class:`~twittcom.testing.FakeSms` answering for api.twilio.com;
* ``twittcom_stack``: :class:`~twittcom.testing.StackHandle`, the whole stack in-process
  (``.url`` and ``.admin_token`` of the processor; ``.x`` and ``.sms`` the fakes).

Markers of the same names set their options, e.g. ``@pytest.mark.fake_x(rate_limits="off", seed=7)``,
``@pytest.mark.fake_sms(config={...})``, ``@pytest.mark.twittcom_stack(population=10)``; the
closest marker wins per option. When a test fails, the requests the fakes received (and sent, and
refused) during it are printed in a "twittcom fakes" section, like respx's call log.

Importing this module loads no fake (the fixtures import them when used), so the plugin costs
nothing in a suite that does not use it. Disable it with ``-p no:twittcom.testing.plugin``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from twittcom.testing.calllog import LOG, format_calls

__all__ = ["fake_sms", "fake_x", "twittcom_stack"]

SECTION = "twittcom fakes: calls received"
_MARK = pytest.StashKey[int]()

MARKERS = {
    "fake_x": "fake_x(**options): options of the fake_x fixture (seed, rate_limits, clock, "
    "problem_host, consumer_secret, other_hosts)",
    "fake_sms": "fake_sms(**options): options of the fake_sms fixture (seed, config, time_scale, "
    "other_hosts)",
    "twittcom_stack": "twittcom_stack(**options): StackOptions of the twittcom_stack fixture "
    "(population, seed, ingestion, x_rate_limits, ...; other_hosts)",
}


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)


def marker_options(node: pytest.Item, name: str) -> dict[str, Any]:
    """The keyword options of every ``name`` marker on ``node``, the closest winning."""
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(name))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{name} takes keyword options only, got {marker.args}")
        options.update(marker.kwargs)
    return options


@pytest.fixture
def fake_x(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh fake X (seed 0 unless marked) for api.x.com and api.twitter.com."""
    from twittcom.testing.fake_x import FakeX

    with FakeX(**marker_options(request.node, "fake_x")) as fake:
        yield fake


@pytest.fixture
def fake_sms(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh fake Twilio gateway (manual carrier clock, seed 0 unless marked) for api.twilio.com."""
    from twittcom.testing.fake_sms import FakeSms

    with FakeSms(**marker_options(request.node, "fake_sms")) as fake:
        yield fake


@pytest.fixture
def twittcom_stack(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The whole stack in-process: both fakes at their real hosts and the processor at ``.url``."""
    from twittcom.testing.stack import StackHandle

    with StackHandle(**marker_options(request.node, "twittcom_stack")) as stack:
        yield stack


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_MARK] = LOG.mark()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and _MARK in item.stash:
        calls = LOG.since(item.stash[_MARK])
        if calls:
            report.sections.append((SECTION, format_calls(calls)))
    return report
