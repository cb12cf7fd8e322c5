"""Connections of the service: one (core store, work queue) pair per task that touches the database.

The DSN picks the engine exactly as :func:`reference.bootstrap.open_store` does (``memory://``,
``postgresql://...``, else a SQLite path). Each :meth:`StoreFactory.connect` opens a new
connection; the core store and the work queue of a pair share it (a task uses them in turn).
With ``memory://`` every pair shares one in-process database.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from reference.bootstrap import Store
from reference.runtime.workqueue import WorkQueue

__all__ = ["Connection", "StoreFactory", "WriteGuard"]

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


class StoreFactory:
    """Opens connections to the database ``dsn`` names."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.engine = (
            "postgresql"
            if dsn.startswith(("postgresql://", "postgres://"))
            else "memory"
            if dsn == "memory://"
            else "sqlite"
        )
        self._memory: object | None = None
        # SQLite allows one writer at a time; connections of one process that collide wait in
        # SQLite's busy handler, which sleeps in steps of up to 100 ms. A process-wide lock makes
        # them queue in Python instead and wake at once. (Other processes still meet the busy handler.)
        self._lock = threading.Lock() if self.engine == "sqlite" else None

    def guard(self) -> WriteGuard:
        """Hold this around each unit of database work (a no-op on PostgreSQL and memory)."""
        return self._lock if self._lock is not None else nullcontext()

    def connect(self) -> Connection:
        """A new connection (migrations are applied on the first one)."""
        if self.engine == "postgresql":
            from reference.storage.postgres import PostgresStore
            from reference.storage.work_postgres import PostgresWorkQueue

            pg = PostgresStore(self.dsn)
            return Connection(pg, PostgresWorkQueue(pg))
        if self.engine == "memory":
            from reference.storage.memory import MemoryDatabase, MemoryStore
            from reference.storage.work_memory import MemoryWorkQueue

            if self._memory is None:
                self._memory = MemoryDatabase()
            assert isinstance(self._memory, MemoryDatabase)
            return Connection(MemoryStore(self._memory), MemoryWorkQueue(self._memory))
        from reference.storage.sqlite import SqliteStore
        from reference.storage.work_sqlite import SqliteWorkQueue

        path = self.dsn.removeprefix("sqlite:///") if self.dsn.startswith("sqlite:///") else self.dsn
        lite = SqliteStore(path)
        return Connection(lite, SqliteWorkQueue(lite))
