"""The Message record and its Twilio JSON form (fields, RFC 2822 dates, price, status, error)."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from .clock import US_PER_S

__all__ = [
    "API_VERSION",
    "FINAL_STATUSES",
    "Message",
    "RFC2822Dates",
    "format_price",
]

API_VERSION = "2010-04-01"
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled"})


_encode: Callable[[str], str] = (
    getattr(json.encoder, "c_encode_basestring", None) or json.encoder.encode_basestring
)


def _str(value: str | None) -> str:
    return "null" if value is None else _encode(value)


def format_price(paise: int) -> str:
    """Twilio reports a charge as a negative decimal string, e.g. 25 paise -> ``"-0.25000"``."""
    return f"-{paise // 100}.{paise % 100:02d}000"


class RFC2822Dates:
    """Carrier microseconds -> RFC 2822 date strings (``Thu, 01 Jan 2026 00:00:04 +0000``), cached
    per whole second because the same second is formatted thousands of times under load."""

    def __init__(self, epoch: datetime) -> None:
        self.epoch = epoch
        self._cache: dict[int, str] = {}

    def datetime(self, t_us: int) -> datetime:
        return self.epoch + timedelta(microseconds=t_us)

    def __call__(self, t_us: int | None) -> str | None:
        if t_us is None:
            return None
        second = t_us // US_PER_S
        text = self._cache.get(second)
        if text is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            text = format_datetime(self.epoch + timedelta(seconds=second))
            self._cache[second] = text
        return text


@dataclass(slots=True, eq=False)
class Message:
    """One outbound message and everything the carrier model decided about it at creation.

    ``from_`` is what Twilio reports: ``None`` for a Messaging Service send until a sender is
    assigned (the move from ``accepted`` to ``queued``), when it becomes ``sender``, the pool member
    chosen at creation. ``body`` is the stored record (``""`` once redacted); ``content`` is the text
    the carrier hands to the phone, which a redaction does not change."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    num_segments: int
    encoding: str
    circle: str
    validity_s: int
    status_callback: str | None
    created_us: int
    status: str = "queued"
    updated_us: int = 0
    sending_us: int | None = None
    sent_us: int | None = None
    done_us: int | None = None
    price_paise: int | None = None
    price_unit: str = "INR"
    error_code: int | None = None
    error_message: str | None = None
    # drawn from the seeded RNG at creation, so the outcome does not depend on event order
    latency_us: int = 0
    retry_latency_us: int = 0
    planned_error: int | None = None
    held: bool = False
    gen: int = 0  # bumped to cancel this message's pending events
    sender: str = ""
    content: str = ""

    @property
    def reported_segments(self) -> int:
        """``num_segments`` as Twilio reports it: 0 until a sender is assigned (Messaging Service)."""
        return 0 if self.from_ is None else self.num_segments

    @property
    def expires_us(self) -> int:
        return self.created_us + self.validity_s * US_PER_S

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json_bytes(self, dates: RFC2822Dates) -> bytes:
        """The same document as :meth:`to_json`, serialised by hand for the hot path (only the
        caller-supplied strings go through the JSON encoder)."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        sent = dates(self.sent_us)
        error = "null" if self.error_code is None else str(self.error_code)
        return (
            f'{{"account_sid":"{self.account_sid}","api_version":"{API_VERSION}","body":{_str(self.body)},'
            f'"date_created":"{dates(self.created_us)}","date_sent":{"null" if sent is None else _str(sent)},'
            f'"date_updated":"{dates(self.updated_us)}","direction":"outbound-api","error_code":{error},'
            f'"error_message":{_str(self.error_message)},"from":{_str(self.from_)},'
            f'"messaging_service_sid":{_str(self.messaging_service_sid)},"num_media":"0",'
            f'"num_segments":"{self.reported_segments}","price":'
            f"{'null' if self.price_paise is None else _str(format_price(self.price_paise))},"
            f'"price_unit":{_str(self.price_unit)},"sid":"{self.sid}","status":"{self.status}",'
            f'"subresource_uris":{{"media":"{base}/Media.json","feedback":"{base}/Feedback.json"}},'
            f'"to":{_str(self.to)},"uri":"{base}.json"}}'
        ).encode()

    def to_json(self, dates: RFC2822Dates) -> dict[str, Any]:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": dates(self.created_us),
            "date_sent": dates(self.sent_us),
            "date_updated": dates(self.updated_us),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.reported_segments),
            "price": None if self.price_paise is None else format_price(self.price_paise),
            "price_unit": self.price_unit,
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": f"{base}.json",
        }
