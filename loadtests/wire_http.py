"""A minimal HTTP/1.1 keep-alive client on gevent's event loop: the journeys' wire.

The journeys send small requests to two loopback fakes and read small JSON answers. A general
client spends most of its time per request on what they never need (header objects, a liveness
``select`` before each reuse, a parser callback per header, Python-level ``sendall`` chunking):
geventhttpclient's bare ``HTTPClient`` cost most of the generator's CPU in the profile of
``benchmarks/test_journey_cost.py``. This client writes one pre-formatted request (one ``send``),
parks the greenlet on the connection's cached libev watcher until the answer is readable (the
network timeout re-armed per wait) and reads it with non-blocking ``recv`` calls. It understands
exactly what the fakes answer with: ``Content-Length`` bodies, ``Transfer-Encoding: chunked``
bodies, bodies ended by the server's close, and ``Connection: close``. No TLS, no redirects,
no proxies, no pipelining, no ``100-continue``: anything else is a :class:`WireError` with a one-line reason.

A connection is reused while the server keeps it alive; one idle for longer than
:data:`IDLE_REUSE_S` (uvicorn closes idle ones after 5 s) is closed instead, and a request on a
reused connection that the server closed before answering a single byte is sent once more on a
fresh one (as urllib3 and httpx do for the same race).
"""

from __future__ import annotations

import _socket
import errno
import os
import time
from typing import Any

from gevent import get_hub
from gevent import socket as gsocket
from gevent.hub import Waiter

__all__ = ["IDLE_REUSE_S", "WireConnection", "WireError", "WirePool"]

#: a kept-alive connection idle this long is not reused (uvicorn's default keep-alive is 5 s)
IDLE_REUSE_S = 4.0
_READ, _WRITE = 1, 2
_RECV = 65536
_HEAD_END = b"\r\n\r\n"
#: the response headers that frame a body or end a connection (the only ones read), each with the
#: text that starts its line in a lower-cased head
_FRAMING = tuple((key, f"\r\n{key}:") for key in ("content-length", "transfer-encoding", "connection"))
#: the longest response head accepted (status line and headers)
MAX_HEAD = 65536


class WireError(Exception):
    """A protocol error or a connection that failed (the request's failure, one line)."""


class _Stale(Exception):
    """A reused connection closed by the server before it answered anything."""


class WireConnection:
    """One keep-alive connection: :meth:`exchange` sends a request's bytes and returns the answer."""

    def __init__(self, host: str, port: int, *, timeout: float, connect_timeout: float) -> None:
        family, address = _address(host, port)
        self._sock = _socket.socket(family, _socket.SOCK_STREAM)
        self._sock.setblocking(False)
        self._hub = get_hub()
        loop = self._hub.loop
        fd = self._sock.fileno()
        self._readable = loop.io(fd, _READ)
        self._writable = loop.io(fd, _WRITE)
        self._timer = loop.timer(connect_timeout, connect_timeout)
        self._timeout = connect_timeout
        self.open = True
        try:
            error = self._sock.connect_ex(address)
            if error in (errno.EINPROGRESS, errno.EWOULDBLOCK):
                self._wait(self._writable)
                error = self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
            if error:
                raise WireError(f"cannot connect to {host}:{port}: {os.strerror(error)}")
            self._sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except WireError as exc:
            self.close()
            raise WireError(str(exc).replace("no answer", "no connection")) from None
        self._timer.close()
        self._timer = loop.timer(timeout, timeout)
        self._timeout = timeout
        self.used_at = time.monotonic()
        self.reused = False

    def close(self) -> None:
        if self.open:
            self.open = False
            self._readable.close()
            self._writable.close()
            self._timer.close()
            self._sock.close()

    def _wait(self, watcher: Any) -> None:
        """Park this greenlet until ``watcher`` fires, or fail after the network timeout."""
        waiter = Waiter(self._hub)
        switch = waiter.switch  # one bound method for both watchers
        watcher.start(switch, True)
        # again(), not start(): libev keeps only the time left when a started timer is stopped, so a
        # restarted one would bound the connection's total wait; again() re-arms the full interval
        self._timer.again(switch, False)
        try:
            ready = waiter.get()
        finally:
            watcher.stop()
            self._timer.stop()
        if not ready:
            raise WireError(f"no answer within {self._timeout:g} s")

    def _send(self, data: bytes) -> None:
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):  # a small request leaves in one call
            return
        view = memoryview(data)[sent:]
        while view:
            try:
                sent = self._sock.send(view)
            except BlockingIOError:
                self._wait(self._writable)
                continue
            view = view[sent:]

    def _recv(self) -> bytes:
        while True:
            try:
                return self._sock.recv(_RECV)
            except BlockingIOError:
                self._wait(self._readable)

    def exchange(self, request: bytes, *, head_only: bool = False) -> tuple[int, bytes]:
        """Send ``request`` (a whole HTTP/1.1 request) and read its answer: status and body.

        ``head_only``: the request was HEAD (the answer has no body whatever its headers say)."""
        try:
            self._send(request)
        except OSError as exc:
            self.close()
            if self.reused and isinstance(exc, BrokenPipeError | ConnectionResetError):
                raise _Stale from exc
            raise WireError(f"connection lost while sending: {exc}") from exc
        except BaseException:  # a timeout, or the greenlet killed: the connection's state is unknown
            self.close()
            raise
        try:
            status, body, keep = self._answer(head_only)
        except OSError as exc:
            self.close()
            raise WireError(f"connection lost while reading: {exc}") from exc
        except BaseException:
            self.close()
            raise
        if keep:
            self.used_at, self.reused = time.monotonic(), True
        else:
            self.close()
        return status, body

    def _answer(self, head_only: bool) -> tuple[int, bytes, bool]:
        self._wait(self._readable)  # the answer cannot be there yet: no recv that would only fail
        try:
            buffer = self._recv()
        except ConnectionResetError:
            if self.reused:
                raise _Stale from None
            raise
        if not buffer and self.reused:
            raise _Stale
        while (end := buffer.find(_HEAD_END)) < 0:
            if len(buffer) > MAX_HEAD:
                raise WireError("response head too long")
            more = self._recv()
            if not more:
                raise WireError("connection closed in the response head")
            buffer += more
        head = buffer[:end].decode("latin-1")
        status, headers, keep = _parse_head(head)
        rest = buffer[end + 4 :]
        if head_only or status in (204, 304) or 100 <= status < 200:
            if 100 <= status < 200:
                raise WireError(f"unexpected interim response {status}")
            return status, b"", keep and not rest
        if "chunked" in headers.get("transfer-encoding", ""):
            body, rest = self._chunked(rest)
            return status, body, keep and not rest
        length = headers.get("content-length")
        if length is None:  # the body runs to the server's close
            while more := self._recv():
                rest += more
            return status, rest, False
        try:
            size = int(length)
        except ValueError:
            raise WireError(f"bad Content-Length {length!r}") from None
        while len(rest) < size:
            more = self._recv()
            if not more:
                raise WireError(f"connection closed after {len(rest)} of {size} body bytes")
            rest += more
        return status, rest[:size], keep and len(rest) == size

    def _chunked(self, data: bytes) -> tuple[bytes, bytes]:
        """Decode a chunked body from ``data`` (reading more as needed); the body and what follows."""
        body, at = bytearray(), 0
        while True:
            while (line_end := data.find(b"\r\n", at)) < 0:
                data = self._more(data)
            try:
                size = int(data[at:line_end].split(b";", 1)[0], 16)
            except ValueError:
                raise WireError("bad chunk size line") from None
            at = line_end + 2
            if size == 0:  # trailers (none expected) end with an empty line
                while (end := data.find(b"\r\n", at)) < 0:
                    data = self._more(data)
                while end != at:
                    at = end + 2
                    while (end := data.find(b"\r\n", at)) < 0:
                        data = self._more(data)
                return bytes(body), data[end + 2 :]
            while len(data) < at + size + 2:
                data = self._more(data)
            body += data[at : at + size]
            at += size + 2

    def _more(self, data: bytes) -> bytes:
        more = self._recv()
        if not more:
            raise WireError("connection closed in a chunked body")
        return data + more


