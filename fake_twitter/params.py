"""Query-parameter checks with X's own error messages (precompiled, no per-request schema work).

Both spellings of the newer spec are accepted: ``tweet.fields`` (2.159, tweepy) and ``post.fields``
(2.167, xdk), likewise ``referenced_tweets``/``referenced_posts`` and the edit-history names.
"""

from __future__ import annotations

import re
from datetime import datetime

from fake_twitter.exceptions import InvalidRequest, invalid_parameter
from fake_twitter.snowflake import TWITTER_EPOCH_MS
from fake_twitter.timeline import decode_token

__all__ = [
    "DM_EVENT_FIELDS",
    "DM_EXPANSIONS",
    "EVENT_TYPES",
    "MAX_ID",
    "TWEET_EXPANSIONS",
    "TWEET_FIELDS",
    "USER_FIELDS",
    "check_known",
    "parse_csv",
    "parse_id",
    "parse_int_range",
    "parse_time",
    "parse_token",
    "time_to_id",
    "tweet_fields",
]

_ID = re.compile(r"^[0-9]{1,19}$")
MAX_ID = 2**63

TWEET_FIELDS = frozenset(
    "article attachments author_id card_uri community_id context_annotations conversation_id created_at "
    "display_text_range edit_controls edit_history_tweet_ids edit_history_post_ids entities geo id "
    "in_reply_to_user_id lang media_metadata non_public_metrics note_tweet organic_metrics "
    "possibly_sensitive promoted_metrics public_metrics referenced_tweets referenced_posts reply_settings "
    "scopes source suggested_source_links suggested_source_links_with_counts text withheld".split()
)
USER_FIELDS = frozenset(
    "affiliation confirmed_email connection_status created_at description entities id is_identity_verified "
    "location most_recent_tweet_id most_recent_post_id name parody pinned_tweet_id pinned_post_id "
    "profile_banner_url profile_image_url protected public_metrics receives_your_dm subscription "
    "subscription_type url username verified verified_followers_count verified_type withheld".split()
)
TWEET_EXPANSIONS = frozenset(
    "article.cover_media article.media_entities attachments.media_keys attachments.media_source_tweet "
    "attachments.poll_ids author_id edit_history_tweet_ids edit_history_post_ids entities.mentions.username "
    "geo.place_id in_reply_to_user_id entities.note.mentions.username referenced_tweets.id "
    "referenced_tweets.id.attachments.media_keys referenced_tweets.id.author_id referenced_posts.id "
    "referenced_posts.id.author_id".split()
)
DM_EVENT_FIELDS = frozenset(
    "attachments created_at dm_conversation_id entities event_type id participant_ids referenced_tweets "
    "referenced_posts sender_id text".split()
)
DM_EXPANSIONS = frozenset("attachments.media_keys participant_ids referenced_tweets.id sender_id".split())
EVENT_TYPES = frozenset(("MessageCreate", "ParticipantsJoin", "ParticipantsLeave"))
USER_EXPANSIONS = frozenset(("pinned_tweet_id", "most_recent_tweet_id", "affiliation.user_id"))


def _names(allowed: frozenset[str]) -> str:
    return ",".join(sorted(allowed))


def check_known(query: dict[str, str], allowed: frozenset[str]) -> None:
    for name in query:
        if name not in allowed:
            raise InvalidRequest(
                [
                    {
                        "parameters": {name: [query[name]]},
                        "message": f"The query parameter [{name}] is not one of [{_names(allowed)}]",
                    }
                ]
            )


def parse_id(name: str, value: str, *, kind: str = "query") -> int:
    if not _ID.match(value):
        raise invalid_parameter(
            name, value, f"The `{name}` {kind} parameter value [{value}] does not match ^[0-9]{{1,19}}$"
        )
    return int(value)


def parse_int_range(name: str, value: str | None, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise invalid_parameter(
            name, value, f"The `{name}` query parameter value [{value}] is not between {low} and {high}"
        )
    return int(value)


def parse_csv(name: str, value: str | None, allowed: frozenset[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value.split(",")
    for item in items:
        if item not in allowed:
            raise invalid_parameter(
                name,
                item,
                f"The `{name}` query parameter value [{item}] is not one of [{','.join(sorted(allowed))}]",
            )
    return frozenset(items)


_FIELDS_MEMO: dict[tuple[str | None, str | None], frozenset[str]] = {}


def tweet_fields(query: dict[str, str]) -> frozenset[str]:
    """``tweet.fields`` and ``post.fields`` merged; 2.167 names (``referenced_posts``) answer in kind.

    Memoised per raw value, so equal requests share one frozenset (tweets' view caches then hit
    on identity).
    """
    key = (query.get("tweet.fields"), query.get("post.fields"))
    fields = _FIELDS_MEMO.get(key)
    if fields is not None:
        return fields
    fields = parse_csv("tweet.fields", key[0], TWEET_FIELDS)
    if key[1] is not None:
        fields = fields | parse_csv("post.fields", key[1], TWEET_FIELDS)
    if len(_FIELDS_MEMO) > 1024:
        _FIELDS_MEMO.clear()
    _FIELDS_MEMO[key] = fields
    return fields


def parse_time(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid_parameter(
            name, value, f"The `{name}` query parameter value [{value}] is not a valid RFC 3339 date-time"
        )
    return moment.timestamp()


def time_to_id(epoch: float) -> int:
    """The smallest snowflake id minted at or after ``epoch``."""
    return max(0, int(epoch * 1000) - TWITTER_EPOCH_MS) << 22


def parse_token(value: str | None) -> int | None:
    if value is None:
        return None
    until = decode_token(value)
    if until is None:
        raise invalid_parameter(
            "pagination_token", value, f"The `pagination_token` query parameter value [{value}] is not valid"
        )
    return until
