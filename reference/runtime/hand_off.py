"""The hand-off: the one path from an inbound worker's commit to this process's outbox dispatcher.

Owned by the dispatcher (``OutboxDispatcher.hand_off``); the workers hold it and nothing else of
the dispatcher. One batch goes::

    worker (its thread, or the loop inline)         loop
    ---------------------------------------         ----------------------------------------
    process_batch -> commit
    hand_off.lease(queue, now)   # same write section as complete_inbound: rows leased to us
    hand_off.deliver(leased)  ───────────────────▶  dispatcher.take(rows) -> sends, group-committed
                              └─ no room left ───▶  ready.set(): the claim loop takes the rest

Anything else that makes outbox rows due (admin requeue, outage status tweet, a web code request)
calls :meth:`HandOff.wake`. The claim loop of the service waits on :attr:`HandOff.ready`.

Code receipt times: the worker's processors fire ``message_processed``; :meth:`note_processed`
(subscribed while the dispatcher runs) keeps when each ``#reg`` that got a code was received, and
the dispatcher takes it back with :meth:`received_at` when it sends that code's SMS (the code
send latency metric). Bounded: past ``max_codes`` entries the oldest half is dropped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from reference.domain.commands import Inbound
from reference.domain.outcomes import Outcome
from reference.service.work_queue import OutboxItem, WorkQueue

__all__ = ["HandOff", "Receiver"]

_MAX_CODES = 100_000


class Receiver(Protocol):
    """The dispatcher side of a hand-off."""

    owner: str
    batch_size: int
    lease_s: float

    @property
    def room(self) -> int:
        """How many more rows it takes now."""
        ...

    def take(self, items: Sequence[OutboxItem]) -> None:
        """Send rows already leased to :attr:`owner` (on the loop)."""
        ...


class HandOff:
    """Rows a worker leased for the dispatcher, carried across the thread boundary to the loop."""

    def __init__(self, receiver: Receiver, *, max_codes: int = _MAX_CODES) -> None:
        self._receiver = receiver
        self._max_codes = max_codes
        self._received: dict[str, datetime] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self.ready = asyncio.Event()

    def bind(self) -> None:
        """Attach to the running loop (the service's start)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.ready = asyncio.Event()

    def unbind(self) -> None:
        """Detach (the service's stop): later deliveries are dropped, their leases run out and the
        rows are sent after a restart."""
        self._loop = None

    # worker side ------------------------------------------------------------------------------
    def lease(self, queue: WorkQueue, now: datetime) -> list[OutboxItem]:
        """Lease due rows to the dispatcher on ``queue`` (the worker's connection, inside its write
        section), as many as it has room for."""
        receiver = self._receiver
        room = receiver.room
        if room <= 0:
            return []
        return queue.claim_outbox(receiver.owner, min(room, receiver.batch_size), now, receiver.lease_s)

    def deliver(self, items: list[OutboxItem]) -> None:
        """Pass leased rows to the dispatcher on the loop (from the loop or a worker thread); with
        no room left, wake the claim loop for the rest."""
        if items:
            self._on_loop(self._deliver, items)
        if self._receiver.room == 0:
            self.wake()

    def note_processed(self, *, message: Inbound, outcome: Outcome) -> None:
        """``message_processed`` listener: remember when a message that got a code was received."""
        if outcome is not Outcome.CODE_SENT:
            return
        received = self._received
        if len(received) >= self._max_codes:
            for key in list(received)[: self._max_codes // 2]:
                del received[key]
        received[message.message_id] = message.received_at

    # dispatcher side --------------------------------------------------------------------------
    def received_at(self, item: OutboxItem) -> datetime:
        """When the message a code SMS answers was received (its row's creation time if unknown)."""
        return self._received.pop(item.in_reply_to or "", None) or item.created_at

    def wake(self) -> None:
        """Rows may be due: the claim loop looks (from any thread)."""
        self._on_loop(self.ready.set)

    def _deliver(self, items: list[OutboxItem]) -> None:
        if self._loop is None:
            return  # stopped: the leases run out and the rows are sent after a restart
        self._receiver.take(items)
        if len(items) >= self._receiver.batch_size:
            self.ready.set()  # there may be more due: the claim loop looks

    def _on_loop(self, callback: Callable[..., object], *args: Any) -> None:
        """Schedule ``callback`` on the loop, from the loop itself (inline database work: no
        self-pipe write, no extra wake-up) or from a worker thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            loop.call_soon(callback, *args)
        else:
            loop.call_soon_threadsafe(callback, *args)
