"""Contract tests: every implemented X route's requests and responses validated against spec 2.159."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from ft_contract import ContractRecorder
from ft_support import BASE_URL, Account, app_headers, make_user

from fake_twitter import create_app
from fake_twitter.app import FakeTwitterApp

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


@pytest.fixture
async def checked(app: FakeTwitterApp) -> AsyncIterator[tuple[httpx.AsyncClient, ContractRecorder]]:
    recorder = ContractRecorder()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, event_hooks={"response": [recorder]}
    ) as client:
        yield client, recorder
    await app.dispatcher.aclose()


@pytest.fixture
async def lax(app: FakeTwitterApp) -> AsyncIterator[tuple[httpx.AsyncClient, ContractRecorder]]:
    recorder = ContractRecorder(validate_requests=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, event_hooks={"response": [recorder]}
    ) as client:
        yield client, recorder


async def _pair(client: httpx.AsyncClient) -> tuple[Account, Account]:
    return await make_user(client, "operator"), await make_user(client, "subscriber")


async def test_tweet_routes_match_the_spec(checked):
    """POST/GET/DELETE tweets, lookups by ids and both timelines validate against 2.159."""
    client, recorder = checked
    operator, sub = await _pair(client)
    first = await client.post("/2/tweets", json={"text": "@operator #reg 9876543210"}, headers=sub.headers)
    assert first.status_code == 201
    tweet_id = first.json()["data"]["id"]
    reply = await client.post(
        "/2/tweets",
        json={"text": "@subscriber your code is 123456", "reply": {"in_reply_to_tweet_id": tweet_id}},
        headers=operator.headers,
    )
    assert reply.status_code == 201
    fields = {
        "tweet.fields": "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,entities",
        "expansions": "author_id,referenced_tweets.id,in_reply_to_user_id,entities.mentions.username",
        "user.fields": "created_at,description,protected,verified,public_metrics",
    }
    assert (await client.get(f"/2/tweets/{tweet_id}", params=fields, headers=sub.headers)).status_code == 200
    assert (
        await client.get("/2/tweets", params={"ids": f"{tweet_id},1"}, headers=sub.headers)
    ).status_code == 200
    assert (await client.get("/2/tweets/1", headers=sub.headers)).status_code == 200
    mentions = await client.get(f"/2/users/{operator.id}/mentions", params=fields, headers=operator.headers)
    assert mentions.json()["meta"]["result_count"] == 1
    empty = await client.get(f"/2/users/{sub.id}/tweets", params={"since_id": "9" * 19}, headers=sub.headers)
    assert empty.json() == {"meta": {"result_count": 0}}
    timeline = await client.get(f"/2/users/{sub.id}/tweets", params=fields, headers=sub.headers)
    assert timeline.status_code == 200
    assert (await client.delete(f"/2/tweets/{tweet_id}", headers=sub.headers)).json() == {
        "data": {"deleted": True}
    }
    assert len(recorder.seen) == 9


async def test_user_and_dm_routes_match_the_spec(checked):
    """users/me, by id, by username, DM send and both DM listings validate against 2.159."""
    client, recorder = checked
    operator, sub = await _pair(client)
    assert (
        await client.get("/2/users/me", params={"user.fields": "created_at"}, headers=sub.headers)
    ).is_success
    assert (await client.get(f"/2/users/{operator.id}", headers=sub.headers)).is_success
    assert (await client.get("/2/users/by/username/operator", headers=sub.headers)).is_success
    assert (await client.get("/2/users/by/username/nobody", headers=sub.headers)).json()["errors"]
    sent = await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages", json={"text": "#act #PACK10"}, headers=sub.headers
    )
    assert sent.status_code == 201
    params = {
        "dm_event.fields": "sender_id,created_at,dm_conversation_id,entities",
        "expansions": "sender_id",
    }
    listed = await client.get("/2/dm_events", params=params, headers=operator.headers)
    assert listed.json()["meta"]["result_count"] == 1
    convo = await client.get(
        f"/2/dm_conversations/with/{sub.id}/dm_events", params=params, headers=operator.headers
    )
    assert convo.json()["data"][0]["text"] == "#act #PACK10"
    assert len(recorder.seen) == 7


async def test_error_responses_match_the_spec(lax, backend):
    """400, 401, 403, 404 and 429 problem bodies validate against the spec's default responses."""
    client, recorder = lax
    operator, sub = await _pair(client)
    app = await app_headers(client)
    statuses = [
        (
            await client.get(f"/2/users/{operator.id}/mentions", params={"max_results": "3"}, headers=app)
        ).status_code,
        (await client.get("/2/users/abc/mentions", headers=app)).status_code,
        (
            await client.get(f"/2/users/{operator.id}/mentions", params={"bogus": "1"}, headers=app)
        ).status_code,
        (
            await client.post("/2/tweets", json={"text": "x", "colour": "red"}, headers=sub.headers)
        ).status_code,
        (await client.post("/2/tweets", json={"text": "hi"}, headers=app)).status_code,
        (await client.get("/2/users/me")).status_code,
        (await client.get("/2/users/me", headers={"Authorization": "Bearer wrong"})).status_code,
        (await client.post("/2/tweets", json={"text": "x" * 281}, headers=sub.headers)).status_code,
    ]
    assert statuses == [400, 400, 400, 400, 403, 401, 401, 400]
    await client.post("/2/tweets", json={"text": "same"}, headers=sub.headers)
    assert (await client.post("/2/tweets", json={"text": "same"}, headers=sub.headers)).status_code == 403
    backend.limiter.configure(*_tiny_limits(), "tiny")
    await client.get("/2/users/me", headers=sub.headers)
    limited = await client.get("/2/users/me", headers=sub.headers)
    assert limited.status_code == 429
    assert limited.json() == {
        "title": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
        "detail": "Too Many Requests",
    }
    assert len(recorder.seen) == 12


