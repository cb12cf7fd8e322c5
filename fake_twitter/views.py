"""X API v2 JSON shapes of users, tweets and DM events, with field selection and expansions."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from fake_twitter.models import DmEvent, Hashtag, Mention, Tweet, User

__all__ = [
    "dm_v2",
    "includes_for",
    "rfc3339",
    "timeline_body",
    "timeline_json",
    "tweet_json",
    "tweet_v2",
    "tweets_with_includes",
    "user_v2",
]


def rfc3339(epoch: float) -> str:
    """``2021-01-06T18:40:40.000Z`` as X writes times."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def _entities(hashtags: tuple[Hashtag, ...], mentions: tuple[Mention, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if hashtags:
        out["hashtags"] = [{"start": h.start, "end": h.end, "tag": h.tag} for h in hashtags]
    if mentions:
        items = []
        for m in mentions:
            item: dict[str, Any] = {"start": m.start, "end": m.end, "username": m.username}
            if m.user_id is not None:
                item["id"] = str(m.user_id)
            items.append(item)
        out["mentions"] = items
    return out


def tweet_v2(tweet: Tweet, fields: frozenset[str]) -> dict[str, Any]:
    """The v2 object with ``fields`` (a fresh dict)."""
    tid = str(tweet.id)
    data: dict[str, Any] = {"id": tid, "text": tweet.text, "edit_history_tweet_ids": [tid]}
    if not fields:
        return data
    if "author_id" in fields:
        data["author_id"] = str(tweet.author_id)
    if "created_at" in fields:
        data["created_at"] = rfc3339(tweet.created_at)
    if "conversation_id" in fields:
        data["conversation_id"] = str(tweet.conversation_id)
    if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id is not None:
        data["in_reply_to_user_id"] = str(tweet.in_reply_to_user_id)
    if "referenced_tweets" in fields or "referenced_posts" in fields:
        refs = []
        if tweet.in_reply_to_tweet_id is not None:
            refs.append({"type": "replied_to", "id": str(tweet.in_reply_to_tweet_id)})
        if tweet.quote_tweet_id is not None:
            refs.append({"type": "quoted", "id": str(tweet.quote_tweet_id)})
        if refs:
            if "referenced_tweets" in fields:
                data["referenced_tweets"] = refs
            if "referenced_posts" in fields:
                data["referenced_posts"] = refs
    if "edit_history_post_ids" in fields:
        data["edit_history_post_ids"] = [tid]
    if "entities" in fields and (tweet.hashtags or tweet.mentions):
        data["entities"] = _entities(tweet.hashtags, tweet.mentions)
    if "lang" in fields:
        data["lang"] = "en"
    if "possibly_sensitive" in fields:
        data["possibly_sensitive"] = False
    if "reply_settings" in fields:
        data["reply_settings"] = "everyone"
    if "public_metrics" in fields:
        data["public_metrics"] = {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        }
    return data


