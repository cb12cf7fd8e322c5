"""One HTTP exchange with an ASGI app, in the app's event loop, without a socket or an HTTP parser.

:func:`call_asgi` builds the ASGI ``http`` scope from the URL and headers (adding ``host`` and
``content-length`` as a client library would on the wire), hands the body over in one
``http.request`` message and collects ``http.response.start`` / ``http.response.body`` messages.
After the response is complete ``receive`` reports ``http.disconnect``, as a server would when
the client hangs up (what ``httpx.ASGITransport`` does too). It is leaner than building
``httpx.Request``/``httpx.Response`` objects for each call, which matters in the per-call budget of
``benchmarks/test_mock_interception.py``. Exceptions of the app propagate to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["Answer", "call_asgi"]

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
_HOP_BY_HOP = frozenset({b"transfer-encoding", b"connection", b"keep-alive"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


async def call_asgi(
    app: Any, method: str, url: str, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> Answer:
    """Send one request to ``app``; its status, response headers and body."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS.get(scheme, 80)
    raw_headers = [(k.lower(), v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
    names = {k for k, _ in raw_headers}
    if b"host" not in names:
        raw_headers.insert(0, (b"host", parts.netloc.encode("latin-1")))
    if body and b"content-length" not in names:
        raw_headers.append((b"content-length", str(len(body)).encode("ascii")))
    path = parts.path or "/"
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": unquote(path),
        "raw_path": path.encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": raw_headers,
        "server": (host, port),
        "client": ("127.0.0.1", 50000),
    }
    request_sent = False
    complete = asyncio.Event()
    status = 500
    response_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> MutableMapping[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        kind = message["type"]
        if kind == "http.response.start":
            status = int(message["status"])
            response_headers.extend((bytes(k), bytes(v)) for k, v in message.get("headers", ()))
        elif kind == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                complete.set()

    await app(scope, receive, send)
    complete.set()
    return status, response_headers, b"".join(chunks)
