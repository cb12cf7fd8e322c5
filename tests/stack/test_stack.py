"""The whole stack in both modes: clean start and stop, and a registration + purchase end to end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from twittcom.qa.client import StackClient, eventually, metric_value
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
        ports = [
            int(url.rsplit(":", 1)[1])
            for url in (stack.endpoints.x, stack.endpoints.sms, stack.endpoints.processor)
        ]
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


def test_up_serves_until_interrupted_and_prints_what_to_try(tmp_path: Path) -> None:
    """`twittcom up` prints the URLs, the admin token and curl lines, serves them, and stops on Ctrl-C."""
    command = [
        sys.executable,
        "-c",
        "from twittcom.cli import main; main()",
        "up",
        "--x-port",
        "0",
        "--sms-port",
        "0",
        "--port",
        "0",
        "--population",
        "40",
        "--db",
        str(tmp_path / "up.db"),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "twittcom scenarios --against" in line:
                break
        output = "".join(lines)
        against = re.search(r"processor=(http://127\.0\.0\.1:\d+)", output)
        assert against is not None, output
        assert "admin token" in output and "/2/tweets" in output and "/_fake/handsets/" in output
        header = next(line for line in lines if "handle" in line and "mobile" in line)
        columns = [c.strip() for c in header.strip().strip("┃").split("┃")]
        assert columns == ["handle", "X user token", "mobile", "circle", "balance", "a pack"], header
        row = next(line for line in lines if line.lstrip().startswith("│ @"))
        cells = [c.strip() for c in row.strip().strip("│").split("│")]
        assert cells[2].startswith("+91") and cells[4].startswith("Rs "), row  # under their headers
        ready = httpx.get(against.group(1) + "/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    assert "stopped" in rest
    assert process.returncode == 0, rest


async def test_poll_only_stack_registers_by_polling() -> None:
    """With ingestion by polling alone (no webhook registered), a #reg mention still gets its code."""
    options = StackOptions(population=20, seed=5, ingestion="poll", poll_interval_s=0.1)
    async with InProcessStack(options) as stack:
        assert stack.webhook_id == ""
        subscriber = next(s for s in stack.population.subscribers if s.active and s.prepaid)
        async with StackClient(stack.endpoints) as client:
            user = await client.create_user("poll_only")
            reg = await client.tweet(user, f"@tatadocomo #reg {subscriber.msisdn}")
            assert await client.code_for(subscriber.msisdn)
            assert await eventually(lambda: client.replies_to(reg), what="the reply")
            assert (
                metric_value(await client.metrics(), "twittcom_ingested_events_total", {"source": "poll"})
                >= 1
            )


@pytest.mark.parametrize("kind", MODES, ids=lambda k: k.mode)
async def test_registration_and_purchase_over_smpp(kind: type[Stack]) -> None:
    """The processor sends over SMPP to fake SMS's SMSC: codes and confirmations reach the handset,
    and the SMSC's receipts show as delivered in the customer timeline."""
    stack = kind(StackOptions(population=30, sms_protocol="smpp", smpp_binds=2, smpp_window=4))
    async with stack:
        assert stack.sms_app is not None and stack.sms_app.smsc is not None
        await _register_and_buy(stack)
        assert stack.sms_app.smsc.counters.get("submitted", 0) >= 2
        async with StackClient(stack.endpoints) as client:
            async def delivered() -> bool:
                timeline = (await client.admin("/admin/handles/asha_e2e/timeline"))["entries"]
                return any(e["kind"] == "sms_status" and "delivered" in e["text"] for e in timeline)

            await eventually(delivered, what="a receipt recorded as delivered in the timeline")
