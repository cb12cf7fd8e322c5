"""The small parts the journeys share: the HTTP seam, the accounts a run creates, what an X id and a
confirmation text say (:mod:`loadtests.journeys` re-exports them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from loadtests.population import Subscriber

__all__ = ["CODE_RE", "Account", "Transport", "classify", "national_number", "snowflake_time"]

TWITTER_EPOCH_MS = 1_288_834_974_657
CODE_RE = re.compile(r"code is (\d{6})")
_ACTIVATED = ("activated", "now runs on", "is active on")
_LOW_BALANCE = ("recharge",)
_NOT_REGISTERED = ("register first", "link your number first", "#reg")


class Transport(Protocol):
    """One HTTP call; returns the JSON body, or None after reporting the failure to the run's stats."""

    def __call__(
        self,
        method: str,
        url: str,
        *,
        name: str,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Account:
    """A fake-X user the load test created, with the number it owns (if any)."""

    user_id: str
    username: str
    token: str
    subscriber: Subscriber | None = None

    @property
    def auth(self) -> dict[str, str]:
        """The bearer header of this user."""
        return {"authorization": f"Bearer {self.token}"}


def snowflake_time(snowflake: str | int) -> float:
    """Unix seconds encoded in an X snowflake id."""
    return ((int(snowflake) >> 22) + TWITTER_EPOCH_MS) / 1000.0


def national_number(msisdn: str) -> str:
    """``+919812345678`` -> ``9812345678`` (how people type it in a ``#reg`` tweet)."""
    return msisdn[3:] if msisdn.startswith("+91") else msisdn


def classify(text: str) -> str:
    """The outcome a confirmation text reports."""
    lowered = text.lower()
    if any(word in lowered for word in _ACTIVATED):
        return "activated"
    if any(word in lowered for word in _LOW_BALANCE):
        return "insufficient_balance"
    if any(word in lowered for word in _NOT_REGISTERED):
        return "not_registered"
    return "rejected"
