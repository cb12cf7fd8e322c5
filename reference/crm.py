"""The customer timeline export (seed 001's CRM view): one JSON document per customer."""

from __future__ import annotations

import json
from typing import Any

from reference.service.ports import Queries

__all__ = ["export_timeline", "timeline_json"]


def export_timeline(queries: Queries, handle: str) -> dict[str, Any]:
    """``{"handle", "user_ids", "entries"}`` for every user who tweeted or DMed as ``handle``.

    Entries are oldest first: inbound tweets/DMs, debits, link events, outbound tweets/DMs/SMS, each
    with an ISO 8601 UTC timestamp; amounts are integer paise (debits negative).
    """
    entries = queries.timeline(handle=handle)
    return {
        "handle": handle.lstrip("@"),
        "user_ids": sorted({str(e["user_id"]) for e in entries}),
        "entries": entries,
    }


def timeline_json(queries: Queries, handle: str) -> str:
    """:func:`export_timeline` as indented JSON text."""
    return json.dumps(export_timeline(queries, handle), indent=2, ensure_ascii=False)
