"""Quarantine of inbound events a store cannot hold (U+0000, lone surrogates).

Such an event is refused alone: it is kept in the service-wide state (``runtime_state``, one key
per event, so a redelivery overwrites rather than piles up) as ASCII JSON, where every character is
escaped and any engine can store it (numbers and codes masked, as everywhere texts are kept), for
the operator to read at ``GET /admin/quarantine``. It never
enters the inbound queue, so it never fails a group commit of other events nor holds back the
poller's cursor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reference.domain.redaction import redact_text
from reference.service.work_queue import NewEvent, WorkQueue

__all__ = ["QUARANTINE_PREFIX", "quarantine_events", "quarantined_events"]

QUARANTINE_PREFIX = "quarantine/"


def _ascii(value: str) -> str:
    """``value`` as an ASCII JSON string body (NUL -> ``\\u0000``, a lone surrogate -> ``\\ud800``)."""
    return json.dumps(value, ensure_ascii=True)[1:-1]


def quarantine_events(
    queue: WorkQueue, refused: Sequence[tuple[NewEvent, str]], source: str, at: datetime
) -> None:
    """Keep ``refused`` (event, reason) pairs aside; one commit per event."""
    for event, reason in refused:
        record = {
            "channel": event.channel,
            "message_id": event.message_id,
            "author_id": event.author_id,
            "handle": event.handle,
            "text": redact_text(event.text),
            "received_at": event.received_at.isoformat(),
            "reason": reason,
            "source": source,
        }
        key = f"{QUARANTINE_PREFIX}{event.channel}/{_ascii(event.message_id)}"
        queue.set_state(key, json.dumps(record, ensure_ascii=True, sort_keys=True), at)


def quarantined_events(queue: WorkQueue) -> list[dict[str, Any]]:
    """What was quarantined, oldest key first (texts as received, numbers and codes masked)."""
    return [json.loads(value) for value in queue.states(QUARANTINE_PREFIX).values()]
