"""Account Activity deliveries built and signed the way X does, for scenarios that play X's part
(a delivery repeated, a delivery while X is failing) or an attacker's (a forged signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from twittcom.qa.client import XUser

__all__ = ["sign", "tweet_delivery"]


def sign(body: bytes, consumer_secret: str) -> str:
    """``x-twitter-webhooks-signature``: ``sha256=`` + base64 HMAC-SHA256 of the body."""
    digest = hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def tweet_delivery(for_user_id: str, tweet_id: str, author: XUser, text: str, mentioned: XUser) -> bytes:
    """The JSON body of a ``tweet_create_events`` delivery of one tweet mentioning ``mentioned``."""
    at = text.find("@" + mentioned.username)
    tweet: dict[str, Any] = {
        "created_at": time.strftime("%a %b %d %H:%M:%S +0000 %Y", time.gmtime()),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "truncated": False,
        "user": {
            "id": int(author.id),
            "id_str": author.id,
            "screen_name": author.username,
            "name": author.username,
        },
        "entities": {
            "hashtags": [],
            "user_mentions": [
                {
                    "id": int(mentioned.id),
                    "id_str": mentioned.id,
                    "screen_name": mentioned.username,
                    "indices": [max(at, 0), max(at, 0) + len(mentioned.username) + 1],
                }
            ],
        },
        "timestamp_ms": str(int(time.time() * 1000)),
    }
    return json.dumps({"for_user_id": for_user_id, "tweet_create_events": [tweet]}).encode()
