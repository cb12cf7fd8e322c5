"""An open-loop Poisson driver of signed Account Activity deliveries, cheap enough to saturate the processor.

One step of an offered-load sweep (``twittcom sweep``): :class:`DriverJob` says the rate, the
length and the mention every event carries; :func:`drive` builds every delivery before the clock
starts (the JSON body X posts for a ``tweet_create_events`` webhook, signed as X signs it:
``sha256=`` + base64 HMAC-SHA256 of the raw body under the consumer secret), draws Poisson send
times, and posts each at its time over a few keep-alive HTTP/1.1 connections (one request in flight
each, written as bytes and answered through httptools' C parser, as
``benchmarks.support.loadgen`` does). A delivery due while every connection is busy waits in a
queue; its latency is still counted from its *scheduled* time, so a slow server cannot hide its
slowness by slowing the driver (no coordinated omission). The driver measures its own CPU time.

:func:`drive_in_subprocess` runs it in a spawned process, so it competes for the cores as one
process beside the service, as a remote X would not, and that cost is reported.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import multiprocessing
import random
import resource
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import cast
from urllib.parse import urlsplit

import httptools

__all__ = [
    "DriverJob",
    "DriverResult",
    "drive",
    "drive_in_subprocess",
    "exact_offsets",
    "fresh_number",
    "poisson_offsets",
    "signed_delivery",
]


@dataclass(frozen=True)
class DriverJob:
    """One step: ``rate`` deliveries per second for ``seconds``, from ``users`` linked X users.

    Event ``i`` is tweet ``base_id + i``. A share ``reg_share`` of the events (drawn with the seed)
    are ``#reg`` tweets, each from a new X user with a new number (``fresh_base + i``: user id
    ``60_000_000 + fresh_base + i``, number ``+9197`` and eight digits), which the directory must
    hold; the rest are ``text`` (``{n}``: the user's index) from linked user
    ``first_user_id + i % users``."""

    url: str
    rate: float
    seconds: float
    secret: str
    operator_id: str
    text: str
    users: int
    base_id: int
    first_user_id: int = 10_000
    path: str = "/webhooks/x"
    connections: int = 64
    seed: int = 1
    grace_s: float = 30.0
    reg_share: float = 0.0
    fresh_base: int = 0


@dataclass(frozen=True)
class DriverResult:
    """Per event: scheduled offset, answer offset (nan when unanswered) and status, in seconds
    from ``start_epoch`` (wall clock, to line up with the service's own timestamps)."""

    start_epoch: float
    scheduled: list[float]
    answered: list[float]
    statuses: list[int]
    cpu_s: float
    wall_s: float
    max_lateness_s: float
    process_cpu_s: float = 0.0  # the whole driver process (start-up and payload building too)

    @property
    def offered(self) -> int:
        return len(self.scheduled)

    @property
    def accepted(self) -> int:
        return sum(1 for s in self.statuses if 200 <= s < 300)


def poisson_offsets(rate: float, seconds: float, seed: int) -> list[float]:
    """Send times of a Poisson process of ``rate`` per second in ``[0, seconds)``."""
    if rate <= 0 or seconds <= 0:
        return []
    rng, t, out = random.Random(seed), 0.0, list[float]()
    while True:
        t += rng.expovariate(rate)
        if t >= seconds:
            return out
        out.append(t)


def exact_offsets(rate: float, seconds: float, seed: int) -> list[float]:
    """Send times of ``round(rate * seconds)`` events, each at a uniform random time in ``[0,
    seconds)``, sorted: a Poisson process conditioned on its count, so that a step carries ``rate``
    exactly (a knee refinement at tens of events a second, where a Poisson count is +-8 % off and
    the step may land outside the bracket it bisects)."""
    if rate <= 0 or seconds <= 0:
        return []
    rng = random.Random(seed)
    return sorted(rng.uniform(0.0, seconds) for _ in range(round(rate * seconds)))


def fresh_number(index: int) -> str:
    """The mobile number of new subscriber ``index`` (what ``#reg`` events register)."""
    return f"+9197{index:08d}"


def signed_delivery(job: DriverJob, index: int, host: str, reg: bool = False) -> bytes:
    """The whole HTTP/1.1 request of event ``index``: an Account Activity delivery as X signs it."""
    if reg:
        fresh = job.fresh_base + index
        user_id, handle, text = (
            str(60_000_000 + fresh),
            f"new{fresh}",
            f"@tatadocomo #reg {fresh_number(fresh)}",
        )
    else:
        user = index % job.users
        user_id, handle, text = str(job.first_user_id + user), f"user{user}", job.text.format(n=user)
    tweet = {
        "id_str": str(job.base_id + index),
        "text": text,
        "truncated": False,
        "user": {"id_str": user_id, "screen_name": handle},
        "entities": {"user_mentions": [{"screen_name": "tatadocomo", "id_str": job.operator_id}]},
    }
    body = json.dumps({"for_user_id": job.operator_id, "tweet_create_events": [tweet]}).encode()
    digest = hmac.new(job.secret.encode(), body, hashlib.sha256).digest()
    signature = "sha256=" + base64.b64encode(digest).decode()
    head = (
        f"POST {job.path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"x-twitter-webhooks-signature: {signature}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Step:
    """The state of one step shared by its connections: the due queue and the answers."""

    def __init__(self, payloads: list[bytes], t0: float) -> None:
        self.payloads = payloads
        self.t0 = t0
        self.due: deque[int] = deque()
        self.idle: list[_Connection] = []
        self.answered = [math.nan] * len(payloads)
        self.statuses = [0] * len(payloads)
        self.remaining = len(payloads)
        self.done = asyncio.get_running_loop().create_future()

    def release(self, index: int) -> None:
        self.due.append(index)
        while self.idle and self.due:
            self.idle.pop().send(self.due.popleft())

    def finished(self, index: int, status: int) -> None:
        self.answered[index] = time.perf_counter() - self.t0
        self.statuses[index] = status
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: write a delivery, parse the answer, take the next due one."""

    def __init__(self, step: _Step) -> None:
        self.step = step
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.current = -1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.step.idle.append(self)

    def send(self, index: int) -> None:
        assert self.transport is not None
        self.current = index
        self.transport.write(self.step.payloads[index])

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.connection_lost(None)

    def on_message_complete(self) -> None:
        index, self.current = self.current, -1
        self.step.finished(index, self.parser.get_status_code())
        if self.step.due:
            self.send(self.step.due.popleft())
        else:
            self.step.idle.append(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.step.idle:
            self.step.idle.remove(self)
        if self.current >= 0:
            index, self.current = self.current, -1
            self.step.finished(index, 599)  # lost with the connection: not accepted
        if self.transport is not None:
            self.transport.close()
            self.transport = None


async def drive(job: DriverJob) -> DriverResult:
    """Run one step on the running loop (see the module docstring)."""
    parts = urlsplit(job.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    offsets = poisson_offsets(job.rate, job.seconds, job.seed)
    kinds = random.Random(job.seed + 1)
    payloads = [
        signed_delivery(job, i, f"{host}:{port}", kinds.random() < job.reg_share) for i in range(len(offsets))
    ]
    loop = asyncio.get_running_loop()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    step = _Step(payloads, time.perf_counter())
    for _ in range(job.connections):
        await loop.create_connection(lambda: _Connection(step), host, port)
    start_epoch, step.t0 = time.time(), time.perf_counter()
    lateness = 0.0
    for index, offset in enumerate(offsets):
        delay = offset - (time.perf_counter() - step.t0)
        while delay > 0:  # never early: a send before its time would shorten its latency
            await asyncio.sleep(delay)
            delay = offset - (time.perf_counter() - step.t0)
        lateness = max(lateness, time.perf_counter() - step.t0 - offset)
        step.release(index)
    if offsets:
        try:
            await asyncio.wait_for(step.done, job.grace_s)
        except TimeoutError:
            pass  # unanswered deliveries stay nan / status 0: offered, not accepted
    wall = time.perf_counter() - step.t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for connection in list(step.idle):
        if connection.transport is not None:
            connection.transport.close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return DriverResult(start_epoch, offsets, step.answered, step.statuses, cpu, wall, lateness)


def _run(job: DriverJob) -> DriverResult:
    try:
        import uvloop

        return uvloop.run(drive(job))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(drive(job))


def _child(connection: Connection, run: Callable[..., DriverResult], args: tuple[object, ...]) -> None:
    try:
        result = asdict(run(*args))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["process_cpu_s"] = usage.ru_utime + usage.ru_stime
        connection.send(("ok", result))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises
        connection.send(("error", repr(error)))
    finally:
        connection.close()


def run_in_subprocess(run: Callable[..., DriverResult], args: tuple[object, ...], what: str) -> DriverResult:
    """``run(*args)`` in a spawned process of its own (its CPU is its own, measured there); ``run``
    must be a module-level function (spawn pickles it by name). ``what`` names it in errors."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, run, args), daemon=True)
    process.start()
    sender.close()
    try:
        kind, value = receiver.recv()
    except EOFError as error:
        raise RuntimeError(f"{what} died without an answer") from error
    finally:
        process.join(30)
    if kind != "ok":
        raise RuntimeError(f"{what} failed: {value}")
    return DriverResult(**value)


def drive_in_subprocess(job: DriverJob) -> DriverResult:
    """:func:`drive` in a spawned process of its own (its CPU is its own, measured there)."""
    return run_in_subprocess(_run, (job,), "the sweep driver")
