"""SmppSmsClient against the fake SMSC over loopback: sends, receipts, query_sm, throttling,
reconnects, and the unknown outcome (a submit_sm without a response) found again by its receipt."""

from __future__ import annotations

import asyncio
import socket

import pytest

from fake_sms import ScaledClock, SmsBackend, create_app
from fake_sms.smpp import SmppServer, Smsc
from reference.clients.errors import SmppOutcomeUnknown, SmppThrottled, SmppUnavailable
from reference.clients.smpp_sms import SmppSmsClient, receipt_status, relative_time


class Smsc_:
    def __init__(self, config=None, port: int = 0) -> None:
        self.backend = SmsBackend(clock=ScaledClock(600.0), seed=5)
        self.app = create_app(self.backend, tick_s=0.005)
        self.smsc = Smsc(self.backend, config)
        self.server = SmppServer(self.smsc, port=port)

    async def __aenter__(self) -> Smsc_:
        await self.app.start()
        await self.server.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.stop()
        await self.app.stop()

    @property
    def url(self) -> str:
        return f"smpp://twittcom:secret@127.0.0.1:{self.server.port}"


def _system(**caps):
    return {"systems": [{"system_id": "twittcom", "password": "secret", **caps}]}


async def _eventually(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_receipt_text_maps_to_twilio_statuses() -> None:
    text = (
        "id:0000000007 sub:001 dlvrd:000 submit date:2601010000 done date:2601010001 "
        "stat:UNDELIV err:003 text:x"
    )
    assert receipt_status(text) == ("0000000007", "undelivered", "003")
    assert receipt_status(text.replace("UNDELIV", "DELIVRD"))[1:] == ("delivered", None)
    assert relative_time(3725) == "000000010205000R"


async def test_sends_gsm_ucs2_and_long_texts_and_records_receipts() -> None:
    statuses: dict[str, str] = {}

    async def on_status(sid: str, status: str, error: str | None) -> None:
        statuses[sid] = status

    async with Smsc_() as fake:
        client = SmppSmsClient(fake.url, source="54321", binds=2, window=4, on_status=on_status)
        await client.start()
        try:
            assert client.bound == 2
            texts = {"+919812345601": "Your code is 123456 {ok}", "+919812345602": "कोड 123456",
                     "+919812345603": "Long: " + "pack activated. " * 15}  # fmt: skip
            sent = {to: await client.send_sms(to, body, validity_period=600) for to, body in texts.items()}
            assert sent["+919812345603"].num_segments == 2
            await _eventually(lambda: len(statuses) == 3)
            assert {statuses[s.sid] for s in sent.values()} == {"delivered"}
            for to, body in texts.items():
                assert [m.body for m in fake.backend.handset_messages(to)] == [body]
            fetched = await client.fetch_message(sent["+919812345601"].sid)
            assert fetched.status == "delivered"
            message = fake.backend.messages[fake.smsc._by_id[sent["+919812345601"].sid].sid]
            assert message.validity_s == 600
        finally:
            await client.aclose()


async def test_throttled_submit_raises_a_retryable_error() -> None:
    async with Smsc_(_system(bind_tps=10)) as fake:
        fake.smsc.monotonic = lambda: 5.0  # frozen: one token, never refilled
        client = SmppSmsClient(fake.url, source="54321")
        await client.start()
        try:
            await client.send_sms("+919812345601", "one")
            with pytest.raises(SmppThrottled) as caught:
                await client.send_sms("+919812345601", "two")
            assert caught.value.command_status == 0x58 and caught.value.retryable
            assert caught.value.retry_after == 1.0
        finally:
            await client.aclose()


async def test_binds_again_after_the_smsc_comes_back() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = SmppSmsClient(f"smpp://twittcom:secret@127.0.0.1:{port}", source="54321")
    await client.start(wait_s=0.2)
    try:
        with pytest.raises(SmppUnavailable):
            await client.send_sms("+919812345601", "nobody listens")
        async with Smsc_(port=port) as fake:
            await _eventually(lambda: client.bound == 1, timeout=10)
            await client.send_sms("+919812345601", "now it does")
            for session in list(fake.server.sessions):  # the SMSC drops the connection
                await session.close()
            await _eventually(lambda: client.reconnects >= 1 and client.bound == 1, timeout=10)
            await client.send_sms("+919812345601", "and again")
    finally:
        await client.aclose()


async def test_unknown_outcome_is_found_again_by_its_receipt() -> None:
    """No submit_sm_resp in time: the send raises SmppOutcomeUnknown; the SMSC still took it, and
    its receipt (an id this process never learnt) is what the lookup before a resend finds."""
    async with Smsc_(_system(submit_latency_ms=500)) as fake:
        client = SmppSmsClient(fake.url, source="54321", response_timeout=0.1)
        await client.start()
        try:
            with pytest.raises(SmppOutcomeUnknown):
                await client.send_sms("+919812345601", "Your code is 424242")
            assert await client.find_messages("+919812345601", "Your code is 424242") == []
            await _eventually(lambda: bool(fake.backend.handset_messages("+919812345601")))
            await asyncio.sleep(0.2)
            found = await client.find_messages("+919812345601", "Your code is 424242")
            assert [m.sid for m in found] == list(fake.smsc._by_id)
            assert await client.find_messages("+919812345601", "Another text") == []
        finally:
            await client.aclose()
