"""The fake SMSC's state machine over TCP: binds, enquire_link, unbind, generic_nack, caps,
window, message_payload, receipts held for a receiver, query_sm, outages per circle."""

from __future__ import annotations

import asyncio
import re
import struct

import pytest

from fake_sms.smpp.codec import encode

from .conftest import serve_smsc
from .esme import RawEsme

STAT = re.compile(r"stat:(\w+) err:(\d{3})")


async def _served(**system):
    config = {"systems": [{"system_id": "twittcom", "password": "secret", **system}]} if system else None
    return await serve_smsc(config)


async def _stop(served) -> None:
    await served.server.stop()
    await served.app.stop()


async def _receipts(esme: RawEsme, count: int, timeout: float = 5.0) -> list:
    got = []
    while len(got) < count:
        pdu = await esme.read(timeout)
        if pdu.command == "deliver_sm":
            esme.writer.write(encode("deliver_sm_resp", int(pdu.sequence)))
            got.append(pdu)
    return got


async def test_enquire_link_unbind_and_requests_before_the_bind(served) -> None:
    esme = await RawEsme.connect(served.port)
    assert (await esme.call("enquire_link")).command == "enquire_link_resp"
    esme.submit("919812345678", b"early")
    early = await esme.read()
    assert early.command == "submit_sm_resp" and early.status == 0x04  # ESME_RINVBNDSTS
    assert await esme.bind() == 0
    assert await esme.bind() == 0x05  # ESME_RALYBND
    resp = await esme.call("unbind")
    assert resp.command == "unbind_resp" and resp.status == 0
    assert await esme.reader.read() == b""  # the SMSC closes the connection after unbind
    assert served.smsc.binds == {}


async def test_malformed_pdus_get_generic_nack_and_the_session_goes_on(served) -> None:
    esme = await RawEsme.connect(served.port)
    assert await esme.bind() == 0
    esme.send_raw(struct.pack(">LLLL", 16, 0x00000099, 0, 77))  # unknown command_id
    nack = await esme.read()
    assert (nack.command, nack.status, int(nack.sequence)) == ("generic_nack", 0x03, 77)
    cut = encode("submit_sm", 78, destination_addr="919812345678", short_message=b"hello")[:30]
    esme.send_raw(struct.pack(">L", len(cut)) + cut[4:])  # a body cut short
    nack = await esme.read()
    assert (nack.command, nack.status, int(nack.sequence)) == ("generic_nack", 0x02, 78)
    assert (await esme.call("enquire_link")).status == 0  # still bound, still answering
    esme.send_raw(struct.pack(">LLLL", 8, 0x15, 0, 79))  # command_length under 16: cannot be framed
    assert (await esme.read()).command == "generic_nack"
    assert await esme.reader.read() == b""


async def test_receiver_bind_cannot_submit_and_bind_count_is_capped() -> None:
    served = await _served(max_binds=1)
    try:
        first, second = await RawEsme.connect(served.port), await RawEsme.connect(served.port)
        assert await first.bind("receiver") == 0
        assert await second.bind("transmitter") == 0x0D  # ESME_RBINDFAIL: one bind allowed
        first.submit("919812345678", b"x")
        assert (await first.read()).status == 0x04
    finally:
        await _stop(served)


async def test_per_bind_and_per_system_throughput_caps_answer_throttled() -> None:
    served = await _served(bind_tps=20, system_tps=30)
    now = [100.0]
    served.smsc.monotonic = lambda: now[0]  # a frozen clock: only the buckets' initial tokens
    try:
        a, b = await RawEsme.connect(served.port), await RawEsme.connect(served.port)
        assert await a.bind() == 0 and await b.bind() == 0

        async def statuses(esme: RawEsme) -> list[int]:
            fields = {"destination_addr": "919812345678", "short_message": b"x", "data_coding": 0}
            return [int((await esme.call("submit_sm", **fields)).status) for _ in range(3)]

        statuses_a = await statuses(a)
        statuses_b = await statuses(b)
        assert statuses_a == [0, 0, 0x58]  # a bind's bucket holds a tenth of a second: 2 tokens
        assert statuses_b == [0, 0x58, 0x58]  # the system's 3 tokens: 2 spent by a, 1 left for b
        now[0] += 1.0  # a second later both buckets have refilled
        ok = await b.call("submit_sm", destination_addr="919812345678", short_message=b"b", data_coding=0)
        assert ok.status == 0
        assert served.smsc.counters["throttled"] == 3
    finally:
        await _stop(served)


async def test_a_full_window_is_refused_with_msgqful() -> None:
    served = await _served(window=2, submit_latency_ms=300)
    try:
        esme = await RawEsme.connect(served.port)
        assert await esme.bind() == 0
        sequences = [esme.submit("919812345678", f"m{i}".encode()) for i in range(3)]
        first = await esme.read()
        assert (int(first.sequence), first.status) == (sequences[2], 0x14)  # refused at once
        answers = [await esme.read(), await esme.read()]  # the receipts come after the responses
        assert [(int(p.sequence), p.status) for p in answers] == [(sequences[0], 0), (sequences[1], 0)]
    finally:
        await _stop(served)


async def test_message_payload_ucs2_and_query_sm(served) -> None:
    text = "आपका पैक सक्रिय हो गया है। " * 5  # 135 UCS-2 characters: three segments
    esme = await RawEsme.connect(served.port)
    assert await esme.bind() == 0
    resp = await esme.call("submit_sm", destination_addr="919812345679", data_coding=8,
                           registered_delivery=1, message_payload=text.encode("utf-16-be"))  # fmt: skip
    assert resp.status == 0
    (receipt,) = await _receipts(esme, 1)
    assert STAT.search(receipt.short_message.decode()).groups() == ("DELIVRD", "000")
    assert receipt.receipted_message_id.decode() == resp.message_id.decode()
    (received,) = served.app.backend.handset_messages("+919812345679")
    assert received.body == text and received.num_segments == 3
    query = await esme.call("query_sm", message_id=resp.message_id.decode(), source_addr="54321")
    assert (query.status, query.message_state) == (0, 2)
    unknown = await esme.call("query_sm", message_id="nope", source_addr="54321")
    assert unknown.status == 0x0C  # ESME_RINVMSGID


async def test_receipts_wait_for_a_receiver_and_outages_hold_them(served) -> None:
    backend = served.app.backend
    backend.register_handsets({"+919812345670": "GJ", "+919812345671": "MH"})
    outage = backend.add_outage("GJ")
    sender = await RawEsme.connect(served.port)
    assert await sender.bind("transmitter") == 0
    for to in ("919812345670", "919812345671"):
        sender.submit(to, b"code 123456")
        assert (await sender.read()).status == 0
    await asyncio.sleep(0.3)  # 180 carrier seconds: MH delivered, GJ held by the outage
    receiver = await RawEsme.connect(served.port)
    assert await receiver.bind("receiver") == 0
    (first,) = await _receipts(receiver, 1)
    assert first.source_addr.decode() == "919812345671"
    with pytest.raises(asyncio.TimeoutError):
        await _receipts(receiver, 1, timeout=0.3)
    backend.remove_outage(outage.id)
    (second,) = await _receipts(receiver, 1)
    assert second.source_addr.decode() == "919812345670"
    assert STAT.search(second.short_message.decode()).group(1) == "DELIVRD"
