"""The service's outbound clients: X API v2, and SMS through Twilio or SMPP (the SMS port,
:class:`reference.clients.sms_port.SmsGateway`).

Given ``httpx.AsyncClient`` objects (in-process stacks: ``httpx.ASGITransport`` to the fakes) stay
the caller's; clients built from the config (the transport of
:data:`reference.clients.transport.TRANSPORTS` the config names) and the SMPP binds are the
service's own and are closed by :meth:`OutboundClients.close`, so a restarted service builds fresh ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from reference.clients.smpp_sms import SmppSmsClient
from reference.clients.sms_port import SmsGateway
from reference.clients.transport import make_async_client
from reference.clients.twilio_sms import TwilioSmsClient
from reference.clients.x_api import XApiClient
from reference.runtime.config import ServiceConfig

__all__ = ["OutboundClients"]


class OutboundClients:
    """Builds the X and Twilio clients of one service run and closes what it built."""

    def __init__(self, x_http: httpx.AsyncClient | None, sms_http: httpx.AsyncClient | None) -> None:
        self._x_http, self._sms_http = x_http, sms_http
        self._owned: list[httpx.AsyncClient] = []
        self._smpp: SmppSmsClient | None = None

    async def open(
        self, config: ServiceConfig, *, on_sms_status: Callable[[str, str, str | None], Awaitable[None]]
    ) -> tuple[XApiClient, SmsGateway]:
        """The clients for ``config`` (HTTP clients built for what was not given; with
        ``smpp_url`` the SMS go over SMPP binds, started here, whose receipts go to
        ``on_sms_status``)."""
        if self._x_http is None:
            self._x_http = make_async_client(config.x_base_url, transport=config.transport)
            self._owned.append(self._x_http)
        if self._sms_http is None:
            self._sms_http = make_async_client(config.twilio_base_url, transport=config.transport)
            self._owned.append(self._sms_http)
        x = XApiClient(self._x_http, user_token=config.x_user_token, app_token=config.x_app_token or None)
        if config.smpp_url:
            self._smpp = SmppSmsClient(
                config.smpp_url, source=config.smpp_source or config.twilio_from or "TWTCOM",
                binds=config.smpp_binds, window=config.smpp_window, throughput=config.smpp_throughput,
                on_status=on_sms_status,
            )  # fmt: skip
            await self._smpp.start()
            return x, self._smpp
        sms = TwilioSmsClient(
            self._sms_http,
            account_sid=config.twilio_account_sid,
            auth_token=config.twilio_auth_token,
            from_number=config.twilio_from or None,
            messaging_service_sid=config.twilio_messaging_service_sid or None,
            status_callback=config.sms_callback_url,
            validity_period=config.twilio_validity_period or None,
        )
        return x, sms

    async def close(self) -> None:
        """Close the SMPP binds and the HTTP clients built here (given ones stay open)."""
        if self._smpp is not None:
            await self._smpp.aclose()
            self._smpp = None
        for client in self._owned:
            await client.aclose()
            if client is self._x_http:
                self._x_http = None
            if client is self._sms_http:
                self._sms_http = None
        self._owned.clear()
