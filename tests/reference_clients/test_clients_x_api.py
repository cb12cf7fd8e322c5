"""XApiClient against a respx-mocked X API v2: requests, parsing, rate limits, typed errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from reference.clients import (
    RateLimitState,
    XApiClient,
    XApiError,
    XBadRequest,
    XDuplicateContent,
    XForbidden,
    XNotFound,
    XRateLimited,
    XServiceUnavailable,
    XUnauthorized,
    XUsageCapped,
    make_async_client,
)

RL_HEADERS = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "97", "x-rate-limit-reset": "1705420800"}


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: object
) -> httpx.Response:
    body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


async def test_create_tweet_sends_bearer_json_and_reply(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """A reply tweet is POSTed with the user bearer token and reply.in_reply_to_tweet_id as a string."""
    route = x_router.post("/2/tweets").respond(
        201, json={"data": {"id": "42", "text": "ok"}}, headers=RL_HEADERS
    )
    created = await x_client.create_tweet("ok", in_reply_to_tweet_id="7")
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer user-token"
    assert json.loads(request.content) == {"text": "ok", "reply": {"in_reply_to_tweet_id": "7"}}
    assert (created.id, created.text) == ("42", "ok")


async def test_create_tweet_without_reply_sends_text_only(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """A standalone tweet carries no reply object (X rejects unknown or empty keys)."""
    route = x_router.post("/2/tweets").respond(201, json={"data": {"id": "1", "text": "status"}})
    await x_client.create_tweet("status")
    assert json.loads(route.calls.last.request.content) == {"text": "status"}


async def test_rate_limit_headers_are_recorded_per_endpoint(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """x-rate-limit-limit/remaining/reset of each response land in rate_limits under its endpoint."""
    x_router.post("/2/tweets").respond(201, json={"data": {"id": "1", "text": "t"}}, headers=RL_HEADERS)
    await x_client.create_tweet("t")
    state = x_client.rate_limit("POST /2/tweets")
    assert state == RateLimitState(limit=100, remaining=97, reset_at=1705420800)
    assert x_client.last_rate_limit == state
    assert x_client.rate_limit("GET /2/users/me") is None


def test_rate_limit_state_needs_all_three_numeric_headers() -> None:
    """A partial or non-numeric set of rate-limit headers yields no state rather than a guess."""
    assert RateLimitState.from_headers({"x-rate-limit-limit": "1", "x-rate-limit-remaining": "0"}) is None
    bad = {**RL_HEADERS, "x-rate-limit-remaining": "many"}
    assert RateLimitState.from_headers(bad) is None
    spent = RateLimitState.from_headers({**RL_HEADERS, "x-rate-limit-remaining": "0"})
    assert spent is not None and spent.exhausted


async def test_429_raises_rate_limited_with_reset(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """A 429 becomes XRateLimited carrying x-rate-limit-reset and the problem body, and is retryable."""
    response = problem(429, "Too Many Requests", "Too Many Requests")
    response.headers.update({**RL_HEADERS, "x-rate-limit-remaining": "0"})
    x_router.post("/2/tweets").mock(return_value=response)
    with pytest.raises(XRateLimited) as caught:
        await x_client.create_tweet("t")
    assert caught.value.reset_at == 1705420800
    assert caught.value.problem["title"] == "Too Many Requests"
    assert caught.value.retryable
    assert x_client.rate_limit("POST /2/tweets") == RateLimitState(100, 0, 1705420800)


async def test_v11_style_429_body_is_normalised(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """The v1.1 {"errors":[{"code":88,...}]} body still yields a problem with a detail."""
    x_router.get("/2/users/me").respond(
        429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    )
    with pytest.raises(XRateLimited) as caught:
        await x_client.get_me()
    assert caught.value.detail == "Rate limit exceeded"
    assert caught.value.reset_at is None


async def test_usage_capped_is_not_a_rate_limit(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """A 429 whose problem type is usage-capped becomes XUsageCapped, which is not retryable."""
    x_router.post("/2/tweets").mock(
        return_value=problem(
            429,
            "Usage cap exceeded",
            "Monthly product cap",
            "https://api.twitter.com/2/problems/usage-capped",
            period="Monthly",
            scope="Product",
        )
    )
    with pytest.raises(XUsageCapped) as caught:
        await x_client.create_tweet("t")
    assert (caught.value.period, caught.value.scope) == ("Monthly", "Product")
    assert not caught.value.retryable
    assert not isinstance(caught.value, XRateLimited)


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        (400, "Invalid text", XBadRequest),
        (401, "Unauthorized", XUnauthorized),
        (403, "You are not allowed to create a Tweet with duplicate content.", XDuplicateContent),
        (403, "You are not permitted to perform this action.", XForbidden),
        (404, "Could not find user", XNotFound),
        (409, "Conflict", XApiError),
    ],
)
async def test_error_statuses_map_to_typed_exceptions(
    x_client: XApiClient, x_router: respx.MockRouter, status: int, detail: str, expected: type[XApiError]
) -> None:
    """Each documented error status raises its own exception class with the problem attached."""
    x_router.post("/2/tweets").mock(return_value=problem(status, "Error", detail))
    with pytest.raises(expected) as caught:
        await x_client.create_tweet("t")
    assert type(caught.value) is expected
    assert caught.value.status == status and caught.value.detail == detail
    assert not caught.value.retryable


async def test_bad_request_keeps_parameter_errors(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """An invalid-request problem keeps its errors[] list naming the bad parameters."""
    errors = [{"message": "max_results out of range", "parameters": {"max_results": ["500"]}}]
    x_router.get("/2/dm_events").mock(
        return_value=problem(
            400,
            "Invalid Request",
            "One or more parameters to your request was invalid.",
            "https://api.twitter.com/2/problems/invalid-request",
            errors=errors,
        )
    )
    with pytest.raises(XBadRequest) as caught:
        await x_client.get_dm_events()
    assert caught.value.problem["errors"] == errors


async def test_503_is_service_unavailable_with_retry_after(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """A 503 with Retry-After becomes a retryable XServiceUnavailable carrying the wait."""
    x_router.post("/2/tweets").respond(
        503, json={"title": "Service Unavailable"}, headers={"retry-after": "3"}
    )
    with pytest.raises(XServiceUnavailable) as caught:
        await x_client.create_tweet("t")
    assert caught.value.retryable and caught.value.retry_after == 3.0


async def test_non_json_5xx_body_becomes_problem_detail(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """An HTML 502 from a proxy still yields a problem whose detail is the body text."""
    x_router.post("/2/tweets").respond(502, text="<html>bad gateway</html>")
    with pytest.raises(XServiceUnavailable) as caught:
        await x_client.create_tweet("t")
    assert caught.value.problem["status"] == 502
    assert "bad gateway" in caught.value.detail


MENTIONS_PAGE_1 = {
    "data": [
        {
            "id": "1002",
            "text": "@op #reg 9812345678",
            "author_id": "11",
            "created_at": "2026-11-24T04:00:01.000Z",
        },
        {
            "id": "1001",
            "text": "@op #act #TOP50",
            "author_id": "12",
            "created_at": "2026-11-24T04:00:00.000Z",
        },
    ],
    "includes": {
        "users": [
            {"id": "11", "username": "asha", "name": "Asha"},
            {"id": "12", "username": "ravi", "name": "R"},
        ]
    },
    "meta": {"newest_id": "1002", "oldest_id": "1001", "result_count": 2, "next_token": "tok2"},
}
MENTIONS_PAGE_2 = {
    "data": [{"id": "1000", "text": "@op hi", "author_id": "11"}],
    "includes": {"users": [{"id": "11", "username": "asha", "name": "Asha"}]},
    "meta": {"newest_id": "1000", "oldest_id": "1000", "result_count": 1},
}


async def test_get_mentions_sends_fields_and_parses_usernames(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """Mentions are requested with since_id and author expansion; usernames come from includes."""
    route = x_router.get("/2/users/99/mentions").respond(200, json=MENTIONS_PAGE_1)
    page = await x_client.get_mentions("99", since_id="900", max_results=50)
    params = route.calls.last.request.url.params
    assert params["since_id"] == "900" and params["max_results"] == "50"
    assert params["expansions"] == "author_id" and "created_at" in params["tweet.fields"]
    assert "pagination_token" not in params
    assert [(t.id, t.username) for t in page.tweets] == [("1002", "asha"), ("1001", "ravi")]
    assert page.tweets[0].created_at == datetime(2026, 11, 24, 4, 0, 1, tzinfo=UTC)
    assert (page.newest_id, page.oldest_id, page.next_token, page.result_count) == ("1002", "1001", "tok2", 2)


async def test_iter_mentions_follows_next_token(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """Pagination passes each next_token back as pagination_token and stops on the last page."""
    route = x_router.get("/2/users/99/mentions")
    route.side_effect = [httpx.Response(200, json=MENTIONS_PAGE_1), httpx.Response(200, json=MENTIONS_PAGE_2)]
    pages = [page async for page in x_client.iter_mentions("99", since_id="900")]
    assert [t.id for p in pages for t in p.tweets] == ["1002", "1001", "1000"]
    second = route.calls[1].request.url.params
    assert second["pagination_token"] == "tok2" and second["since_id"] == "900"
    assert route.call_count == 2


async def test_empty_mentions_page(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """A page with no new mentions (meta.result_count 0, no data) parses to an empty page."""
    x_router.get("/2/users/99/mentions").respond(200, json={"meta": {"result_count": 0}})
    page = await x_client.get_mentions("99", since_id="5")
    assert page.tweets == () and page.newest_id is None and page.next_token is None


async def test_partial_errors_in_200_are_kept(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """A 200 carrying both data and errors[] keeps the errors on the page for the caller."""
    body = {**MENTIONS_PAGE_2, "errors": [{"title": "Not Found Error", "detail": "Could not find tweet"}]}
    x_router.get("/2/users/99/mentions").respond(200, json=body)
    page = await x_client.get_mentions("99")
    assert len(page.tweets) == 1 and page.errors[0]["title"] == "Not Found Error"


async def test_mentions_max_results_is_checked_locally(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """max_results outside X's 5..100 is refused before any request is sent."""
    route = x_router.get("/2/users/99/mentions").respond(200, json={})
    with pytest.raises(ValueError):
        await x_client.get_mentions("99", max_results=4)
    assert route.call_count == 0


