"""The control API under ``/_fake/`` (separate from the emulated Twilio API, as moto's ``/moto-api``).

==========================================  ==============================================================
``POST   /_fake/reset``                     forget everything since start-up (restores ``--config``)
``POST   /_fake/seed``                      ``{"seed": 42}``: re-seed sids, latencies, outcomes, faults
``GET    /_fake/config``                    effective configuration (carrier model, senders, faults ...)
``PATCH  /_fake/config``                    deep-merge a config patch (see :mod:`fake_sms.config`)
``POST   /_fake/senders``                   ``{"account_sid"?, "senders": [...], "services": [...]}``
``POST   /_fake/handsets``                  ``{"numbers": {"+919812345678": "DL", ...}}`` number -> circle
``GET    /_fake/handsets/{number}/messages``  what the phone received: sid, from, body, carrier_time,
                                            date, wall_time, created (carrier seconds the gateway
                                            created it; null once evicted). ``?after=<wall s>``: only
                                            later ones; ``&wait=<s>`` (at most 60): long-poll, answer
                                            as soon as one arrives, or empty after ``wait``
``GET    /_fake/outbox``                    newest messages first with carrier details (``?to=&limit=``)
``GET    /_fake/messages/{sid}``            a message with its carrier-side details (circle, latency ...)
``GET    /_fake/outages``                   outage windows
``POST   /_fake/outages``                   ``{"circle": "DL", "start"?: s, "end"?: s, "duration"?: s}``
                                            (carrier seconds; start defaults to now, no end = until removed)
``DELETE /_fake/outages/{id}``              end an outage now; held messages are retried
``GET    /_fake/faults``, ``PUT``           ``{"api_latency_ms": 50, "api_error_rate": 0.01}``
``GET    /_fake/clock``                     carrier time, mode, time scale
``POST   /_fake/clock/advance``             ``{"seconds": 30}`` (manual clock only)
``PUT    /_fake/clock``                     ``{"time_scale": 10}`` (real-time clock only)
``GET    /_fake/counters``                  live counters: transitions, errors, backlogs, memory,
                                            ``handset_waits`` (long-polls parked now)
``GET    /_fake/callbacks``                 the last status callbacks posted and their HTTP results
==========================================  ==============================================================

Errors use Twilio's JSON error shape.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .callbacks import CallbackDispatcher
from .clock import ScaledClock
from .exceptions import ControlError, TwilioError
from .messages import Message
from .models import SmsBackend
from .senders import DEFAULT_ACCOUNT_SID
from .waiters import MAX_WAIT_S, HandsetWaiters

__all__ = ["ROUTES", "ControlRoutes", "build_control_app"]


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise ControlError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def _refuse_constant(name: str) -> float:
    """Python's json reads NaN/Infinity (not JSON); a NaN duration or clock step would break time."""
    raise ValueError(f"{name} is not a JSON number")


