"""Contract: the clients speak the same wire format as the project's X and Twilio fakes (in-process)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_LONG_CODE, ManualClock, SmsBackend
from fake_sms import create_app as create_sms_app
from fake_twitter import ManualClock as XClock
from fake_twitter import TwitterBackend
from fake_twitter import create_app as create_x_app
from reference.clients import (
    TwilioInvalidNumber,
    TwilioSmsClient,
    XApiClient,
    XDuplicateContent,
    XRateLimited,
    XUnauthorized,
    make_async_client,
    verify_x_signature,
    x_crc_response,
)

X_BASE = "https://api.x.com"
HOOK_URL = "https://processor.example/x/webhook"


class Fakes:
    """The X fake in-process, a webhook receiver answering CRC with our code, and X clients."""

    def __init__(self) -> None:
        self.backend = TwitterBackend(XClock(1_790_000_000.0), seed=3)
        self.received: list[tuple[bytes, str | None]] = []
        hooks = httpx.AsyncClient(transport=httpx.MockTransport(self._webhook_receiver))
        self.app = create_x_app(self.backend, webhook_client=hooks, retry_delays=(0.01,))
        self.http = make_async_client(X_BASE, transport=httpx.ASGITransport(app=self.app))

    def _webhook_receiver(self, request: httpx.Request) -> httpx.Response:
        secret = self.backend.app.consumer_secret
        if request.method == "GET":
            return httpx.Response(200, json=x_crc_response(request.url.params["crc_token"], secret))
        self.received.append((request.content, request.headers.get("x-twitter-webhooks-signature")))
        return httpx.Response(200)

    async def user(self, username: str) -> tuple[XApiClient, dict[str, Any]]:
        response = await self.http.post("/_fake/users", json={"username": username})
        assert response.status_code == 201, response.text
        data = response.json()
        app_token = (await self.http.get("/_fake/app")).json()["bearer_token"]
        return XApiClient(self.http, user_token=data["bearer_token"], app_token=app_token), data


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    f = Fakes()
    yield f
    await f.app.dispatcher.aclose()
    await f.http.aclose()


async def test_mention_poll_reply_and_dm_round_trip(fakes: Fakes) -> None:
    """A subscriber's #reg mention is polled with username and created_at, replied to, and DMs flow."""
    operator, op = await fakes.user("tatadocomo")
    asha, asha_data = await fakes.user("asha")
    assert (await operator.get_me()).id == op["id"]
    assert (await asha.get_user_by_username("tatadocomo")).id == op["id"]

    mention = await asha.create_tweet("@tatadocomo #reg 9812345678")
    page = await operator.get_mentions(op["id"])
    assert [(t.id, t.username, t.author_id) for t in page.tweets] == [(mention.id, "asha", asha_data["id"])]
    assert page.tweets[0].created_at is not None and page.newest_id == mention.id

    reply = await operator.create_tweet("@asha your code is on its way", in_reply_to_tweet_id=mention.id)
    assert reply.id != mention.id
    assert (await operator.get_mentions(op["id"], since_id=page.newest_id)).tweets == ()
    limits = operator.rate_limit("POST /2/tweets")
    assert limits is not None and limits.remaining < limits.limit

    await asha.send_dm(op["id"], "#reg 9812345678")
    events = await operator.get_dm_events()
    assert any(e.sender_id == asha_data["id"] and e.text == "#reg 9812345678" for e in events.events)


async def test_mentions_paginate_to_the_end(fakes: Fakes) -> None:
    """Twelve mentions read five at a time come back complete, newest first, with no repeats."""
    operator, op = await fakes.user("tatadocomo")
    asha, _ = await fakes.user("asha")
    ids = [(await asha.create_tweet(f"@tatadocomo #act #PACK{i}")).id for i in range(12)]
    seen: list[str] = []
    token: str | None = None
    while True:
        page = await operator.get_mentions(op["id"], pagination_token=token, max_results=5)
        seen += [t.id for t in page.tweets]
        if page.next_token is None:
            break
        token = page.next_token
    assert seen == list(reversed(ids))


async def test_fake_errors_map_to_typed_exceptions(fakes: Fakes) -> None:
    """The fake's duplicate-content 403, bad token 401 and 429 arrive as our typed exceptions."""
    asha, _ = await fakes.user("asha")
    await asha.create_tweet("same words")
    with pytest.raises(XDuplicateContent):
        await asha.create_tweet("same words")
    with pytest.raises(XUnauthorized):
        await XApiClient(fakes.http, user_token="nope").get_me()
    limits = {"GET /2/users/me": {"app": [], "user": [[1, 900]]}}
    assert (await fakes.http.post("/_fake/rate-limits", json={"limits": limits})).status_code == 200
    await asha.get_me()
    with pytest.raises(XRateLimited) as caught:
        await asha.get_me()
    assert caught.value.reset_at is not None and caught.value.reset_at > 1_790_000_000


