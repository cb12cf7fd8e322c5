"""Row conversion shared by the SQL adapters: change-set dataclasses -> parameter tuples."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from reference.domain.commands import Inbound
from reference.domain.otp import PendingCode
from reference.domain.redaction import redact_text
from reference.domain.subscribers import Binding, Subscriber
from reference.service.changes import ActivationRow, ChangeSet, EventRow, OutboxRow
from reference.storage.timeconv import from_micros, to_micros

__all__ = [
    "MicrosCache",
    "aggregate_debits",
    "binding_from_row",
    "code_from_row",
    "code_params",
    "subscriber_from_row",
    "timeline_entry",
]


class MicrosCache:
    """Converts datetimes to micros, remembering the last one (most rows of a batch share it)."""

    __slots__ = ("_last", "_last_us")

    def __init__(self) -> None:
        self._last: datetime | None = None
        self._last_us = 0

    def __call__(self, moment: datetime) -> int:
        if moment is self._last:
            return self._last_us
        self._last, self._last_us = moment, to_micros(moment)
        return self._last_us

    def activations(self, rows: Iterable[ActivationRow]) -> list[tuple[Any, ...]]:
        return [
            (r.msisdn, r.user_id, r.pack_id, r.pack_name, r.hashtag, r.circle, r.price_paise, r.balance_after,
             r.channel, r.message_id, self(r.activated_at), r.valid_until.isoformat())
            for r in rows
        ]  # fmt: skip

    def outbox(self, rows: Iterable[OutboxRow]) -> list[tuple[Any, ...]]:
        return [
            (self(r.created_at), r.kind, r.user_id, r.handle, r.recipient, r.in_reply_to, r.text, r.shown)
            for r in rows
        ]

    def events(self, rows: Iterable[EventRow]) -> list[tuple[Any, ...]]:
        return [(self(r.at), r.user_id, r.handle, r.msisdn, r.kind, r.text) for r in rows]

    def inbox(self, messages: Iterable[Inbound], processed_at: datetime) -> list[tuple[Any, ...]]:
        done = self(processed_at)
        return [
            (m.channel, m.message_id, m.author_id, m.handle, redact_text(m.text), self(m.received_at), done)
            for m in messages
        ]

    def bindings(self, changes: ChangeSet) -> list[tuple[Any, ...]]:
        return [(b.user_id, b.handle, b.msisdn, self(b.bound_at)) for b in changes.bindings.values()]

    def sends(self, changes: ChangeSet) -> list[tuple[Any, ...]]:
        return [(msisdn, self(at)) for msisdn, at in changes.sends]


def aggregate_debits(debits: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Total paise per number (a batch may debit one number several times)."""
    totals: dict[str, int] = {}
    for msisdn, amount in debits:
        totals[msisdn] = totals.get(msisdn, 0) + amount
    return totals


def code_params(code: PendingCode) -> tuple[Any, ...]:
    return (
        code.user_id,
        code.handle,
        code.msisdn,
        code.code_hash,
        to_micros(code.issued_at),
        to_micros(code.expires_at),
        code.attempts,
        code.state,
    )


def code_from_row(row: tuple[Any, ...]) -> PendingCode:
    user_id, handle, msisdn, code_hash, issued, expires, attempts, state = row
    return PendingCode(
        user_id, handle, msisdn, code_hash, from_micros(issued), from_micros(expires), attempts, state
    )


def binding_from_row(row: tuple[Any, ...]) -> Binding:
    return Binding(row[0], row[1], row[2], from_micros(row[3]))


def subscriber_from_row(row: tuple[Any, ...]) -> Subscriber:
    return Subscriber(row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5])


def timeline_entry(row: tuple[Any, ...]) -> dict[str, Any]:
    """A timeline row (at, user_id, handle, msisdn, kind, text, amount, ref) as a JSON-ready dict."""
    at, user_id, handle, msisdn, kind, text, amount, ref = row
    return {
        "at": from_micros(at).isoformat(),
        "user_id": user_id,
        "handle": handle,
        "msisdn": msisdn,
        "kind": kind,
        "text": text,
        "amount_paise": amount,
        "ref": ref,
    }
