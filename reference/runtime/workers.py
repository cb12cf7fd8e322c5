"""Inbound workers: claim a leased batch from the durable queue, run it through the processor, mark it done.

:meth:`InboundWorker.run_once` is synchronous (it runs in a worker thread, on its own connection):

1. ``claim_inbound`` leases up to ``batch_size`` rows;
2. ``Processor.process_batch`` runs them in one group commit (idempotent through the core's inbox:
   a row processed before a crash comes back as ``DUPLICATE`` and changes nothing);
3. ``notices`` may add rows of the runtime's own to the outbox (outage-mode replies to complaints);
4. rows whose processing failed are released for another try (given up after ``max_attempts``),
   the others are marked done.

With a ``hand_off`` (:class:`~reference.runtime.hand_off.HandOff`, the dispatcher's) the worker
also leases the outbox rows now due for the dispatcher, in the same write section as step 4, and
delivers them after it: the dispatcher sends them without a claim of its own. Outcome metrics
and code receipt times come from the processor's typed events (``message_processed``), not from
the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from reference.domain.outcomes import Outcome
from reference.domain.redaction import redact_text
from reference.runtime.hand_off import HandOff
from reference.service.changes import OutboxRow
from reference.service.processor import Processed, Processor
from reference.service.work_queue import QueuedEvent, WorkQueue

__all__ = ["InboundWorker", "NoticeSource"]

_log = logging.getLogger(__name__)

NoticeSource = Callable[[Sequence[QueuedEvent], Sequence[Processed]], list[OutboxRow]]


class InboundWorker:
    """One worker: a work queue and a processor on the same connection."""

    def __init__(
        self,
        name: str,
        queue: WorkQueue,
        processor: Processor,
        *,
        clock: Callable[[], datetime],
        batch_size: int = 64,
        lease_s: float = 30.0,
        max_attempts: int = 10,
        notices: NoticeSource | None = None,
        guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
        hand_off: HandOff | None = None,
    ) -> None:
        self.name = name
        self.queue = queue
        self.processor = processor
        self.clock = clock
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.notices = notices
        self.guard = guard
        self.hand_off = hand_off

    def run_once(self) -> int:
        """Process one batch; returns how many rows it claimed (0 when the queue is empty)."""
        with self.guard():
            rows = self.queue.claim_inbound(self.name, self.batch_size, self.clock(), self.lease_s)
        if not rows:
            return 0
        messages = [row.message for row in rows]
        with self.guard():
            results = self.processor.process_batch(messages)
        done: list[int] = []
        retry: list[int] = []
        for row, result in zip(rows, results, strict=True):
            if result.outcome is Outcome.FAILED and row.attempts < self.max_attempts:
                retry.append(row.id)
            else:
                if result.outcome is Outcome.FAILED:
                    _log.error(
                        "giving up on %s %s after %d attempts", row.channel, row.message_id, row.attempts
                    )
                done.append(row.id)
        with self.guard():
            if self.notices is not None:
                extra = self.notices(rows, results)
                if extra:
                    # Before marking done: a crash in between re-runs the batch as DUPLICATE, which
                    # gets no notice, so a notice is added at most once.
                    self.queue.add_outbox(extra)
            self.queue.complete_inbound(done, self.name, _redacted(rows, done))
            self.queue.release_inbound(retry, self.name)
            leased = self.hand_off.lease(self.queue, self.clock()) if self.hand_off is not None else []
        if self.hand_off is not None:
            self.hand_off.deliver(leased)
        return len(rows)


def _redacted(rows: Sequence[QueuedEvent], done: Sequence[int]) -> dict[int, str]:
    """The texts of the finished rows that hold numbers or codes, masked (the queue keeps only
    those once a message is processed; rows to retry keep theirs)."""
    finished = set(done)
    masked = {}
    for row in rows:
        if row.id in finished:
            text = redact_text(row.text)
            if text != row.text:
                masked[row.id] = text
    return masked
