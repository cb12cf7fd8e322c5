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
    "LIST_PARAMS",
    "MAX_ID",
    "MEDIA_FIELDS",
    "PLACE_FIELDS",
    "POLL_FIELDS",
    "TWEET_EXPANSIONS",
    "TWEET_FIELDS",
    "USER_EXPANSIONS",
    "USER_FIELDS",
    "WEBHOOK_CONFIG_FIELDS",
    "check_known",
    "check_lists",
    "parse_csv",
    "parse_id",
    "parse_int_range",
    "parse_time",
    "parse_token",
    "time_to_id",
]

_ID = re.compile(r"^[0-9]{1,19}$")
MAX_ID = 2**63

# Allowed values: the union of spec 2.159's and 2.167's enums for each parameter (a test checks them
# against both files), plus the 2.167 wire names this fake also answers under (``referenced_posts``,
# ``edit_history_post_ids``, ``*_post_id``), which xdk may send in a ``tweet.fields``-era list.
TWEET_FIELDS = frozenset(
    "article article_title attachments author_id card_uri community_id context_annotations conversation_id "
    "created_at display_text_range edit_controls edit_history_tweet_ids edit_history_post_ids entities geo "
    "id in_reply_to_user_id lang matched_media_notes media_metadata non_public_metrics note_post "
    "note_request_suggestions note_tweet organic_metrics paid_partnership possibly_sensitive "
    "promoted_metrics public_metrics referenced_tweets referenced_posts reply_settings scopes source "
    "suggested_source_links suggested_source_links_with_counts text withheld".split()
)
USER_FIELDS = frozenset(
    "affiliation confirmed_email connection_status created_at description entities id is_identity_verified "
    "location most_recent_tweet_id most_recent_post_id name parody pinned_tweet_id pinned_post_id "
    "profile_banner_url profile_image_url protected public_metrics receives_your_dm subscribes_to_you "
    "subscription subscription_type url username verified verified_followers_count verified_type "
    "withheld".split()
)
TWEET_EXPANSIONS = frozenset(
    "article.cover_media article.media_entities attachments.media_keys attachments.media_source_tweet "
    "attachments.poll_ids author_id edit_history_tweet_ids edit_history_post_ids entities.mentions.username "
    "geo.place_id in_reply_to_user_id entities.note.mentions.username referenced_tweets.id "
    "referenced_tweets.id.attachments.media_keys referenced_tweets.id.author_id referenced_posts "
    "referenced_posts.id referenced_posts.id.author_id username".split()
)
DM_EVENT_FIELDS = frozenset(
    "attachments created_at dm_conversation_id entities event_type id participant_ids referenced_tweets "
    "referenced_posts sender_id text".split()
)
DM_EXPANSIONS = frozenset(
    "attachments.media_keys participant_ids referenced_tweets.id referenced_posts sender_id".split()
)
EVENT_TYPES = frozenset(("MessageCreate", "ParticipantsJoin", "ParticipantsLeave"))
USER_EXPANSIONS = frozenset(
    "affiliation affiliation.user_id most_recent_tweet_id most_recent_post_id pinned_tweet_id "
    "pinned_post_id".split()
)
MEDIA_FIELDS = frozenset(
    "alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url "
    "promoted_metrics public_metrics type url variants width".split()
)
POLL_FIELDS = frozenset("duration_minutes end_datetime id options voting_status".split())
PLACE_FIELDS = frozenset("contained_within country country_code full_name geo id name place_type".split())
WEBHOOK_CONFIG_FIELDS = frozenset(("created_at", "id", "url", "valid"))
#: every list-valued query parameter whose values the fake checks, with its allowed values
#: (``expansions`` differs per operation and is passed separately)
LIST_PARAMS: dict[str, frozenset[str]] = {
    "tweet.fields": TWEET_FIELDS,
    "post.fields": TWEET_FIELDS,
    "user.fields": USER_FIELDS,
    "media.fields": MEDIA_FIELDS,
    "poll.fields": POLL_FIELDS,
    "place.fields": PLACE_FIELDS,
    "dm_event.fields": DM_EVENT_FIELDS,
    "webhook_config.fields": WEBHOOK_CONFIG_FIELDS,
}


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
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise invalid_parameter(
            name, value, f"The `{name}` query parameter value [{value}] is not between {low} and {high}"
        )
    return int(value)


def parse_csv(name: str, value: str | None, allowed: frozenset[str]) -> frozenset[str]:
    """A comma-separated list parameter (OpenAPI ``style: form, explode: false``, ``minItems: 1``,
    ``uniqueItems: true``): an empty list or item, a repeated item or one not in ``allowed`` is a 400."""
    if value is None:
        return frozenset()
    items = value.split(",")
    seen: set[str] = set()
    for item in items:
        if item not in allowed:
            raise invalid_parameter(
                name,
                item,
                f"The `{name}` query parameter value [{item}] is not one of [{','.join(sorted(allowed))}]",
            )
        if item in seen:
            raise invalid_parameter(
                name,
                item,
                f"The `{name}` query parameter value [{item}] is repeated; each value may appear once",
            )
        seen.add(item)
    return frozenset(items)


def check_lists(query: dict[str, str], expansions: frozenset[str] | None = None) -> None:
    """Check every list parameter present in ``query`` (fields and, when given, ``expansions``)."""
    for name, value in query.items():
        allowed = LIST_PARAMS.get(name)
        if allowed is not None:
            parse_csv(name, value, allowed)
        elif name == "expansions" and expansions is not None:
            parse_csv(name, value, expansions)


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


def parse_token(value: str | None, name: str = "pagination_token") -> int | None:
    if value is None:
        return None
    until = decode_token(value)
    if until is None:
        raise invalid_parameter(name, value, f"The `{name}` query parameter value [{value}] is not valid")
    return until
