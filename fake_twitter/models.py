"""Plain records of the fake: users, tweets, DM events, webhooks, app credentials, callers.

State and behaviour live in :class:`fake_twitter.backend.TwitterBackend`; these are data only.
Ids are ints inside the fake and strings on the wire, as in X's API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import twitter_text

__all__ = [
    "APP_ONLY",
    "OAUTH1_USER",
    "OAUTH2_USER",
    "AppCredentials",
    "DmEvent",
    "Hashtag",
    "Mention",
    "Principal",
    "Tweet",
    "User",
    "Webhook",
    "WebhookEvent",
    "extract_hashtags",
]


#: X's names of the authentication types (the wording of its 403 unsupported-authentication detail).
APP_ONLY = "OAuth 2.0 Application-Only"
OAUTH1_USER = "OAuth 1.0a User Context"
OAUTH2_USER = "OAuth 2.0 User Context"


def extract_hashtags(text: str) -> tuple[Hashtag, ...]:
    """Hashtag entities of ``text`` (twitter-text rules); cheap when there is no hash sign."""
    if "#" not in text and "\uff03" not in text:
        return ()
    return tuple(Hashtag(e.start, e.end, e.value) for e in twitter_text.extract_hashtags_with_indices(text))


@dataclass(slots=True)
class User:
    id: int
    username: str
    name: str
    created_at: float
    bearer_token: str
    access_token: str
    access_token_secret: str
    description: str = ""
    protected: bool = False
    verified: bool = False


@dataclass(slots=True, frozen=True)
class Hashtag:
    start: int
    end: int
    tag: str


@dataclass(slots=True, frozen=True)
class Mention:
    start: int
    end: int
    username: str
    user_id: int | None


@dataclass(slots=True)
class Tweet:
    """A tweet; ``hashtags`` is computed on first use (most tweets are never read with entities)."""

    id: int
    text: str
    author_id: int
    created_at: float
    conversation_id: int
    mentions: tuple[Mention, ...] = ()
    in_reply_to_tweet_id: int | None = None
    in_reply_to_user_id: int | None = None
    quote_tweet_id: int | None = None
    _hashtags: tuple[Hashtag, ...] | None = None
    #: the last v2 JSON rendering and the fields it was made for (tweets never change after creation)
    json_cache: tuple[frozenset[str], bytes] | None = None

    @property
    def hashtags(self) -> tuple[Hashtag, ...]:
        if self._hashtags is None:
            self._hashtags = extract_hashtags(self.text)
        return self._hashtags


@dataclass(slots=True)
class DmEvent:
    id: int
    event_type: str
    sender_id: int
    recipient_id: int
    dm_conversation_id: str
    created_at: float
    text: str = ""
    hashtags: tuple[Hashtag, ...] = ()
    mentions: tuple[Mention, ...] = ()
    media_ids: tuple[str, ...] = ()

    @property
    def participant_ids(self) -> tuple[int, int]:
        return (self.sender_id, self.recipient_id)


@dataclass(slots=True)
class AppCredentials:
    """The one X app (project) the fake serves; its consumer secret signs webhooks and CRCs."""

    app_id: int
    name: str
    consumer_key: str
    consumer_secret: str
    bearer_token: str


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling: the app alone (``user_id is None``) or the app on behalf of a user, and
    for a user whether the request was signed with OAuth 1.0a (``oauth1``) or carried the user's
    OAuth 2.0 bearer token. X's spec allows different flavours per route (``POST /2/webhooks``:
    OAuth 1.0a user context or app-only, never an OAuth 2.0 user token)."""

    app_id: int
    user_id: int | None
    oauth1: bool = False

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    @property
    def auth_type(self) -> str:
        """X's name for how the caller authenticated, as its unsupported-authentication detail says it."""
        if self.user_id is None:
            return APP_ONLY
        return OAUTH1_USER if self.oauth1 else OAUTH2_USER


@dataclass(slots=True)
class Webhook:
    id: int
    url: str
    created_at: float
    valid: bool = True
    subscribed_user_ids: set[int] = field(default_factory=set)
    crc_checked_at: float = 0.0


@dataclass(slots=True, frozen=True)
class WebhookEvent:
    """One Account Activity delivery waiting to be POSTed: the user it is for and its JSON body."""

    for_user_id: int
    kind: str
    payload: dict[str, Any]
