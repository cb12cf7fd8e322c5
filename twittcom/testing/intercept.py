"""Routing HTTP requests for given hosts to in-process ASGI apps, with no socket opened.

One process-wide :data:`INTERCEPTOR` keeps a table host -> :class:`Mount` (an ASGI app on the
fakes' loop). While at least one activation is open it patches, and on the last close unpatches:

* **requests** (tweepy, twilio, xdk): ``requests.adapters.HTTPAdapter.send``, as the ``responses``
  library does; the answer is built by the adapter's own ``build_response``;
* **httpx**, through respx: a :class:`respx.MockRouter` whose handlers serve mounted hosts
  (respx patches httpcore, so every client on httpx's default transports is covered);
* **aiohttp** under httpx's API: ``httpx_aiohttp.AiohttpTransport`` and the processor's own
  ``reference.clients.transport.AiohttpTransport`` (respx cannot see custom transports).

A request for a host no mount serves is refused with :class:`UnmockedRequestError` (an
``AssertionError``, as respx's "not mocked") or, with ``other_hosts="pass"``, sent for real.
Every exchange is logged in :data:`twittcom.testing.calllog.LOG`.
"""

from __future__ import annotations

import http
import io
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal
from unittest import mock
from urllib.parse import urlsplit

import httpx
import requests
import respx
from requests.adapters import HTTPAdapter
from respx.models import AllMockedAssertionError
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

from twittcom.testing.asgi_call import Answer, call_asgi
from twittcom.testing.calllog import LOG
from twittcom.testing.loop import FakeLoop

__all__ = ["INTERCEPTOR", "Interceptor", "Mount", "OtherHosts", "UnmockedRequestError", "serve"]

OtherHosts = Literal["fail", "pass"]


class UnmockedRequestError(AllMockedAssertionError):
    """A request for a host no fake serves while other hosts are refused (``other_hosts="fail"``)."""


@dataclass
class Mount:
    """An ASGI app answering for some hosts, run on ``loop``."""

    name: str
    app: Any
    loop: FakeLoop


async def serve(
    mount: Mount, method: str, url: str, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> Answer:
    """One exchange with ``mount``'s app (run it on the mount's loop)."""
    return await call_asgi(mount.app, method, url, headers, body)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part.encode("utf-8") if isinstance(part, str) else bytes(part) for part in body)


