"""Connections of the service: one (core store, work queue) pair per task that touches the database.

The DSN picks the engine exactly as :func:`reference.bootstrap.open_store` does (``memory://``,
``postgresql://...``, else a SQLite path). Each :meth:`StoreFactory.connect` opens a new
connection; the core store and the work queue of a pair share it (a task uses them in turn).
With ``memory://`` every pair shares one in-process database.
"""

from __future__ import annotations

import fcntl
import os
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


class _SqliteLock:
    """A thread lock plus, when ``path`` is given, an exclusive flock on that file (other processes)."""

    def __init__(self, path: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._path is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


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
        self.checkpoint_in_background = False
        # SQLite allows one writer at a time; connections that collide wait in SQLite's busy
        # handler, which sleeps in steps of up to 100 ms. A lock held around each unit of work makes
        # them queue instead and wake at once: a thread lock inside the process, an flock(2) on
        # ``<database>.lock`` between processes (``twittcom serve --processes N``).
        self._lock: _SqliteLock | None = None
        if self.engine == "sqlite":
            path = self.dsn.removeprefix("sqlite:///") if self.dsn.startswith("sqlite:///") else self.dsn
            self._lock = _SqliteLock(None if path == ":memory:" else f"{path}.lock")

    def guard(self) -> WriteGuard:
        """Hold this around each unit of database work (a no-op on PostgreSQL and memory)."""
        return self._lock if self._lock is not None else nullcontext()

    def close(self) -> None:
        """Release the lock file."""
        if self._lock is not None:
            self._lock.close()

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
        if self.checkpoint_in_background:
            # Checkpoints fsync the database: done on the request path they stall a commit for tens
            # of ms. The service runs them from a background task instead (see checkpoint()).
            lite.conn.execute("PRAGMA wal_autocheckpoint = 0")
        return Connection(lite, SqliteWorkQueue(lite))

    def checkpoint(self, connection: Connection) -> None:
        """Copy the WAL into the database without blocking writers (SQLite only)."""
        if self.engine == "sqlite":
            from reference.storage.sqlite import SqliteStore

            assert isinstance(connection.store, SqliteStore)
            connection.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
