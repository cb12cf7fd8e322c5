"""Accounts and senders: long codes, short codes, alphanumeric IDs and messaging-service pools.

Each :class:`Sender` has a throughput cap in segments per second and a *next-free slot*: a message of
``n`` segments created at ``t`` starts leaving at ``max(t, next_free)`` and occupies the sender for
``ceil(n / rate)`` microseconds of carrier time. That is an exact FIFO queue without storing it: the
backlog in seconds is ``next_free - now``. The sender's queue window (Twilio: 10 hours) bounds the
backlog; beyond it a create with ``From`` fails with 21611, and a messaging service, whose pool's
members are all beyond it, fails the message after creation with 30001.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .clock import US_PER_S
from .exceptions import ControlError

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_LONG_CODE",
    "DEFAULT_POOL",
    "DEFAULT_SERVICE_SID",
    "DEFAULT_SHORT_CODE",
    "KIND_RATES",
    "MAX_VALIDITY_S",
    "Account",
    "MessagingService",
    "Sender",
]

MAX_VALIDITY_S = 36_000  # Twilio's default and maximum ValidityPeriod, also the queue window

#: Documented local credentials and senders of the default account.
DEFAULT_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
DEFAULT_AUTH_TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00"
DEFAULT_LONG_CODE = "+15005550006"
DEFAULT_SHORT_CODE = "54321"
DEFAULT_SERVICE_SID = "MG0123456789abcdef0123456789abcdef"
DEFAULT_POOL = tuple(f"+1500555{n:04d}" for n in range(100, 110))

#: Default throughput (segments/s) per sender kind.
KIND_RATES: dict[str, float] = {"long_code": 1.0, "short_code": 100.0, "alphanumeric": 10.0}


@dataclass(slots=True)
class Sender:
    """One sending address with its own throughput cap and queue."""

    number: str
    kind: str = "long_code"
    rate: float = 1.0
    queue_window_s: int = MAX_VALIDITY_S
    next_free_us: int = 0
    sent_segments: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KIND_RATES:
            raise ControlError(f"sender kind must be one of {sorted(KIND_RATES)}")
        if self.rate <= 0:
            raise ControlError("sender rate must be positive")

    def backlog_us(self, now_us: int) -> int:
        """Carrier microseconds until this sender is free."""
        return max(0, self.next_free_us - now_us)

    def slot_us(self, segments: int) -> int:
        """How long ``segments`` occupy the sender (rounded up, so the cap is never exceeded)."""
        return math.ceil(segments * US_PER_S / self.rate)

    def take_slot(self, now_us: int, segments: int) -> tuple[int, int]:
        """Reserve the next slot: ``(start_us, end_us)``."""
        start = max(now_us, self.next_free_us)
        end = start + self.slot_us(segments)
        self.next_free_us = end
        self.sent_segments += segments
        return start, end

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "rate": self.rate,
            "queue_window": self.queue_window_s,
            "next_free": self.next_free_us / US_PER_S,
            "sent_segments": self.sent_segments,
        }


@dataclass(slots=True)
class MessagingService:
    """A pool of senders; a message goes out through the member that is free soonest."""

    sid: str
    friendly_name: str
    pool: list[Sender]
    validity_period_s: int = MAX_VALIDITY_S

    def pick(self) -> Sender:
        """The pool member with the shortest backlog (first one on ties)."""
        if not self.pool:
            raise ControlError(f"messaging service {self.sid} has an empty pool")
        best = self.pool[0]
        for sender in self.pool:
            if sender.next_free_us < best.next_free_us:
                best = sender
        return best

    @property
    def rate(self) -> float:
        return sum(sender.rate for sender in self.pool)

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "pool": [sender.number for sender in self.pool],
            "rate": self.rate,
            "validity_period": self.validity_period_s,
        }


@dataclass(slots=True)
class Account:
    """A Twilio account: credentials, senders, services and a concurrent-request cap."""

    sid: str
    auth_token: str
    friendly_name: str = "Twittcom fake"
    max_concurrent: int = 100
    senders: dict[str, Sender] = field(default_factory=dict)
    services: dict[str, MessagingService] = field(default_factory=dict)
    inflight: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "max_concurrent": self.max_concurrent,
            "senders": [sender.to_json() for sender in self.senders.values()],
            "services": [service.to_json() for service in self.services.values()],
        }
