"""What a request asks to see: checked field and expansion lists, with the fields expansions imply.

X returns the field an expansion hangs off even when ``*.fields`` does not name it: a lookup with
``expansions=author_id`` alone answers ``author_id`` in each post (tweepy's ``Tweet.author_id``
relies on it), ``sender_id`` in each DM event for ``expansions=sender_id``, and so on. Selections are
memoised per raw query values, so equal requests share one frozenset and the tweets' cached
renderings hit on identity.
"""

from __future__ import annotations

from dataclasses import dataclass

from fake_twitter.params import (
    DM_EVENT_FIELDS,
    DM_EXPANSIONS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_EXPANSIONS,
    USER_FIELDS,
    check_lists,
    parse_csv,
)

__all__ = [
    "DM_IMPLIED",
    "TWEET_IMPLIED",
    "DmSelection",
    "TweetSelection",
    "dm_selection",
    "tweet_selection",
    "user_selection",
]

#: expansion -> the post field it expands (returned with the post whenever the expansion is asked)
TWEET_IMPLIED: dict[str, str] = {
    "author_id": "author_id",
    "in_reply_to_user_id": "in_reply_to_user_id",
    "referenced_tweets.id": "referenced_tweets",
    "referenced_tweets.id.author_id": "referenced_tweets",
    "referenced_tweets.id.attachments.media_keys": "referenced_tweets",
    "referenced_posts": "referenced_posts",
    "referenced_posts.id": "referenced_posts",
    "referenced_posts.id.author_id": "referenced_posts",
    "entities.mentions.username": "entities",
    "attachments.media_keys": "attachments",
    "attachments.poll_ids": "attachments",
    "geo.place_id": "geo",
}
#: DM expansion -> the DM event field it expands
DM_IMPLIED: dict[str, str] = {
    "sender_id": "sender_id",
    "participant_ids": "participant_ids",
    "referenced_tweets.id": "referenced_tweets",
    "referenced_posts": "referenced_posts",
    "attachments.media_keys": "attachments",
}

_TWEET_KEYS = (
    "tweet.fields",
    "post.fields",
    "expansions",
    "user.fields",
    "media.fields",
    "poll.fields",
    "place.fields",
)
_DM_KEYS = ("dm_event.fields", "expansions", "user.fields", "tweet.fields", "post.fields", "media.fields")
_MEMO_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class TweetSelection:
    """Post fields to render (asked + implied), expansions, and fields of included users."""

    fields: frozenset[str]
    expansions: frozenset[str]
    user_fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class DmSelection:
    fields: frozenset[str]
    expansions: frozenset[str]
    user_fields: frozenset[str]


_TWEET_MEMO: dict[tuple[str | None, ...], TweetSelection] = {}
_DM_MEMO: dict[tuple[str | None, ...], DmSelection] = {}


def _implied(expansions: frozenset[str], table: dict[str, str]) -> frozenset[str]:
    return frozenset(table[e] for e in expansions if e in table)


def tweet_selection(query: dict[str, str]) -> TweetSelection:
    """Check every fields/expansions list of a post operation (400 in X's format) and select."""
    key = tuple(query.get(k) for k in _TWEET_KEYS)
    found = _TWEET_MEMO.get(key)
    if found is not None:
        return found
    check_lists(query, TWEET_EXPANSIONS)
    fields = parse_csv("tweet.fields", key[0], TWEET_FIELDS) | parse_csv("post.fields", key[1], TWEET_FIELDS)
    expansions = parse_csv("expansions", key[2], TWEET_EXPANSIONS)
    implied = _implied(expansions, TWEET_IMPLIED)
    if not implied <= fields:
        fields = fields | implied
    selection = TweetSelection(fields, expansions, parse_csv("user.fields", key[3], USER_FIELDS))
    if len(_TWEET_MEMO) > _MEMO_LIMIT:
        _TWEET_MEMO.clear()
    _TWEET_MEMO[key] = selection
    return selection


def dm_selection(query: dict[str, str]) -> DmSelection:
    """Check every fields/expansions list of a DM events operation and select."""
    key = tuple(query.get(k) for k in _DM_KEYS)
    found = _DM_MEMO.get(key)
    if found is not None:
        return found
    check_lists(query, DM_EXPANSIONS)
    fields = parse_csv("dm_event.fields", key[0], DM_EVENT_FIELDS)
    expansions = parse_csv("expansions", key[1], DM_EXPANSIONS)
    fields = fields | _implied(expansions, DM_IMPLIED)
    selection = DmSelection(fields, expansions, parse_csv("user.fields", key[2], USER_FIELDS))
    if len(_DM_MEMO) > _MEMO_LIMIT:
        _DM_MEMO.clear()
    _DM_MEMO[key] = selection
    return selection


def user_selection(query: dict[str, str]) -> frozenset[str]:
    """Check every fields/expansions list of a user lookup; the user fields to render."""
    check_lists(query, USER_EXPANSIONS)
    return parse_csv("user.fields", query.get("user.fields"), USER_FIELDS)
