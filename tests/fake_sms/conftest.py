"""Fixtures for the SMS fake: a manual-clock backend, and the app served by uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeSmsApp, ManualClock, SmsBackend, create_app


@pytest.fixture
def backend() -> SmsBackend:
    return SmsBackend(clock=ManualClock(), seed=7)


@pytest.fixture
def account(backend: SmsBackend):
    return backend.accounts[DEFAULT_ACCOUNT_SID]


@dataclass
class Served:
    app: FakeSmsApp
    base_url: str

    @property
    def backend(self) -> SmsBackend:
        return self.app.backend


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The fake (manual clock) served by uvicorn in a thread on a free loopback port."""
    app = create_app(SmsBackend(clock=ManualClock(), seed=11))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    yield Served(app, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def twilio_client(served: Served, monkeypatch: pytest.MonkeyPatch):
    """The official twilio client, unmodified, pointed at the served fake."""
    from twilio.rest import Client

    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    served.backend.reset()
    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    client.api.base_url = served.base_url
    return client
