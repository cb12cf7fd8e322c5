"""One SMPP 3.4 bind of the processor (an ESME session): framing, windowed requests, receipts.

PDUs are built and parsed by :mod:`smpplib`'s PDU classes. A :class:`SmppSession` connects,
binds as a transceiver, then one reader task matches responses to requests by sequence number
(at most ``window`` requests outstanding: a semaphore), answers the SMSC's enquire_link, and hands
each deliver_sm to ``on_deliver`` *before* answering it, so a receipt is acknowledged only after
the caller stored it (an error answer, ESME_RX_T_APPN, makes the SMSC send it again). An idle
session sends enquire_link every ``enquire_s``. When the connection ends, every outstanding
request fails with :class:`~reference.clients.errors.SmppOutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from smpplib import smpp

from reference.clients.errors import SmppError, SmppOutcomeUnknown, SmppUnavailable

__all__ = ["ESME_RX_T_APPN", "SmppSession", "encode_pdu"]

ESME_RX_T_APPN = 0x64
_MAX_PDU = 65_536


class _NoSequence:
    sequence = 0

    def next_sequence(self) -> int:
        return 0


_CLIENT = _NoSequence()


def encode_pdu(command: str, sequence: int, status: int = 0, **fields: Any) -> bytes:
    pdu = smpp.make_pdu(command, client=_CLIENT, **fields)
    pdu.sequence = sequence
    pdu.status = status
    data: bytes = pdu.generate()
    return data


def _decode(frame: bytes) -> Any:
    return smpp.parse_pdu(frame, client=_CLIENT, allow_unknown_opt_params=True)


def _expire(future: asyncio.Future[Any], command: str, timeout: float) -> None:
    if not future.done():
        future.set_exception(SmppOutcomeUnknown(0, f"no {command}_resp within {timeout:g} s"))


class SmppSession:
    """One transceiver bind. ``on_deliver(pdu)`` returns whether the deliver_sm was stored."""

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        *,
        window: int,
        on_deliver: Callable[[Any], Awaitable[bool]],
        response_timeout: float = 10.0,
        enquire_s: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password = system_id, password
        self.window = asyncio.Semaphore(window)
        self.on_deliver = on_deliver
        self.response_timeout = response_timeout
        self.enquire_s = enquire_s
        self._sequence = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self.closed = asyncio.Event()
        self.bound = False

    async def open(self, timeout: float = 5.0) -> None:
        """Connect and bind as a transceiver; SmppError when the SMSC refuses the bind."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
        self._writer = writer
        self._reader_task = asyncio.create_task(self._read(reader), name=f"smpp-read-{self.port}")
        resp = await self._request("bind_transceiver", timeout, system_id=self.system_id,
                                   password=self.password, interface_version=0x34)  # fmt: skip
        if resp.status != 0:
            await self.close()
            raise SmppError(int(resp.status), "bind_transceiver refused")
        self.bound = True
        self._keepalive = asyncio.create_task(self._enquire_loop(), name="smpp-enquire-link")

    async def request(self, command: str, **fields: Any) -> Any:
        """Send one request inside the window and wait for its response."""
        async with self.window:
            if not self.bound:
                raise SmppUnavailable(0, "the session is not bound")
            return await self._request(command, self.response_timeout, **fields)

    async def _request(self, command: str, timeout: float, **fields: Any) -> Any:
        writer = self._writer
        if writer is None or self.closed.is_set():
            raise SmppUnavailable(0, "the session is closed")
        sequence = next(self._sequence) & 0x7FFFFFFF
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending[sequence] = future
        # a timer, not asyncio.wait_for: no task per request on the hot path
        timer = loop.call_later(timeout, _expire, future, command, timeout)
        try:
            writer.write(encode_pdu(command, sequence, **fields))
            return await future
        finally:
            timer.cancel()
            self._pending.pop(sequence, None)

    async def close(self) -> None:
        """Unbind (best effort) and close; outstanding requests fail with SmppOutcomeUnknown."""
        if self.bound and self._writer is not None and not self.closed.is_set():
            self.bound = False
            with contextlib.suppress(Exception):
                await self._request("unbind", 1.0)
        self.bound = False
        self._shutdown()
        for task in (self._reader_task, self._keepalive):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _shutdown(self) -> None:
        self.bound = False
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SmppOutcomeUnknown(0, "the connection closed before the response"))
        if self._writer is not None:
            self._writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header = await reader.readexactly(4)
                (length,) = struct.unpack(">L", header)
                if not 16 <= length <= _MAX_PDU:
                    break
                frame = header + await reader.readexactly(length - 4)
                try:
                    pdu = _decode(frame)
                except Exception:
                    sequence = struct.unpack(">L", frame[12:16])[0]
                    self._write(encode_pdu("generic_nack", sequence, 0x02))
                    continue
                self._dispatch(pdu)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._shutdown()

    def _dispatch(self, pdu: Any) -> None:
        command, sequence = pdu.command, int(pdu.sequence)
        if command == "enquire_link":
            self._write(encode_pdu("enquire_link_resp", sequence))
        elif command == "deliver_sm":
            task = asyncio.create_task(self._deliver(pdu, sequence))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        elif command == "unbind":
            self._write(encode_pdu("unbind_resp", sequence))
            self._shutdown()
        elif command.endswith("_resp") or command == "generic_nack":
            future = self._pending.get(sequence)
            if future is not None and not future.done():
                future.set_result(pdu)
        else:
            self._write(encode_pdu("generic_nack", sequence, 0x03))

    async def _deliver(self, pdu: Any, sequence: int) -> None:
        try:
            stored = await self.on_deliver(pdu)
        except Exception:
            stored = False
        self._write(encode_pdu("deliver_sm_resp", sequence, 0 if stored else ESME_RX_T_APPN))

    def _write(self, data: bytes) -> None:
        writer = self._writer
        if writer is not None and not self.closed.is_set() and not writer.is_closing():
            try:
                writer.write(data)
            except (RuntimeError, ConnectionError):  # the transport went away meanwhile
                self._shutdown()

    async def _enquire_loop(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(self.enquire_s)
            try:
                await self._request("enquire_link", self.response_timeout)
            except SmppError:
                self._shutdown()
                return
