"""Live-stack features: DMs, the registration page, outage mode and the X write budget."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest
from rt_stack import ADMIN, ASHA_NO, MEERA_NO, Stack


async def _operator_tweets(stack: Stack) -> list[dict[str, object]]:
    response = await stack.x.get("/_fake/tweets", params={"username": "tatadocomo", "limit": "200"})
    body = response.json()
    return list(body.get("data", body) if isinstance(body, dict) else body)


async def test_commands_by_dm_are_answered_by_dm_and_sms(stack: Stack) -> None:
    """A DM 'reg <mobile>' gets a DM answer and the code SMS; the code by DM links the number."""
    meera = await stack.user("meera")
    await stack.dm(meera, "reg 63000 00003")
    await stack.settle()
    code = await stack.code_for(MEERA_NO)
    await stack.dm(meera, f"code {code}")
    await stack.settle()
    dms = (await stack.x.get(f"/_fake/timelines/{meera.id}", params={"kind": "dms"})).json()
    texts = [d.get("text", "") for d in (dms.get("data", dms) if isinstance(dms, dict) else dms)]
    assert sum(1 for t in texts if "63XXXXXX03" in t or "linked" in t.lower()) >= 2, texts
    info = (await stack.admin_get("/admin/handles/meera")).json()
    assert info["msisdn"] == MEERA_NO


async def test_registration_page_sends_the_code_through_the_processor(stack: Stack) -> None:
    """Handle + mobile on the page: the code SMS goes out, the page says to tweet it, tweeting it links."""
    assert stack.client is not None
    asha = await stack.user("asha")
    form = await stack.client.get("/register")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token is not None
    page = await stack.client.post(
        "/register", data={"csrf_token": token.group(1), "handle": "@asha", "mobile": "98123-45678"}
    )
    assert page.status_code == 200 and "98XXXXXX78" in page.text and "@tatadocomo" in page.text
    await stack.settle()
    code = await stack.code_for(ASHA_NO)
    assert not await _operator_tweets(stack), "a web request is not answered by tweet"
    await stack.tweet(asha, f"@tatadocomo #code {code}")
    await stack.settle()
    assert (await stack.admin_get("/admin/handles/asha")).json()["msisdn"] == ASHA_NO
    timeline = (await stack.admin_get("/admin/handles/asha/timeline")).json()["entries"]
    assert timeline[0]["kind"] == "web_in"


async def test_registration_page_refuses_an_unknown_handle(stack: Stack) -> None:
    """A handle X does not know is refused on the page and nothing is sent."""
    assert stack.client is not None
    form = await stack.client.get("/register")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token is not None
    page = await stack.client.post(
        "/register", data={"csrf_token": token.group(1), "handle": "ghost_user", "mobile": "9812345678"}
    )
    assert page.status_code >= 400 and "ghost_user" in page.text
    assert await stack.sms_to(ASHA_NO) == []


async def test_outage_mode_posts_the_status_and_answers_complaints(stack: Stack) -> None:
    """Outage on: the status tweet goes out and complaints get the status; off: complaints get nothing."""
    assert stack.client is not None
    auth = {"Authorization": f"Bearer {ADMIN}"}
    assert (await stack.client.post("/admin/outage", json={"text": " "}, headers=auth)).status_code == 400
    status = "Data services in Delhi are down; engineers expect a fix by 6 pm. Sorry!"
    on = await stack.client.post("/admin/outage", json={"text": status}, headers=auth)
    assert on.status_code == 200 and on.json()["on"] is True
    ravi = await stack.user("ravi")
    complaint = await stack.tweet(ravi, "@tatadocomo my internet is not working since morning!!")
    reg = await stack.tweet(ravi, "@tatadocomo #reg 9876543210")
    await stack.settle()
    tweets = await _operator_tweets(stack)
    assert any(t.get("text") == status for t in tweets), "no status tweet"
    replies = await stack.replies_to(complaint)
    assert (
        len(replies) == 1
        and status in str(replies[0]["text"])
        and str(replies[0]["text"]).startswith("@ravi")
    )
    assert len(await stack.replies_to(reg)) == 1
    assert (await stack.admin_get("/admin/outage")).json()["on"] is True
    off = await stack.client.delete("/admin/outage", headers=auth)
    assert off.json()["on"] is False
    later = await stack.tweet(ravi, "@tatadocomo still nothing")
    await stack.settle()
    assert await stack.replies_to(later) == []


@pytest.fixture
async def tight_budget() -> Stack:
    live = Stack("memory://", x_user_tweet_limit=2)
    await live.start()
    yield live  # type: ignore[misc]
    await live.stop()


async def test_spent_write_budget_confirms_by_sms_alone(tight_budget: Stack) -> None:
    """With a 2-tweet budget the third reply is skipped (counted) and its SMS still arrives."""
    stack = tight_budget
    asha = await stack.user("asha")
    await stack.tweet(asha, "@tatadocomo #reg 9812345678")
    await stack.settle()
    await stack.tweet(asha, f"@tatadocomo {await stack.code_for(ASHA_NO)}")
    await stack.settle()
    buy = await stack.tweet(asha, "@tatadocomo #act #TD49DEL")
    await stack.settle()
    assert await stack.replies_to(buy) == []
    bodies = [m["body"] for m in await stack.sms_to(ASHA_NO)]
    assert any("activated" in b for b in bodies)
    stats = (await stack.admin_get("/admin/stats")).json()
    assert stats["outbox"]["skipped_budget"] == 1 and stats["write_budget_left"] == 0
    assert stack.client is not None
    assert "twittcom_replies_skipped_budget_total 1.0" in (await stack.client.get("/metrics")).text


async def test_the_service_registers_its_webhook_and_answers_the_crc() -> None:
    """With register_webhook the service creates and subscribes its webhook; X's CRC check passes."""
    live = Stack("memory://", register_webhook=True)
    await live.start(register_webhook=False)
    try:
        hooks: list[dict[str, object]] = []
        for _ in range(100):
            assert live.service is not None and live.service.x is not None
            hooks = [{"url": w.url, "valid": w.valid} for w in await live.service.x.list_webhooks()]
            if hooks:
                break
            await asyncio.sleep(0.05)
        assert hooks == [{"url": live.service.config.webhook_url, "valid": True}]
        asha = await live.user("asha")
        await live.tweet(asha, "@tatadocomo #reg 9812345678")
        await live.settle()
        assert await live.code_for(ASHA_NO)
    finally:
        await live.stop()


