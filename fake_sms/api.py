"""The Twilio Messages API as a raw ASGI handler (the hot path, kept lean for throughput).

Routes (all under ``/2010-04-01/Accounts/{AccountSid}``, HTTP Basic ``AccountSid:AuthToken``):

* ``POST   /Messages.json``          create (form: To, From | MessagingServiceSid, Body,
  StatusCallback, ValidityPeriod) -> 201
* ``GET    /Messages.json``          list (To, From, DateSent, DateSent<, DateSent>, PageSize, Page)
* ``GET    /Messages/{Sid}.json``    fetch
* ``POST   /Messages/{Sid}.json``    update: ``Body=""`` redacts the stored body (30400 otherwise)
* ``DELETE /Messages/{Sid}.json``    delete -> 204

Injected faults (``/_fake/faults``) apply here: added latency, a 500 error rate, and the account's
concurrent-request cap (20429) which only bites while requests overlap (e.g. with added latency).
Every :class:`~fake_sms.exceptions.TwilioError` becomes Twilio's JSON error body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from .exceptions import (
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    TooManyRequestsError,
    TwilioError,
)
from .models import SmsBackend
from .senders import Account

__all__ = ["ASGIReceive", "ASGISend", "Scope", "TwilioApi", "form", "send_json", "send_raw_json"]

Scope = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PREFIX = "/2010-04-01/Accounts/"
_JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


async def send_json(send: ASGISend, status: int, payload: Any) -> None:
    body = _dumps(payload).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_raw_json(send: ASGISend, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: ASGIReceive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


def _decode(raw: bytes) -> str:
    if b"%" in raw or b"+" in raw:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def form(raw: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` -> dict (last value wins), without urllib's overhead."""
    fields: dict[str, str] = {}
    if raw:
        for pair in raw.split(b"&"):
            if pair:
                name, _, value = pair.partition(b"=")
                fields[_decode(name)] = _decode(value)
    return fields


class TwilioApi:
    """ASGI callable for ``/2010-04-01/...`` bound to one :class:`SmsBackend`."""

    def __init__(self, backend: SmsBackend) -> None:
        self.backend = backend

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        backend = self.backend
        try:
            raw = await _read_body(receive)
            status, payload = await self._dispatch(scope, raw)
        except TwilioError as exc:
            backend.counters[f"api_error_{exc.code}"] += 1
            await send_json(send, exc.status, exc.to_json())
            return
        if payload is None:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        elif isinstance(payload, bytes):
            await send_raw_json(send, status, payload)
        else:
            await send_json(send, status, payload)

    async def _dispatch(self, scope: Scope, raw: bytes) -> tuple[int, Any]:
        path: str = scope["path"]
        rest = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        account_sid, _, resource = rest.partition("/")
        if not account_sid or not resource.startswith("Messages"):
            raise NotFoundError(f"The requested resource {path} was not found")
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        backend = self.backend
        account = backend.authenticate(authorization, account_sid)
        account.inflight += 1
        try:
            if account.inflight > account.max_concurrent:
                raise TooManyRequestsError()
            faults = backend.faults
            if faults.api_latency_s:
                await asyncio.sleep(faults.api_latency_s)
            if faults.api_error_rate and backend.fault_random.random() < faults.api_error_rate:
                raise InternalServerError()
            return self._operation(scope["method"], path, resource, account, raw, scope)
        finally:
            account.inflight -= 1

    def _operation(
        self, method: str, path: str, resource: str, account: Account, raw: bytes, scope: Scope
    ) -> tuple[int, Any]:
        backend = self.backend
        dates = backend.dates
        if resource == "Messages.json":
            if method == "POST":
                return 201, backend.create_message(account, form(raw)).to_json_bytes(dates)
            if method == "GET":
                query = form(scope.get("query_string", b""))
                return 200, backend.list_messages(account, query, path)
            raise MethodNotAllowedError()
        if resource.startswith("Messages/") and resource.endswith(".json") and resource.count("/") == 1:
            sid = resource[len("Messages/") : -len(".json")]
            if method == "GET":
                return 200, backend.fetch_message(account, sid).to_json_bytes(dates)
            if method == "DELETE":
                backend.delete_message(account, sid)
                return 204, None
            if method == "POST":
                return 200, backend.update_message(account, sid, form(raw)).to_json_bytes(dates)
            raise MethodNotAllowedError()
        raise NotFoundError(f"The requested resource {path} was not found")
