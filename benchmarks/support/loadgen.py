"""A lean HTTP/1.1 keep-alive load generator: N connections, pre-serialised requests, one in flight each.

Python HTTP clients cost more per request than a small ASGI server does (httpx ~600 req/s,
aiohttp ~5k/s against a server that takes 13k/s, see shared/anchors/measured-here.md), so a
server's own throughput cannot be read through them. This generator does the least a client must:
every request is serialised to bytes before the clock starts, each connection is an
:class:`asyncio.Protocol` that writes a request, feeds the answer to httptools' C parser (status
line, Content-Length or chunked body) and writes the next. It runs on uvloop when available, and
:func:`run_load_in_subprocess` runs it in its own process so client and server each get a core.

Bounded in count and time: it stops after ``requests`` answers or ``max_seconds``, whichever first.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

from benchmarks.support.results import LoadError, LoadResult, RequestSpec, summarise

__all__ = [
    "LoadError",
    "LoadResult",
    "RequestSpec",
    "RequestFactory",
    "load_factory",
    "run_load",
    "run_load_async",
    "run_load_in_subprocess",
]

#: Builds request ``i`` of a run (all are built before the clock starts).
RequestFactory = Callable[[int], RequestSpec]


class _Run:
    """State shared by the connections of one run: the request queue, counters and the deadline."""

    def __init__(self, host: str, port: int, payloads: Sequence[bytes], total: int, deadline: float,
                 max_errors: int) -> None:
        self.host = host
        self.port = port
        self.payloads = payloads
        self.total = total
        self.deadline = deadline
        self.max_errors = max_errors
        self.issued = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[int] = []
        self.errors = 0
        self.error_samples: list[str] = []
        self.done = asyncio.get_running_loop().create_future()
        self.open_connections = 0
        self.replacements: set[asyncio.Future[None]] = set()

    def next_payload(self) -> bytes | None:
        if self.issued >= self.total or self.errors >= self.max_errors:
            return None
        if (self.issued & 63) == 0 and time.perf_counter() > self.deadline:
            return None
        payload = self.payloads[self.issued % len(self.payloads)]
        self.issued += 1
        return payload

    def record_error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message)

    def connection_finished(self) -> None:
        self.open_connections -= 1
        if self.open_connections <= 0 and not self.done.done():
            self.done.set_result(None)

    def has_work(self) -> bool:
        within_budget = self.issued < self.total and self.errors < self.max_errors
        return within_budget and time.perf_counter() < self.deadline

    async def connect(self) -> None:
        """Open a connection already counted in ``open_connections``."""
        try:
            loop = asyncio.get_running_loop()
            await loop.create_connection(partial(_Connection, self), self.host, self.port)
        except OSError as error:
            self.record_error(f"connect failed: {error}")
            self.connection_finished()

    def replace_connection(self) -> None:
        """A connection the server closed between answers is replaced while work remains."""
        if self.has_work():
            self.open_connections += 1
            task = asyncio.ensure_future(self.connect())
            self.replacements.add(task)
            task.add_done_callback(self.replacements.discard)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: write a request, parse the answer, repeat."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.started = 0
        self.status = 0
        self.keep_alive = True
        self.complete = False
        self.in_flight = False
        self.finished = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self._send_next()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(f"unparseable response: {error}")
            return
        if self.complete:
            self.complete = False
            self.in_flight = False
            run = self.run
            run.latencies.append(time.perf_counter_ns() - self.started)
            statuses = run.statuses
            statuses[self.status] = statuses.get(self.status, 0) + 1
            if not self.keep_alive:
                run.replace_connection()
                self._finish()
                return
            self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight:
            self.run.record_error(f"connection closed before the response ended: {exc or 'EOF'}")
            self.in_flight = False
        if not self.finished:
            self.run.replace_connection()
        self._finish()

    # httptools callbacks
    def on_message_complete(self) -> None:
        # read here: the parser resets its state for the next message once this returns
        self.complete = True
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def _send_next(self) -> None:
        payload = self.run.next_payload()
        if payload is None or self.transport is None:
            self._finish()
            return
        self.in_flight = True
        self.started = time.perf_counter_ns()
        self.transport.write(payload)

    def _fail(self, message: str) -> None:
        self.run.record_error(message)
        self.in_flight = False
        self._finish()

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.run.connection_finished()


def _host_and_port(base_url: str) -> tuple[str, int, str]:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise LoadError(f"need an http://host:port URL, got {base_url!r}")
    port = parts.port or 80
    return parts.hostname, port, parts.netloc


def _payloads(netloc: str, request: RequestSpec | None, factory: RequestFactory | None,
              count: int) -> list[bytes]:
    if factory is not None:
        return [factory(index).serialise(netloc) for index in range(count)]
    if request is None:
        raise LoadError("give a request or a request factory")
    return [request.serialise(netloc)]


async def run_load_async(
    base_url: str,
    *,
    requests: int,
    connections: int = 32,
    request: RequestSpec | None = None,
    factory: RequestFactory | None = None,
    warmup: int = 0,
    max_seconds: float = 60.0,
    max_errors: int = 100,
) -> LoadResult:
    """Send ``requests`` requests over ``connections`` keep-alive connections and measure the answers.

    With ``factory``, request ``i`` is ``factory(i)`` (all built before timing starts), so bodies
    can be unique; otherwise ``request`` is sent every time. ``warmup`` requests go first, untimed.
    """
    host, port, netloc = _host_and_port(base_url)
    payloads = _payloads(netloc, request, factory, warmup + requests)
    if warmup:
        await _drive(host, port, payloads[:warmup], warmup, connections, max_seconds, max_errors)
    started = time.perf_counter()
    cpu_started = time.process_time()
    run = await _drive(host, port, payloads[warmup:] if factory else payloads, requests,
                       connections, max_seconds, max_errors)
    seconds = time.perf_counter() - started
    result = summarise("loadgen", connections, seconds, run.statuses, run.latencies, run.errors,
                       run.error_samples)
    # The generator's own CPU per answer: the rate it could drive from one core is 1e6 / this.
    answered = max(1, result.requests)
    result.notes["client_cpu_us_per_request"] = round((time.process_time() - cpu_started) * 1e6 / answered, 1)
    return result


async def _drive(host: str, port: int, payloads: Sequence[bytes], total: int, connections: int,
                 max_seconds: float, max_errors: int) -> _Run:
    run = _Run(host, port, payloads, total, time.perf_counter() + max_seconds, max_errors)
    run.open_connections = connections + 1  # one extra, held until every connection has been opened
    await asyncio.gather(*(run.connect() for _ in range(connections)))
    run.connection_finished()
    await asyncio.wait_for(run.done, timeout=max_seconds + 30)
    if run.errors and not run.statuses:
        raise LoadError("; ".join(run.error_samples))
    return run


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run_load(base_url: str, **options: Any) -> LoadResult:
    """Blocking :func:`run_load_async` on a fresh (uvloop) event loop; same keyword options."""
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(run_load_async(base_url, **options))


def load_factory(dotted: str, kwargs: Mapping[str, Any] | None = None) -> RequestFactory:
    """Resolve ``"package.module:callable"``; with ``kwargs``, bind them to it first."""
    module_name, _, attribute = dotted.partition(":")
    if not module_name or not attribute:
        raise LoadError(f"request factory must be 'module:callable', got {dotted!r}")
    target: RequestFactory = getattr(importlib.import_module(module_name), attribute)
    return partial(target, **kwargs) if kwargs else target


def _child(base_url: str, factory: str | None, factory_kwargs: Mapping[str, Any] | None,
           cpu: int | None, options: dict[str, Any]) -> LoadResult:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    if factory is not None:
        options["factory"] = load_factory(factory, factory_kwargs)
    return run_load(base_url, **options)


def _child_entry(connection: Connection, runner: Callable[..., LoadResult], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
    try:
        connection.send(("ok", runner(*args, **kwargs)))
    except BaseException as error:  # reported to the parent, which raises it as a LoadError
        connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def run_load_in_subprocess(
    base_url: str,
    *,
    factory: str | None = None,
    factory_kwargs: Mapping[str, Any] | None = None,
    cpu: int | None = None,
    runner: Callable[..., LoadResult] | None = None,
    **options: Any,
) -> LoadResult:
    """Run the load in a fresh (spawned) process so it does not share a core with the server.

    ``factory`` is a dotted ``"module:callable"`` taking the request index (and ``factory_kwargs``);
    other keyword options are :func:`run_load_async`'s. ``cpu`` pins the child to one core.
    ``runner`` swaps in another picklable load function with the same signature (e.g. a client
    cross-check from :mod:`benchmarks.support.clients`). A child that fails raises :class:`LoadError`.
    """
    if runner is None:
        target: Callable[..., LoadResult] = _child
        args: tuple[Any, ...] = (base_url, factory, factory_kwargs, cpu, options)
        kwargs: dict[str, Any] = {}
    else:
        target, args, kwargs = runner, (base_url,), {"cpu": cpu, **options}
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child_entry, args=(sender, target, args, kwargs), daemon=True)
    process.start()
    sender.close()
    try:
        limit = float(options.get("max_seconds", 60.0)) + 60.0
        if not receiver.poll(limit):
            raise LoadError(f"load process gave no result within {limit:.0f}s")
        kind, payload = receiver.recv()
    except EOFError:
        process.join(5)
        raise LoadError(f"load process died (exit code {process.exitcode})") from None
    finally:
        receiver.close()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)
    if kind != "ok":
        raise LoadError(f"load process failed: {payload}")
    result: LoadResult = payload
    return result
