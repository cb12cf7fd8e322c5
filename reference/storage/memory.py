"""In-memory store: the unit-of-work and query ports over plain dicts (for unit tests and demos).

:class:`MemoryDatabase` holds the data; each :class:`MemoryStore` is one "connection" to it. A lock
held from ``begin`` to ``commit``/``rollback`` serialises transactions, and changes become visible
only at commit, so several stores on one database behave like concurrent workers.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from reference.domain.commands import Inbound, MessageKey
from reference.domain.errors import StorageError
from reference.domain.otp import PendingCode
from reference.domain.redaction import redact_text
from reference.domain.subscribers import Binding, Subscriber
from reference.service.changes import ActivationRow, ChangeSet, EventRow, OutboxRow, Snapshot
from reference.storage.rows import aggregate_debits, timeline_entry
from reference.storage.timeconv import to_micros

__all__ = ["MemoryDatabase", "MemoryStore"]


class MemoryDatabase:
    """The shared data of in-memory stores."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.subscribers: dict[str, Subscriber] = {}
        self.bindings: dict[str, Binding] = {}  # by user id
        self.codes: dict[str, PendingCode] = {}
        self.sends: list[tuple[str, datetime]] = []
        self.inbox: dict[MessageKey, Inbound] = {}
        self.activations: list[ActivationRow] = []
        self.outbox: list[OutboxRow] = []
        self.events: list[EventRow] = []


class MemoryStore:
    """One connection to a :class:`MemoryDatabase`."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.db = database if database is not None else MemoryDatabase()
        self._claims: dict[MessageKey, Inbound] = {}
        self._pending: ChangeSet | None = None
        self._open = False

    # unit of work --------------------------------------------------------------------------
    def begin(self) -> None:
        if self._open:
            raise StorageError("transaction already open")
        self.db.lock.acquire()
        self._open = True
        self._claims = {}
        self._pending = None

    def claim(self, messages: Sequence[Inbound], at: datetime) -> set[MessageKey]:
        new = {m.key: m for m in messages if m.key not in self.db.inbox and m.key not in self._claims}
        self._claims.update(new)
        return set(new)

    def load(
        self,
        user_ids: Collection[str],
        msisdns: Collection[str],
        *,
        with_codes: bool,
        sends_since: datetime | None,
    ) -> Snapshot:
        db = self.db
        snap = Snapshot()
        for user_id in user_ids:
            binding = db.bindings.get(user_id)
            if binding is not None:
                snap.bindings_by_user[user_id] = binding
                snap.bindings_by_msisdn[binding.msisdn] = binding
        wanted = set(msisdns)
        if with_codes:
            snap.codes = {u: db.codes[u] for u in user_ids if u in db.codes}
            wanted.update(code.msisdn for code in snap.codes.values())
        if wanted:
            for binding in db.bindings.values():
                if binding.msisdn in wanted:
                    snap.bindings_by_user[binding.user_id] = binding
                    snap.bindings_by_msisdn[binding.msisdn] = binding
        for msisdn in wanted | set(snap.bindings_by_msisdn):
            subscriber = db.subscribers.get(msisdn)
            if subscriber is not None:
                snap.subscribers[msisdn] = replace(subscriber)
        if sends_since is not None:
            for msisdn, at in db.sends:
                if msisdn in wanted and at > sends_since:
                    snap.recent_sends.setdefault(msisdn, []).append(at)
        return snap

    def apply(self, changes: ChangeSet) -> None:
        for msisdn, total in aggregate_debits(changes.debits).items():
            subscriber = self.db.subscribers.get(msisdn)
            if subscriber is None or subscriber.balance_paise < total:
                raise StorageError(f"conditional debit of {total} paise on {msisdn} does not hold")
        self._pending = changes

    def commit(self) -> None:
        if not self._open:
            raise StorageError("no transaction open")
        db, changes = self.db, self._pending
        # the inbox keeps texts with numbers and codes masked (processing had them in clear)
        db.inbox.update({k: replace(m, text=redact_text(m.text)) for k, m in self._claims.items()})
        if changes is not None:
            for msisdn, total in aggregate_debits(changes.debits).items():
                current = db.subscribers[msisdn]
                db.subscribers[msisdn] = replace(current, balance_paise=current.balance_paise - total)
            for user_id in changes.unbound_users:
                db.bindings.pop(user_id, None)
            if changes.unbound_msisdns:
                for user_id, binding in list(db.bindings.items()):
                    if binding.msisdn in changes.unbound_msisdns:
                        del db.bindings[user_id]
            db.bindings.update(changes.bindings)
            db.codes.update(changes.codes)
            db.sends.extend(changes.sends)
            db.activations.extend(changes.activations)
            db.outbox.extend(changes.outbox)
            db.events.extend(changes.events)
        self._end()

    def rollback(self) -> None:
        if self._open:
            self._end()

    def _end(self) -> None:
        self._claims = {}
        self._pending = None
        self._open = False
        self.db.lock.release()

    # queries -------------------------------------------------------------------------------
    def add_subscribers(self, subscribers: Iterable[Subscriber]) -> None:
        with self.db.lock:
            for subscriber in subscribers:
                self.db.subscribers[subscriber.msisdn] = replace(subscriber)

    def subscriber(self, msisdn: str) -> Subscriber | None:
        found = self.db.subscribers.get(msisdn)
        return replace(found) if found is not None else None

    def binding_of_handle(self, handle: str) -> tuple[str, str] | None:
        wanted = handle.lstrip("@").casefold()
        for binding in self.db.bindings.values():
            if binding.handle.casefold() == wanted:
                return (binding.user_id, binding.msisdn)
        return None

    def timeline(self, *, user_id: str | None = None, handle: str | None = None) -> list[dict[str, Any]]:
        db = self.db
        if user_id is not None:
            users = {user_id}
        else:
            wanted = (handle or "").lstrip("@").casefold()
            users = {m.author_id for m in db.inbox.values() if m.handle.casefold() == wanted}
        rows: list[tuple[Any, ...]] = []
        for m in db.inbox.values():
            if m.author_id in users:
                row: tuple[Any, ...] = (
                    m.author_id,
                    m.handle,
                    None,
                    f"{m.channel}_in",
                    m.text,
                    None,
                    m.message_id,
                )
                rows.append((to_micros(m.received_at), 0, 0, row))
        for i, a in enumerate(db.activations):
            if a.user_id in users:
                row = (a.user_id, None, a.msisdn, "debit", a.pack_name, -a.price_paise, a.message_id)
                rows.append((to_micros(a.activated_at), 1, i, row))
        for i, e in enumerate(db.events):
            if e.user_id in users:
                rows.append(
                    (to_micros(e.at), 2, i, (e.user_id, e.handle, e.msisdn, e.kind, e.text, None, None))
                )
        for i, o in enumerate(db.outbox):
            if o.user_id in users:
                msisdn = o.recipient if o.kind == "sms" else None
                row = (o.user_id, o.handle, msisdn, f"{o.kind}_out", o.shown or o.text, None, o.in_reply_to)
                rows.append((to_micros(o.created_at), 3, i, row))
        rows.sort(key=lambda r: r[:3])
        return [timeline_entry((r[0], *r[3])) for r in rows]

    def totals(self) -> dict[str, int]:
        db = self.db
        return {
            "balance_paise": sum(s.balance_paise for s in db.subscribers.values()),
            "activations": len(db.activations),
            "activation_paise": sum(a.price_paise for a in db.activations),
            "outbox": len(db.outbox),
            "inbox": len(db.inbox),
            "bindings": len(db.bindings),
        }

    def close(self) -> None:
        self.rollback()
