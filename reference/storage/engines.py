"""The database engines of the service: one (core store, work queue) pair per task that touches the database.

:class:`StoreFactory` implements :class:`reference.service.database.Database` and
:class:`DatabaseCalls` its ``DatabaseCalls``; the composition root (:mod:`reference.bootstrap`)
builds the factory, the runtime sees only the ports. The DSN picks the engine through the one
parser (:func:`reference.storage.dsn.parse_dsn`: ``memory://``, ``postgresql://...``, else a
SQLite path). Each :meth:`StoreFactory.connect` opens a new
connection; the core store and the work queue of a pair share it (a task uses them in turn).
With ``memory://`` every pair shares one in-process database.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, TypeVar

from reference.service.database import Connection, DbCallsMode, QueueVacuum, WriteGuard
from reference.storage.dsn import parse_dsn

__all__ = ["DatabaseCalls", "StoreFactory"]

T = TypeVar("T")
_FIRST_POLL_S = 0.0002
_LAST_POLL_S = 0.002


class _SqliteLock:
    """A thread lock plus, when ``path`` is given, an exclusive flock on that file (other processes).

    Re-entrant for the thread that holds it (the event loop takes it with :meth:`acquire_async`
    around work that takes it again with ``with``). :meth:`acquire_async` never blocks the loop.
    """

    def __init__(self, path: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return
        self._thread_lock.acquire()
        try:
            self._flock(blocking=True)
        except BaseException:
            self._thread_lock.release()
            raise
        self._owner, self._depth = me, 1

    def __exit__(self, *exc: object) -> None:
        self.release()

    async def acquire_async(self) -> None:
        """Take the lock for the calling (event loop) thread without blocking the loop.

        When a thread of this process or another process holds it, poll (0.2 ms, doubling up
        to 2 ms) instead of waiting in a thread: a thread that gets the flock must then wait
        for the GIL, holding the other processes off meanwhile (measured: p99 code latency
        with two processes 16-45 ms polling against 26-68 ms waiting in a thread).
        """
        delay = _FIRST_POLL_S
        while True:
            if self._thread_lock.acquire(blocking=False):
                try:
                    if self._flock(blocking=False):
                        self._owner, self._depth = threading.get_ident(), 1
                        return
                finally:
                    if self._owner is None:
                        self._thread_lock.release()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LAST_POLL_S)

    def release(self) -> None:
        """Undo one acquisition (the last one unlocks)."""
        self._depth -= 1
        if self._depth:
            return
        self._owner = None
        try:
            self._unflock()
        finally:
            self._thread_lock.release()

    def _flock(self, *, blocking: bool) -> bool:
        if self._path is None:
            return True
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unflock(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class StoreFactory:
    """Opens connections to the database ``dsn`` names."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        parsed = parse_dsn(dsn, strict=False)
        self.engine = parsed.kind
        self._path = parsed.path
        self._memory: object | None = None
        self.checkpoint_in_background = False
        # SQLite allows one writer at a time; connections that collide wait in SQLite's busy
        # handler, which sleeps in steps of up to 100 ms. A lock held around each unit of work makes
        # them queue instead and wake at once: a thread lock inside the process, an flock(2) on
        # ``<database>.lock`` between processes (``twittcom serve --processes N``).
        self._lock: _SqliteLock | None = None
        if self.engine == "sqlite":
            path = self._path
            self._lock = _SqliteLock(None if path == ":memory:" else f"{path}.lock")

    def guard(self) -> WriteGuard:
        """Hold this around each unit of database work (a no-op on PostgreSQL and memory)."""
        return self._lock if self._lock is not None else nullcontext()

    def calls(self, mode: DbCallsMode = "auto") -> DatabaseCalls:
        """How the service's tasks run database work on this engine (see :class:`DatabaseCalls`)."""
        inline = self.engine != "postgresql" if mode == "auto" else mode == "inline"
        return DatabaseCalls(self._lock, inline=inline)

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

        lite = SqliteStore(self._path)
        if self.checkpoint_in_background:
            # Checkpoints fsync the database: done on the request path they stall a commit for tens
            # of ms. The service runs them from a background task instead (see checkpoint()).
            lite.conn.execute("PRAGMA wal_autocheckpoint = 0")
        return Connection(lite, SqliteWorkQueue(lite))

    def queue_vacuum(self) -> QueueVacuum | None:
        """PostgreSQL: a VACUUM of the queue tables (dead tuples of leases and updates); SQLite
        reuses freed pages within the file and needs none, memory has nothing to vacuum."""
        if self.engine != "postgresql":
            return None
        from reference.storage.vacuum_postgres import PostgresQueueVacuum

        return PostgresQueueVacuum(self.dsn)

    def checkpoint(self, connection: Connection) -> None:
        """Copy the WAL into the database without blocking writers (SQLite only)."""
        if self.engine == "sqlite":
            from reference.storage.sqlite import SqliteStore

            assert isinstance(connection.store, SqliteStore)
            connection.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


class DatabaseCalls:
    """Runs a unit of synchronous database work for a task on the event loop.

    *Inline* (SQLite and memory by default): on the loop thread itself, under the write guard,
    which is taken without blocking the loop (:meth:`_SqliteLock.acquire_async`). A SQLite
    transaction in WAL mode with ``synchronous=NORMAL`` takes tens to hundreds of microseconds,
    less than handing it to a thread and back: a thread hop costs two wake-ups and a GIL
    hand-over on every unit, and the threads fight the loop for the GIL. Measured on the live
    stack (``benchmarks/test_live_stack.py``), inline calls cut the service's CPU per event by
    ~10% and halved code latency at p50.
    *Threads* (PostgreSQL by default): in a worker thread (``asyncio.to_thread``), since every
    statement is a network round trip. The work takes the guard itself (``with guard()``); inline
    it re-enters the guard the runner already holds.
    """

    def __init__(self, lock: _SqliteLock | None, *, inline: bool) -> None:
        self._lock = lock
        self.inline = inline
        self._turn: asyncio.Lock | None = None

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` inline under the guard, or in a thread."""
        if not self.inline:
            return await asyncio.to_thread(fn, *args)
        lock = self._lock
        if lock is None:
            return fn(*args)
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:  # the loop's tasks queue here, not in threads
            await lock.acquire_async()
            try:
                return fn(*args)
            finally:
                lock.release()
