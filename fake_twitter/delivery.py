"""Background delivery of Account Activity events to the registered webhook, and CRC checks.

A :class:`WebhookDispatcher` owns one asyncio task that drains ``backend.outbox``; each event is
POSTed (JSON, ``x-twitter-webhooks-signature`` header) through an injectable ``httpx.AsyncClient``
(pass one wrapping ``httpx.ASGITransport`` to run everything in one process). Deliveries never
block the request that produced them.

Retry schedule (default ``retry_delays=(1.0, 2.0, 4.0)``): an attempt that fails (connection error,
timeout or non-2xx) is retried after 1 s, then 2 s, then 4 s -- four attempts in all -- after which
the event is counted in ``webhook_failed`` and dropped. Each attempt times out after 3 s (the CRC
answer is also due within 3 s, as X documents). ``counters()`` reports ``webhook_pending``
(queued + in flight); :meth:`WebhookDispatcher.drain` waits until it reaches zero.

Fault injection: a ``/_fake/faults`` rule for the route ``"webhooks"`` (not covered by ``"*"``)
delays each attempt by its latency, and an attempt hit by its error rate or inside one of its outage
windows is lost (counted in ``webhook_faulted``) and retried on the schedule above.

As X does hourly, a delivery finding the webhook's last CRC more than an hour old (on the fake's
clock) re-sends the CRC first; a webhook that fails it is marked invalid and its events are
counted as failed until a PUT re-validates it.

Real X only accepts ``https`` webhook URLs without a port; this fake also accepts plain ``http``
with a port so a processor on loopback can receive deliveries.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence

import httpx
import httpx_aiohttp
import orjson

from fake_twitter.backend import TwitterBackend
from fake_twitter.faults import WEBHOOK_DELIVERY
from fake_twitter.models import Webhook, WebhookEvent
from fake_twitter.webhooks import crc_response_token, sign_body

__all__ = ["CRC_INTERVAL", "DEFAULT_RETRY_DELAYS", "WebhookDispatcher"]

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
CRC_INTERVAL = 3600.0

log = logging.getLogger(__name__)


class WebhookDispatcher:
    """Drains the backend's outbox to the subscribed webhooks."""

    def __init__(
        self,
        backend: TwitterBackend,
        client: httpx.AsyncClient | None = None,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = 3.0,
        concurrency: int = 16,
    ) -> None:
        self.backend = backend
        self._client = client
        self._owns_client = client is None
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.concurrency = concurrency
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._idle: asyncio.Event | None = None
        self.stats = {
            "webhook_delivered": 0,
            "webhook_retries": 0,
            "webhook_failed": 0,
            "webhook_crc_checks": 0,
            "webhook_in_flight": 0,
            "webhook_faulted": 0,
        }
        backend.on_event = self.notify

    @property
    def client(self) -> httpx.AsyncClient:
        """The injected client, or one over aiohttp (httpx's own transport is ~3x slower here)."""
        if self._client is None:
            transport = httpx_aiohttp.AiohttpTransport(trust_env=False)
            self._client = httpx.AsyncClient(transport=transport, timeout=self.timeout, trust_env=False)
        return self._client

    def reset_stats(self) -> None:
        in_flight = self.stats["webhook_in_flight"]
        self.stats = dict.fromkeys(self.stats, 0)
        self.stats["webhook_in_flight"] = in_flight

    def counters(self) -> dict[str, int]:
        pending = len(self.backend.outbox) + self.stats["webhook_in_flight"]
        return {**self.stats, "webhook_pending": pending}

    def ensure_started(self) -> None:
        """Start the drain task in the running loop (idempotent; cheap when already running)."""
        if self._task is not None and not self._task.done():
            return
        if self._task is not None and self._owns_client:
            self._client = None  # its loop is gone (e.g. a new asyncio.run); make a fresh one
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)
        self.backend.on_event = self.notify
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    def notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None and self._slots is not None and self._idle is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            outbox = self.backend.outbox  # reset() replaces it
            while outbox:
                await self._slots.acquire()
                if not outbox:  # reset() may have emptied it meanwhile
                    self._slots.release()
                    break
                event = outbox.popleft()
                self.stats["webhook_in_flight"] += 1
                task = asyncio.get_running_loop().create_task(self._deliver(event))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            self._check_idle()

    def _check_idle(self) -> None:
        if self._idle is not None and not self.backend.outbox and self.stats["webhook_in_flight"] == 0:
            self._idle.set()

    async def _deliver(self, event: WebhookEvent) -> None:
        try:
            webhook_id = self.backend.webhooks.subscribed_users.get(event.for_user_id)
            webhook = self.backend.webhooks.webhooks.get(webhook_id) if webhook_id is not None else None
            if webhook is not None and webhook.valid:
                await self._hourly_crc(webhook)
            if webhook is None or not webhook.valid:
                self.stats["webhook_failed"] += 1
                return
            body = orjson.dumps(event.payload)
            headers = {
                "content-type": "application/json",
                "x-twitter-webhooks-signature": sign_body(self.backend.app.consumer_secret, body),
            }
            for attempt in range(len(self.retry_delays) + 1):
                if attempt:
                    self.stats["webhook_retries"] += 1
                    await asyncio.sleep(self.retry_delays[attempt - 1])
                if await self._delivery_faulted():
                    continue
                try:
                    response = await self.client.post(webhook.url, content=body, headers=headers)
                except (httpx.HTTPError, OSError):
                    continue
                if 200 <= response.status_code < 300:
                    self.stats["webhook_delivered"] += 1
                    return
            self.stats["webhook_failed"] += 1
        except Exception:  # a bug here must not kill the drain loop: count it and say so
            self.stats["webhook_failed"] += 1
            log.exception("webhook delivery to user %s failed unexpectedly", event.for_user_id)
        finally:
            self.stats["webhook_in_flight"] -= 1
            assert self._slots is not None
            self._slots.release()
            self._check_idle()

    async def _delivery_faulted(self) -> bool:
        """Apply a ``webhooks`` fault rule to one attempt: sleep its latency; True if it is lost."""
        backend = self.backend
        if WEBHOOK_DELIVERY not in backend.faults.rules:
            return False
        decision = backend.faults.decide(WEBHOOK_DELIVERY, backend.clock.time(), backend.rng)
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if decision.status is None:
            return False
        self.stats["webhook_faulted"] += 1
        return True

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was delivered or given up; False on timeout."""
        self.ensure_started()
        assert self._idle is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.counters()["webhook_pending"]:
            self._idle.clear()
            self.notify()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=min(remaining, 0.05))
            except TimeoutError:
                continue
        return True

    async def _hourly_crc(self, webhook: Webhook) -> None:
        """X re-sends the CRC hourly; a webhook that fails it is marked invalid and gets nothing."""
        now = self.backend.clock.time()
        if now - webhook.crc_checked_at < CRC_INTERVAL:
            return
        webhook.crc_checked_at = now  # one re-check at a time, even with deliveries in parallel
        webhook.valid = await self.crc_check(webhook)
        self.stats["webhook_crc_checks"] += 1

    async def crc_check(self, webhook: Webhook) -> bool:
        """Send X's CRC challenge to the webhook; True if it answered the right response_token."""
        token = secrets.token_urlsafe(24)
        try:
            response = await self.client.get(webhook.url, params={"crc_token": token}, timeout=3.0)
            answer = response.json().get("response_token") if response.status_code == 200 else None
        except (httpx.HTTPError, OSError, ValueError, AttributeError):
            return False
        return answer == crc_response_token(self.backend.app.consumer_secret, token)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for task in list(self._running):
            task.cancel()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None
