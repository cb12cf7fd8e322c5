"""Fixtures for the SMS fake: a manual-clock backend, and the app served by uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def serve_in_thread(app, lifespan: str = "on") -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free loopback port; yields the base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The fake (manual clock) served by uvicorn in a thread on a free loopback port."""
    app = create_app(SmsBackend(clock=ManualClock(), seed=11))
    with serve_in_thread(app) as base_url:
        yield Served(app, base_url)


class CallbackReceiver:
    """A raw ASGI app recording every request: (full URL, form body, headers)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = scope["query_string"].decode()
        url = f"http://{headers['host']}{scope['path']}" + (f"?{query}" if query else "")
        self.requests.append((url, body, headers))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[CallbackReceiver, str]]:
    """A status-callback receiver served on loopback: (recorder, base URL)."""
    recorder = CallbackReceiver()
    with serve_in_thread(recorder, lifespan="off") as base_url:
        yield recorder, base_url


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
