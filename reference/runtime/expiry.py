"""What the customer is told when an SMS of theirs expired unsent: a DM (a notice row, best effort).

An SMS expires when the gateway could not take it while it was still worth sending (a code SMS
within the code's lifetime, a confirmation within the dispatcher's horizon). The customer asked
on X, so X is where they hear of it: a code SMS says to ask for a new code, a confirmation that
the purchase stands. Nothing is sent for the operator's own rows or rows without an X user.
"""

from __future__ import annotations

from datetime import datetime

from reference.service.changes import OutboxRow
from reference.service.work_queue import NOTICE_PRIORITY, OutboxItem

__all__ = ["expiry_notice"]


def expiry_notice(item: OutboxItem, now: datetime, operator_id: str) -> OutboxRow | None:
    """The DM row telling the customer of ``item`` (an expired SMS) about it, or None."""
    if item.kind != "sms" or not item.user_id or item.user_id == operator_id:
        return None
    ending = item.recipient[-4:]
    if item.shown is not None:
        text = (f"Twittcom: we could not get your code to your number ending {ending} in time. "
                "Ask for a new one with #reg and your number.")  # fmt: skip
    else:
        text = (f"Twittcom: an SMS to your number ending {ending} could not be sent in time. "
                "Your purchase stands.")  # fmt: skip
    return OutboxRow(now, "dm", item.user_id, item.handle, item.handle, None, text, priority=NOTICE_PRIORITY)
