"""In-memory work queues over a :class:`~reference.storage.memory.MemoryDatabase` (tests, demos).

The outbox rows are the core's ``MemoryDatabase.outbox`` list (row id = position + 1); the
dispatcher's columns (status, lease, attempts, provider ref...) live in a side table kept on the
database object, so several :class:`MemoryWorkQueue` objects on one database share them. The
database lock serialises every method, as a transaction would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from reference.domain.commands import MessageKey
from reference.service.changes import EventRow, OutboxRow
from reference.service.work_queue import (
    COMMERCE_PRIORITY,
    FINAL_DELIVERY,
    Delivery,
    NewEvent,
    OutboxItem,
    OutboxResult,
    QueuedEvent,
    delivery_rank,
)
from reference.storage.memory import MemoryDatabase
from reference.storage.work_common import delivery_text

__all__ = ["MemoryWork", "MemoryWorkQueue"]


@dataclass(slots=True)
class _Inbound:
    event: NewEvent
    id: int
    lease_owner: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0
    done: bool = False


@dataclass(slots=True)
class _OutboxState:
    priority: int = COMMERCE_PRIORITY
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    provider_ref: str | None = None
    last_error: str | None = None
    delivery_status: str | None = None
    sent_at: datetime | None = None


@dataclass(slots=True)
class MemoryWork:
    """The runtime's tables of one memory database."""

    inbound: dict[MessageKey, _Inbound] = field(default_factory=dict)
    outbox: dict[int, _OutboxState] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    state_at: dict[str, datetime] = field(default_factory=dict)


def _work_of(db: MemoryDatabase) -> MemoryWork:
    work = getattr(db, "runtime_work", None)
    if work is None:
        work = MemoryWork()
        db.runtime_work = work  # type: ignore[attr-defined]
    return work


