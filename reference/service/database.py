"""The database port of the service: connections (core store + work queue) and how to run work on them.

The composition root picks the engine (:class:`reference.storage.engines.StoreFactory` implements
:class:`Database`); the runtime only sees these protocols.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from reference.service.ports import Store
from reference.service.work_queue import WorkQueue

__all__ = ["Connection", "Database", "DatabaseCalls", "DbCallsMode", "QueueVacuum", "WriteGuard"]

T = TypeVar("T")
#: where the service runs database work: "auto" = inline for SQLite and memory, threads for PostgreSQL
DbCallsMode = Literal["auto", "inline", "threads"]
#: what serialises database work inside one process (a lock on SQLite, nothing on PostgreSQL)
WriteGuard = AbstractContextManager[Any]


@dataclass(frozen=True, slots=True)
class Connection:
    """A core store and a work queue on one database connection."""

    store: Store
    queue: WorkQueue

    def close(self) -> None:
        """Close the connection (the queue is a view on the store's connection)."""
        self.store.close()


class DatabaseCalls(Protocol):
    """Runs a unit of synchronous database work for a task on the event loop (inline or in a thread)."""

    inline: bool

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` inline under the write guard, or in a thread."""
        ...


class QueueVacuum(Protocol):
    """VACUUMs the work-queue tables (PostgreSQL), on a connection of its own."""

    tables: tuple[str, ...]

    def vacuum(self) -> bool:
        """One round (blocking): True if this process vacuumed, False if another one has the duty;
        raises :class:`~reference.domain.errors.StorageError` when the round failed."""
        ...

    def close(self) -> None:
        """Close its connection."""
        ...


class Database(Protocol):
    """The database a DSN names: opens connections, serialises writers, checkpoints."""

    engine: str  # postgresql | sqlite | memory
    checkpoint_in_background: bool

    def guard(self) -> WriteGuard:
        """Hold this around each unit of database work."""
        ...

    def calls(self, mode: DbCallsMode = "auto") -> DatabaseCalls:
        """How the service's tasks run database work on this engine."""
        ...

    def connect(self) -> Connection:
        """A new connection (migrations are applied on the first one)."""
        ...

    def checkpoint(self, connection: Connection) -> None:
        """Copy the write-ahead log into the database (a no-op but on SQLite)."""
        ...

    def queue_vacuum(self) -> QueueVacuum | None:
        """A vacuum of the work-queue tables, or None when the engine needs none."""
        ...

    def close(self) -> None:
        """Release what the factory holds (lock files)."""
        ...
