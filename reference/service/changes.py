"""What one unit of work read (:class:`Snapshot`) and what it will write (:class:`ChangeSet`).

Rows are named tuples: immutable, and cheap to build on the hot path (a frozen dataclass with a
dozen fields costs several times more to construct).
Timestamps are :class:`datetime` (UTC); adapters convert them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from reference.domain.otp import PendingCode
from reference.domain.subscribers import Binding, Subscriber

__all__ = ["ActivationRow", "ChangeSet", "EventRow", "OutboxRow", "Snapshot"]


@dataclass(slots=True)
class Snapshot:
    """The rows a batch needs, loaded in one go (locked where the engine needs it)."""

    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    bindings_by_user: dict[str, Binding] = field(default_factory=dict)
    bindings_by_msisdn: dict[str, Binding] = field(default_factory=dict)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    recent_sends: dict[str, list[datetime]] = field(default_factory=dict)


class ActivationRow(NamedTuple):
    """A pack activated on a number: the transaction record of a purchase."""

    msisdn: str
    user_id: str
    pack_id: str
    pack_name: str
    hashtag: str
    circle: str
    price_paise: int
    balance_after: int
    channel: str
    message_id: str
    activated_at: datetime
    valid_until: date


class OutboxRow(NamedTuple):
    """A notification to send (drained by a dispatcher): tweet, DM or SMS; the one outbox record.

    The core stages these in a change set (commerce rows, ``priority`` 0); the runtime adds its own
    (outage replies, expiry DMs) with :meth:`~reference.service.work_queue.WorkQueue.add_outbox`;
    a leased row (:class:`~reference.service.work_queue.OutboxItem`) wraps one.
    """

    created_at: datetime
    kind: str  # "tweet" | "dm" | "sms"
    user_id: str
    handle: str
    recipient: str  # handle for tweet/dm, E.164 number for sms
    in_reply_to: str | None
    text: str
    shown: str | None = None  # what the customer timeline shows instead of ``text`` (redacted codes)
    priority: int = 0  # commerce first; the runtime's notices wait (NOTICE_PRIORITY)


class EventRow(NamedTuple):
    """A customer event that is neither a message nor a purchase: a number linked or unlinked.

    The customer timeline is a view over the inbox (inbound tweets/DMs), activations (debits),
    these events and the outbox (outbound tweets/DMs/SMS): nothing is written twice.
    """

    at: datetime
    user_id: str
    handle: str
    msisdn: str | None
    kind: str  # bound, unbound
    text: str


@dataclass(slots=True)
class ChangeSet:
    """Everything one unit of work writes, applied by the storage adapter in one transaction."""

    debits: list[tuple[str, int]] = field(default_factory=list)  # (msisdn, paise)
    bindings: dict[str, Binding] = field(default_factory=dict)  # final binding per user id
    unbound_users: set[str] = field(default_factory=set)  # user ids whose binding is removed
    unbound_msisdns: set[str] = field(default_factory=set)  # numbers whose binding is removed
    codes: dict[str, PendingCode] = field(default_factory=dict)  # final code record per user id
    sends: list[tuple[str, datetime]] = field(default_factory=list)  # (msisdn, sent_at)
    activations: list[ActivationRow] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
