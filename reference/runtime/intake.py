"""Events in: what the webhook and the poller hand over, committed to the durable inbound queue,
and SMS delivery statuses (status callbacks, SMPP receipts).

:meth:`Intake.enqueue` returns only after the group commit (the webhook answers 200 after it);
events the store cannot hold (U+0000, lone surrogates) are quarantined alone
(:mod:`reference.runtime.quarantine`), never in a group commit with the others.
"""

from __future__ import annotations

import logging
from typing import Any

from reference.runtime.connections import GroupCommitter, LockedConnection
from reference.runtime.ingest import split_storable
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.quarantine import quarantine_events, quarantined_events
from reference.service.ports import Clock
from reference.service.work_queue import NewEvent

__all__ = ["Intake"]

_log = logging.getLogger(__name__)


class Intake:
    """Persists accepted events (group-committed with concurrent callers) and counts them."""

    def __init__(
        self, committer: GroupCommitter, admin: LockedConnection, *, metrics: ServiceMetrics, clock: Clock
    ) -> None:
        self.committer = committer
        self.admin = admin
        self.metrics = metrics
        self.clock = clock

    async def enqueue(self, events: list[NewEvent], source: str) -> int:
        """Persist ``events``; returns how many were new (the rest were queued before)."""
        events, refused = split_storable(events)
        if refused:
            await self.quarantine(refused, source)
        if not events:
            return 0
        new = await self.committer.submit(events)
        self.metrics.ingested.labels(source, "queued").inc(new)
        if len(events) > new:
            self.metrics.ingested.labels(source, "duplicate").inc(len(events) - new)
        return new

    async def quarantine(self, refused: list[tuple[NewEvent, str]], source: str) -> None:
        """Keep events the store cannot hold aside (committed before this returns)."""
        now = self.clock.now()
        await self.admin.call(lambda c: quarantine_events(c.queue, refused, source, now))
        self.metrics.ingested.labels(source, "quarantined").inc(len(refused))
        for event, reason in refused:
            _log.warning("quarantined %s %r from %s: %s", event.channel, event.message_id, source, reason)

    async def record_sms_status(self, sid: str, status: str, error_code: str | None) -> None:
        """Store a delivery status (a Twilio status callback or an SMPP receipt) in the timeline."""
        now = self.clock.now()
        delivery = await self.admin.call(lambda c: c.queue.record_delivery(sid, status, error_code, now))
        self.metrics.callbacks.labels(status).inc()
        if delivery is not None and delivery.is_code and status == "delivered":
            self.metrics.code_delivery.observe(max(0.0, (now - delivery.created_at).total_seconds()))

    async def quarantined(self) -> list[dict[str, Any]]:
        """The quarantined events (``GET /admin/quarantine``)."""
        return await self.admin.read(lambda c: quarantined_events(c.queue))
