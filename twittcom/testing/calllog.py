"""What the fakes received: a bounded, process-wide log of intercepted HTTP exchanges.

Every request routed to an in-process fake (and every request the fakes send out: webhook
deliveries, status callbacks, and requests refused because no fake serves their host) is appended
here as a :class:`Call`. The pytest plugin marks the log when a test starts and, when the test
fails, prints the calls made since, like respx's call log. Standard library only, so the plugin can
import it without loading any fake.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["LOG", "Call", "CallLog", "format_calls"]

#: how much of a request or response body a log entry keeps (bounds the log's memory), and prints
BODY_KEPT = 2048
BODY_PREVIEW = 300


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP exchange seen by the interception layer.

    ``target`` names who answered (``fake X``, ``fake SMS``, a mounted app's host, ``recorded``
    for an outbound request no app serves, ``refused`` or ``passed through`` for other hosts);
    ``via`` the client library path (``requests``, ``httpx``, ``aiohttp``, ``fake outbound``).
    """

    seq: int
    target: str
    via: str
    method: str
    url: str
    request_body: bytes
    status: int | None
    response_body: bytes
    elapsed_ms: float

    def line(self) -> str:
        status = "---" if self.status is None else str(self.status)
        return (
            f"{self.method:6} {self.url} -> {status} [{self.target} via {self.via}, {self.elapsed_ms:.1f} ms]"
        )


def _preview(body: bytes) -> str:
    text = body[:BODY_PREVIEW].decode("utf-8", "replace")
    return text + ("..." if len(body) > BODY_PREVIEW else "")


def format_calls(calls: list[Call], *, bodies: bool = True) -> str:
    """A readable listing: one line per call, then (optionally) the bodies, indented."""
    lines: list[str] = []
    for call in calls:
        lines.append(call.line())
        if bodies and call.request_body:
            lines.append("         request:  " + _preview(call.request_body))
        if bodies and call.response_body:
            lines.append("         response: " + _preview(call.response_body))
    return "\n".join(lines)


class CallLog:
    """A bounded, thread-safe append-only log with sequence numbers (marks survive trimming)."""

    def __init__(self, maxlen: int = 5_000) -> None:
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._last = 0

    def record(
        self,
        target: str,
        via: str,
        method: str,
        url: str,
        request_body: bytes,
        status: int | None,
        response_body: bytes,
        elapsed_ms: float,
    ) -> Call:
        with self._lock:
            seq = next(self._seq)
            call = Call(
                seq,
                target,
                via,
                method,
                url,
                request_body[:BODY_KEPT],
                status,
                response_body[:BODY_KEPT],
                elapsed_ms,
            )
            self._calls.append(call)
            self._last = seq
        return call

    def mark(self) -> int:
        """The sequence number of the newest call (pass it to :meth:`since`)."""
        return self._last

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if call.seq > mark]

    def all(self) -> list[Call]:
        with self._lock:
            return list(self._calls)


#: the process-wide log every interception writes to
LOG = CallLog()
