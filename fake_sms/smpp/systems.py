"""ESME accounts of the SMSC (``system_id`` / password), their caps, and the token bucket.

Configuration (the ``smpp`` table of the fake's configuration, every key optional)::

    {"systems": [{"system_id": "twittcom", "password": "secret", "account_sid": "AC...",
                  "source": "54321", "max_binds": 8, "bind_tps": 200, "system_tps": 400,
                  "window": 10, "submit_latency_ms": 0}]}

``source`` is the account's sender (long code, short code, alphanumeric ID, or a messaging
service's ``MG...`` sid for a pool) whose carrier
throughput and queue window the messages share with the Twilio API. ``bind_tps`` and
``system_tps`` are the SMSC's own caps on submit_sm per wall second (a token bucket holding a tenth
of a second's worth, at least one), answered with ESME_RTHROTTLED; ``window`` is how many
submit_sm a bind may have unanswered before the next is refused with ESME_RMSGQFUL;
``submit_latency_ms`` is how long the SMSC takes to answer a submit_sm (so one bind's rate is at
most ``window / latency``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..senders import DEFAULT_ACCOUNT_SID, DEFAULT_SHORT_CODE

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_SYSTEM_ID", "SmppSystem", "TokenBucket", "systems_from_json"]

DEFAULT_SYSTEM_ID = "twittcom"
DEFAULT_PASSWORD = "secret"


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity`` (rate <= 0: no cap)."""

    rate: float
    capacity: float = 0.0
    tokens: float = 0.0
    last: float | None = None

    def __post_init__(self) -> None:
        if self.capacity <= 0:
            self.capacity = max(1.0, self.rate / 10.0)
        self.tokens = self.capacity

    def take(self, now: float) -> bool:
        if self.rate <= 0:
            return True
        if self.last is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(slots=True)
class SmppSystem:
    """One ESME account: credentials, the Twilio account and sender it sends as, and its caps."""

    system_id: str
    password: str
    account_sid: str = DEFAULT_ACCOUNT_SID
    source: str = DEFAULT_SHORT_CODE
    max_binds: int = 8
    bind_tps: float = 0.0
    system_tps: float = 0.0
    window: int = 10
    submit_latency_ms: float = 0.0
    bucket: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.system_id) <= 15 or not 1 <= len(self.password) <= 8:
            raise ValueError("system_id must have 1..15 characters and password 1..8 (SMPP 3.4)")
        if self.max_binds < 1 or self.window < 1 or self.submit_latency_ms < 0:
            raise ValueError("max_binds and window must be at least 1, submit_latency_ms >= 0")
        self.bucket = TokenBucket(self.system_tps)

    def to_json(self) -> dict[str, Any]:
        return {
            "system_id": self.system_id,
            "account_sid": self.account_sid,
            "source": self.source,
            "max_binds": self.max_binds,
            "bind_tps": self.bind_tps,
            "system_tps": self.system_tps,
            "window": self.window,
            "submit_latency_ms": self.submit_latency_ms,
        }


def systems_from_json(data: Mapping[str, Any] | None) -> dict[str, SmppSystem]:
    """The ESME accounts of an ``smpp`` configuration table (default: one, ``twittcom``/``secret``)."""
    default = [{"system_id": DEFAULT_SYSTEM_ID, "password": DEFAULT_PASSWORD}]
    entries = list((data or {}).get("systems") or default)
    systems: dict[str, SmppSystem] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ValueError("each smpp system is a table")
        known = set(SmppSystem.__dataclass_fields__) - {"bucket"}
        unknown = set(entry) - known
        if unknown:
            raise ValueError(f"unknown smpp system keys {sorted(unknown)}; allowed: {sorted(known)}")
        system = SmppSystem(**{key: entry[key] for key in entry})
        systems[system.system_id] = system
    return systems
