"""A raw ESME for tests: writes PDUs built with the fake's codec (smpplib) and reads whole frames."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from fake_sms.smpp.codec import decode, encode


class RawEsme:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.sequence = 0

    @classmethod
    async def connect(cls, port: int) -> RawEsme:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, command: str, **fields: Any) -> int:
        self.sequence += 1
        self.writer.write(encode(command, self.sequence, **fields))
        return self.sequence

    def send_raw(self, frame: bytes) -> None:
        self.writer.write(frame)

    async def read(self, timeout: float = 5.0) -> Any:
        header = await asyncio.wait_for(self.reader.readexactly(4), timeout)
        (length,) = struct.unpack(">L", header)
        return decode(header + await asyncio.wait_for(self.reader.readexactly(length - 4), timeout))

    async def call(self, command: str, **fields: Any) -> Any:
        sequence = self.send(command, **fields)
        while True:
            pdu = await self.read()
            if int(pdu.sequence) == sequence and pdu.command != "deliver_sm":
                return pdu

    async def bind(self, mode: str = "transceiver", system_id: str = "twittcom", password: str = "secret"):
        resp = await self.call(f"bind_{mode}", system_id=system_id, password=password, interface_version=0x34)
        return int(resp.status)

    def submit(self, to: str, text: bytes, **fields: Any) -> int:
        fields.setdefault("registered_delivery", 1)
        fields.setdefault("data_coding", 0)
        fields.setdefault("source_addr", "54321")
        return self.send("submit_sm", dest_addr_ton=1, dest_addr_npi=1, destination_addr=to,
                         short_message=text, **fields)  # fmt: skip

    async def close(self) -> None:
        self.writer.close()