async def test_webhook_registration_crc_and_signed_delivery(fakes: Fakes) -> None:
    """Our CRC answer validates the webhook; events the fake delivers verify with our signature check."""
    operator, op = await fakes.user("tatadocomo")
    asha, _ = await fakes.user("asha")
    hook = await operator.create_webhook(HOOK_URL)
    assert hook.valid and hook.url == HOOK_URL
    assert [w.id for w in await operator.list_webhooks()] == [hook.id]
    assert await operator.validate_webhook(hook.id)
    assert await operator.subscribe(hook.id)

    await asha.create_tweet("@tatadocomo #reg 9812345678")
    assert (await fakes.http.post("/_fake/webhooks/drain")).json()["drained"]
    assert fakes.received, "the fake delivered no event"
    body, signature = fakes.received[-1]
    assert verify_x_signature(body, signature, fakes.backend.app.consumer_secret)
    assert not verify_x_signature(body, signature, "wrong")
    assert json.loads(body)["for_user_id"] == op["id"]
    assert await operator.delete_webhook(hook.id)


async def test_sms_client_against_twilio_fake() -> None:
    """The SMS client sends through the Twilio fake and maps its invalid-number error."""
    app = create_sms_app(SmsBackend(clock=ManualClock(), seed=5))
    async with make_async_client("https://api.twilio.com", transport=httpx.ASGITransport(app=app)) as http:
        sms = TwilioSmsClient(
            http,
            account_sid=DEFAULT_ACCOUNT_SID,
            auth_token=DEFAULT_AUTH_TOKEN,
            from_number=DEFAULT_LONG_CODE,
        )
        sent = await sms.send_sms("+919812345678", "Your Twittcom code is 123456", validity_period=600)
        assert sent.sid.startswith("SM") and len(sent.sid) == 34
        assert sent.num_segments == 1 and sent.status in {"queued", "accepted", "sending", "sent"}
        with pytest.raises(TwilioInvalidNumber) as caught:
            await sms.send_sms("not-a-number", "hi")
        assert caught.value.code == 21211


async def test_a_send_is_found_again_on_the_operators_timeline_and_dm_events(fakes: Fakes) -> None:
    """find_own_tweets / find_own_dms (the dispatcher's lookups) find a reply and a DM in X's format."""
    operator, op = await fakes.user("tatadocomo")
    asha, asha_data = await fakes.user("asha")
    mention = await asha.create_tweet("@tatadocomo #act #TD49DEL")
    other = await asha.create_tweet("@tatadocomo #act #TD49DEL again")
    reply = await operator.create_tweet("Pack active & paid", in_reply_to_tweet_id=mention.id)
    await operator.create_tweet("Pack active & paid twice", in_reply_to_tweet_id=other.id)
    assert await operator.find_own_tweets(op["id"], "Pack active & paid", mention.id) == [reply.id]
    assert await operator.find_own_tweets(op["id"], "Pack active & paid", other.id) == []
    assert await operator.find_own_tweets(op["id"], "Pack active", mention.id) == []
    status = await operator.create_tweet("We are back")
    assert await operator.find_own_tweets(op["id"], "We are back", None) == [status.id]
    sent = await operator.send_dm(asha_data["id"], "Your pack is active")
    await asha.send_dm(op["id"], "Your pack is active")  # the customer's own DM is not the operator's
    assert await operator.find_own_dms(op["id"], asha_data["id"], "Your pack is active") == [sent.dm_event_id]
    assert await operator.find_own_dms(op["id"], asha_data["id"], "other text") == []


async def test_a_reply_is_found_under_a_thousand_newer_tweets(fakes: Fakes) -> None:
    """A reply sent before a crash is found again after 1,500 newer tweets from the same account
    (an operator replying at hundreds a second): the read starts at the replied-to tweet."""
    operator, op = await fakes.user("tatadocomo")
    asha, _ = await fakes.user("asha")
    mention = await asha.create_tweet("@tatadocomo #act #TD49DEL")
    reply = await operator.create_tweet("Pack active", in_reply_to_tweet_id=mention.id)
    for i in range(1_500):  # straight into the fake's state: X's posting limits would stop 1,500 posts
        fakes.backend.create_tweet(int(op["id"]), f"Status {i}")
    assert await operator.find_own_tweets(op["id"], "Pack active", mention.id) == [reply.id]


async def test_an_sms_is_found_again_in_twilios_message_list() -> None:
    """find_messages (GET Messages.json?To=) finds every message with that body to that number,
    newest first; fetch_message reads one back with its status."""
    app = create_sms_app(SmsBackend(clock=ManualClock(), seed=5))
    async with make_async_client("https://api.twilio.com", transport=httpx.ASGITransport(app=app)) as http:
        sms = TwilioSmsClient(
            http,
            account_sid=DEFAULT_ACCOUNT_SID,
            auth_token=DEFAULT_AUTH_TOKEN,
            from_number=DEFAULT_LONG_CODE,
        )
        first = await sms.send_sms("+919812345678", "Pack active")
        await sms.send_sms("+919812345679", "Pack active")
        await sms.send_sms("+919812345678", "Other")
        second = await sms.send_sms("+919812345678", "Pack active")
        found = await sms.find_messages("+919812345678", "Pack active", page_size=1)
        assert [m.sid for m in found] == [second.sid, first.sid]  # across pages
        assert await sms.find_messages("+919800000000", "Pack active") == []
        fetched = await sms.fetch_message(first.sid)
        assert fetched.sid == first.sid and fetched.body == "Pack active" and fetched.status
