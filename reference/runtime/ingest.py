"""Inbound events from X -> :class:`~reference.service.work_queue.NewEvent` rows for the queue.

* Account Activity webhook payloads (v1.1 shapes, ``x-api.md`` §3): ``for_user_id`` plus
  ``tweet_create_events`` (kept: tweets mentioning the operator, not by the operator, not
  retweets; long tweets read from ``extended_tweet.full_text``) or ``direct_message_events``
  (kept: ``message_create`` events sent to the operator by someone else; the sender's handle
  comes from the payload's ``users`` object keyed by id). Other event kinds are ignored.
* Polled pages (v2 shapes): mentions and DM events, with the same rules.

Anything malformed raises :class:`~reference.runtime.errors.BadPayload` (the webhook answers 400).
:func:`split_storable` sets apart events a store cannot hold (U+0000, which PostgreSQL ``text``
refuses, or a lone surrogate, which is not UTF-8): the service quarantines those alone instead of
letting them fail a whole group commit or stall the poller's cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from reference.clients.x_models import DmEvent, Tweet
from reference.runtime.errors import BadPayload
from reference.service.work_queue import NewEvent

__all__ = [
    "Operator",
    "events_from_dm_events",
    "events_from_mentions",
    "events_from_webhook",
    "split_storable",
    "unstorable",
]


class Operator:
    """The operator's account: numeric id and handle (compared case-insensitively)."""

    __slots__ = ("handle", "user_id")

    def __init__(self, user_id: str, handle: str) -> None:
        self.user_id = str(user_id)
        self.handle = handle.lstrip("@").casefold()

    def mentioned_in(self, tweet: Mapping[str, Any]) -> bool:
        entities = tweet.get("entities")
        if isinstance(tweet.get("extended_tweet"), Mapping):
            entities = tweet["extended_tweet"].get("entities", entities)
        if not isinstance(entities, Mapping) or not isinstance(entities.get("user_mentions"), list):
            return True  # no entities: the command parser checks the text for the mention
        for mention in entities["user_mentions"]:
            if not isinstance(mention, Mapping):
                continue
            if str(mention.get("id_str") or mention.get("id") or "") == self.user_id:
                return True
            if str(mention.get("screen_name") or "").casefold() == self.handle:
                return True
        return False


def _text(value: object, what: str) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
        return str(value)
    raise BadPayload(f"{what} is missing or not a string")


def _tweet_event(tweet: object, operator: Operator, now: datetime) -> NewEvent | None:
    if not isinstance(tweet, Mapping):
        raise BadPayload("tweet_create_events items must be objects")
    user = tweet.get("user")
    if not isinstance(user, Mapping):
        raise BadPayload("tweet without user")
    author_id = _text(user.get("id_str") or user.get("id"), "tweet user.id_str")
    tweet_id = _text(tweet.get("id_str") or tweet.get("id"), "tweet id_str")
    if author_id == operator.user_id or "retweeted_status" in tweet:
        return None
    text: object = tweet.get("text", tweet.get("full_text"))
    extended = tweet.get("extended_tweet")
    if tweet.get("truncated") and isinstance(extended, Mapping) and "full_text" in extended:
        text = extended["full_text"]
    if not isinstance(text, str):
        raise BadPayload("tweet text is missing")
    if not operator.mentioned_in(tweet):
        return None
    handle = str(user.get("screen_name") or author_id)
    return NewEvent("tweet", tweet_id, author_id, handle, text, now)


def _dm_event(event: object, users: Mapping[str, Any], operator: Operator, now: datetime) -> NewEvent | None:
    if not isinstance(event, Mapping):
        raise BadPayload("direct_message_events items must be objects")
    if event.get("type") != "message_create":
        return None
    create = event.get("message_create")
    if not isinstance(create, Mapping):
        raise BadPayload("message_create is missing")
    target = create.get("target")
    recipient = target.get("recipient_id") if isinstance(target, Mapping) else None
    sender_id = _text(create.get("sender_id"), "message_create.sender_id")
    event_id = _text(event.get("id"), "direct message id")
    if sender_id == operator.user_id or str(recipient) != operator.user_id:
        return None
    data = create.get("message_data")
    text = data.get("text") if isinstance(data, Mapping) else None
    if not isinstance(text, str):
        raise BadPayload("message_data.text is missing")
    sender = users.get(sender_id)
    handle = str(sender.get("screen_name") or sender_id) if isinstance(sender, Mapping) else sender_id
    return NewEvent("dm", event_id, sender_id, handle, text, now)


def events_from_webhook(payload: object, operator: Operator, now: datetime) -> list[NewEvent]:
    """The events of one Account Activity delivery that the processor must see."""
    if not isinstance(payload, Mapping):
        raise BadPayload("the body must be a JSON object")
    for_user = payload.get("for_user_id")
    if for_user is not None and str(for_user) != operator.user_id:
        return []  # another subscribed account's activity
    events: list[NewEvent] = []
    tweets = payload.get("tweet_create_events")
    if tweets is not None:
        if not isinstance(tweets, list):
            raise BadPayload("tweet_create_events must be a list")
        events.extend(e for e in (_tweet_event(t, operator, now) for t in tweets) if e is not None)
    dms = payload.get("direct_message_events")
    if dms is not None:
        if not isinstance(dms, list):
            raise BadPayload("direct_message_events must be a list")
        users = payload.get("users")
        users = users if isinstance(users, Mapping) else {}
        events.extend(e for e in (_dm_event(d, users, operator, now) for d in dms) if e is not None)
    return events


def events_from_mentions(tweets: Iterable[Tweet], operator: Operator, now: datetime) -> list[NewEvent]:
    """Polled mentions (GET /2/users/:id/mentions) other than the operator's own tweets."""
    return [
        NewEvent("tweet", t.id, t.author_id, t.username or t.author_id, t.text, now)
        for t in tweets
        if t.author_id is not None and t.author_id != operator.user_id
    ]


def events_from_dm_events(
    events: Iterable[DmEvent], operator: Operator, now: datetime, handles: Mapping[str, str]
) -> list[NewEvent]:
    """Polled DM events sent to the operator; ``handles`` maps known user ids to handles."""
    return [
        NewEvent("dm", e.id, e.sender_id, handles.get(e.sender_id, e.sender_id), e.text, now)
        for e in events
        if e.event_type == "MessageCreate" and e.sender_id and e.sender_id != operator.user_id
        and e.text is not None
    ]  # fmt: skip


_FIELDS = ("message_id", "author_id", "handle", "text")


def unstorable(event: NewEvent) -> str | None:
    """Why ``event`` cannot be stored as it is (``None`` when it can)."""
    for name in _FIELDS:
        value: str = getattr(event, name)
        if "\x00" in value:
            return f"{name} holds U+0000"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{name} is not valid UTF-8 (lone surrogate)"
    return None


def split_storable(events: Iterable[NewEvent]) -> tuple[list[NewEvent], list[tuple[NewEvent, str]]]:
    """``events`` as (storable ones, in order; refused ones with the reason)."""
    kept: list[NewEvent] = []
    refused: list[tuple[NewEvent, str]] = []
    for event in events:
        reason = unstorable(event)
        if reason is None:
            kept.append(event)
        else:
            refused.append((event, reason))
    return kept, refused
