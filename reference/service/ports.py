"""Ports of the service layer: the unit of work a store offers, the clock, read-side queries.

A store is used by one worker at a time (one connection). A batch runs as::

    uow.begin()                      # SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN
    new = uow.claim(keys, now)       # inbox insert; keys already processed are not returned
    snap = uow.load(...)             # rows the batch needs (PostgreSQL locks subscribers)
    ...handlers stage changes in memory...
    uow.apply(changes)               # bulk writes, conditional debits
    uow.commit()                     # or rollback() on any error
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from reference.domain.commands import Inbound, MessageKey
from reference.domain.subscribers import Subscriber
from reference.service.changes import ChangeSet, Snapshot

__all__ = ["Clock", "Queries", "Store", "SystemClock", "UnitOfWork"]


class Clock(Protocol):
    """Where "now" comes from (timezone-aware UTC)."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class UnitOfWork(Protocol):
    """The write side of a store: one transaction at a time."""

    def begin(self) -> None:
        """Start a transaction that will hold the write lock the engine needs."""
        ...

    def claim(self, messages: Sequence[Inbound], at: datetime) -> set[MessageKey]:
        """Record ``messages`` (distinct keys) in the inbox as processed at ``at``; return the keys
        that were not there before. The inbox row keeps the message for the customer timeline."""
        ...

    def load(
        self,
        user_ids: Collection[str],
        msisdns: Collection[str],
        *,
        with_codes: bool,
        sends_since: datetime | None,
    ) -> Snapshot:
        """Bindings of ``user_ids``; pending codes of ``user_ids`` when ``with_codes``; bindings and
        subscribers of ``msisdns``, of the codes' numbers and of the numbers bound to ``user_ids``;
        code sends to ``msisdns`` after ``sends_since`` when given."""
        ...

    def apply(self, changes: ChangeSet) -> None:
        """Write ``changes``; raises when a conditional debit does not hold."""
        ...

    def commit(self) -> None:
        """Commit the transaction."""
        ...

    def rollback(self) -> None:
        """Roll the transaction back (no error when none is open)."""
        ...


class Queries(Protocol):
    """Read side and administration of a store (not on the hot path)."""

    def add_subscribers(self, subscribers: Iterable[Subscriber]) -> None:
        """Insert or replace directory entries."""
        ...

    def subscriber(self, msisdn: str) -> Subscriber | None:
        """One directory entry."""
        ...

    def binding_of_handle(self, handle: str) -> tuple[str, str] | None:
        """(user id, number) bound to the latest user with ``handle``."""
        ...

    def timeline(self, *, user_id: str | None = None, handle: str | None = None) -> list[dict[str, Any]]:
        """Timeline entries of a user (by id, or by any handle it used), oldest first."""
        ...

    def totals(self) -> dict[str, int]:
        """Counts and sums for audits: balances, activations, debits, outbox rows, inbox rows."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Store(UnitOfWork, Queries, Protocol):
    """A storage adapter: unit of work plus queries (what every adapter implements)."""
