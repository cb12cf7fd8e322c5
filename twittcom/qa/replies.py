"""What each outcome looks like to the user: patterns over the operator's reply texts and SMS.

QA reads outcomes the way a subscriber does, from the public reply (or the DM answer) and the
SMS; every phrasing the processor rotates through must match its outcome's pattern and no other.
"""

from __future__ import annotations

import re

__all__ = ["REPLY_PATTERNS", "SMS_PATTERNS", "outcome_of_reply"]

REPLY_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "code_sent": r"6-digit code",
        "registered": r"is now linked|is linked\.",
        "wrong_code": r"code does not match|wrong code\. You have",
        "code_expired": r"code has expired|code timed out",
        "code_voided": r"too many wrong codes|now void",
        "no_pending_code": r"no code waiting|no code is pending",
        "too_many_codes": r"too many codes|maximum number of codes",
        "invalid_number": r"does not look like an indian mobile|could not read a mobile number",
        "not_on_network": r"not an active TATA DOCOMO number|not active on our network",
        "not_prepaid": r"not a prepaid number|is not one\.",
        "already_bound": r"already linked to your handle|already registered with",
        "not_registered": r"link your number first|register first",
        "unknown_pack": r"do not know that pack|no pack goes by that hashtag",
        "pack_not_in_circle": r"not sold in your circle|is for another circle",
        "insufficient_balance": r"balance is too low|not enough balance",
        "activated": r"is active on|activated on|now runs on",
    }.items()
}

SMS_PATTERNS: dict[str, re.Pattern[str]] = {
    "code_sent": re.compile(r"Your Twittcom code is \d{6}"),
    "registered": re.compile(r"now linked to Twitter handle"),
    "code_voided": re.compile(r"code is void"),
    "insufficient_balance": re.compile(r"Please recharge"),
    "activated": re.compile(r"activated, valid till .* debited, new balance"),
}


def outcome_of_reply(text: str) -> str | None:
    """The outcome a reply text announces (``None`` when it matches none)."""
    found = [name for name, pattern in REPLY_PATTERNS.items() if pattern.search(text)]
    return found[0] if len(found) == 1 else None