async def test_webhook_routes_match_the_spec(checked, app, backend):
    """Webhook create/list/validate/delete and subscription routes validate against 2.159."""
    client, recorder = checked
    operator, _ = await _pair(client)
    app_auth = await app_headers(client)

    async def crc(request: httpx.Request) -> httpx.Response:
        from fake_twitter.webhooks import crc_response_token

        token = request.url.params["crc_token"]
        return httpx.Response(
            200, json={"response_token": crc_response_token(backend.app.consumer_secret, token)}
        )

    app.dispatcher._client = httpx.AsyncClient(transport=httpx.MockTransport(crc))
    created = await client.post("/2/webhooks", json={"url": "https://hooks.example/x"}, headers=app_auth)
    webhook_id = created.json()["id"]
    assert (await client.get("/2/webhooks", headers=app_auth)).json()["meta"]["result_count"] == 1
    assert (await client.put(f"/2/webhooks/{webhook_id}", headers=app_auth)).json() == {
        "data": {"attempted": True}
    }
    subs = f"/2/account_activity/webhooks/{webhook_id}/subscriptions"
    assert (await client.post(subs + "/all", json={}, headers=operator.headers)).json()["data"]["subscribed"]
    assert (await client.get(subs + "/all", headers=operator.headers)).json()["data"]["subscribed"]
    listing = (await client.get(subs + "/all/list", headers=app_auth)).json()["data"]
    assert listing["subscriptions"] == [{"user_id": operator.id}]
    gone = await client.delete(f"{subs}/{operator.id}/all", headers=app_auth)
    assert gone.json() == {"data": {"subscribed": False}}
    assert (await client.delete(f"/2/webhooks/{webhook_id}", headers=app_auth)).json() == {
        "data": {"deleted": True}
    }
    assert len(recorder.seen) == 8


def _tiny_limits():
    from fake_twitter.ratelimits import preset_from_mapping

    return preset_from_mapping({"GET /2/users/me": {"user": [[1, 60]]}})


