"""tweepy 4.17.0, xdk 0.10.6 and twilio 9.13.0, unmodified and at their default hosts, against the
in-process fakes of the ``fake_x`` / ``fake_sms`` fixtures while every socket connection is refused."""

from __future__ import annotations

import socket

import pytest
import requests
import tweepy
import twilio
import xdk
from twilio.request_validator import RequestValidator
from twilio.rest import Client as TwilioClient

TO = "+919812345678"


def test_the_sdk_versions_are_the_pinned_ones():
    """The acceptance names these versions; the dev extra pins them."""
    assert tweepy.__version__ == "4.17.0"
    assert twilio.__version__ == "9.13.0"
    from importlib.metadata import version

    assert version("xdk") == "0.10.6"


def test_the_socket_guard_refuses_real_connections(no_network):
    """The guard works: a real connection attempt fails (so the SDK tests below prove no socket)."""
    with pytest.raises(ConnectionRefusedError):
        socket.socket().connect(("127.0.0.1", 9))
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=1)


def test_tweepy_post_mentions_dms_and_429(no_network, fake_x):
    """tweepy.Client with its hard-coded api.twitter.com: create and delete a post, mentions with
    pagination, DMs, OAuth 1.0a, then a 429 with X's rate-limit headers and the reset."""
    operator = fake_x.create_user("docomo_in")
    alice = fake_x.create_user("alice")
    as_alice = tweepy.Client(bearer_token=alice["bearer_token"])
    as_operator = tweepy.Client(bearer_token=operator["bearer_token"])

    doomed = as_alice.create_tweet(text="typo", user_auth=False)
    assert as_alice.delete_tweet(doomed.data["id"], user_auth=False).data == {"deleted": True}
    assert fake_x.tweets(username="alice") == []

    for n in range(7):
        as_alice.create_tweet(text=f"@docomo_in #act #PACK{n}", user_auth=False)
    pages = list(
        tweepy.Paginator(
            as_operator.get_users_mentions,
            operator["id"],
            max_results=5,
            expansions=["author_id"],
            user_auth=False,
        )
    )
    texts = [tweet.text for page in pages for tweet in page.data]
    assert [len(page.data) for page in pages] == [5, 2]
    assert texts[0] == "@docomo_in #act #PACK6" and texts[-1] == "@docomo_in #act #PACK0"
    assert pages[0].includes["users"][0].username == "alice"

    as_alice.create_direct_message(participant_id=operator["id"], text="#act #PACK1", user_auth=False)
    events = as_operator.get_direct_message_events(dm_event_fields=["sender_id"], user_auth=False)
    assert events.data[0].text == "#act #PACK1" and events.data[0].sender_id == int(alice["id"])

    keys = fake_x.app_credentials()
    oauth1 = tweepy.Client(
        consumer_key=keys["consumer_key"],
        consumer_secret=keys["consumer_secret"],
        access_token=alice["access_token"],
        access_token_secret=alice["access_token_secret"],
    )
    assert oauth1.get_me().data.username == "alice"

    fake_x.set_rate_limits(limits={"POST /2/tweets": {"user": [[1, 900]]}})
    now = fake_x.now()
    oauth1.create_tweet(text="one per window")
    with pytest.raises(tweepy.TooManyRequests) as caught:
        oauth1.create_tweet(text="one too many")
    headers = caught.value.response.headers
    assert headers["x-rate-limit-limit"] == "1" and headers["x-rate-limit-remaining"] == "0"
    assert now < int(headers["x-rate-limit-reset"]) <= now + 900
    assert caught.value.response.json()["title"] == "Too Many Requests"
    fake_x.advance(901)
    assert oauth1.create_tweet(text="next window").data["text"] == "next window"
    assert all(call.target == "fake X" for call in fake_x.calls)


def test_xdk_post_mentions_dms_and_429(no_network, fake_x):
    """xdk.Client with its default base URL (api.x.com): the same flow."""
    operator = fake_x.create_user("docomo_in")
    dave = fake_x.create_user("dave")
    as_dave = xdk.Client(access_token=dave["bearer_token"])
    as_operator = xdk.Client(access_token=operator["bearer_token"])

    doomed = as_dave.posts.create(body={"text": "typo"})
    assert as_dave.posts.delete(doomed.data.id).data.deleted is True
    for n in range(6):
        as_dave.posts.create(body={"text": f"@docomo_in #act #P{n}"})
    pages = list(as_operator.users.get_mentions(operator["id"], max_results=5, post_fields=["author_id"]))
    ids = [post.id for page in pages for post in page.data]
    assert [len(page.data) for page in pages] == [5, 1] and ids == sorted(ids, key=int, reverse=True)
    assert {post.author_id for page in pages for post in page.data} == {dave["id"]}

    as_dave.direct_messages.create_by_participant_id(operator["id"], body={"text": "#act #P1"})
    events = next(iter(as_operator.direct_messages.get_events(dm_event_fields=["sender_id"])))
    assert events.data[0].text == "#act #P1" and events.data[0].sender_id == dave["id"]

    fake_x.set_rate_limits(limits={"GET /2/users/me": {"user": [[1, 60]]}})
    as_dave.users.get_me()
    with pytest.raises(requests.HTTPError) as caught:
        as_dave.users.get_me()
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["x-rate-limit-remaining"] == "0"
    assert "x-rate-limit-reset" in caught.value.response.headers


def test_twilio_send_callbacks_and_paging(no_network, fake_sms):
    """twilio.rest.Client with its default api.twilio.com: send SMS, read their signed status
    callbacks, page the message list, see the handset."""
    sms = fake_sms
    sms.configure({"carrier": {"default": {"failure_rates": {}}}})
    client = TwilioClient(sms.account_sid, sms.auth_token)
    callback_url = "https://shop.example/sms/status"
    sids = [
        client.messages.create(
            to=TO, from_=sms.short_code, body=f"code {n}", status_callback=callback_url
        ).sid
        for n in range(5)
    ]
    assert client.messages(sids[0]).fetch().status in ("queued", "sending")
    sms.advance(120)
    assert {client.messages(sid).fetch().status for sid in sids} == {"delivered"}

    first = [c.form["MessageStatus"] for c in sms.callbacks if c.form["MessageSid"] == sids[0]]
    assert first == ["sending", "sent", "delivered"]
    validator = RequestValidator(sms.auth_token)
    for callback in sms.callbacks:
        assert callback.url == callback_url
        assert validator.validate(callback.url, callback.form, callback.headers["x-twilio-signature"])

    page = client.messages.page(page_size=2)
    assert [m.sid for m in page] == sids[::-1][:2]
    assert [m.sid for m in page.next_page()] == sids[::-1][2:4]
    assert [m.sid for m in client.messages.list(page_size=2)] == sids[::-1]
    assert sorted(m["body"] for m in sms.handset(TO)) == [f"code {n}" for n in range(5)]  # in delivery order


def test_twilio_errors_keep_their_codes(no_network, fake_sms):
    """A bad request reaches the client as Twilio's own error (code and status)."""
    from twilio.base.exceptions import TwilioRestException

    client = TwilioClient(fake_sms.account_sid, fake_sms.auth_token)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="98123", from_=fake_sms.short_code, body="x")
    assert caught.value.code == 21211 and caught.value.status == 400
