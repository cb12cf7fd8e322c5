"""Connections shared between threads, and the group commit of inbound events.

:class:`LockedConnection` runs database work in a worker thread, one call at a time, under the
store's write guard (reads skip the guard). :class:`GroupCommitter` lets concurrent webhook
requests share one commit: each request waits for the commit that holds its events, so nothing
is acknowledged before it is durable, and a burst costs one transaction instead of one each.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from reference.runtime.stores import Connection
from reference.runtime.workqueue import NewEvent

__all__ = ["GroupCommitter", "LockedConnection"]

T = TypeVar("T")


class LockedConnection:
    """A connection used from several threads, one call at a time."""

    def __init__(self, connection: Connection, guard: Callable[[], AbstractContextManager[Any]]) -> None:
        self.connection = connection
        self.lock = threading.Lock()
        self.guard = guard

    async def call(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` (which may write) on the connection, in a thread, under the write guard."""

        def run() -> T:
            with self.lock, self.guard():
                return fn(self.connection)

        return await asyncio.to_thread(run)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only ``fn``: no write guard (SQLite WAL readers never wait for the writer)."""

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
