"""The ``twittcom_stack`` fixture: the whole stack in-process, driven with the SDKs at their real
hosts and with httpx at the processor's URL, from sync and async tests, with no sockets."""

from __future__ import annotations

import time

import httpx
import pytest
import tweepy
from twilio.rest import Client as TwilioClient


def _wait_for(probe, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.twittcom_stack(population=12, seed=3)
def test_a_registration_flows_through_the_stack(no_network, twittcom_stack):
    """tweepy's #reg tweet reaches the processor by fake X's webhook; the code arrives by fake SMS
    (seen on the handset and through twilio's own client); the admin API answers at stack.url."""
    stack = twittcom_stack
    assert len(stack.stack.population.subscribers) == 12
    subscriber = next(s for s in stack.stack.population.subscribers if s.active)
    asha = stack.x.create_user("asha")
    tweet = tweepy.Client(bearer_token=asha["bearer_token"]).create_tweet(
        text=f"@{stack.operator['username']} #reg {subscriber.msisdn}", user_auth=False
    )
    (code_sms,) = _wait_for(lambda: stack.sms.handset(subscriber.msisdn))
    assert "code" in code_sms["body"]
    twilio = TwilioClient(stack.sms.account_sid, stack.sms.auth_token)
    assert [m.to for m in twilio.messages.list()] == [subscriber.msisdn]
    replies = _wait_for(
        lambda: [
            t for t in stack.x.tweets(username=stack.operator["username"]) if t.get("in_reply_to_user_id")
        ]
    )
    assert replies[0]["conversation_id"] == tweet.data["id"]
    stats = httpx.get(stack.url + "/admin/stats", headers=stack.admin_headers)
    assert stats.status_code == 200 and stats.json()["totals"]["inbox"] == 1
    assert httpx.get(stack.url + "/admin/stats").status_code == 401
    assert stack.admin("/admin/stats")["totals"]["inbox"] == 1
    from twittcom.testing import FakeSms, FakeX, StackHandle, active

    assert (active(StackHandle), active(FakeX), active(FakeSms)) == (stack, stack.x, stack.sms)


async def test_the_stack_from_an_async_test(twittcom_stack):
    """The same fixture in an async test: an httpx.AsyncClient reaches the processor in-process."""
    async with httpx.AsyncClient(base_url=twittcom_stack.url, headers=twittcom_stack.admin_headers) as client:
        catalog = await client.get("/admin/catalog", params={"circle": "DL"})
    assert catalog.status_code == 200 and catalog.json()["packs"]
