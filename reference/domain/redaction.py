"""Redaction of stored and displayed message texts: mobile numbers and one-time codes.

What customers send (``#reg 98123 45678``, ``#code 482913``) is needed in clear only while the
message is processed. :func:`redact_text` is what the inbox, the inbound queue (once a message is
done) and the admin timeline keep instead: every Indian mobile number masked the way replies show
it (``98XXXXXX78``), the digits after ``#code`` and any other standalone 6-digit run (a bare code
in a DM) as ``XXXXXX``. Pure and idempotent: ``redact_text(redact_text(t)) == redact_text(t)``.
"""

from __future__ import annotations

import re

__all__ = ["mask_msisdn", "redact_text"]

# An optional +91 / 91 / 0 prefix, then 10 digits starting 6-9 with single separators between.
_PHONE = re.compile(r"(?<![\d+])(?:\+\s*91|91|0)?[\s.\-]?([6-9](?:[\s.\-]?\d){9})(?![\d])")
_CODE = re.compile(r"([#\uff03]code(?![A-Za-z0-9_])[\s:=#]*)([0-9]+)", re.IGNORECASE)
_SIX = re.compile(r"(?<![\d])\d{6}(?![\d])")
_DIGITS = re.compile(r"\d")


def mask_msisdn(number: str) -> str:
    """``+919812345678`` -> ``98XXXXXX78`` (any text without 10 national digits: all ``X``)."""
    digits = "".join(_DIGITS.findall(number))
    national = digits[-10:]
    if len(national) < 10:
        return "X" * len(number)
    return national[:2] + "XXXXXX" + national[-2:]


def _phone(match: re.Match[str]) -> str:
    lead = match.group(0)[: match.start(1) - match.start(0)]
    keep = lead if lead[:1].isspace() or lead[:1] in ".-" else ""  # a separator before the number
    return keep + mask_msisdn(match.group(1))


def redact_text(text: str) -> str:
    """``text`` with mobile numbers and codes masked (see the module docstring)."""
    if not any(ch.isdigit() for ch in text):
        return text
    text = _PHONE.sub(_phone, text)
    text = _CODE.sub(lambda m: m.group(1) + "X" * len(m.group(2)), text)
    return _SIX.sub("XXXXXX", text)
