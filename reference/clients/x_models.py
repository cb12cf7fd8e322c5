"""Typed results of the X API v2 client: tweets, DM events, users, webhooks, pages, rate limits.

Plain frozen dataclasses built from X's JSON by small ``from_json`` constructors; they hold no
behaviour beyond parsing, so pollers and the dispatcher can compare them in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

__all__ = [
    "CreatedTweet",
    "DmEvent",
    "DmEventsPage",
    "MentionsPage",
    "RateLimitState",
    "SentDm",
    "Tweet",
    "User",
    "Webhook",
    "parse_timestamp",
]


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 timestamp as X writes it (``2021-01-06T18:40:40.000Z``), or None if absent/bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _problems(body: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    errors = body.get("errors") or ()
    return tuple(dict(e) for e in errors if isinstance(e, Mapping))


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """The ``x-rate-limit-*`` headers of the last response from one endpoint."""

    limit: int
    remaining: int
    reset_at: int  # Unix time when the window refills

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitState | None:
        """Parse the three headers; None unless all three are present and numeric."""
        if isinstance(headers, httpx.Headers):
            # One pass over the raw pairs: three httpx.Headers lookups cost ~3x as much.
            found: dict[bytes, bytes] = {}
            for key, value in headers.raw:
                if key[:13].lower() == b"x-rate-limit-":
                    found[key[13:].lower()] = value
            try:
                return cls(int(found[b"limit"]), int(found[b"remaining"]), int(found[b"reset"]))
            except (KeyError, ValueError):
                return None
        try:
            return cls(
                limit=int(headers["x-rate-limit-limit"]),
                remaining=int(headers["x-rate-limit-remaining"]),
                reset_at=int(headers["x-rate-limit-reset"]),
            )
        except (KeyError, ValueError):
            return None

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        return cls(id=str(data["id"]), username=str(data.get("username", "")), name=str(data.get("name", "")))


@dataclass(frozen=True, slots=True)
class Tweet:
    """A tweet from a timeline; ``username`` comes from ``includes.users`` (expansions=author_id)."""

    id: str
    text: str
    author_id: str | None = None
    created_at: datetime | None = None
    username: str | None = None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], usernames: Mapping[str, str]) -> Tweet:
        author_id = _opt_str(data.get("author_id"))
        return cls(
            id=str(data["id"]),
            text=str(data.get("text", "")),
            author_id=author_id,
            created_at=parse_timestamp(data.get("created_at")),
            username=usernames.get(author_id) if author_id is not None else None,
            conversation_id=_opt_str(data.get("conversation_id")),
            in_reply_to_user_id=_opt_str(data.get("in_reply_to_user_id")),
        )


@dataclass(frozen=True, slots=True)
class MentionsPage:
    """One page of GET /2/users/:id/mentions; ``next_token`` is None on the last page."""

    tweets: tuple[Tweet, ...]
    newest_id: str | None
    oldest_id: str | None
    next_token: str | None
    result_count: int
    errors: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> MentionsPage:
        users = (body.get("includes") or {}).get("users") or ()
        usernames = {str(u["id"]): str(u.get("username", "")) for u in users if "id" in u}
        tweets = tuple(Tweet.from_json(t, usernames) for t in body.get("data") or ())
        meta = body.get("meta") or {}
        return cls(
            tweets=tweets,
            newest_id=_opt_str(meta.get("newest_id")),
            oldest_id=_opt_str(meta.get("oldest_id")),
            next_token=_opt_str(meta.get("next_token")),
            result_count=int(meta.get("result_count", len(tweets))),
            errors=_problems(body),
        )


@dataclass(frozen=True, slots=True)
class DmEvent:
    id: str
    event_type: str
    text: str | None
    sender_id: str | None
    dm_conversation_id: str | None
    created_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DmEvent:
        return cls(
            id=str(data["id"]),
            event_type=str(data.get("event_type", "MessageCreate")),
            text=_opt_str(data.get("text")),
            sender_id=_opt_str(data.get("sender_id")),
            dm_conversation_id=_opt_str(data.get("dm_conversation_id")),
            created_at=parse_timestamp(data.get("created_at")),
        )


@dataclass(frozen=True, slots=True)
class DmEventsPage:
    """One page of GET /2/dm_events (newest first; X gives no newest_id here)."""

    events: tuple[DmEvent, ...]
    next_token: str | None
    result_count: int
    errors: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> DmEventsPage:
        events = tuple(DmEvent.from_json(e) for e in body.get("data") or ())
        meta = body.get("meta") or {}
        return cls(
            events=events,
            next_token=_opt_str(meta.get("next_token")),
            result_count=int(meta.get("result_count", len(events))),
            errors=_problems(body),
        )


@dataclass(frozen=True, slots=True)
class CreatedTweet:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class SentDm:
    dm_conversation_id: str
    dm_event_id: str


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    valid: bool
    created_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Webhook:
        return cls(
            id=str(data["id"]),
            url=str(data.get("url", "")),
            valid=bool(data.get("valid", False)),
            created_at=parse_timestamp(data.get("created_at")),
        )
