"""``TwilioSmsClient``: sends SMS through Twilio's Programmable Messaging REST API (async).

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded (``To``, ``From`` or
``MessagingServiceSid``, ``Body``, ``StatusCallback``, ``ValidityPeriod``), HTTP Basic auth with
``AccountSid:AuthToken``, over an injected :class:`httpx.AsyncClient`. Twilio's error JSON
(``{"code", "message", "more_info", "status"}``) becomes the typed exceptions of
:mod:`reference.clients.errors`. It never retries by itself; wrap calls in a ``Retrier``.

``find_messages`` looks messages up in the account's message list (``GET .../Messages.json?To=``,
newest first, following ``next_page_uri``) by recipient and exact body, and ``fetch_message``
reads one (``GET .../Messages/{Sid}.json``): the dispatcher uses them to learn whether a send whose
outcome is unknown reached Twilio, and to reconcile delivery statuses whose callbacks were missed.

Usage::

    async with make_async_client("https://api.twilio.com") as http:
        sms = TwilioSmsClient(http, account_sid="AC...", auth_token="...", from_number="+15005550006")
        sent = await sms.send_sms("+919812345678", "Your Twittcom code is 123456")
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from reference.clients._http import BodySender, json_object, retry_after_hint
from reference.clients.errors import (
    TwilioError,
    TwilioInvalidNumber,
    TwilioQueueFull,
    TwilioServiceUnavailable,
    TwilioThrottled,
)

__all__ = [
    "MAX_VALIDITY_PERIOD",
    "SentSms",
    "TwilioSmsClient",
    "twilio_error_from_response",
]

MAX_VALIDITY_PERIOD = 36_000  # seconds; Twilio's default and maximum queue lifetime
_CODE_EXCEPTIONS: dict[int, type[TwilioError]] = {
    20429: TwilioThrottled,
    21611: TwilioQueueFull,
    21211: TwilioInvalidNumber,
}


@dataclass(frozen=True, slots=True)
class SentSms:
    """What Twilio answered for a created message."""

    sid: str
    status: str
    num_segments: int
    to: str | None = None
    error_code: int | None = None
    body: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SentSms:
        segments = body.get("num_segments")
        error_code = body.get("error_code")
        return cls(
            sid=str(body["sid"]),
            status=str(body.get("status", "queued")),
            num_segments=int(segments) if segments not in (None, "") else 1,
            to=None if body.get("to") is None else str(body["to"]),
            error_code=int(error_code) if error_code not in (None, "") else None,
            body=None if body.get("body") is None else str(body["body"]),
        )


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (value.strip().isascii() and value.strip().isdigit()):
        return int(value)
    return None


def twilio_error_from_response(response: httpx.Response) -> TwilioError:
    """Map a Twilio error response to the matching typed exception."""
    body = json_object(response) or {}
    code = _int_or_none(body.get("code"))
    status = _int_or_none(body.get("status")) or response.status_code
    message = str(body.get("message") or response.reason_phrase or "error")
    more_info = None if body.get("more_info") is None else str(body["more_info"])
    retry_after, _ = retry_after_hint(response.headers)
    cls = _CODE_EXCEPTIONS.get(code) if code is not None else None
    if cls is None:
        if response.status_code == 429:
            cls, code = TwilioThrottled, code if code is not None else 20429
        elif response.status_code >= 500:
            cls = TwilioServiceUnavailable
        else:
            cls = TwilioError
    return cls(code, message, status, more_info=more_info, retry_after=retry_after)


class TwilioSmsClient:
    """Async Twilio Messages client over an injected :class:`httpx.AsyncClient`.

    Arguments:
        http: the client to send through; its ``base_url`` is Twilio's origin
            (``https://api.twilio.com`` or a fake's loopback URL). The caller owns and closes it.
        account_sid, auth_token: the credentials (HTTP Basic auth).
        from_number / messaging_service_sid: the default sender (one of them, or per call).
        status_callback: default URL Twilio POSTs delivery status to.
        validity_period: default seconds a message may wait in Twilio's queue (1..36000).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        validity_period: int | None = None,
    ) -> None:
        self._http = http
        self.account_sid = account_sid
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self._headers = httpx.Headers({"Authorization": f"Basic {credentials}"})
        self._form = BodySender(http, self._headers, "application/x-www-form-urlencoded")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.validity_period = validity_period
        path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        base = str(http.base_url)
        self._origin = base.rstrip("/")
        self._messages_url: httpx.URL | str = httpx.URL(self._origin + path) if base else path

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        validity_period: int | None = None,
    ) -> SentSms:
        """Create a message; returns its sid, status and segment count."""
        form: dict[str, str] = {"To": to, "Body": body}
        sender = from_number or self.from_number
        service = messaging_service_sid or self.messaging_service_sid
        if service:
            form["MessagingServiceSid"] = service
        if sender:
            form["From"] = sender
        if not sender and not service:
            raise ValueError("a sender is required: from_number or messaging_service_sid")
        callback = status_callback or self.status_callback
        if callback:
            form["StatusCallback"] = callback
        validity = validity_period if validity_period is not None else self.validity_period
        if validity is not None:
            if not 1 <= validity <= MAX_VALIDITY_PERIOD:
                raise ValueError(f"validity_period must be within 1..{MAX_VALIDITY_PERIOD} s, got {validity}")
            form["ValidityPeriod"] = str(validity)
        response = await self._form.send("POST", self._messages_url, urlencode(form).encode("ascii"))
        if response.status_code >= 400:
            raise twilio_error_from_response(response)
        parsed = json_object(response)
        if parsed is None or "sid" not in parsed:
            raise TwilioError(None, "Twilio answered without a message sid", response.status_code)
        return SentSms.from_json(parsed)

    async def _get_json(self, path_and_query: str) -> dict[str, Any]:
        response = await self._http.get(self._origin + path_and_query, headers=self._headers)
        if response.status_code >= 400:
            raise twilio_error_from_response(response)
        parsed = json_object(response)
        if parsed is None:
            raise TwilioError(None, "Twilio answered without a JSON object", response.status_code)
        return parsed

    async def fetch_message(self, sid: str) -> SentSms:
        """``GET .../Messages/{sid}.json``: the message's current status and error code."""
        body = await self._get_json(f"/2010-04-01/Accounts/{self.account_sid}/Messages/{quote(sid)}.json")
        if "sid" not in body:
            raise TwilioError(None, "Twilio answered without a message sid", 200)
        return SentSms.from_json(body)

    async def find_messages(
        self, to: str, body: str, *, page_size: int = 100, max_pages: int = 5
    ) -> list[SentSms]:
        """Messages to ``to`` whose body is exactly ``body``, newest first, among the newest
        ``page_size * max_pages`` messages to ``to``. Lookup errors raise (the outcome stays unknown)."""
        query = urlencode({"To": to, "PageSize": str(page_size)})
        next_uri: str | None = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json?{query}"
        found: list[SentSms] = []
        for _ in range(max_pages):
            if not next_uri:
                break
            page = await self._get_json(next_uri)
            messages = page.get("messages")
            if not isinstance(messages, list):
                raise TwilioError(None, "Twilio's message list has no messages array", 200)
            found.extend(
                SentSms.from_json(entry)
                for entry in messages
                if isinstance(entry, dict)
                and entry.get("body") == body
                and entry.get("to") == to
                and "sid" in entry
            )
            raw_next = page.get("next_page_uri")
            next_uri = raw_next if isinstance(raw_next, str) and raw_next.startswith("/") else None
        return found
