"""The whole stack in both modes: clean start and stop, and a registration + purchase end to end."""

from __future__ import annotations

import socket

import pytest

from twittcom.qa.client import StackClient, eventually
from twittcom.qa.replies import outcome_of_reply
from twittcom.stack import InProcessStack, LoopbackStack, Stack, StackOptions

MODES = [InProcessStack, LoopbackStack]


async def _register_and_buy(stack: Stack) -> None:
    subscriber = next(
        s
        for s in stack.population.subscribers
        if s.active and s.prepaid and s.balance_paise >= 10_000 and s.circle == "DL"
    )
    async with StackClient(stack.endpoints) as client:
        user = await client.create_user("asha_e2e")
        reg = await client.tweet(user, f"@tatadocomo #reg {subscriber.msisdn}")
        code = await client.code_for(subscriber.msisdn)
        replies = await eventually(lambda: client.replies_to(reg), what="the reply to #reg")
        assert subscriber.msisdn[-10:] not in replies[0]["text"], "the public reply shows the full number"
        await client.tweet(user, f"@tatadocomo {code}")
        info = await eventually(lambda: client.admin_maybe("/admin/handles/asha_e2e"), what="the binding")
        assert info["msisdn"] == subscriber.msisdn
        packs = (await client.admin("/admin/catalog", circle="DL"))["packs"]
        pack = min(packs, key=lambda p: p["price_paise"])
        buy = await client.tweet(user, f"@tatadocomo #act #{pack['hashtag']}")
        confirmation = await eventually(lambda: client.replies_to(buy), what="the activation reply")
        assert outcome_of_reply(confirmation[0]["text"]) == "activated"
        await client.settle()
        after = await client.admin(f"/admin/subscribers/{subscriber.msisdn}")
        assert after["balance_paise"] == subscriber.balance_paise - pack["price_paise"]

        async def debit_sms() -> bool:
            return any("debited" in m["body"] for m in await client.handset(subscriber.msisdn))

        await eventually(debit_sms, what="the confirmation SMS on the handset")


@pytest.mark.parametrize("kind", MODES, ids=lambda k: k.mode)
async def test_stack_starts_and_stops_cleanly(kind: type[Stack]) -> None:
    """A stack comes up with the webhook registered (CRC checked) and the processor ready, then stops."""
    stack = kind(StackOptions(population=30))
    async with stack:
        async with StackClient(stack.endpoints) as client:
            ready = await client.processor.get("/readyz")
            assert ready.status_code == 200, ready.text
            info = await client.stack_info()
            assert info["webhook_id"] and info["mode"] == kind.mode
            assert info["population"] == len(stack.population.subscribers)
    assert stack.service is not None and not stack.service.started


async def test_loopback_stack_releases_its_ports() -> None:
    """After a loopback stack stops, its three ports can be bound again."""
    stack = LoopbackStack(StackOptions(population=5))
    async with stack:
        ports = [int(url.rsplit(":", 1)[1]) for url in (stack.endpoints.x, stack.endpoints.sms,
                                                          stack.endpoints.processor)]  # fmt: skip
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("kind", MODES, ids=lambda k: k.mode)
async def test_registration_and_purchase_end_to_end(kind: type[Stack]) -> None:
    """#reg -> code on the handset -> code tweeted back -> #act debits once and confirms by tweet and SMS."""
    async with kind(StackOptions(population=120, seed=3)) as stack:
        await _register_and_buy(stack)


async def test_stack_subscribers_route_adds_directory_entries() -> None:
    """POST /_stack/subscribers adds a directory entry the processor then knows, behind the admin token."""
    async with InProcessStack(StackOptions(population=5)) as stack:
        async with StackClient(stack.endpoints) as client:
            await client.add_subscribers([{"msisdn": "+919000000001", "circle": "KA", "balance_paise": 500}])
            found = await client.admin("/admin/subscribers/+919000000001")
            assert found["circle"] == "KA" and found["balance_paise"] == 500
            bad = await client.processor.post(
                "/_stack/subscribers",
                json={"subscribers": [{"msisdn": "1"}]},
                headers={"Authorization": f"Bearer {stack.admin_token}"},
            )
            assert bad.status_code == 400
            anonymous = await client.processor.get("/_stack/info")
            assert anonymous.status_code == 401
