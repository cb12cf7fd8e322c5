"""Polling ingestion: mentions (``since_id`` cursor) and DM events (newest id seen), into the queue.

Each round follows ``next_token`` to the last page, persists the new events (commit), and only
then advances the cursor, so a crash between the two re-reads a page whose events then collapse
on the queue's unique key. A round asks for the cursor's own mention too: X's mentions timeline
holds only its 800 newest, and pages that end without reaching the cursor mean the mentions
between were pushed out (more than 800 since the last round, or posted while this one paged back);
the round reads those from recent search before the cursor moves past them. A 429 sleeps until
``x-rate-limit-reset`` (counted as a rate-limit wait) and the round resumes from the persisted
cursor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from reference.clients.errors import XRateLimited
from reference.clients.x_api import XApiClient
from reference.clients.x_models import Tweet
from reference.runtime.ingest import Operator, events_from_dm_events, events_from_mentions
from reference.runtime.metrics import ServiceMetrics
from reference.service.work_queue import NewEvent, WorkQueue

__all__ = ["DM_CURSOR", "MENTIONS_CURSOR", "Poller"]

_log = logging.getLogger(__name__)
MENTIONS_CURSOR = "mentions_since_id"
DM_CURSOR = "dm_events_newest_id"


def _newer(a: str, b: str | None) -> bool:
    """Snowflake ids compare as numbers."""
    if b is None:
        return True
    try:
        return int(a) > int(b)
    except ValueError:
        return a > b


class Poller:
    """Reads mentions and DMs of the operator and enqueues them.

    Arguments:
        enqueue: persists events (the service's group-committing ingest path).
        queue: where the cursors are kept.
        sleep: ``asyncio.sleep`` (tests pass a recorder); epoch: Unix seconds.
    """

    def __init__(
        self,
        x: XApiClient,
        queue: WorkQueue,
        operator: Operator,
        enqueue: Callable[[list[NewEvent], str], Awaitable[int]],
        *,
        metrics: ServiceMetrics,
        clock: Callable[[], datetime],
        epoch: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait_s: float = 900.0,
        guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        self.x = x
        self.queue = queue
        self.operator = operator
        self.enqueue = enqueue
        self.metrics = metrics
        self.clock = clock
        self.epoch = epoch
        self.sleep = sleep
        self.max_wait_s = max_wait_s
        self.handles: dict[str, str] = {}
        self.guard = guard
        self._round = asyncio.Lock()  # one round at a time: rounds share a connection and the cursors
        self.page_size = 100  # max_results of GET /2/users/:id/mentions (X allows 5-100)

    def _cursor(self, name: str) -> str | None:
        with self.guard():
            return self.queue.cursor(name)

    def _set_cursor(self, name: str, value: str) -> None:
        with self.guard():
            self.queue.set_cursor(name, value, self.clock())

    async def poll_once(self) -> int:
        """One round of mentions then DMs; returns how many events were offered to the queue.

        Rounds never overlap (the poll loop, the webhook fallback and a caller may all ask for
        one): two at once would share the poller's connection from two threads and race the
        cursors."""
        async with self._round:
            return await self._guard(self.poll_mentions) + await self._guard(self.poll_dms)

    async def poll_mentions_round(self) -> int:
        """Mentions only (when DMs are polled on their own period), rate limits waited out."""
        async with self._round:
            return await self._guard(self.poll_mentions)

    async def poll_dms_round(self) -> int:
        """DMs only, rate limits waited out."""
        async with self._round:
            return await self._guard(self.poll_dms)

    async def _guard(self, round_: Callable[[], Awaitable[int]]) -> int:
        try:
            return await round_()
        except XRateLimited as exc:
            reset = exc.reset_at if exc.reset_at is not None else self.epoch() + 60.0
            wait = min(self.max_wait_s, max(0.0, reset - self.epoch()) + 1.0)
            self.metrics.rate_limit_waits.labels("x").inc()
            self.metrics.rate_limit_wait_seconds.labels("x").inc(wait)
            _log.info("X rate limit while polling; sleeping %.0f s until the reset", wait)
            await self.sleep(wait)
            return 0

    async def poll_mentions(self) -> int:
        since = await asyncio.to_thread(self._cursor, MENTIONS_CURSOR)
        # the cursor's own mention is asked for again (since_id is exclusive): seeing it proves the
        # pages reached back to the cursor; it is not offered again
        numeric = since is not None and since.isascii() and since.isdigit() and int(since) > 0
        sentinel = since if numeric else None
        newest: str | None = None
        oldest: str | None = None
        reached = sentinel is None
        events: list[NewEvent] = []
        async for page in self.x.iter_mentions(
            self.operator.user_id,
            since_id=str(int(sentinel) - 1) if sentinel is not None else since,
            page_size=self.page_size,
        ):
            fresh = [t for t in page.tweets if t.id != sentinel]
            reached = reached or len(fresh) < len(page.tweets)
            self._collect(fresh, events)
            for tweet in fresh:
                if oldest is None or _newer(oldest, tweet.id):
                    oldest = tweet.id
            top = max((t.id for t in fresh), key=int, default=None)
            if top is not None and _newer(top, newest):
                newest = top
        if not reached and oldest is not None:
            await self._backfill(since, oldest, events)
        if events:
            # X pages newest first; the queue must hold them oldest first, so that a user's code
            # tweet is processed before the #act tweet that follows it.
            await self.enqueue(sorted(events, key=_message_order), "poll")
        if newest is not None and _newer(newest, since):
            await asyncio.to_thread(self._set_cursor, MENTIONS_CURSOR, newest)
        return len(events)

    def _collect(self, tweets: Sequence[Tweet], events: list[NewEvent]) -> None:
        for tweet in tweets:
            if tweet.author_id and tweet.username:
                self.handles[tweet.author_id] = tweet.username
        events.extend(events_from_mentions(tweets, self.operator, self.clock()))

    async def _backfill(self, since: str | None, oldest: str, events: list[NewEvent]) -> None:
        """The mentions between the cursor and the oldest one the pages reached, from recent search.

        X's mentions timeline holds only its 800 newest: when more than that arrive between two
        rounds, or while a round pages back, the pages end above the cursor without a word, and the
        cursor would then skip the mentions in between for good."""
        before = len(events)
        async for page in self.x.iter_search_recent(
            f"@{self.operator.handle}", since_id=since, until_id=oldest
        ):
            self._collect(page.tweets, events)
        self.metrics.mentions_backfilled.inc(len(events) - before)
        _log.warning(
            "the mentions timeline ended above the cursor (X pages back through its 800 newest); "
            "%d mention(s) between read from recent search",
            len(events) - before,
        )

    async def poll_dms(self) -> int:
        seen = await asyncio.to_thread(self._cursor, DM_CURSOR)
        newest: str | None = None
        fresh = []
        async for page in self.x.iter_dm_events():
            stop = False
            for event in page.events:  # newest first
                if not _newer(event.id, seen):
                    stop = True
                    break
                fresh.append(event)
                if _newer(event.id, newest):
                    newest = event.id
            if stop:
                break
        events = events_from_dm_events(fresh, self.operator, self.clock(), self.handles)
        if events:
            await self.enqueue(sorted(events, key=_message_order), "poll")
        if newest is not None:
            await asyncio.to_thread(self._set_cursor, DM_CURSOR, newest)
        return len(events)


def _message_order(event: NewEvent) -> tuple[int, str]:
    """Oldest first: X ids are snowflakes that grow with time (non-numeric ids sort last)."""
    numeric = event.message_id.isascii() and event.message_id.isdigit()
    return (int(event.message_id), "") if numeric else (1 << 64, event.message_id)
