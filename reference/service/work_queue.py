"""The work-queue port of the processor service: durable inbound queue, outbox leases, cursors, state.

One :class:`WorkQueue` is one connection (used by one task at a time); every method is its own
transaction and commits before it returns. Implementations live beside the core's stores:
``reference/storage/work_{memory,sqlite,postgres}.py``. Timestamps are aware UTC datetimes.

Inbound life cycle::

    enqueue(events)             # committed before the webhook answers 200 (duplicates collapse)
    claim_inbound(owner, n)     # lease a batch (PostgreSQL: FOR UPDATE SKIP LOCKED)
    ...Processor.process_batch  # idempotent through the core's inbox
    complete_inbound(ids)       # done; a crash before this re-runs the batch -> DUPLICATE

Outbox life cycle: ``claim_outbox`` leases pending rows (commerce first, by priority), the
dispatcher sends them and ``finish_outbox`` records sent / failed / skipped_budget / retry later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from reference.domain.commands import Channel, Inbound
from reference.service.changes import OutboxRow

__all__ = [
    "COMMERCE_PRIORITY",
    "Delivery",
    "FINAL_DELIVERY",
    "NOTICE_PRIORITY",
    "NewEvent",
    "OutboxItem",
    "OutboxResult",
    "OutboxStatus",
    "QueuedEvent",
    "WorkQueue",
    "delivery_rank",
]

#: outbox priority of the core's own rows (commerce: codes, confirmations)
COMMERCE_PRIORITY = 0
#: outbox priority of outage-mode replies to complaints (sent after commerce)
NOTICE_PRIORITY = 10

#: Twilio message statuses by progress: a status update applies only when it ranks higher than the
#: stored one (a late "sent" never overwrites "delivered"); unknown statuses rank 0.
DELIVERY_RANKS: dict[str, int] = {
    "accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}  # fmt: skip
#: statuses after which Twilio sends no further callback (except "read")
FINAL_DELIVERY = ("delivered", "undelivered", "failed", "canceled", "read")


def delivery_rank(status: str) -> int:
    """The progress rank of a Twilio message status (see :data:`DELIVERY_RANKS`)."""
    return DELIVERY_RANKS.get(status, 0)


OutboxStatus = Literal["pending", "sent", "failed", "skipped_budget", "expired"]


#: An accepted inbound tweet/DM, as the ingestion side extracted it: the domain's own record
#: (:class:`reference.domain.commands.Inbound`), the same object from the webhook to the processor.
NewEvent = Inbound


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """A leased inbound message: the domain's :class:`~reference.domain.commands.Inbound` plus its
    queue row id and attempt count (the message's fields are readable here too)."""

    id: int
    message: Inbound
    attempts: int

    @property
    def channel(self) -> Channel:
        return self.message.channel

    @property
    def message_id(self) -> str:
        return self.message.message_id

    @property
    def author_id(self) -> str:
        return self.message.author_id

    @property
    def handle(self) -> str:
        return self.message.handle

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def received_at(self) -> datetime:
        return self.message.received_at


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A leased outbox row: the :class:`~reference.service.changes.OutboxRow` plus its id and attempt
    count (the row's fields are readable here too). ``shown`` is set on code SMS (the timeline's
    redacted text)."""

    id: int
    row: OutboxRow
    attempts: int

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def user_id(self) -> str:
        return self.row.user_id

    @property
    def handle(self) -> str:
        return self.row.handle

    @property
    def recipient(self) -> str:
        return self.row.recipient

    @property
    def in_reply_to(self) -> str | None:
        return self.row.in_reply_to

    @property
    def text(self) -> str:
        return self.row.text

    @property
    def shown(self) -> str | None:
        return self.row.shown

    @property
    def priority(self) -> int:
        return self.row.priority

    @property
    def created_at(self) -> datetime:
        return self.row.created_at


@dataclass(frozen=True, slots=True)
class OutboxResult:
    """What became of one leased row. ``status == "pending"`` means retry at ``next_attempt_at``."""

    id: int
    status: OutboxStatus
    provider_ref: str | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """An SMS whose delivery status changed (returned by :meth:`WorkQueue.record_delivery`)."""

    outbox_id: int
    user_id: str
    handle: str
    msisdn: str
    created_at: datetime
    is_code: bool


class WorkQueue(Protocol):
    """Durable queues and small state of the service, on one connection."""

    def enqueue(self, events: Sequence[NewEvent]) -> int:
        """Persist ``events``; returns how many were new (the rest were already queued)."""
        ...

    def claim_inbound(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[QueuedEvent]:
        """Lease up to ``limit`` rows not done and not leased (or whose lease ran out), oldest first."""
        ...

    def complete_inbound(
        self, ids: Sequence[int], owner: str, redacted: Mapping[int, str] | None = None
    ) -> None:
        """Mark leased rows done; ``redacted`` replaces the text of some of them (numbers and codes
        masked once processed)."""
        ...

    def release_inbound(self, ids: Sequence[int], owner: str) -> None:
        """Give leased rows back at once (a failed batch), for another attempt."""
        ...

    def add_outbox(self, rows: Sequence[OutboxRow]) -> list[int]:
        """Append rows of the runtime's own (outage replies, expiry DMs) to the outbox; returns their ids."""
        ...

    def claim_outbox(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[OutboxItem]:
        """Lease up to ``limit`` pending rows that are due, by priority then age."""
        ...

    def finish_outbox(self, results: Sequence[OutboxResult], owner: str) -> None:
        """Record what happened to leased rows and drop their leases."""
        ...

    def held_refs(self, refs: Sequence[str], own_id: int) -> set[str]:
        """Which of ``refs`` (gateway ids) outbox rows other than ``own_id`` already hold."""
        ...

    def unsettled_sms(
        self, sent_after: datetime, sent_before: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        """``(id, provider_ref)`` of sent SMS rows without a final delivery status, sent between
        ``sent_after`` and ``sent_before``, with ids above ``after_id``, by id (to fetch their status
        from Twilio)."""
        ...

    def outbox_rows(self, statuses: Sequence[str], limit: int) -> list[dict[str, object]]:
        """Outbox rows in ``statuses``, newest first (id, kind, handle, status, attempts, last_error,
        created_at ISO); message texts are not included."""
        ...

    def requeue_outbox(self, ids: Sequence[int], now: datetime) -> int:
        """Put ``failed``/``expired`` rows back to ``pending`` (due now, validity counted from now);
        returns how many were requeued."""
        ...

    def oldest_pending(self) -> datetime | None:
        """When the oldest pending outbox row was written."""
        ...

    def record_delivery(
        self, provider_ref: str, status: str, error_code: str | None, at: datetime
    ) -> Delivery | None:
        """Store an SMS status callback; the SMS when its status moved forward (by
        :func:`delivery_rank`), ``None`` for a repeat, a late older status or an unknown sid.
        A change also adds a ``sms_status`` customer event to the timeline."""
        ...

    def cursor(self, name: str) -> str | None:
        """A polling cursor."""
        ...

    def set_cursor(self, name: str, value: str, at: datetime) -> None:
        """Persist a polling cursor."""
        ...

    def state(self, key: str) -> str | None:
        """A value of the service-wide state."""
        ...

    def set_state(self, key: str, value: str, at: datetime) -> None:
        """Persist a value of the service-wide state."""
        ...

    def states(self, prefix: str) -> dict[str, str]:
        """The service-wide state values whose keys start with ``prefix``."""
        ...

    def add_state(self, key: str, value: str, at: datetime) -> str:
        """Store ``value`` under ``key`` unless a value is there already; returns the stored value
        (so concurrent processes all end up with the first one)."""
        ...

    def count_hit(self, key: str, at: datetime) -> int:
        """Add one to the counter ``key`` (atomically, across processes); returns the new count."""
        ...

    def drop_states(self, prefix: str, before: datetime) -> int:
        """Delete the state values under ``prefix`` last updated before ``before``; how many went."""
        ...

    def depths(self, now: datetime) -> dict[str, int]:
        """Queue depths: ``inbound_pending``, ``outbox_pending``, ``outbox_due``."""
        ...

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows per status."""
        ...

    def ping(self) -> int:
        """The schema version (raises when the store is unreachable)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
