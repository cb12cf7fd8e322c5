"""One handler per command. Each validates first, then stages its changes, then answers.

Handlers are synchronous and do no I/O: they read and write the batch's :class:`Staging` and return
the :class:`~reference.domain.outcomes.Outcome`.

The code itself is never stored: the code table holds its keyed hash and the customer timeline a
redacted line. The one copy is the body of the outbox SMS that must carry it; the dispatcher should
overwrite ``outbox.text`` with ``outbox.shown`` once the SMS is delivered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from reference.domain.catalog import Catalog, Pack
from reference.domain.commands import Buy, Inbound, Noise, Register, Verify
from reference.domain.errors import InvalidPhoneNumber
from reference.domain.otp import (
    CheckResult,
    CodeHasher,
    OtpPolicy,
    OtpSource,
    check_code,
    issue_code,
    send_allowed,
)
from reference.domain.outcomes import Outcome
from reference.domain.phone import normalise_mobile
from reference.domain.replies import ReplyFacts, render_reply, render_sms
from reference.domain.subscribers import Binding
from reference.service.changes import ActivationRow
from reference.service.staging import Staging

__all__ = ["HandlerDeps", "buy_pack", "record_noise", "register", "respond", "verify_code"]

_REDACTED_CODE = "Your Twittcom code (not stored) was sent."


@dataclass(frozen=True, slots=True)
class HandlerDeps:
    """What handlers need besides the state: catalog, OTP rules and sources."""

    catalog: Catalog
    hasher: CodeHasher
    policy: OtpPolicy
    otp_source: OtpSource

    @property
    def ttl_minutes(self) -> int:
        return int(self.policy.ttl / timedelta(minutes=1))


def respond(
    outcome: Outcome, message: Inbound, staging: Staging, now: datetime, facts: ReplyFacts, sms_to: str | None
) -> Outcome:
    """Stage the reply (tweet or DM) and, when the outcome has one and a number is given, the SMS."""
    # A web request is answered by the page itself: no reply tweet or DM, only the SMS.
    web = message.channel == "web"
    text = None if web else render_reply(outcome, facts, public=message.channel == "tweet")
    if text is not None:
        staging.reply(message, text, now)
    if sms_to is not None:
        sms = render_sms(outcome, facts)
        if sms is not None:
            shown = _REDACTED_CODE if outcome is Outcome.CODE_SENT else None
            staging.sms(message, sms_to, sms, now, shown)
    return outcome


def record_noise(cmd: Noise, message: Inbound, staging: Staging, now: datetime, deps: HandlerDeps) -> Outcome:
    """Chatter and complaints: on the timeline (the inbox keeps every message), no action, no reply."""
    return Outcome.NOISE


def register(cmd: Register, message: Inbound, staging: Staging, now: datetime, deps: HandlerDeps) -> Outcome:
    """``#reg <mobile>``: send a code to an active prepaid number (rate limited)."""
    facts = ReplyFacts(message.handle, message.message_id, ttl_minutes=deps.ttl_minutes)
    try:
        msisdn = normalise_mobile(cmd.mobile)
    except InvalidPhoneNumber:
        return respond(Outcome.INVALID_NUMBER, message, staging, now, facts, None)
    facts = ReplyFacts(message.handle, message.message_id, msisdn=msisdn, ttl_minutes=deps.ttl_minutes)
    subscriber = staging.subscriber(msisdn)
    if subscriber is None or not subscriber.active:
        return respond(Outcome.NOT_ON_NETWORK, message, staging, now, facts, None)
    if not subscriber.prepaid:
        return respond(Outcome.NOT_PREPAID, message, staging, now, facts, None)
    current = staging.binding_of(message.author_id)
    if current is not None and current.msisdn == msisdn:
        return respond(Outcome.ALREADY_BOUND, message, staging, now, facts, None)
    if not send_allowed(staging.sends_to(msisdn), now, deps.policy):
        return respond(Outcome.TOO_MANY_CODES, message, staging, now, facts, None)
    code, record = issue_code(
        user_id=message.author_id,
        handle=message.handle,
        msisdn=msisdn,
        now=now,
        source=deps.otp_source,
        hasher=deps.hasher,
        policy=deps.policy,
    )
    staging.put_code(record)
    staging.record_send(msisdn, now)
    sms_facts = ReplyFacts(
        message.handle, message.message_id, msisdn=msisdn, code=code, ttl_minutes=deps.ttl_minutes
    )
    return respond(Outcome.CODE_SENT, message, staging, now, sms_facts, msisdn)


