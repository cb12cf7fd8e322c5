"""The journeys' wire (:mod:`loadtests.wire_http`) and transport (:mod:`loadtests.lean_http`) against
scripted servers on gevent's loop in this process: the framings the fakes answer with, keep-alive
reuse, a stale connection, timeouts, refused connections and protocol errors, each a clear failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import gevent
import pytest
from gevent.pool import Pool
from gevent.server import StreamServer

from loadtests import wire_http
from loadtests.lean_http import LeanHttp, RequestFailed, form_body
from loadtests.wire_http import WireError, WirePool

Answer = Callable[[bytes], bytes | None]  # request head + body -> raw answer (None: close without one)


@contextmanager
def scripted(answer: Answer, *, close_after: int = 0) -> Iterator[tuple[int, list[bytes], list[int]]]:
    """A loopback server answering each request with ``answer``; yields its port, the requests it
    read and, per connection, how many requests it served (``close_after``: close after that many)."""
    seen: list[bytes] = []
    served: list[int] = []

    def handle(sock: Any, _address: Any) -> None:
        try:
            serve(sock)
        finally:
            sock.close()

    def serve(sock: Any) -> None:
        index, buffer = len(served), b""
        served.append(0)
        while True:
            while b"\r\n\r\n" not in buffer:
                more = sock.recv(65536)
                if not more:
                    return
                buffer += more
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buffer) < length:
                buffer += sock.recv(65536)
            body, buffer = buffer[:length], buffer[length:]
            seen.append(head + b"\r\n\r\n" + body)
            raw = answer(head + b"\r\n\r\n" + body)
            if raw is None:
                return
            sock.sendall(raw)
            served[index] += 1
            if close_after and served[index] >= close_after:
                return

    server = StreamServer(("127.0.0.1", 0), handle, spawn=Pool(64))  # stop() kills the pool's handlers
    server.start()
    try:
        yield server.server_port, seen, served
    finally:
        server.stop(timeout=0.05)


def fixed(raw: bytes) -> Answer:
    return lambda _request: raw


def test_content_length_answers_reuse_one_connection():
    """Keep-alive: three requests, one connection, each body read to its Content-Length."""
    with scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")) as (port, seen, served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        answers = [pool.exchange(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n") for _ in range(3)]
        pool.close()
    assert answers == [(200, b"hello")] * 3
    assert served == [3] and len(seen) == 3


def test_chunked_body_and_close_delimited_body():
    """Chunked bodies are decoded; a body without a length runs to the server's close."""
    chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"4;x=1\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    with scripted(fixed(chunked)) as (port, _, served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        assert pool.exchange(b"GET / HTTP/1.1\r\n\r\n") == (201, b"abcdefg")
        assert pool.exchange(b"GET / HTTP/1.1\r\n\r\n") == (201, b"abcdefg")
        assert served == [2]
    with scripted(fixed(b"HTTP/1.1 200 OK\r\n\r\nto the end"), close_after=1) as (port, _, served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        assert pool.exchange(b"GET / HTTP/1.1\r\n\r\n") == (200, b"to the end")
        assert pool.exchange(b"GET / HTTP/1.1\r\n\r\n") == (200, b"to the end")
        assert served == [1, 1]  # the close ended the first connection, the second is new


def test_connection_close_and_no_content_answers():
    """``Connection: close`` is honoured; 204 has no body whatever its headers."""
    with scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
                  close_after=1) as (port, _, served):  # fmt: skip
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        assert [pool.exchange(b"GET / HTTP/1.1\r\n\r\n") for _ in range(2)] == [(200, b"ok")] * 2
        assert served == [1, 1]
    with scripted(fixed(b"HTTP/1.1 204 No Content\r\n\r\n")) as (port, _, served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        assert [pool.exchange(b"DELETE / HTTP/1.1\r\n\r\n") for _ in range(2)] == [(204, b"")] * 2
        assert served == [2]


def test_a_large_request_leaves_whole():
    """A body larger than the socket's buffer is sent in parts, all of it."""
    body = bytes(range(256)) * 16_384  # 4 MiB
    with scripted(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%d" % (
            len(str(len(request))), len(request))) as (port, seen, _):  # fmt: skip
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        head = b"POST /big HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body)
        status, answer = pool.exchange(head + body)
    assert status == 200 and int(answer) == len(head) + len(body) and seen[0].endswith(body)