def _address(host: str, port: int) -> tuple[int, tuple[str, int]]:
    """The socket family and address of ``host:port`` (names resolved through gevent's resolver)."""
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            _socket.inet_pton(family, host)
        except OSError:
            continue
        return family, (host, port)
    try:
        found = gsocket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM)
    except OSError as exc:
        raise WireError(f"cannot resolve {host}: {exc}") from exc
    family, _, _, _, address = found[0]
    return family, (address[0], address[1])


def _parse_head(head: str) -> tuple[int, dict[str, str], bool]:
    """Status, the headers this client reads (lower-cased names and values) and whether the
    connection stays open. Only the three framing headers are looked for (one ``find`` each)."""
    status_line, _, rest = head.partition("\r\n")
    if not status_line.startswith("HTTP/1.") or len(status_line) < 12:
        raise WireError(f"not an HTTP/1.x response: {status_line[:60]!r}")
    try:
        status = int(status_line[9:12])
    except ValueError:
        raise WireError(f"bad status line {status_line[:60]!r}") from None
    lower = "\r\n" + rest.lower()
    headers: dict[str, str] = {}
    for key, line_start in _FRAMING:
        at = lower.find(line_start)
        if at >= 0:
            start = at + len(line_start)
            stop = lower.find("\r\n", start)
            headers[key] = lower[start : stop if stop >= 0 else len(lower)].strip()
    connection = headers.get("connection", "")
    keep = "close" not in connection if status_line[7] == "1" else "keep-alive" in connection
    return status, headers, keep


class WirePool:
    """Idle keep-alive connections to one ``host:port``, made on demand (one per request in flight)."""

    def __init__(self, host: str, port: int, *, timeout: float = 75.0, connect_timeout: float = 10.0) -> None:
        self.host, self.port = host, port
        self._timeout, self._connect_timeout = timeout, connect_timeout
        self._idle: list[WireConnection] = []

    def _take(self) -> WireConnection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.open and now - connection.used_at < IDLE_REUSE_S:
                return connection
            connection.close()
        return WireConnection(
            self.host, self.port, timeout=self._timeout, connect_timeout=self._connect_timeout
        )

    def exchange(self, request: bytes, *, head_only: bool = False) -> tuple[int, bytes]:
        """Send ``request`` on an idle connection (a fresh one if it turns out stale)."""
        for _ in range(2):
            connection = self._take()
            try:
                answer = connection.exchange(request, head_only=head_only)
            except _Stale:
                continue
            if connection.open:
                self._idle.append(connection)
            return answer
        raise WireError(f"{self.host}:{self.port} closed two connections before answering")

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()
