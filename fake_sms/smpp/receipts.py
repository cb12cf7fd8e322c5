"""Delivery receipts in the customary SMPP 3.4 Appendix B form.

``id:0000000042 sub:001 dlvrd:001 submit date:2601010000 done date:2601010000 stat:DELIVRD
err:000 text:Your Twittcom code i`` (``text`` is the first 20 characters). The carrier model's
final status maps to ``stat`` and ``message_state``: delivered -> DELIVRD (2); undelivered 30003
(held past its validity in an outage) and failed 30036 (expired in the sender's queue) -> EXPIRED
(3); failed 30001 (queue overflow) -> REJECTD (8); any other undelivered or failed -> UNDELIV (5).
``err`` is the last three digits of the carrier's (Twilio) error code, ``000`` when delivered;
the whole code travels in the ``network_error_code`` TLV's last two octets.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import Message
from ..models import SmsBackend

__all__ = ["Receipt", "final_state", "receipt_for"]

_EXPIRED_CODES = frozenset({30003, 30036})
_REJECTED_CODES = frozenset({30001})


@dataclass(frozen=True, slots=True)
class Receipt:
    """One deliver_sm to send: addresses, the receipt text and its TLVs."""

    message_id: str
    source_addr: str  # the handset (the submit's destination), without '+'
    destination_addr: str  # the submit's source
    text: str
    message_state: int
    error_code: int


def final_state(message: Message) -> tuple[int, str, int]:
    """(message_state, stat, error code) of a message in a final status."""
    code = message.error_code or 0
    if message.status == "delivered":
        return 2, "DELIVRD", 0
    if code in _EXPIRED_CODES:
        return 3, "EXPIRED", code
    if code in _REJECTED_CODES:
        return 8, "REJECTD", code
    return 5, "UNDELIV", code


def receipt_for(
    backend: SmsBackend,
    message_id: str,
    source: str,
    destination: str,
    registered: int,
    submit_us: int,
    message: Message,
) -> Receipt | None:
    """The receipt of one submit_sm, or None when its ``registered_delivery`` did not ask for one
    (1: on success or failure; 2: on failure only)."""
    state, stat, code = final_state(message)
    if registered == 0 or (registered == 2 and state == 2):
        return None
    dates = backend.dates
    submitted = dates.datetime(submit_us).strftime("%y%m%d%H%M")
    done = dates.datetime(message.done_us or message.updated_us).strftime("%y%m%d%H%M")
    delivered = "001" if state == 2 else "000"
    text = (
        f"id:{message_id} sub:001 dlvrd:{delivered} submit date:{submitted} done date:{done} "
        f"stat:{stat} err:{code % 1000:03d} text:{message.content[:20]}"
    )
    return Receipt(message_id, destination.lstrip("+"), source, text, state, code)
