"""Inbound messages and the commands parsed from them (frozen dataclasses, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

__all__ = ["Buy", "Channel", "Command", "Inbound", "MessageKey", "Noise", "Register", "Verify"]

#: "web" is the registration page: answered on the page itself, never by tweet or DM
Channel: TypeAlias = Literal["tweet", "dm", "web"]
#: (channel, message id): the idempotency key of an inbound message
MessageKey: TypeAlias = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Inbound:
    """One tweet or DM as received from X: who sent what, when.

    ``author_id`` is X's stable numeric user id; ``handle`` the screen name at the time (no ``@``).
    """

    channel: Channel
    message_id: str
    author_id: str
    handle: str
    text: str
    received_at: datetime

    @property
    def key(self) -> MessageKey:
        """The idempotency key: the same tweet or DM delivered twice has the same key."""
        return (self.channel, self.message_id)


@dataclass(frozen=True, slots=True)
class Register:
    """``#reg <mobile>``: bind the sender's handle to a mobile number (raw text as typed)."""

    mobile: str


@dataclass(frozen=True, slots=True)
class Verify:
    """The one-time code tweeted back, bare or as ``#code <code>``."""

    code: str


@dataclass(frozen=True, slots=True)
class Buy:
    """``#act`` with a pack hashtag; ``hashtag`` is ``None`` when no pack hashtag was given."""

    hashtag: str | None


@dataclass(frozen=True, slots=True)
class Noise:
    """Anything else (complaints, chatter, tweets not addressed to the operator)."""


Command: TypeAlias = Register | Verify | Buy | Noise