def test_a_stale_kept_alive_connection_is_replaced_once():
    """The server closed the idle connection: the request goes once more on a fresh one."""
    with scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"), close_after=1) as (port, seen, _):
        # the server closes after each answer without saying so: the next request finds it closed
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        assert pool.exchange(b"GET /a HTTP/1.1\r\n\r\n") == (200, b"1")
        gevent.sleep(0.05)
        assert pool.exchange(b"GET /b HTTP/1.1\r\n\r\n") == (200, b"1")
    assert [s.split(b" ")[1] for s in seen] == [b"/a", b"/b"]


def test_idle_connections_past_the_reuse_limit_are_not_reused(monkeypatch: pytest.MonkeyPatch):
    """A connection idle longer than IDLE_REUSE_S is closed, not reused."""
    monkeypatch.setattr(wire_http, "IDLE_REUSE_S", 0.05)
    with scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")) as (port, _, served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        pool.exchange(b"GET / HTTP/1.1\r\n\r\n")
        gevent.sleep(0.1)
        pool.exchange(b"GET / HTTP/1.1\r\n\r\n")
        gevent.sleep(0.05)
        assert served == [1, 1]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x response"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "connection closed in the response head"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "bad Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "connection closed after 5 of 10"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size line"),
        (b"HTTP/1.1 100 Continue\r\n\r\n", "unexpected interim response 100"),
    ],
)
def test_protocol_errors_are_one_line_wire_errors(raw: bytes, reason: str):
    with scripted(fixed(raw), close_after=1) as (port, _, _served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        with pytest.raises(WireError, match=reason):
            pool.exchange(b"GET / HTTP/1.1\r\n\r\n")


def test_no_answer_times_out_and_refused_connections_fail():
    def never(_request: bytes) -> bytes | None:
        gevent.sleep(5)
        return None

    with scripted(never) as (port, _, _served):
        pool = WirePool("127.0.0.1", port, timeout=0.2)
        with pytest.raises(WireError, match="no answer within 0.2 s"):
            pool.exchange(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(WireError, match=f"cannot connect to 127.0.0.1:{port}"):
        WirePool("127.0.0.1", port, timeout=1.0).exchange(b"GET / HTTP/1.1\r\n\r\n")


def test_the_timeout_bounds_each_wait_not_a_connection_s_total():
    """Waits on one kept-alive connection that add up to more than the timeout do not time out
    (each wait arms the timer afresh: a restarted libev timer would keep only what was left)."""

    def slow(_request: bytes) -> bytes:
        gevent.sleep(0.1)
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    with scripted(slow) as (port, _, served):
        pool = WirePool("127.0.0.1", port, timeout=0.25)
        assert [pool.exchange(b"GET / HTTP/1.1\r\n\r\n") for _ in range(5)] == [(200, b"ok")] * 5
    assert served == [5]


def test_a_killed_request_closes_its_connection(monkeypatch: pytest.MonkeyPatch):
    """A greenlet killed mid-request (locust stopping a user) leaves no half-read connection behind."""
    made: list[wire_http.WireConnection] = []
    monkeypatch.setattr(wire_http, "WireConnection", lambda *a, **k: made.append(Made(*a, **k)) or made[-1])
    with scripted(lambda _request: gevent.sleep(5) or None) as (port, _, _served):
        pool = WirePool("127.0.0.1", port, timeout=5.0)
        waiting = gevent.spawn(pool.exchange, b"GET / HTTP/1.1\r\n\r\n")
        gevent.sleep(0.05)
        assert len(made) == 1 and made[0].open
        waiting.kill()
    assert not made[0].open and not pool._idle


Made = wire_http.WireConnection


def test_lean_http_sends_one_well_formed_request_and_reports_it():
    """The transport's request bytes, its JSON answer and the locust request event it fires."""
    events: list[dict[str, Any]] = []
    answer = b'HTTP/1.1 201 Created\r\nContent-Length: 15\r\n\r\n{"data": {"a":1}}'
    answer = answer.replace(b"15", str(len(b'{"data": {"a":1}}')).encode())
    with scripted(fixed(answer)) as (port, seen, _served):
        http = LeanHttp(lambda **event: events.append(event))
        base = f"http://127.0.0.1:{port}"
        got = http("POST", f"{base}/2/tweets", name="tweet", json={"text": "#reg 98"},
                   headers={"authorization": "Bearer t"})  # fmt: skip
        form = http("POST", f"{base}/Messages.json", name="sms", data={"To": "+91 9"}, auth=("AC1", "tok"))
        empty = http("GET", base, name="root")
    assert got == form == empty == {"data": {"a": 1}}
    post = seen[0].decode()
    assert post.startswith(f"POST /2/tweets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n")
    assert "Content-Type: application/json\r\n" in post and "authorization: Bearer t\r\n" in post
    assert post.endswith('Content-Length: 18\r\n\r\n{"text":"#reg 98"}')
    assert "To=%2B91+9" in seen[1].decode() and "Authorization: Basic QUMxOnRvaw==\r\n" in seen[1].decode()
    assert seen[2].decode().startswith("GET / HTTP/1.1\r\n")
    assert [(e["request_type"], e["name"], e["exception"]) for e in events] == [
        ("POST", "tweet", None), ("POST", "sms", None), ("GET", "root", None)]  # fmt: skip
    assert all(e["response_time"] > 0 and e["response_length"] == 17 for e in events)


def test_lean_http_failures_are_reported_and_return_none():
    """A non-2xx answer, a non-JSON body, a refused connection and a forged header line are each the
    request's failure in locust's statistics; the journey gets None."""
    events: list[dict[str, Any]] = []
    http = LeanHttp(lambda **event: events.append(event), network_timeout=2.0)
    with scripted(fixed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")) as (port, seen, _):
        assert http("GET", f"http://127.0.0.1:{port}/x", name="missing") is None
    with scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnope")) as (port, _, _served):
        assert http("GET", f"http://127.0.0.1:{port}/x", name="not json") is None
        assert http("GET", f"http://127.0.0.1:{port}/x\r\nX-Forged: 1", name="forged") is None
        assert http("GET", f"http://127.0.0.1:{port}/x", name="bad header", headers={"a": "b\nc"}) is None
    assert http("GET", f"http://127.0.0.1:{port}/x", name="refused") is None
    assert http("GET", f"https://127.0.0.1:{port}/x", name="tls") is None
    failures = {e["name"]: str(e["exception"]) for e in events}
    assert failures["missing"] == "HTTP 404: not found"
    assert failures["not json"] == "body is not JSON"
    assert "line break" in failures["forged"] and "line break" in failures["bad header"]
    assert failures["refused"].startswith(f"cannot connect to 127.0.0.1:{port}")
    assert "only http://" in failures["tls"]
    assert all(isinstance(e["exception"], RequestFailed | WireError) for e in events)
    assert len(seen) == 1  # the forged requests never left the process


@pytest.mark.parametrize(
    "data",
    [
        {"To": "+919812345678", "From": "+15005550006", "Body": "Your Twittcom code is 123456. It is valid."},
        {"a b": "x&y=z/~_.-", "empty": "", "ctl": "\t\r\n\x00\x7f%+"},
        {"Body": "Twittcom: ₹49 pack activated é"},  # not ASCII: urlencode's own UTF-8 quoting
        {},
    ],
)
def test_form_body_is_urlencode(data: dict[str, str]):
    """The transport's form encoder writes exactly what ``urllib.parse.urlencode`` writes."""
    assert form_body(data) == urlencode(data)


def test_form_body_matches_urlencode_on_every_ascii_character():
    """Every ASCII character, in a key and in a value, is encoded as ``urlencode`` encodes it."""
    every = "".join(chr(c) for c in range(128))
    assert form_body({every: every, "k": every[::-1]}) == urlencode({every: every, "k": every[::-1]})
