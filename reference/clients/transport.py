"""The HTTP transport under the processor's outbound clients, and the factory that builds them.

The clients speak httpx's API (so respx can mock them and ``httpx.ASGITransport`` can run the
whole stack in one process), but httpx's default async transport is slow under concurrency
(``measured-here.md``: 300-760 POST/s here against ~6,000 for raw aiohttp). This module owns the
choice of what sits under :class:`httpx.AsyncClient`:

- ``"aiohttp"`` (the default): :class:`AiohttpTransport`, our own thin adapter over one shared
  :class:`aiohttp.ClientSession` with a tuned :class:`aiohttp.TCPConnector`. It buffers each
  response body inside the transport (API responses are small JSON documents) and maps aiohttp's
  errors the way httpx's own transport reports them. That matters for retries: ``httpx-aiohttp``
  0.2 maps every ``aiohttp.ClientConnectionError`` (a server hanging up *after* reading the
  request included) to ``httpx.ConnectTimeout``, i.e. "never sent", which would make a retry
  policy resend an SMS the server may have accepted. Throughput and CPU per request are on par
  with ``httpx-aiohttp`` (``benchmarks/test_client_transport.py``: the transport is not the
  bottleneck, httpx's client layer is); the gain over a stock client (~1.6-1.8x) comes from
  :class:`ApiAsyncClient` and from our clients posting to pre-parsed absolute URLs.
- ``"httpx-aiohttp"``: the ``httpx_aiohttp`` 0.2 transport, kept for comparison in the benchmark.
- ``"httpx"``: httpx's own default transport (httpcore).
- any :class:`httpx.AsyncBaseTransport`, e.g. ``httpx.ASGITransport(app=...)`` in-process, or
  ``httpx.MockTransport(handler)`` in unit tests.

Usage::

    client = make_async_client("http://127.0.0.1:8001", transport="aiohttp",
                               limits=httpx.Limits(max_connections=64))
    async with client:
        response = await client.post("/2/tweets", json={"text": "hi"})
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from http.cookiejar import CookieJar
from typing import Any, Literal, get_args

import aiohttp
import httpx
import httpx_aiohttp
from yarl import URL

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "TRANSPORTS",
    "AiohttpTransport",
    "ApiAsyncClient",
    "TransportChoice",
    "make_async_client",
    "make_transport",
]

TransportChoice = Literal["aiohttp", "httpx-aiohttp", "httpx"]
#: the transport choices, for option lists and checks (the one list)
TRANSPORTS: tuple[str, ...] = get_args(TransportChoice)

#: Idle connections are dropped after 4 s, before the servers close them: uvicorn (the fakes) and
#: Node.js close an idle keep-alive connection after 5 s, and a request sent on it as they do is
#: reset. aiohttp reuses the *oldest* idle connection first and retries an idempotent request once,
#: on the next oldest: with 30 s, the connections a burst left, all idle since the same moment,
#: met the poller's reads as they expired together (1-6 "Connection reset by peer" per sweep).
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=4.0)
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# aiohttp exception -> the httpx exception a caller of httpx's API expects. Order matters:
# the first match wins, so the more specific classes come first.
_EXCEPTION_MAP: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientOSError, httpx.NetworkError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a malformed response
    (TimeoutError, httpx.TimeoutException),
    (aiohttp.ClientError, httpx.TransportError),
)


def _map_exception(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    for source, target in _EXCEPTION_MAP:
        if isinstance(exc, source):
            return target(str(exc) or type(exc).__name__, request=request)
    return None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An :class:`httpx.AsyncBaseTransport` over one shared :class:`aiohttp.ClientSession`.

    The session is created lazily on the first request (inside the running event loop) unless
    one is passed in; a passed-in session is not closed by :meth:`aclose`. Responses are read in
    full before they are handed to httpx, so this transport suits API calls, not downloads.

    Arguments:
        limits: ``max_connections`` becomes the connector's ``limit`` (``None`` = unlimited);
            ``keepalive_expiry`` its ``keepalive_timeout``. Every idle connection is kept alive
            (aiohttp has no separate cap, so ``max_keepalive_connections`` is not used).
        ssl_context: TLS settings for https URLs (default: the system's verified context).
        session: an existing session to share between several transports.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._limits = limits
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session = session
        self._owns_session = session is None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry or DEFAULT_LIMITS.keepalive_expiry,
            ttl_dns_cache=300,
            ssl=self._ssl,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies, if any
            auto_decompress=False,  # httpx decodes Content-Encoding itself
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
        )

    def _timeout_for(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        spec: Mapping[str, float | None] = request.extensions.get("timeout", {})
        key = (spec.get("connect"), spec.get("read"), spec.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._new_session()
            self._owns_session = True
        headers = request.headers.multi_items()
        try:
            body: bytes | None = request.content or None
        except httpx.RequestNotRead:  # a streamed body: send it buffered, with a Content-Length
            body = await request.aread() or None
            headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        try:
            async with session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout_for(request),
            ) as aio_response:
                content = await aio_response.read()
                status = aio_response.status
                raw_headers = aio_response.raw_headers
                reason = aio_response.reason
        except httpx.HTTPError:
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            mapped = _map_exception(exc, request)
            if mapped is None:  # pragma: no cover - the map ends with catch-alls for both kinds
                raise
            raise mapped from exc
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason.encode("ascii", "replace")
        return httpx.Response(
            status,
            headers=raw_headers,
            stream=httpx.ByteStream(content),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        self._session = None


_CookieInput = httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]] | None


class _StaticCookies(httpx.Cookies):
    """Cookies the caller set explicitly; cookies in responses are never stored."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ApiAsyncClient(httpx.AsyncClient):
    """An :class:`httpx.AsyncClient` for header-authenticated APIs, which never stores cookies.

    X and Twilio authenticate each request by its ``Authorization`` header, so a cookie jar is
    dead weight: httpx runs every response through :mod:`http.cookiejar`, which costs ~30 us per
    request here (a sixth of the whole client overhead). Cookies passed explicitly (``cookies=``
    or by assigning :attr:`cookies`) are still sent.
    """

    def __init__(self, *, cookies: _CookieInput = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._static_cookies = _StaticCookies(cookies)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._static_cookies

    @cookies.setter
    def cookies(self, cookies: _CookieInput) -> None:
        self._static_cookies = _StaticCookies(cookies)


def make_transport(
    choice: TransportChoice | httpx.AsyncBaseTransport = "aiohttp",
    *,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.AsyncBaseTransport:
    """Build the transport named by ``choice`` (or return ``choice`` if it already is one)."""
    if isinstance(choice, httpx.AsyncBaseTransport):
        return choice
    if choice == "aiohttp":
        return AiohttpTransport(limits=limits)
    if choice == "httpx-aiohttp":
        return httpx_aiohttp.AiohttpTransport(limits=limits)
    if choice == "httpx":
        return httpx.AsyncHTTPTransport(limits=limits)
    raise ValueError(
        f"unknown transport {choice!r}; expected 'aiohttp', 'httpx-aiohttp', 'httpx' or a transport instance"
    )


def make_async_client(
    base_url: str,
    *,
    transport: TransportChoice | httpx.AsyncBaseTransport = "aiohttp",
    limits: httpx.Limits = DEFAULT_LIMITS,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    auth: httpx.Auth | tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An :class:`ApiAsyncClient` (an :class:`httpx.AsyncClient`) for ``base_url`` over a transport.

    In unit tests pass ``transport=httpx.MockTransport(respx_router.async_handler)`` (respx's
    default patching only reaches httpx's own transport), or ``httpx.ASGITransport(app=...)``.

    ``limits`` sizes the connection pool of a transport built here; it is ignored when a ready
    transport (ASGI, mock) is passed. The caller owns the client and closes it (``async with``).
    """
    return ApiAsyncClient(
        base_url=base_url,
        transport=make_transport(transport, limits=limits),
        timeout=timeout,
        auth=auth,
        headers=dict(headers) if headers else None,
        follow_redirects=False,
    )