async def test_post_fields_answers_match_spec_2167(client):
    """Successful answers to xdk-style requests (post.fields, referenced_posts) validate against 2.167."""
    from ft_contract import OpenAPIRequest, OpenAPIResponse, spec_2167

    operator, sub = await _pair(client)
    first = await client.post("/2/tweets", json={"text": "@operator #reg 9876543210"}, headers=sub.headers)
    body = {"text": "@subscriber code 123456", "reply": {"in_reply_to_tweet_id": first.json()["data"]["id"]}}
    reply = await client.post("/2/tweets", json=body, headers=operator.headers)
    fields = {"post.fields": "author_id,created_at,entities,referenced_posts", "expansions": "author_id"}
    responses = [
        first,
        reply,
        await client.get(f"/2/users/{operator.id}/mentions", params=fields, headers=operator.headers),
        await client.get(f"/2/tweets/{reply.json()['data']['id']}", params=fields, headers=sub.headers),
        await client.get("/2/users/me", headers=sub.headers),
    ]
    api = spec_2167()
    for response in responses:
        assert response.is_success
        api.validate_response(OpenAPIRequest(response.request), OpenAPIResponse(response))
    assert responses[3].json()["data"]["referenced_posts"][0]["type"] == "replied_to"


async def test_api_x_com_problem_types_match_spec_2167(backend):
    """By default (what X sends today) 400 bodies and 200 partial errors carry
    https://api.x.com/2/problems/... types and validate against spec 2.167; 401/429 stay about:blank.
    problem_host='api.twitter.com' gives spec 2.159's URIs."""
    from ft_contract import OpenAPIRequest, OpenAPIResponse, spec_2167

    async def answers(app: FakeTwitterApp) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            operator = await make_user(client, "operator")
            bad = await client.get(
                f"/2/users/{operator.id}/mentions", params={"max_results": "3"}, headers=operator.headers
            )
            missing = await client.get("/2/tweets", params={"ids": "20"}, headers=operator.headers)
            unauthorized = await client.get("/2/users/me")
        return bad, missing, unauthorized

    bad, missing, unauthorized = await answers(create_app(backend))
    assert bad.status_code == 400 and bad.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    assert missing.json()["errors"][0]["type"] == "https://api.x.com/2/problems/resource-not-found"
    assert unauthorized.json()["type"] == "about:blank"
    api = spec_2167()
    for response in (bad, missing):
        api.validate_response(OpenAPIRequest(response.request), OpenAPIResponse(response))
    backend.reset()
    bad, missing, _ = await answers(create_app(backend, problem_host="api.twitter.com"))
    assert bad.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert missing.json()["errors"][0]["type"] == "https://api.twitter.com/2/problems/resource-not-found"
    with pytest.raises(ValueError):
        create_app(backend, problem_host="example.com")


def _route_auth(schemes: set[str]) -> str:
    """The fake's route kind for a spec operation's ``security`` schemes."""
    if "BearerToken" not in schemes:
        return "user"  # OAuth2UserToken and/or UserToken
    if schemes == {"BearerToken"}:
        return "app"
    if "OAuth2UserToken" not in schemes:
        return "app_or_oauth1"  # BearerToken + UserToken (webhook management)
    return "any"


@pytest.mark.parametrize("version", ["2.159", "2.167"])
def test_each_route_accepts_the_auth_the_spec_allows(app, version):
    """Each route accepts exactly the token types its operation's ``security`` lists in the spec:
    user context only, app-only only, app-only or OAuth 1.0a (webhook management), or any."""
    import json

    from ft_support import shared_dir

    spec = json.loads((shared_dir() / "data" / "x-api" / f"openapi-{version}.json").read_text())
    routes = [*app.router.static.values(), *(route for _, route in app.router.dynamic)]
    checked = 0
    for route in routes:
        if route.auth == "control":
            continue
        path = re.sub(r":([a-z_]+)", r"{\1}", route.template)
        schemes = {next(iter(s)) for s in spec["paths"][path][route.method.lower()]["security"]}
        assert route.auth == _route_auth(schemes), (route.key, schemes)
        checked += 1
    assert checked == 23
