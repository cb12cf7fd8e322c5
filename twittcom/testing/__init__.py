"""The fakes in your own test suite, in-process and with the SDKs unmodified (moto/respx style).

* :func:`mock_x` / :func:`mock_twilio`: context managers and decorators (sync and async) that route
  every request for api.x.com, api.twitter.com and api.twilio.com to fresh in-process fakes, for
  ``requests`` (tweepy, twilio, xdk), ``httpx`` (through respx) and the aiohttp transports; other
  hosts are refused (``other_hosts="pass"`` lets them through). The handles
  (:class:`FakeX`, :class:`FakeSms`) give the fake's state and ``/_fake/`` control as Python calls.
* :func:`mock_stack`: the whole stack (both fakes and the processor) in-process.
* The pytest plugin (:mod:`twittcom.testing.plugin`, registered under that name): fixtures
  ``fake_x``, ``fake_sms``, ``twittcom_stack``, markers of the same names, and the call log of the
  fakes printed under a failing test.

Names are imported lazily, so loading the pytest plugin costs nothing until a fake is used.
See ``docs/testing-with-fakes.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FakeControlError",
    "FakeSms",
    "FakeX",
    "StackHandle",
    "UnmockedRequestError",
    "active",
    "mock_stack",
    "mock_twilio",
    "mock_x",
]

_WHERE = {
    "FakeControlError": "twittcom.testing.base",
    "active": "twittcom.testing.base",
    "FakeX": "twittcom.testing.fake_x",
    "mock_x": "twittcom.testing.fake_x",
    "FakeSms": "twittcom.testing.fake_sms",
    "mock_twilio": "twittcom.testing.fake_sms",
    "StackHandle": "twittcom.testing.stack",
    "mock_stack": "twittcom.testing.stack",
    "UnmockedRequestError": "twittcom.testing.intercept",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'twittcom.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
