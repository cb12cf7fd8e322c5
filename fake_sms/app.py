"""ASGI app factory of the SMS fake: Twilio routes, ``/_fake/`` control, real-time driver, callbacks.

``create_app()`` returns a :class:`FakeSmsApp`, an ASGI callable that dispatches on the path prefix:
``/2010-04-01/`` to the raw-ASGI Twilio handler (:mod:`fake_sms.api`), ``/_fake/`` to the Starlette
control app (:mod:`fake_sms.control`), anything else to a Twilio-style 404. On ASGI lifespan startup
(or ``async with app:`` in tests) it starts

* the callback dispatcher (:mod:`fake_sms.callbacks`), and
* the real-time driver: a task that advances the carrier schedule as the scaled clock moves and
  hands new callbacks to the dispatcher. With a manual clock it only pumps callbacks.

Example::

    backend = SmsBackend(clock=ManualClock(), seed=7)
    app = create_app(backend, callback_client=httpx.AsyncClient(transport=...))
    async with app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sms") as c:
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from .api import PREFIX, ASGIReceive, ASGISend, Scope, TwilioApi, send_json
from .callbacks import CallbackDispatcher
from .clock import ScaledClock
from .control import build_control_app
from .exceptions import NotFoundError
from .models import SmsBackend
from .smpp import SmppServer, Smsc

__all__ = ["FakeSmsApp", "create_app", "create_app_from_env"]

log = logging.getLogger(__name__)


class FakeSmsApp:
    """The served fake: one backend, its Twilio API, its control API and its background tasks."""

    def __init__(
        self,
        backend: SmsBackend,
        callback_client: httpx.AsyncClient | None = None,
        *,
        tick_s: float = 0.02,
        callback_workers: int = 8,
        smpp_port: int | None = None,
        smpp_config: dict[str, Any] | None = None,
    ) -> None:
        self.backend = backend
        #: the SMSC on its own loopback port (``smpp_port``; 0 picks a free one), started with the app
        self.smsc: Smsc | None = None
        self.smpp: SmppServer | None = None
        if smpp_port is not None:
            self.smsc = Smsc(backend, smpp_config)
            self.smpp = SmppServer(self.smsc, "127.0.0.1", smpp_port)
        self.dispatcher = CallbackDispatcher(backend, callback_client, workers=callback_workers)
        self.api = TwilioApi(backend)
        self.control = build_control_app(backend, self.dispatcher)
        self.tick_s = tick_s
        self.batch = 5_000
        self._driver: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith(PREFIX):
                await self.api(scope, receive, send)
            elif path.startswith("/_fake/"):
                await self.control(scope, receive, send)
            else:
                error = NotFoundError(f"The requested resource {path} was not found")
                await send_json(send, error.status, error.to_json())
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: ASGIReceive, send: ASGISend) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        """Start the callback workers and the real-time driver (idempotent)."""
        self.dispatcher.start()
        if self._driver is None:
            self._driver = asyncio.create_task(self._drive())
            if self.smpp is not None:
                await self.smpp.start()

    async def stop(self) -> None:
        if self.smpp is not None:
            await self.smpp.stop()
        if self._driver is not None:
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
            self._driver = None
        self.dispatcher.pump()
        await self.dispatcher.stop()

    async def __aenter__(self) -> FakeSmsApp:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _drive(self) -> None:
        backend = self.backend
        while True:
            clock = backend.clock
            try:
                # bounded batches keep the event loop responsive when a fast clock makes many due
                if backend.engine.run_until(clock.now_us(), limit=self.batch) == self.batch:
                    self.dispatcher.pump()
                    await asyncio.sleep(0)
                    continue
                self.dispatcher.pump()
            except Exception:  # a bug in one transition must not stop the carrier clock
                backend.counters["driver_errors"] += 1
                log.exception("fake_sms real-time driver")
            delay = self.tick_s
            nxt = backend.engine.next_event_us()
            if nxt is not None and isinstance(clock, ScaledClock):
                delay = min(delay, max(0.001, clock.wall_seconds_until(nxt)))
            await asyncio.sleep(delay)


def create_app(
    backend: SmsBackend | None = None,
    *,
    callback_client: httpx.AsyncClient | None = None,
    time_scale: float = 1.0,
    seed: int = 0,
    config: Mapping[str, Any] | None = None,
    tick_s: float = 0.02,
    smpp_port: int | None = None,
    smpp_config: dict[str, Any] | None = None,
) -> FakeSmsApp:
    """The SMS fake as an ASGI app. Without ``backend`` a real-time one is built (``ScaledClock``
    at ``time_scale``, ``seed``, ``config``); pass a backend with a ``ManualClock`` for tests.
    With ``smpp_port`` (0: a free port) the app also serves the SMSC over SMPP 3.4 on loopback
    (:mod:`fake_sms.smpp`, ``smpp_config`` its systems), started and stopped with the app."""
    if backend is None:
        backend = SmsBackend(clock=ScaledClock(time_scale), seed=seed, config=config)
    return FakeSmsApp(backend, callback_client, tick_s=tick_s, smpp_port=smpp_port, smpp_config=smpp_config)


def create_app_from_env() -> FakeSmsApp:
    """Factory for ``uvicorn --factory fake_sms.app:create_app_from_env``: ``FAKE_SMS_SEED``,
    ``FAKE_SMS_TIME_SCALE`` and ``FAKE_SMS_CONFIG`` (a TOML/JSON path) from the environment."""
    from .config import load_config_file

    path = os.environ.get("FAKE_SMS_CONFIG")
    return create_app(
        seed=int(os.environ.get("FAKE_SMS_SEED", "0")),
        time_scale=float(os.environ.get("FAKE_SMS_TIME_SCALE", "1")),
        config=load_config_file(path) if path else None,
    )
