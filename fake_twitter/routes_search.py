"""``GET /2/tweets/search/recent``: posts of the last 7 days matching a query (see :mod:`.search`).

Parameters as spec 2.159/2.167 list them: ``query`` (required, 1-4096 characters), ``since_id``,
``until_id``, ``start_time`` (not before 7 days ago), ``end_time`` (at least 10 s before the request,
as X requires), ``max_results`` (10-100, default 10), ``next_token``/``pagination_token`` (either),
``sort_order`` (``recency`` or ``relevancy``; the fake has no relevance model, so both answer newest
first), and the post fields/expansions lists. The answer is X's timeline envelope (``meta`` with
``newest_id``, ``oldest_id``, ``result_count``, ``next_token``).
"""

from __future__ import annotations

from fake_twitter.backend import TwitterBackend
from fake_twitter.exceptions import invalid_parameter
from fake_twitter.http import Reply, Request, Router
from fake_twitter.params import (
    MAX_ID,
    check_known,
    parse_id,
    parse_int_range,
    parse_time,
    parse_token,
    time_to_id,
)
from fake_twitter.search import author_of, compile_query, parse_query
from fake_twitter.selection import tweet_selection
from fake_twitter.timeline import encode_token
from fake_twitter.views import rfc3339, timeline_json

__all__ = ["RECENT_WINDOW", "install"]

#: recent search reaches back 7 days
RECENT_WINDOW = 7 * 86_400.0
#: X refuses an end_time later than 10 s before the request
END_TIME_MARGIN = 10.0
MAX_QUERY = 4096
SEARCH_PARAMS = frozenset(
    "query since_id until_id start_time end_time max_results next_token pagination_token sort_order "
    "expansions tweet.fields post.fields user.fields media.fields poll.fields place.fields".split()
)
SORT_ORDERS = frozenset(("recency", "relevancy"))


def install(router: Router, backend: TwitterBackend) -> None:
    def bounds(query: dict[str, str]) -> tuple[int, int]:
        """(after, before): exclusive id bounds from ids, times, the 7-day window and the page token."""
        now = backend.clock.time()
        after, before = time_to_id(now - RECENT_WINDOW) - 1, MAX_ID
        if "since_id" in query:
            after = max(after, parse_id("since_id", query["since_id"]))
        if "until_id" in query:
            before = parse_id("until_id", query["until_id"])
        start = parse_time("start_time", query.get("start_time"))
        end = parse_time("end_time", query.get("end_time"))
        if start is not None:
            if start < now - RECENT_WINDOW:
                raise invalid_parameter(
                    "start_time",
                    query["start_time"],
                    f"Invalid 'start_time':'{query['start_time']}'. 'start_time' must be on or after "
                    f"{rfc3339(now - RECENT_WINDOW)}",
                )
            after = max(after, time_to_id(start) - 1)
        if end is not None:
            if end > now - END_TIME_MARGIN:
                raise invalid_parameter(
                    "end_time",
                    query["end_time"],
                    f"Invalid 'end_time':'{query['end_time']}'. 'end_time' must be a minimum of 10 "
                    "seconds prior to the request time.",
                )
            before = min(before, time_to_id(end))
        if start is not None and end is not None and start >= end:
            raise invalid_parameter(
                "start_time", query["start_time"], "Invalid 'start_time': it must be earlier than 'end_time'"
            )
        for name in ("next_token", "pagination_token"):
            token = parse_token(query.get(name), name)
            if token is not None:
                before = min(before, token)
        return after, before

    def search_recent(request: Request) -> Reply:
        query = request.query
        check_known(query, SEARCH_PARAMS)
        text = query.get("query")
        if not text:
            raise invalid_parameter("query", text or "", "The `query` query parameter can not be empty")
        if len(text) > MAX_QUERY:
            raise invalid_parameter(
                "query", text, f"The `query` query parameter value is longer than {MAX_QUERY} characters"
            )
        order = query.get("sort_order")
        if order is not None and order not in SORT_ORDERS:
            raise invalid_parameter(
                "sort_order",
                order,
                f"The `sort_order` query parameter value [{order}] is not one of [recency,relevancy]",
            )
        limit = parse_int_range("max_results", query.get("max_results"), 10, 100, 10)
        sel = tweet_selection(query)
        after, before = bounds(query)
        tree = parse_query(text)
        users = backend.users_by_username
        page = backend.tweet_store.search(
            compile_query(tree, users), after=after, before=before, limit=limit, author=author_of(tree, users)
        )
        tweets = backend.tweets
        token = encode_token(page.next_until) if page.next_until is not None else None
        found = [tweets[i] for i in page.ids]
        return Reply(
            200,
            timeline_json(found, sel.fields, sel.expansions, sel.user_fields, backend.users, tweets, token),
        )

    router.add("GET", "/2/tweets/search/recent", search_recent, "any")