def _headers(pairs: Iterable[tuple[str, str | bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v if isinstance(v, bytes) else v.encode("latin-1")) for k, v in pairs]


class Interceptor:
    """The host table and the patches of the three client libraries."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._mounts: dict[str, list[Mount]] = {}
        self._policies: list[tuple[object, OtherHosts]] = []
        self._patches: list[Any] = []
        self._router: _FakeRouter | None = None

    # activations and mounts -------------------------------------------------------------------
    def activate(self, token: object, other_hosts: OtherHosts) -> None:
        if other_hosts not in ("fail", "pass"):
            raise ValueError("other_hosts must be 'fail' or 'pass'")
        with self._lock:
            self._policies.append((token, other_hosts))
            if len(self._policies) == 1:
                self._start()

    def deactivate(self, token: object) -> None:
        with self._lock:
            self._policies = [(t, p) for t, p in self._policies if t is not token]
            if not self._policies:
                self._stop()

    @property
    def active(self) -> bool:
        return bool(self._policies)

    @property
    def other_hosts(self) -> OtherHosts:
        """The policy of the innermost activation."""
        with self._lock:
            return self._policies[-1][1] if self._policies else "pass"

    def mount(self, hosts: Iterable[str], mount: Mount) -> None:
        with self._lock:
            for host in hosts:
                self._mounts.setdefault(host.lower(), []).append(mount)

    def unmount(self, hosts: Iterable[str], mount: Mount) -> None:
        with self._lock:
            for host in hosts:
                stack = self._mounts.get(host.lower(), [])
                if mount in stack:
                    stack.remove(mount)
                if not stack:
                    self._mounts.pop(host.lower(), None)

    def lookup(self, url: str) -> Mount | None:
        stack = self._mounts.get(_host(url))
        return stack[-1] if stack else None

    def refuse(self, method: str, url: str, via: str) -> UnmockedRequestError:
        LOG.record("refused", via, method, url, b"", None, b"", 0.0)
        served = ", ".join(sorted(self._mounts)) or "none"
        return UnmockedRequestError(
            f"twittcom fakes: {method} {url} was refused: no fake serves {_host(url)!r} (served here: "
            f"{served}). Pass other_hosts='pass' to let other hosts through."
        )

    # patching ---------------------------------------------------------------------------------
    def _start(self) -> None:
        import httpx_aiohttp

        from reference.clients import transport as reference_transport

        self._router = _FakeRouter(self)
        self._router.start()
        patches = [
            mock.patch.object(HTTPAdapter, "send", _requests_send(self, HTTPAdapter.send)),
            mock.patch.object(
                httpx_aiohttp.AiohttpTransport,
                "handle_async_request",
                _aiohttp_send(self, httpx_aiohttp.AiohttpTransport.handle_async_request),
            ),
            mock.patch.object(
                reference_transport.AiohttpTransport,
                "handle_async_request",
                _aiohttp_send(self, reference_transport.AiohttpTransport.handle_async_request),
            ),
        ]
        for patch in patches:
            patch.start()
        self._patches = patches

    def _stop(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._patches = []
        if self._router is not None:
            self._router.stop(quiet=True)
            self._router = None


def _elapsed(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _requests_send(owner: Interceptor, original: Callable[..., requests.Response]) -> Callable[..., Any]:
    def send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        url = request.url or ""
        method = request.method or "GET"
        found = owner.lookup(url)
        if found is None:
            if owner.other_hosts == "pass":
                LOG.record("passed through", "requests", method, url, b"", None, b"", 0.0)
                return original(self, request, *args, **kwargs)
            raise owner.refuse(method, url, "requests")
        body = _body_bytes(request.body)
        start = time.perf_counter()
        status, headers, content = found.loop.run(
            serve(found, method, url, _headers(request.headers.items()), body)
        )
        LOG.record(found.name, "requests", method, url, body, status, content, _elapsed(start))
        raw = HTTPResponse(
            body=io.BytesIO(content),
            headers=HTTPHeaderDict([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]),
            status=status,
            reason=_reason(status),
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)

    return send


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _aiohttp_send(owner: Interceptor, original: Callable[..., Any]) -> Callable[..., Any]:
    async def handle_async_request(self: Any, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        found = owner.lookup(url)
        if found is None:
            if owner.other_hosts == "pass":
                LOG.record("passed through", "aiohttp", request.method, url, b"", None, b"", 0.0)
                response: httpx.Response = await original(self, request)
                return response
            raise owner.refuse(request.method, url, "aiohttp")
        return await _async_exchange(found, request, "aiohttp")

    return handle_async_request


async def _async_exchange(found: Mount, request: httpx.Request, via: str) -> httpx.Response:
    body = await request.aread()
    url = str(request.url)
    start = time.perf_counter()
    status, headers, content = await found.loop.arun(
        serve(found, request.method, url, request.headers.raw, body)
    )
    LOG.record(found.name, via, request.method, url, body, status, content, _elapsed(start))
    return httpx.Response(status, headers=headers, content=content, request=request)


class _FakeRouter(respx.MockRouter):
    """respx's router, answering mounted hosts from their app and refusing or passing the rest."""

    def __init__(self, owner: Interceptor) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self.owner = owner
        self.route(name="twittcom-pass-through").pass_through()

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        found = self.owner.lookup(url)
        if found is None:
            return self._other(request)
        body = request.read()
        start = time.perf_counter()
        status, headers, content = found.loop.run(
            serve(found, request.method, url, request.headers.raw, body)
        )
        LOG.record(found.name, "httpx", request.method, url, body, status, content, _elapsed(start))
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        found = self.owner.lookup(str(request.url))
        if found is None:
            return self._other(request)
        return await _async_exchange(found, request, "httpx")

    def _other(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if self.owner.other_hosts == "pass":
            LOG.record("passed through", "httpx", request.method, url, b"", None, b"", 0.0)
            return super().handler(request)  # the pass-through route raises respx's PassThrough
        raise self.owner.refuse(request.method, url, "httpx")


#: the process-wide interceptor every mock uses
INTERCEPTOR = Interceptor()
