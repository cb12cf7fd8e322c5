"""Routes for tweets and timelines: create, look up, delete, mentions and user tweets."""

from __future__ import annotations

from typing import Any

from fake_twitter.backend import TwitterBackend
from fake_twitter.exceptions import InvalidRequest, invalid_parameter
from fake_twitter.http import Reply, Request, Router, json_body
from fake_twitter.params import (
    MAX_ID,
    check_known,
    parse_csv,
    parse_id,
    parse_int_range,
    parse_time,
    parse_token,
    time_to_id,
)
from fake_twitter.selection import tweet_selection
from fake_twitter.timeline import Page, encode_token
from fake_twitter.views import timeline_json, tweet_v2, tweets_with_includes

__all__ = ["install"]

CREATE_KEYS = frozenset(
    "card_uri community_id direct_message_deep_link edit_options for_super_followers_only geo "
    "made_with_ai media nullcast paid_partnership poll quote_tweet_id reply reply_settings "
    "share_with_followers text".split()
)
REPLY_KEYS = frozenset(("in_reply_to_tweet_id", "exclude_reply_user_ids", "auto_populate_reply_metadata"))
_EXTRA = frozenset(
    (
        "expansions",
        "user.fields",
        "media.fields",
        "poll.fields",
        "place.fields",
        "tweet.fields",
        "post.fields",
    )
)
LOOKUP_PARAMS = _EXTRA
IDS_PARAMS = _EXTRA | {"ids"}
TIMELINE_PARAMS = _EXTRA | {
    "since_id",
    "until_id",
    "max_results",
    "pagination_token",
    "start_time",
    "end_time",
}
USER_TWEETS_PARAMS = TIMELINE_PARAMS | {"exclude"}


def _schema_error(path: str, message: str) -> InvalidRequest:
    return InvalidRequest([{"parameters": {}, "message": f"$.{path}: {message}"}])


def parse_create_body(request: Request) -> tuple[str, int | None, int | None]:
    """(text, in_reply_to_tweet_id, quote_tweet_id) from a TweetCreateRequest, checked like X does."""
    try:
        body = json_body(request)
    except ValueError:
        raise InvalidRequest([{"parameters": {}, "message": "Request body is not valid JSON"}]) from None
    if not isinstance(body, dict):
        raise _schema_error("", "is not an object")
    for key in body:
        if key not in CREATE_KEYS:
            raise _schema_error(
                key, "is not defined in the schema and the schema does not allow additional properties"
            )
    text = body.get("text")
    if text is None:
        if "media" not in body and "poll" not in body:
            raise _schema_error("text", "is missing but it is required")
        text = ""
    if not isinstance(text, str):
        raise _schema_error("text", "is not a string")
    reply_to: int | None = None
    reply = body.get("reply")
    if reply is not None:
        if not isinstance(reply, dict) or "in_reply_to_tweet_id" not in reply:
            raise _schema_error("reply.in_reply_to_tweet_id", "is missing but it is required")
        for key in reply:
            if key not in REPLY_KEYS:
                raise _schema_error(
                    f"reply.{key}",
                    "is not defined in the schema and the schema does not allow additional properties",
                )
        reply_to = parse_id("reply.in_reply_to_tweet_id", str(reply["in_reply_to_tweet_id"]), kind="body")
    quote: int | None = None
    if "quote_tweet_id" in body:
        quote = parse_id("quote_tweet_id", str(body["quote_tweet_id"]), kind="body")
    return text, reply_to, quote


def _bounds(query: dict[str, str]) -> tuple[int, int]:
    after, before = 0, MAX_ID
    if "since_id" in query:
        after = parse_id("since_id", query["since_id"])
    if "until_id" in query:
        before = parse_id("until_id", query["until_id"])
    start = parse_time("start_time", query.get("start_time"))
    end = parse_time("end_time", query.get("end_time"))
    if start is not None:
        after = max(after, time_to_id(start) - 1)
    if end is not None:
        before = min(before, time_to_id(end))
    if start is not None and end is not None and start >= end:
        raise invalid_parameter("start_time", query["start_time"], "start_time must be earlier than end_time")
    token = parse_token(query.get("pagination_token"))
    if token is not None:
        before = min(before, token)
    return after, before


