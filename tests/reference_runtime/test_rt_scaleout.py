"""Scale-out on PostgreSQL: two services share one queue and one outbox (SKIP LOCKED), invariants intact."""

from __future__ import annotations

import asyncio
import random

import httpx
import psycopg
import pytest
from rt_procs import OPERATOR_ID, OTP_KEY, SECRET, prepare_linked_users, signed_mention, stub_upstream

from reference.bootstrap import Settings, build_service
from reference.runtime import Service, ServiceConfig

pytestmark = pytest.mark.postgres

USERS = 24
BALANCE = 15_000
PRICE = 4_900


def _service(dsn: str, upstream: httpx.AsyncClient) -> Service:
    config = ServiceConfig(
        dsn=dsn, operator_user_id=OPERATOR_ID, x_user_token="operator", x_consumer_secret=SECRET,
        twilio_account_sid="AC" + "0" * 32, twilio_auth_token="token", twilio_from="54321",
        admin_token="admin", workers=2, batch_size=16, dispatch_batch=16, dispatch_loops=2, idle_wait_s=0.02,
        x_user_tweet_limit=0, x_app_tweet_limit=0,
    )  # fmt: skip
    return build_service(config, x_http=upstream, sms_http=upstream, settings=Settings(otp_key=OTP_KEY))


async def test_two_services_share_the_work_without_double_debits_or_sends(pg_schema_factory) -> None:
    """Events split over two services, some sent to both: each tweet debits once, each row goes once."""
    dsn = pg_schema_factory()
    users = await asyncio.to_thread(prepare_linked_users, dsn, USERS, BALANCE)
    stub = stub_upstream()
    upstream = httpx.AsyncClient(transport=httpx.ASGITransport(app=stub), base_url="http://upstream")
    services = [_service(dsn, upstream), _service(dsn, upstream)]
    for service in services:
        await service.start()
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=s.app), base_url="http://svc") for s in services
    ]
    rng = random.Random(4)
    deliveries = []
    for round_ in range(6):
        for user_id, handle, _ in users:
            tweet_id = str(1_700_000_000_000_000_000 + round_ * 1000 + int(user_id))
            body, headers = signed_mention(tweet_id, user_id, handle, "@tatadocomo #act #TD49DEL")
            targets = [0, 1] if rng.random() < 0.25 else [rng.randrange(2)]  # a quarter reach both
            deliveries += [(clients[t], body, headers) for t in targets]
    rng.shuffle(deliveries)
    try:
        for start in range(0, len(deliveries), 32):
            responses = await asyncio.gather(
                *(c.post("/webhooks/x", content=b, headers=h) for c, b, h in deliveries[start : start + 32])
            )
            assert all(r.status_code == 200 for r in responses)
        for _ in range(3):
            assert all(await asyncio.gather(*(s.drain(30) for s in services)))
        processed = [
            sum(
                m.value
                for metric in s.metrics.outcomes.collect()
                for m in metric.samples
                if m.name.endswith("_total")
            )
            for s in services
        ]
        assert all(n > 0 for n in processed), f"one service did no work: {processed}"
    finally:
        for client in clients:
            await client.aclose()
        for service in services:
            await service.stop()
        await upstream.aclose()

    with psycopg.connect(dsn) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        assert one("SELECT count(*) FROM inbox WHERE channel = 'tweet' AND message_id NOT LIKE 'reg%' "
                   "AND message_id NOT LIKE 'ver%'") == 6 * USERS  # fmt: skip
        assert (
            one("SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM activations GROUP BY message_id) x")
            == 1
        )
        debited = one("SELECT sum(price_paise) FROM activations")
        assert one("SELECT count(*) FROM activations") == USERS * (BALANCE // PRICE)
        assert one("SELECT sum(balance_paise) FROM subscribers") == USERS * BALANCE - debited
        assert one("SELECT min(balance_paise) FROM subscribers") >= 0
        assert one("SELECT count(*) FROM inbound_queue WHERE NOT done") == 0
        assert one("SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
        assert one("SELECT count(*) FROM outbox WHERE kind = 'sms'") == stub.state.sent["sms"], (
            "an SMS went twice"
        )
        assert one("SELECT count(*) FROM outbox WHERE kind = 'tweet'") == stub.state.sent["tweets"]
