"""Fixtures for the registration page: a controllable clock, a recording port, an in-process client."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from reference.web import create_registration_app

from .support import SECRET, ManualClock, RecordingPort, client_for


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


@pytest.fixture
def make_app(clock: ManualClock, port: RecordingPort) -> Callable[..., Any]:
    """Build the app with the test clock, seeded randomness and the recording port by default."""
    rng = random.Random(7)

    def build(**overrides: Any) -> Any:
        options: dict[str, Any] = {
            "operator_handle": "tatadocomo",
            "secret_key": SECRET,
            "clock": clock,
            "random_bytes": rng.randbytes,
        }
        options.update(overrides)
        code_requests = options.pop("code_requests", port)
        return create_registration_app(code_requests, **options)

    return build


@pytest.fixture
async def client(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app()) as c:
        yield c
