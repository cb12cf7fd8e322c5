"""``mock_twilio()``: the Twilio Messages fake (with its carrier model) answering for api.twilio.com.

Example::

    with mock_twilio() as sms:
        client = twilio.rest.Client(sms.account_sid, sms.auth_token)    # default host, unmodified
        sent = client.messages.create(to="+919812345678", from_=sms.short_code, body="code 123456",
                                      status_callback="https://shop.example/sms/status")
        sms.advance(120)                                   # carrier time: sent, then delivered
        assert client.messages(sent.sid).fetch().status == "delivered"
        assert [c.form["MessageStatus"] for c in sms.callbacks] == ["sending", "sent", "delivered"]

The carrier runs on a manual clock (``time_scale=`` makes it real time, that many times faster),
seeded (``seed=0``). Status callbacks go to apps mounted with
:meth:`~twittcom.testing.base.FakeMock.mount`, or are recorded (:attr:`FakeSms.callbacks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from fake_sms import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_LONG_CODE,
    DEFAULT_SERVICE_SID,
    DEFAULT_SHORT_CODE,
    FakeSmsApp,
    ManualClock,
    ScaledClock,
    SmsBackend,
    create_app,
    sign,
)
from twittcom.testing.base import FakeMock
from twittcom.testing.intercept import INTERCEPTOR, OtherHosts
from twittcom.testing.outbound import OutboundRequest, OutboundTransport

__all__ = ["TWILIO_HOSTS", "FakeSms", "mock_twilio"]

#: the client's default host (leave ``TWILIO_EDGE``/``TWILIO_REGION`` unset: regional hosts are not served)
TWILIO_HOSTS = ("api.twilio.com",)


class FakeSms(FakeMock):
    """A fresh fake Twilio gateway for the duration of a ``with`` block or decorated call.

    Options: ``seed`` (0), ``config`` (fake_sms's configuration mapping: carrier, senders,
    retention...), ``time_scale`` (``None``, the default: a manual carrier clock moved by
    :meth:`advance`; a number: real time that many times faster).
    """

    name = "fake SMS"
    hosts = TWILIO_HOSTS
    control_base = "https://api.twilio.com"
    account_sid = DEFAULT_ACCOUNT_SID
    auth_token = DEFAULT_AUTH_TOKEN
    short_code = DEFAULT_SHORT_CODE
    long_code = DEFAULT_LONG_CODE
    service_sid = DEFAULT_SERVICE_SID

    def __init__(
        self,
        *,
        seed: int = 0,
        config: Mapping[str, Any] | None = None,
        time_scale: float | None = None,
        other_hosts: OtherHosts = "fail",
    ) -> None:
        super().__init__(other_hosts=other_hosts, seed=seed, config=config, time_scale=time_scale)
        self.backend: SmsBackend | None = None
        self._outbound: OutboundTransport | None = None
        self._client: httpx.AsyncClient | None = None

    def _build(self) -> FakeSmsApp:
        opts = self.options
        scale = opts["time_scale"]
        clock = ManualClock() if scale is None else ScaledClock(float(scale))
        self.backend = SmsBackend(clock=clock, seed=opts["seed"], config=opts["config"])
        self._outbound = OutboundTransport(INTERCEPTOR, self.name)
        self._client = httpx.AsyncClient(transport=self._outbound, timeout=30.0)
        return create_app(self.backend, callback_client=self._client)

    async def _start(self) -> None:
        await self.app.start()

    async def _stop(self) -> None:
        await self.app.stop()
        if self._client is not None:
            await self._client.aclose()

    # state and control, as Python calls ----------------------------------------------------------
    def advance(self, seconds: float) -> int:
        """Move carrier time (manual clock) and wait until the status callbacks it caused are
        posted; the number of transitions processed."""
        app = self.app

        async def step() -> int:
            processed = app.backend.advance(seconds)
            await app.dispatcher.drain()
            return int(processed)

        result: int = self.loop.run(step())
        return result

    def drain(self) -> None:
        """Wait until every pending status callback is posted."""
        self.loop.run(self.app.dispatcher.drain())

    @property
    def callbacks(self) -> list[OutboundRequest]:
        """The status callbacks this fake posted, in order (``.form`` has Twilio's parameters)."""
        return [r for r in self.sent if r.method == "POST"]

    @property
    def sent(self) -> list[OutboundRequest]:
        return list(self._outbound.sent) if self._outbound is not None else []

    def signature_valid(self, callback: OutboundRequest) -> bool:
        """Whether ``X-Twilio-Signature`` is what Twilio computes for this callback."""
        expected = sign(callback.url, callback.form, self.auth_token)
        return callback.headers.get("x-twilio-signature") == expected

    def handset(self, number: str) -> list[dict[str, Any]]:
        """What the phone ``number`` received (delivered messages), oldest first."""
        data: dict[str, Any] = self.control("GET", f"/_fake/handsets/{number}/messages")
        messages: list[dict[str, Any]] = data["messages"]
        return messages

    def register_handsets(self, numbers: Mapping[str, str]) -> int:
        """Put numbers in telecom circles (``{"+9198...": "MH"}``) for per-circle outages."""
        data: dict[str, Any] = self.control("POST", "/_fake/handsets", {"numbers": dict(numbers)})
        return int(data["registered"])

    def messages(self, to: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Every message sent through the fake (newest first), with its carrier history."""
        query = f"?limit={limit}" + (f"&to={to}" if to else "")
        data: dict[str, Any] = self.control("GET", "/_fake/outbox" + query)
        messages: list[dict[str, Any]] = data["messages"]
        return messages

    def configure(self, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Patch the configuration (carrier, senders, retention, faults), as ``PATCH /_fake/config``."""
        config: dict[str, Any] = self.control("PATCH", "/_fake/config", dict(patch))
        return config

    def set_faults(self, *, api_error_rate: float = 0.0, api_latency_ms: float = 0.0) -> dict[str, Any]:
        faults: dict[str, Any] = self.control(
            "PUT", "/_fake/faults", {"api_error_rate": api_error_rate, "api_latency_ms": api_latency_ms}
        )
        return faults

    def add_outage(self, circle: str, start: float | None = None, duration: float | None = None) -> Any:
        """A carrier outage in ``circle`` from ``start`` (carrier seconds; now by default) for
        ``duration`` seconds (open-ended by default); receipts are held until it ends."""
        body: dict[str, Any] = {"circle": circle}
        if start is not None:
            body["start"] = start
        if duration is not None:
            body["duration"] = duration
        return self.control("POST", "/_fake/outages", body)

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.control("GET", "/_fake/counters")
        return counters


def mock_twilio(**options: Any) -> FakeSms:
    """A fresh :class:`FakeSms` for api.twilio.com: ``with mock_twilio() as sms:``,
    ``async with``, or ``@mock_twilio()`` on a sync or async function. Other hosts are refused
    (``other_hosts="pass"`` lets them through)."""
    return FakeSms(**options)
