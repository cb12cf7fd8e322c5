"""Account Activity webhooks: the registry, CRC and signature maths, and v1.1-shaped payloads.

* CRC (docs x-api/webhooks/quickstart): ``GET <url>?crc_token=T`` must answer JSON
  ``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, T))}``.
* Every delivery carries ``x-twitter-webhooks-signature: sha256=<base64(HMAC-SHA256(consumer_secret,
  raw body))>``.
* Payloads (docs x-api/account-activity/introduction): ``for_user_id`` plus one event array,
  ``tweet_create_events`` (v1.1 tweets; ``user_has_blocked: "false"`` when the user is mentioned) or
  ``direct_message_events`` with ``apps`` and ``users`` (an object keyed by id), or
  ``tweet_delete_events`` when a subscribed user deletes a tweet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fake_twitter.models import AppCredentials, DmEvent, Hashtag, Mention, Tweet, User, Webhook

__all__ = [
    "WebhookRegistry",
    "crc_response_token",
    "dm_event_payload",
    "sign_body",
    "tweet_delete_payload",
    "tweet_event_payload",
    "v1_time",
]


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    digest = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def sign_body(consumer_secret: str, body: bytes) -> str:
    digest = hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def v1_time(epoch: float) -> str:
    """v1.1's ``created_at``: ``Mon May 19 14:01:46 +0000 2025``."""
    return time.strftime("%a %b %d %H:%M:%S +0000 %Y", time.gmtime(epoch))


@dataclass(slots=True)
class WebhookRegistry:
    """Webhooks of the app and the users subscribed to them (X allows one webhook per app here)."""

    webhooks: dict[int, Webhook]
    subscribed_users: dict[int, int]  # user id -> webhook id

    def __init__(self) -> None:
        self.webhooks = {}
        self.subscribed_users = {}

    def add(self, webhook: Webhook) -> None:
        self.webhooks[webhook.id] = webhook

    def remove(self, webhook_id: int) -> bool:
        webhook = self.webhooks.pop(webhook_id, None)
        if webhook is None:
            return False
        for user_id in webhook.subscribed_user_ids:
            self.subscribed_users.pop(user_id, None)
        return True

    def subscribe(self, webhook_id: int, user_id: int) -> None:
        self.webhooks[webhook_id].subscribed_user_ids.add(user_id)
        self.subscribed_users[user_id] = webhook_id

    def unsubscribe(self, webhook_id: int, user_id: int) -> bool:
        webhook = self.webhooks[webhook_id]
        if user_id not in webhook.subscribed_user_ids:
            return False
        webhook.subscribed_user_ids.discard(user_id)
        self.subscribed_users.pop(user_id, None)
        return True


def _v1_user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "id_str": str(user.id),
        "name": user.name,
        "screen_name": user.username,
        "location": None,
        "url": None,
        "description": user.description,
        "protected": user.protected,
        "verified": user.verified,
        "followers_count": 0,
        "friends_count": 0,
        "listed_count": 0,
        "favourites_count": 0,
        "statuses_count": 0,
        "created_at": v1_time(user.created_at),
        "default_profile_image": True,
    }


def _v1_entities(text: str, hashtags: tuple[Hashtag, ...], mentions: tuple[Mention, ...]) -> dict[str, Any]:
    return {
        "hashtags": [{"text": h.tag, "indices": [h.start, h.end]} for h in hashtags],
        "urls": [],
        "user_mentions": [
            {
                "screen_name": m.username,
                "name": m.username,
                "id": m.user_id,
                "id_str": str(m.user_id) if m.user_id is not None else None,
                "indices": [m.start, m.end],
            }
            for m in mentions
        ],
        "symbols": [],
    }


def tweet_event_payload(tweet: Tweet, for_user_id: int, users: Mapping[int, User]) -> dict[str, Any]:
    author = users[tweet.author_id]
    v1: dict[str, Any] = {
        "created_at": v1_time(tweet.created_at),
        "id": tweet.id,
        "id_str": str(tweet.id),
        "text": tweet.text,
        "source": '<a href="https://example.invalid/fake" rel="nofollow">fake_twitter</a>',
        "truncated": False,
        "in_reply_to_status_id": tweet.in_reply_to_tweet_id,
        "in_reply_to_status_id_str": None
        if tweet.in_reply_to_tweet_id is None
        else str(tweet.in_reply_to_tweet_id),
        "in_reply_to_user_id": tweet.in_reply_to_user_id,
        "in_reply_to_user_id_str": None
        if tweet.in_reply_to_user_id is None
        else str(tweet.in_reply_to_user_id),
        "in_reply_to_screen_name": None
        if tweet.in_reply_to_user_id is None or tweet.in_reply_to_user_id not in users
        else users[tweet.in_reply_to_user_id].username,
        "user": _v1_user(author),
        "is_quote_status": tweet.quote_tweet_id is not None,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": _v1_entities(tweet.text, tweet.hashtags, tweet.mentions),
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": str(int(tweet.created_at * 1000)),
    }
    payload: dict[str, Any] = {"for_user_id": str(for_user_id)}
    if any(m.user_id == for_user_id for m in tweet.mentions):
        payload["user_has_blocked"] = "false"
    payload["tweet_create_events"] = [v1]
    return payload


def tweet_delete_payload(tweet: Tweet, now: float) -> dict[str, Any]:
    """``tweet_delete_events`` for the author (docs: status id, user id, timestamp_ms)."""
    return {
        "for_user_id": str(tweet.author_id),
        "tweet_delete_events": [
            {
                "status": {"id": str(tweet.id), "user_id": str(tweet.author_id)},
                "timestamp_ms": str(int(now * 1000)),
            }
        ],
    }


def dm_event_payload(
    event: DmEvent, for_user_id: int, users: Mapping[int, User], app: AppCredentials
) -> dict[str, Any]:
    app_id = str(app.app_id)
    message: dict[str, Any] = {
        "type": "message_create",
        "id": str(event.id),
        "created_timestamp": str(int(event.created_at * 1000)),
        "message_create": {
            "target": {"recipient_id": str(event.recipient_id)},
            "sender_id": str(event.sender_id),
            "source_app_id": app_id,
            "message_data": {
                "text": event.text,
                "entities": _v1_entities(event.text, event.hashtags, event.mentions),
            },
        },
    }
    involved = {event.sender_id, event.recipient_id}
    return {
        "for_user_id": str(for_user_id),
        "direct_message_events": [message],
        "apps": {app_id: {"id": app_id, "name": app.name, "url": "https://example.invalid/fake"}},
        "users": {
            str(uid): {
                "id": str(uid),
                "created_timestamp": str(int(users[uid].created_at * 1000)),
                "name": users[uid].name,
                "screen_name": users[uid].username,
                "protected": users[uid].protected,
                "verified": users[uid].verified,
                "followers_count": 0,
                "friends_count": 0,
                "statuses_count": 0,
                "profile_image_url_https": "https://abs.twimg.com/sticky/default_profile_images/default_profile.png",
            }
            for uid in sorted(involved)
        },
    }
