"""The carrier schedule: a deterministic discrete-event queue that moves messages through
queued -> sending -> sent -> delivered | undelivered, or to failed.

Events sit in a heap keyed ``(carrier_us, seq)`` (O(log n) per event; ``seq`` breaks ties in
creation order, as in simpy). Every random draw for a message (latency, retry latency, outcome) is
made when it is created, so the same seed and the same requests give the same history whatever
order events are processed in. Transitions:

* ``SEND`` at the start of the sender slot: queued -> sending.
* ``SENT`` at the end of the slot (the segments have left the sender): sending -> sent, priced.
* ``DLR`` at ``sent + latency``: delivered (into the handset) or undelivered with the planned error;
  if the destination circle is in an outage the message is *held* and retried ``retry latency``
  after the outage ends, unless its validity runs out first (then undelivered 30003).
* ``EXPIRE`` at ``created + ValidityPeriod`` for a message still queued: failed 30036.
* ``OVERFLOW`` right after creation when a messaging service's whole pool is beyond its queue
  window: failed 30001.
* ``QUEUED`` right after creation of a messaging-service message: accepted -> queued.

Each transition (not the initial state) is recorded in :attr:`CarrierEngine.callbacks` for the
status-callback dispatcher when the message has a ``StatusCallback``.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from .carrier import DELIVERY_ERRORS, FAILED_ERRORS, Outage
from .clock import US_PER_S, Clock
from .exceptions import ControlError
from .handsets import Handsets, Received
from .messages import API_VERSION, FINAL_STATUSES, Message, RFC2822Dates
from .senders import Sender

__all__ = ["CallbackJob", "CarrierEngine"]

SEND, SENT, DLR, EXPIRE, OVERFLOW, QUEUED, CARRIER_EXPIRE = range(7)
EXPIRED_AT_CARRIER = 30003


@dataclass(frozen=True, slots=True)
class CallbackJob:
    """One status callback to POST: target URL, form parameters, account whose token signs it."""

    url: str
    params: dict[str, str]
    account_sid: str


class CarrierEngine:
    """Schedules and runs message transitions on the carrier clock."""

    def __init__(
        self,
        clock: Clock,
        dates: RFC2822Dates,
        handsets: Handsets,
        *,
        price_per_segment_paise: int = 25,
        price_unit: str = "INR",
        callback_statuses: frozenset[str] | None = None,
        max_pending_callbacks: int = 100_000,
        wall: Callable[[], float] = time.time,
        final_listeners: list[Callable[[Message], None]] | None = None,
    ) -> None:
        self.clock = clock
        #: called with each message that reaches a final status (the SMPP SMSC's receipts)
        self.final_listeners = final_listeners if final_listeners is not None else []
        self.dates = dates
        self.handsets = handsets
        self.price_per_segment_paise = price_per_segment_paise
        self.price_unit = price_unit
        self.callback_statuses = (
            frozenset({"queued", "sending", "sent", "delivered", "undelivered", "failed"})
            if callback_statuses is None
            else callback_statuses
        )
        self.wall = wall
        self.counters: Counter[str] = Counter()
        self.callbacks: deque[CallbackJob] = deque(maxlen=max_pending_callbacks)
        self.outages: dict[int, Outage] = {}
        self._outage_ids = itertools.count(1)
        self._held: dict[str, dict[str, Message]] = {}
        self._heap: list[tuple[int, int, int, Message, int]] = []
        self._seq = itertools.count()

    # ---- scheduling ---------------------------------------------------------------------------
    def _push(self, t_us: int, kind: int, message: Message) -> None:
        heapq.heappush(self._heap, (t_us, next(self._seq), kind, message, message.gen))

    def schedule(self, message: Message, sender: Sender | None, *, overflow: bool = False) -> None:
        """Queue a just-created message on ``sender`` (``None`` with ``overflow`` = pool overloaded)."""
        now = message.created_us
        if message.status == "accepted":
            self._push(now, QUEUED, message)
        if overflow or sender is None:
            self._push(now, OVERFLOW, message)
            return
        if sender.backlog_us(now) > message.validity_s * US_PER_S:
            self._push(message.expires_us, EXPIRE, message)
            return
        start, end = sender.take_slot(now, message.num_segments)
        self._push(start, SEND, message)
        self._push(end, SENT, message)

    def next_event_us(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pending(self) -> int:
        return len(self._heap)

    def run_until(self, t_us: int, limit: int | None = None) -> int:
        """Process events due at or before ``t_us`` in (time, creation) order, at most ``limit``."""
        heap = self._heap
        processed = 0
        budget = -1 if limit is None else limit
        while heap and heap[0][0] <= t_us and processed != budget:
            when, _, kind, message, gen = heapq.heappop(heap)
            if gen != message.gen:
                continue
            self._handle(when, kind, message)
            processed += 1
        return processed

    # ---- transitions --------------------------------------------------------------------------
    def _handle(self, t: int, kind: int, m: Message) -> None:
        if kind == SEND:
            if m.status in ("queued", "accepted"):
                m.sending_us = t
                self._transition(m, "sending", t)
        elif kind == SENT:
            if m.status == "sending":
                m.sent_us = t
                m.price_paise = m.num_segments * self.price_per_segment_paise
                m.price_unit = self.price_unit
                self._transition(m, "sent", t)
                self._push(t + m.latency_us, DLR, m)
        elif kind == DLR:
            if m.status == "sent":
                self._deliver(t, m)
        elif kind == QUEUED:
            if m.status == "accepted":
                m.from_ = m.sender  # the Messaging Service has assigned its sender
                self._transition(m, "queued", t)
        elif kind == EXPIRE:
            if m.status in ("queued", "accepted"):
                self._fail(m, "failed", 30036, t)
        elif kind == OVERFLOW:
            if m.status in ("queued", "accepted"):
                self._fail(m, "failed", 30001, t)
        elif kind == CARRIER_EXPIRE and m.status == "sent" and m.held:
            self._release(m)
            self._fail(m, "undelivered", EXPIRED_AT_CARRIER, t)

    def _outage_at(self, circle: str, t: int) -> Outage | None:
        for outage in self.outages.values():
            if outage.circle == circle and outage.covers(t):
                return outage
        return None

    def _deliver(self, t: int, m: Message) -> None:
        outage = self._outage_at(m.circle, t) if self.outages else None
        if outage is not None:
            if not m.held:
                m.held = True
                self._held.setdefault(m.circle, {})[m.sid] = m
                self.counters["held"] += 1
                self._push(max(m.expires_us, t), CARRIER_EXPIRE, m)
            if outage.end_us is not None and outage.end_us + m.retry_latency_us <= m.expires_us:
                self._push(outage.end_us + m.retry_latency_us, DLR, m)
            return
        if m.held:
            self._release(m)
        if m.planned_error is not None:
            self._fail(m, "undelivered", m.planned_error, t)
            return
        m.done_us = t
        self._transition(m, "delivered", t)
        self.handsets.deliver(
            m.to,
            Received(
                m.sid, m.sender, m.content, t / US_PER_S, self.dates(t) or "", self.wall(), m.num_segments
            ),
        )

    def _release(self, m: Message) -> None:
        m.held = False
        held = self._held.get(m.circle)
        if held is not None:
            held.pop(m.sid, None)

    def _fail(self, m: Message, status: str, code: int, t: int) -> None:
        m.error_code = code
        m.error_message = DELIVERY_ERRORS.get(code) or FAILED_ERRORS.get(code)
        m.done_us = t
        self.counters[f"error_{code}"] += 1
        self._transition(m, status, t)

    def _transition(self, m: Message, status: str, t: int) -> None:
        m.status = status
        m.updated_us = t
        self.counters[status] += 1
        if self.final_listeners and status in FINAL_STATUSES:
            for listener in self.final_listeners:
                listener(m)
        if m.status_callback and status in self.callback_statuses:
            params = {
                "AccountSid": m.account_sid,
                "ApiVersion": API_VERSION,
                "From": m.sender,
                "MessageSid": m.sid,
                "MessageStatus": status,
                "SmsSid": m.sid,
                "SmsStatus": status,
                "To": m.to,
            }
            if m.messaging_service_sid:
                params["MessagingServiceSid"] = m.messaging_service_sid
            if m.error_code is not None:
                params["ErrorCode"] = str(m.error_code)
                params["ErrorMessage"] = m.error_message or ""
            if len(self.callbacks) == self.callbacks.maxlen:
                self.counters["callbacks_dropped"] += 1
            self.callbacks.append(CallbackJob(m.status_callback, params, m.account_sid))
            self.counters["callbacks_queued"] += 1

    # ---- outages ------------------------------------------------------------------------------
    def add_outage(self, circle: str, start_us: int, end_us: int | None) -> Outage:
        if end_us is not None and end_us <= start_us:
            raise ControlError("an outage must end after it starts")
        outage = Outage(next(self._outage_ids), circle, start_us, end_us)
        self.outages[outage.id] = outage
        return outage

    def remove_outage(self, outage_id: int) -> Outage:
        """End an outage now: its held messages are retried after their retry latency."""
        outage = self.outages.pop(outage_id, None)
        if outage is None:
            raise ControlError(f"no outage {outage_id}")
        now = self.clock.now_us()
        for m in list(self._held.get(outage.circle, {}).values()):
            if self._outage_at(m.circle, now) is None:
                m.gen += 1  # drops its pending DLR and expiry events
                self._release(m)
                self._push(now + m.retry_latency_us, DLR, m)
        return outage

    def held_count(self) -> int:
        return sum(len(held) for held in self._held.values())
