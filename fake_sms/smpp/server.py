"""The SMSC on TCP: one :class:`SmppSession` per connection, :class:`SmppServer` around them.

A session reads whole PDUs (``command_length`` framing; a length under 16 or over 64 KiB cannot be
framed, so it is answered with generic_nack and the connection closed), answers a PDU it cannot
parse with generic_nack (ESME_RINVCMDLEN / ESME_RINVCMDID) and goes on, and otherwise runs the
SMPP 3.4 state machine: open -> bound (transmitter, receiver or transceiver) -> unbound. Requests
other than a bind or enquire_link before the bind get ESME_RINVBNDSTS. A submit_sm's response is
written ``submit_latency_ms`` after it arrived (responses keep their order), which is what makes
a window matter. Receipts queued by :class:`~fake_sms.smpp.smsc.Smsc` are sent as deliver_sm to the
system's receiver or transceiver binds, round robin, at most ``window`` unacknowledged per bind; a
receipt whose deliver_sm_resp is an error, or whose bind goes away, is queued again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
from typing import Any

from .codec import (
    ESME_RALYBND,
    ESME_RINVBNDSTS,
    ESME_RINVCMDID,
    ESME_RINVCMDLEN,
    ESME_ROK,
    MAX_PDU_BYTES,
    MalformedPdu,
    decode,
    encode,
)
from .receipts import Receipt
from .smsc import Bind, SmppRefused, Smsc

__all__ = ["SmppServer", "SmppSession"]

_log = logging.getLogger(__name__)
_BINDS = {"bind_transmitter": "transmitter", "bind_receiver": "receiver", "bind_transceiver": "transceiver"}
SMSC_SYSTEM_ID = "TWTSMSC"


class SmppSession:
    """One ESME connection."""

    def __init__(
        self, server: SmppServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.smsc = server.smsc
        self.reader = reader
        self.writer = writer
        self.bind: Bind | None = None
        self._sequence = itertools.count(1)
        self._in_flight: dict[int, Receipt] = {}  # deliver_sm sequence -> receipt
        self._last_response = 0.0
        self.closed = False

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.writer.write(data)

    async def run(self) -> None:
        try:
            while not self.closed:
                header = await self.reader.readexactly(4)
                (length,) = struct.unpack(">L", header)
                if not 16 <= length <= MAX_PDU_BYTES:
                    self.write(encode("generic_nack", 0, ESME_RINVCMDLEN))
                    break
                frame = header + await self.reader.readexactly(length - 4)
                self.handle(frame)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            await self.close()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.bind is not None:
            self.smsc.unbind(self.bind)
            self.bind = None
        self.server.forget(self)
        for receipt in reversed(list(self._in_flight.values())):  # unacknowledged: queued again
            self.smsc.receipts[receipt_system(self, receipt)].appendleft(receipt)
        self._in_flight.clear()
        self.server.wake()
        with contextlib.suppress(Exception):
            self.writer.close()

    def handle(self, frame: bytes) -> None:
        try:
            pdu = decode(frame)
        except MalformedPdu as exc:
            self.smsc.count("generic_nack")
            self.write(encode("generic_nack", exc.sequence, exc.status))
            return
        command, sequence = pdu.command, int(pdu.sequence)
        if command in _BINDS:
            self._bind(pdu, _BINDS[command])
        elif command == "enquire_link":
            self.write(encode("enquire_link_resp", sequence))
        elif command == "deliver_sm_resp":
            self._receipt_acknowledged(sequence, int(pdu.status))
        elif command in ("enquire_link_resp", "generic_nack") or command.endswith("_resp"):
            return  # answers to our requests; nothing else waits on them
        elif self.bind is None:
            self.write(_response(command, sequence, ESME_RINVBNDSTS))
        elif command == "submit_sm":
            self._submit(pdu, sequence)
        elif command == "query_sm":
            self._query(pdu, sequence)
        elif command == "unbind":
            self.write(encode("unbind_resp", sequence))
            self.smsc.unbind(self.bind)
            self.bind = None
            self.closed_after_flush()
        else:
            self.write(encode("generic_nack", sequence, ESME_RINVCMDID))

    def closed_after_flush(self) -> None:
        asyncio.get_running_loop().create_task(self._close_soon())

    async def _close_soon(self) -> None:
        with contextlib.suppress(Exception):
            await self.writer.drain()
        await self.close()

    def _bind(self, pdu: Any, mode: str) -> None:
        sequence = int(pdu.sequence)
        resp = f"bind_{mode}_resp"
        if self.bind is not None:
            self.write(encode(resp, sequence, ESME_RALYBND))
            return
        try:
            self.bind = self.smsc.bind(_s(pdu.system_id), _s(pdu.password), mode)
        except SmppRefused as exc:
            self.write(encode(resp, sequence, exc.status))
            return
        self.write(encode(resp, sequence, system_id=SMSC_SYSTEM_ID))
        if self.bind.receives:
            self.server.wake()

    def _submit(self, pdu: Any, sequence: int) -> None:
        bind = self.bind
        assert bind is not None
        try:
            self.smsc.admit(bind)
        except SmppRefused as exc:
            self.write(encode("submit_sm_resp", sequence, exc.status))
            return
        latency = bind.system.submit_latency_ms / 1000.0
        if latency <= 0:
            self.write(self._accept(bind, pdu, sequence))
            return
        # the SMSC takes the message when it answers, so no receipt can precede its submit_sm_resp
        bind.outstanding += 1
        loop = asyncio.get_running_loop()
        at = max(loop.time() + latency, self._last_response)  # responses keep their order
        self._last_response = at
        loop.call_at(at, self._respond, bind, pdu, sequence)

    def _accept(self, bind: Bind, pdu: Any, sequence: int) -> bytes:
        try:
            message_id = self.smsc.submit(bind, pdu)
            return encode("submit_sm_resp", sequence, message_id=message_id)
        except SmppRefused as exc:
            return encode("submit_sm_resp", sequence, exc.status)

    def _respond(self, bind: Bind, pdu: Any, sequence: int) -> None:
        bind.outstanding -= 1
        if not self.closed:  # a connection lost first: the submit never reached the SMSC
            self.write(self._accept(bind, pdu, sequence))

    def _query(self, pdu: Any, sequence: int) -> None:
        message_id = _s(pdu.message_id)
        try:
            final_date, state, error = self.smsc.query(message_id)
        except SmppRefused as exc:
            self.write(encode("query_sm_resp", sequence, exc.status, message_id=message_id,
                              final_date="", message_state=0, error_code=0))  # fmt: skip
            return
        self.write(encode("query_sm_resp", sequence, message_id=message_id, final_date=final_date,
                          message_state=state, error_code=error % 256))  # fmt: skip

    # ---- receipts -----------------------------------------------------------------------------
    def room(self) -> int:
        if self.bind is None or not self.bind.receives or self.closed:
            return 0
        return self.bind.system.window - len(self._in_flight)

    def send_receipt(self, receipt: Receipt) -> None:
        sequence = next(self._sequence)
        self._in_flight[sequence] = receipt
        self.write(
            encode(
                "deliver_sm", sequence, source_addr_ton=1, source_addr_npi=1,
                source_addr=receipt.source_addr, dest_addr_ton=0, dest_addr_npi=0,
                destination_addr=receipt.destination_addr, esm_class=0x04, data_coding=0,
                short_message=receipt.text.encode("ascii", "replace"),  # data_coding 0: ASCII-safe
                receipted_message_id=receipt.message_id, message_state=receipt.message_state,
                network_error_code=b"\x03" + (receipt.error_code % 65536).to_bytes(2, "big"),
            )
        )  # fmt: skip
        self.smsc.count("receipts_sent")

    def _receipt_acknowledged(self, sequence: int, status: int) -> None:
        receipt = self._in_flight.pop(sequence, None)
        if receipt is None:
            return
        if status != ESME_ROK:  # the ESME could not take it now: again later
            self.smsc.receipts[receipt_system(self, receipt)].append(receipt)
            self.smsc.count("receipts_refused")
        self.server.wake()


def receipt_system(session: SmppSession, receipt: Receipt) -> str:
    """The system a receipt in flight on ``session`` belongs to."""
    if session.bind is not None:
        return session.bind.system.system_id
    return session.server.system_of.get(id(session), next(iter(session.smsc.receipts)))


class SmppServer:
    """Listens on ``host:port`` (0: a free port) and pumps receipts to receiver binds."""

    def __init__(self, smsc: Smsc, host: str = "127.0.0.1", port: int = 0) -> None:
        self.smsc = smsc
        self.host = host
        self.port = port
        self.sessions: list[SmppSession] = []
        self.system_of: dict[int, str] = {}
        self._server: asyncio.Server | None = None
        self._pump: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._turn = itertools.count()
        smsc.on_receipt = lambda system_id: self.wake()

    async def start(self) -> int:
        """Start listening; returns the port."""
        self._wake = asyncio.Event()
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._pump = asyncio.create_task(self._pump_receipts(), name="smpp-receipts")
        return self.port

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            await session.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def wake(self) -> None:
        self._wake.set()

    def forget(self, session: SmppSession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = SmppSession(self, reader, writer)
        self.sessions.append(session)
        await session.run()

    async def _pump_receipts(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self._send_queued()
            except Exception:  # a bug must not stop the receipts
                _log.exception("fake SMSC receipt pump")

    def _send_queued(self) -> None:
        for system_id, queue in self.smsc.receipts.items():
            if not queue:
                continue
            sessions = [s for s in self.sessions if s.bind is not None and s.bind.receives
                        and s.bind.system.system_id == system_id]  # fmt: skip
            if not sessions:
                continue
            start = next(self._turn)
            for session in sessions:
                self.system_of[id(session)] = system_id
            progress = True
            while queue and progress:
                progress = False
                for index in range(len(sessions)):
                    session = sessions[(start + index) % len(sessions)]
                    if queue and session.room() > 0:
                        session.send_receipt(queue.popleft())
                        progress = True


def _response(command: str, sequence: int, status: int) -> bytes:
    try:
        return encode(command + "_resp", sequence, status)
    except Exception:
        return encode("generic_nack", sequence, status)


def _s(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else value