class MemoryWorkQueue:
    """Work queues on a memory database (a fresh one when none is given)."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.db = database if database is not None else MemoryDatabase()
        self.work = _work_of(self.db)

    def _outbox_state(self, outbox_id: int) -> _OutboxState:
        state = self.work.outbox.get(outbox_id)
        if state is None:
            state = self.work.outbox[outbox_id] = _OutboxState()
        return state

    # inbound --------------------------------------------------------------------------------
    def enqueue(self, events: Sequence[NewEvent]) -> int:
        new = 0
        with self.db.lock:
            inbound = self.work.inbound
            for event in events:
                key = (event.channel, event.message_id)
                if key not in inbound:
                    inbound[key] = _Inbound(event, len(inbound) + 1)
                    new += 1
        return new

    def claim_inbound(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[QueuedEvent]:
        claimed: list[QueuedEvent] = []
        with self.db.lock:
            for row in self.work.inbound.values():
                if len(claimed) >= limit:
                    break
                if row.done or (row.lease_until is not None and row.lease_until >= now):
                    continue
                row.lease_owner, row.lease_until = owner, now + timedelta(seconds=lease_s)
                row.attempts += 1
                claimed.append(QueuedEvent(row.id, row.event, row.attempts))
        return claimed

    def _rows(self, ids: Sequence[int], owner: str) -> list[_Inbound]:
        wanted = set(ids)
        return [r for r in self.work.inbound.values() if r.id in wanted and r.lease_owner == owner]

    def complete_inbound(
        self, ids: Sequence[int], owner: str, redacted: Mapping[int, str] | None = None
    ) -> None:
        with self.db.lock:
            for row in self._rows(ids, owner):
                row.done, row.lease_until = True, None
                if redacted and row.id in redacted:
                    row.event = replace(row.event, text=redacted[row.id])

    def release_inbound(self, ids: Sequence[int], owner: str) -> None:
        with self.db.lock:
            for row in self._rows(ids, owner):
                if not row.done:
                    row.lease_until = None

    # outbox ---------------------------------------------------------------------------------
    def add_outbox(self, rows: Sequence[OutboxRow]) -> list[int]:
        ids: list[int] = []
        with self.db.lock:
            for r in rows:
                self.db.outbox.append(r)
                ids.append(len(self.db.outbox))
                self._outbox_state(ids[-1]).priority = r.priority
        return ids

    def claim_outbox(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[OutboxItem]:
        candidates: list[tuple[int, int, OutboxRow, _OutboxState]] = []
        with self.db.lock:
            for index, row in enumerate(self.db.outbox):
                state = self._outbox_state(index + 1)
                if state.status != "pending":
                    continue
                if state.next_attempt_at is not None and state.next_attempt_at > now:
                    continue
                if state.lease_until is not None and state.lease_until >= now:
                    continue
                candidates.append((state.priority, index + 1, row, state))
            candidates.sort(key=lambda c: (c[0], c[1]))
            items: list[OutboxItem] = []
            for priority, outbox_id, row, state in candidates[:limit]:
                state.lease_owner, state.lease_until = owner, now + timedelta(seconds=lease_s)
                state.attempts += 1
                items.append(OutboxItem(outbox_id, row._replace(priority=priority), state.attempts))
        return items

    def finish_outbox(self, results: Sequence[OutboxResult], owner: str) -> None:
        with self.db.lock:
            for r in results:
                state = self._outbox_state(r.id)
                if state.lease_owner != owner:
                    continue
                state.status, state.last_error = r.status, r.last_error
                state.provider_ref = r.provider_ref or state.provider_ref
                state.next_attempt_at = r.next_attempt_at
                state.sent_at = r.sent_at or state.sent_at
                state.lease_owner = state.lease_until = None
                row = self.db.outbox[r.id - 1]
                if r.status != "pending" and row.shown is not None:
                    self.db.outbox[r.id - 1] = row._replace(text=row.shown)

    def record_delivery(
        self, provider_ref: str, status: str, error_code: str | None, at: datetime
    ) -> Delivery | None:
        with self.db.lock:
            for outbox_id, state in self.work.outbox.items():
                row = self.db.outbox[outbox_id - 1]
                if state.provider_ref != provider_ref or row.kind != "sms":
                    continue
                old = state.delivery_status
                if old is not None and delivery_rank(old) >= delivery_rank(status):
                    return None
                state.delivery_status = status
                text = delivery_text(status, provider_ref, error_code)
                self.db.events.append(
                    EventRow(at, row.user_id, row.handle, row.recipient, "sms_status", text)
                )
                return Delivery(outbox_id, row.user_id, row.handle, row.recipient, row.created_at,
                                row.shown is not None)  # fmt: skip
        return None

    def held_refs(self, refs: Sequence[str], own_id: int) -> set[str]:
        wanted = set(refs)
        with self.db.lock:
            return {
                s.provider_ref for i, s in self.work.outbox.items()
                if i != own_id and s.provider_ref is not None and s.provider_ref in wanted
            }  # fmt: skip

    def unsettled_sms(
        self, sent_after: datetime, sent_before: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        with self.db.lock:
            for outbox_id in sorted(i for i in self.work.outbox if i > after_id):
                state = self.work.outbox[outbox_id]
                if (
                    self.db.outbox[outbox_id - 1].kind == "sms" and state.status == "sent"
                    and state.provider_ref is not None and state.sent_at is not None
                    and sent_after < state.sent_at < sent_before
                    and state.delivery_status not in FINAL_DELIVERY
                ):  # fmt: skip
                    found.append((outbox_id, state.provider_ref))
                    if len(found) >= limit:
                        break
        return found

    def outbox_rows(self, statuses: Sequence[str], limit: int) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        with self.db.lock:
            for outbox_id in sorted(self.work.outbox, reverse=True):
                state = self.work.outbox[outbox_id]
                if state.status not in statuses:
                    continue
                row = self.db.outbox[outbox_id - 1]
                rows.append({
                    "id": outbox_id, "kind": row.kind, "handle": row.handle, "status": state.status,
                    "attempts": state.attempts, "last_error": state.last_error,
                    "created_at": row.created_at.isoformat(), "provider_ref": state.provider_ref,
                    "delivery_status": state.delivery_status,
                })  # fmt: skip
                if len(rows) >= limit:
                    break
        return rows

    def requeue_outbox(self, ids: Sequence[int], now: datetime) -> int:
        count = 0
        with self.db.lock:
            for outbox_id in ids:
                state = self.work.outbox.get(outbox_id)
                row = self.db.outbox[outbox_id - 1] if state is not None else None
                if state is None or row is None or state.status not in ("failed", "expired") or row.shown:
                    continue
                state.status, state.attempts, state.next_attempt_at = "pending", 0, now
                state.lease_owner = state.lease_until = None
                self.db.outbox[outbox_id - 1] = row._replace(created_at=now)
                count += 1
        return count

    def oldest_pending(self) -> datetime | None:
        with self.db.lock:
            outbox = enumerate(self.db.outbox, 1)
            times = [row.created_at for i, row in outbox if self._outbox_state(i).status == "pending"]
        return min(times, default=None)

    # cursors and state ----------------------------------------------------------------------
    def cursor(self, name: str) -> str | None:
        return self.work.cursors.get(name)

    def set_cursor(self, name: str, value: str, at: datetime) -> None:
        self.work.cursors[name] = value

    def state(self, key: str) -> str | None:
        return self.work.state.get(key)

    def set_state(self, key: str, value: str, at: datetime) -> None:
        with self.db.lock:
            self.work.state[key] = value
            self.work.state_at[key] = at

    def states(self, prefix: str) -> dict[str, str]:
        with self.db.lock:
            return {k: v for k, v in sorted(self.work.state.items()) if k.startswith(prefix)}

    def add_state(self, key: str, value: str, at: datetime) -> str:
        with self.db.lock:
            if key not in self.work.state:
                self.work.state[key] = value
                self.work.state_at[key] = at
            return self.work.state[key]

    def count_hit(self, key: str, at: datetime) -> int:
        with self.db.lock:
            count = int(self.work.state.get(key, "0")) + 1
            self.work.state[key] = str(count)
            self.work.state_at[key] = at
            return count

    def drop_states(self, prefix: str, before: datetime) -> int:
        with self.db.lock:
            old = [k for k, at in self.work.state_at.items() if k.startswith(prefix) and at < before]
            for key in old:
                del self.work.state[key], self.work.state_at[key]
            return len(old)

    def depths(self, now: datetime) -> dict[str, int]:
        with self.db.lock:
            inbound = sum(1 for r in self.work.inbound.values() if not r.done)
            states = [self._outbox_state(i + 1) for i in range(len(self.db.outbox))]
        pending = [s for s in states if s.status == "pending"]
        due = [s for s in pending if s.next_attempt_at is None or s.next_attempt_at <= now]
        return {"inbound_pending": inbound, "outbox_pending": len(pending), "outbox_due": len(due)}

    def outbox_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.db.lock:
            for i in range(len(self.db.outbox)):
                status = self._outbox_state(i + 1).status
                counts[status] = counts.get(status, 0) + 1
        return counts

    def ping(self) -> int:
        return 2

    def close(self) -> None:
        """Nothing to release."""
