"""Fixtures for the X API v2 fake: a backend on a manual clock, the ASGI app, an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from ft_support import BASE_URL

from fake_twitter import ManualClock, TwitterBackend, create_app
from fake_twitter.app import FakeTwitterApp


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_790_000_000.0)


@pytest.fixture
def backend(clock: ManualClock) -> TwitterBackend:
    return TwitterBackend(clock, seed=7)


@pytest.fixture
def app(backend: TwitterBackend) -> FakeTwitterApp:
    return create_app(backend, retry_delays=(0.01, 0.02))


@pytest.fixture
async def client(app: FakeTwitterApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c
    await app.dispatcher.aclose()
