"""Webhooks that heal: the service checks its X webhook, re-validates or re-registers it, polls
while it is invalid (no mention lost) and reports it in /readyz and /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rt_stack import ASHA_NO, MEERA_NO, PUBLIC, RAVI_NO, Stack

from reference.clients.x_models import Webhook


class Gate:
    """The service as X reaches it: while ``down`` every request gets a 503 (as a stopped service
    behind a proxy would), so X's CRC checks fail."""

    def __init__(self) -> None:
        self.app: Any = None
        self.down = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.down and scope["type"] == "http":
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


async def _until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _codes(live: Stack, number: str) -> list[str]:
    return [str(m.get("body")) for m in await live.sms_to(number) if "code is" in str(m.get("body", ""))]


async def _restart(live: Stack, gate: Gate) -> httpx.AsyncClient:
    live.service = live.build_service()
    gate.app = live.service.app
    await live.service.start()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=live.service.app), base_url=PUBLIC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def durable_dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store that outlives the service (a restart must find what the first run left)."""
    if request.param == "sqlite":
        return str(tmp_path / "heal.db")
    return str(request.getfixturevalue("pg_schema_factory")())


async def test_a_webhook_invalidated_while_down_heals_and_no_mention_is_lost(durable_dsn: str) -> None:
    """The issue's scenario: stop the service, X re-checks the webhook an hour later (fake clock
    +1 h) and marks it invalid, a mention arrives, restart. The service finds the webhook invalid,
    reports it in /readyz (503) while X's CRC still fails, polls meanwhile (the mention gets its
    code), then re-validates it with PUT /2/webhooks/:id once X can reach it: ready, valid, and
    the next mention comes by webhook. Each number gets exactly one code."""
    live = Stack(durable_dsn, register_webhook=True, webhook_check_interval_s=0.2, poll_interval_s=0.2)
    gate = Gate()
    live.to_service.target = gate
    await live.sms_app.start()
    live.operator = await live.user("tatadocomo")
    first = live.build_service()
    live.service, gate.app = first, first.app
    await first.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=first.app), base_url=PUBLIC)
    live.client = client
    try:
        await _until(lambda: _ready(client), "the first registration")
        asha = await live.user("asha")
        ravi = await live.user("ravi")
        meera = await live.user("meera")
        await live.tweet(asha, "@tatadocomo #reg 9812345678")
        await live.settle()
        assert len(await _codes(live, ASHA_NO)) == 1

        await first.stop()
        gate.down = True
        advanced = await live.x.post("/_fake/clock/advance", json={"seconds": 3601})
        assert advanced.status_code == 200, advanced.text
        await live.tweet(ravi, "@tatadocomo #reg 9876543210")
        await live.x.post("/_fake/webhooks/drain", params={"timeout": "5"})
        assert [w.valid for w in live.x_backend.webhooks.webhooks.values()] == [False]

        await client.aclose()
        client = await _restart(live, gate)
        live.client = client

        async def reports_invalid() -> bool:
            ready = await client.get("/readyz")
            webhook = ready.json()["checks"].get("webhook", {})
            return ready.status_code == 503 and webhook.get("state") == "invalid"

        await _until(reports_invalid, "/readyz to report the invalid webhook")
        ready = (await client.get("/readyz")).json()
        assert ready["checks"]["webhook"]["polling_fallback"] is True
        await _until(lambda: _has_code(live, RAVI_NO), "the mention sent while down (fallback polling)")
        assert "twittcom_webhook_valid 0.0" in (await client.get("/metrics")).text
        assert await reports_invalid()  # still invalid: X cannot reach the service yet

        gate.down = False
        await _until(lambda: _ready(client), "the webhook to be re-validated")
        assert [w.valid for w in live.x_backend.webhooks.webhooks.values()] == [True]
        metrics = (await client.get("/metrics")).text
        assert "twittcom_webhook_valid 1.0" in metrics
        assert 'twittcom_webhook_heals_total{how="validated"} 1.0' in metrics

        await live.tweet(meera, "@tatadocomo #reg 6300000003")
        await live.settle()
        assert live.x_backend.webhooks.webhooks  # still one webhook, now delivering
        for number in (ASHA_NO, RAVI_NO, MEERA_NO):
            assert len(await _codes(live, number)) == 1, number
    finally:
        await live.stop()


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def _has_code(live: Stack, number: str) -> bool:
    assert live.service is not None
    await live.service.drain(timeout=1.0)
    return bool(await _codes(live, number))


async def test_a_duplicate_url_answer_adopts_the_registered_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    """POST /2/webhooks answering DuplicateUrlFailed (another process registered the URL between our
    list and our create) is not a failure: the service lists again and uses that webhook."""
    live = Stack("memory://", register_webhook=True, webhook_check_interval_s=0.2)
    await live.start(register_webhook=True)  # the URL is registered before the service checks
    try:
        assert live.service is not None and live.service.x is not None
        x = live.service.x
        real_list = x.list_webhooks
        calls = {"list": 0}

        async def list_hiding_it_once() -> list[Webhook]:
            calls["list"] += 1
            return [] if calls["list"] == 1 else await real_list()

        monkeypatch.setattr(x, "list_webhooks", list_hiding_it_once)
        assert live.service.webhook_health is not None
        live.service.webhook_health.status.state = "unchecked"
        status = await live.service.webhook_health.check()
        assert status.state == "valid" and status.error is None
        assert status.webhook_id == str(next(iter(live.x_backend.webhooks.webhooks)))
        assert len(live.x_backend.webhooks.webhooks) == 1
    finally:
        await live.stop()
