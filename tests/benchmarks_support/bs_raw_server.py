"""A scriptable raw HTTP/1.1 server on loopback for testing the load generator's parsing and counting.

The path picks the behaviour: ``/length`` (Content-Length body), ``/chunked`` (a chunked body sent in
pieces), ``/status/<code>``, ``/cycle`` (201, 404, 500 in turn), ``/close-after`` (answers then closes,
``Connection: close``), ``/cut`` (half a response, then closes), ``/garbage`` (not HTTP at all).
It records every request (method, path, headers, body) it parsed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httptools

__all__ = ["RawServer", "Received", "start_raw_server"]


@dataclass
class Received:
    """One request as the server parsed it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RawServer:
    """The running server: its base URL, what it received, and the asyncio server to close."""

    base_url: str
    server: asyncio.Server
    received: list[Received] = field(default_factory=list)
    cycle: int = 0


class _Handler(asyncio.Protocol):
    def __init__(self, state: RawServer) -> None:
        self.state = state
        self.parser = httptools.HttpRequestParser(self)
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.url = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        path = self.url.decode()
        self.state.received.append(Received(method, path, self.headers, bytes(self.body)))
        self.headers, self.body, self.url = {}, bytearray(), b""
        self._answer(path)

    def _answer(self, path: str) -> None:
        assert self.transport is not None
        write = self.transport.write
        if path == "/length":
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        elif path == "/chunked":
            pieces = [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"4\r\nwik",
                b"i\r\n5\r\npedia\r\n",
                b"0\r\n\r\n",
            ]
            loop = asyncio.get_running_loop()
            for delay, piece in enumerate(pieces):
                loop.call_later(delay * 0.001, write, piece)
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            write(f"HTTP/1.1 {code} X\r\nContent-Length: 2\r\n\r\nok".encode())
        elif path == "/cycle":
            code = (201, 404, 500)[self.state.cycle % 3]
            self.state.cycle += 1
            write(f"HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n".encode())
        elif path == "/close-after":
            write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
            self.transport.close()
        elif path == "/cut":
            write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
            self.transport.close()
        else:
            write(b"this is not HTTP\r\n\r\n")


async def start_raw_server() -> RawServer:
    """Start the server on 127.0.0.1 and a free port, in the running event loop."""
    holder: list[RawServer] = []
    server = await asyncio.get_running_loop().create_server(lambda: _Handler(holder[0]), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state = RawServer(f"http://127.0.0.1:{port}", server)
    holder.append(state)
    return state
