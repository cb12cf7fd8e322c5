"""The harness's ``/_stack/`` routes in front of the processor app, and the clock the processor follows.

A harness stack serves the processor's ASGI app behind :class:`StackControlApp`, which answers
``/_stack/...`` itself (behind the processor's admin token) and passes everything else through
untouched (lifespan included). QA scenarios use it for fixtures the processor's own API does not
offer, the way the fakes have ``/_fake/``:

======  ======================  ==============================================================
GET     /_stack/info            mode, ingestion, clock link, operator, SMS time scale, population
GET     /_stack/subscribers     ``?limit=&circle=``: sample directory entries of the seeded population
POST    /_stack/subscribers     ``{"subscribers": [{"msisdn", "circle", "balance_paise", "active"?,
                                "prepaid"?}]}``: add to the directory and register the handsets
======  ======================  ==============================================================

:class:`FollowingClock` makes the processor read fake X's clock, so advancing fake X's clock
(``POST /_fake/clock/advance``) also moves code expiry, send windows, retries and the write budget.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference.domain.circles import CIRCLE_CODES
from reference.domain.errors import InvalidPhoneNumber
from reference.domain.phone import normalise_mobile
from reference.domain.subscribers import Subscriber

__all__ = ["FollowingClock", "StackControlApp", "SubscriberSink"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: adds directory entries (and their handsets) to the running stack
SubscriberSink = Callable[[Sequence[Subscriber]], Awaitable[None]]

_PREFIX = "/_stack/"
_MAX_ENTRIES = 10_000


class FollowingClock:
    """The processor's clock (aware UTC ``now()``) read from another clock's Unix seconds."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self.seconds = seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.seconds(), UTC)


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def _subscriber(entry: object) -> Subscriber:
    if not isinstance(entry, dict):
        raise ValueError("each subscriber must be an object")
    try:
        msisdn = normalise_mobile(str(entry.get("msisdn", "")))
    except InvalidPhoneNumber as exc:
        raise ValueError(f"msisdn {entry.get('msisdn')!r} is not an Indian mobile number") from exc
    circle = str(entry.get("circle", "")).upper()
    if circle not in CIRCLE_CODES:
        raise ValueError(f"circle {circle!r} is not one of {', '.join(CIRCLE_CODES)}")
    balance = entry.get("balance_paise")
    if not isinstance(balance, int) or isinstance(balance, bool) or balance < 0:
        raise ValueError("balance_paise must be a non-negative integer (paise)")
    active, prepaid = entry.get("active", True), entry.get("prepaid", True)
    if not isinstance(active, bool) or not isinstance(prepaid, bool):
        raise ValueError("active and prepaid must be booleans")
    return Subscriber(msisdn, circle, balance, active, prepaid, str(entry.get("name", "")))


class StackControlApp:
    """ASGI: ``/_stack/`` here, everything else (and the lifespan) to ``inner``."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        admin_token: str,
        info: Callable[[], dict[str, Any]],
        sample: Callable[[str | None, int], list[dict[str, Any]]],
        add_subscribers: SubscriberSink,
    ) -> None:
        self.inner = inner
        self.admin_token = admin_token
        self.info = info
        self.sample = sample
        self.add_subscribers = add_subscribers
        self.control = Starlette(
            routes=[
                Route("/_stack/info", self._info, methods=["GET"]),
                Route("/_stack/subscribers", self._sample, methods=["GET"]),
                Route("/_stack/subscribers", self._add, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(_PREFIX):
            await self.control(scope, receive, send)
        else:
            await self.inner(scope, receive, send)

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {self.admin_token}".encode())

    async def _info(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "unauthorized", "a valid admin bearer token is required")
        return JSONResponse(self.info())

    async def _sample(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "unauthorized", "a valid admin bearer token is required")
        raw = request.query_params.get("limit", "20")
        if not raw.isdigit():
            return _error(400, "bad_request", "limit must be a non-negative integer")
        circle = request.query_params.get("circle")
        return JSONResponse({"subscribers": self.sample(circle.upper() if circle else None, int(raw))})

    async def _add(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "unauthorized", "a valid admin bearer token is required")
        try:
            body = orjson.loads(await request.body())
            entries = body.get("subscribers") if isinstance(body, dict) else None
            if not isinstance(entries, list) or not entries or len(entries) > _MAX_ENTRIES:
                raise ValueError(f'expected {{"subscribers": [...]}} with 1..{_MAX_ENTRIES} entries')
            subscribers = [_subscriber(entry) for entry in entries]
        except (orjson.JSONDecodeError, ValueError) as exc:
            return _error(400, "bad_request", str(exc))
        await self.add_subscribers(subscribers)
        return JSONResponse({"added": len(subscribers)}, status_code=201)
