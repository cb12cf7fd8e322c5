"""The whole stack wired together: fake X, fake SMS gateway and the processor service.

Two variants (subclasses, not flags):

* :class:`InProcessStack`: every hop is ``httpx.ASGITransport`` in both directions (processor ->
  fakes through its clients; fake X webhook deliveries and fake SMS status callbacks -> processor),
  no sockets. Used by ``twittcom demo`` and the tests.
* :class:`LoopbackStack`: each app served by uvicorn on a free ``127.0.0.1`` port in this process
  (real HTTP between them). Used by ``twittcom up`` and ``twittcom scenarios``.

Both run the same set-up, over the fakes' control APIs where one exists: create the operator's
account on fake X (user id, token, consumer secret), seed a faker population in the processor's
store (:mod:`reference.population`) and the handsets' circles at fake SMS, start the service,
register its webhook (the CRC is checked) and subscribe the operator. The processor's clock follows
fake X's clock (:class:`~twittcom.stack_control.FollowingClock`). Example::

    async with InProcessStack(StackOptions(population=50)) as stack:
        async with StackClient(stack.endpoints) as client:
            user = await client.create_user("asha")
            await client.tweet(user, "@tatadocomo #reg " + stack.population.subscribers[0].msisdn)
"""

from __future__ import annotations

from typing import Any

import httpx

from fake_sms import create_app as create_sms_app
from fake_twitter import create_app as create_x_app
from reference.clients.transport import make_async_client
from reference.runtime import Service
from twittcom.stack_base import Ingestion, Stack, StackOptions
from twittcom.stack_loopback import LoopbackStack

__all__ = ["InProcessStack", "Ingestion", "LoopbackStack", "Stack", "StackOptions"]


class InProcessStack(Stack):
    """Everything in this event loop, every hop through ``httpx.ASGITransport`` (no sockets)."""

    mode = "in-process"
    X_URL = "https://api.x.com"
    SMS_URL = "https://api.twilio.com"
    PROCESSOR_URL = "http://processor.stack"

    def __init__(self, options: StackOptions | None = None) -> None:
        super().__init__(options)
        self._clients: list[httpx.AsyncClient] = []

    def _client(self, app: Any, base: str) -> httpx.AsyncClient:
        client = make_async_client(base, transport=httpx.ASGITransport(app=app))
        self._clients.append(client)
        return client

    def _transports(self) -> dict[str, httpx.AsyncBaseTransport]:
        out: dict[str, httpx.AsyncBaseTransport] = {}
        if self.x_app is not None:
            out["x"] = httpx.ASGITransport(app=self.x_app)
        if self.sms_app is not None:
            out["sms"] = httpx.ASGITransport(app=self.sms_app)
        if self.processor_app is not None:
            out["processor"] = httpx.ASGITransport(app=self.processor_app)
        return out

    def _endpoints_x(self) -> tuple[str, str]:
        return self.X_URL, self.SMS_URL

    def _public_base_url(self) -> str:
        return self.PROCESSOR_URL

    def _service_clients(self) -> tuple[httpx.AsyncClient | None, httpx.AsyncClient | None]:
        return self._client(self.x_app, self.X_URL), self._client(self.sms_app, self.SMS_URL)

    async def _start_fakes(self) -> tuple[str, str]:
        to_processor = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.to_processor), timeout=30.0)
        callbacks = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.to_processor), timeout=30.0)
        self._clients.extend([to_processor, callbacks])
        self.x_app = create_x_app(
            self.x_backend,
            webhook_client=to_processor,
            retry_delays=(0.2, 0.5, 1.0),
            delivery_concurrency=self.delivery_concurrency,
        )
        smsc = self.options.smsc_config()
        self.sms_app = create_sms_app(self.sms_backend, callback_client=callbacks,
                                      smpp_port=None if smsc is None else 0, smpp_config=smsc)  # fmt: skip
        self.x_app.dispatcher.ensure_started()
        await self.sms_app.start()
        return self.X_URL, self.SMS_URL

    async def _start_processor(self, service: Service) -> str:
        await service.start()
        return self.PROCESSOR_URL

    async def _stop_all(self) -> None:
        await self._quiesce()
        if self.sms_app is not None:
            await self.sms_app.stop()
        if self.service is not None:
            await self.service.stop()
        if self.x_app is not None:
            await self.x_app.dispatcher.aclose()
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
