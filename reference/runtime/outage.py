"""Outage mode (seed 002): the operator's status tweet, and the status as the answer to complaints.

An admin call turns it on with a status text: the operator's status tweet goes to the outbox
(commerce priority), and while it is on every complaint mention (a tweet the core classed as
noise) gets a public reply carrying the status, queued at :data:`NOTICE_PRIORITY` so commerce goes
first, and subject to the X write budget like every reply. The state lives in the database
(``runtime_state``), so every service process sharing it follows the same mode.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import twitter_text
from reference.domain.outcomes import Outcome
from reference.service.changes import OutboxRow
from reference.service.processor import Processed
from reference.service.work_queue import COMMERCE_PRIORITY, NOTICE_PRIORITY, QueuedEvent, WorkQueue

__all__ = ["OutageMode", "OutageState", "status_reply"]

STATE_KEY = "outage"
MAX_WEIGHT = 280


@dataclass(frozen=True, slots=True)
class OutageState:
    """Whether outage mode is on, its status text and since when (ISO 8601)."""

    on: bool = False
    text: str = ""
    since: str | None = None

    def to_json(self) -> str:
        return json.dumps({"on": self.on, "text": self.text, "since": self.since})

    @classmethod
    def from_json(cls, raw: str | None) -> OutageState:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(bool(data.get("on")), str(data.get("text", "")), data.get("since"))


def _fit(body: str, prefix: str = "", suffix: str = "") -> str:
    """``prefix + body + suffix`` with ``body`` cut (and ended with an ellipsis) to fit 280 weighted."""
    body = body.strip()
    text = prefix + body + suffix
    while twitter_text.weighted_length(text) > MAX_WEIGHT and body:
        body = body[: max(0, len(body) - max(1, len(body) // 10))].rstrip()
        text = prefix + body + "\u2026" + suffix
    return text


def status_reply(handle: str, status: str, message_id: str) -> str:
    """``@handle <status> (ref NNNNNN)``, cut to fit 280 weighted characters (the ref keeps replies
    to different complaints distinct: X refuses duplicate tweets)."""
    return _fit(status, f"@{handle} ", f" (ref {message_id[-6:]})")


class OutageMode:
    """Reads and switches outage mode; turns noise mentions into status replies while it is on.

    Arguments:
        operator_user_id, operator_handle: the account that posts the status tweet.
        refresh_s: how long a process trusts its cached state before re-reading it (other
            processes may have switched it).
    """

    def __init__(
        self,
        operator_user_id: str,
        operator_handle: str,
        *,
        clock: Callable[[], datetime],
        refresh_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.operator_user_id = operator_user_id
        self.operator_handle = operator_handle.lstrip("@")
        self.clock = clock
        self.refresh_s = refresh_s
        self._monotonic = monotonic
        self._state = OutageState()
        self._read_at = -1e18
        self._lock = threading.Lock()

    def current(self, queue: WorkQueue) -> OutageState:
        """The state, re-read from the database at most every ``refresh_s``."""
        with self._lock:
            now = self._monotonic()
            if now - self._read_at >= self.refresh_s:
                self._state = OutageState.from_json(queue.state(STATE_KEY))
                self._read_at = now
            return self._state

    def turn_on(self, queue: WorkQueue, text: str) -> OutageState:
        """Switch on with ``text`` and queue the operator's status tweet."""
        now = self.clock()
        state = OutageState(True, text.strip(), now.isoformat())
        status = _fit(state.text)
        queue.add_outbox(
            [OutboxRow(now, "tweet", self.operator_user_id, self.operator_handle, self.operator_handle, None,
                       status, priority=COMMERCE_PRIORITY)]
        )  # fmt: skip
        queue.set_state(STATE_KEY, state.to_json(), now)
        self._remember(state)
        return state

    def turn_off(self, queue: WorkQueue) -> OutageState:
        """Switch off."""
        state = OutageState()
        queue.set_state(STATE_KEY, state.to_json(), self.clock())
        self._remember(state)
        return state

    def _remember(self, state: OutageState) -> None:
        with self._lock:
            self._state, self._read_at = state, self._monotonic()

    def notices(
        self, queue: WorkQueue
    ) -> Callable[[Sequence[QueuedEvent], Sequence[Processed]], list[OutboxRow]]:
        """The worker hook: status replies to this batch's complaint mentions while outage mode is on."""

        def replies(rows: Sequence[QueuedEvent], results: Sequence[Processed]) -> list[OutboxRow]:
            state = self.current(queue)
            if not state.on:
                return []
            now = self.clock()
            return [
                OutboxRow(now, "tweet", row.author_id, row.handle, row.handle, row.message_id,
                          status_reply(row.handle, state.text, row.message_id), priority=NOTICE_PRIORITY)
                for row, result in zip(rows, results, strict=True)
                if result.outcome is Outcome.NOISE and row.channel == "tweet"
            ]  # fmt: skip

        return replies