def _number(data: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ControlError(f"{key} is required")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ControlError(f"{key} must be a number") from exc
    if not math.isfinite(number):
        raise ControlError(f"{key} must be a finite number")
    return number


async def _disconnect(request: Request) -> None:
    """Return once the client of ``request`` has gone (its body, if any, is read and dropped)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


#: the control routes: path, handler (a method of :class:`ControlRoutes`), methods
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/_fake/reset", "reset", ("POST",)),
    ("/_fake/seed", "seed", ("POST",)),
    ("/_fake/config", "get_config", ("GET",)),
    ("/_fake/config", "patch_config", ("PATCH", "PUT")),
    ("/_fake/senders", "senders", ("POST",)),
    ("/_fake/handsets", "handsets", ("POST",)),
    ("/_fake/handsets/{number}/messages", "handset_messages", ("GET",)),
    ("/_fake/outbox", "outbox", ("GET",)),
    ("/_fake/messages/{sid}", "message_detail", ("GET",)),
    ("/_fake/outages", "outages", ("GET", "POST")),
    ("/_fake/outages/{outage_id}", "delete_outage", ("DELETE",)),
    ("/_fake/faults", "faults", ("GET", "PUT")),
    ("/_fake/clock", "clock", ("GET", "PUT")),
    ("/_fake/clock/advance", "advance", ("POST",)),
    ("/_fake/counters", "counters", ("GET",)),
    ("/_fake/callbacks", "callbacks", ("GET",)),
)


class ControlRoutes:
    """The handlers of :data:`ROUTES` over one backend, its callback dispatcher and the long-polls
    parked on its handsets (it never sees the app that mounts it)."""

    def __init__(self, sms: SmsBackend, dispatcher: CallbackDispatcher) -> None:
        self.sms = sms
        self.dispatcher = dispatcher
        self.waiters = HandsetWaiters()
        sms.final_listeners.append(self.waiters)

    async def reset(self, request: Request) -> Response:
        self.sms.reset()
        return JSONResponse({"reset": True})

    async def seed(self, request: Request) -> Response:
        value = _number(await _json(request), "seed", required=True)
        self.sms.seed(int(value or 0))
        return JSONResponse({"seed": int(value or 0)})

    async def get_config(self, request: Request) -> Response:
        return JSONResponse(self.sms.describe())

    async def patch_config(self, request: Request) -> Response:
        return JSONResponse(self.sms.configure(await _json(request)))

    async def senders(self, request: Request) -> Response:
        data = await _json(request)
        entry = {"sid": data.get("account_sid", DEFAULT_ACCOUNT_SID)}
        for key in ("senders", "services", "max_concurrent", "auth_token"):
            if key in data:
                entry[key] = data[key]
        return JSONResponse(self.sms.configure({"accounts": [entry]})["accounts"])

    async def handsets(self, request: Request) -> Response:
        numbers = (await _json(request)).get("numbers")
        if not isinstance(numbers, dict):
            raise ControlError('expected {"numbers": {"+91...": "circle"}}')
        return JSONResponse({"registered": self.sms.register_handsets(numbers)})

    def _received(self, number: str, after: float | None) -> list[dict[str, Any]]:
        b = self.sms
        found = []
        for r in b.handset_messages(number):
            if after is None or r.wall_time > after:
                item = r.to_json()
                m = b.messages.get(r.sid)
                item["created"] = None if m is None else m.created_us / 1e6
                found.append(item)
        return found

    async def handset_messages(self, request: Request) -> Response:
        number = request.path_params["number"]
        query = dict(request.query_params)
        after = _number(query, "after")
        wait = _number(query, "wait") or 0.0
        if not 0.0 <= wait <= MAX_WAIT_S:
            raise ControlError(f"wait must be between 0 and {MAX_WAIT_S:g} seconds")
        found = self._received(number, after)
        if not found and wait > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            gone = asyncio.ensure_future(_disconnect(request))  # a client that left frees its wait
            try:
                while not found and not gone.done() and (left := deadline - loop.time()) > 0:
                    woken = asyncio.ensure_future(self.waiters.wait(number, left))
                    await asyncio.wait((woken, gone), return_when=asyncio.FIRST_COMPLETED)
                    woken.cancel()
                    found = self._received(number, after)
            finally:
                gone.cancel()
        return JSONResponse({"number": number, "messages": found})

    def _detailed(self, m: Message) -> dict[str, Any]:
        detail = m.to_json(self.sms.dates)
        detail["carrier"] = {
            "circle": m.circle,
            "encoding": m.encoding,
            "validity_period": m.validity_s,
            "created": m.created_us / 1e6,
            "sending": None if m.sending_us is None else m.sending_us / 1e6,
            "sent": None if m.sent_us is None else m.sent_us / 1e6,
            "done": None if m.done_us is None else m.done_us / 1e6,
            "latency": m.latency_us / 1e6,
            "held_in_outage": m.held,
        }
        return detail

    async def message_detail(self, request: Request) -> Response:
        self.sms.run_due()
        m = self.sms.messages.get(request.path_params["sid"])
        if m is None:
            raise ControlError("no such message (unknown or evicted)")
        return JSONResponse(self._detailed(m))

    async def outbox(self, request: Request) -> Response:
        b = self.sms
        b.run_due()
        to = request.query_params.get("to")
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError as exc:
            raise ControlError("limit must be an integer") from exc
        found: list[dict[str, Any]] = []
        for m in reversed(b.messages.values()):
            if len(found) >= limit:
                break
            if to is None or m.to == to:
                found.append(self._detailed(m))
        return JSONResponse({"messages": found})

    async def outages(self, request: Request) -> Response:
        b = self.sms
        if request.method == "GET":
            return JSONResponse({"outages": [o.to_json() for o in b.engine.outages.values()]})
        data = await _json(request)
        circle = data.get("circle")
        if not isinstance(circle, str) or not circle:
            raise ControlError("circle is required")
        start = _number(data, "start")
        end = _number(data, "end")
        duration = _number(data, "duration")
        if duration is not None:
            end = (start if start is not None else b.clock.now()) + duration
        outage = b.add_outage(circle, start, end)
        return JSONResponse(outage.to_json(), status_code=201)

    async def delete_outage(self, request: Request) -> Response:
        try:
            outage_id = int(request.path_params["outage_id"])
        except ValueError as exc:
            raise ControlError("outage id must be an integer") from exc
        outage = self.sms.remove_outage(outage_id)
        self.dispatcher.pump()
        return JSONResponse(outage.to_json())

    async def faults(self, request: Request) -> Response:
        b = self.sms
        if request.method == "PUT":
            b.configure({"faults": await _json(request)})
        return JSONResponse(b.faults.to_json())

    async def clock(self, request: Request) -> Response:
        b = self.sms
        if request.method == "PUT":
            scale = _number(await _json(request), "time_scale", required=True)
            if not isinstance(b.clock, ScaledClock):
                raise ControlError("the manual clock has no time scale; use /_fake/clock/advance")
            if scale is None or scale <= 0:
                raise ControlError("time_scale must be positive")
            b.clock.set_scale(scale)
        next_event = b.engine.next_event_us()
        return JSONResponse(
            {
                "carrier_time": b.clock.now(),
                "manual": b.clock.manual,
                "time_scale": getattr(b.clock, "time_scale", None),
                "epoch": b.clock.epoch.isoformat(),
                "next_event": None if next_event is None else next_event / 1e6,
            }
        )

    async def advance(self, request: Request) -> Response:
        seconds = _number(await _json(request), "seconds", required=True) or 0.0
        processed = self.sms.advance(seconds)
        self.dispatcher.pump()
        return JSONResponse({"carrier_time": self.sms.clock.now(), "processed": processed})

    async def counters(self, request: Request) -> Response:
        return JSONResponse({**self.sms.live_counters(), "handset_waits": len(self.waiters)})

    async def callbacks(self, request: Request) -> Response:
        return JSONResponse({"callbacks": [c.to_json() for c in self.dispatcher.log]})


async def _on_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwilioError)
    return JSONResponse(exc.to_json(), status_code=exc.status)


async def _on_http(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 400)
    code = {404: 20404, 405: 20004}.get(status, 20001)
    body = {
        "code": code,
        "message": f"{request.method} {request.url.path}: {getattr(exc, 'detail', 'bad request')}",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)


def build_control_app(sms: SmsBackend, dispatcher: CallbackDispatcher) -> Starlette:
    """The Starlette app serving ``/_fake/...`` over ``sms`` and its callback ``dispatcher``
    (:data:`ROUTES` over :class:`ControlRoutes`; it never sees the app that mounts it)."""
    handlers = ControlRoutes(sms, dispatcher)
    routes: list[BaseRoute] = [
        Route(path, getattr(handlers, name), methods=list(methods)) for path, name, methods in ROUTES
    ]
    return Starlette(routes=routes, exception_handlers={TwilioError: _on_error, 404: _on_http, 405: _on_http})
