"""Connections shared between threads, and group commits.

:class:`LockedConnection` runs database work one call at a time under the store's write guard,
inline on the loop or in a thread as the service's :class:`~reference.service.database.DatabaseCalls`
say (reads skip the guard and run in a thread). :class:`GroupCommit` lets concurrent callers share
one commit: each waits for the commit that holds its items, so nothing is acknowledged before it
is durable, and a burst costs one transaction instead of one each. :class:`GroupCommitter` is the
one for webhook requests queueing events; the outbox dispatcher records send results with one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from reference.service.database import Connection, Database, DatabaseCalls
from reference.service.work_queue import NewEvent

__all__ = ["GroupCommit", "GroupCommitter", "LockedConnection"]

T = TypeVar("T")
R = TypeVar("R")


class _InThreads:
    """Database work in a worker thread (the default :class:`DatabaseCalls` of a locked connection)."""

    inline = False

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)


class LockedConnection:
    """A connection used from several threads, one call at a time."""

    def __init__(
        self,
        connection: Connection,
        guard: Callable[[], AbstractContextManager[Any]],
        calls: DatabaseCalls | None = None,
    ) -> None:
        self.connection = connection
        self.lock = threading.Lock()
        self.guard = guard
        self.calls: DatabaseCalls = calls if calls is not None else _InThreads()

    async def call(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` (which may write) on the connection under the write guard (inline or in a
        thread, as :attr:`calls` says)."""

        def run() -> T:
            with self.lock, self.guard():
                return fn(self.connection)

        return await self.calls.run(run)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only ``fn`` in a thread, without the write guard (SQLite WAL readers never
        wait for the writer; admin scans may be long, so they stay off the loop)."""

        def run() -> T:
            with self.lock:
                return fn(self.connection)

        return await asyncio.to_thread(run)


class GroupCommit(Generic[T, R]):
    """Runs the submissions of concurrent callers in one commit.

    Each caller waits for the commit that holds its items; submissions that arrive while a commit
    runs go together into the next one. ``commit`` takes the submissions (one list per caller)
    and returns one result per caller; ``committed`` runs after each successful commit. When a
    shared commit fails, each caller's items are committed again on their own, so one caller's bad
    item fails that caller alone, never the others in its group.
    """

    def __init__(
        self,
        commit: Callable[[list[list[T]]], Awaitable[list[R]]],
        committed: Callable[[], None] | None = None,
    ) -> None:
        self._commit = commit
        self._committed = committed
        self._pending: list[tuple[list[T], asyncio.Future[R]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, items: list[T]) -> R:
        """Commit ``items`` with whatever else is pending; returns this caller's result."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                group, self._pending = self._pending, []
                try:
                    results = await self._commit([items for items, _ in group])
                except Exception as exc:
                    if len(group) == 1:
                        group[0][1].set_exception(exc)
                    else:
                        await self._one_by_one(group)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    future.set_result(result)
                if self._committed is not None:
                    self._committed()
        finally:
            self._flusher = None

    async def _one_by_one(self, group: list[tuple[list[T], asyncio.Future[R]]]) -> None:
        """Commit each caller of a failed group alone: only the callers whose own items fail see
        the error."""
        done = False
        for items, future in group:
            try:
                result = (await self._commit([items]))[0]
            except Exception as exc:
                future.set_exception(exc)
                continue
            future.set_result(result)
            done = True
        if done and self._committed is not None:
            self._committed()


class GroupCommitter(GroupCommit[NewEvent, int]):
    """Commits the events of concurrent webhook requests together; each learns how many of its
    events were new. ``committed`` runs after each commit."""

    def __init__(self, connection: LockedConnection, committed: Callable[[], None]) -> None:
        super().__init__(self._enqueue, committed)
        self.connection = connection

    async def _enqueue(self, batches: list[list[NewEvent]]) -> list[int]:
        rows = [event for batch in batches for event in batch]
        new = await self.connection.call(lambda c: c.queue.enqueue(rows))
        shares = []
        for batch in batches:  # attribute the new rows to callers in order (exact for one caller)
            share = min(new, len(batch))
            new -= share
            shares.append(share)
        return shares


class ConnectionPool:
    """The connections one service run opens: each task that touches the database gets its own,
    except the hot-path tasks under inline database calls, which share one.

    With inline calls the tasks take turns on the loop, so sharing costs nothing and keeps the page
    cache warm (SQLite drops a connection's whole cache whenever another connection has committed
    since its last transaction). In threads each gets its own.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._connections: list[Connection] = []
        self._hot: Connection | None = None

    async def open(self) -> Connection:
        """A new connection of the service's own."""
        connection = await asyncio.to_thread(self.database.connect)
        self._connections.append(connection)
        return connection

    async def hot(self, calls: DatabaseCalls) -> Connection:
        """The connection of a hot-path task (ingest, a worker, the dispatcher)."""
        if not calls.inline:
            return await self.open()
        if self._hot is None:
            self._hot = await self.open()
        return self._hot

    async def close(self, shared: list[LockedConnection]) -> None:
        """Close every connection; those HTTP requests share (``shared``) under their lock, so a
        request still running in a thread (a late status callback) never sees it vanish."""
        locks = {id(c.connection): c.lock for c in shared}
        for connection in self._connections:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(_close_under, connection, locks.get(id(connection)))
        self._connections.clear()
        self._hot = None


def _close_under(connection: Connection, lock: threading.Lock | None) -> None:
    """Close ``connection``, holding ``lock`` (when given) so no other thread is using it."""
    if lock is None:
        connection.close()
        return
    with lock:
        connection.close()
