"""The journeys' HTTP transport: geventhttpclient's keep-alive ``HTTPClient``, reported to locust's stats.

Locust's ``FastHttpSession`` spends most of its ~145 µs per request (measured here) on what the
journeys never use: cookie jars, redirects, URL re-parsing per call, header objects built twice and
``catch_response`` bookkeeping. This transport sends the same requests through the same library's
bare ``HTTPClient`` (one keep-alive connection pool per host and user), parses the JSON answer, and
fires locust's ``request`` event itself, so locust's request statistics, failures and CSV/HTML
reports are what they were. Gevent-only: it runs inside locust's processes (and the ceiling
benchmark's), never imported by the CLI's parent process.
"""

from __future__ import annotations

import base64
import json as jsonlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from geventhttpclient import HTTPClient

__all__ = ["LeanHttp", "RequestFailed"]


class RequestFailed(Exception):
    """A request whose answer was not 200/201 JSON (reported to locust as the request's failure)."""


#: connections per host and user: a journey runs one request at a time, plus at most one long-poll
CONNECTIONS_PER_HOST = 2


class LeanHttp:
    """A :class:`loadtests.journeys.Transport`: one call, the JSON body or None (failure reported)."""

    def __init__(self, fire: Callable[..., Any], *, network_timeout: float = 75.0) -> None:
        self._fire = fire
        self._timeout = network_timeout
        self._clients: dict[str, tuple[HTTPClient, int]] = {}  # "scheme://host:port" -> client, prefix

    def _client(self, url: str) -> tuple[HTTPClient, str]:
        scheme_end = url.index("//") + 2
        path_at = url.find("/", scheme_end)
        origin = url if path_at < 0 else url[:path_at]
        found = self._clients.get(origin)
        if found is None:
            parts = urlsplit(origin)
            client = HTTPClient(
                parts.hostname or "127.0.0.1",
                parts.port or (443 if parts.scheme == "https" else 80),
                ssl=parts.scheme == "https",
                concurrency=CONNECTIONS_PER_HOST,
                network_timeout=self._timeout,
                connection_timeout=10.0,
            )
            found = self._clients[origin] = (client, len(origin))
        client, prefix = found
        return client, url[prefix:] or "/"

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
        send: dict[str, str] = {} if headers is None else dict(headers)
        body = b""
        if json is not None:
            body, send["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
        elif data is not None:
            body, send["Content-Type"] = urlencode(data).encode(), "application/x-www-form-urlencoded"
        if auth is not None:
            send["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        started = time.perf_counter()
        raw, result = b"", None
        failure: Exception | None = None
        try:
            client, path = self._client(url)
            with client.request(method, path, body=body, headers=send) as response:
                raw, status = response.read(), response.status_code
            if status not in (200, 201):
                failure = RequestFailed(f"HTTP {status}: {raw[:120].decode(errors='replace')}")
            else:
                try:
                    result = jsonlib.loads(raw)
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