async def test_dm_events_page_and_pagination(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """DM events are requested with their fields, parsed, and paginated by next_token."""
    first = {
        "data": [
            {
                "id": "5",
                "event_type": "MessageCreate",
                "text": "#reg 98",
                "sender_id": "11",
                "dm_conversation_id": "11-99",
                "created_at": "2026-11-24T04:00:00.000Z",
            }
        ],
        "meta": {"result_count": 1, "next_token": "n" * 16},
    }
    route = x_router.get("/2/dm_events")
    route.side_effect = [
        httpx.Response(200, json=first),
        httpx.Response(200, json={"meta": {"result_count": 0}}),
    ]
    pages = [p async for p in x_client.iter_dm_events()]
    assert [(e.id, e.sender_id, e.text) for e in pages[0].events] == [("5", "11", "#reg 98")]
    assert route.calls[0].request.url.params["event_types"] == "MessageCreate"
    assert "sender_id" in route.calls[0].request.url.params["dm_event.fields"]
    assert route.calls[1].request.url.params["pagination_token"] == "n" * 16
    assert len(pages) == 2 and pages[1].events == ()


async def test_send_dm(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """A DM is POSTed to the participant's conversation and returns its event ids."""
    route = x_router.post("/2/dm_conversations/with/11/messages").respond(
        201, json={"data": {"dm_conversation_id": "11-99", "dm_event_id": "77"}}
    )
    sent = await x_client.send_dm("11", "Your code is on its way")
    assert json.loads(route.calls.last.request.content) == {"text": "Your code is on its way"}
    assert (sent.dm_conversation_id, sent.dm_event_id) == ("11-99", "77")


async def test_users_me_and_by_username(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """get_me and get_user_by_username return the user's id, username and name."""
    x_router.get("/2/users/me").respond(
        200, json={"data": {"id": "99", "username": "op", "name": "Operator"}}
    )
    x_router.get("/2/users/by/username/asha").respond(
        200, json={"data": {"id": "11", "username": "asha", "name": "A"}}
    )
    me = await x_client.get_me()
    asha = await x_client.get_user_by_username("asha")
    assert (me.id, me.username, me.name) == ("99", "op", "Operator")
    assert (asha.id, asha.username) == ("11", "asha")


async def test_unknown_username_in_200_errors_is_not_found(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """X answers an unknown username with 200 and errors[] only; that raises XNotFound."""
    err = {
        "title": "Not Found Error",
        "detail": "Could not find user with username: [nobody].",
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }
    x_router.get("/2/users/by/username/nobody").respond(200, json={"errors": [err]})
    with pytest.raises(XNotFound) as caught:
        await x_client.get_user_by_username("nobody")
    assert caught.value.problem == err


async def test_non_json_success_is_an_error(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """A 2xx whose body is not a JSON object raises XApiError instead of a KeyError later."""
    x_router.get("/2/users/me").respond(200, text="ok")
    with pytest.raises(XApiError):
        await x_client.get_me()


async def test_webhook_management_paths_and_tokens(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """Webhook calls hit the spec's paths and methods; management uses the app token, subscribe the user's."""
    hook = {
        "id": "1146654567674912769",
        "url": "https://op.example/x",
        "valid": True,
        "created_at": "2026-11-24T04:00:00.000Z",
    }
    create = x_router.post("/2/webhooks").respond(200, json={"data": hook})
    listing = x_router.get("/2/webhooks").respond(200, json={"data": [hook], "meta": {"result_count": 1}})
    put = x_router.put(f"/2/webhooks/{hook['id']}").respond(200, json={"data": {"attempted": True}})
    sub = x_router.post(f"/2/account_activity/webhooks/{hook['id']}/subscriptions/all").respond(
        200, json={"data": {"subscribed": True}}
    )
    unsub = x_router.delete(f"/2/account_activity/webhooks/{hook['id']}/subscriptions/99/all").respond(
        200, json={"data": {"subscribed": False}}
    )
    delete = x_router.delete(f"/2/webhooks/{hook['id']}").respond(200, json={"data": {"deleted": True}})

    created = await x_client.create_webhook("https://op.example/x")
    assert created.id == hook["id"] and created.valid
    assert json.loads(create.calls.last.request.content) == {"url": "https://op.example/x"}
    assert [w.id for w in await x_client.list_webhooks()] == [hook["id"]]
    assert await x_client.validate_webhook(hook["id"]) is True
    assert await x_client.subscribe(hook["id"]) is True
    assert await x_client.unsubscribe(hook["id"], "99") is True
    assert await x_client.delete_webhook(hook["id"]) is True
    assert create.calls.last.request.headers["authorization"] == "Bearer app-token"
    assert put.calls.last.request.headers["authorization"] == "Bearer app-token"
    assert sub.calls.last.request.headers["authorization"] == "Bearer user-token"
    assert listing.called and unsub.called and delete.called


async def test_create_webhook_accepts_unwrapped_body(
    x_client: XApiClient, x_router: respx.MockRouter
) -> None:
    """The 2.159 spec's WebhookConfigCreateResponse is the config itself, not under data."""
    x_router.post("/2/webhooks").respond(
        200, json={"id": "5", "url": "https://h/x", "valid": False, "created_at": "2026-11-24T04:00:00Z"}
    )
    created = await x_client.create_webhook("https://h/x")
    assert (created.id, created.valid) == ("5", False)


async def test_empty_webhook_list(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """No registered webhooks (no data key) is an empty list."""
    x_router.get("/2/webhooks").respond(200, json={"meta": {"result_count": 0}})
    assert await x_client.list_webhooks() == []


async def test_base_url_path_prefix_is_kept() -> None:
    """A base URL with a path prefix (a fake mounted under /x) prefixes every endpoint path."""
    router = respx.MockRouter(assert_all_called=False)
    route = router.get("http://127.0.0.1:9/x/2/users/me").respond(
        200, json={"data": {"id": "1", "username": "o"}}
    )
    async with make_async_client(
        "http://127.0.0.1:9/x", transport=httpx.MockTransport(router.async_handler)
    ) as h:
        user = await XApiClient(h, user_token="t").get_me()
    assert route.called and user.id == "1"


async def test_token_refresh_changes_authorization(x_client: XApiClient, x_router: respx.MockRouter) -> None:
    """After set_user_token the new bearer token is sent."""
    route = x_router.get("/2/users/me").respond(200, json={"data": {"id": "1", "username": "o", "name": "O"}})
    x_client.set_user_token("fresh")
    await x_client.get_me()
    assert route.calls.last.request.headers["authorization"] == "Bearer fresh"


async def test_refreshed_token_used_for_webhooks_without_app_token(x_router: respx.MockRouter) -> None:
    """Without an app token, webhook management follows the refreshed user token."""
    route = x_router.get("/2/webhooks").respond(200, json={"meta": {"result_count": 0}})
    async with make_async_client(
        "https://api.x.test", transport=httpx.MockTransport(x_router.async_handler)
    ) as h:
        client = XApiClient(h, user_token="old")
        client.set_user_token("new")
        await client.list_webhooks()
    assert route.calls.last.request.headers["authorization"] == "Bearer new"


def test_rate_limit_state_from_httpx_headers_any_case() -> None:
    """Parsing httpx.Headers reads the raw pairs whatever their case, like a plain mapping would."""
    headers = httpx.Headers(
        [("X-Rate-Limit-Limit", "15"), ("x-rate-limit-remaining", "3"), ("X-RATE-LIMIT-RESET", "9")]
    )
    assert RateLimitState.from_headers(headers) == RateLimitState(15, 3, 9)
    assert RateLimitState.from_headers(httpx.Headers({"x-rate-limit-limit": "15"})) is None
    assert RateLimitState.from_headers(httpx.Headers({**RL_HEADERS, "x-rate-limit-reset": "soon"})) is None
