"""What the SQL work queues share: the timeline line of an SMS status, and recording one.

SQLite and PostgreSQL differ only in their SQL (placeholders, ``RETURNING`` support), passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reference.service.work_queue import DELIVERY_RANKS, FINAL_DELIVERY, Delivery, delivery_rank
from reference.storage.timeconv import from_micros, to_micros

__all__ = ["RANK_SQL", "delivery_text", "outbox_row_dict", "record_delivery"]

#: SQL for the progress rank of the stored ``delivery_status`` (see :func:`delivery_rank`)
RANK_SQL = (
    "(CASE delivery_status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in DELIVERY_RANKS.items())
    + " ELSE 0 END)"
)
#: SQL list of the final delivery statuses
FINAL_SQL = "(" + ", ".join(f"'{status}'" for status in FINAL_DELIVERY) + ")"
OUTBOX_ROW_COLUMNS = (
    "id, kind, handle, status, attempts, last_error, created_at, provider_ref, delivery_status"
)


def outbox_row_dict(row: Sequence[Any]) -> dict[str, object]:
    """An admin listing entry from a row of :data:`OUTBOX_ROW_COLUMNS` (no message text)."""
    return {
        "id": int(row[0]), "kind": row[1], "handle": row[2], "status": row[3], "attempts": int(row[4]),
        "last_error": row[5], "created_at": from_micros(row[6]).isoformat(), "provider_ref": row[7],
        "delivery_status": row[8],
    }  # fmt: skip


def delivery_text(status: str, provider_ref: str, error_code: str | None) -> str:
    """The timeline line of an SMS status change."""
    suffix = f" (error {error_code})" if error_code else ""
    return f"SMS {provider_ref} {status}{suffix}"


def record_delivery(
    conn: Any,
    sql_delivery: str,
    sql_event: str,
    provider_ref: str,
    status: str,
    error_code: str | None,
    at: datetime,
) -> Delivery | None:
    """In the open transaction on ``conn``: set the SMS's delivery status (once per change) and add
    its ``sms_status`` timeline entry; ``None`` when the SMS is unknown or the status does not move
    it forward (``sql_delivery`` compares ranks: its last parameter is the new status's rank)."""
    when = to_micros(at)
    row = conn.execute(sql_delivery, (status, when, provider_ref, delivery_rank(status))).fetchone()
    if row is None:
        return None
    outbox_id, user_id, handle, msisdn, created_at, is_code = row
    text = delivery_text(status, provider_ref, error_code)
    conn.execute(sql_event, (when, user_id, handle, msisdn, "sms_status", text))
    return Delivery(int(outbox_id), user_id, handle, msisdn, from_micros(created_at), bool(is_code))
