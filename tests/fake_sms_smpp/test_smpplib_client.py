"""Acceptance: smpplib (the maintained SMPP client on PyPI), unmodified, against the fake SMSC.

It binds as a transceiver, submits a GSM-7, a UCS-2 and a concatenated (UDH) message with
registered_delivery, and receives a deliver_sm receipt for every submit_sm; the handset shows
the whole texts, through the same carrier model the Twilio API uses.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from .conftest import ServedSmsc

RECEIPT = re.compile(
    r"^id:(\d{10}) sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} stat:DELIVRD err:000 text:"
)
TEXTS = {
    "+919812345601": "Your Twittcom code is 123456 @ £5",  # GSM-7, with non-ASCII GSM characters
    "+919812345602": "आपका कोड 123456 है",  # UCS-2
    "+919812345603": "Long confirmation: " + "pack activated. " * 20,  # 339 chars: 3 GSM-7 parts
}


def _client_session(port: int, texts: dict[str, str]) -> tuple[list[str], list[str]]:
    """Runs in a thread: the blocking smpplib client, as its README shows it."""
    ids: list[str] = []
    receipts: list[str] = []
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.set_message_sent_handler(lambda pdu: ids.append(pdu.message_id.decode()))
    client.set_message_received_handler(lambda pdu: receipts.append(pdu.short_message.decode()))
    client.connect()
    client.bind_transceiver(system_id="twittcom", password="secret")
    expected = 0
    for to, text in texts.items():
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        for part in parts:
            client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="54321",
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr=to.lstrip("+"),
                short_message=part, data_coding=coding, esm_class=esm_class, registered_delivery=True,
            )  # fmt: skip
            expected += 1
    deadline = time.monotonic() + 20
    while (len(ids) < expected or len(receipts) < expected) and time.monotonic() < deadline:
        client.read_once()
    client.unbind()
    client.disconnect()
    return ids, receipts


async def test_smpplib_binds_submits_and_gets_receipts(served: ServedSmsc) -> None:
    ids, receipts = await asyncio.to_thread(_client_session, served.port, TEXTS)
    assert len(ids) == 5  # 1 + 1 + 3 parts
    assert len(set(ids)) == 5
    receipted = sorted(RECEIPT.match(text).group(1) for text in receipts if RECEIPT.match(text))
    assert receipted == sorted(ids), receipts
    backend = served.app.backend
    for to, text in TEXTS.items():
        inbox = backend.handset_messages(to)
        assert [m.body for m in inbox] == [text]
    long_message = backend.handset_messages("+919812345603")[0]
    assert long_message.num_segments == 3


def _bind_with(port: int, password: str) -> int:
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    try:
        client.bind_transmitter(system_id="twittcom", password=password)
        return 0
    except smpplib.exceptions.PDUError as exc:
        return int(exc.args[1])
    finally:
        client.disconnect()


@pytest.mark.parametrize("password, status", [("secret", 0), ("wrong", 0x0D)])
async def test_bind_checks_the_password(served: ServedSmsc, password: str, status: int) -> None:
    assert await asyncio.to_thread(_bind_with, served.port, password) == status
