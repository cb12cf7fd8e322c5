"""The transport under the clients: our aiohttp adapter over real loopback sockets, and the factory."""

from __future__ import annotations

import asyncio
import gzip
import inspect
import json
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import httpx
import httpx_aiohttp
import pytest
import uvicorn
from aiohttp import web
from aiohttp.test_utils import TestServer

from reference.clients import (
    AiohttpTransport,
    ApiAsyncClient,
    make_async_client,
    make_transport,
    retry_safe_errors,
)


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "body": body.decode(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "peer_port": peer[1] if peer else None,
        },
        status=201,
        headers={"x-rate-limit-remaining": "7"},
    )


async def gzipped(request: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(b'{"zipped": true}'),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(1.0)
    return web.Response(text="late")


async def cookies(request: web.Request) -> web.Response:
    response = web.Response(text="ok")
    response.set_cookie("session", "abc")
    response.set_cookie("tracking", "xyz")
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/slow", slow)
    app.router.add_get("/cookies", cookies)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield str(test_server.make_url("")).rstrip("/")
    await test_server.close()


@pytest.mark.parametrize("choice", ["aiohttp", "httpx-aiohttp", "httpx"])
async def test_every_transport_choice_round_trips_a_post(server: str, choice: str) -> None:
    """Method, path, query, headers and JSON body arrive intact and the response comes back whole."""
    async with make_async_client(server, transport=choice) as client:  # type: ignore[arg-type]
        response = await client.post(
            "/echo", params={"q": "1"}, json={"text": "#reg"}, headers={"X-Trace": "t1"}
        )
    assert response.status_code == 201
    seen = response.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/echo", {"q": "1"})
    assert json.loads(seen["body"]) == {"text": "#reg"}
    assert seen["headers"]["x-trace"] == "t1"
    assert seen["headers"]["content-type"] == "application/json"
    assert response.headers["x-rate-limit-remaining"] == "7"


async def test_aiohttp_transport_reuses_connections(server: str) -> None:
    """Sequential requests ride one kept-alive connection (the same client port)."""
    async with make_async_client(server) as client:
        ports = {(await client.get("/echo")).json()["peer_port"] for _ in range(5)}
    assert len(ports) == 1


async def test_aiohttp_transport_decodes_gzip_via_httpx(server: str) -> None:
    """aiohttp passes the gzip body through and httpx decodes it, as with httpx's own transport."""
    async with make_async_client(server) as client:
        response = await client.get("/gzip")
    assert response.json() == {"zipped": True}


async def test_aiohttp_transport_streams_request_bodies(server: str) -> None:
    """A request body given as an async iterator is sent in full."""

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"abc", b"def"):
            yield part

    async with make_async_client(server) as client:
        response = await client.post("/echo", content=chunks())
    assert response.json()["body"] == "abcdef"


async def test_connection_refused_is_httpx_connect_error() -> None:
    """A closed port raises httpx.ConnectError, which the retry policy knows is safe to retry."""
    async with make_async_client("http://127.0.0.1:9") as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/")


async def test_read_timeout_is_httpx_read_timeout(server: str) -> None:
    """httpx's read timeout is enforced by the aiohttp transport and raised as httpx.ReadTimeout."""
    async with make_async_client(server, timeout=httpx.Timeout(5.0, read=0.05)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")


async def test_api_client_keeps_no_response_cookies(server: str) -> None:
    """Set-Cookie headers are visible on the response but never stored or sent back."""
    async with make_async_client(server) as client:
        response = await client.get("/cookies")
        again = await client.get("/echo")
    assert len(response.headers.get_list("set-cookie")) == 2
    assert len(client.cookies) == 0
    assert "cookie" not in again.json()["headers"]


async def test_api_client_sends_explicit_cookies() -> None:
    """Cookies the caller sets on the client are still sent with each request."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie", ""))
        return httpx.Response(200)

    async with ApiAsyncClient(
        base_url="http://t", transport=httpx.MockTransport(handler), cookies={"a": "1"}
    ) as c:
        await c.get("/")
        c.cookies = {"b": "2"}
        await c.get("/")
    assert seen == ["a=1", "b=2"]


async def test_shared_session_is_not_closed_by_transport(server: str) -> None:
    """A session passed in is the caller's: closing the client leaves it open."""
    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session=session)
        async with httpx.AsyncClient(base_url=server, transport=transport) as client:
            assert (await client.get("/echo")).status_code == 201
        assert not session.closed


