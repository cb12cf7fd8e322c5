"""Fixtures for the outbound-client tests: a respx router mounted as the client's transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from clients_support import ACCOUNT_SID, AUTH_TOKEN, TWILIO_BASE, X_BASE

from reference.clients import TwilioSmsClient, XApiClient, make_async_client


@pytest.fixture
def x_router() -> respx.MockRouter:
    return respx.MockRouter(base_url=X_BASE, assert_all_called=False)


@pytest.fixture
def twilio_router() -> respx.MockRouter:
    return respx.MockRouter(base_url=TWILIO_BASE, assert_all_called=False)


@pytest.fixture
async def x_client(x_router: respx.MockRouter) -> AsyncIterator[XApiClient]:
    async with make_async_client(X_BASE, transport=httpx.MockTransport(x_router.async_handler)) as http:
        yield XApiClient(http, user_token="user-token", app_token="app-token")


@pytest.fixture
async def sms_client(twilio_router: respx.MockRouter) -> AsyncIterator[TwilioSmsClient]:
    transport = httpx.MockTransport(twilio_router.async_handler)
    async with make_async_client(TWILIO_BASE, transport=transport) as http:
        yield TwilioSmsClient(
            http, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+15005550006"
        )