def install(router: Router, backend: TwitterBackend) -> None:
    def page_body(page: Page, query: dict[str, str]) -> bytes:
        sel = tweet_selection(query)
        tweets = backend.tweets
        token = encode_token(page.next_until) if page.next_until is not None else None
        found = [tweets[i] for i in page.ids]
        return timeline_json(found, sel.fields, sel.expansions, sel.user_fields, backend.users, tweets, token)

    def create_tweet(request: Request) -> Reply:
        text, reply_to, quote = parse_create_body(request)
        tweet = backend.create_tweet(
            request.user_id, text, in_reply_to_tweet_id=reply_to, quote_tweet_id=quote
        )
        return Reply(201, {"data": tweet_v2(tweet, frozenset())})

    def get_tweet(request: Request) -> Reply:
        query = request.query
        check_known(query, LOOKUP_PARAMS)
        tweet_id = parse_id("id", request.path_params["id"], kind="path")
        tweet_selection(query)  # bad lists are a 400 even when the post does not exist
        # a missing post raises ResourceNotFound with parameter "id": a 200 with errors[] only
        return Reply(200, _lookup_body([backend.get_tweet(tweet_id)], query, single=True))

    def get_tweets(request: Request) -> Reply:
        query = request.query
        check_known(query, IDS_PARAMS)
        raw = query.get("ids")
        if not raw:
            raise invalid_parameter("ids", raw or "", "The `ids` query parameter can not be empty")
        parts = raw.split(",")
        if len(parts) > 100:
            raise invalid_parameter("ids", raw, "The `ids` query parameter value is longer than 100 ids")
        ids = [parse_id("ids", part) for part in parts]
        tweet_selection(query)
        found, missing = backend.get_tweets(ids)
        body = _lookup_body(found, query, single=False) if found else {}
        if missing:
            body["errors"] = [m.problem() for m in missing]
        return Reply(200, body)

    def _lookup_body(found: list[Any], query: dict[str, str], *, single: bool) -> dict[str, Any]:
        sel = tweet_selection(query)
        data, includes = tweets_with_includes(
            found, sel.fields, sel.expansions, sel.user_fields, backend.users, backend.tweets
        )
        body: dict[str, Any] = {"data": data[0] if single else data}
        if includes:
            body["includes"] = includes
        return body

    def delete_tweet(request: Request) -> Reply:
        tweet_id = parse_id("id", request.path_params["id"], kind="path")
        return Reply(200, {"data": {"deleted": backend.delete_tweet(request.user_id, tweet_id)}})

    def mentions(request: Request) -> Reply:
        query = request.query
        check_known(query, TIMELINE_PARAMS)
        user_id = parse_id("id", request.path_params["id"], kind="path")
        after, before = _bounds(query)
        limit = parse_int_range("max_results", query.get("max_results"), 5, 100, 10)
        tweet_selection(query)  # bad field names are refused before any lookup
        page = backend.get_mentions(user_id, after=after, before=before, limit=limit)
        return Reply(200, page_body(page, query))

    def user_tweets(request: Request) -> Reply:
        query = request.query
        check_known(query, USER_TWEETS_PARAMS)
        user_id = parse_id("id", request.path_params["id"], kind="path")
        after, before = _bounds(query)
        limit = parse_int_range("max_results", query.get("max_results"), 5, 100, 10)
        exclude = parse_csv("exclude", query.get("exclude"), frozenset(("replies", "retweets")))
        tweet_selection(query)
        page = backend.get_user_tweets(
            user_id, after=after, before=before, limit=limit, exclude_replies="replies" in exclude
        )
        return Reply(200, page_body(page, query))

    router.add("POST", "/2/tweets", create_tweet, "user")
    router.add("GET", "/2/tweets", get_tweets, "any")
    router.add("GET", "/2/tweets/:id", get_tweet, "any")
    router.add("DELETE", "/2/tweets/:id", delete_tweet, "user")
    router.add("GET", "/2/users/:id/mentions", mentions, "any")
    router.add("GET", "/2/users/:id/tweets", user_tweets, "any")