async def test_asgi_transport_passes_through() -> None:
    """An httpx.ASGITransport is used as given, so a whole stack can run in one process."""

    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    asgi = httpx.ASGITransport(app=app)
    assert make_transport(asgi) is asgi
    async with make_async_client("http://fake", transport=asgi) as client:
        assert (await client.get("/")).status_code == 204


def test_make_transport_choices() -> None:
    """Each named choice builds its transport; an unknown name is a clear ValueError."""
    assert isinstance(make_transport("aiohttp"), AiohttpTransport)
    assert isinstance(make_transport("httpx-aiohttp"), httpx_aiohttp.AiohttpTransport)
    assert isinstance(make_transport("httpx"), httpx.AsyncHTTPTransport)
    with pytest.raises(ValueError, match="unknown transport"):
        make_transport("curl")  # type: ignore[arg-type]


async def test_garbage_response_is_an_httpx_transport_error() -> None:
    """A peer that answers with non-HTTP bytes raises an httpx.TransportError, not an aiohttp one."""

    async def reply_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"this is not http\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(reply_garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with make_async_client(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(httpx.TransportError):
                await client.get("/")
    finally:
        server.close()
        await server.wait_closed()


async def test_disconnect_after_request_is_not_reported_as_unsent() -> None:
    """A server that reads the POST then hangs up yields RemoteProtocolError, which is not retried.

    (httpx-aiohttp 0.2 reports this as ConnectTimeout, which would make a retry policy resend an SMS
    the server may already have accepted.)
    """
    received = asyncio.Event()

    async def read_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        received.set()
        writer.close()

    server = await asyncio.start_server(read_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with make_async_client(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(httpx.TransportError) as caught:
                await client.post("/sms", data={"To": "+919812345678"})
    finally:
        server.close()
        await server.wait_closed()
    assert received.is_set()
    assert isinstance(caught.value, httpx.RemoteProtocolError)
    assert not retry_safe_errors(caught.value)


async def test_idle_connections_expire_before_a_servers_keep_alive_timeout() -> None:
    """A connection idle longer than the server's keep-alive timeout is one the server closes, and
    a request sent on it as it does is reset. The client drops idle connections first (uvicorn, which
    serves the fakes, closes them after 5 s), so a request after a pause never meets a reset: the
    poller saw 1-6 "Connection reset by peer" per sweep between steps, when the step's connections
    all expired together and aiohttp's one retry (FIFO: the next oldest) met the next of them."""
    # uvicorn's default keep-alive timeout (what the fakes run with)
    server_keep_alive = float(inspect.signature(uvicorn.Config).parameters["timeout_keep_alive"].default)
    resets = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal resets
        answered: float | None = None
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if answered is not None and time.monotonic() - answered > server_keep_alive:
                # the keep-alive timeout closed the connection as the request came: a reset
                writer.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                writer.transport.abort()
                resets += 1
                return
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()
            answered = time.monotonic()

    server = await asyncio.start_server(keep_alive, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with make_async_client(f"http://127.0.0.1:{port}") as client:
            # a burst leaves several idle connections, released together (a sweep step's end)
            await asyncio.gather(*(client.get("/2/users/1/mentions") for _ in range(4)))
            await asyncio.sleep(server_keep_alive + 0.1)
            response = await client.get("/2/users/1/mentions")
    finally:
        server.close()
        await server.wait_closed()
    assert response.status_code == 200
    assert resets == 0
