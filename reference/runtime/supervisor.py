"""``Service``: the processor as a long-running service; supervises its background tasks and connections.

Built by the composition root (:func:`reference.bootstrap.build_service`), which picks the database
engine and the app. Under uvicorn the app's lifespan calls ``start``/``stop``; in process (e.g.
against the fakes through ``httpx.ASGITransport``)::

    service = build_service(config, x_http=x_client, sms_http=sms_client)
    await service.start()                 # connections, workers, dispatcher, poller
    await service.drain()                 # until the queue and the outbox are empty
    await service.stop()
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from reference.clients.retry import RetryPolicy
from reference.clients.sms_port import SmsGateway
from reference.clients.x_api import XApiClient
from reference.domain.catalog import Catalog, load_catalog
from reference.domain.otp import OtpSource
from reference.domain.subscribers import Subscriber
from reference.runtime.budget import write_budgets
from reference.runtime.config import ServiceConfig
from reference.runtime.connections import ConnectionPool, GroupCommitter, LockedConnection
from reference.runtime.dispatcher import OutboxDispatcher
from reference.runtime.errors import NotStarted
from reference.runtime.ingest import Operator
from reference.runtime.intake import Intake
from reference.runtime.loops import claim_loop, periodic_loop, poll_loop
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.outage import OutageMode
from reference.runtime.outbound import OutboundClients
from reference.runtime.poller import MENTIONS_CURSOR, Poller
from reference.runtime.reconcile import DeliveryReconciler
from reference.runtime.registration import ProcessorCodeRequests
from reference.runtime.shared_state import StoreHitCounter, shared_secret
from reference.runtime.vacuum import QueueVacuumChore
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
            settings = Settings(operator_handle=config.operator_handle, otp_key=otp_key,
                                catalog_path=config.catalog_path())  # fmt: skip
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
        self.tweet_budget, self.dm_budget = write_budgets(config, epoch)
        self._clients = OutboundClients(x_http, sms_http)
        self.x: XApiClient | None = None
        self.sms: SmsGateway | None = None
        self.admin: LockedConnection | None = None
        self.code_requests: ProcessorCodeRequests | None = None
        self._ingest: GroupCommitter | None = None
        self._intake: Intake | None = None
        self._pool = ConnectionPool(database)
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
        first = await self._pool.open()  # applies the migrations
        if self.subscribers:
            await asyncio.to_thread(first.store.add_subscribers, self.subscribers)
        guard = self.factory.guard
        await asyncio.to_thread(self._shared_secrets, first, guard)
        self.db = self.factory.calls(config.db_calls)
        self.admin = LockedConnection(first, guard)  # admin reads and writes stay in threads
        ingest = LockedConnection(await self._pool.hot(self.db), guard, self.db)
        self._ingest = GroupCommitter(ingest, self._inbound_ready.set)
        self._intake = Intake(self._ingest, self.admin, metrics=self.metrics, clock=self.clock)
        self.x, self.sms = await self._clients.open(config, on_sms_status=self.record_sms_status)
        await self._start_hot_path(guard)
        await self._start_polling(guard)
        web = await self._pool.open()
        web_processor = build_processor(web.store, self.settings, catalog=self.catalog, clock=self.clock,
                                        otp_source=self.otp_source)  # fmt: skip
        self.code_requests = ProcessorCodeRequests(
            web_processor, self._resolve_user, operator_handle=config.operator_handle,
            clock=self.clock.now, sent=self.outbox_changed, guard=guard,
        )  # fmt: skip
        if config.web_rate_limit:
            limits = await self._pool.open()
            self.hit_counter = StoreHitCounter(limits.queue, guard=guard, clock=self.clock.now,
                                               keep_s=2 * _LONGEST_WEB_WINDOW_S)  # fmt: skip
        await self._start_chores(guard)
        if config.freeze_gc:
            gc.collect()
            gc.freeze()
        _log.info("service %s started (%s, %d workers)", self.owner, self.factory.engine, config.workers)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def _start_hot_path(self, guard: Callable[[], Any]) -> None:
        """The dispatcher, its hand-off, the workers and the loops that drive them."""
        config = self.config
        assert self.x is not None and self.sms is not None
        dispatch = await self._pool.hot(self.db)
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
            connection = await self._pool.hot(self.db)
            processor = build_processor(connection.store, self.settings, catalog=self.catalog,
                                        clock=self.clock, otp_source=self.otp_source,
                                        events=self.events)  # fmt: skip
            worker = InboundWorker(
                f"{self.owner}-w{index}", connection.queue, processor, clock=self.clock.now,
                batch_size=config.batch_size, lease_s=config.lease_s, guard=guard, hand_off=hand_off,
                notices=self.outage.notices(connection.queue),
            )  # fmt: skip
            self.workers.append(worker)
            step = functools.partial(self.db.run, worker.run_once)
            loop = claim_loop(step, self._inbound_ready, stopping=self._is_stopping,
                              idle_s=config.idle_wait_s, what=f"worker {worker.name}")  # fmt: skip
            self._spawn(loop, worker.name)
        for index in range(config.dispatch_loops):  # one claims while another's sends are in flight
            loop = claim_loop(self.dispatcher.run_once, hand_off.ready, stopping=self._is_stopping,
                              idle_s=config.idle_wait_s, what="dispatcher")  # fmt: skip
            self._spawn(loop, f"dispatcher-{index}")

    async def _start_polling(self, guard: Callable[[], Any]) -> None:
        """Polling of mentions and DMs, when the config asks for it."""
        config = self.config
        assert self.x is not None
        if config.ingestion in ("poll", "both"):
            polling = await self._pool.open()
            self.poller = Poller(self.x, polling.queue, self.operator, self.enqueue, metrics=self.metrics,
                                 clock=self.clock.now, epoch=self.epoch, guard=guard)  # fmt: skip
            self.poller.page_size = config.mentions_page_size
            every, dm_every, stopping = config.poll_interval_s, config.dm_poll_interval_s, self._is_stopping
            if dm_every > 0:  # DMs on their own period (GET /2/dm_events has its own, tighter limit)
                self._spawn(poll_loop(self.poller.poll_mentions_round, every, stopping=stopping), "poller")
                self._spawn(poll_loop(self.poller.poll_dms_round, dm_every, stopping=stopping), "dm-poller")
            else:
                self._spawn(poll_loop(self.poller.poll_once, every, stopping=stopping), "poller")
        if config.register_webhook and config.ingestion in ("webhook", "both"):
            if self.poller is None:  # the fallback while the webhook is not valid
                polling = await self._pool.open()
                self.poller = Poller(self.x, polling.queue, self.operator, self.enqueue, metrics=self.metrics,
                                     clock=self.clock.now, epoch=self.epoch, guard=guard)  # fmt: skip
            self.webhook_health = WebhookHealth(self.x, config.webhook_url, metrics=self.metrics,
                                                clock=self.clock.now)  # fmt: skip
            self._spawn(self._webhook_loop(), "webhook-health")

    async def _start_chores(self, guard: Callable[[], Any]) -> None:
        """Delivery reconciliation, (SQLite) WAL checkpoints and (PostgreSQL) queue VACUUMs."""
        config = self.config
        assert self.sms is not None and self.admin is not None
        self.reconciler = DeliveryReconciler(
            self.sms, self.admin.call, metrics=self.metrics, clock=self.clock.now,
            grace_s=config.reconcile_interval_s,
        )  # fmt: skip
        reconcile = periodic_loop(self.reconciler.run_once, config.reconcile_interval_s,
                                  stopped=self._stop_event, what="reconciling SMS statuses",
                                  wait_first=True)  # fmt: skip
        self._spawn(reconcile, "delivery-reconciler")
        if self.factory.engine == "sqlite":
            checkpoints = await self._pool.open()
            checkpoint = functools.partial(asyncio.to_thread, self.factory.checkpoint, checkpoints)
            self._spawn(periodic_loop(checkpoint, 1.0, stopped=self._stop_event, what="WAL checkpoint",
                                      wait_first=False), "checkpoints")  # fmt: skip
        if vacuum := QueueVacuumChore.wanted(self.factory, config.vacuum_interval_s, self.metrics):
            self._spawn(vacuum.run(config.vacuum_interval_s, self._stop_event), "queue-vacuum")

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
        await self._clients.close()
        shared = [c for c in (self.admin, self._ingest.connection if self._ingest else None) if c]
        await self._pool.close(shared)
        self.factory.close()
        self.workers.clear()
        self.hit_counter = None
        self.admin = self._ingest = self._intake = None
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

    async def record_sms_status(self, sid: str, status: str, error_code: str | None) -> None:
        """Store a delivery status (a Twilio status callback or an SMPP receipt) in the timeline;
        raises when it could not be stored (the gateway then sends it again)."""
        if self._intake is None:  # receipts still arriving while stopping are stored until the end
            raise NotStarted("the service is not started")
        await self._intake.record_sms_status(sid, status, error_code)

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

    # ingestion (webhook, poller) ------------------------------------------------------------
    async def enqueue(self, events: list[NewEvent], source: str) -> int:
        """Persist ``events`` (group-committed, :class:`~reference.runtime.intake.Intake`); returns
        how many were new. Returns only after the commit: the webhook answers 200 after this."""
        return await self._started_intake().enqueue(events, source)

    async def quarantine(self, refused: list[tuple[NewEvent, str]], source: str) -> None:
        """Keep events the store cannot hold aside (committed before this returns)."""
        await self._started_intake().quarantine(refused, source)

    async def quarantined(self) -> list[dict[str, Any]]:
        """The quarantined events (``GET /admin/quarantine``)."""
        return await self._started_intake().quarantined()

    def _started_intake(self) -> Intake:
        if self._intake is None:
            raise RuntimeError("the service is not started")
        return self._intake

    # background loops -----------------------------------------------------------------------
    def _is_stopping(self) -> bool:
        return self._stopping

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
