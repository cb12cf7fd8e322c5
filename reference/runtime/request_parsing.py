"""Reading the service's requests: bounded bodies, path parameters, Twilio's forms, status lists,
and the error body every route answers with (``{"error": code, "detail": text}``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from reference.domain.redaction import mask_msisdn, redact_text
from reference.runtime.errors import BadPayload, PayloadTooLarge, ServiceError

__all__ = [
    "LISTED_STATUSES",
    "MAX_BODY",
    "error_response",
    "first_value",
    "form_fields",
    "handle_param",
    "listed_statuses",
    "read_body",
    "redacted_entry",
]

#: the largest body a route reads (1 MiB)
MAX_BODY = 1 << 20


def redacted_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as the admin API shows it: numbers and codes masked (also in texts stored
    before the inbox masked them)."""
    shown = dict(entry)
    if isinstance(shown.get("text"), str):
        shown["text"] = redact_text(shown["text"])
    if isinstance(shown.get("msisdn"), str):
        shown["msisdn"] = mask_msisdn(shown["msisdn"])
    return shown


def error_response(exc: ServiceError) -> JSONResponse:
    """The JSON error body of ``exc`` with its status."""
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)


async def read_body(request: Request) -> bytes:
    """The request body, read chunk by chunk and refused (413) as soon as it passes ``MAX_BODY``:
    a large (chunked) body is never held whole."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(f"the body is over {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadTooLarge(f"the body is over {MAX_BODY} bytes")
    return bytes(body)


def handle_param(request: Request) -> str:
    """The ``{handle}`` path parameter, refused (400) when it cannot be an X handle: control
    characters (U+0000 reaches PostgreSQL as an error), lone surrogates or over 50 characters."""
    handle = str(request.path_params["handle"]).lstrip("@")
    bad = (
        not handle
        or len(handle) > 50
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in handle)
    )
    if bad:
        raise BadPayload(f"{handle!r} is not an X handle")
    return handle


def form_fields(body: bytes) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (what Twilio posts) as name -> values."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload("the form is not UTF-8") from exc
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


def first_value(form: dict[str, list[str]], name: str) -> str:
    """The first value of ``name`` in a parsed form, empty when absent."""
    values = form.get(name)
    return values[0] if values else ""


LISTED_STATUSES = ("pending", "sent", "failed", "skipped_budget", "expired")


def listed_statuses(raw: str) -> list[str]:
    """A comma-separated ``status`` parameter, refused (400) when empty or unknown."""
    statuses = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in LISTED_STATUSES]
    if not statuses or unknown:
        raise BadPayload(f"status must be a comma-separated list of {', '.join(LISTED_STATUSES)}")
    return statuses
