"""X and Twilio reduced to their answers: the outbound side of an offered-load sweep, as cheap as can be.

A sweep measures the processor, so what it talks to must cost little of the shared cores: this is
a bare HTTP/1.1 server (asyncio protocol + httptools, no ASGI) that answers ``POST /2/tweets``
``201`` with a tweet and any other POST ``201`` with a queued Twilio message (a fresh ``sid`` each),
keep-alive. ``GET /_count`` answers the counts so far as JSON. Run it with
``python -m loadtests.sweep_sink PORT``; it stops after ``--lifetime`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import httptools

__all__ = ["SinkState", "main", "serve_forever"]

_TWEET = b'{"data":{"id":"1900000000000000001","text":"ok"}}'


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class SinkState:
    """Counts of the tweets and SMS answered."""

    def __init__(self) -> None:
        self.tweets = 0
        self.sms = 0

    def answer(self, method: bytes, path: bytes) -> bytes:
        if method == b"GET" and path.startswith(b"/_count"):
            return _response(b"200 OK", json.dumps({"tweets": self.tweets, "sms": self.sms}).encode())
        if path.startswith(b"/2/tweets"):
            self.tweets += 1
            return _response(b"201 Created", _TWEET)
        self.sms += 1
        body = b'{"sid":"SM%032x","status":"queued","num_segments":"1"}' % self.sms
        return _response(b"201 Created", body)


class _Answer(asyncio.Protocol):
    def __init__(self, state: SinkState) -> None:
        self.state = state
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.path = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.path = url

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.write(self.state.answer(self.parser.get_method(), self.path))


async def serve_forever(host: str, port: int, lifetime: float) -> None:
    """Answer on ``host:port`` until ``lifetime`` seconds have passed."""
    state = SinkState()
    server = await asyncio.get_running_loop().create_server(lambda: _Answer(state), host, port)
    async with server:
        await asyncio.sleep(lifetime)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m loadtests.sweep_sink PORT [--host H] [--lifetime S]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--lifetime", type=float, default=1800.0)
    args = parser.parse_args(argv)
    import uvloop

    uvloop.run(serve_forever(args.host, args.port, args.lifetime))


if __name__ == "__main__":
    main()
