"""fake_twitter: an X API v2 fake (tweets, timelines, DMs, Account Activity webhooks) for tests.

Moto-shaped: state and behaviour in :class:`TwitterBackend`, a thin raw-ASGI layer from
:func:`create_app`, typed errors in :mod:`fake_twitter.exceptions`, control routes under ``/_fake/``.
"""

from __future__ import annotations

from fake_twitter.app import FakeTwitterApp, create_app
from fake_twitter.backend import DEFAULT_CONSUMER_SECRET, TwitterBackend
from fake_twitter.clock import Clock, ManualClock, SystemClock
from fake_twitter.delivery import DEFAULT_RETRY_DELAYS, WebhookDispatcher
from fake_twitter.webhooks import crc_response_token, sign_body

__all__ = [
    "Clock",
    "DEFAULT_CONSUMER_SECRET",
    "DEFAULT_RETRY_DELAYS",
    "FakeTwitterApp",
    "ManualClock",
    "SystemClock",
    "TwitterBackend",
    "WebhookDispatcher",
    "crc_response_token",
    "create_app",
    "sign_body",
]