async def test_the_service_manages_its_webhook_with_the_app_token() -> None:
    """Spec 2.167: POST /2/webhooks takes the app-only BearerToken or OAuth 1.0a (UserToken), not an
    OAuth 2.0 user token, and subscribing takes user context. The service registers with its
    configured app token and subscribes with the operator's user token."""
    live = Stack("memory://", register_webhook=True)
    seen: list[tuple[str, str, str]] = []

    async def record(request: httpx.Request) -> None:
        if "webhooks" in request.url.path:
            seen.append((request.method, request.url.path, request.headers.get("authorization", "")))

    live.x.event_hooks["request"].append(record)
    await live.start(register_webhook=False)
    try:
        assert live.service is not None and live.operator is not None
        assert live.service.config.problems() == []
        for _ in range(100):
            if live.x_backend.webhooks.subscribed_users:
                break
            await asyncio.sleep(0.05)
        app_auth = f"Bearer {live.x_backend.app.bearer_token}"
        hook_id = next(iter(live.x_backend.webhooks.webhooks))
        assert seen[:3] == [
            ("GET", "/2/webhooks", app_auth),  # the health check looks for it first
            ("POST", "/2/webhooks", app_auth),
            (
                "POST",
                f"/2/account_activity/webhooks/{hook_id}/subscriptions/all",
                f"Bearer {live.operator.token}",
            ),
        ]
    finally:
        await live.stop()


async def test_without_an_app_token_webhook_registration_is_reported_missing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """register_webhook with no x_app_token: readiness names it, and X refuses the operator's
    OAuth 2.0 user token on POST /2/webhooks (403 unsupported-authentication), so nothing registers."""
    live = Stack("memory://", register_webhook=True, x_app_token="")
    await live.start(register_webhook=False)
    try:
        assert live.service is not None and live.client is not None
        assert "x_app_token (webhook registration)" in live.service.config.problems()
        ready = await live.client.get("/readyz")
        assert ready.status_code == 503
        assert "x_app_token (webhook registration)" in str(ready.json()["checks"])
        with caplog.at_level(logging.ERROR, logger="reference.runtime.supervisor"):
            for _ in range(100):
                if any("webhook registration" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
        failed = [r for r in caplog.records if "webhook registration" in r.getMessage()]
        assert failed and failed[0].exc_info is not None
        error = failed[0].exc_info[1]
        assert getattr(error, "status", None) == 403
        assert getattr(error, "type", "").endswith("/unsupported-authentication")
        assert live.x_backend.webhooks.webhooks == {}
    finally:
        await live.stop()
