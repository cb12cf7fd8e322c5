"""Bad input never gets a 500: arbitrary bodies and query strings get X-format answers."""

from __future__ import annotations

import asyncio

import httpx
from ft_support import BASE_URL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_twitter import ManualClock, TwitterBackend, create_app

KEYS = st.sampled_from(["text", "reply", "quote_tweet_id", "media", "poll", "in_reply_to_tweet_id", "x", ""])
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "max_results",
            "since_id",
            "until_id",
            "pagination_token",
            "start_time",
            "end_time",
            "tweet.fields",
            "post.fields",
            "expansions",
            "user.fields",
            "exclude",
            "zzz",
        ]
    ),
    st.text(max_size=40),
    max_size=4,
)


def _world():
    backend = TwitterBackend(ManualClock(), seed=2, rate_limits="off")
    user = backend.create_user("fuzzer")
    app = create_app(backend)
    return app, user


async def _exchange(app, method: str, path: str, token: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        return await client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(KEYS, VALUES, max_size=4) | VALUES)
def test_any_json_body_to_post_tweets_gets_an_x_answer(body):
    """Any JSON body to POST /2/tweets answers 201, 400 or 403 with a JSON body, never 500."""
    app, user = _world()
    response = asyncio.run(_exchange(app, "POST", "/2/tweets", user.bearer_token, json=body))
    assert response.status_code in (201, 400, 403), response.text
    assert response.json()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=PARAMS)
def test_any_query_to_mentions_gets_an_x_answer(params):
    """Any query string on GET /2/users/:id/mentions answers 200 or 400 in X's format."""
    app, user = _world()
    response = asyncio.run(
        _exchange(app, "GET", f"/2/users/{user.id}/mentions", user.bearer_token, params=params)
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(st.sampled_from(["text", "attachments", "x"]), VALUES, max_size=3) | VALUES)
def test_any_json_body_to_dm_send_gets_an_x_answer(body):
    """Any JSON body to the DM send route answers 201 or 400, never 500."""
    app, user = _world()
    other = app.backend.create_user("other")
    path = f"/2/dm_conversations/with/{other.id}/messages"
    response = asyncio.run(_exchange(app, "POST", path, user.bearer_token, json=body))
    assert response.status_code in (201, 400), response.text


CONTROL_ROUTES = st.sampled_from(
    [
        ("POST", "/_fake/users"),
        ("POST", "/_fake/seed"),
        ("POST", "/_fake/faults"),
        ("DELETE", "/_fake/faults"),
        ("POST", "/_fake/rate-limits"),
        ("POST", "/_fake/clock/advance"),
        ("GET", "/_fake/tweets"),
        ("GET", "/_fake/timelines/1"),
        ("POST", "/_fake/webhooks/drain"),
    ]
)
CONTROL_KEYS = st.sampled_from(
    [
        "username",
        "name",
        "seed",
        "route",
        "latency_ms",
        "error_rate",
        "status",
        "outages",
        "outage",
        "preset",
        "limits",
        "seconds",
        "kind",
        "timeout",
        "start",
        "end",
        "POST /2/tweets",
        "*",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calls=st.lists(
        st.tuples(CONTROL_ROUTES, st.dictionaries(CONTROL_KEYS, VALUES, max_size=4), PARAMS),
        min_size=1,
        max_size=3,
    )
)
def test_any_control_call_gets_an_answer_and_x_routes_keep_working(calls):
    """Any JSON body or query to the control API answers 2xx or a 400 problem, and a tweet and a
    mentions read afterwards still answer in X's format (never 500)."""
    app, user = _world()

    async def run() -> list[httpx.Response]:
        out = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE_URL
        ) as client:
            for (method, path), body, params in calls:
                kwargs = {"params": params} if method == "GET" else {"json": body}
                out.append(await client.request(method, path, **kwargs))
            await client.delete("/_fake/faults")
            token = {"Authorization": f"Bearer {user.bearer_token}"}
            out.append(await client.post("/2/tweets", json={"text": "@fuzzer hi"}, headers=token))
            out.append(await client.get(f"/2/users/{user.id}/mentions", headers=token))
        return out

    responses = asyncio.run(run())
    for response in responses[: len(calls)]:
        assert response.status_code < 300 or response.status_code == 400, response.text
        assert response.json()
    for response in responses[len(calls) :]:
        assert response.status_code in (200, 201, 401, 403, 429), response.text


GET_ROUTES = st.sampled_from(
    [
        "/2/tweets",
        "/2/tweets/{tweet}",
        "/2/users/{user}/tweets",
        "/2/users/{user}",
        "/2/users/me",
        "/2/users/by/username/fuzzer",
        "/2/dm_events",
        "/2/dm_conversations/with/{other}/dm_events",
        "/2/webhooks",
    ]
)
ANY_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "ids",
            "max_results",
            "pagination_token",
            "since_id",
            "until_id",
            "start_time",
            "end_time",
            "event_types",
            "dm_event.fields",
            "tweet.fields",
            "post.fields",
            "user.fields",
            "expansions",
            "exclude",
            "zzz",
        ]
    ),
    st.text(max_size=30) | st.sampled_from(["1", "100", "MessageCreate", "author_id", "-1", "9" * 25]),
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route=GET_ROUTES, params=ANY_PARAMS)
def test_any_query_on_any_read_route_gets_an_x_answer(route, params):
    """Any query string on every read route answers 200 or 400 in X's format (a problem with
    errors[] on 400), never a 500."""
    app, user = _world()
    other = app.backend.create_user("other")
    tweet = app.backend.create_tweet(other.id, "@fuzzer hello")
    path = route.format(tweet=tweet.id, user=user.id, other=other.id)
    token = app.backend.app.bearer_token if route == "/2/webhooks" else user.bearer_token  # app-only
    response = asyncio.run(_exchange(app, "GET", path, token, params=params))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        body = response.json()
        assert body["type"].endswith("/2/problems/invalid-request") and body["errors"]
