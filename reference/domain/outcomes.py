"""Every outcome of processing one inbound message, and the outbound effects it produces."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["Effect", "Outcome", "ReplyTweet", "SendDm", "SendSms"]


class Outcome(enum.Enum):
    """What happened to one inbound message (value = stable name used in storage and reports)."""

    CODE_SENT = "code_sent"
    REGISTERED = "registered"
    WRONG_CODE = "wrong_code"
    CODE_EXPIRED = "code_expired"
    CODE_VOIDED = "code_voided"
    NO_PENDING_CODE = "no_pending_code"
    TOO_MANY_CODES = "too_many_codes"
    INVALID_NUMBER = "invalid_number"
    NOT_ON_NETWORK = "not_on_network"
    NOT_PREPAID = "not_prepaid"
    ALREADY_BOUND = "already_bound"
    NOT_REGISTERED = "not_registered"
    UNKNOWN_PACK = "unknown_pack"
    PACK_NOT_IN_CIRCLE = "pack_not_in_circle"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    ACTIVATED = "activated"
    NOISE = "noise"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReplyTweet:
    """A public tweet in reply to ``in_reply_to`` (the user's tweet id)."""

    in_reply_to: str
    user_id: str
    handle: str
    text: str


@dataclass(frozen=True, slots=True)
class SendDm:
    """A direct message to the user (the answer to a command received by DM)."""

    in_reply_to: str
    user_id: str
    handle: str
    text: str


@dataclass(frozen=True, slots=True)
class SendSms:
    """An SMS to an E.164 number."""

    msisdn: str
    user_id: str
    text: str


Effect: TypeAlias = ReplyTweet | SendDm | SendSms
