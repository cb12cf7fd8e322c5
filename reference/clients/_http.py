"""Small response helpers shared by the X and Twilio clients: JSON bodies and Retry-After."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = ["json_object", "retry_after_hint"]


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The response body as a JSON object, or None if it is empty, not JSON or not an object."""
    content = response.content
    if not content:
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def retry_after_hint(headers: httpx.Headers) -> tuple[float | None, float | None]:
    """``Retry-After`` as ``(seconds, None)`` or, for an HTTP-date, ``(None, unix_time)``."""
    value = headers.get("retry-after")
    if not value:
        return None, None
    value = value.strip()
    try:
        return max(0.0, float(value)), None
    except ValueError:
        pass
    try:
        return None, parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None, None
