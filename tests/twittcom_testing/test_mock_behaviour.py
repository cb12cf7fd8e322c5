"""mock_x() / mock_twilio() as context managers and decorators (sync and async), httpx through
respx, the processor's aiohttp transports, other hosts refused or passed through, nesting,
unpatching, mounted apps receiving the fakes' webhooks, markers, faults."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator

import httpx
import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter
from respx.mocks import HTTPCoreMocker

from reference.clients.transport import make_async_client
from twittcom.testing import FakeSms, FakeX, UnmockedRequestError, active, mock_twilio, mock_x
from twittcom.testing.calllog import LOG

ORIGINAL_SEND = HTTPAdapter.send


def _me(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@mock_x()
def _tweet_once(text: str) -> list[dict[str, object]]:
    x = active(FakeX)
    alice = x.create_user("alice")
    tweepy.Client(bearer_token=alice["bearer_token"]).create_tweet(text=text, user_auth=False)
    return x.tweets()


def test_every_public_name_resolves():
    """twittcom.testing loads its names lazily; each one in __all__ is there."""
    import twittcom.testing

    for name in twittcom.testing.__all__:
        assert getattr(twittcom.testing, name) is not None
    with pytest.raises(AttributeError):
        twittcom.testing.no_such_name  # noqa: B018


def test_decorator_gives_each_call_a_fresh_seeded_fake():
    """Each decorated call starts from an empty fake with the same seed (same ids)."""
    first, second = _tweet_once("hello"), _tweet_once("hello")
    assert len(first) == 1 and len(second) == 1
    assert first[0]["id"] == second[0]["id"]
    assert HTTPAdapter.send is ORIGINAL_SEND


@mock_twilio()
async def test_async_decorator_with_httpx_async_client():
    """On an async function the decorator works too; httpx.AsyncClient reaches the fake via respx."""
    sms = active(FakeSms)
    async with httpx.AsyncClient(auth=(sms.account_sid, sms.auth_token)) as client:
        created = await client.post(
            f"https://api.twilio.com/2010-04-01/Accounts/{sms.account_sid}/Messages.json",
            data={"To": "+919812345678", "From": sms.short_code, "Body": "hi"},
        )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "queued"
    assert [m["body"] for m in sms.messages()] == ["hi"]


async def test_async_with_and_the_processors_aiohttp_transports():
    """`async with mock_x()`; the processor's own aiohttp transport and httpx-aiohttp's are routed."""
    async with mock_x() as x:
        alice = x.create_user("alice")
        for choice in ("aiohttp", "httpx-aiohttp", "httpx"):
            client = make_async_client("https://api.x.com", transport=choice)
            async with client:
                me = await client.get("/2/users/me", headers=_me(alice["bearer_token"]))
            assert me.json()["data"]["username"] == "alice", choice
        vias = {call.via for call in x.calls if call.url.endswith("/2/users/me")}
        assert vias == {"aiohttp", "httpx"}


def test_sync_httpx_and_requests_at_both_x_hosts():
    """httpx and requests reach the same fake at api.x.com and api.twitter.com."""
    with mock_x() as x:
        bob = x.create_user("bob")
        assert httpx.get("https://api.x.com/2/users/me", headers=_me(bob["bearer_token"])).status_code == 200
        twitter = requests.get("https://api.twitter.com/2/users/me", headers=_me(bob["bearer_token"]))
        assert twitter.json()["data"]["username"] == "bob"
        assert x.counters()["requests"] == 2


def test_other_hosts_fail_loudly_by_default():
    """A request for a host no fake serves raises (an AssertionError, like respx's "not mocked")."""
    with mock_x():
        for call in (
            lambda: httpx.get("https://example.com/x"),
            lambda: requests.get("https://example.com/x"),
        ):
            with pytest.raises(UnmockedRequestError, match="example.com"):
                call()
        with pytest.raises(AssertionError, match="api.twilio.com"):
            requests.get("https://api.twilio.com/2010-04-01/Accounts.json")
    assert [c.target for c in LOG.all()[-3:]] == ["refused"] * 3


@pytest.fixture
def local_server() -> Iterator[str]:
    """A plain HTTP server on a kernel-chosen loopback port answering "real"."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("content-length", "4")
            self.end_headers()
            self.wfile.write(b"real")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_other_hosts_pass_through_when_asked(local_server):
    """With other_hosts="pass" the rest of the network is reached for real."""
    with mock_x(other_hosts="pass"):
        assert httpx.get(local_server).text == "real"
        assert requests.get(local_server, timeout=5).text == "real"


def test_nested_mocks_and_unpatching():
    """mock_twilio inside mock_x serves both; leaving each restores the previous routing, and
    leaving the last removes every patch."""
    with mock_x() as x:
        token = x.create_user("carol")["bearer_token"]
        with mock_twilio() as sms:
            url = f"https://api.twilio.com/2010-04-01/Accounts/{sms.account_sid}/Messages.json"
            assert requests.get(url, auth=(sms.account_sid, sms.auth_token)).status_code == 200
            assert requests.get("https://api.x.com/2/users/me", headers=_me(token)).status_code == 200
        with pytest.raises(UnmockedRequestError):
            requests.get(url)
        with mock_x() as inner:
            unknown = requests.get("https://api.x.com/2/users/me", headers=_me(token))
            assert unknown.status_code == 401 and inner.counters()["requests"] == 1
        assert requests.get("https://api.x.com/2/users/me", headers=_me(token)).status_code == 200
    assert HTTPAdapter.send is ORIGINAL_SEND
    assert HTTPCoreMocker.routers == []


class WebhookReceiver:
    """A user's ASGI app answering X's CRC and collecting signed deliveries."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.deliveries: list[dict[str, object]] = []
        self.signatures_ok: list[bool] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "GET":
            token = dict(pair.split("=", 1) for pair in scope["query_string"].decode().split("&"))[
                "crc_token"
            ]
            digest = hmac.new(self.secret.encode(), token.encode(), hashlib.sha256).digest()
            payload = json.dumps({"response_token": "sha256=" + base64.b64encode(digest).decode()}).encode()
        else:
            signature = dict(scope["headers"])[b"x-twitter-webhooks-signature"].decode()
            digest = hmac.new(self.secret.encode(), body, hashlib.sha256).digest()
            self.signatures_ok.append(signature == "sha256=" + base64.b64encode(digest).decode())
            self.deliveries.append(json.loads(body))
            payload = b"{}"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def test_a_mounted_app_gets_crc_and_signed_webhooks(fake_x):
    """An app mounted on a host of the test's choosing receives the fake's CRC and deliveries."""
    keys = fake_x.app_credentials()
    receiver = WebhookReceiver(keys["consumer_secret"])
    fake_x.mount("hooks.shop.example", receiver)
    operator = fake_x.create_user("docomo_in")
    registered = httpx.post(
        "https://api.x.com/2/webhooks",
        json={"url": "https://hooks.shop.example/x"},
        headers=_me(keys["bearer_token"]),
    )
    assert registered.status_code == 200, registered.text
    hook = registered.json()["data"]["id"]
    subscribed = httpx.post(
        f"https://api.x.com/2/account_activity/webhooks/{hook}/subscriptions/all",
        json={},
        headers=_me(operator["bearer_token"]),
    )
    assert subscribed.json() == {"data": {"subscribed": True}}
    asha = fake_x.create_user("asha")
    tweepy.Client(bearer_token=asha["bearer_token"]).create_tweet(
        text="@docomo_in #reg 9876543210", user_auth=False
    )
    assert fake_x.drain_webhooks()
    (event,) = receiver.deliveries
    assert receiver.signatures_ok == [True]
    assert event["for_user_id"] == operator["id"]
    assert event["tweet_create_events"][0]["text"] == "@docomo_in #reg 9876543210"
    assert [r.method for r in fake_x.sent] == ["GET", "POST"]


@pytest.mark.fake_x(rate_limits="off", seed=7)
def test_marker_sets_the_fake_options(fake_x):
    """@pytest.mark.fake_x passes options to the fixture."""
    assert fake_x.control("GET", "/_fake/rate-limits")["preset"] == "off"
    with mock_x(seed=0) as other:
        assert other.create_user("a")["bearer_token"] != fake_x.create_user("a")["bearer_token"]


def test_fault_injection_reaches_the_sdk(fake_x):
    """A fault rule set from Python is what tweepy sees."""
    alice = fake_x.create_user("alice")
    fake_x.add_fault("POST /2/tweets", error_rate=1.0, error_status=503)
    with pytest.raises(tweepy.TwitterServerError):
        tweepy.Client(bearer_token=alice["bearer_token"]).create_tweet(text="x", user_auth=False)
    fake_x.clear_faults()
    assert tweepy.Client(bearer_token=alice["bearer_token"]).create_tweet(text="x", user_auth=False).data


@pytest.mark.fake_sms(config={"carrier": {"default": {"failure_rates": {}}}})
def test_sms_outage_holds_receipts_until_it_ends(fake_sms):
    """An outage added from Python holds delivery receipts in that circle."""
    import twilio.rest

    fake_sms.register_handsets({"+919812345678": "MH"})
    outage = fake_sms.add_outage("MH")
    client = twilio.rest.Client(fake_sms.account_sid, fake_sms.auth_token)
    sid = client.messages.create(to="+919812345678", from_=fake_sms.short_code, body="held").sid
    fake_sms.advance(60)
    assert client.messages(sid).fetch().status == "sent"
    fake_sms.control("DELETE", f"/_fake/outages/{outage['id']}")
    fake_sms.advance(120)
    assert client.messages(sid).fetch().status == "delivered"
