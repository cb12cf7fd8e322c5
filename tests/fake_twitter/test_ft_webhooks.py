"""Account Activity webhooks: CRC and signatures by the documented algorithm, payloads, retries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json

import httpx
import pytest
from ft_support import BASE_URL, app_headers, make_user

from fake_twitter import TwitterBackend, create_app

SECRET = "test-consumer-secret"
HOOK = "http://127.0.0.1:9/webhooks/twitter"


def documented_crc(consumer_secret: str, crc_token: str) -> str:
    """The docs' Python example, written here independently of the fake's code."""
    digest = hmac.new(consumer_secret.encode("utf-8"), crc_token.encode("utf-8"), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


class Receiver:
    """A webhook endpoint (an httpx MockTransport handler) that answers CRCs and records deliveries."""

    def __init__(self, secret: str = SECRET, fail_first: int = 0, crc_ok: bool = True) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.crc_ok = crc_ok
        self.crc_tokens: list[str] = []
        self.deliveries: list[tuple[bytes, str]] = []
        self.attempts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            token = request.url.params["crc_token"]
            self.crc_tokens.append(token)
            answer = documented_crc(self.secret if self.crc_ok else "wrong", token)
            return httpx.Response(200, json={"response_token": answer})
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return httpx.Response(500)
        self.deliveries.append((request.content, request.headers["x-twitter-webhooks-signature"]))
        return httpx.Response(200)

    def payloads(self) -> list[dict]:
        return [json.loads(body) for body, _ in self.deliveries]


async def setup(receiver: Receiver, retry_delays=(0.01, 0.01, 0.01)):
    backend = TwitterBackend(seed=3, consumer_secret=SECRET)
    hook_client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    app = create_app(backend, webhook_client=hook_client, retry_delays=retry_delays)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    return app, client


async def subscribe_operator(client: httpx.AsyncClient):
    operator = await make_user(client, "docomo")
    created = await client.post("/2/webhooks", json={"url": HOOK}, headers=await app_headers(client))
    assert created.status_code == 200, created.text
    webhook_id = created.json()["id"]
    subscribed = await client.post(
        f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all", json={}, headers=operator.headers
    )
    assert subscribed.json() == {"data": {"subscribed": True}}
    return operator, webhook_id


async def test_crc_answer_is_checked_with_the_documented_hmac():
    """Registering a webhook sends a CRC; only the documented HMAC-SHA256 answer registers it."""
    good = Receiver()
    app, client = await setup(good)
    response = await client.post("/2/webhooks", json={"url": HOOK}, headers=await app_headers(client))
    assert response.status_code == 200 and response.json()["valid"] is True
    assert len(good.crc_tokens) == 1
    bad = Receiver(crc_ok=False)
    app2, client2 = await setup(bad)
    refused = await client2.post("/2/webhooks", json={"url": HOOK}, headers=await app_headers(client2))
    assert refused.status_code == 400 and "Crc" in refused.json()["errors"][0]["message"]
    assert (await client2.get("/2/webhooks", headers=await app_headers(client2))).json()["meta"][
        "result_count"
    ] == 0


async def test_put_revalidates_and_marks_invalid_webhooks():
    """PUT /2/webhooks/:id re-runs the CRC; a failed one marks the webhook invalid."""
    receiver = Receiver()
    app, client = await setup(receiver)
    _, webhook_id = await subscribe_operator(client)
    receiver.crc_ok = False
    assert (
        await client.put(f"/2/webhooks/{webhook_id}", headers=await app_headers(client))
    ).status_code == 200
    listed = (await client.get("/2/webhooks", headers=await app_headers(client))).json()["data"]
    assert listed[0]["valid"] is False and len(receiver.crc_tokens) == 2


def _oauth1(app: dict, user, url: str, method: str) -> dict[str, str]:
    """OAuth 1.0a headers signed by oauthlib (independent of the fake's code); JSON bodies are unsigned."""
    from oauthlib.oauth1 import Client as OAuth1Client

    signer = OAuth1Client(
        app["consumer_key"],
        client_secret=app["consumer_secret"],
        resource_owner_key=user.data["access_token"],
        resource_owner_secret=user.data["access_token_secret"],
    )
    return signer.sign(url, http_method=method)[1]


async def test_webhook_management_takes_the_app_token_or_oauth1_not_an_oauth2_user_token():
    """Spec 2.167 security: GET /2/webhooks is BearerToken only; POST /2/webhooks and
    PUT|DELETE /2/webhooks/:id are UserToken (OAuth 1.0a) or BearerToken. An OAuth 2.0 user token
    gets 403 unsupported-authentication naming the supported types; the others are served."""
    receiver = Receiver()
    app, client = await setup(receiver)
    alice = await make_user(client, "alice")
    fake_app = (await client.get("/_fake/app")).json()
    unsupported = "https://api.x.com/2/problems/unsupported-authentication"

    refused = await client.post("/2/webhooks", json={"url": HOOK}, headers=alice.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json() == {
        "title": "Unsupported Authentication",
        "type": unsupported,
        "status": 403,
        "detail": "Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 Application-Only].",
    }
    listed = await client.get("/2/webhooks", headers=alice.headers)
    assert listed.status_code == 403 and listed.json()["type"] == unsupported
    assert listed.json()["detail"].endswith(
        "Supported authentication types are [OAuth 2.0 Application-Only]."
    )
    assert receiver.crc_tokens == [] and app.backend.webhooks.webhooks == {}

    by_app = await client.post("/2/webhooks", json={"url": HOOK}, headers=await app_headers(client))
    assert by_app.status_code == 200, by_app.text
    app_hook = by_app.json()["id"]
    signed = _oauth1(fake_app, alice, f"{BASE_URL}/2/webhooks", "POST")
    by_oauth1 = await client.post("/2/webhooks", json={"url": HOOK + "/2"}, headers=signed)
    assert by_oauth1.status_code == 200, by_oauth1.text
    assert len(receiver.crc_tokens) == 2

    listed = await client.get("/2/webhooks", headers=await app_headers(client))
    assert listed.status_code == 200 and listed.json()["meta"]["result_count"] == 2
    oauth1_list = await client.get(
        "/2/webhooks", headers=_oauth1(fake_app, alice, f"{BASE_URL}/2/webhooks", "GET")
    )
    assert oauth1_list.status_code == 403
    assert oauth1_list.json()["detail"].startswith("Authenticating with OAuth 1.0a User Context is forbidden")

    path = f"/2/webhooks/{app_hook}"
    for method in ("PUT", "DELETE"):
        assert (await client.request(method, path, headers=alice.headers)).status_code == 403
    revalidated = await client.put(path, headers=_oauth1(fake_app, alice, BASE_URL + path, "PUT"))
    assert revalidated.json() == {"data": {"attempted": True}}
    deleted = await client.delete(path, headers=await app_headers(client))
    assert deleted.json() == {"data": {"deleted": True}}

    subscribe = f"/2/account_activity/webhooks/{by_oauth1.json()['id']}/subscriptions/all"
    app_only = await client.post(subscribe, json={}, headers=await app_headers(client))
    assert app_only.status_code == 403 and app_only.json()["type"] == unsupported
    assert (await client.post(subscribe, json={}, headers=alice.headers)).json() == {
        "data": {"subscribed": True}
    }
    await app.dispatcher.aclose()


async def test_mention_is_delivered_signed_in_v11_shape():
    """A mention of a subscribed user arrives as tweet_create_events with a valid signature header."""
    receiver = Receiver()
    app, client = await setup(receiver)
    operator, _ = await subscribe_operator(client)
    alice = await make_user(client, "alice")
    await client.post("/2/tweets", json={"text": "@docomo #reg 9876543210"}, headers=alice.headers)
    assert (await client.post("/_fake/webhooks/drain")).json()["drained"] is True
    ((body, signature),) = receiver.deliveries
    expected = "sha256=" + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(signature, expected)
    payload = json.loads(body)
    assert payload["for_user_id"] == operator.id and payload["user_has_blocked"] == "false"
    tweet = payload["tweet_create_events"][0]
    assert tweet["id_str"] == str(tweet["id"]) and tweet["user"]["screen_name"] == "alice"
    assert tweet["entities"]["hashtags"] == [{"text": "reg", "indices": [8, 12]}]
    assert tweet["entities"]["user_mentions"][0]["id_str"] == operator.id
    assert tweet["created_at"].endswith(" +0000 " + tweet["created_at"][-4:])


async def test_dm_is_delivered_with_users_keyed_by_id():
    """A DM to a subscribed user arrives as direct_message_events with apps and users objects."""
    receiver = Receiver()
    app, client = await setup(receiver)
    operator, _ = await subscribe_operator(client)
    bob = await make_user(client, "bob")
    await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages", json={"text": "#act #PACK10"}, headers=bob.headers
    )
    await app.dispatcher.drain(5)
    payload = receiver.payloads()[0]
    event = payload["direct_message_events"][0]
    assert event["type"] == "message_create"
    assert event["message_create"]["target"]["recipient_id"] == operator.id
    assert event["message_create"]["sender_id"] == bob.id
    assert event["message_create"]["message_data"]["text"] == "#act #PACK10"
    assert set(payload["users"]) == {operator.id, bob.id}
    assert payload["users"][bob.id]["screen_name"] == "bob"


async def test_failed_deliveries_are_retried_then_counted():
    """Non-2xx answers are retried on the schedule; success after retries counts once, retries counted."""
    receiver = Receiver(fail_first=2)
    app, client = await setup(receiver)
    await subscribe_operator(client)
    carol = await make_user(client, "carol")
    await client.post("/2/tweets", json={"text": "@docomo hi"}, headers=carol.headers)
    await app.dispatcher.drain(5)
    counters = (await client.get("/_fake/counters")).json()
    assert counters["webhook_delivered"] == 1 and counters["webhook_retries"] == 2
    assert counters["webhook_pending"] == 0 and len(receiver.deliveries) == 1


async def test_delivery_gives_up_after_the_schedule():
    """After the initial attempt and one retry per delay, the event is counted as failed."""
    receiver = Receiver(fail_first=100)
    app, client = await setup(receiver, retry_delays=(0.01, 0.01))
    await subscribe_operator(client)
    dave = await make_user(client, "dave")
    await client.post("/2/tweets", json={"text": "@docomo hi"}, headers=dave.headers)
    await app.dispatcher.drain(5)
    assert receiver.attempts == 3
    assert app.dispatcher.counters()["webhook_failed"] == 1


async def test_delivery_does_not_block_the_request():
    """POST /2/tweets answers while the webhook endpoint is still busy with the delivery."""
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(
                200, json={"response_token": documented_crc(SECRET, request.url.params["crc_token"])}
            )
        await release.wait()
        return httpx.Response(200)

    backend = TwitterBackend(consumer_secret=SECRET)
    app = create_app(backend, webhook_client=httpx.AsyncClient(transport=httpx.MockTransport(slow)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    await subscribe_operator(client)
    erin = await make_user(client, "erin")
    response = await asyncio.wait_for(
        client.post("/2/tweets", json={"text": "@docomo hi"}, headers=erin.headers), timeout=2
    )
    assert response.status_code == 201
    await asyncio.sleep(0.05)
    assert app.dispatcher.counters()["webhook_pending"] == 1
    release.set()
    assert await app.dispatcher.drain(5)
    assert app.dispatcher.counters()["webhook_delivered"] == 1


async def test_unsubscribed_users_get_nothing():
    """Mentions of users without a subscription produce no deliveries."""
    receiver = Receiver()
    app, client = await setup(receiver)
    await subscribe_operator(client)
    frank = await make_user(client, "frank")
    await make_user(client, "grace")
    await client.post("/2/tweets", json={"text": "@grace hello"}, headers=frank.headers)
    await app.dispatcher.drain(5)
    assert receiver.deliveries == []
    assert (await client.get("/_fake/counters")).json()["webhook_events"] == 0


@pytest.mark.parametrize("token", ["abc", "x" * 64, "ü-token"])
def test_fake_crc_helper_matches_the_documented_algorithm(token):
    """fake_twitter.crc_response_token equals the docs' computation for any token."""
    from fake_twitter import crc_response_token

    assert crc_response_token(SECRET, token) == documented_crc(SECRET, token)


async def test_reset_keeps_delivering_and_clears_counters():
    """After POST /_fake/reset the dispatcher counters restart and new events are still delivered."""
    receiver = Receiver()
    app, client = await setup(receiver)
    await subscribe_operator(client)
    ivan = await make_user(client, "ivan")
    await client.post("/2/tweets", json={"text": "@docomo one"}, headers=ivan.headers)
    await app.dispatcher.drain(5)
    await client.post("/_fake/reset")
    assert (await client.get("/_fake/counters")).json()["webhook_delivered"] == 0
    await subscribe_operator(client)
    judy = await make_user(client, "judy")
    await client.post("/2/tweets", json={"text": "@docomo two"}, headers=judy.headers)
    assert (await client.post("/_fake/webhooks/drain")).json()["webhook_delivered"] == 1
    assert [p["tweet_create_events"][0]["text"] for p in receiver.payloads()] == [
        "@docomo one",
        "@docomo two",
    ]


async def _manual_setup(receiver: Receiver):
    from fake_twitter import ManualClock

    clock = ManualClock()
    backend = TwitterBackend(clock, seed=4, consumer_secret=SECRET)
    hook_client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    app = create_app(backend, webhook_client=hook_client, retry_delays=(0.01,))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    return clock, app, client


async def test_crc_is_resent_hourly_and_failure_stops_events():
    """After an hour on the fake's clock a delivery re-runs the CRC; failing it marks the webhook invalid."""
    receiver = Receiver()
    clock, app, client = await _manual_setup(receiver)
    await subscribe_operator(client)
    kim = await make_user(client, "kim")
    await client.post("/2/tweets", json={"text": "@docomo one"}, headers=kim.headers)
    await app.dispatcher.drain(5)
    assert len(receiver.crc_tokens) == 1
    clock.advance(3601)
    await client.post("/2/tweets", json={"text": "@docomo two"}, headers=kim.headers)
    await app.dispatcher.drain(5)
    assert len(receiver.crc_tokens) == 2 and len(receiver.deliveries) == 2
    receiver.crc_ok = False
    clock.advance(3601)
    await client.post("/2/tweets", json={"text": "@docomo three"}, headers=kim.headers)
    await app.dispatcher.drain(5)
    counters = (await client.get("/_fake/counters")).json()
    assert (
        len(receiver.deliveries) == 2
        and counters["webhook_failed"] == 1
        and counters["webhook_crc_checks"] == 2
    )
    listed = (await client.get("/2/webhooks", headers=await app_headers(client))).json()["data"]
    assert listed[0]["valid"] is False


async def test_deleting_a_tweet_sends_tweet_delete_events():
    """A subscribed user's deletion arrives as tweet_delete_events with the status id."""
    receiver = Receiver()
    clock, app, client = await _manual_setup(receiver)
    operator, _ = await subscribe_operator(client)
    posted = await client.post("/2/tweets", json={"text": "oops"}, headers=operator.headers)
    tweet_id = posted.json()["data"]["id"]
    await client.delete(f"/2/tweets/{tweet_id}", headers=operator.headers)
    await app.dispatcher.drain(5)
    deleted = receiver.payloads()[-1]
    assert deleted["for_user_id"] == operator.id
    assert deleted["tweet_delete_events"][0]["status"] == {"id": tweet_id, "user_id": operator.id}


async def test_delivery_faults_lose_attempts_that_are_then_retried():
    """A "webhooks" fault rule applies to deliveries only: an error rate of 1 loses every attempt
    (counted as faulted, then failed); an outage window holds deliveries until it ends, the retry
    then succeeds; "*" rules leave deliveries alone."""
    receiver = Receiver()
    app, client = await setup(receiver, retry_delays=(0.01, 0.01))
    await subscribe_operator(client)
    erin = await make_user(client, "erin")
    await client.post(
        "/_fake/faults", json={"route": "*", "error_rate": 0.0, "latency": {"kind": "fixed", "a": 0}}
    )
    await client.post("/_fake/faults", json={"route": "webhooks", "error_rate": 1.0})
    await client.post("/2/tweets", json={"text": "@docomo lost"}, headers=erin.headers)
    await app.dispatcher.drain(5)
    counters = (await client.get("/_fake/counters")).json()
    assert receiver.attempts == 0 and counters["webhook_faulted"] == 3 and counters["webhook_failed"] == 1
    outage = {"route": "webhooks", "outages": [{"start_in": 0, "duration": 0.3}]}
    await client.post("/_fake/faults", json=outage)
    app.dispatcher.retry_delays = (0.6,)
    await client.post("/2/tweets", json={"text": "@docomo held"}, headers=erin.headers)
    await app.dispatcher.drain(5)
    assert [p["tweet_create_events"][0]["text"] for p in receiver.payloads()] == ["@docomo held"]
    assert app.dispatcher.counters()["webhook_faulted"] == 4
