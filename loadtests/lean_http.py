"""The journeys' HTTP transport: :mod:`loadtests.wire_http`'s keep-alive client, reported to locust's stats.

Locust's ``FastHttpSession`` spends most of its ~145 µs per request (measured here) on what the
journeys never use: cookie jars, redirects, URL re-parsing per call, header objects built twice and
``catch_response`` bookkeeping; geventhttpclient's bare ``HTTPClient`` still spent most of the
generator's CPU on header objects, parser callbacks and a liveness ``select`` per request. This
transport formats each request as one byte string (the ``Host`` line and origin parsed once per
host), sends it through a :class:`loadtests.wire_http.WirePool` per host and user, parses the JSON
answer, and fires locust's ``request`` event itself, so locust's request statistics, failures and
CSV/HTML reports are what they were. Gevent-only: it runs inside locust's processes (and the
ceiling benchmark's), never imported by the CLI's parent process.
"""

from __future__ import annotations

import base64
import string
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
import orjson

from loadtests.wire_http import WirePool

__all__ = ["LeanHttp", "RequestFailed", "form_body"]


#: each ASCII character as ``urlencode`` writes it in a form body (``quote_plus``: unreserved ones
#: kept, a space as ``+``, the rest ``%XX``), for ``str.translate``
_FORM_ESCAPES = {
    c: "+" if c == 32 else chr(c) if chr(c) in string.ascii_letters + string.digits + "_.-~" else f"%{c:02X}"
    for c in range(128)
}


def form_body(data: Mapping[str, str]) -> str:
    """``urlencode(data)`` for string fields, by one ``str.translate`` per ASCII key and value (a
    fifth of ``urlencode``'s time, which quotes character by character in Python); others go to it."""
    fields = []
    for key, value in data.items():
        if not (key.isascii() and value.isascii()):
            return urlencode(data)
        fields.append(f"{key.translate(_FORM_ESCAPES)}={value.translate(_FORM_ESCAPES)}")
    return "&".join(fields)


class RequestFailed(Exception):
    """A request whose answer was not 200/201 JSON (reported to locust as the request's failure)."""


class _Origin:
    """One ``http://host:port``: its connection pool and the request line's fixed parts."""

    __slots__ = ("host_line", "pool", "prefix")

    def __init__(self, origin: str, *, timeout: float) -> None:
        parts = urlsplit(origin)
        if parts.scheme != "http":
            raise RequestFailed(f"only http:// URLs are supported, not {origin!r}")
        host = parts.hostname or "127.0.0.1"
        port = parts.port or 80
        self.pool = WirePool(host, port, timeout=timeout, connect_timeout=10.0)
        self.host_line = f" HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        self.prefix = len(origin)


class LeanHttp:
    """A :class:`loadtests.journeys.Transport`: one call, the JSON body or None (failure reported)."""

    def __init__(self, fire: Callable[..., Any], *, network_timeout: float = 75.0) -> None:
        self._fire = fire
        self._timeout = network_timeout
        self._origins: dict[str, _Origin] = {}  # "http://host:port" -> its pool and request parts
        self._basic: dict[tuple[str, str], str] = {}  # (user, password) -> its Authorization line

    def _basic_line(self, auth: tuple[str, str]) -> str:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        line = self._basic[auth] = f"Authorization: Basic {token}\r\n"
        return line

    def _origin(self, url: str) -> _Origin:
        scheme_end = url.index("//") + 2
        path_at = url.find("/", scheme_end)
        key = url if path_at < 0 else url[:path_at]
        found = self._origins.get(key)
        if found is None:
            found = self._origins[key] = _Origin(key, timeout=self._timeout)
        return found

    def __call__(
        self,
        method: str,
        url: str,
        *,
        name: str,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Any:
        started = time.perf_counter()
        raw, result = b"", None
        failure: Exception | None = None
        try:
            origin = self._origin(url)
            body = b""
            path = url[origin.prefix :] or "/"
            given = path if not headers else path + "".join(headers.values()) + "".join(headers)
            if "\n" in given or "\r" in given:  # one would end the line early and forge the rest
                raise RequestFailed(f"line break in the path or a header of {name!r}")
            head = method + " " + path + origin.host_line
            if json is not None:
                body = orjson.dumps(json)
                head += "Content-Type: application/json\r\n"
            elif data is not None:
                body = form_body(data).encode()
                head += "Content-Type: application/x-www-form-urlencoded\r\n"
            if auth is not None:
                head += self._basic.get(auth) or self._basic_line(auth)
            if headers:
                head += "".join(f"{key}: {value}\r\n" for key, value in headers.items())
            if body or method in ("POST", "PUT", "PATCH"):
                head += f"Content-Length: {len(body)}\r\n"
            status, raw = origin.pool.exchange((head + "\r\n").encode() + body, head_only=method == "HEAD")
            if status not in (200, 201):
                failure = RequestFailed(f"HTTP {status}: {raw[:120].decode(errors='replace')}")
            else:
                try:
                    result = orjson.loads(raw)
                except ValueError:
                    failure = RequestFailed("body is not JSON")
        except Exception as exc:  # connection errors, timeouts: counted as this request's failure
            failure = exc
        self._fire(
            request_type=method,
            name=name,
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=len(raw),
            exception=failure,
            context={},
            url=url,
            response=None,
        )
        return None if failure is not None else result


def quiet_interrupts() -> None:
    """Ctrl-C lands in whichever greenlet runs at that moment, often a user's journey (they run back
    to back); gevent then prints that greenlet's KeyboardInterrupt traceback before handing the
    interrupt to the main greenlet, where locust stops and writes its summary. The hand-over stays;
    the traceback goes (KeyboardInterrupt counts as "not an error" to print)."""
    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, KeyboardInterrupt)
