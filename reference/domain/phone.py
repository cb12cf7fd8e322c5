"""Indian mobile numbers: parse what people type into E.164 and mask numbers for public replies."""

from __future__ import annotations

import re

from reference.domain.errors import InvalidPhoneNumber

__all__ = ["mask", "normalise_mobile"]

_SEPARATORS = re.compile(r"[\s\-().]")
_NATIONAL = re.compile(r"[6-9][0-9]{9}")


def normalise_mobile(text: str) -> str:
    """Return ``+91XXXXXXXXXX`` for an Indian mobile number as people write it.

    Accepts an optional ``+91``, ``91`` or ``0`` prefix, and spaces, dashes, dots or brackets
    between digits. The national part must be 10 ASCII digits starting 6-9.

    >>> normalise_mobile("+91 98765-43210")
    '+919876543210'
    """
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("+91"):
        national = compact[3:]
    elif compact.startswith("+"):
        raise InvalidPhoneNumber(f"not an Indian number (country code must be +91): {text!r}")
    elif len(compact) == 12 and compact.startswith("91"):
        national = compact[2:]
    elif len(compact) == 11 and compact.startswith("0"):
        national = compact[1:]
    else:
        national = compact
    if not (national.isascii() and _NATIONAL.fullmatch(national)):
        raise InvalidPhoneNumber(
            f"not an Indian mobile number (10 digits starting 6-9, optional +91/91/0): {text!r}"
        )
    return "+91" + national


def mask(e164: str) -> str:
    """Mask a number for public text: first two and last two national digits, ``98XXXXXX10``."""
    national = e164[3:] if e164.startswith("+91") else e164
    if len(national) < 5:
        return "X" * len(national)
    return national[:2] + "X" * (len(national) - 4) + national[-2:]
