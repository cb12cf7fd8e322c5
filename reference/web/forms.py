"""Reading and checking the registration form: body parsing, handle and mobile checks.

The page checks only what it must to give a quick, clear message; the core does the real parsing
of Indian mobile numbers and says so in its own words (``invalid_mobile``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from reference.web.errors import BadFormPost

__all__ = [
    "FORM_CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "RegistrationForm",
    "parse_form_body",
    "read_registration_form",
]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 4096
HANDLE_RE = re.compile(r"@?[A-Za-z0-9_]{1,15}")
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-.()]")
_MAX_FIELD_CHARS = 64

HANDLE_MESSAGE = (
    "Enter your Twitter handle: 1 to 15 letters, digits or underscores, with or without the @ "
    "(for example @priya_k)."
)
HANDLE_MISSING_MESSAGE = "Enter your Twitter handle, for example @priya_k."
MOBILE_MISSING_MESSAGE = "Enter your Tata DOCOMO mobile number, for example 98765 43210."
MOBILE_MESSAGE = (
    "Enter your 10-digit mobile number, for example 98765 43210 or +91 98765 43210. "
    "Use only digits, spaces or dashes."
)


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    """What the user typed (for re-rendering) and, when valid, the values for the core."""

    handle_input: str
    mobile_input: str
    token: str
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def handle(self) -> str:
        """The handle without its ``@`` (only meaningful when the handle field is valid)."""
        return self.handle_input.removeprefix("@")


def parse_form_body(body: bytes, content_type: str | None) -> dict[str, str]:
    """Decode a small url-encoded body into single values; raise :class:`BadFormPost` otherwise."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise BadFormPost(415, "The form must be sent as application/x-www-form-urlencoded.")
    if len(body) > MAX_BODY_BYTES:
        raise BadFormPost(413, "The form is too large.")
    try:
        text = body.decode("ascii")
        pairs = parse_qs(text, keep_blank_values=True, max_num_fields=8, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadFormPost(400, "The form could not be read.") from exc
    return {name: values[0] for name, values in pairs.items()}


def _clean(value: str) -> str:
    """Normalise compatibility forms (full-width digits typed on some phones) and trim blanks."""
    return unicodedata.normalize("NFKC", value).strip()


def _check_handle(value: str) -> str | None:
    if not value:
        return HANDLE_MISSING_MESSAGE
    if HANDLE_RE.fullmatch(value) is None:
        return HANDLE_MESSAGE
    return None


def _check_mobile(value: str) -> str | None:
    if not value:
        return MOBILE_MISSING_MESSAGE
    digits = _MOBILE_SEPARATORS_RE.sub("", value).removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or not 10 <= len(digits) <= 13:
        return MOBILE_MESSAGE
    return None


def read_registration_form(fields: dict[str, str]) -> RegistrationForm:
    """Check the two fields; field errors are keyed ``handle`` / ``mobile``."""
    handle = _clean(fields.get("handle", ""))[:_MAX_FIELD_CHARS]
    mobile = _clean(fields.get("mobile", ""))[:_MAX_FIELD_CHARS]
    errors: dict[str, str] = {}
    handle_error = _check_handle(handle)
    if handle_error:
        errors["handle"] = handle_error
    mobile_error = _check_mobile(mobile)
    if mobile_error:
        errors["mobile"] = mobile_error
    return RegistrationForm(handle, mobile, fields.get("csrf_token", ""), errors)