def user_v2(user: User, fields: frozenset[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(user.id), "name": user.name, "username": user.username}
    if not fields:
        return data
    if "created_at" in fields:
        data["created_at"] = rfc3339(user.created_at)
    if "description" in fields:
        data["description"] = user.description
    if "protected" in fields:
        data["protected"] = user.protected
    if "verified" in fields:
        data["verified"] = user.verified
    if "profile_image_url" in fields:
        data["profile_image_url"] = (
            "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
        )
    if "public_metrics" in fields:
        data["public_metrics"] = {
            "followers_count": 0,
            "following_count": 0,
            "tweet_count": 0,
            "listed_count": 0,
        }
    return data


def dm_v2(event: DmEvent, fields: frozenset[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(event.id), "event_type": event.event_type, "text": event.text}
    if not fields:
        return data
    if "sender_id" in fields:
        data["sender_id"] = str(event.sender_id)
    if "dm_conversation_id" in fields:
        data["dm_conversation_id"] = event.dm_conversation_id
    if "participant_ids" in fields:
        data["participant_ids"] = [str(event.sender_id), str(event.recipient_id)]
    if "created_at" in fields:
        data["created_at"] = rfc3339(event.created_at)
    if "entities" in fields:
        data.update(_entities(event.hashtags, event.mentions))
    if "attachments" in fields and event.media_ids:
        data["attachments"] = {"media_keys": [f"3_{m}" for m in event.media_ids]}
    return data


def tweet_json(tweet: Tweet, fields: frozenset[str]) -> bytes:
    """The v2 object as JSON bytes, cached on the tweet for its last field set (tweets never change;
    bytes cost a few hundred bytes a tweet, far less than keeping the dict)."""
    cached = tweet.json_cache
    if cached is not None and (cached[0] is fields or cached[0] == fields):
        return cached[1]
    # orjson's bytes keep a ~4 KiB allocation; an exact-size copy is what gets kept per tweet
    encoded = bytes(memoryview(orjson.dumps(tweet_v2(tweet, fields))))
    tweet.json_cache = (fields, encoded)
    return encoded


def timeline_json(
    tweets: list[Tweet],
    fields: frozenset[str],
    expansions: frozenset[str],
    user_fields: frozenset[str],
    users: Mapping[int, User],
    all_tweets: Mapping[int, Tweet],
    next_token: str | None,
) -> bytes:
    """A timeline page as JSON bytes, joining the tweets' cached encodings (same shape as
    :func:`timeline_body`)."""
    if not tweets:
        meta: dict[str, Any] = {"result_count": 0}
        if next_token is not None:
            meta["next_token"] = next_token
        return orjson.dumps({"meta": meta})
    parts = [b'{"data":[', b",".join([tweet_json(t, fields) for t in tweets]), b"]"]
    if expansions:
        includes = includes_for(tweets, fields, expansions, user_fields, users, all_tweets)
        if includes:
            parts += [b',"includes":', orjson.dumps(includes)]
    meta = {"newest_id": str(tweets[0].id), "oldest_id": str(tweets[-1].id), "result_count": len(tweets)}
    if next_token is not None:
        meta["next_token"] = next_token
    parts += [b',"meta":', orjson.dumps(meta), b"}"]
    return b"".join(parts)


def tweets_with_includes(
    tweets: Iterable[Tweet],
    fields: frozenset[str],
    expansions: frozenset[str],
    user_fields: frozenset[str],
    users: Mapping[int, User],
    all_tweets: Mapping[int, Tweet],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``data`` list and the ``includes`` object (empty if nothing was expanded)."""
    tweets = list(tweets)
    data = [tweet_v2(t, fields) for t in tweets]
    return data, includes_for(tweets, fields, expansions, user_fields, users, all_tweets)


def includes_for(
    tweets: list[Tweet],
    fields: frozenset[str],
    expansions: frozenset[str],
    user_fields: frozenset[str],
    users: Mapping[int, User],
    all_tweets: Mapping[int, Tweet],
) -> dict[str, Any]:
    """The ``includes`` object for ``expansions`` of these tweets (empty if nothing was expanded)."""
    if not expansions:
        return {}
    user_ids: dict[int, None] = {}
    ref_ids: dict[int, None] = {}
    ref_authors = bool(expansions & {"referenced_tweets.id.author_id", "referenced_posts.id.author_id"})
    for t in tweets:
        if "author_id" in expansions:
            user_ids[t.author_id] = None
        if "in_reply_to_user_id" in expansions and t.in_reply_to_user_id is not None:
            user_ids[t.in_reply_to_user_id] = None
        if "entities.mentions.username" in expansions:
            for m in t.mentions:
                if m.user_id is not None:
                    user_ids[m.user_id] = None
        if ref_authors or expansions & {"referenced_tweets.id", "referenced_posts.id", "referenced_posts"}:
            for ref in (t.in_reply_to_tweet_id, t.quote_tweet_id):
                if ref is not None and ref in all_tweets:
                    ref_ids[ref] = None
                    if ref_authors:
                        user_ids[all_tweets[ref].author_id] = None
    includes: dict[str, Any] = {}
    found_users = [user_v2(users[u], user_fields) for u in user_ids if u in users]
    if found_users:
        includes["users"] = found_users
    if ref_ids:
        # a referenced post carries the fields asked for; its author_id when its author is expanded
        ref_fields = fields | {"author_id"} if ref_authors else fields
        includes["tweets"] = [tweet_v2(all_tweets[r], ref_fields) for r in ref_ids]
    return includes


def timeline_body(
    data: list[dict[str, Any]],
    includes: dict[str, Any],
    next_until: str | None,
    *,
    newest_oldest: bool = True,
) -> dict[str, Any]:
    """X's list envelope: ``data`` only when non-empty, ``includes`` when any, and ``meta``."""
    body: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    if data:
        body["data"] = data
        if newest_oldest:
            meta["newest_id"] = data[0]["id"]
            meta["oldest_id"] = data[-1]["id"]
    if includes:
        body["includes"] = includes
    meta["result_count"] = len(data)
    if next_until is not None:
        meta["next_token"] = next_until
    body["meta"] = meta
    return body
