"""A served fake SMSC: the SMS fake's backend on a fast scaled clock, its driver and the SMPP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from fake_sms import FakeSmsApp, ScaledClock, SmsBackend, create_app
from fake_sms.smpp import SmppServer, Smsc


@dataclass
class ServedSmsc:
    app: FakeSmsApp
    smsc: Smsc
    server: SmppServer
    port: int


async def serve_smsc(config: dict | None = None, *, time_scale: float = 600.0) -> ServedSmsc:
    backend = SmsBackend(clock=ScaledClock(time_scale), seed=3)
    app = create_app(backend, tick_s=0.005)
    smsc = Smsc(backend, config)
    server = SmppServer(smsc)
    await app.start()
    port = await server.start()
    return ServedSmsc(app, smsc, server, port)


@pytest.fixture
async def served() -> AsyncIterator[ServedSmsc]:
    served = await serve_smsc()
    yield served
    await served.server.stop()
    await served.app.stop()
