"""Status callbacks: Twilio's ``X-Twilio-Signature`` and the background dispatcher that POSTs them.

The signature is what twilio-python's ``RequestValidator.compute_signature`` computes: the full
callback URL followed by each parameter name and its (un-encoded) value, names sorted, HMAC-SHA1
keyed with the account's auth token, base64-encoded.

:class:`CallbackDispatcher` drains :attr:`fake_sms.lifecycle.CarrierEngine.callbacks` into a few
worker tasks, chosen by message SID so one message's callbacks are posted in transition order,
through an injectable ``httpx.AsyncClient`` (default: httpx over aiohttp's transport); it never
blocks an API request.

Retries follow Twilio's documented webhook defaults (docs: usage/webhooks/webhooks-connection-overrides):
one retry (``rc=1``) when the connection fails (retry policy ``ct``: refused, reset or connect
timeout); an HTTP error answer is not retried. A ``StatusCallback`` URL may carry Twilio's connection
override fragment, e.g. ``https://host/cb#rc=3&rp=ct,5xx`` (``rc`` 0-5; ``rp`` any of ``ct``,
``rt`` (read timeout), ``4xx``, ``5xx``, ``all``); as on Twilio the fragment is neither sent nor
signed. Outcomes are counted (``callbacks_posted``, ``callbacks_http_errors``, ``callbacks_failed``,
``callbacks_retried``) and the last ones kept in a bounded log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import time
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha1
from typing import Any

import httpx
from httpx_aiohttp import HttpxAiohttpClient

from .lifecycle import CallbackJob
from .models import SmsBackend

__all__ = ["CallbackDispatcher", "PostedCallback", "connection_overrides", "sign"]


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """``X-Twilio-Signature`` of a form POST of ``params`` to ``url``."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), sha1).digest()
    return base64.b64encode(digest).decode("ascii")


RETRY_POLICIES = frozenset({"ct", "rt", "4xx", "5xx", "all"})
MAX_RETRIES = 5


def connection_overrides(url: str) -> tuple[str, int, frozenset[str]]:
    """``url`` without its fragment, the retry count and the retry policy (Twilio's ``#rc=&rp=``)."""
    base, _, fragment = url.partition("#")
    retries, policy = 1, frozenset({"ct"})
    for pair in fragment.split("&") if fragment else ():
        key, _, value = pair.partition("=")
        if key == "rc" and (value.isascii() and value.isdigit()):
            retries = min(MAX_RETRIES, int(value))
        elif key == "rp":
            chosen = frozenset(v for v in value.split(",") if v in RETRY_POLICIES)
            policy = chosen or policy
    return base, retries, policy


def _retryable(policy: frozenset[str], status: int | None, exc: Exception | None) -> bool:
    if "all" in policy:
        return True
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "ct" in policy
    if isinstance(exc, httpx.ReadTimeout):
        return "rt" in policy
    if status is not None:
        return ("4xx" in policy and 400 <= status < 500) or ("5xx" in policy and status >= 500)
    return False


@dataclass(frozen=True, slots=True)
class PostedCallback:
    """What the dispatcher did with one callback (kept in a bounded log for inspection)."""

    url: str
    message_sid: str
    message_status: str
    http_status: int | None
    error: str | None
    wall_time: float

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "message_sid": self.message_sid,
            "message_status": self.message_status,
            "http_status": self.http_status,
            "error": self.error,
            "wall_time": self.wall_time,
        }


class CallbackDispatcher:
    """Posts the backend's pending status callbacks from ``workers`` background tasks."""

    def __init__(
        self,
        backend: SmsBackend,
        client: httpx.AsyncClient | None = None,
        *,
        workers: int = 8,
        timeout_s: float = 5.0,
        log_size: int = 1000,
        queue_per_worker: int = 1000,
    ) -> None:
        self.backend = backend
        self._client = client
        self._owns_client = client is None
        self._timeout_s = timeout_s
        self._queues: list[asyncio.Queue[CallbackJob | None]] = [
            asyncio.Queue(maxsize=queue_per_worker) for _ in range(workers)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self.log: deque[PostedCallback] = deque(maxlen=log_size)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # httpx API over aiohttp's transport: httpx's default async transport is several times
            # slower under concurrency (shared/anchors/measured-here.md, encode/httpx#3215)
            self._client = HttpxAiohttpClient(timeout=self._timeout_s)
        return self._client

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._worker(queue)) for queue in self._queues]

    async def stop(self, grace_s: float = 1.0) -> None:
        """Let the workers post what is queued for up to ``grace_s`` seconds, then cancel them."""
        if self._tasks:
            for queue in self._queues:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)
            _, unfinished = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def pump(self) -> int:
        """Hand pending callbacks to their workers until one's queue is full (the rest stay in the
        engine's bounded deque, which drops the oldest when full); returns how many were handed."""
        pending = self.backend.engine.callbacks
        n = 0
        workers = len(self._queues)
        while pending:
            job = pending.popleft()
            try:
                self._queues[zlib.crc32(job.params["MessageSid"].encode()) % workers].put_nowait(job)
            except asyncio.QueueFull:
                pending.appendleft(job)
                break
            n += 1
        return n

    async def drain(self) -> None:
        """Post every pending callback and return when all are done (tests, manual clock)."""
        while True:
            self.pump()
            if self._tasks:
                for queue in self._queues:
                    await queue.join()
            else:
                for queue in self._queues:
                    while not queue.empty():
                        job = queue.get_nowait()
                        if job is not None:
                            await self.post(job)
                        queue.task_done()
            if not self.backend.engine.callbacks:
                return

    async def _worker(self, queue: asyncio.Queue[CallbackJob | None]) -> None:
        while True:
            job = await queue.get()
            try:
                if job is None:
                    return
                await self.post(job)
            finally:
                queue.task_done()

    async def post(self, job: CallbackJob) -> None:
        counters = self.backend.counters
        token = self.backend.auth_token(job.account_sid)
        url, retries, policy = connection_overrides(job.url)
        headers = {"X-Twilio-Signature": sign(url, job.params, token or "")}
        for attempt in range(retries + 1):
            status: int | None = None
            error: str | None = None
            failure: Exception | None = None
            try:
                response = await self.client.post(url, data=job.params, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                failure = exc
                error = f"{type(exc).__name__}: {exc}"
            if (status is not None and status < 400) or attempt == retries:
                break
            if not _retryable(policy, status, failure):
                break
            counters["callbacks_retried"] += 1
        if status is None:
            counters["callbacks_failed"] += 1
        else:
            counters["callbacks_posted"] += 1
            if status >= 400:
                counters["callbacks_http_errors"] += 1
        self.log.append(
            PostedCallback(
                url, job.params["MessageSid"], job.params["MessageStatus"], status, error, time.time()
            )
        )
