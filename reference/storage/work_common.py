"""What the SQL work queues share: the timeline line of an SMS status, and recording one.

SQLite and PostgreSQL differ only in their SQL (placeholders, ``RETURNING`` support), passed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reference.runtime.workqueue import Delivery
from reference.storage.timeconv import from_micros, to_micros

__all__ = ["delivery_text", "record_delivery"]


def delivery_text(status: str, provider_ref: str, error_code: str | None) -> str:
    """The timeline line of an SMS status change."""
    suffix = f" (error {error_code})" if error_code else ""
    return f"SMS {provider_ref} {status}{suffix}"


def record_delivery(
    conn: Any, sql_delivery: str, sql_event: str, provider_ref: str, status: str, error_code: str | None,
    at: datetime,
) -> Delivery | None:
    """In the open transaction on ``conn``: set the SMS's delivery status (once per change) and add
    its ``sms_status`` timeline entry; ``None`` when the SMS is unknown or the status unchanged."""
    when = to_micros(at)
    row = conn.execute(sql_delivery, (status, when, provider_ref, status)).fetchone()
    if row is None:
        return None
    outbox_id, user_id, handle, msisdn, created_at, is_code = row
    text = delivery_text(status, provider_ref, error_code)
    conn.execute(sql_event, (when, user_id, handle, msisdn, "sms_status", text))
    return Delivery(int(outbox_id), user_id, handle, msisdn, from_micros(created_at), bool(is_code))
