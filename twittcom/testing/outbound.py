"""Where the fakes' own requests go in-process: webhook deliveries (fake X) and status callbacks
(fake SMS).

:class:`OutboundTransport` is the ``httpx`` transport under the fakes' outbound clients. A request
for a host an app is mounted on (the processor of the whole stack, or an app the test mounted with
``mock.mount(host, app)``) is served by that app on the fakes' loop; any other request is recorded
and answered ``200`` with an empty body, so a test can read what a fake sent without a server.
Everything is logged in :data:`~twittcom.testing.calllog.LOG`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx

from twittcom.testing.calllog import LOG
from twittcom.testing.intercept import Interceptor, serve

__all__ = ["OutboundRequest", "OutboundTransport"]


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """A request a fake sent, and the status it got (``answered_by`` is a mounted app or ``None``)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    answered_by: str | None

    @property
    def form(self) -> dict[str, str]:
        """The form-encoded body as a dict (SMS status callbacks)."""
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


class OutboundTransport(httpx.AsyncBaseTransport):
    """Serves mounted hosts in-process and records the rest (see the module docstring)."""

    def __init__(self, interceptor: Interceptor, source: str) -> None:
        self.interceptor = interceptor
        self.source = source
        self.sent: list[OutboundRequest] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url = str(request.url)
        start = time.perf_counter()
        found = self.interceptor.lookup(url)
        if found is not None:
            status, headers, content = await serve(found, request.method, url, request.headers.raw, body)
            target: str | None = found.name
        else:
            status, headers, content, target = 200, [], b"", None
        elapsed = (time.perf_counter() - start) * 1000.0
        LOG.record(
            target or "recorded",
            f"{self.source} outbound",
            request.method,
            url,
            body,
            status,
            content,
            elapsed,
        )
        self.sent.append(
            OutboundRequest(request.method, url, dict(request.headers.items()), body, status, target)
        )
        return httpx.Response(status, headers=headers, content=content, request=request)
