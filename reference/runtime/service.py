"""``Service``: the processor as a long-running service (ASGI app + background tasks).

Built by the composition root (:func:`reference.bootstrap.build_service`), which picks the database
engine and the app. Usage (in-process, e.g. against the fakes through ``httpx.ASGITransport``)::

    service = build_service(config, x_http=x_client, sms_http=sms_client)
    await service.start()                 # connections, workers, dispatcher, poller
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://svc") as c:
        await c.post("/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": sig})
    await service.drain()                 # until the queue and the outbox are empty
    await service.stop()

Under uvicorn the app's lifespan calls ``start``/``stop``. Each task that touches the database has
a connection of its own (:class:`reference.service.database.Database`); synchronous database work runs in
threads so the event loop keeps answering HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from reference.clients.retry import RetryPolicy
from reference.clients.transport import make_async_client
from reference.clients.twilio_sms import TwilioSmsClient
from reference.clients.x_api import XApiClient
from reference.domain.catalog import Catalog, load_catalog
from reference.domain.otp import OtpSource
from reference.domain.subscribers import Subscriber
from reference.runtime.budget import WindowLimit, WriteBudget
from reference.runtime.config import ServiceConfig
from reference.runtime.connections import GroupCommitter, LockedConnection
from reference.runtime.dispatcher import OutboxDispatcher
from reference.runtime.errors import NotStarted
from reference.runtime.ingest import Operator, split_storable
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.outage import OutageMode
from reference.runtime.poller import MENTIONS_CURSOR, Poller
from reference.runtime.quarantine import quarantine_events, quarantined_events
from reference.runtime.reconcile import DeliveryReconciler
from reference.runtime.registration import ProcessorCodeRequests
from reference.runtime.shared_state import StoreHitCounter, shared_secret
from reference.runtime.webhook_health import WebhookHealth
from reference.runtime.workers import InboundWorker
from reference.service.assembly import OTP_KEY_ENV, Settings, build_processor
from reference.service.database import Connection, Database, DatabaseCalls
from reference.service.events import Events
from reference.service.ports import Clock, SystemClock
from reference.service.work_queue import NewEvent
from reference.web.app import DEFAULT_RATE_LIMITS

__all__ = ["AppFactory", "Service"]

_log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_CODE_TIMES = 100_000
_LONGEST_WEB_WINDOW_S = max(DEFAULT_RATE_LIMITS.per_ip.per_s, DEFAULT_RATE_LIMITS.per_handle.per_s)


#: builds the service's ASGI app around it (the composition root passes
#: :func:`reference.runtime.app.create_service_app`)
AppFactory = Callable[["Service"], Any]


class Service:
    """The processor service: HTTP surface (``.app``) plus workers, dispatcher and poller.

    Arguments:
        config: what to connect to and how.
        database: the engine the DSN names (:class:`~reference.service.database.Database`).
        app_factory: builds ``.app`` around the service.
        x_http, sms_http: ready clients for X and Twilio (e.g. over ``httpx.ASGITransport``);
            built from the config when not given (and then closed by :meth:`stop`).
        clock: aware UTC now; epoch: Unix seconds; rng: jitter (seed it for reproducible runs).
        settings, catalog, otp_source: the core's collaborators (production ones by default).
        subscribers: directory entries to load at start (demos, tests).
    """

    def __init__(
        self,
        config: ServiceConfig,
        *,
        database: Database,
        app_factory: AppFactory,
        x_http: httpx.AsyncClient | None = None,
        sms_http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        epoch: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        settings: Settings | None = None,
        catalog: Catalog | None = None,
        otp_source: OtpSource | None = None,
        subscribers: Iterable[Subscriber] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.epoch = epoch
        self.rng = rng if rng is not None else random.Random()
        # Secrets every process must share: from the config (TWITTCOM_OTP_KEY, TWITTCOM_WEB_SECRET),
        # else generated once and kept in the store (read at start), never drawn per process.
        otp_hex = config.otp_key or os.environ.get(OTP_KEY_ENV, "")
        self._otp_from_store = settings is None and not otp_hex
        if settings is None:
            otp_key = bytes.fromhex(otp_hex) if otp_hex else secrets.token_bytes(32)  # replaced at start
            settings = Settings(operator_handle=config.operator_handle, otp_key=otp_key)
        self.settings = settings
        self.web_secret: bytes | None = config.web_secret.encode() if config.web_secret else None
        self.hit_counter: StoreHitCounter | None = None
        self.catalog = catalog if catalog is not None else load_catalog(self.settings.catalog_path)
        self.otp_source = otp_source
        self.subscribers = list(subscribers) if subscribers is not None else []
        self.metrics = ServiceMetrics()
        #: the typed events of the workers' processors (the composition root subscribes the metrics)
        self.events = Events()
        self.factory = database
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.operator = Operator(config.operator_user_id, config.operator_handle)
        self.outage = OutageMode(config.operator_user_id, config.operator_handle, clock=self.clock.now)
        self.tweet_budget = WriteBudget(
            [
                WindowLimit(config.share(config.x_user_tweet_limit), config.x_user_tweet_window_s, "user"),
                WindowLimit(config.share(config.x_app_tweet_limit), config.x_app_tweet_window_s, "app"),
            ],
            clock=epoch,
        )
        dm_limit = WindowLimit(config.share(config.x_dm_limit), config.x_dm_window_s, "dm")
        self.dm_budget = WriteBudget([dm_limit], clock=epoch)
        self._x_http, self._sms_http = x_http, sms_http
        self._owned: list[httpx.AsyncClient] = []
        self.x: XApiClient | None = None
        self.sms: TwilioSmsClient | None = None
        self.admin: LockedConnection | None = None
        self.code_requests: ProcessorCodeRequests | None = None
        self._ingest: GroupCommitter | None = None
        self._connections: list[Connection] = []
        self._hot: Connection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbound_ready = asyncio.Event()
        self._stop_event = asyncio.Event()
        self.db: DatabaseCalls = self.factory.calls(config.db_calls)
        self.workers: list[InboundWorker] = []
        self.dispatcher: OutboxDispatcher | None = None
        self.reconciler: DeliveryReconciler | None = None
        self.poller: Poller | None = None
        self.webhook_health: WebhookHealth | None = None
        self.app = app_factory(self)

    # life cycle -----------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self.admin is not None and not self._stopping

    def admin_connection(self) -> LockedConnection:
        """The connection admin reads and writes share (:class:`NotStarted` before start)."""
        if self.admin is None or self._stopping:
            raise NotStarted("the service is not started")
        return self.admin

    def outbox_changed(self) -> None:
        """Rows were added to the outbox or made due (requeue, outage tweet, a code the page asked
        for): the dispatcher's claim loop looks (from any thread)."""
        if self.dispatcher is not None:
            self.dispatcher.hand_off.wake()

    async def start(self) -> None:
        """Open connections and clients, start the background tasks."""
        if self.admin is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._inbound_ready = asyncio.Event()
        self._stop_event = asyncio.Event()
        config = self.config
        self.factory.checkpoint_in_background = True
        first = await asyncio.to_thread(self.factory.connect)  # applies the migrations
        self._connections.append(first)
        if self.subscribers:
            await asyncio.to_thread(first.store.add_subscribers, self.subscribers)
        guard = self.factory.guard
        await asyncio.to_thread(self._shared_secrets, first, guard)
        self.db = self.factory.calls(config.db_calls)
        self.admin = LockedConnection(first, guard)  # admin reads and writes stay in threads
        ingest = LockedConnection(await self._hot_connection(), guard, self.db)
        self._ingest = GroupCommitter(ingest, self._inbound_ready.set)
        self._build_clients()
        assert self.x is not None and self.sms is not None
        dispatch = await self._hot_connection()
        self.dispatcher = OutboxDispatcher(
            dispatch.queue, self.x, self.sms, owner=self.owner, tweet_budget=self.tweet_budget,
            dm_budget=self.dm_budget, metrics=self.metrics, clock=self.clock.now, epoch=self.epoch,
            rng=self.rng, batch_size=config.dispatch_batch, concurrency=config.dispatch_concurrency,
            lease_s=config.lease_s, guard=guard, run_db=self.db.run,
            policy=RetryPolicy(base_delay=0.5, max_delay=config.retry_max_delay_s),
            code_lifetime_s=self.settings.policy.ttl.total_seconds(), horizon_s=config.send_horizon_s,
            unknown_settle_s=config.unknown_settle_s, operator_id=config.operator_user_id,
        )  # fmt: skip
        hand_off = self.dispatcher.hand_off
        hand_off.bind()
        self.events.message_processed.add_listener(hand_off.note_processed)
        for index in range(config.workers):
            connection = await self._hot_connection()
            processor = build_processor(connection.store, self.settings, catalog=self.catalog,
                                        clock=self.clock, otp_source=self.otp_source,
                                        events=self.events)  # fmt: skip
            worker = InboundWorker(
                f"{self.owner}-w{index}", connection.queue, processor, clock=self.clock.now,
                batch_size=config.batch_size, lease_s=config.lease_s, guard=guard, hand_off=hand_off,
                notices=self.outage.notices(connection.queue),
            )  # fmt: skip
            self.workers.append(worker)
            self._tasks.append(asyncio.create_task(self._worker_loop(worker), name=worker.name))
        for index in range(config.dispatch_loops):  # one claims while another's sends are in flight
            self._tasks.append(asyncio.create_task(self._dispatch_loop(), name=f"dispatcher-{index}"))
        if config.ingestion in ("poll", "both"):
            polling = await self._connect()
            self.poller = Poller(self.x, polling.queue, self.operator, self.enqueue, metrics=self.metrics,
                                 clock=self.clock.now, epoch=self.epoch, guard=guard)  # fmt: skip
            self.poller.page_size = config.mentions_page_size
            dm_every = config.dm_poll_interval_s
            if dm_every > 0:  # DMs on their own period (GET /2/dm_events has its own, tighter limit)
                mentions = self._poll_loop(self.poller.poll_mentions_round, config.poll_interval_s)
                dms = self._poll_loop(self.poller.poll_dms_round, dm_every)
                self._tasks.append(asyncio.create_task(mentions, name="poller"))
                self._tasks.append(asyncio.create_task(dms, name="dm-poller"))
            else:
                loop = self._poll_loop(self.poller.poll_once, config.poll_interval_s)
                self._tasks.append(asyncio.create_task(loop, name="poller"))
        web = await self._connect()
        web_processor = build_processor(web.store, self.settings, catalog=self.catalog, clock=self.clock,
                                        otp_source=self.otp_source)  # fmt: skip
        self.code_requests = ProcessorCodeRequests(
            web_processor, self._resolve_user, operator_handle=config.operator_handle,
            clock=self.clock.now, sent=self.outbox_changed, guard=guard,
        )  # fmt: skip
        if config.web_rate_limit:
            limits = await self._connect()
            self.hit_counter = StoreHitCounter(limits.queue, guard=guard, clock=self.clock.now,
                                               keep_s=2 * _LONGEST_WEB_WINDOW_S)  # fmt: skip
        self.reconciler = DeliveryReconciler(
            self.sms, self.admin.call, metrics=self.metrics, clock=self.clock.now,
            grace_s=config.reconcile_interval_s,
        )  # fmt: skip
        self._tasks.append(asyncio.create_task(self._reconcile_loop(), name="delivery-reconciler"))
        if self.factory.engine == "sqlite":
            checkpoints = await self._connect()
            self._tasks.append(asyncio.create_task(self._checkpoint_loop(checkpoints), name="checkpoints"))
        if config.register_webhook and config.ingestion in ("webhook", "both"):
            if self.poller is None:  # the fallback while the webhook is not valid
                polling = await self._connect()
                self.poller = Poller(self.x, polling.queue, self.operator, self.enqueue, metrics=self.metrics,
                                     clock=self.clock.now, epoch=self.epoch, guard=guard)  # fmt: skip
            self.webhook_health = WebhookHealth(self.x, config.webhook_url, metrics=self.metrics,
                                                clock=self.clock.now)  # fmt: skip
            self._tasks.append(asyncio.create_task(self._webhook_loop(), name="webhook-health"))
        if config.freeze_gc:
            gc.collect()
            gc.freeze()
        _log.info("service %s started (%s, %d workers)", self.owner, self.factory.engine, config.workers)

    async def stop(self) -> None:
        """Stop the tasks (each finishes what it holds), close clients and connections."""
        if self.admin is None:
            return
        self._stopping = True
        self._stop_event.set()
        self._inbound_ready.set()
        if self.dispatcher is not None:
            self.dispatcher.hand_off.ready.set()
        for task in self._tasks:
            if task.get_name() in ("poller", "webhook-health"):
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.dispatcher is not None:
            await self.dispatcher.drain()  # rows the workers handed off are sent and recorded
            self.dispatcher.hand_off.unbind()
            self.events.message_processed.remove_listener(self.dispatcher.hand_off.note_processed)
        for client in self._owned:
            await client.aclose()
            if client is self._x_http:
                self._x_http = None
            if client is self._sms_http:
                self._sms_http = None
        self._owned.clear()
        # Connections that HTTP requests share (admin, ingest) close under their lock, so a request
        # still running in a thread (a late status callback) never sees its connection vanish.
        shared = [c for c in (self.admin, self._ingest.connection if self._ingest else None) if c]
        locks = {id(c.connection): c.lock for c in shared}
        for connection in self._connections:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(_close_under, connection, locks.get(id(connection)))
        self._connections.clear()
        self._hot = None
        self.factory.close()
        self.workers.clear()
        self.hit_counter = None
        self.admin = self._ingest = None
        self.dispatcher = self.poller = None
        self.webhook_health = None

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued or due in the outbox; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            depths = await self.depths()
            if depths["inbound_pending"] == 0 and depths["outbox_due"] == 0:
                return True
            self._inbound_ready.set()
            if self.dispatcher is not None:
                self.dispatcher.hand_off.ready.set()
            await asyncio.sleep(0.02)
        return False

    async def depths(self) -> dict[str, int]:
        """Queue depths (also exported to the metrics)."""
        assert self.admin is not None
        now = self.clock.now()
        depths = await self.admin.read(lambda c: c.queue.depths(now))
        for name, value in depths.items():
            self.metrics.queue_depth.labels(name).set(value)
        oldest = await self.admin.read(lambda c: c.queue.oldest_pending())
        self.metrics.outbox_oldest_age.set(
            0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        )
        return depths

    def _shared_secrets(self, connection: Connection, guard: Callable[[], Any]) -> None:
        """Thread: the OTP key and web secret from the store when the config has none."""
        now = self.clock.now()
        with guard():
            if self._otp_from_store:
                key = shared_secret(connection.queue, "otp_key", now)
                self.settings = replace(self.settings, otp_key=key)
            if self.web_secret is None:
                self.web_secret = shared_secret(connection.queue, "web_secret", now)

    # ingestion ------------------------------------------------------------------------------
    async def enqueue(self, events: list[NewEvent], source: str) -> int:
        """Persist ``events`` (group-committed with concurrent callers); returns how many were new.

        Returns only after the commit: the webhook answers 200 after this.
        """
        if self._ingest is None:
            raise RuntimeError("the service is not started")
        events, refused = split_storable(events)
        if refused:
            await self.quarantine(refused, source)
        if not events:
            return 0
        new = await self._ingest.submit(events)
        self.metrics.ingested.labels(source, "queued").inc(new)
        if len(events) > new:
            self.metrics.ingested.labels(source, "duplicate").inc(len(events) - new)
        return new

    async def quarantine(self, refused: list[tuple[NewEvent, str]], source: str) -> None:
        """Keep events the store cannot hold aside (committed before this returns)."""
        assert self.admin is not None
        now = self.clock.now()
        await self.admin.call(lambda c: quarantine_events(c.queue, refused, source, now))
        self.metrics.ingested.labels(source, "quarantined").inc(len(refused))
        for event, reason in refused:
            _log.warning("quarantined %s %r from %s: %s", event.channel, event.message_id, source, reason)

    async def quarantined(self) -> list[dict[str, Any]]:
        """The quarantined events (``GET /admin/quarantine``)."""
        assert self.admin is not None
        return await self.admin.read(lambda c: quarantined_events(c.queue))

    # background loops -----------------------------------------------------------------------
    async def _idle(self, event: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), self.config.idle_wait_s)

    async def _worker_loop(self, worker: InboundWorker) -> None:
        while not self._stopping:
            self._inbound_ready.clear()
            try:
                claimed = await self.db.run(worker.run_once)
            except Exception:
                _log.exception("worker %s failed; retrying", worker.name)
                claimed = 0
                await asyncio.sleep(0.5)
            if claimed == 0 and not self._stopping:
                await self._idle(self._inbound_ready)

    async def _dispatch_loop(self) -> None:
        assert self.dispatcher is not None
        ready = self.dispatcher.hand_off.ready
        while not self._stopping:
            ready.clear()
            try:
                claimed = await self.dispatcher.run_once()
            except Exception:
                _log.exception("dispatcher failed; retrying")
                claimed = 0
                await asyncio.sleep(0.5)
            if claimed == 0 and not self._stopping:
                await self._idle(ready)

    async def _poll_loop(self, round_: Callable[[], Awaitable[int]], interval_s: float) -> None:
        while not self._stopping:
            try:
                await round_()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("polling failed; next round in %.0f s", interval_s)
            await asyncio.sleep(interval_s)

    async def _reconcile_loop(self) -> None:
        assert self.reconciler is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), self.config.reconcile_interval_s)
            if self._stopping:
                return
            try:
                await self.reconciler.run_once()
            except Exception:
                _log.exception("reconciling SMS statuses failed")

    async def _checkpoint_loop(self, connection: Connection) -> None:
        while not self._stopping:
            try:
                await asyncio.to_thread(self.factory.checkpoint, connection)
            except Exception:
                _log.exception("WAL checkpoint failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), 1.0)

    async def _webhook_loop(self) -> None:
        assert self.webhook_health is not None and self.poller is not None and self.admin is not None
        await asyncio.sleep(0.5)  # let the server listen: X sends the CRC check at once
        cursor = await self.admin.read(lambda c: c.queue.cursor(MENTIONS_CURSOR))
        await self.webhook_health.run(
            self.poller, stopped=self._stop_event, check_every_s=self.config.webhook_check_interval_s,
            poll_every_s=self.config.poll_interval_s, fallback=self.config.ingestion == "webhook",
            catch_up=cursor is not None,  # polled before: catch up with the time the service was down
        )  # fmt: skip

    def _resolve_user(self, handle: str) -> tuple[str, str]:
        """Registration page thread: X user id and handle of ``handle``."""
        assert self._loop is not None and self.x is not None
        future = asyncio.run_coroutine_threadsafe(self.x.get_user_by_username(handle), self._loop)
        user = future.result(timeout=15)
        return user.id, user.username or handle

    # wiring ---------------------------------------------------------------------------------
    async def _connect(self) -> Connection:
        connection = await asyncio.to_thread(self.factory.connect)
        self._connections.append(connection)
        return connection

    async def _hot_connection(self) -> Connection:
        """The connection of a hot-path task (ingest, a worker, the dispatcher).

        With inline database calls the tasks take turns on the loop, so they share one connection:
        its page cache stays warm (SQLite drops a connection's whole cache whenever another
        connection has committed since its last transaction). In threads each gets its own.
        """
        if not self.db.inline:
            return await self._connect()
        if self._hot is None:
            self._hot = await self._connect()
        return self._hot

    def _build_clients(self) -> None:
        config = self.config
        if self._x_http is None:
            self._x_http = make_async_client(config.x_base_url, transport=config.transport)
            self._owned.append(self._x_http)
        if self._sms_http is None:
            self._sms_http = make_async_client(config.twilio_base_url, transport=config.transport)
            self._owned.append(self._sms_http)
        self.x = XApiClient(
            self._x_http, user_token=config.x_user_token, app_token=config.x_app_token or None
        )
        self.sms = TwilioSmsClient(
            self._sms_http,
            account_sid=config.twilio_account_sid,
            auth_token=config.twilio_auth_token,
            from_number=config.twilio_from or None,
            messaging_service_sid=config.twilio_messaging_service_sid or None,
            status_callback=config.sms_callback_url,
            validity_period=config.twilio_validity_period or None,
        )


def _close_under(connection: Connection, lock: threading.Lock | None) -> None:
    """Close ``connection``, holding ``lock`` (when given) so no other thread is using it."""
    if lock is None:
        connection.close()
        return
    with lock:
        connection.close()
