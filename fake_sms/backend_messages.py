"""The Twilio Messages operations of :class:`~fake_sms.models.SmsBackend` (no HTTP): create (validate,
price, plan, queue), fetch, list, redact, delete, over the state the backend builds."""

from __future__ import annotations

import random
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from .carrier import CarrierProfile, CircleMap
from .clock import US_PER_S, Clock
from .exceptions import (
    BodyTooLongError,
    InvalidFromError,
    InvalidToError,
    InvalidUpdateError,
    InvalidValidityPeriodError,
    MessageNotDeletable,
    MessagingServiceNotFound,
    MissingBodyError,
    MissingFromError,
    MissingToError,
    NotFoundError,
    QueueFullError,
)
from .lifecycle import CarrierEngine
from .listing import MessageFilter, page_of
from .messages import FINAL_STATUSES, Message, RFC2822Dates
from .segments import segment
from .senders import MAX_VALIDITY_S, Account

__all__ = ["E164", "MAX_BODY_CHARS", "MessageOperations"]

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_BODY_CHARS = 1600


class MessageOperations:
    """The Messages resource over the backend's state (declared here, built by ``SmsBackend._build``)."""

    clock: Clock
    random: random.Random
    dates: RFC2822Dates
    engine: CarrierEngine
    counters: dict[str, int]
    default_profile: CarrierProfile
    profiles: dict[str, CarrierProfile]
    circles: CircleMap
    max_messages: int
    messages: OrderedDict[str, Message]
    _by_to: dict[str, dict[str, None]]

    def run_due(self) -> int:
        """Process every transition due at the clock's current time."""
        return self.engine.run_until(self.clock.now_us())

    def create_message(self, account: Account, params: Mapping[str, str]) -> Message:
        """``POST /Accounts/{sid}/Messages.json``: validate, price, plan and queue one message."""
        # No run_due() here: nothing a create decides depends on pending transitions (the sender's
        # slot bookkeeping is updated at creation), so a create never pays for a backlog of events.
        now = self.clock.now_us()
        to = params.get("To")
        if not to:
            raise MissingToError()
        if E164.match(to) is None:
            raise InvalidToError(f"The 'To' number {to} is not a valid phone number.")
        body = params.get("Body")
        if not body:
            raise MissingBodyError()
        if len(body) > MAX_BODY_CHARS:
            raise BodyTooLongError()
        validity = self._validity(params.get("ValidityPeriod"))
        service_sid = params.get("MessagingServiceSid") or None
        from_ = params.get("From")
        overflow = False
        if from_:
            sender = account.senders.get(from_)
            if sender is None:
                raise InvalidFromError(
                    f"The From phone number {from_} is not a valid sender for this account."
                )
            if sender.backlog_us(now) > sender.queue_window_s * US_PER_S:
                raise QueueFullError()
        elif service_sid:
            service = account.services.get(service_sid)
            if service is None:
                raise MessagingServiceNotFound()
            sender = service.pick()
            if not params.get("ValidityPeriod"):
                validity = service.validity_period_s
            overflow = sender.backlog_us(now) > sender.queue_window_s * US_PER_S
        else:
            raise MissingFromError()
        seg = segment(body)
        circle = self.circles.circle_of(to)
        profile = self.profiles.get(circle, self.default_profile)
        rng = self.random
        message = Message(
            sid=f"SM{rng.getrandbits(128):032x}",
            account_sid=account.sid,
            to=to,
            from_=sender.number if from_ else None,  # a service assigns its sender after creation
            body=body,
            messaging_service_sid=service_sid,
            num_segments=seg.segments,
            encoding=seg.encoding,
            circle=circle,
            validity_s=validity,
            status_callback=params.get("StatusCallback") or None,
            created_us=now,
            status="accepted" if service_sid and not from_ else "queued",
            updated_us=now,
            price_unit=self.engine.price_unit,
            latency_us=round(profile.latency.sample(rng) * US_PER_S),
            retry_latency_us=round(profile.latency.sample(rng) * US_PER_S),
            planned_error=profile.sample_outcome(rng),
            sender=sender.number,
            content=body,
        )
        self.engine.schedule(message, sender, overflow=overflow)
        messages = self.messages
        messages[message.sid] = message
        self._by_to.setdefault(message.to, {})[message.sid] = None
        self.counters["created"] += 1
        while len(messages) > self.max_messages:
            self._unindex(messages.popitem(last=False)[1])
            self.counters["evicted"] += 1
        return message

    @staticmethod
    def _validity(raw: str | None) -> int:
        if raw is None or raw == "":
            return MAX_VALIDITY_S
        try:
            value = int(raw)
        except ValueError as exc:
            raise InvalidValidityPeriodError() from exc
        if not 1 <= value <= MAX_VALIDITY_S:
            raise InvalidValidityPeriodError()
        return value

    def fetch_message(self, account: Account, sid: str) -> Message:
        """``GET .../Messages/{Sid}.json``."""
        self.run_due()
        message = self.messages.get(sid)
        if message is None or message.account_sid != account.sid:
            raise NotFoundError(
                f"The requested resource /2010-04-01/Accounts/{account.sid}/Messages/{sid}.json was not found"
            )
        return message

    def list_messages(self, account: Account, query: Mapping[str, str], path: str) -> dict[str, Any]:
        """``GET .../Messages.json``: newest first, filtered, one page with Twilio's paging fields."""
        self.run_due()
        wanted = MessageFilter.from_query(query, self.dates)
        if wanted.to is not None:
            sids = self._by_to.get(wanted.to, {})
            candidates: Iterable[Message] = (self.messages[sid] for sid in reversed(sids))
        else:
            candidates = reversed(self.messages.values())
        items = [m for m in candidates if m.account_sid == account.sid and wanted.matches(m)]
        page = page_of(items, query, path, "messages")
        page["messages"] = [m.to_json(self.dates) for m in page["messages"]]
        return page

    def update_message(self, account: Account, sid: str, params: Mapping[str, str]) -> Message:
        """``POST .../Messages/{Sid}.json``: redact the stored body (``Body=""``), as Twilio allows;
        the phone keeps what it received. ``Status=canceled`` applies to scheduled messages only,
        which this fake does not create, so it is refused like any other invalid update (30400)."""
        message = self.fetch_message(account, sid)
        has_body, has_status = "Body" in params, "Status" in params
        if has_body == has_status:
            raise InvalidUpdateError(
                "Attempted to cancel the message and redact the message body at the same time."
                if has_body
                else "POST body is missing parameters Body or Status."
            )
        if has_status:
            if params["Status"] != "canceled":
                raise InvalidUpdateError(f"Value for Status is invalid: {params['Status']!r}.")
            raise InvalidUpdateError(f"Message {sid} is not scheduled and cannot be canceled.")
        if params["Body"] != "":
            raise InvalidUpdateError("Message body redaction request does not have empty Body parameter.")
        message.body = ""
        message.updated_us = max(message.updated_us, self.clock.now_us())
        self.counters["redacted"] += 1
        return message

    def delete_message(self, account: Account, sid: str) -> None:
        """``DELETE .../Messages/{Sid}.json``: only once the message has reached a final status."""
        message = self.fetch_message(account, sid)
        if message.status not in FINAL_STATUSES:
            raise MessageNotDeletable()
        del self.messages[sid]
        self._unindex(message)

    def _unindex(self, message: Message) -> None:
        """Drop ``message`` from the per-recipient index (a list filtered by To reads only it)."""
        sids = self._by_to.get(message.to, {})
        sids.pop(message.sid, None)
        if not sids:
            self._by_to.pop(message.to, None)