def verify_code(cmd: Verify, message: Inbound, staging: Staging, now: datetime, deps: HandlerDeps) -> Outcome:
    """The code tweeted back: bind handle and number when it matches the pair's pending code."""
    pending = staging.code_of(message.author_id)
    msisdn = pending.msisdn if pending is not None else None
    checked = check_code(pending, cmd.code, now=now, hasher=deps.hasher, policy=deps.policy)
    facts = ReplyFacts(message.handle, message.message_id, msisdn=msisdn, tries_left=checked.tries_left)
    if checked.result is CheckResult.NONE_PENDING or checked.code is None or msisdn is None:
        return respond(Outcome.NO_PENDING_CODE, message, staging, now, facts, None)
    staging.put_code(checked.code)
    if checked.result is CheckResult.EXPIRED:
        return respond(Outcome.CODE_EXPIRED, message, staging, now, facts, None)
    if checked.result is CheckResult.VOIDED:
        return respond(Outcome.CODE_VOIDED, message, staging, now, facts, msisdn)
    if checked.result is CheckResult.WRONG:
        return respond(Outcome.WRONG_CODE, message, staging, now, facts, None)
    subscriber = staging.subscriber(msisdn)
    if subscriber is None or not subscriber.active or not subscriber.prepaid:
        return respond(Outcome.NOT_ON_NETWORK, message, staging, now, facts, None)  # left since #reg
    staging.bind(Binding(message.author_id, message.handle, msisdn, now), now)
    staging.note(now, message.author_id, message.handle, msisdn, "bound", f"@{message.handle} linked")
    return respond(Outcome.REGISTERED, message, staging, now, facts, msisdn)


@functools.lru_cache(maxsize=256)
def _days(count: int) -> timedelta:
    """``timedelta(days=count)``, memoised: building one from keywords costs ~10x a lookup."""
    return timedelta(days=count)


def _suggestions(deps: HandlerDeps, circle: str) -> list[Pack]:
    return deps.catalog.packs_in(circle)


def buy_pack(cmd: Buy, message: Inbound, staging: Staging, now: datetime, deps: HandlerDeps) -> Outcome:
    """``#act #PACK``: debit the prepaid balance and activate the pack, or say why not."""
    binding = staging.binding_of(message.author_id)
    msisdn = binding.msisdn if binding is not None else None
    handle, message_id = message.handle, message.message_id
    subscriber = staging.subscriber(msisdn) if msisdn is not None else None
    if msisdn is None or subscriber is None:
        return respond(Outcome.NOT_REGISTERED, message, staging, now, ReplyFacts(handle, message_id), None)
    if not subscriber.active or not subscriber.prepaid:
        return respond(
            Outcome.NOT_ON_NETWORK, message, staging, now, ReplyFacts(handle, message_id, msisdn), None
        )
    circle = subscriber.circle
    pack = deps.catalog.find(circle, cmd.hashtag) if cmd.hashtag else None
    if pack is None:
        elsewhere = bool(cmd.hashtag) and bool(deps.catalog.circles_selling(cmd.hashtag or ""))
        outcome = Outcome.PACK_NOT_IN_CIRCLE if elsewhere else Outcome.UNKNOWN_PACK
        facts = ReplyFacts(
            handle,
            message_id,
            msisdn,
            hashtag=cmd.hashtag,
            circle=circle,
            suggestions=_suggestions(deps, circle),
            balance_paise=subscriber.balance_paise,
        )
        return respond(outcome, message, staging, now, facts, msisdn)
    price = pack.price_paise
    if subscriber.balance_paise < price:
        facts = ReplyFacts(handle, message_id, msisdn, pack=pack, balance_paise=subscriber.balance_paise)
        return respond(Outcome.INSUFFICIENT_BALANCE, message, staging, now, facts, msisdn)
    balance = staging.debit(subscriber, price)
    valid_until = (now + _days(pack.validity_days)).date()
    staging.activate(
        ActivationRow(
            msisdn,
            message.author_id,
            pack.pack_id,
            pack.name,
            pack.hashtag,
            circle,
            price,
            balance,
            message.channel,
            message_id,
            now,
            valid_until,
        )
    )
    facts = ReplyFacts(handle, message_id, msisdn, pack=pack, balance_paise=balance, valid_until=valid_until)
    return respond(Outcome.ACTIVATED, message, staging, now, facts, msisdn)
