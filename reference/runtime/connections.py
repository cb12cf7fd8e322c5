"""Connections shared between threads, and the group commit of inbound events.

:class:`LockedConnection` runs database work one call at a time under the store's write guard,
inline on the loop or in a thread as the service's :class:`~reference.runtime.stores.DatabaseCalls`
say (reads skip the guard and run in a thread). :class:`GroupCommitter` lets concurrent webhook
requests share one commit: each request waits for the commit that holds its events, so nothing
is acknowledged before it is durable, and a burst costs one transaction instead of one each.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from reference.runtime.stores import Connection, DatabaseCalls
from reference.runtime.workqueue import NewEvent

__all__ = ["GroupCommitter", "LockedConnection"]

T = TypeVar("T")


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
        self.calls = calls if calls is not None else DatabaseCalls(None, inline=False)

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


class GroupCommitter:
    """Commits the events of concurrent callers together; ``committed`` runs after each commit."""

    def __init__(self, connection: LockedConnection, committed: Callable[[], None]) -> None:
        self.connection = connection
        self.committed = committed
        self._pending: list[tuple[list[NewEvent], asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, events: list[NewEvent]) -> int:
        """Persist ``events``; returns how many were new, once they are committed."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((events, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                group, self._pending = self._pending, []
                events = [event for batch, _ in group for event in batch]
                try:
                    new = await self.connection.call(lambda c, rows=events: c.queue.enqueue(rows))  # type: ignore[misc]
                except Exception as exc:
                    for _, future in group:
                        future.set_exception(exc)
                    continue
                # Attribute the new rows to callers in order (exact when a group has one caller).
                for batch, future in group:
                    share = min(new, len(batch))
                    new -= share
                    future.set_result(share)
                self.committed()
        finally:
            self._flusher = None
