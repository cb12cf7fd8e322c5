"""Message list filters (``To``, ``From``, ``DateSent``, ``DateSent<``, ``DateSent>``) and Twilio's
paging envelope (``page``, ``page_size``, ``start``, ``end``, ``uri``, ``first_page_uri``,
``next_page_uri``, ``previous_page_uri``), as read by twilio-python's ``Page``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from .exceptions import InvalidParameterError
from .messages import Message, RFC2822Dates

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "MessageFilter", "page_of"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
FILTER_KEYS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
T = TypeVar("T")


def _parse_when(raw: str) -> date | datetime:
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidParameterError(
            f"DateSent must be YYYY-MM-DD or an ISO 8601 datetime, not {raw!r}"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """The list filters of one request; dates compare by day for ``YYYY-MM-DD`` values."""

    to: str | None
    from_: str | None
    on: date | datetime | None
    before: date | datetime | None
    after: date | datetime | None
    dates: RFC2822Dates

    @classmethod
    def from_query(cls, query: Mapping[str, str], dates: RFC2822Dates) -> MessageFilter:
        def when(key: str) -> date | datetime | None:
            raw = query.get(key)
            return _parse_when(raw) if raw else None

        return cls(
            query.get("To"), query.get("From"), when("DateSent"), when("DateSent<"), when("DateSent>"), dates
        )

    def matches(self, m: Message) -> bool:
        if self.to is not None and m.to != self.to:
            return False
        if self.from_ is not None and m.from_ != self.from_:
            return False
        if self.on is None and self.before is None and self.after is None:
            return True
        if m.sent_us is None:
            return False
        sent = self.dates.datetime(m.sent_us)
        if self.on is not None and sent.date() != (
            self.on.date() if isinstance(self.on, datetime) else self.on
        ):
            return False
        if self.before is not None and not _cmp(sent, self.before, before=True):
            return False
        return self.after is None or _cmp(sent, self.after, before=False)


def _cmp(sent: datetime, bound: date | datetime, *, before: bool) -> bool:
    if isinstance(bound, datetime):
        return sent <= bound if before else sent >= bound
    return sent.date() <= bound if before else sent.date() >= bound


def _int(query: Mapping[str, str], key: str, default: int) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidParameterError(f"{key} must be an integer") from exc
    if value < 0:
        raise InvalidParameterError(f"{key} must be >= 0")
    return value


def page_of(items: Sequence[T], query: Mapping[str, str], path: str, key: str) -> dict[str, Any]:
    """One page of ``items`` under ``key`` with Twilio's paging fields (URIs relative to the host)."""
    size = min(max(_int(query, "PageSize", DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
    page = _int(query, "Page", 0)
    start = page * size
    chunk = list(items[start : start + size])
    filters = [(k, query[k]) for k in FILTER_KEYS if query.get(k)]

    def uri(n: int) -> str:
        return f"{path}?{urlencode([*filters, ('PageSize', size), ('Page', n)])}"

    has_next = start + size < len(items)
    return {
        key: chunk,
        "page": page,
        "page_size": size,
        "start": start,
        "end": start + len(chunk) - 1 if chunk else start,
        "uri": uri(page),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) + f"&PageToken=PA{start + size}" if has_next else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
    }
