"""``DeliveryReconciler``: fetches from Twilio the delivery status of SMS whose callback never came.

A status callback can be missed two ways: Twilio posts it while the service is down (Twilio does
not retry a status callback for ever), or it arrives before the row holds the message's sid (the
send's result is recorded in a group commit after Twilio answered, and a fast carrier can call
back first), in which case :meth:`~reference.service.work_queue.WorkQueue.record_delivery` finds no
row and drops it. Every ``interval`` the reconciler takes the sent SMS rows without a final status
that were sent more than ``grace_s`` ago (a batch at a time, walking the ids round and round),
reads each message (``GET .../Messages/{Sid}.json``) and records its status the way a callback
would: monotonic, so a fetched "sent" never overwrites a "delivered" that came meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from reference.clients.errors import ClientError
from reference.clients.sms_port import SmsGateway
from reference.runtime.metrics import ServiceMetrics

__all__ = ["DeliveryReconciler"]

_log = logging.getLogger(__name__)


class DeliveryReconciler:
    """Reconciles SMS delivery statuses with Twilio.

    Arguments:
        sms: the Twilio client.
        call: runs a function of a :class:`~reference.service.database.Connection` (e.g. the
            service's admin ``LockedConnection.call``).
        metrics: ``statuses_reconciled`` counts the statuses that changed a row.
        clock: aware UTC now.
        grace_s: how long after the send a callback is waited for before the status is fetched.
        window_s: how long after the send a missing final status is still fetched (a carrier that
            never confirms leaves a message "sent" for good; it is not fetched for ever).
        batch: rows fetched per round.
    """

    def __init__(
        self,
        sms: SmsGateway,
        call: Callable[[Callable[[Any], Any]], Awaitable[Any]],
        *,
        metrics: ServiceMetrics,
        clock: Callable[[], datetime],
        grace_s: float = 60.0,
        window_s: float = 86_400.0,
        batch: int = 100,
    ) -> None:
        self.sms = sms
        self.call = call
        self.metrics = metrics
        self.clock = clock
        self.grace_s = grace_s
        self.window_s = window_s
        self.batch = batch
        self._after = 0  # the last id looked at; the walk starts again from 0 after a short batch

    async def run_once(self) -> int:
        """One round; returns how many rows' statuses changed. Gateway errors end the round early."""
        now = self.clock()
        since, before = now - timedelta(seconds=self.window_s), now - timedelta(seconds=self.grace_s)
        after, batch = self._after, self.batch
        rows: list[tuple[int, str]] = await self.call(
            lambda c: c.queue.unsettled_sms(since, before, after, batch)
        )
        self._after = rows[-1][0] if len(rows) >= batch else 0
        changed = 0
        for _, sid in rows:
            try:
                message = await self.sms.fetch_message(sid)
            except (ClientError, httpx.TransportError) as exc:
                _log.warning("fetching SMS %s for its status failed: %s", sid, exc)
                if isinstance(exc, ClientError) and not exc.retryable:
                    continue  # this message (e.g. deleted at Twilio): the next one
                self._after = after  # the gateway is unwell: this batch again next round
                break
            now = self.clock()
            error = None if message.error_code is None else str(message.error_code)
            delivery = await self.call(_recorder(sid, message.status, error, now))
            if delivery is not None:
                changed += 1
                self.metrics.statuses_reconciled.inc()
        return changed


def _recorder(sid: str, status: str, error: str | None, now: datetime) -> Callable[[Any], Any]:
    return lambda c: c.queue.record_delivery(sid, status, error, now)
