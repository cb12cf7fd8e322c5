"""A minimal HTTP/1.1 server (uvloop + httptools, no ASGI): the loopback ceiling under any Python app.

Every request, whatever its path, is answered ``201`` with a small fixed JSON body, keep-alive.
Measuring the load generator against it shows what the client and the loopback can carry, so a
figure through uvicorn + Starlette can be read against it. Run it with :func:`serve_raw
<benchmarks.support.servers.serve_raw>` or ``python -m benchmarks.support.rawhttp PORT``; it exits
by itself after ``--lifetime`` seconds (default 600).
"""

from __future__ import annotations

import argparse
import asyncio

import httptools

__all__ = ["RESPONSE", "main", "serve_forever"]

_BODY = b'{"data":{"id":"1"}}'
RESPONSE = (b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY)


class _Answer(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.write(RESPONSE)


async def serve_forever(host: str, port: int, lifetime: float) -> None:
    """Answer on ``host:port`` until ``lifetime`` seconds have passed."""
    server = await asyncio.get_running_loop().create_server(_Answer, host, port)
    async with server:
        await asyncio.sleep(lifetime)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m benchmarks.support.rawhttp PORT [--host H] [--lifetime S]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args(argv)
    import uvloop

    uvloop.run(serve_forever(args.host, args.port, args.lifetime))


if __name__ == "__main__":
    main()
