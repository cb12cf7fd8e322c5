"""The in-memory side of a unit of work: reads from a :class:`Snapshot`, stages a :class:`ChangeSet`.

Handlers see the batch's state through :class:`Staging` (later messages of a batch see what earlier
ones changed) and record replies, SMS, timeline entries and transactions through it. Nothing here
does I/O; the storage adapter writes the change set in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from reference.domain.commands import Inbound
from reference.domain.otp import PendingCode
from reference.domain.outcomes import Effect, ReplyTweet, SendDm, SendSms
from reference.domain.subscribers import Binding, Subscriber
from reference.service.changes import ActivationRow, ChangeSet, EventRow, OutboxRow, Snapshot

__all__ = ["Staging"]


class Staging:
    """Batch-local view of state plus the changes and effects staged so far."""

    __slots__ = ("changes", "effects", "snapshot")

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.changes = ChangeSet()
        self.effects: list[Effect] = []

    # reads ---------------------------------------------------------------------------------
    def binding_of(self, user_id: str) -> Binding | None:
        return self.snapshot.bindings_by_user.get(user_id)

    def binding_for_number(self, msisdn: str) -> Binding | None:
        return self.snapshot.bindings_by_msisdn.get(msisdn)

    def subscriber(self, msisdn: str) -> Subscriber | None:
        return self.snapshot.subscribers.get(msisdn)

    def code_of(self, user_id: str) -> PendingCode | None:
        return self.snapshot.codes.get(user_id)

    def sends_to(self, msisdn: str) -> list[datetime]:
        return self.snapshot.recent_sends.get(msisdn, [])

    # writes --------------------------------------------------------------------------------
    def bind(self, binding: Binding, at: datetime) -> None:
        """Link ``binding.user_id`` and ``binding.msisdn``, unlinking whatever either had before."""
        snap, changes = self.snapshot, self.changes
        for old in (snap.bindings_by_user.get(binding.user_id), snap.bindings_by_msisdn.get(binding.msisdn)):
            if old is None or old == binding:
                continue
            snap.bindings_by_user.pop(old.user_id, None)
            snap.bindings_by_msisdn.pop(old.msisdn, None)
            changes.bindings.pop(old.user_id, None)
            changes.unbound_users.add(old.user_id)
            changes.unbound_msisdns.add(old.msisdn)
            self.note(at, old.user_id, old.handle, old.msisdn, "unbound", f"@{old.handle} unlinked")
        snap.bindings_by_user[binding.user_id] = binding
        snap.bindings_by_msisdn[binding.msisdn] = binding
        changes.unbound_users.add(binding.user_id)
        changes.unbound_msisdns.add(binding.msisdn)
        changes.bindings[binding.user_id] = binding

    def put_code(self, code: PendingCode) -> None:
        self.snapshot.codes[code.user_id] = code
        self.changes.codes[code.user_id] = code

    def record_send(self, msisdn: str, at: datetime) -> None:
        self.snapshot.recent_sends.setdefault(msisdn, []).append(at)
        self.changes.sends.append((msisdn, at))

    def debit(self, subscriber: Subscriber, amount: int) -> int:
        """Take ``amount`` paise; the caller has checked the balance covers it. Returns the balance."""
        subscriber.balance_paise -= amount
        self.changes.debits.append((subscriber.msisdn, amount))
        return subscriber.balance_paise

    def activate(self, row: ActivationRow) -> None:
        self.changes.activations.append(row)

    def note(self, at: datetime, user_id: str, handle: str, msisdn: str | None, kind: str, text: str) -> None:
        """Add a customer event (linked/unlinked) to the timeline."""
        self.changes.events.append(EventRow(at, user_id, handle, msisdn, kind, text))

    def reply(self, message: Inbound, text: str, at: datetime) -> None:
        """Answer ``message`` on its own channel: public reply tweet or DM."""
        effect: Effect
        if message.channel == "dm":
            effect = SendDm(message.message_id, message.author_id, message.handle, text)
        else:
            effect = ReplyTweet(message.message_id, message.author_id, message.handle, text)
        self.effects.append(effect)
        self.changes.outbox.append(
            OutboxRow(
                at,
                message.channel,
                message.author_id,
                message.handle,
                message.handle,
                message.message_id,
                text,
            )
        )

    def sms(self, message: Inbound, msisdn: str, text: str, at: datetime, shown: str | None = None) -> None:
        """Send an SMS; ``shown`` replaces the text in the customer timeline (used to redact codes)."""
        self.effects.append(SendSms(msisdn, message.author_id, text))
        self.changes.outbox.append(
            OutboxRow(at, "sms", message.author_id, message.handle, msisdn, message.message_id, text, shown)
        )
