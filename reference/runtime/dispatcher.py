"""The outbox dispatcher: leases pending outbox rows and sends them as tweets, DMs and SMS.

Rules, per row (commerce rows first: the claim orders by priority, then age):

* reply tweet: only if the X write budget allows (:class:`~reference.runtime.budget.WriteBudget`);
  otherwise the row ends ``skipped_budget`` (counted) and the SMS of the same outcome carries the
  confirmation alone. A 429 from X pauses the budget until ``x-rate-limit-reset`` and the reply is
  skipped the same way. The operator's own status tweet waits for the budget instead.
* DM: subject to the DM budget; waits (retried after the reset) when it is spent.
* SMS: sent with the service's ``StatusCallback``; Twilio's 20429 is retried with backoff. Over
  SMPP (:class:`~reference.clients.smpp_sms.SmppSmsClient`) ESME_RTHROTTLED / ESME_RMSGQFUL are
  retried the same way, and a submit_sm without a response is an unknown outcome (looked up).
* retryable failures (5xx, 429/20429, transport errors) are retried with capped backoff and full
  jitter (or at the server's ``retry_at``/``retry_after``), with no attempt count, while the row
  is valid (a code SMS: ``code_lifetime_s``, also sent as ``ValidityPeriod``; others:
  ``horizon_s``); then it ends ``expired`` with the reason, and for an SMS the customer is told
  by DM (a notice row, best effort). Other failures end ``failed``.
* at most once to the customer, at least once to the gateway: every attempt after the first (a
  crash left the row leased, or the outcome was unknown: a read timeout or a dropped connection
  after the request was written) first looks the row up at the gateway (Twilio's message list,
  the operator's timeline or DM events) and adopts a match no other row holds; after an unknown
  outcome not before ``unknown_settle_s``. Details: reference/runtime/README.md.

Rows reach the sends two ways: :meth:`OutboxDispatcher.run_once` claims a batch (retries, rows
of other processes, leases that ran out), and :meth:`OutboxDispatcher.take` takes rows an
inbound worker leased for this dispatcher right after its commit, through the dispatcher's
:class:`~reference.runtime.hand_off.HandOff` (the hot path: no claim of its own, no wake-up).
Every row is sent as soon as a concurrency slot is free, without waiting for the rest of its
batch; results are recorded in group commits (one ``finish_outbox`` for all results that arrive
while the previous one runs). Several ``run_once`` may run at once (``dispatch_loops`` > 1).
A crash after a send and before ``finish_outbox`` leaves the row leased; when the lease runs out
the next attempt looks it up at the gateway first (above).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

import httpx

from reference.clients.errors import (
    ClientError,
    SmppOutcomeUnknown,
    SmppThrottled,
    TwilioThrottled,
    XDuplicateContent,
    XRateLimited,
    XUsageCapped,
)
from reference.clients.retry import RetryPolicy, outcome_unknown
from reference.clients.sms_port import SmsGateway
from reference.clients.twilio_sms import MAX_VALIDITY_PERIOD
from reference.clients.x_api import XApiClient
from reference.runtime.budget import WriteBudget
from reference.runtime.connections import GroupCommit
from reference.runtime.expiry import expiry_notice
from reference.runtime.hand_off import HandOff
from reference.runtime.lookups import GatewayLookups
from reference.runtime.metrics import ServiceMetrics
from reference.service.changes import OutboxRow
from reference.service.work_queue import OutboxItem, OutboxResult, WorkQueue

__all__ = ["OutboxDispatcher"]

_log = logging.getLogger(__name__)
_TWEETS = "POST /2/tweets"
_DMS = "POST /2/dm_conversations/with/:participant_id/messages"


class OutboxDispatcher:
    """Sends leased outbox rows; one dispatcher per process (it claims batches and sends them concurrently).

    Arguments:
        queue: the work queue (its own connection).
        x, sms: the outbound clients.
        owner: the lease owner name (unique per process).
        tweet_budget, dm_budget: the X write budgets.
        run_db: runs the claims and finishes (default: in a thread; the service passes its
            :class:`~reference.service.database.DatabaseCalls`).
        clock: aware UTC now; epoch: Unix seconds (for X's reset times); rng: jitter.
        policy: the backoff (``max_delay`` caps it; no ``max_attempts``: rows retry while valid).
        code_lifetime_s, horizon_s: how long a code SMS / any other row is worth sending.
        unknown_settle_s: the wait before looking up a send whose outcome is unknown.
        operator_id: the operator's X user id, whose timeline and DM events a retried tweet or DM
            is looked up in (empty: not looked up; X's duplicate rule still catches a reply).
    """

    def __init__(
        self,
        queue: WorkQueue,
        x: XApiClient,
        sms: SmsGateway,
        *,
        owner: str,
        tweet_budget: WriteBudget,
        dm_budget: WriteBudget,
        metrics: ServiceMetrics,
        clock: Callable[[], datetime],
        epoch: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
        batch_size: int = 64,
        concurrency: int = 32,
        lease_s: float = 30.0,
        code_lifetime_s: float = 600.0,
        horizon_s: float = 6 * 3600.0,
        unknown_settle_s: float = 30.0,
        operator_id: str = "",
        guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
        run_db: Callable[..., Awaitable[Any]] = asyncio.to_thread,
    ) -> None:
        self.queue = queue
        self.x = x
        self.sms = sms
        self.owner = owner
        self.tweet_budget = tweet_budget
        self.dm_budget = dm_budget
        self.metrics = metrics
        self.clock = clock
        self.epoch = epoch
        self.rng = rng if rng is not None else random.Random()
        self.policy = policy if policy is not None else RetryPolicy(base_delay=0.5, max_delay=60.0)
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.code_lifetime_s = code_lifetime_s
        self.horizon_s = horizon_s
        self.unknown_settle_s = unknown_settle_s
        self.operator_id = operator_id
        self.lookups = GatewayLookups(x, sms, operator_id, self._held_refs)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self.guard = guard
        self.run_db = run_db
        self._connection_lock = threading.Lock()  # claims and finishes in threads (PostgreSQL): one at a time
        self._held = 0  # rows leased to this dispatcher and not yet finished
        self._handed: set[asyncio.Task[None]] = set()
        self._finisher = GroupCommit(self._finish_all)  # results recorded in group commits
        self._notices: list[OutboxRow] = []  # DMs to customers of expired SMS, added with the results
        self.hand_off = HandOff(self)  # the workers' path to take()

    @property
    def room(self) -> int:
        """How many more rows the dispatcher takes now (a hand-off beyond this would wait for slots)."""
        return max(0, self.concurrency - self._held)

    async def run_once(self) -> int:
        """Claim one batch, send it, record the results; returns how many rows were claimed."""
        limit = min(self.batch_size, max(1, self.room))
        items: list[OutboxItem] = await self.run_db(self._claim, self.clock(), limit)
        if not items:
            return 0
        self._held += len(items)
        try:
            await self.send_leased(items)
        finally:
            self._held -= len(items)
        return len(items)

    def take(self, items: Sequence[OutboxItem]) -> None:
        """Send rows already leased to :attr:`owner` (in the background; call on the event loop)."""
        if not items:
            return
        self._held += len(items)  # counted at once: the next hand_off.lease sees less room
        task = asyncio.get_running_loop().create_task(self._send_handed(items))
        self._handed.add(task)
        task.add_done_callback(self._handed.discard)

    async def _send_handed(self, items: Sequence[OutboxItem]) -> None:
        try:
            await self.send_leased(items)
        except Exception:  # the rows stay leased and are sent again when the lease runs out
            _log.exception("recording %d sent outbox rows failed", len(items))
        finally:
            self._held -= len(items)

    async def send_leased(self, items: Sequence[OutboxItem]) -> None:
        """Send leased rows, each as soon as a slot is free, and record their results."""
        leased_at = self.epoch()
        results = await asyncio.gather(*(self._guarded(item, leased_at) for item in items))
        await self._finisher.submit(list(results))
        self.metrics.write_budget_left.set(min(self.tweet_budget.left(), 1e9))

    async def drain(self) -> None:
        """Wait for the rows handed off so far to be sent and recorded."""
        while self._handed:
            await asyncio.gather(*list(self._handed), return_exceptions=True)

    def _claim(self, now: datetime, limit: int) -> list[OutboxItem]:
        with self._connection_lock, self.guard():
            return self.queue.claim_outbox(self.owner, limit, now, self.lease_s)

    async def _finish_all(self, batches: list[list[OutboxResult]]) -> list[None]:
        await self.run_db(self._finish, [result for batch in batches for result in batch])
        return [None] * len(batches)

    def _finish(self, results: Sequence[OutboxResult]) -> None:
        with self._connection_lock, self.guard():
            self.queue.finish_outbox(results, self.owner)
            notices, self._notices = self._notices, []
            if notices:  # the customers of expired SMS, told by DM
                self.queue.add_outbox(notices)

    async def _guarded(self, item: OutboxItem, leased_at: float) -> OutboxResult:
        async with self._slots:
            try:
                return await self._send(item, leased_at)
            except Exception as exc:  # a bug or an unexpected answer: keep the row, retry later
                _log.exception("sending outbox row %d failed", item.id)
                return self._retry_or_expire(item, exc)

    async def _send(self, item: OutboxItem, leased_at: float) -> OutboxResult:
        kind = item.kind
        if kind != "sms" and self._validity_left(item) <= 0:  # SMS: looked up first (it may have gone out)
            return self._expired(item, "not sent within its validity")
        try:
            if kind in ("tweet", "dm"):
                found = await self._x_at_gateway(item, leased_at)
                if found is not None:
                    return found
                return await (self._tweet(item) if kind == "tweet" else self._dm(item))
            if kind == "sms":
                return await self._sms(item, leased_at)
        except (ClientError, httpx.TransportError) as exc:
            return self._failure(item, exc)
        return OutboxResult(item.id, "failed", last_error=f"unknown outbox kind {kind!r}")

    async def _tweet(self, item: OutboxItem) -> OutboxResult:
        budget = self.tweet_budget
        if not budget.take():
            if item.in_reply_to is None:  # the operator's status tweet waits for the budget
                return self._later(item, max(self.epoch() + 60.0, budget.paused_until), "write budget spent")
            self.metrics.skipped_budget.inc()
            return OutboxResult(item.id, "skipped_budget", last_error="X write budget spent")
        try:
            created = await self.x.create_tweet(item.text, in_reply_to_tweet_id=item.in_reply_to)
        finally:
            budget.learn(self.x.rate_limit(_TWEETS))
        self.lookups.take(created.id, item.id)
        self.metrics.sent.labels("tweet").inc()
        return OutboxResult(item.id, "sent", provider_ref=created.id, sent_at=self.clock())

    async def _dm(self, item: OutboxItem) -> OutboxResult:
        budget = self.dm_budget
        if not budget.take():
            return self._later(item, max(self.epoch() + 60.0, budget.paused_until), "DM budget spent")
        try:
            sent = await self.x.send_dm(item.user_id, item.text)
        finally:
            budget.learn(self.x.rate_limit(_DMS))
        self.lookups.take(sent.dm_event_id, item.id)
        self.metrics.sent.labels("dm").inc()
        return OutboxResult(item.id, "sent", provider_ref=sent.dm_event_id, sent_at=self.clock())

    async def _sms(self, item: OutboxItem, leased_at: float) -> OutboxResult:
        if item.attempts > 1:  # an earlier attempt may have reached Twilio: look before sending again
            sid = await self.lookups.sms_sent(item)
            if sid is not None:
                return self._found(item, sid)
        left = self._validity_left(item)
        if left <= 0:
            return self._expired(item, "not sent within its validity")
        if self._lease_spent(leased_at):
            return self._look_again(item)
        validity = min(MAX_VALIDITY_PERIOD, max(1, int(left))) if item.shown is not None else None
        sent = await self.sms.send_sms(item.recipient, item.text, validity_period=validity)
        self.lookups.take(sent.sid, item.id)
        now = self.clock()
        self.metrics.sent.labels("sms").inc()
        if item.shown is not None:  # a code SMS
            received = self.hand_off.received_at(item)
            self.metrics.code_send_latency.observe(max(0.0, (now - received).total_seconds()))
        return OutboxResult(item.id, "sent", provider_ref=sent.sid, sent_at=now)

    async def _x_at_gateway(self, item: OutboxItem, leased_at: float) -> OutboxResult | None:
        """A retried tweet or DM already on the operator's timeline / in its DM events, as sent;
        a pending result when the lookup spent half the lease; None to send it."""
        if item.attempts <= 1:
            return None
        ref = await self.lookups.x_sent(item)
        if ref is not None:
            return self._found(item, ref)
        return self._look_again(item) if self._lease_spent(leased_at) else None

    async def _held_refs(self, refs: Sequence[str], own_id: int) -> set[str]:
        def read() -> set[str]:
            with self._connection_lock, self.guard():
                return self.queue.held_refs(refs, own_id)

        held: set[str] = await self.run_db(read)
        return held

    def _found(self, item: OutboxItem, ref: str) -> OutboxResult:
        _log.info("outbox row %d: found at the gateway as %s, not sent again", item.id, ref)
        self.metrics.found_at_gateway.labels(item.kind).inc()
        why = "found at the gateway: sent by an earlier attempt"
        return OutboxResult(item.id, "sent", provider_ref=ref, sent_at=self.clock(), last_error=why)

    def _lease_spent(self, leased_at: float) -> bool:
        """Half the lease is gone: a send now could outlive it and another dispatcher send the row too."""
        return self.epoch() - leased_at > self.lease_s / 2

    def _look_again(self, item: OutboxItem) -> OutboxResult:
        why = "lease half spent before the send (slow lookup): to be looked up again"
        return OutboxResult(item.id, "pending", last_error=why, next_attempt_at=self.clock())

    # validity -------------------------------------------------------------------------------
    def _validity_left(self, item: OutboxItem) -> float:
        """Seconds the row is still worth sending (a code SMS: its code's lifetime)."""
        lifetime = self.code_lifetime_s if item.kind == "sms" and item.shown is not None else self.horizon_s
        return lifetime - (self.clock() - item.created_at).total_seconds()

    def _expired(self, item: OutboxItem, why: str) -> OutboxResult:
        what = "code SMS" if item.kind == "sms" and item.shown is not None else item.kind
        _log.warning("outbox row %d (%s) expired: %s", item.id, what, why)
        notice = expiry_notice(item, self.clock(), self.operator_id)
        if notice is not None:  # the customer is told by DM, added with the results
            self._notices.append(notice)
        self.metrics.expired.labels(item.kind).inc()
        return OutboxResult(item.id, "expired", last_error=f"expired: {why}"[:500])

    # failures -------------------------------------------------------------------------------
    def _failure(self, item: OutboxItem, exc: BaseException) -> OutboxResult:
        if isinstance(exc, XRateLimited):
            reset = exc.reset_at if exc.reset_at is not None else self.epoch() + 60.0
            self.metrics.rate_limit_waits.labels("x").inc()
            self.metrics.rate_limit_wait_seconds.labels("x").inc(max(0.0, reset - self.epoch()))
            budget = self.dm_budget if item.kind == "dm" else self.tweet_budget
            budget.pause_until(reset)
            if item.kind == "tweet" and item.in_reply_to is not None:
                self.metrics.skipped_budget.inc()
                return OutboxResult(item.id, "skipped_budget", last_error=str(exc))
            return self._later(item, reset, str(exc))
        if isinstance(exc, XUsageCapped) and item.kind == "tweet" and item.in_reply_to is not None:
            self.metrics.skipped_budget.inc()
            return OutboxResult(item.id, "skipped_budget", last_error=str(exc))
        if isinstance(exc, XDuplicateContent) and item.attempts > 1:
            self.metrics.sent.labels(item.kind).inc()
            return OutboxResult(item.id, "sent", last_error="duplicate: posted by an earlier attempt",
                                sent_at=self.clock())  # fmt: skip
        if isinstance(exc, TwilioThrottled):
            self.metrics.rate_limit_waits.labels("twilio").inc()
        if isinstance(exc, SmppThrottled):
            self.metrics.rate_limit_waits.labels("smpp").inc()
        if isinstance(exc, SmppOutcomeUnknown):  # submit_sm written, no response: looked up first
            return self._retry_or_expire(item, exc, settle=True)
        if isinstance(exc, httpx.TransportError):  # retried; an unknown outcome is looked up first
            return self._retry_or_expire(item, exc, settle=outcome_unknown(exc))
        if isinstance(exc, ClientError) and exc.retryable:
            return self._retry_or_expire(item, exc)
        _log.warning("outbox row %d (%s) failed: %s", item.id, item.kind, exc)
        self.metrics.failed.labels(item.kind).inc()
        return OutboxResult(item.id, "failed", last_error=str(exc)[:500])

    def _retry_or_expire(self, item: OutboxItem, exc: BaseException, *, settle: bool = False) -> OutboxResult:
        """Try again later while the row is valid (after an unknown outcome: not before the lookup
        can see the earlier attempt); ``expired`` once it is not."""
        left = self._validity_left(item)
        if left <= 0:
            return self._expired(item, f"not sent within its validity after {item.attempts} attempts: {exc}")
        delay = self.rng.uniform(0.0, self.policy.backoff_ceiling(item.attempts))
        if settle:
            delay = max(delay, self.unknown_settle_s)
        retry_at = getattr(exc, "retry_at", None)
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_at, (int, float)):
            delay = max(delay, float(retry_at) - self.epoch())
        elif isinstance(retry_after, (int, float)):
            delay = max(delay, float(retry_after))
            if isinstance(exc, (TwilioThrottled, SmppThrottled)):
                label = "twilio" if isinstance(exc, TwilioThrottled) else "smpp"
                self.metrics.rate_limit_wait_seconds.labels(label).inc(float(retry_after))
        self.metrics.retries.labels(item.kind).inc()
        why = f"outcome unknown, to be looked up: {exc!r}" if settle else str(exc)
        return OutboxResult(
            item.id,
            "pending",
            last_error=why[:500],
            next_attempt_at=self.clock() + timedelta(seconds=min(delay, max(left, 0.0))),
        )

    def _later(self, item: OutboxItem, at_epoch: float, why: str) -> OutboxResult:
        delay = max(0.0, at_epoch - self.epoch())
        return OutboxResult(
            item.id, "pending", last_error=why, next_attempt_at=self.clock() + timedelta(seconds=delay)
        )
